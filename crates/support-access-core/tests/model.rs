//! Model-based property tests: random operation sequences run through the typed API and through
//! a deliberately naive reference model written straight from SPEC sections 2-4. After every
//! step the two must agree on every decision and every error code, nothing may be allowed after
//! its expiry or revoke, the record must verify, and replaying it must give the live policy.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use support_access_core::{
    Actor, ClusterKind, ErrorCode, GrantType, Policy, PolicyOptions, Reason, Replayer, Resource,
    Role, Timestamp,
};

const PROJECTS: [&str; 2] = ["p1", "p2"];
const CLUSTERS: [&str; 3] = ["c0", "c1", "c2"];
const HOUR: i64 = 3_600_000;
const START: i64 = 1_795_860_000_000; // 2026-11-28T10:00:00Z

#[derive(Debug, Clone)]
enum Op {
    SetRestriction(usize, bool),
    AddProject(usize, usize),
    RemoveProject(usize, usize),
    AddCluster(usize, usize, usize, usize, bool),
    RemoveCluster(usize, usize),
    Grant(usize, usize, usize, Option<i64>),
    Revoke(usize, usize),
    ExpireDue,
}

fn actors() -> Vec<Actor> {
    vec![
        Actor::org_owner("owner").unwrap(),
        Actor::new(
            "manager",
            vec![Role::ProjectSupportAccessManager("p1".into())],
        )
        .unwrap(),
        Actor::new("reader", vec![Role::ProjectReadOnly("p1".into())]).unwrap(),
        Actor::new("p2-owner", vec![Role::ProjectOwner("p2".into())]).unwrap(),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let actor =
        prop_oneof![4 => Just(0usize), 2 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)];
    prop_oneof![
        1 => (actor.clone(), any::<bool>()).prop_map(|(a, r)| Op::SetRestriction(a, r)),
        2 => (actor.clone(), 0..2usize).prop_map(|(a, p)| Op::AddProject(a, p)),
        1 => (actor.clone(), 0..2usize).prop_map(|(a, p)| Op::RemoveProject(a, p)),
        3 => (actor.clone(), 0..2usize, 0..3usize, prop_oneof![6 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize)], any::<bool>())
            .prop_map(|(a, p, c, k, s)| Op::AddCluster(a, p, c, k, s)),
        1 => (actor.clone(), 0..3usize).prop_map(|(a, c)| Op::RemoveCluster(a, c)),
        6 => (actor.clone(), 0..3usize, 0..3usize, prop::option::of(-HOUR..30 * HOUR))
            .prop_map(|(a, c, g, e)| Op::Grant(a, c, g, e)),
        2 => (actor.clone(), 0..3usize).prop_map(|(a, c)| Op::Revoke(a, c)),
        1 => Just(Op::ExpireDue),
    ]
}

// ---------------- the naive reference model ----------------

#[derive(Debug, Clone)]
struct MGrant {
    gt: GrantType,
    exp: i64,
    revoked: bool,
    expiry_recorded: bool,
}

#[derive(Debug, Clone)]
struct MCluster {
    project: String,
    kind: ClusterKind,
    sync: bool,
    grant: Option<MGrant>,
}

#[derive(Debug, Clone)]
struct Model {
    restrict: bool,
    projects: BTreeSet<String>,
    clusters: BTreeMap<String, MCluster>,
    last: i64,
    /// How many expiries have been recorded: the record must hold as many
    /// `EMPLOYEE_ACCESS_EXPIRED` events (the only check that a sweep recorded every one).
    expiries: usize,
}

fn covers(gt: GrantType, r: Resource) -> bool {
    let table: &[(GrantType, &[Resource])] = &[
        (
            GrantType::ClusterInfrastructure,
            &[
                Resource::Infrastructure,
                Resource::DatabaseLogs,
                Resource::AuditLogs,
            ],
        ),
        (GrantType::ClusterDatabaseLogs, &[Resource::DatabaseLogs]),
        (
            GrantType::ClusterInfrastructureAndAppServicesSyncData,
            &[
                Resource::Infrastructure,
                Resource::DatabaseLogs,
                Resource::AuditLogs,
                Resource::SyncData,
            ],
        ),
    ];
    table.iter().any(|(g, rs)| *g == gt && rs.contains(&r))
}

