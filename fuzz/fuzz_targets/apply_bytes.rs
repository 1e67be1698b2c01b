//! Arbitrary bytes into the JSON command interface of a policy with some state: never a panic,
//! always one JSON result, and a failed command leaves the record byte-identical.
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_access_core::{apply, apply_bytes, Policy};

fn seeded() -> Policy {
    let mut p =
        Policy::from_options_json(r#"{"orgId":"org-1","restrictEmployeeAccess":true}"#).unwrap();
    for c in [
        r#"{"op":"addProject","actor":{"id":"a","roles":[{"role":"ORG_OWNER"}]},"projectId":"p1","now":"2026-11-28T10:00:00Z"}"#,
        r#"{"op":"addCluster","actor":{"id":"a","roles":[{"role":"ORG_OWNER"}]},"projectId":"p1","name":"Cluster0","appServicesSyncEnabled":true,"now":"2026-11-28T10:00:00Z"}"#,
        r#"{"op":"grant","actor":{"id":"a","roles":[{"role":"ORG_OWNER"}]},"cluster":"Cluster0","grantType":"CLUSTER_DATABASE_LOGS","now":"2026-11-28T10:00:00Z"}"#,
    ] {
        assert!(apply(&mut p, c).starts_with("{\"ok\""));
    }
    p
}

fuzz_target!(|data: &[u8]| {
    let mut p = seeded();
    let before = p.export_record();
    let out = apply_bytes(&mut p, data);
    let v: serde_json::Value = serde_json::from_str(&out).expect("results are JSON");
    if v.get("error").is_some() {
        assert_eq!(
            p.export_record(),
            before,
            "a failed command changed the record"
        );
    } else {
        assert!(v.get("ok").is_some());
    }
});
