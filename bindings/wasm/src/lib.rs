//! # support-access-wasm
//!
//! The support-access policy core for browsers and bundlers, through `wasm-bindgen`.
//!
//! This crate is deliberately thin: one exported class, [`WasmPolicy`], that owns a core
//! [`Policy`] and speaks the SPEC §7 JSON command interface (`apply`). The idiomatic
//! TypeScript surface (`Policy`, camelCase methods, `Date`/string/ms times, `SupportAccessError`
//! with `.code`) is the hand-written ES module `js/index.js` (+ `js/index.d.ts`), which turns
//! each typed call into one command and each error result into a thrown error. No policy logic
//! lives here or there: every decision is the core's.
//!
//! Errors cross the boundary as the core's error JSON (`{"error":{"code":…}}`), thrown as a JS
//! string by the constructor and by [`replay`]/[`verify_record`]; `apply` never throws.
//! Nothing here panics on any input: the core's `apply` never does, and the other entry points
//! only pass strings through. That is what lets the module be `no_std` on wasm32 with a panic
//! handler that just traps: no panic machinery, no formatting of panic messages, and a module
//! about 30 KiB smaller (see docs/benchmarks.md).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

use support_access_core::{
    apply, error_json, new_policy_json, ClusterKind, Decision, ErrorCode, GrantType, Policy,
    Reason, Resource, Timestamp,
};
use wasm_bindgen::prelude::*;

/// One organization's policy and its record, held in WebAssembly memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmPolicy {
    inner: Policy,
    /// The last decision of [`WasmPolicy::evaluate_fast`], for its grant fields.
    last: Cell<Option<Decision>>,
}

impl WasmPolicy {
    fn wrap(inner: Policy) -> WasmPolicy {
        WasmPolicy {
            inner,
            last: Cell::new(None),
        }
    }
}

/// A decision packed in an `i32`: bit 0 `allowed`, bits 1–4 the reason's index in
/// [`Reason::ALL`], bits 5–6 the grant type's index in [`GrantType::ALL`] plus one (0: none).
fn pack(d: &Decision) -> i32 {
    let reason = Reason::ALL.iter().position(|r| *r == d.reason).unwrap_or(0) as i32;
    let grant = d
        .grant_type
        .and_then(|g| GrantType::ALL.iter().position(|x| *x == g))
        .map_or(0, |i| i as i32 + 1);
    i32::from(d.allowed) | (reason << 1) | (grant << 5)
}

#[wasm_bindgen]
impl WasmPolicy {
    /// Creates a policy from SPEC §7 options JSON (`{"orgId":…}`). Throws the error result
    /// JSON (a string) when the options are bad.
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str) -> Result<WasmPolicy, JsValue> {
        new_policy_json(options_json)
            .map(WasmPolicy::wrap)
            .map_err(|e| JsValue::from_str(&e))
    }

    /// Runs one SPEC §7 command and returns the result JSON (`{"ok":…}` or `{"error":…}`).
    /// Never throws.
    pub fn apply(&mut self, command_json: &str) -> String {
        apply(&mut self.inner, command_json)
    }

    /// The hot path under `Policy#evaluate` for an epoch-ms time and a resource given by its
    /// index in [`Resource::ALL`]: the core's typed `evaluate`, the decision [`pack`]ed, its
    /// grant fields in `lastExpirationMs` / `lastRemainingMs`. `-1` when the call is an error of any kind: the wrapper then asks
    /// again through `apply`, which names the exact error (so both paths fail identically).
    #[wasm_bindgen(js_name = evaluateFast)]
    pub fn evaluate_fast(&self, cluster: &str, resource: u32, now_ms: f64) -> i32 {
        let Some(&resource) = Resource::ALL.get(resource as usize) else {
            return -1;
        };
        // Integral epoch ms only (NaN, infinities and fractions fail the round trip).
        let ms = now_ms as i64;
        if ms as f64 != now_ms {
            return -1;
        }
        let Ok(now) = Timestamp::from_millis(ms) else {
            return -1;
        };
        match self.inner.evaluate(cluster, resource, now) {
            Ok(d) => {
                self.last.set(Some(d));
                pack(&d)
            }
            Err(_) => -1,
        }
    }

    /// `expirationTime` of the last [`WasmPolicy::evaluate_fast`] decision, in epoch ms
    /// (`NaN`: none). Always within 1970–9999, where `Date#toISOString` writes exactly the
    /// core's RFC 3339 form.
    #[wasm_bindgen(getter, js_name = lastExpirationMs)]
    pub fn last_expiration_ms(&self) -> f64 {
        self.last
            .get()
            .and_then(|d| d.expiration_time)
            .map_or(f64::NAN, |t| t.millis() as f64)
    }

    /// `remainingMs` of the last [`WasmPolicy::evaluate_fast`] decision (`NaN`: none).
    #[wasm_bindgen(getter, js_name = lastRemainingMs)]
    pub fn last_remaining_ms(&self) -> f64 {
        self.last
            .get()
            .and_then(|d| d.remaining_ms)
            .map_or(f64::NAN, |ms| ms as f64)
    }

    /// The organization.
    #[wasm_bindgen(getter, js_name = orgId)]
    pub fn org_id(&self) -> String {
        String::from(self.inner.org_id())
    }

    /// Whether support access is blocked (Atlas `restrictEmployeeAccess`).
    #[wasm_bindgen(getter, js_name = restrictEmployeeAccess)]
    pub fn restrict_employee_access(&self) -> bool {
        self.inner.restrict_employee_access()
    }

    /// The longest grant allowed, in ms (`undefined`: no bound).
    #[wasm_bindgen(getter, js_name = maxGrantDurationMs)]
    pub fn max_grant_duration_ms(&self) -> Option<f64> {
        self.inner.max_grant_duration_ms().map(|ms| ms as f64)
    }

    /// The record as JSON Lines (same text as the `exportRecord` command's `record`).
    #[wasm_bindgen(js_name = exportRecord)]
    pub fn export_record(&self) -> String {
        self.inner.export_record()
    }
}