fn roles_allow_grants(a: &Actor, project: &str) -> bool {
    a.roles.iter().any(|r| {
        matches!(r, Role::OrgOwner)
            || matches!(r, Role::ProjectOwner(p) if p == project)
            || matches!(r, Role::ProjectSupportAccessManager(p) if p == project)
    })
}

fn roles_allow_inventory(a: &Actor, project: &str) -> bool {
    a.roles
        .iter()
        .any(|r| matches!(r, Role::OrgOwner) || matches!(r, Role::ProjectOwner(p) if p == project))
}

impl Model {
    fn active(g: &MGrant, now: i64) -> bool {
        !g.revoked && !g.expiry_recorded && now < g.exp
    }

    fn evaluate(&self, cluster: &str, r: Resource, now: i64) -> Option<(bool, Reason)> {
        let c = self.clusters.get(cluster)?;
        let active = c.grant.as_ref().filter(|g| Model::active(g, now));
        Some(if r == Resource::DatabaseData {
            (false, Reason::DatabaseDataNeverAccessible)
        } else if r == Resource::SyncData {
            if active
                .is_some_and(|g| g.gt == GrantType::ClusterInfrastructureAndAppServicesSyncData)
                && c.sync
            {
                (true, Reason::GrantActive)
            } else {
                (false, Reason::SyncDataRequiresGrant)
            }
        } else if !self.restrict {
            (true, Reason::OrgUnrestricted)
        } else if let Some(g) = active {
            if covers(g.gt, r) {
                (true, Reason::GrantActive)
            } else {
                (false, Reason::NotCoveredByGrant)
            }
        } else {
            match &c.grant {
                Some(g) if g.revoked => (false, Reason::GrantRevoked),
                Some(_) => (false, Reason::GrantExpired),
                None => (false, Reason::NoGrant),
            }
        })
    }

    /// Records due expiries; returns the time of the last one.
    fn sweep(&mut self, now: i64) -> Option<i64> {
        let mut last = None;
        for c in self.clusters.values_mut() {
            if let Some(g) = c.grant.as_mut() {
                if !g.revoked && !g.expiry_recorded && g.exp <= now {
                    g.expiry_recorded = true;
                    self.expiries += 1;
                    last = Some(last.map_or(g.exp, |l: i64| l.max(g.exp)));
                }
            }
        }
        last
    }

