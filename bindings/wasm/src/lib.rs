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
//! string by the constructor and by [`replay`]; `apply` and [`verify_record`] never throw.
//! Long inputs (records, commands over 64 KiB) come in as UTF-8 bytes the wrapper encoded, and
//! commands over the core's 32 MiB limit never come in at all (see [`command_too_long`]).
//! Checkpoints (SPEC §9): the module reads them ([`parse_checkpoint`], [`parse_public_key`],
//! [`verify_signature`]) and verifies records against them (the `verifyCheckpoints` command, which
//! the wrapper's typed calls use: no second export of the same code), but does not sign: the core is
//! built without its `sign` feature, so the `publicKey` and `checkpoint` commands answer
//! `UNKNOWN_OP` here. Signing is for the native front ends (issue 14); leaving it out keeps the
//! module 8 KB smaller (docs/benchmarks.md).
//!
//! Nothing here panics on any input: the core's `apply` never does, and the other entry points
//! only pass strings through. That is what lets the module be `no_std` on wasm32 with a panic
//! handler that just traps: no panic machinery, no formatting of panic messages, and a module
//! about 30 KiB smaller (see docs/benchmarks.md).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

use support_access_core::command::{
    checkpoint_json, checkpoints_json, public_key_json, record_verified_json, result_json,
};
use support_access_core::ffi::{self, GrantView};
use support_access_core::wire::MAX_COMMAND_LEN;
use support_access_core::{
    apply, apply_bytes, error_json, new_policy_json, Checkpoint, ClusterId, ClusterKind, Error,
    ErrorCode, GrantType, Policy, PublicKey, Reason, Resource, Timestamp,
};
use wasm_bindgen::prelude::*;

/// One organization's policy and its record, held in WebAssembly memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmPolicy {
    inner: Policy,
    /// The active grant of the last [`WasmPolicy::evaluate_id`] decision: its expiration and
    /// `remainingMs` as the core gave them (`-1` each without one).
    last: Cell<[f64; 2]>,
}

impl WasmPolicy {
    fn wrap(inner: Policy) -> WasmPolicy {
        WasmPolicy {
            inner,
            last: Cell::new([-1.0, -1.0]),
        }
    }
}

/// Epoch ms from JS (integral only: NaN, infinities and fractions fail the round trip).
fn time_of(now_ms: f64) -> Option<Timestamp> {
    let ms = now_ms as i64;
    if ms as f64 != now_ms {
        return None;
    }
    Timestamp::from_millis(ms).ok()
}

#[wasm_bindgen]
impl WasmPolicy {
    /// Creates a policy from SPEC §7 options JSON (`{"orgId":…}`) as UTF-8 bytes (the wrapper
    /// encodes it with `TextEncoder`). Throws the error result JSON (a string) when the options
    /// are bad.
    #[wasm_bindgen(constructor)]
    pub fn new(options_utf8: &[u8]) -> Result<WasmPolicy, JsValue> {
        new_policy_json(utf8(options_utf8))
            .map(WasmPolicy::wrap)
            .map_err(|e| JsValue::from_str(&e))
    }

    /// Runs one SPEC §7 command and returns the result JSON (`{"ok":…}` or `{"error":…}`).
    /// Never throws.
    pub fn apply(&mut self, command_json: &str) -> String {
        apply(&mut self.inner, command_json)
    }

    /// [`WasmPolicy::apply`] for a command the wrapper already encoded as UTF-8 (long commands:
    /// `TextEncoder` in one native pass, and exactly their length in linear memory).
    #[wasm_bindgen(js_name = applyBytes)]
    pub fn apply_bytes(&mut self, command_utf8: &[u8]) -> String {
        apply_bytes(&mut self.inner, command_utf8)
    }

    /// The id of a cluster, for [`WasmPolicy::evaluate_id`]; `-1` when there is no such
    /// cluster. The wrapper caches ids by name with the [`WasmPolicy::generation`] they were
    /// resolved at and forgets them when it moves on, so it never holds one across a change
    /// to the clusters (the core says when, not the wrapper).
    #[wasm_bindgen(js_name = clusterId)]
    pub fn cluster_id(&self, name: &str) -> i32 {
        self.inner
            .cluster_id(name)
            .and_then(|id| i32::try_from(id.0).ok())
            .unwrap_or(-1)
    }

