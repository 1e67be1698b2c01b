//! Arbitrary bytes as Admin API JSON (org settings + cluster descriptions) into loadAtlas:
//! never a panic; a refused load changes nothing; an accepted one still verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_access_core::{apply, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let (settings, clusters) = match &v {
        serde_json::Value::Array(a) if a.len() == 2 => (a[0].clone(), a[1].clone()),
        other => (
            serde_json::json!({"restrictEmployeeAccess": true}),
            other.clone(),
        ),
    };
    let mut p = Policy::from_options_json(r#"{"orgId":"o"}"#).unwrap();
    let before = p.export_record();
    let cmd = serde_json::json!({"op": "loadAtlas", "orgSettings": settings, "clusters": clusters});
    let out = apply(&mut p, &cmd.to_string());
    if out.starts_with("{\"error\"") {
        assert_eq!(p.export_record(), before);
    } else {
        assert!(Policy::replay(&p.export_record()).unwrap() == p);
    }
});
