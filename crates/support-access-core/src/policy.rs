//! The policy: one organization's projects, clusters and grants, and the record of every change.
//! Every mutation checks everything first (SPEC §3 order of checks) and only then sweeps due
//! expiries and changes state, so a failed call leaves the policy and its record untouched.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use hashbrown::HashMap;

/// The cluster index's hasher: foldhash with a fixed seed. The core makes no randomness (the
/// default hasher seeds itself from the process), so the same operations give the same state in
/// every run; cluster names come from the organization's own admins, not from strangers.
type ByName = HashMap<String, ClusterId, foldhash::fast::FixedState>;

use crate::atlas::{AtlasClusters, AtlasGrant, LoadedCluster};
use crate::decision::{decide, ClusterView, Decision};
use crate::error::Error;
use crate::grant::{expiration_for, Ending, GrantState, DEFAULT_GRANT_MS};
use crate::model::check_id;
use crate::model::{check_cluster_name, Actor, ClusterKind, GrantType, Resource, Timestamp};
use crate::record::{Event, EventKind, Record, ReplacedGrant};
use crate::sorted::{SortedMap, SortedSet};
use crate::wire::Fields;

/// How a policy is created: the SPEC §7 options
/// `{orgId, restrictEmployeeAccess?, maxGrantDurationMs?, now?}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyOptions {
    /// The organization.
    pub org_id: String,
    /// Start with support access blocked (default false).
    pub restrict_employee_access: bool,
    /// Longest grant allowed, in ms; `None` lifts the bound. Default 24 h.
    pub max_grant_duration_ms: Option<i64>,
    /// When the policy is created (the options' `now`): the time of its `POLICY_CREATED` event,
    /// and so the earliest time a mutation may have. `None` stamps the event
    /// 1970-01-01T00:00:00.000Z, as in every record written before creation took a time: an
    /// event's time is part of its hash, so that default can never change.
    pub created_at: Option<Timestamp>,
}

impl PolicyOptions {
    /// Options with the defaults: unrestricted, 24 h maximum grant, created at the epoch.
    pub fn new(org_id: impl Into<String>) -> PolicyOptions {
        PolicyOptions {
            org_id: org_id.into(),
            restrict_employee_access: false,
            max_grant_duration_ms: Some(DEFAULT_GRANT_MS),
            created_at: None,
        }
    }
}

/// A small, stable handle for a cluster, resolved once by name ([`Policy::cluster_id`]) for the
/// hot path. A removed cluster's id never comes back, even if a cluster of the same name is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId(pub u32);

/// A cluster and its last grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Name (unique in the organization).
    pub name: String,
    /// Project.
    pub project_id: String,
    /// Kind.
    pub kind: ClusterKind,
    /// App Services sync.
    pub app_services_sync_enabled: bool,
    /// The last grant, active or not.
    pub grant: Option<GrantState>,
}

impl Cluster {
    fn view(&self) -> ClusterView<'_> {
        ClusterView {
            sync_enabled: self.app_services_sync_enabled,
            grant: self.grant.as_ref(),
        }
    }

    /// The active grant at `now`, in Admin API form.
    pub fn active_grant(&self, now: Timestamp) -> Option<AtlasGrant> {
        self.grant
            .as_ref()
            .filter(|g| g.is_active(now))
            .map(|g| AtlasGrant {
                grant_type: g.grant_type,
                expiration_time: g.expiration,
            })
    }
}

/// A log download in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Download {
    cluster: String,
    resource: Resource,
    decision: Decision,
}

/// One change a mutation made while a journaled savepoint was open: what
/// [`Policy::rollback`] undoes, newest first ([`Policy::journaled_savepoint`]).
#[derive(Debug, Clone)]
enum Undo {
    /// Cluster slot `.0` held `.1` (a grant changed or ended, or the cluster was removed).
    Slot(usize, Option<Cluster>),
    /// A cluster was added as the last slot.
    Pushed,
    /// `restrictEmployeeAccess` was this.
    Restrict(bool),
    /// This project was added.
    ProjectAdded(String),
    /// This project was removed.
    ProjectRemoved(String),
    /// Download `.0` was this (`None`: it did not exist).
    Download(String, Option<Download>),
    /// The whole policy was this, before a replay replaced it ([`Policy::replace_with`]).
    Replaced(Box<Policy>),
}

/// Journals slot `i` as it is now, if a journal is open (a free function: the caller holds
/// other fields of the policy borrowed).
fn journal_slot(journal: &mut Option<Vec<Undo>>, clusters: &[Option<Cluster>], i: usize) {
    if let Some(j) = journal {
        j.push(Undo::Slot(i, clusters[i].clone()));
    }
}

/// What [`Policy::load_atlas`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadSummary {
    /// Projects created for `groupId`s not seen before.
    pub projects: usize,
    /// Clusters loaded.
    pub clusters: usize,
    /// Grants loaded (still in force).
    pub grants: usize,
    /// Grants skipped because they had already expired by the record's time.
    pub expired_grants_skipped: usize,
}

/// One question for [`Policy::evaluate_many`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// What support wants to reach.
    pub resource: Resource,
    /// When.
    pub now: Timestamp,
}

