//! Verifying and replaying a record (SPEC section 5).
//!
//! There is one procedure for both: start from the `POLICY_CREATED` options, then feed each
//! event's operation back through the same typed API that wrote it and demand that the core
//! writes exactly the bytes of the record — the expiry sweeps it performs included. The first
//! line that differs, fails to parse or describes an operation the policy refuses is the
//! tampered `seq`. Hence replaying and then continuing writes the same bytes as never stopping,
//! and a record cannot smuggle in a grant that the rules would have refused.
//!
//! What a hash chain cannot show by itself is a record cut short at its end; anchor the head
//! ([`crate::record::Record::last_hash`], returned by verify) elsewhere to catch that.

use alloc::format;
use alloc::string::String;

use serde_json::Value;

use crate::error::Error;
use crate::model::{ClusterKind, GrantType, Resource};
use crate::policy::{Policy, PolicyOptions};
use crate::record::{AtlasGrant, Event, EventKind, LoadedCluster, ReplacedGrant};
use crate::wire::{parse_actor, parse_time, Fields};

/// Reads one canonical line into an [`Event`] (structure only; replay checks the rest).
pub fn parse_event(line: &str) -> Result<Event, Error> {
    let v = crate::wire::parse_json(line)?;
    let f = Fields::new(
        &v,
        "event",
        &[
            "seq",
            "at",
            "actor",
            "type",
            "orgId",
            "restrictEmployeeAccess",
            "maxGrantDurationMs",
            "projectId",
            "clustersRemoved",
            "cluster",
            "kind",
            "appServicesSyncEnabled",
            "grantType",
            "expirationTime",
            "replaced",
            "resource",
            "downloadId",
            "clusters",
            "prev",
            "hash",
        ],
    )?;
    let seq = f
        .req("seq")?
        .as_u64()
        .ok_or_else(|| Error::malformed("`seq` must be a positive integer"))?;
    let at = f.time("at")?;
    let actor = f.opt("actor").map(parse_actor).transpose()?;
    let s = |k: &str| f.str(k).map(String::from);
    let kind = match f.str("type")? {
        "POLICY_CREATED" => EventKind::PolicyCreated {
            org_id: s("orgId")?,
            restrict_employee_access: f.bool("restrictEmployeeAccess")?,
            max_grant_duration_ms: f.opt("maxGrantDurationMs").and_then(Value::as_i64),
        },
        "ORG_EMPLOYEE_ACCESS_RESTRICTED" => EventKind::OrgEmployeeAccessRestricted,
        "ORG_EMPLOYEE_ACCESS_UNRESTRICTED" => EventKind::OrgEmployeeAccessUnrestricted,
        "PROJECT_ADDED" => EventKind::ProjectAdded {
            project_id: s("projectId")?,
        },
        "PROJECT_REMOVED" => EventKind::ProjectRemoved {
            project_id: s("projectId")?,
            clusters_removed: f
                .array("clustersRemoved")?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| Error::malformed("cluster names are strings"))
                })
                .collect::<Result<_, _>>()?,
        },
        "CLUSTER_ADDED" => EventKind::ClusterAdded {
            cluster: s("cluster")?,
            project_id: s("projectId")?,
            kind: f.enum_("kind", ClusterKind::parse)?,
            app_services_sync_enabled: f.bool("appServicesSyncEnabled")?,
        },
        "CLUSTER_REMOVED" => EventKind::ClusterRemoved {
            cluster: s("cluster")?,
            project_id: s("projectId")?,
        },
        "EMPLOYEE_ACCESS_GRANTED" => EventKind::EmployeeAccessGranted {
            cluster: s("cluster")?,
            grant_type: f.enum_("grantType", GrantType::parse)?,
            expiration_time: f.time("expirationTime")?,
            replaced: f
                .opt("replaced")
                .map(|r| {
                    let rf =
                        Fields::new(r, "replaced", &["grantType", "expirationTime", "grantedAt"])?;
                    Ok::<_, Error>(ReplacedGrant {
                        grant_type: rf.enum_("grantType", GrantType::parse)?,
                        expiration_time: rf.time("expirationTime")?,
                        granted_at: rf.time("grantedAt")?,
                    })
                })
                .transpose()?,
        },
        t @ ("EMPLOYEE_ACCESS_REVOKED" | "EMPLOYEE_ACCESS_EXPIRED") => {
            let (cluster, grant_type, expiration_time) = (
                s("cluster")?,
                f.enum_("grantType", GrantType::parse)?,
                f.time("expirationTime")?,
            );
            if t == "EMPLOYEE_ACCESS_REVOKED" {
                EventKind::EmployeeAccessRevoked {
                    cluster,
                    grant_type,
                    expiration_time,
                }
            } else {
                EventKind::EmployeeAccessExpired {
                    cluster,
                    grant_type,
                    expiration_time,
                }
            }
        }
        "EMPLOYEE_DOWNLOADED_CLUSTER_LOGS" => EventKind::EmployeeDownloadedClusterLogs {
            cluster: s("cluster")?,
            resource: f.enum_("resource", Resource::parse)?,
            download_id: s("downloadId")?,
        },
        "EMPLOYEE_LOG_DOWNLOAD_FINISHED" => EventKind::EmployeeLogDownloadFinished {
            cluster: s("cluster")?,
            download_id: s("downloadId")?,
        },
        "ATLAS_LOADED" => EventKind::AtlasLoaded {
            restrict_employee_access: f.opt_bool("restrictEmployeeAccess")?,
            clusters: f
                .array("clusters")?
                .iter()
                .map(parse_loaded_cluster)
                .collect::<Result<_, _>>()?,
        },
        other => return Err(Error::invalid_enum("event type", other)),
    };
    Ok(Event::from_parts(
        seq,
        at,
        actor,
        kind,
        s("prev")?,
        s("hash")?,
        String::from(line),
    ))
}

