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
//! about 30 KiB smaller (see docs/bench-wasm.md).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

use support_access_core::{apply, error_json, new_policy_json, Policy};
use wasm_bindgen::prelude::*;

/// One organization's policy and its record, held in WebAssembly memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmPolicy {
    inner: Policy,
}

#[wasm_bindgen]
impl WasmPolicy {
    /// Creates a policy from SPEC §7 options JSON (`{"orgId":…}`). Throws the error result
    /// JSON (a string) when the options are bad.
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str) -> Result<WasmPolicy, JsValue> {
        new_policy_json(options_json)
            .map(|inner| WasmPolicy { inner })
            .map_err(|e| JsValue::from_str(&e))
    }

    /// Runs one SPEC §7 command and returns the result JSON (`{"ok":…}` or `{"error":…}`).
    /// Never throws.
    pub fn apply(&mut self, command_json: &str) -> String {
        apply(&mut self.inner, command_json)
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
        .map(|inner| WasmPolicy { inner })
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
    fn apply_and_verify() {
        let mut p = WasmPolicy {
            inner: new_policy_json(r#"{"orgId":"o"}"#).unwrap(),
        };
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