/// One organization's support-access policy and its record.
#[derive(Debug, Clone)]
pub struct Policy {
    org_id: String,
    restrict: bool,
    max_grant_ms: Option<i64>,
    projects: SortedSet<String>,
    clusters: Vec<Option<Cluster>>,
    by_name: ByName,
    downloads: SortedMap<String, Download>,
    pub(crate) record: Record,
    /// Bumped whenever a cluster id could change meaning (a cluster or project added or removed,
    /// an Atlas load, a rollback): what caches of ids by name compare to ([`Policy::generation`]).
    /// Not part of the state: equality ignores it.
    generation: u64,
    /// No grant that has not ended expires before this time, so a sweep at an earlier `now`
    /// has nothing to record and returns without looking at a cluster. Without it every
    /// mutation (and so every replayed one) read every cluster: replaying a record of many
    /// clusters took time quadratic in their number. A grant lowers it to its expiration; only
    /// a sweep that read every cluster raises it; revokes and removals leave it (a lower bound,
    /// not the minimum). Not part of the state: equality ignores it.
    sweep_floor: Timestamp,
    /// While a journaled savepoint is open, every change, so that a rollback costs what changed
    /// rather than a copy of the whole state ([`Policy::journaled_savepoint`]). Not part of the
    /// state: equality ignores it.
    journal: Option<Vec<Undo>>,
}

impl PartialEq for Policy {
    /// Two policies are equal when their state and record are: what replay must reproduce.
    fn eq(&self, other: &Policy) -> bool {
        self.org_id == other.org_id
            && self.restrict == other.restrict
            && self.max_grant_ms == other.max_grant_ms
            && self.projects == other.projects
            && self.clusters == other.clusters
            && self.by_name == other.by_name
            && self.downloads == other.downloads
            && self.record == other.record
    }
}

impl Policy {
    /// Creates a policy; its record starts with `POLICY_CREATED` at `options.created_at`, or at
    /// 1970-01-01T00:00:00.000Z without one (the core knows no clock: the caller says when
    /// creation happened, or the record says nothing about it). Being the first recorded event,
    /// the creation time is also the clock's floor: a mutation dated before it is
    /// `CLOCK_WENT_BACKWARDS`.
    pub fn new(options: PolicyOptions) -> Result<Policy, Error> {
        check_id("orgId", &options.org_id)?;
        if let Some(ms) = options.max_grant_duration_ms {
            if ms <= 0 {
                return Err(Error::malformed(
                    "`maxGrantDurationMs` must be a positive integer or null",
                ));
            }
        }
        let mut p = Policy {
            org_id: options.org_id.clone(),
            restrict: options.restrict_employee_access,
            max_grant_ms: options.max_grant_duration_ms,
            projects: SortedSet::default(),
            clusters: Vec::new(),
            by_name: ByName::default(),
            downloads: SortedMap::default(),
            record: Record::default(),
            generation: 0,
            sweep_floor: Timestamp::EPOCH,
            journal: None,
        };
        p.record.append(
            options.created_at.unwrap_or(Timestamp::EPOCH),
            None,
            EventKind::PolicyCreated {
                org_id: options.org_id,
                restrict_employee_access: options.restrict_employee_access,
                max_grant_duration_ms: options.max_grant_duration_ms,
            },
        );
        Ok(p)
    }

    /// Creates a policy from its SPEC §7 options JSON.
    pub fn from_options_json(json: &str) -> Result<Policy, Error> {
        Policy::new(parse_options(json)?)
    }

    /// The organization.
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// Whether support access is restricted (Atlas `restrictEmployeeAccess`).
    pub fn restrict_employee_access(&self) -> bool {
        self.restrict
    }

    /// The longest grant allowed, in ms (`None`: no bound).
    pub fn max_grant_duration_ms(&self) -> Option<i64> {
        self.max_grant_ms
    }