fn parse_loaded_cluster(v: &Value) -> Result<LoadedCluster, Error> {
    let f = Fields::new(
        v,
        "loaded cluster",
        &[
            "cluster",
            "projectId",
            "kind",
            "appServicesSyncEnabled",
            "grant",
        ],
    )?;
    Ok(LoadedCluster {
        cluster: String::from(f.str("cluster")?),
        project_id: String::from(f.str("projectId")?),
        kind: f.enum_("kind", ClusterKind::parse)?,
        app_services_sync_enabled: f.bool("appServicesSyncEnabled")?,
        grant: f
            .opt("grant")
            .map(|g| {
                let gf = Fields::new(g, "grant", &["grantType", "expirationTime"])?;
                Ok::<_, Error>(AtlasGrant {
                    grant_type: gf.enum_("grantType", GrantType::parse)?,
                    expiration_time: parse_time(gf.req("expirationTime")?)?,
                })
            })
            .transpose()?,
    })
}

/// Feeds one event's operation back through the typed API.
fn redo(p: &mut Policy, e: &Event) -> Result<(), Error> {
    let actor = || {
        e.actor
            .as_ref()
            .ok_or_else(|| Error::malformed("this event type needs an actor"))
    };
    let at = e.at;
    match &e.kind {
        EventKind::PolicyCreated { .. } => {
            return Err(Error::malformed(
                "POLICY_CREATED may only be the first event",
            ))
        }
        EventKind::OrgEmployeeAccessRestricted => {
            p.set_restriction(actor()?, true, at).map(drop)?
        }
        EventKind::OrgEmployeeAccessUnrestricted => {
            p.set_restriction(actor()?, false, at).map(drop)?
        }
        EventKind::ProjectAdded { project_id } => {
            p.add_project(actor()?, project_id, at).map(drop)?
        }
        EventKind::ProjectRemoved { project_id, .. } => {
            p.remove_project(actor()?, project_id, at).map(drop)?
        }
        EventKind::ClusterAdded {
            cluster,
            project_id,
            kind,
            app_services_sync_enabled,
        } => p
            .add_cluster(
                actor()?,
                project_id,
                cluster,
                *kind,
                *app_services_sync_enabled,
                at,
            )
            .map(drop)?,
        EventKind::ClusterRemoved { cluster, .. } => {
            p.remove_cluster(actor()?, cluster, at).map(drop)?
        }
        EventKind::EmployeeAccessGranted {
            cluster,
            grant_type,
            expiration_time,
            ..
        } => p
            .grant(actor()?, cluster, *grant_type, at, Some(*expiration_time))
            .map(drop)?,
        EventKind::EmployeeAccessRevoked { cluster, .. } => {
            p.revoke(actor()?, cluster, at).map(drop)?
        }
        EventKind::EmployeeAccessExpired { .. } => p.expire_due(at).map(drop)?,
        EventKind::EmployeeDownloadedClusterLogs {
            cluster, resource, ..
        } => p.begin_log_download(cluster, *resource, at).map(drop)?,
        EventKind::EmployeeLogDownloadFinished { download_id, .. } => {
            p.finish_log_download(download_id, at).map(drop)?
        }
        EventKind::AtlasLoaded {
            restrict_employee_access,
            clusters,
        } => p
            .apply_atlas(*restrict_employee_access, clusters.clone())
            .map(drop)?,
    }
    Ok(())
}