    fn apply(&mut self, op: &Op, now: i64, max: i64) -> Result<(), ErrorCode> {
        let actors = actors();
        if now < self.last {
            return Err(ErrorCode::ClockWentBackwards);
        }
        match op {
            Op::ExpireDue => {
                if let Some(t) = self.sweep(now) {
                    self.last = t;
                }
                return Ok(());
            }
            Op::SetRestriction(a, r) => {
                if !actors[*a].roles.contains(&Role::OrgOwner) {
                    return Err(ErrorCode::Forbidden);
                }
                self.sweep(now);
                self.restrict = *r;
            }
            Op::AddProject(a, p) => {
                let p = PROJECTS[*p];
                if !roles_allow_inventory(&actors[*a], p) {
                    return Err(ErrorCode::Forbidden);
                }
                if self.projects.contains(p) {
                    return Err(ErrorCode::DuplicateProject);
                }
                self.sweep(now);
                self.projects.insert(p.into());
            }
            Op::RemoveProject(a, p) => {
                let p = PROJECTS[*p];
                if !self.projects.contains(p) {
                    return Err(ErrorCode::ProjectNotFound);
                }
                if !roles_allow_inventory(&actors[*a], p) {
                    return Err(ErrorCode::Forbidden);
                }
                self.sweep(now);
                self.projects.remove(p);
                self.clusters.retain(|_, c| c.project != p);
            }
            Op::AddCluster(a, p, c, k, s) => {
                let p = PROJECTS[*p];
                if !self.projects.contains(p) {
                    return Err(ErrorCode::ProjectNotFound);
                }
                if !roles_allow_inventory(&actors[*a], p) {
                    return Err(ErrorCode::Forbidden);
                }
                if self.clusters.contains_key(CLUSTERS[*c]) {
                    return Err(ErrorCode::DuplicateCluster);
                }
                self.sweep(now);
                let kind = [
                    ClusterKind::Dedicated,
                    ClusterKind::Flex,
                    ClusterKind::Serverless,
                ][*k];
                self.clusters.insert(
                    CLUSTERS[*c].into(),
                    MCluster {
                        project: p.into(),
                        kind,
                        sync: *s,
                        grant: None,
                    },
                );
            }
            Op::RemoveCluster(a, c) => {
                let cl = self
                    .clusters
                    .get(CLUSTERS[*c])
                    .ok_or(ErrorCode::ClusterNotFound)?;
                if !roles_allow_inventory(&actors[*a], &cl.project) {
                    return Err(ErrorCode::Forbidden);
                }
                self.sweep(now);
                self.clusters.remove(CLUSTERS[*c]);
            }
            Op::Grant(a, c, g, exp) => {
                let cl = self
                    .clusters
                    .get(CLUSTERS[*c])
                    .ok_or(ErrorCode::ClusterNotFound)?;
                if !roles_allow_grants(&actors[*a], &cl.project) {
                    return Err(ErrorCode::Forbidden);
                }
                if cl.kind != ClusterKind::Dedicated {
                    return Err(ErrorCode::UnsupportedClusterKind);
                }
                let gt = GrantType::ALL[*g];
                if gt == GrantType::ClusterInfrastructureAndAppServicesSyncData && !cl.sync {
                    return Err(ErrorCode::SyncNotEnabled);
                }
                let exp = exp.map_or(now + 24 * HOUR, |d| now + d);
                if exp <= now {
                    return Err(ErrorCode::ExpirationNotInFuture);
                }
                if exp - now > max {
                    return Err(ErrorCode::ExpirationTooFar);
                }
                self.sweep(now);
                let cl = self.clusters.get_mut(CLUSTERS[*c]).unwrap();
                cl.grant = Some(MGrant {
                    gt,
                    exp,
                    revoked: false,
                    expiry_recorded: false,
                });
            }
            Op::Revoke(a, c) => {
                let cl = self
                    .clusters
                    .get(CLUSTERS[*c])
                    .ok_or(ErrorCode::ClusterNotFound)?;
                if !roles_allow_grants(&actors[*a], &cl.project) {
                    return Err(ErrorCode::Forbidden);
                }
                if !cl.grant.as_ref().is_some_and(|g| Model::active(g, now)) {
                    return Err(ErrorCode::NoActiveGrant);
                }
                self.sweep(now);
                self.clusters
                    .get_mut(CLUSTERS[*c])
                    .unwrap()
                    .grant
                    .as_mut()
                    .unwrap()
                    .revoked = true;
            }
        }
        self.last = now;
        Ok(())
    }
}

fn run_core(p: &mut Policy, op: &Op, now: i64) -> Result<(), ErrorCode> {
    let actors = actors();
    let t = Timestamp::from_millis(now).unwrap();
    let r = match op {
        Op::SetRestriction(a, r) => p.set_restriction(&actors[*a], *r, t).map(drop),
        Op::AddProject(a, pr) => p.add_project(&actors[*a], PROJECTS[*pr], t).map(drop),
        Op::RemoveProject(a, pr) => p.remove_project(&actors[*a], PROJECTS[*pr], t).map(drop),
        Op::AddCluster(a, pr, c, k, s) => {
            let kind = [
                ClusterKind::Dedicated,
                ClusterKind::Flex,
                ClusterKind::Serverless,
            ][*k];
            p.add_cluster(&actors[*a], PROJECTS[*pr], CLUSTERS[*c], kind, *s, t)
                .map(drop)
        }
        Op::RemoveCluster(a, c) => p.remove_cluster(&actors[*a], CLUSTERS[*c], t).map(drop),
        Op::Grant(a, c, g, exp) => {
            let exp = exp.map(|d| Timestamp::from_millis(now + d).unwrap());
            p.grant(&actors[*a], CLUSTERS[*c], GrantType::ALL[*g], t, exp)
                .map(drop)
        }
        Op::Revoke(a, c) => p.revoke(&actors[*a], CLUSTERS[*c], t).map(drop),
        Op::ExpireDue => p.expire_due(t).map(drop),
    };
    r.map_err(|e| e.code())
}