    /// The projects, in id order.
    pub fn projects(&self) -> impl Iterator<Item = &str> + '_ {
        self.projects.iter().map(String::as_str)
    }

    /// The clusters, in the order they were added.
    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> + '_ {
        self.clusters.iter().flatten()
    }

    /// A cluster by name.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.cluster_id(name).and_then(|id| self.cluster_by_id(id))
    }

    /// Resolves a name to the id the fast paths take.
    #[inline]
    pub fn cluster_id(&self, name: &str) -> Option<ClusterId> {
        self.by_name.get(name).copied()
    }

    /// A number that changes whenever a cluster id may change meaning: a cluster added or
    /// removed (directly, with its project, by an Atlas load) or a rollback. A front end that
    /// caches ids by name keeps the generation it resolved them at and drops them when this
    /// differs ([`crate::ffi::ClusterIds`] does exactly that), so no front end decides by hand
    /// which calls invalidate. Never decreases for one policy; not part of its state.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A cluster by id (`None` once removed).
    #[inline]
    pub fn cluster_by_id(&self, id: ClusterId) -> Option<&Cluster> {
        self.clusters.get(id.0 as usize).and_then(Option::as_ref)
    }

    /// The record.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The record as JSON Lines.
    pub fn export_record(&self) -> String {
        self.record.export()
    }

    // ----- evaluation: never mutates, never allocates -----

    /// SPEC §4 for a cluster by name. An unknown cluster is `CLUSTER_NOT_FOUND`
    /// (or `INVALID_CLUSTER_NAME` when the name could never exist).
    #[inline]
    pub fn evaluate(
        &self,
        cluster: &str,
        resource: Resource,
        now: Timestamp,
    ) -> Result<Decision, Error> {
        match self.cluster_id(cluster) {
            Some(id) => self.evaluate_id(id, resource, now),
            None => Err(not_found(cluster)),
        }
    }

    /// SPEC §4 for a cluster by id: the hot path.
    #[inline]
    pub fn evaluate_id(
        &self,
        id: ClusterId,
        resource: Resource,
        now: Timestamp,
    ) -> Result<Decision, Error> {
        match self.cluster_by_id(id) {
            Some(c) => Ok(decide(self.restrict, c.view(), resource, now)),
            None => Err(id_not_found(id)),
        }
    }

    /// SPEC §4 in batch mode: unknown clusters are denied `CLUSTER_NOT_FOUND`, not errors.
    /// `out` is cleared and filled in request order; reuse it to evaluate without allocating.
    pub fn evaluate_many(&self, requests: &[Request<'_>], out: &mut Vec<Decision>) {
        out.clear();
        out.extend(requests.iter().map(|r| match self.cluster(r.cluster) {
            Some(c) => decide(self.restrict, c.view(), r.resource, r.now),
            None => Decision::CLUSTER_NOT_FOUND,
        }));
    }

    /// Time left on the active grant at `now`, in ms (`None` without one).
    pub fn remaining(&self, cluster: &str, now: Timestamp) -> Result<Option<i64>, Error> {
        let c = self.cluster(cluster).ok_or_else(|| not_found(cluster))?;
        Ok(c.active_grant(now)
            .map(|g| g.expiration_time.millis() - now.millis()))
    }

    // ----- mutations -----

    fn check_clock(&self, now: Timestamp) -> Result<(), Error> {
        let last = self.record.last_at();
        if now < last {
            Err(Error::ClockWentBackwards { now, last })
        } else {
            Ok(())
        }
    }

    fn lookup(&self, name: &str) -> Result<(ClusterId, &Cluster), Error> {
        let id = self
            .cluster_id(name)
            .ok_or_else(|| Error::cluster_not_found(name))?;
        Ok((
            id,
            self.cluster_by_id(id)
                .expect("by_name only holds live clusters"),
        ))
    }

    /// The checks of a change inside a project that must exist (`removeProject`,
    /// `addCluster`): `PROJECT_NOT_FOUND`, then the actor's role (spec §3, "Order of checks").
    fn check_project(
        &self,
        actor: &Actor,
        project_id: &str,
        action: impl FnOnce() -> String,
    ) -> Result<(), Error> {
        if !self.projects.contains(project_id) {
            return Err(Error::ProjectNotFound {
                project_id: String::from(project_id),
            });
        }
        if !actor.may_manage_inventory(project_id) {
            return Err(Self::forbidden(actor, action()));
        }
        Ok(())
    }

    fn forbidden(actor: &Actor, action: String) -> Error {
        Error::Forbidden {
            actor: crate::error::clip(&actor.id),
            action,
        }
    }

    /// Records `EMPLOYEE_ACCESS_EXPIRED` for every grant due at `now`, stamped with its
    /// expiration, in (expiration, cluster name) order.
    fn sweep(&mut self, now: Timestamp) -> Vec<Event> {
        if now < self.sweep_floor {
            return Vec::new();
        }
        // Ordered by insertion (binary search, then insert): few grants fall due at once, and
        // the standard library's sorts cost the browser's .wasm ~3.5 KB each (docs/benchmarks.md).
        let mut due: Vec<(Timestamp, &str, usize)> = Vec::new();
        // The earliest expiration of the grants that stay active: the next sweep's floor.
        let mut floor = Timestamp::LATEST;
        for (i, c) in self.clusters.iter().enumerate() {
            let Some(c) = c else { continue };
            let Some(g) = c.grant.as_ref().filter(|g| g.ended.is_none()) else {
                continue;
            };
            if !g.is_due(now) {
                floor = floor.min(g.expiration);
                continue;
            }
            let key = (g.expiration, c.name.as_str());
            let at = due.partition_point(|d| (d.0, d.1) <= key);
            due.insert(at, (key.0, key.1, i));
        }
        let due: Vec<(Timestamp, usize)> = due.into_iter().map(|(t, _, i)| (t, i)).collect();
        self.sweep_floor = floor;
        let mut events = Vec::with_capacity(due.len());
        for (at, i) in due {
            journal_slot(&mut self.journal, &self.clusters, i);
            let c = self.clusters[i].as_mut().expect("due clusters exist");
            let g = c.grant.as_mut().expect("due clusters hold a grant");
            g.ended = Some(Ending::Expired);
            let kind = EventKind::EmployeeAccessExpired {
                cluster: c.name.clone(),
                grant_type: g.grant_type,
                expiration_time: g.expiration,
            };
            events.push(self.record.append(at, None, kind));
        }
        events
    }

    /// Sets the org's `restrictEmployeeAccess` (`ORG_OWNER` only). Recorded even when unchanged.
    pub fn set_restriction(
        &mut self,
        actor: &Actor,
        restrict: bool,
        now: Timestamp,
    ) -> Result<Event, Error> {
        self.check_clock(now)?;
        if !actor.is_org_owner() {
            return Err(Self::forbidden(
                actor,
                String::from("change the organization's support access setting"),
            ));
        }
        self.sweep(now);
        let was = self.restrict;
        self.note(|| Undo::Restrict(was));
        self.restrict = restrict;
        let kind = if restrict {
            EventKind::OrgEmployeeAccessRestricted
        } else {
            EventKind::OrgEmployeeAccessUnrestricted
        };
        Ok(self.record.append(now, Some(actor), kind))
    }

    /// Adds a project.
    pub fn add_project(
        &mut self,
        actor: &Actor,
        project_id: &str,
        now: Timestamp,
    ) -> Result<Event, Error> {
        check_id("projectId", project_id)?;
        self.check_clock(now)?;
        if !actor.may_manage_inventory(project_id) {
            return Err(Self::forbidden(actor, format!("add project {project_id}")));
        }
        if self.projects.contains(project_id) {
            return Err(Error::DuplicateProject {
                project_id: String::from(project_id),
            });
        }
        self.sweep(now);
        self.note(|| Undo::ProjectAdded(String::from(project_id)));
        self.projects.insert(String::from(project_id));
        Ok(self.record.append(
            now,
            Some(actor),
            EventKind::ProjectAdded {
                project_id: String::from(project_id),
            },
        ))
    }

    /// Removes a project and its clusters (and their grants).
    pub fn remove_project(
        &mut self,
        actor: &Actor,
        project_id: &str,
        now: Timestamp,
    ) -> Result<Event, Error> {
        check_id("projectId", project_id)?;
        self.check_clock(now)?;
        self.check_project(actor, project_id, || format!("remove project {project_id}"))?;
        self.sweep(now);
        let mut removed = Vec::new();
        for (i, slot) in self.clusters.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|c| c.project_id == project_id) {
                let c = slot.take().expect("checked above");
                if let Some(j) = &mut self.journal {
                    j.push(Undo::Slot(i, Some(c.clone())));
                }
                self.by_name.remove(&c.name);
                self.generation += 1;
                // Sorted by insertion, as in `sweep`.
                let at = removed.partition_point(|n: &String| *n <= c.name);
                removed.insert(at, c.name);
            }
        }
        self.projects.remove(project_id);
        self.note(|| Undo::ProjectRemoved(String::from(project_id)));
        let kind = EventKind::ProjectRemoved {
            project_id: String::from(project_id),
            clusters_removed: removed,
        };
        Ok(self.record.append(now, Some(actor), kind))
    }

    /// Adds a cluster to a project.
    pub fn add_cluster(
        &mut self,
        actor: &Actor,
        project_id: &str,
        name: &str,
        kind: ClusterKind,
        app_services_sync_enabled: bool,
        now: Timestamp,
    ) -> Result<Event, Error> {
        check_id("projectId", project_id)?;
        check_cluster_name(name)?;
        self.check_clock(now)?;
        self.check_project(actor, project_id, || {
            format!("add a cluster to project {project_id}")
        })?;
        if self.by_name.contains_key(name) {
            return Err(Error::DuplicateCluster {
                name: String::from(name),
            });
        }
        self.sweep(now);
        self.insert_cluster(Cluster {
            name: String::from(name),
            project_id: String::from(project_id),
            kind,
            app_services_sync_enabled,
            grant: None,
        });
        let kind = EventKind::ClusterAdded {
            cluster: String::from(name),
            project_id: String::from(project_id),
            kind,
            app_services_sync_enabled,
        };
        Ok(self.record.append(now, Some(actor), kind))
    }

    /// Journals a change, if a journaled savepoint is open (built only then: no allocation
    /// otherwise).
    fn note(&mut self, undo: impl FnOnce() -> Undo) {
        if let Some(j) = &mut self.journal {
            j.push(undo());
        }
    }

    fn insert_cluster(&mut self, c: Cluster) {
        if let Some(g) = c.grant.as_ref().filter(|g| g.ended.is_none()) {
            self.sweep_floor = self.sweep_floor.min(g.expiration);
        }
        let id = ClusterId(u32::try_from(self.clusters.len()).expect("fewer than 2^32 clusters"));
        self.by_name.insert(c.name.clone(), id);
        self.clusters.push(Some(c));
        self.generation += 1;
        self.note(|| Undo::Pushed);
    }

    /// Removes a cluster (and drops its grant).
    pub fn remove_cluster(
        &mut self,
        actor: &Actor,
        name: &str,
        now: Timestamp,
    ) -> Result<Event, Error> {
        check_cluster_name(name)?;
        self.check_clock(now)?;
        let (id, c) = self.lookup(name)?;
        if !actor.may_manage_inventory(&c.project_id) {
            return Err(Self::forbidden(actor, format!("remove cluster {name}")));
        }
        self.sweep(now);
        journal_slot(&mut self.journal, &self.clusters, id.0 as usize);
        let c = self.clusters[id.0 as usize].take().expect("looked up");
        self.by_name.remove(name);
        self.generation += 1;
        let kind = EventKind::ClusterRemoved {
            cluster: c.name,
            project_id: c.project_id,
        };
        Ok(self.record.append(now, Some(actor), kind))
    }

    /// Grants (or re-grants, replacing the active grant) support access to a cluster until
    /// `expiration` (default `now` + 24 h).
    pub fn grant(
        &mut self,
        actor: &Actor,
        cluster: &str,
        grant_type: GrantType,
        now: Timestamp,
        expiration: Option<Timestamp>,
    ) -> Result<Event, Error> {
        check_cluster_name(cluster)?;
        self.check_clock(now)?;
        let (id, c) = self.lookup(cluster)?;
        if !actor.may_manage_grants(&c.project_id) {
            return Err(Self::forbidden(
                actor,
                format!("grant support access on cluster {cluster}"),
            ));
        }
        if c.kind != ClusterKind::Dedicated {
            return Err(Error::UnsupportedClusterKind {
                name: String::from(cluster),
                kind: c.kind,
            });
        }
        if grant_type == GrantType::ClusterInfrastructureAndAppServicesSyncData
            && !c.app_services_sync_enabled
        {
            return Err(Error::SyncNotEnabled {
                name: String::from(cluster),
            });
        }
        let expiration = expiration_for(now, expiration, self.max_grant_ms)?;
        self.sweep(now);
        journal_slot(&mut self.journal, &self.clusters, id.0 as usize);
        let c = self.clusters[id.0 as usize].as_mut().expect("looked up");
        let replaced = c
            .grant
            .as_ref()
            .filter(|g| g.is_active(now))
            .map(|g| ReplacedGrant {
                grant_type: g.grant_type,
                expiration_time: g.expiration,
                granted_at: g.granted_at,
            });
        c.grant = Some(GrantState {
            grant_type,
            expiration,
            granted_at: now,
            granted_by: Some(actor.id.clone()),
            ended: None,
        });
        self.sweep_floor = self.sweep_floor.min(expiration);
        let kind = EventKind::EmployeeAccessGranted {
            cluster: String::from(cluster),
            grant_type,
            expiration_time: expiration,
            replaced,
        };
        Ok(self.record.append(now, Some(actor), kind))
    }

    /// Ends the active grant now.
    pub fn revoke(&mut self, actor: &Actor, cluster: &str, now: Timestamp) -> Result<Event, Error> {
        check_cluster_name(cluster)?;
        self.check_clock(now)?;
        let (id, c) = self.lookup(cluster)?;
        if !actor.may_manage_grants(&c.project_id) {
            return Err(Self::forbidden(
                actor,
                format!("revoke support access on cluster {cluster}"),
            ));
        }
        if c.active_grant(now).is_none() {
            return Err(Error::NoActiveGrant {
                name: String::from(cluster),
            });
        }
        self.sweep(now);
        journal_slot(&mut self.journal, &self.clusters, id.0 as usize);
        let c = self.clusters[id.0 as usize].as_mut().expect("looked up");
        let g = c.grant.as_mut().expect("active grant checked");
        g.ended = Some(Ending::Revoked(now));
        let kind = EventKind::EmployeeAccessRevoked {
            cluster: String::from(cluster),
            grant_type: g.grant_type,
            expiration_time: g.expiration,
        };
        Ok(self.record.append(now, Some(actor), kind))
    }

    /// Records `EMPLOYEE_ACCESS_EXPIRED` for every grant that ran out by `now`.
    pub fn expire_due(&mut self, now: Timestamp) -> Result<Vec<Event>, Error> {
        self.check_clock(now)?;
        Ok(self.sweep(now))
    }

    /// Starts a log download if support may read that log now; records
    /// `EMPLOYEE_DOWNLOADED_CLUSTER_LOGS` and returns it (its `download_id` names the download).
    pub fn begin_log_download(
        &mut self,
        cluster: &str,
        resource: Resource,
        now: Timestamp,
    ) -> Result<Event, Error> {
        // The name first, as the `beginLogDownload` command reads its fields: every front end
        // then refuses a bad name and a non-log resource alike, whichever it is given.
        check_cluster_name(cluster)?;
        if !matches!(resource, Resource::DatabaseLogs | Resource::AuditLogs) {
            return Err(Error::InvalidEnumValue {
                field: "log resource (DATABASE_LOGS or AUDIT_LOGS)",
                value: String::from(resource.as_str()),
            });
        }
        self.check_clock(now)?;
        let (_, c) = self.lookup(cluster)?;
        let decision = decide(self.restrict, c.view(), resource, now);
        if !decision.allowed {
            return Err(Error::AccessDenied {
                reason: decision.reason,
            });
        }
        self.sweep(now);
        let download_id = format!("dl-{}", self.record.len() + 1);
        if let Some(j) = &mut self.journal {
            let before = self.downloads.get(&download_id).cloned();
            j.push(Undo::Download(download_id.clone(), before));
        }
        self.downloads.insert(
            download_id.clone(),
            Download {
                cluster: String::from(cluster),
                resource,
                decision,
            },
        );
        let kind = EventKind::EmployeeDownloadedClusterLogs {
            cluster: String::from(cluster),
            resource,
            download_id,
        };
        Ok(self.record.append(now, None, kind))
    }

    /// A download in progress stays allowed until finished, whatever happened to the grant since
    /// it began. While access is still allowed the answer is the live one (with its countdown);
    /// once it is not, it is the decision that let the download begin, with no time remaining.
    pub fn continue_log_download(
        &self,
        download_id: &str,
        now: Timestamp,
    ) -> Result<Decision, Error> {
        let d = self
            .downloads
            .get(download_id)
            .ok_or_else(|| download_not_found(download_id))?;
        let live = self
            .cluster(&d.cluster)
            .map(|c| decide(self.restrict, c.view(), d.resource, now));
        Ok(match live {
            Some(decision) if decision.allowed => decision,
            _ => Decision {
                remaining_ms: None,
                ..d.decision
            },
        })
    }

    /// Finishes a download in progress (records `EMPLOYEE_LOG_DOWNLOAD_FINISHED`).
    pub fn finish_log_download(
        &mut self,
        download_id: &str,
        now: Timestamp,
    ) -> Result<Event, Error> {
        self.check_clock(now)?;
        if !self.downloads.contains_key(download_id) {
            return Err(download_not_found(download_id));
        }
        self.sweep(now);
        let d = self.downloads.remove(download_id).expect("checked above");
        self.note(|| Undo::Download(String::from(download_id), Some(d.clone())));
        let kind = EventKind::EmployeeLogDownloadFinished {
            cluster: d.cluster,
            download_id: String::from(download_id),
        };
        Ok(self.record.append(now, None, kind))
    }

    /// The ids of downloads in progress.
    pub fn downloads_in_progress(&self) -> impl Iterator<Item = &str> + '_ {
        self.downloads.keys().map(String::as_str)
    }

    /// Loads Admin API JSON: an org settings document (`restrictEmployeeAccess`) and cluster
    /// descriptions (`name`, `groupId`, optional `mongoDBEmployeeAccessGrant`), given as a list
    /// or as the document Atlas sent: an array, or a `listClusters` page
    /// `{"results": [...], "totalCount": N, "links": [...]}` (see [`AtlasClusters`]). Projects
    /// are created for unseen `groupId`s. Recorded as one `ATLAS_LOADED` event at the record's
    /// current time; grants that expired by then are skipped. See [`Policy::load_atlas_at`] to
    /// stamp the load with the time the documents were fetched.
    pub fn load_atlas<'a>(
        &mut self,
        org_settings: &serde_json::Value,
        clusters: impl Into<AtlasClusters<'a>>,
    ) -> Result<LoadSummary, Error> {
        self.load_atlas_at(org_settings, clusters, None)
    }

    /// [`Policy::load_atlas`] as of `now`: a mutation like any other (it may not go behind the
    /// record's clock and first records the expiries due), stamped `now`, skipping grants that
    /// expired by `now`.
    pub fn load_atlas_at<'a>(
        &mut self,
        org_settings: &serde_json::Value,
        clusters: impl Into<AtlasClusters<'a>>,
        now: Option<Timestamp>,
    ) -> Result<LoadSummary, Error> {
        let clusters = clusters.into();
        let at = now.unwrap_or(self.record.last_at());
        let (restrict, loaded, skipped) = crate::atlas::parse_atlas(org_settings, clusters, at)?;
        let mut summary = self.apply_atlas(restrict, loaded, at)?;
        summary.expired_grants_skipped = skipped;
        Ok(summary)
    }

    /// Applies a normalized Atlas load at `at` (shared by `load_atlas_at` and replay).
    pub(crate) fn apply_atlas(
        &mut self,
        restrict: Option<bool>,
        clusters: Vec<LoadedCluster>,
        at: Timestamp,
    ) -> Result<LoadSummary, Error> {
        self.check_clock(at)?;
        let mut seen = SortedSet::default();
        for c in &clusters {
            if self.by_name.contains_key(&c.cluster) || !seen.insert(c.cluster.as_str()) {
                return Err(Error::DuplicateCluster {
                    name: c.cluster.clone(),
                });
            }
            if let Some(g) = &c.grant {
                if c.kind != ClusterKind::Dedicated {
                    return Err(Error::UnsupportedClusterKind {
                        name: c.cluster.clone(),
                        kind: c.kind,
                    });
                }
                if g.grant_type == GrantType::ClusterInfrastructureAndAppServicesSyncData
                    && !c.app_services_sync_enabled
                {
                    return Err(Error::SyncNotEnabled {
                        name: c.cluster.clone(),
                    });
                }
                if g.expiration_time <= at {
                    return Err(Error::ExpirationNotInFuture {
                        expiration: g.expiration_time,
                        now: at,
                    });
                }
            }
        }
        let mut summary = LoadSummary {
            projects: 0,
            clusters: clusters.len(),
            grants: 0,
            expired_grants_skipped: 0,
        };
        self.sweep(at);
        if let Some(r) = restrict {
            let was = self.restrict;
            self.note(|| Undo::Restrict(was));
            self.restrict = r;
        }
        for c in &clusters {
            if self.projects.insert(c.project_id.clone()) {
                self.note(|| Undo::ProjectAdded(c.project_id.clone()));
                summary.projects += 1;
            }
            summary.grants += usize::from(c.grant.is_some());
            self.insert_cluster(Cluster {
                name: c.cluster.clone(),
                project_id: c.project_id.clone(),
                kind: c.kind,
                app_services_sync_enabled: c.app_services_sync_enabled,
                grant: c.grant.map(|g| GrantState {
                    grant_type: g.grant_type,
                    expiration: g.expiration_time,
                    granted_at: at,
                    granted_by: None,
                    ended: None,
                }),
            });
        }
        self.record.append(
            at,
            None,
            EventKind::AtlasLoaded {
                restrict_employee_access: restrict,
                clusters,
            },
        );
        Ok(summary)
    }
}