fn seq_of(index: usize) -> u64 {
    index as u64 + 1
}

/// Verifies and replays a record one line at a time: the streaming form of [`replay`], for
/// records read from a file or a socket. Feed lines in order (without their newline); the first
/// error names the tampered `seq`, after which the replayer should be dropped.
#[derive(Debug, Clone, Default)]
pub struct Replayer {
    policy: Option<Policy>,
    /// Lines a fed operation wrote beyond the line that described it (the expiries its sweep
    /// recorded are written before it, so this only holds ties of one `expireDue`).
    pending: usize,
    fed: usize,
}

impl Replayer {
    /// A replayer expecting `POLICY_CREATED` first.
    pub fn new() -> Replayer {
        Replayer::default()
    }

    /// How many lines were accepted.
    pub fn len(&self) -> usize {
        self.fed
    }

    /// Whether no line was accepted yet.
    pub fn is_empty(&self) -> bool {
        self.fed == 0
    }

    /// Checks one more line and applies the operation it describes.
    pub fn feed(&mut self, line: &str) -> Result<(), Error> {
        let index = self.fed;
        let seq = seq_of(index);
        let Some(p) = self.policy.as_mut() else {
            let created = parse_event(line).map_err(|e| Error::tampered(1, format!("{e}")))?;
            let EventKind::PolicyCreated {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
            } = created.kind
            else {
                return Err(Error::tampered(1, "the first event must be POLICY_CREATED"));
            };
            let options = PolicyOptions {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
            };
            let p = Policy::new(options).map_err(|e| Error::tampered(1, format!("{e}")))?;
            if p.record.line(0) != Some(line) {
                return Err(Error::tampered(1, "content, order or hash does not match"));
            }
            self.policy = Some(p);
            self.fed = 1;
            return Ok(());
        };
        if self.pending == 0 {
            let e = parse_event(line).map_err(|err| Error::tampered(seq, format!("{err}")))?;
            redo(p, &e)
                .map_err(|err| Error::tampered(seq, format!("the operation is refused: {err}")))?;
            self.pending = p.record.len() - index;
        }
        if p.record.line(index) != Some(line) {
            return Err(Error::tampered(
                seq,
                "content, order or hash does not match",
            ));
        }
        self.pending -= 1;
        self.fed += 1;
        Ok(())
    }

    /// The rebuilt policy, once every line was fed.
    pub fn finish(self) -> Result<Policy, Error> {
        match self.policy {
            None => Err(Error::tampered(1, "the record is empty")),
            Some(_) if self.pending > 0 => Err(Error::tampered(
                seq_of(self.fed),
                "an event the operations imply is missing",
            )),
            Some(p) => Ok(p),
        }
    }
}

/// Replays canonical lines into the policy they describe, or names the first bad `seq`.
pub(crate) fn replay_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Policy, Error> {
    let mut r = Replayer::new();
    for line in lines {
        r.feed(line)?;
    }
    r.finish()
}

fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_suffix('\n').unwrap_or(text).split('\n')
}

/// Checks a JSON Lines record; returns how many events it holds.
pub fn verify(text: &str) -> Result<u64, Error> {
    replay(text).map(|p| p.record.len() as u64)
}

/// Rebuilds the exact policy that wrote a JSON Lines record.
pub fn replay(text: &str) -> Result<Policy, Error> {
    if text.is_empty() {
        return Err(Error::tampered(1, "the record is empty"));
    }
    replay_lines(split_lines(text))
}

impl Policy {
    /// Rebuilds the exact policy that wrote a JSON Lines record (see [`replay`]).
    pub fn replay(text: &str) -> Result<Policy, Error> {
        replay(text)
    }
}
