//! Structure-aware command sequences through `apply`, checking after every step that no allow
//! outlives its expiry or revoke, that a failed command left the exported record identical, and
//! at the end that the record verifies and replays to the same policy.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use support_access_core::{apply, Policy, Reason, Resource, Timestamp};

const CLUSTERS: [&str; 3] = ["c0", "c1", "c2"];
const GRANTS: [&str; 3] = [
    "CLUSTER_INFRASTRUCTURE",
    "CLUSTER_DATABASE_LOGS",
    "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA",
];
const KINDS: [&str; 3] = ["DEDICATED", "FLEX", "SERVERLESS"];
const ROLES: [&str; 4] = [
    "ORG_OWNER",
    "PROJECT_OWNER",
    "PROJECT_SUPPORT_ACCESS_MANAGER",
    "PROJECT_READ_ONLY",
];

#[derive(Debug, Arbitrary)]
enum Op {
    Restrict(bool, u8),
    AddProject(u8, u8),
    RemoveProject(u8, u8),
    AddCluster(u8, u8, u8, bool, u8),
    RemoveCluster(u8, u8),
    Grant(u8, u8, u8, Option<u32>),
    Revoke(u8, u8),
    ExpireDue,
    Download(u8, bool),
    Finish(u8),
}

fn actor(a: u8) -> serde_json::Value {
    let role = ROLES[a as usize % 4];
    if role == "ORG_OWNER" {
        json!({"id": "x", "roles": [{"role": role}]})
    } else {
        json!({"id": "y", "roles": [{"role": role, "projectId": format!("p{}", a / 4 % 2)}]})
    }
}

fuzz_target!(|input: (bool, Vec<(Op, u16)>)| {
    let (restrict, ops) = input;
    let mut p = Policy::from_options_json(
        &json!({"orgId": "o", "restrictEmployeeAccess": restrict}).to_string(),
    )
    .unwrap();
    let mut now: i64 = 1_795_860_000_000;
    for (op, dt) in ops.iter().take(64) {
        now += i64::from(*dt) * 10_000 - 60_000;
        let n = now;
        let cmd = match op {
            Op::Restrict(r, a) => {
                json!({"op": "setRestriction", "actor": actor(*a), "restrictEmployeeAccess": r, "now": n})
            }
            Op::AddProject(a, pr) => {
                json!({"op": "addProject", "actor": actor(*a), "projectId": format!("p{}", pr % 2), "now": n})
            }
            Op::RemoveProject(a, pr) => {
                json!({"op": "removeProject", "actor": actor(*a), "projectId": format!("p{}", pr % 2), "now": n})
            }
            Op::AddCluster(a, pr, c, sync, k) => {
                json!({"op": "addCluster", "actor": actor(*a), "projectId": format!("p{}", pr % 2),
                "name": CLUSTERS[*c as usize % 3], "appServicesSyncEnabled": sync, "kind": KINDS[*k as usize % 3], "now": n})
            }
            Op::RemoveCluster(a, c) => {
                json!({"op": "removeCluster", "actor": actor(*a), "name": CLUSTERS[*c as usize % 3], "now": n})
            }
            Op::Grant(a, c, g, exp) => {
                let mut v = json!({"op": "grant", "actor": actor(*a), "cluster": CLUSTERS[*c as usize % 3], "grantType": GRANTS[*g as usize % 3], "now": n});
                if let Some(e) = exp {
                    v["expirationTime"] = json!(n + i64::from(*e) - 1000);
                }
                v
            }
            Op::Revoke(a, c) => {
                json!({"op": "revoke", "actor": actor(*a), "cluster": CLUSTERS[*c as usize % 3], "now": n})
            }
            Op::ExpireDue => json!({"op": "expireDue", "now": n}),
            Op::Download(c, audit) => {
                json!({"op": "beginLogDownload", "cluster": CLUSTERS[*c as usize % 3],
                "resource": if *audit { "AUDIT_LOGS" } else { "DATABASE_LOGS" }, "now": n})
            }
            Op::Finish(d) => {
                json!({"op": "finishLogDownload", "downloadId": format!("dl-{d}"), "now": n})
            }
        };
        let before = p.export_record();
        let out = apply(&mut p, &cmd.to_string());
        if out.starts_with("{\"error\"") {
            assert_eq!(
                p.export_record(),
                before,
                "failed command changed the record: {cmd}"
            );
        }
        // No allow outlives its grant: every GRANT_ACTIVE allow has an active, unrevoked grant.
        let t = Timestamp::from_millis(now.max(0)).unwrap();
        for name in CLUSTERS {
            let Some(c) = p.cluster(name) else { continue };
            for r in Resource::ALL {
                let d = p.evaluate(name, *r, t).unwrap();
                if d.allowed && d.reason == Reason::GrantActive {
                    let g = c.grant.as_ref().expect("GRANT_ACTIVE without a grant");
                    assert!(
                        g.ended.is_none() && t < g.expiration,
                        "allow outlived its grant"
                    );
                    assert!(g.grant_type.covers(*r));
                }
                if d.allowed && d.reason == Reason::OrgUnrestricted {
                    assert!(!p.restrict_employee_access());
                }
                assert!(!(d.allowed && *r == Resource::DatabaseData));
            }
        }
    }
    let text = p.export_record();
    let again = Policy::replay(&text).expect("own record verifies");
    assert!(again == p);
});