/// A point a [`Policy`] can return to with [`Policy::rollback`]: how many events its record
/// held, and either a copy of its state ([`Policy::savepoint`]) or a mark in a journal of the
/// changes made since ([`Policy::journaled_savepoint`]).
///
/// It exists for stores that treat the policy in memory as a cache: a writer applies a command
/// to its cache, tries to append the new lines to a shared store, and, when another writer got
/// there first, must forget those lines before catching up. Neither kind copies the record, so
/// neither costs more on a record of ten million events than of ten; a copy costs what the state
/// holds (milliseconds for 10,000 clusters), a journal what changed since.
#[derive(Debug, Clone)]
pub struct Savepoint {
    kept: Kept,
    events: usize,
}

/// How a savepoint returns: to a copy of the state, or by undoing a journal from `depth`.
#[derive(Debug, Clone)]
enum Kept {
    State {
        state: Box<Policy>,
        /// The hash of the event at `events`: the record a rollback cuts back must still hold
        /// it (a copy of the state cannot bring back a record that was replaced).
        head: String,
    },
    Journal {
        org_id: String,
        depth: usize,
        sweep_floor: Timestamp,
        /// Taken with no journaled savepoint open: ending it ends the journal.
        outermost: bool,
    },
}

impl Savepoint {
    /// How many events the record held when the savepoint was taken (the head `seq`).
    pub fn events(&self) -> usize {
        self.events
    }
}