fn check_agreement(p: &Policy, m: &Model, now: i64) -> Result<(), TestCaseError> {
    for probe in [now - HOUR, now, now + 1, now + 6 * HOUR, now + 25 * HOUR] {
        let t = Timestamp::from_millis(probe).unwrap();
        for name in CLUSTERS {
            for r in Resource::ALL {
                let core = p.evaluate(name, *r, t).ok().map(|d| (d.allowed, d.reason));
                prop_assert_eq!(
                    core,
                    m.evaluate(name, *r, probe),
                    "{} {:?} at {}",
                    name,
                    r,
                    t
                );
                // Nothing is allowed after its expiry or revoke (under restriction or for sync data).
                if let (Some((true, _)), Some(c)) = (core, m.clusters.get(name)) {
                    let grant_needed = m.restrict || *r == Resource::SyncData;
                    if grant_needed {
                        let g = c.grant.as_ref().expect("allowed only with a grant");
                        prop_assert!(!g.revoked && probe < g.exp, "allowed after revoke/expiry");
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn typed_api_agrees_with_the_model(
        restrict in any::<bool>(),
        steps in prop::collection::vec((op(), -10 * 60_000i64..4 * HOUR), 1..24),
        split in 0usize..24,
    ) {
        let mut opts = PolicyOptions::new("org");
        opts.restrict_employee_access = restrict;
        let mut live = Policy::new(opts).unwrap();
        let mut model = Model { restrict, projects: BTreeSet::new(), clusters: BTreeMap::new(), last: 0, expiries: 0 };
        let mut resumed: Option<Policy> = None;
        let mut frozen: Option<Policy> = None;
        let mut now = START;
        for (i, (op, dt)) in steps.iter().enumerate() {
            now = (now + dt).max(0);
            let before = live.export_record();
            let got = run_core(&mut live, op, now);
            let want = model.apply(op, now, 24 * HOUR);
            prop_assert_eq!(got, want, "op {:?} at step {}", op, i);
            if got.is_err() {
                prop_assert_eq!(live.export_record(), before, "a failed op changed the record");
            }
            if let Some(r) = resumed.as_mut() {
                prop_assert_eq!(run_core(r, op, now), got);
            }
            check_agreement(&live, &model, now)?;
            let expired = live.record().lines().filter(|l| l.contains(r#""type":"EMPLOYEE_ACCESS_EXPIRED""#)).count();
            prop_assert_eq!(expired, model.expiries, "expiries recorded after step {}", i);
            let replayed = Policy::replay(&live.export_record());
            prop_assert!(replayed.is_ok(), "own record refused: {:?}", replayed.err());
            prop_assert!(replayed.unwrap() == live, "replay differs from the live policy");
            if i == split {
                resumed = Some(Policy::replay(&live.export_record()).unwrap());
                frozen = Some(live.clone());
            }
        }
        if let Some(r) = resumed {
            prop_assert_eq!(r.export_record(), live.export_record(), "replay-then-continue differs");
        }
        // A copy left behind at the split catches up by verifying only the lines written since
        // (what a long-running writer of a shared file does).
        if let Some(f) = frozen {
            let mut r = Replayer::resume(f.clone());
            for line in live.record().lines().skip(f.record().len()) {
                let fed = r.feed(line);
                prop_assert!(fed.is_ok(), "resume refused {}: {:?}", line, fed.err());
            }
            prop_assert!(r.finish().unwrap() == live, "catch-up differs from the live policy");
        }
    }

    /// What a store-backed writer does when another writer won the race for the head: it
    /// forgets the lines it applied since its savepoint, and must be exactly where it was.
    #[test]
    fn rollback_returns_to_the_savepoint(
        before in prop::collection::vec((op(), 0i64..4 * HOUR), 0..12),
        after in prop::collection::vec((op(), 0i64..4 * HOUR), 0..12),
        then in prop::collection::vec((op(), 0i64..4 * HOUR), 0..6),
        journaled in any::<bool>(),
        inner in prop::option::of((0usize..12, any::<bool>())),
    ) {
        let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
        let mut now = START;
        for (op, dt) in &before {
            now += dt;
            let _ = run_core(&mut p, op, now);
        }
        let at_savepoint = p.clone();
        // A copy of the state, or a journal of the changes (what a store's writer takes).
        let sp = if journaled { p.journaled_savepoint() } else { p.savepoint() };
        prop_assert_eq!(sp.events(), p.record().len());
        let mut later = now;
        // A journaled savepoint nested inside, taken after `inner.0` of the later operations
        // and ended (rolled back, or released) before the outer one.
        let mut nested = None;
        for (i, (op, dt)) in after.iter().enumerate() {
            if inner.is_some_and(|(k, _)| k == i) {
                nested = Some((p.clone(), p.journaled_savepoint()));
            }
            later += dt;
            let _ = run_core(&mut p, op, later);
        }
        if let (Some((at_inner, isp)), Some((_, roll))) = (nested, inner) {
            if roll {
                p.rollback(isp).unwrap();
                prop_assert!(p == at_inner, "an inner rollback differs from its savepoint");
            } else {
                p.release(isp);
            }
        }
        p.rollback(sp).unwrap();
        prop_assert!(p == at_savepoint, "rollback differs from the policy at the savepoint");
        prop_assert_eq!(p.record().last_hash(), at_savepoint.record().last_hash());
        prop_assert!(Policy::replay(&p.export_record()).unwrap() == p);
        // Continuing after a rollback writes what continuing from the savepoint writes.
        let mut copy = at_savepoint;
        for (op, dt) in &then {
            now += dt;
            prop_assert_eq!(run_core(&mut p, op, now), run_core(&mut copy, op, now));
        }
        prop_assert_eq!(p.export_record(), copy.export_record());
    }

    /// `Policy::catch_up` is all or nothing: honest lines bring a copy left behind to the live
    /// policy; a changed line is refused with its seq and leaves the copy exactly as it was.
    #[test]
    fn catch_up_is_all_or_nothing(
        before in prop::collection::vec((op(), 0i64..4 * HOUR), 0..10),
        after in prop::collection::vec((op(), 0i64..4 * HOUR), 0..12),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut live = Policy::new(PolicyOptions::new("org")).unwrap();
        let mut now = START;
        for (op, dt) in &before {
            now += dt;
            let _ = run_core(&mut live, op, now);
        }
        let behind = live.clone();
        // At least one new line, whatever the random steps do.
        let owner = Actor::org_owner("owner").unwrap();
        live.add_project(&owner, "extra", Timestamp::from_millis(now).unwrap()).unwrap();
        for (op, dt) in &after {
            now += dt;
            let _ = run_core(&mut live, op, now);
        }
        let new: Vec<&str> = live.record().lines().skip(behind.record().len()).collect();
        let mut copy = behind.clone();
        // Tamper one new line: change its hash's last hex digit.
        let bad = pick.index(new.len());
        let mut lines: Vec<String> = new.iter().map(|l| String::from(*l)).collect();
        let at = lines[bad].len() - 3;
        let flipped = if &lines[bad][at..at + 1] == "0" { "1" } else { "0" };
        lines[bad].replace_range(at..at + 1, flipped);
        let err = copy.catch_up(lines.iter().map(String::as_str)).unwrap_err();
        prop_assert_eq!(err.code(), ErrorCode::RecordTampered);
        prop_assert_eq!(err.seq(), Some((behind.record().len() + bad + 1) as u64));
        prop_assert!(copy == behind, "a refused catch-up changed the policy");
        prop_assert_eq!(copy.catch_up(new.iter().copied()).unwrap(), new.len());
        prop_assert!(copy == live, "catch-up differs from the live policy");
    }

    #[test]
    fn a_savepoint_of_another_policy_is_refused(n in 0usize..4) {
        let owner = Actor::org_owner("o").unwrap();
        let mut a = Policy::new(PolicyOptions::new("org")).unwrap();
        let b = Policy::new(PolicyOptions::new("other")).unwrap();
        for i in 0..n {
            a.add_project(&owner, &format!("p{i}"), Timestamp::from_millis(START).unwrap()).unwrap();
        }
        let before = a.clone();
        prop_assert_eq!(a.rollback(b.savepoint()).unwrap_err().code(), ErrorCode::MalformedInput);
        let mut longer = a.clone();
        longer.add_project(&owner, "extra", Timestamp::from_millis(START).unwrap()).unwrap();
        prop_assert_eq!(a.rollback(longer.savepoint()).unwrap_err().code(), ErrorCode::MalformedInput);
        prop_assert!(a == before);
    }

    #[test]
    fn any_single_byte_change_is_detected(
        steps in prop::collection::vec((op(), 0i64..4 * HOUR), 1..16),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
        let mut now = START;
        for (op, dt) in &steps {
            now += dt;
            let _ = run_core(&mut p, op, now);
        }
        let mut bytes = p.export_record().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        match String::from_utf8(bytes) {
            Err(_) => {} // not text: every front end refuses it before verify
            Ok(text) => {
                let r = support_access_core::verify(&text);
                prop_assert!(r.is_err(), "flipped byte {} accepted", i);
                prop_assert_eq!(r.unwrap_err().code(), ErrorCode::RecordTampered);
            }
        }
    }
}