    /// The hot path under `Policy#evaluate`: the core's typed evaluate by a cluster id the
    /// wrapper resolved at `generation`, for an epoch-ms time and a resource given by its index
    /// in [`Resource::ALL`]; the decision [`ffi::pack`]ed, its grant's expiration and
    /// `remainingMs` written to [`WasmPolicy::grant_out`]. Only numbers cross the boundary: no
    /// string is copied into linear memory. `-1` when the clusters changed since `generation`
    /// or the call is an error of any kind: the wrapper then resolves the name again, or asks
    /// through `apply`, which names the exact error (so both paths fail identically).
    #[wasm_bindgen(js_name = evaluateId)]
    pub fn evaluate_id(&self, generation: f64, id: u32, resource: u32, now_ms: f64) -> i32 {
        let (Ok(resource), Some(now)) = (ffi::resource_at(resource), time_of(now_ms)) else {
            return -1;
        };
        if self.inner.generation() as f64 != generation {
            return -1;
        }
        match self.inner.evaluate_id(ClusterId(id), resource, now) {
            Ok(d) => {
                self.last
                    .set([GrantView::expiration_f64(&d), GrantView::remaining_f64(&d)]);
                ffi::pack(&d) as i32
            }
            Err(_) => -1,
        }
    }

    /// Where [`WasmPolicy::evaluate_id`] writes the active grant of its decision: the address
    /// in linear memory of two `f64`s, `[expiration ms, remainingMs]` (`-1` each without a
    /// grant). The wrapper reads them through a `Float64Array` view, so a decision with a grant
    /// costs no second call; the address holds for the policy's life (wasm-bindgen boxes it).
    #[wasm_bindgen(js_name = grantOut)]
    pub fn grant_out(&self) -> u32 {
        self.last.as_ptr() as usize as u32
    }

    /// The policy's generation ([`Policy::generation`]): cached cluster ids are good while it
    /// stays the same.
    #[wasm_bindgen(getter)]
    pub fn generation(&self) -> f64 {
        self.inner.generation() as f64
    }