impl Policy {
    /// An empty stand-in, for moving a policy out of a `&mut` for a moment (no record, no
    /// allocation, never observable by callers).
    pub(crate) fn placeholder() -> Policy {
        Policy {
            org_id: String::new(),
            restrict: false,
            max_grant_ms: None,
            projects: SortedSet::default(),
            clusters: Vec::new(),
            by_name: ByName::default(),
            downloads: SortedMap::default(),
            record: Record::default(),
            generation: 0,
            sweep_floor: Timestamp::EPOCH,
            journal: None,
        }
    }
}

impl Policy {
    /// Becomes `next` (a policy rebuilt from a record), at a generation past this one's, so ids
    /// cached from this policy are dropped.
    pub(crate) fn replace_with(&mut self, next: Policy) {
        let generation = self.generation.max(next.generation) + 1;
        let journal = self.journal.take();
        let before = core::mem::replace(self, next);
        self.generation = generation;
        // An open journaled savepoint can still return to the policy that was replaced.
        if let Some(mut journal) = journal {
            journal.push(Undo::Replaced(Box::new(before)));
            self.journal = Some(journal);
        }
    }

    /// Remembers the current state so that [`Policy::rollback`] can return to it.
    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            kept: Kept::State {
                state: Box::new(Policy {
                    org_id: self.org_id.clone(),
                    restrict: self.restrict,
                    max_grant_ms: self.max_grant_ms,
                    projects: self.projects.clone(),
                    clusters: self.clusters.clone(),
                    by_name: self.by_name.clone(),
                    downloads: self.downloads.clone(),
                    record: Record::default(),
                    generation: self.generation,
                    sweep_floor: self.sweep_floor,
                    journal: None,
                }),
                head: String::from(self.record.last_hash()),
            },
            events: self.record.len(),
        }
    }

    /// A savepoint that costs what changes after it, not a copy of the state: from here the
    /// policy journals each change (the clusters it touches, projects, the restriction,
    /// downloads) until [`Policy::rollback`] undoes them or [`Policy::release`] keeps them. For
    /// a store's writer, which takes one around every command (a copy of 10,000 clusters costs
    /// milliseconds; the command itself, microseconds).
    ///
    /// Journaled savepoints nest: end each one (rollback or release) before the one taken
    /// before it. One left open keeps the journal growing with every change.
    pub fn journaled_savepoint(&mut self) -> Savepoint {
        let outermost = self.journal.is_none();
        let journal = self.journal.get_or_insert_with(Vec::new);
        Savepoint {
            kept: Kept::Journal {
                org_id: self.org_id.clone(),
                depth: journal.len(),
                sweep_floor: self.sweep_floor,
                outermost,
            },
            events: self.record.len(),
        }
    }

    /// Keeps what changed since a savepoint and ends it; for a journaled savepoint taken with
    /// none open before it, the journal stops. (A copied savepoint is just dropped.)
    pub fn release(&mut self, savepoint: Savepoint) {
        if let Kept::Journal {
            outermost: true, ..
        } = savepoint.kept
        {
            self.journal = None;
        }
    }

    /// Returns to a savepoint taken from this policy: the state as it was, and the record cut
    /// back to the events it held then. The result equals the policy at that moment (and a
    /// replay of its record).
    ///
    /// # Errors
    /// [`Error::MalformedInput`] if the savepoint is of another organization, a copied one whose
    /// record no longer holds the savepoint's last event (cut back, or replaced by a replay), or
    /// a journaled one already ended (the policy is then left as it was).
    pub fn rollback(&mut self, savepoint: Savepoint) -> Result<(), Error> {
        let refused = || Error::malformed("the savepoint was not taken from this policy's record");
        // Past every generation this policy has had, so no cache taken since stays valid.
        let generation = self.generation + 1;
        let events = savepoint.events;
        match savepoint.kept {
            Kept::State { state, head } => {
                // The record must still reach back to the savepoint's head: a replay command
                // since may have put another record in its place, which a copy of the state
                // without the record cannot undo.
                let now_there = events.checked_sub(1).and_then(|i| self.record.hash_at(i));
                if state.org_id != self.org_id || now_there != Some(head.as_str()) {
                    return Err(refused());
                }
                let mut record = core::mem::take(&mut self.record);
                record.truncate(events);
                *self = *state;
                self.record = record;
            }
            Kept::Journal {
                org_id,
                depth,
                sweep_floor,
                outermost,
            } => {
                let open = self.journal.as_ref().is_some_and(|j| depth <= j.len());
                if org_id != self.org_id || !open {
                    return Err(refused());
                }
                // Undone first: undoing a replay brings the record it replaced back.
                self.undo_to(depth);
                self.record.truncate(events);
                self.sweep_floor = sweep_floor;
                if outermost {
                    self.journal = None;
                }
            }
        }
        self.generation = generation;
        Ok(())
    }

    /// Undoes the journal's changes, newest first, until it holds `depth` of them.
    fn undo_to(&mut self, depth: usize) {
        let Some(mut journal) = self.journal.take() else {
            return;
        };
        while journal.len() > depth {
            match journal.pop().expect("longer than depth") {
                Undo::Slot(i, before) => {
                    // A slot is only ever emptied (a removal) or changed in place, never
                    // refilled, so the name map changes only when the cluster comes back.
                    if self.clusters[i].is_none() {
                        if let Some(c) = &before {
                            self.by_name.insert(c.name.clone(), ClusterId(i as u32));
                        }
                    }
                    self.clusters[i] = before;
                }
                Undo::Pushed => {
                    if let Some(c) = self.clusters.pop().flatten() {
                        self.by_name.remove(&c.name);
                    }
                }
                Undo::Restrict(r) => self.restrict = r,
                Undo::ProjectAdded(p) => {
                    self.projects.remove(&p);
                }
                Undo::ProjectRemoved(p) => {
                    self.projects.insert(p);
                }
                Undo::Download(id, before) => {
                    match before {
                        Some(d) => self.downloads.insert(id, d),
                        None => self.downloads.remove(&id),
                    };
                }
                Undo::Replaced(before) => *self = *before,
            }
        }
        self.journal = Some(journal);
    }
}