/// Rebuilds a policy from its record (JSON Lines). Throws the error result JSON (a string),
/// e.g. `RECORD_TAMPERED` with its `seq`.
#[wasm_bindgen]
pub fn replay(record: &str) -> Result<WasmPolicy, JsValue> {
    support_access_core::replay::replay(record)
        .map(WasmPolicy::wrap)
        .map_err(|e| JsValue::from_str(&error_json(&e)))
}

/// Checks a record without keeping the policy it rebuilds: the result JSON of the
/// `verifyRecord` command (`{"ok":{"events":…,"lastHash":…}}` or the error). Never throws.
#[wasm_bindgen(js_name = verifyRecord)]
pub fn verify_record(record: &str) -> String {
    // Any valid policy will do to run the command: verifyRecord does not touch it.
    match new_policy_json(r#"{"orgId":"verify"}"#) {
        Ok(mut p) => {
            let mut cmd = String::from(r#"{"op":"verifyRecord","record":"#);
            push_json_string(&mut cmd, record);
            cmd.push('}');
            apply(&mut p, &cmd)
        }
        Err(e) => e,
    }
}

/// The SPEC strings, in the core's order: `[reasons, grantTypes, resources, clusterKinds, errorCodes]`.
#[wasm_bindgen(js_name = specStrings)]
pub fn spec_strings() -> Vec<String> {
    fn join(items: impl Iterator<Item = &'static str>) -> String {
        items.collect::<Vec<_>>().join(",")
    }
    alloc::vec![
        join(Reason::ALL.iter().map(|r| r.as_str())),
        join(GrantType::ALL.iter().map(|g| g.as_str())),
        join(Resource::ALL.iter().map(|r| r.as_str())),
        join(ClusterKind::ALL.iter().map(|k| k.as_str())),
        join(ErrorCode::ALL.iter().map(|c| c.as_str())),
    ]
}

/// The core's version (the crate version of `support-access-core`).
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    String::from(support_access_core::VERSION)
}

#[cfg(target_arch = "wasm32")]
mod wasm32 {
    #[global_allocator]
    static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    /// Never reached from any input (see the crate docs); a bug that did would trap the call
    /// (a `RuntimeError: unreachable` in JavaScript) rather than corrupt state.
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_string_escapes_round_trip() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn evaluate_fast_packs_the_core_decision() {
        let mut p = WasmPolicy::wrap(
            new_policy_json(r#"{"orgId":"o","restrictEmployeeAccess":true}"#).unwrap(),
        );
        let owner = r#"{"id":"a","roles":[{"role":"ORG_OWNER"}]}"#;
        for cmd in [
            alloc::format!(r#"{{"op":"addProject","actor":{owner},"projectId":"p","now":0}}"#),
            alloc::format!(
                r#"{{"op":"addCluster","actor":{owner},"projectId":"p","name":"C","now":0}}"#
            ),
            alloc::format!(
                r#"{{"op":"grant","actor":{owner},"cluster":"C","grantType":"CLUSTER_DATABASE_LOGS","now":0}}"#
            ),
        ] {
            assert!(p.apply(&cmd).starts_with(r#"{"ok""#));
        }
        let logs = Resource::ALL
            .iter()
            .position(|r| *r == Resource::DatabaseLogs)
            .unwrap() as u32;
        let packed = p.evaluate_fast("C", logs, 1000.0);
        assert_eq!(packed & 1, 1);
        assert_eq!(
            Reason::ALL[((packed >> 1) & 15) as usize],
            Reason::GrantActive
        );
        assert_eq!(
            GrantType::ALL[((packed >> 5) - 1) as usize],
            GrantType::ClusterDatabaseLogs
        );
        assert_eq!(p.last_remaining_ms(), 86_399_000.0);
        assert_eq!(p.last_expiration_ms(), 86_400_000.0);
        for (c, r, t) in [
            ("X", 1, 0.0),
            ("C", 5, 0.0),
            ("C", 1, 0.5),
            ("C", 1, -1.0),
            ("C", 1, f64::NAN),
            ("C", 1, f64::INFINITY),
            ("bad name", 3, 0.0),
        ] {
            assert_eq!(p.evaluate_fast(c, r, t), -1, "{c} {r} {t}");
        }
        assert_eq!(spec_strings().len(), 5);
    }

    #[test]
    fn apply_and_verify() {
        let mut p = WasmPolicy::wrap(new_policy_json(r#"{"orgId":"o"}"#).unwrap());
        let r = p.apply(r#"{"op":"exportRecord"}"#);
        assert!(r.starts_with(r#"{"ok":{"record":"#));
        let v = verify_record(&p.export_record());
        assert!(v.starts_with(r#"{"ok":{"events":1,"#), "{v}");
        let bad = verify_record("{}\n");
        assert!(
            bad.contains("RECORD_TAMPERED") || bad.contains("MALFORMED_INPUT"),
            "{bad}"
        );
    }
}