    /// SPEC §4 in batch mode, once across the boundary: request `i` is cluster id `ids[i]`
    /// (`u32::MAX`, or any id without a cluster: the batch's `CLUSTER_NOT_FOUND` deny), resource
    /// index `res[i]`, epoch ms `nows[i]`. Writes each decision [`ffi::pack`]ed to `codes[i]` and
    /// its grant's expiration and `remainingMs` (-1 without one) to `exps[i]`, `rems[i]`.
    /// `false`, with nothing written, when a request is an error of any kind (the wrapper then
    /// sends the batch as a command, which names it).
    #[wasm_bindgen(js_name = evaluateManyIds)]
    pub fn evaluate_many_ids(
        &self,
        ids: &[u32],
        res: &[u8],
        nows: &[f64],
        codes: &mut [i32],
        exps: &mut [f64],
        rems: &mut [f64],
    ) -> bool {
        let n = ids.len();
        if res.len() < n || nows.len() < n || codes.len() < n || exps.len() < n || rems.len() < n {
            return false;
        }
        let request =
            |i: usize| Some((ffi::resource_at(u32::from(res[i])).ok()?, time_of(nows[i])?));
        if !(0..n).all(|i| request(i).is_some()) {
            return false;
        }
        let requests = (0..n).filter_map(|i| request(i).map(|(r, t)| (ClusterId(ids[i]), r, t)));
        ffi::evaluate_ids(&self.inner, requests, |i, d| {
            codes[i] = ffi::pack(&d) as i32;
            exps[i] = GrantView::expiration_f64(&d);
            rems[i] = GrantView::remaining_f64(&d);
        });
        true
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

/// Rebuilds a policy from its record (JSON Lines, as UTF-8 bytes: the wrapper encodes it with
/// `TextEncoder`, so a record takes exactly its length in linear memory). Throws the error
/// result JSON (a string), e.g. `RECORD_TAMPERED` with its `seq`.
#[wasm_bindgen]
pub fn replay(record_utf8: &[u8]) -> Result<WasmPolicy, JsValue> {
    replay_utf8(record_utf8)
        .map(WasmPolicy::wrap)
        .map_err(|e| JsValue::from_str(&e))
}

fn replay_utf8(record: &[u8]) -> Result<Policy, String> {
    replay_core(record).map_err(|e| error_json(&e))
}

fn replay_core(record: &[u8]) -> Result<Policy, Error> {
    support_access_core::replay::replay(utf8(record))
}

/// The text of bytes the wrapper encoded with `TextEncoder` (always UTF-8). Bytes from anywhere
/// else that are not UTF-8 read as U+FFFD, which the core refuses like any other junk
/// (`MALFORMED_INPUT` options, a `RECORD_TAMPERED` record), without a message of our own here.
fn utf8(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("\u{FFFD}")
}

/// Checks a record (UTF-8 bytes, as for [`replay`]) without keeping the policy it rebuilds:
/// the result JSON of the `verifyRecord` command (`{"ok":{"events":…,"lastHash":…}}` or the
/// error), byte for byte. Never throws. Unlike the command, no 32 MiB command limit applies:
/// any record that replays verifies, as in the other bindings.
#[wasm_bindgen(js_name = verifyRecord)]
pub fn verify_record(record_utf8: &[u8]) -> String {
    result_json(replay_core(record_utf8), record_verified_json)
}

// ----- signed checkpoints (SPEC §9): reading and verifying; this package does not sign -----

/// Reads one checkpoint's text (the signature is not checked): `{"ok":{"checkpoint":…,
/// "orgId":…,"seq":…,"hash":…,"at":…,"keyId":…}}` (the `checkpoint` command's fields) or the
/// error result. Never throws.
#[wasm_bindgen(js_name = parseCheckpoint)]
pub fn parse_checkpoint(text: &str) -> String {
    result_json(Checkpoint::parse(text), checkpoint_json)
}

/// Reads a checkpoints file (checkpoints one after another): `{"ok":[…]}` of each one's fields,
/// or the error result. Never throws.
#[wasm_bindgen(js_name = parseCheckpoints)]
pub fn parse_checkpoints(text: &str) -> String {
    result_json(Checkpoint::parse_many(text), |all| checkpoints_json(all))
}

/// Reads a public key's text: `{"ok":{"publicKey":…,"keyId":…}}` (the `publicKey` command's
/// fields) or the error result. Never throws.
#[wasm_bindgen(js_name = parsePublicKey)]
pub fn parse_public_key(text: &str) -> String {
    result_json(PublicKey::parse(text), public_key_json)
}

/// Whether a checkpoint's signature verifies with a public key (both texts): `{"ok":true}`,
/// `{"ok":false}` or the error result for a text that is neither. Never throws.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(checkpoint: &str, public_key: &str) -> String {
    let verified = Checkpoint::parse(checkpoint)
        .and_then(|c| PublicKey::parse(public_key).map(|k| c.verify_signature(&k)));
    result_json(verified, |v| {
        String::from(if *v { "true" } else { "false" })
    })
}

/// The longest command [`WasmPolicy::apply`] reads, in UTF-8 bytes (the core's limit).
#[wasm_bindgen(js_name = maxCommandLen)]
pub fn max_command_len() -> u32 {
    MAX_COMMAND_LEN as u32
}

/// The core's result for any command longer than [`max_command_len`]: the wrapper returns it
/// without copying such a command into linear memory (which never shrinks).
#[wasm_bindgen(js_name = commandTooLong)]
pub fn command_too_long() -> String {
    error_json(&Error::command_too_long())
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

/// The core's `MALFORMED_INPUT` message for `detail` (the wrapper's own argument checks).
#[wasm_bindgen(js_name = malformedMessage)]
pub fn malformed_message(detail: &str) -> String {
    ffi::malformed_message(detail)
}

/// The core's canonical text of a time given as epoch ms (`2026-11-29T20:00:00.000Z`; empty
/// out of range).
#[wasm_bindgen(js_name = timeText)]
pub fn time_text(ms: f64) -> String {
    time_of(ms).map_or_else(String::new, |t| String::from(t.rfc3339().as_str()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluate_id_packs_the_core_decision() {
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
        let id = p.cluster_id("C");
        assert!(id >= 0);
        let id = id as u32;
        let gen = p.generation();
        let packed = p.evaluate_id(gen, id, logs, 1000.0);
        assert_eq!(packed & 1, 1);
        assert_eq!(
            Reason::ALL[((packed >> 1) & 15) as usize],
            Reason::GrantActive
        );
        assert_eq!(
            GrantType::ALL[((packed >> 5) - 1) as usize],
            GrantType::ClusterDatabaseLogs
        );
        assert_eq!(p.last.get(), [86_400_000.0, 86_399_000.0]);
        assert_eq!(
            p.evaluate_id(gen + 1.0, id, logs, 1000.0),
            -1,
            "a stale generation"
        );
        for name in ["X", "bad name", ""] {
            assert_eq!(p.cluster_id(name), -1, "{name}");
        }
        for (i, r, t) in [
            (id + 1, 1, 0.0),
            (u32::MAX, 1, 0.0),
            (id, 5, 0.0),
            (id, 1, 0.5),
            (id, 1, -1.0),
            (id, 1, f64::NAN),
            (id, 1, f64::INFINITY),
            (id, 1, 1e300),
        ] {
            assert_eq!(p.evaluate_id(gen, i, r, t), -1, "{i} {r} {t}");
        }
        assert_eq!(spec_strings().len(), 5);
    }

    #[test]
    fn apply_and_verify() {
        let mut p = WasmPolicy::wrap(new_policy_json(r#"{"orgId":"o"}"#).unwrap());
        let r = p.apply(r#"{"op":"exportRecord"}"#);
        assert!(r.starts_with(r#"{"ok":{"record":"#));
        assert_eq!(p.apply_bytes(br#"{"op":"exportRecord"}"#), r);
        assert!(p.apply_bytes(b"\xff{").contains("not UTF-8"));
        let v = verify_record(p.export_record().as_bytes());
        assert!(v.starts_with(r#"{"ok":{"events":1,"#), "{v}");
        let bad = verify_record(b"{}\n");
        assert!(bad.contains("RECORD_TAMPERED"), "{bad}");
        assert!(verify_record(b"\xc3").contains("RECORD_TAMPERED"));
        assert!(new_policy_json(utf8(b"\xc3")).is_err_and(|e| e.contains("MALFORMED_INPUT")));
    }

    /// `verifyRecord` gives the bytes of the core's command, success or failure.
    #[test]
    fn verify_record_is_the_command_byte_for_byte() {
        let mut p = WasmPolicy::wrap(new_policy_json(r#"{"orgId":"o"}"#).unwrap());
        let owner = r#"{"id":"a","roles":[{"role":"ORG_OWNER"}]}"#;
        let cmd =
            alloc::format!(r#"{{"op":"addProject","actor":{owner},"projectId":"p","now":0}}"#);
        assert!(p.apply(&cmd).starts_with(r#"{"ok""#));
        let record = p.export_record();
        let tampered = record.replacen(r#""p""#, r#""q""#, 1);
        for text in [record.as_str(), tampered.as_str(), "", "x\n", "{}"] {
            let mut escaped = String::new();
            for c in text.chars() {
                match c {
                    '"' => escaped.push_str("\\\""),
                    '\\' => escaped.push_str("\\\\"),
                    '\n' => escaped.push_str("\\n"),
                    c => escaped.push(c),
                }
            }
            let command = alloc::format!(r#"{{"op":"verifyRecord","record":"{escaped}"}}"#);
            assert_eq!(verify_record(text.as_bytes()), p.apply(&command), "{text}");
        }
    }

    /// The result the wrapper gives for over-long commands is the core's own.
    #[test]
    fn command_too_long_is_the_cores_result() {
        let mut p = WasmPolicy::wrap(new_policy_json(r#"{"orgId":"o"}"#).unwrap());
        let long = "x".repeat(max_command_len() as usize + 1);
        assert_eq!(p.apply(&long), command_too_long());
        assert!(command_too_long().contains("MALFORMED_INPUT"));
    }
}