#[cold]
#[inline(never)]
pub(crate) fn not_found(cluster: &str) -> Error {
    match check_cluster_name(cluster) {
        Ok(_) => Error::cluster_not_found(cluster),
        Err(e) => e,
    }
}

#[cold]
#[inline(never)]
fn id_not_found(id: ClusterId) -> Error {
    Error::ClusterNotFound {
        name: format!("#{}", id.0),
    }
}

#[cold]
fn download_not_found(id: &str) -> Error {
    Error::DownloadNotFound {
        download_id: crate::error::clip(id),
    }
}

/// Policy options: `{orgId, restrictEmployeeAccess?, maxGrantDurationMs?, now?}`; `now` (the
/// creation time, RFC 3339 or epoch ms like every `now`) is a bad time as in a command:
/// `INVALID_TIMESTAMP`.
pub fn parse_options(json: &str) -> Result<PolicyOptions, Error> {
    if json.len() > crate::error::MAX_COMMAND_LEN {
        return Err(Error::malformed(format!(
            "options longer than {} bytes",
            crate::error::MAX_COMMAND_LEN
        )));
    }
    let v = crate::wire::parse_json(json)?;
    options_from_value(&v)
}

pub(crate) fn options_from_value(v: &serde_json::Value) -> Result<PolicyOptions, Error> {
    let f = Fields::new(
        v,
        "policy options",
        &[
            "orgId",
            "restrictEmployeeAccess",
            "maxGrantDurationMs",
            "now",
        ],
    )?;
    let mut o = PolicyOptions::new(f.id("orgId")?);
    o.restrict_employee_access = f.opt_bool("restrictEmployeeAccess")?.unwrap_or(false);
    if f.has("maxGrantDurationMs") {
        o.max_grant_duration_ms = match f.opt("maxGrantDurationMs") {
            None => None,
            Some(v) => Some(v.as_i64().filter(|ms| *ms > 0).ok_or_else(|| {
                Error::malformed("`maxGrantDurationMs` must be a positive integer or null")
            })?),
        };
    }
    o.created_at = f.opt_time("now")?;
    Ok(o)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use alloc::vec;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    /// The creation time is the genesis event's `at` and the clock's floor, survives replay,
    /// and evaluating before it finds no cluster (rather than failing to replay nothing).
    #[test]
    fn genesis_carries_the_creation_time() {
        let owner = Actor::org_owner("alice").unwrap();
        let mut o = PolicyOptions::new("org");
        o.created_at = Some(t("2026-11-28T10:00:00Z"));
        let mut p = Policy::new(o).unwrap();
        assert_eq!(p.events()[0].at, t("2026-11-28T10:00:00Z"));
        assert_eq!(p.record().last_at(), t("2026-11-28T10:00:00Z"));

        let err = p
            .add_project(&owner, "p1", t("2026-11-28T09:59:59.999Z"))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ClockWentBackwards);
        assert_eq!(p.record().len(), 1);
        p.add_project(&owner, "p1", t("2026-11-28T10:00:00Z"))
            .unwrap();
        p.add_cluster(
            &owner,
            "p1",
            "C0",
            ClusterKind::Dedicated,
            false,
            t("2026-11-28T11:00:00Z"),
        )
        .unwrap();

        let again = Policy::replay(&p.export_record()).unwrap();
        assert_eq!(again, p);

        let before = p.evaluate_at("C0", Resource::Infrastructure, t("2026-11-28T09:00:00Z"));
        assert_eq!(before.unwrap_err().code(), ErrorCode::ClusterNotFound);
        let bad_name = p.evaluate_at("bad name", Resource::Infrastructure, Timestamp::EPOCH);
        assert_eq!(bad_name.unwrap_err().code(), ErrorCode::InvalidClusterName);
        let after = p.evaluate_at("C0", Resource::Infrastructure, t("2026-11-28T11:00:00Z"));
        assert!(after.unwrap().allowed);
    }

    /// Without a creation time, the genesis is exactly what it always was.
    #[test]
    fn genesis_without_a_time_is_the_epoch() {
        let a = Policy::new(PolicyOptions::new("org")).unwrap();
        let mut o = PolicyOptions::new("org");
        o.created_at = Some(Timestamp::EPOCH);
        let b = Policy::new(o).unwrap();
        assert_eq!(a.export_record(), b.export_record());
        assert!(a
            .export_record()
            .contains("\"at\":\"1970-01-01T00:00:00.000Z\""));
    }

    /// Options JSON takes `now` like a command does, and refuses a bad one alike.
    #[test]
    fn options_now() {
        let p = Policy::from_options_json(r#"{"orgId":"o","now":1795860000000}"#).unwrap();
        assert_eq!(p.events()[0].at, t("2026-11-28T10:00:00Z"));
        let p = Policy::from_options_json(r#"{"orgId":"o","now":null}"#).unwrap();
        assert_eq!(p.events()[0].at, Timestamp::EPOCH);
        for bad in [r#""tomorrow""#, "-1", "1.5", "true", "{}"] {
            let json = format!(r#"{{"orgId":"o","now":{bad}}}"#);
            let err = Policy::from_options_json(&json).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidTimestamp, "{json}");
        }
    }

    /// A listClusters page loads exactly as its `results` do, through every form the typed call
    /// takes; what is not a page is refused, naming the field.
    #[test]
    fn atlas_page_loads_like_its_list() {
        let list = vec![
            json!({"name": "C0", "groupId": "g1", "clusterType": "REPLICASET"}),
            json!({"name": "C1", "groupId": "g2"}),
        ];
        let page = json!({"results": list, "totalCount": 2, "links": [{"rel": "self"}]});
        let settings = json!({"restrictEmployeeAccess": true});
        let load = |clusters: AtlasClusters<'_>| {
            let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
            p.load_atlas(&settings, clusters)
                .map(|s| (s, p.export_record()))
        };
        let from_list = load((&list).into()).unwrap();
        assert_eq!(from_list.0.clusters, 2);
        assert_eq!(load(list.as_slice().into()).unwrap(), from_list);
        let array = [list[0].clone(), list[1].clone()];
        assert_eq!(load((&array).into()).unwrap(), from_list);
        let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
        let s = p.load_atlas(&settings, &[json!({"name": "C2", "groupId": "g1"})]);
        assert_eq!(
            s.unwrap().clusters,
            1,
            "a borrowed array literal, as callers wrote it"
        );
        assert_eq!(load((&json!(list)).into()).unwrap(), from_list);
        assert_eq!(load((&page).into()).unwrap(), from_list);

        for (bad, says) in [
            (
                json!({"results": list, "pageNum": 1}),
                "unexpected field `pageNum` in listClusters page",
            ),
            (
                json!({"results": {}}),
                "field `results` in listClusters page must be an array, not an object",
            ),
            (
                json!({"totalCount": 0}),
                "missing field `results` in listClusters page",
            ),
            (
                json!("C0"),
                "`clusters` must be an array of cluster descriptions or a listClusters page",
            ),
        ] {
            let err = load((&bad).into()).unwrap_err();
            assert_eq!(err.code(), ErrorCode::MalformedInput, "{bad}");
            assert!(format!("{err}").contains(says), "{err}");
        }
    }
}
