//! The edge layer: what every front end (C, Python, Node, WebAssembly) needs at its boundary and
//! would otherwise write again, once, in the core's own terms. A binding converts its host's
//! values into these and back; it never re-derives an error code from text, packs a decision by
//! its own rule, keeps its own name tables, evaluates a batch by its own not-found rule, formats
//! a time or decides when a cache of cluster ids goes stale.
//!
//! In the spirit of Cedar's `cedar-policy/src/ffi` (typed call/answer shapes every front end
//! wraps) and regex-capi's error type (an error a foreign caller reads as plain data):
//! - [`ErrorData`]: an [`Error`] as data: its code, the code's number, its message, and the
//!   `seq`/`reason` some codes carry; [`ErrorData::tag`] is the `CODE|detail` form the JS
//!   packages throw natively; [`malformed`] and [`not_found`] are the core's own errors for what
//!   an edge itself finds wrong.
//! - [`pack`] / [`unpack`]: a decision in one `u32`, unpacked with [`REASONS`] and
//!   [`GRANT_TYPES`] (positions are [`Spec::index`]).
//! - [`decide_id`], [`decide_name`], [`evaluate_ids`], [`evaluate_names`]: batch evaluation with
//!   the batch rule (an unknown cluster is the [`Decision::CLUSTER_NOT_FOUND`] deny, not an error).
//! - [`GrantView`]: a decision's active grant with `remainingMs`; [`time_text`] the canonical
//!   text of a time given as epoch ms; [`timestamp_f64`] and [`timestamp_civil`] read a host's
//!   number or calendar fields with the core's own `INVALID_TIMESTAMP` errors.
//! - [`ClusterIds`]: a cache of ids by name that drops itself when the policy's
//!   [`Policy::generation`] moves on, so no binding clears a cache by hand.
//!
//! Everything on the evaluation path here is allocation-free.

use alloc::string::{String, ToString};

use hashbrown::HashMap;

use crate::decision::Decision;
use crate::error::Error;
use crate::model::{GrantType, Resource, Timestamp};
use crate::policy::{ClusterId, Policy};
use crate::time::Rfc3339;
use crate::vocab::{ErrorCode, Reason, Spec};

// ----- errors as data -----

/// An [`Error`] as plain data, for a foreign caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorData {
    /// The SPEC code.
    pub code: ErrorCode,
    /// The code's number: 1 + its position in [`ErrorCode::ALL`] (0 is "no error", C's `SA_OK`).
    pub number: u32,
    /// The message (for people; what `Display` writes).
    pub message: String,
    /// For `RECORD_TAMPERED` and the checkpoint codes: the `seq` the error is about.
    pub seq: Option<u64>,
    /// For `ACCESS_DENIED`: why access was denied.
    pub reason: Option<Reason>,
}

impl From<&Error> for ErrorData {
    fn from(e: &Error) -> ErrorData {
        ErrorData {
            code: e.code(),
            number: code_number(e.code()),
            message: e.to_string(),
            seq: e.seq(),
            reason: e.reason(),
        }
    }
}

impl ErrorData {
    /// The code with its detail, as the JS packages' native halves throw it: `CODE`,
    /// `CODE|seq` or `CODE|REASON`.
    pub fn tag(&self) -> String {
        let mut tag = String::from(self.code.as_str());
        if let Some(seq) = self.seq {
            tag.push('|');
            tag.push_str(&seq.to_string());
        }
        if let Some(reason) = self.reason {
            tag.push('|');
            tag.push_str(reason.as_str());
        }
        tag
    }
}

/// The number of an error code: 1 + its position in [`ErrorCode::ALL`].
#[inline]
pub fn code_number(code: ErrorCode) -> u32 {
    code.index() as u32 + 1
}

/// The code of a number from [`code_number`] (`None` for 0 or out of range).
pub fn code_of_number(number: u32) -> Option<ErrorCode> {
    ErrorCode::ALL
        .get((number as usize).checked_sub(1)?)
        .copied()
}

/// The core's `MALFORMED_INPUT` for what an edge finds wrong itself (an argument of the wrong
/// host type, a freed handle…): the message carries the core's prefix, so no edge types it.
#[cold]
pub fn malformed(detail: impl Into<String>) -> Error {
    Error::malformed(detail)
}

/// The message of [`malformed`] for `detail`, for an edge that must build its host's error
/// without a core error in hand.
#[cold]
pub fn malformed_message(detail: &str) -> String {
    malformed(detail).to_string()
}

/// The core's error for a cluster name that resolves to nothing: `INVALID_CLUSTER_NAME` when it
/// could never exist, `CLUSTER_NOT_FOUND` otherwise; exactly what [`Policy::evaluate`] says.
#[cold]
pub fn not_found(name: &str) -> Error {
    crate::policy::not_found(name)
}

/// The core's error that wins over a failed argument conversion, for an edge that converts a
/// call's arguments one at a time (Python) and so can fail on one read after `cluster`.
///
/// Why: the JSON interface reads `cluster` before `resource`, `grantType`, `kind` and the times
/// (SPEC §7 field order), so two bad arguments name the cluster's `INVALID_CLUSTER_NAME`; an
/// edge that asks here when a later argument fails names the same error without keeping the
/// order itself. `None`: the name is valid and the argument's own error stands. (On success the
/// core's call checks the name itself, so an edge needs this only on the failure path.)
#[cold]
pub fn cluster_error_first(cluster: &str) -> Option<Error> {
    crate::model::check_cluster_name(cluster).err()
}

/// The id of the cluster `name`, or the core's error for it ([`not_found`]).
#[inline]
pub fn require_id(policy: &Policy, name: &str) -> Result<ClusterId, Error> {
    policy.cluster_id(name).ok_or_else(|| not_found(name))
}

/// The SPEC §7 command interface for a front end that reports errors out of band: the result
/// JSON (byte for byte what [`crate::apply_bytes`] answers) and, for an error result, its
/// error as data, so no front end parses its own result back.
pub fn apply_bytes(policy: &mut Policy, command: &[u8]) -> (String, Option<ErrorData>) {
    let (result, error) = crate::command::apply_bytes_checked(policy, command);
    (result, error.as_ref().map(ErrorData::from))
}

// ----- decisions in one integer -----

/// The SPEC strings of a vocabulary, by position in its `ALL`, built at compile time.
macro_rules! spec_texts {
    ($t:ty, $n:literal) => {{
        let mut out = [""; $n];
        let mut i = 0;
        while i < $n {
            out[i] = <$t>::ALL[i].as_str();
            i += 1;
        }
        out
    }};
}

/// The reason strings, by the position [`pack`] writes.
pub const REASONS: [&str; 9] = spec_texts!(Reason, 9);
/// The grant type strings, by the position [`pack`] writes (less one: 0 is "no active grant").
pub const GRANT_TYPES: [&str; 3] = spec_texts!(GrantType, 3);
/// The resource strings, by the position the number-taking calls read.
pub const RESOURCES: [&str; 5] = spec_texts!(Resource, 5);

const _: () = assert!(Reason::ALL.len() == 9 && GrantType::ALL.len() == 3);
const _: () = assert!(Resource::ALL.len() == 5);

/// Packs a decision's verdict into a `u32`: bit 0 `allowed`, bits 1–4 the reason's position in
/// [`REASONS`], bits 5–6 the active grant's type (0 none, else 1 + its position in
/// [`GRANT_TYPES`]). The grant's times travel separately ([`GrantView`]).
#[inline]
pub fn pack(d: &Decision) -> u32 {
    let g = d.grant_type.map_or(0, |g| g.index() as u32 + 1);
    u32::from(d.allowed) | ((d.reason.index() as u32) << 1) | (g << 5)
}

/// The verdict of a [`pack`]ed decision: `(allowed, reason, grant type)`; `None` for a number
/// [`pack`] never writes.
pub fn unpack(code: u32) -> Option<(bool, Reason, Option<GrantType>)> {
    if code >> 7 != 0 {
        return None;
    }
    let reason = *Reason::ALL.get(((code >> 1) & 15) as usize)?;
    let grant = match code >> 5 {
        0 => None,
        g => Some(*GrantType::ALL.get(g as usize - 1)?),
    };
    Some((code & 1 == 1, reason, grant))
}

/// The value at position `index` of any vocabulary's [`Spec::ALL`], or the core's
/// `INVALID_ENUM_VALUE` naming its [`Spec::FIELD`]. The C binding's enums are these positions,
/// so it converts a grant type, resource or cluster kind from C with this one call instead of a
/// `*_from_c` (and its own error) per enum.
#[inline]
pub fn spec_at<T: Spec>(index: u32) -> Result<T, Error> {
    match T::ALL.get(index as usize) {
        Some(v) => Ok(*v),
        None => Err(bad_index(T::FIELD, index)),
    }
}

/// A resource by its position in [`Resource::ALL`] (`INVALID_ENUM_VALUE` otherwise): the
/// index the packed hot paths take.
#[inline]
pub fn resource_at(index: u32) -> Result<Resource, Error> {
    spec_at(index)
}

#[cold]
fn bad_index(field: &'static str, index: u32) -> Error {
    Error::InvalidEnumValue {
        field,
        value: index.to_string(),
    }
}

// ----- batch evaluation, with the batch's not-found rule -----

/// SPEC §4 in batch mode for one request by id: an id without a cluster (never issued, or
/// removed) is the [`Decision::CLUSTER_NOT_FOUND`] deny.
#[inline]
pub fn decide_id(policy: &Policy, id: ClusterId, resource: Resource, now: Timestamp) -> Decision {
    policy
        .evaluate_id(id, resource, now)
        .unwrap_or(Decision::CLUSTER_NOT_FOUND)
}

/// SPEC §4 in batch mode for one request by name: an unknown name, valid or not, is the
/// [`Decision::CLUSTER_NOT_FOUND`] deny.
#[inline]
pub fn decide_name(policy: &Policy, name: &str, resource: Resource, now: Timestamp) -> Decision {
    match policy.cluster_id(name) {
        Some(id) => decide_id(policy, id, resource, now),
        None => Decision::CLUSTER_NOT_FOUND,
    }
}

/// A batch by id: `out(i, decision)` for each request in order. Nothing is allocated.
pub fn evaluate_ids(
    policy: &Policy,
    requests: impl IntoIterator<Item = (ClusterId, Resource, Timestamp)>,
    mut out: impl FnMut(usize, Decision),
) {
    for (i, (id, r, now)) in requests.into_iter().enumerate() {
        out(i, decide_id(policy, id, r, now));
    }
}

/// A batch by name: `out(i, decision)` for each request in order. Nothing is allocated.
pub fn evaluate_names<'a>(
    policy: &Policy,
    requests: impl IntoIterator<Item = (&'a str, Resource, Timestamp)>,
    mut out: impl FnMut(usize, Decision),
) {
    for (i, (name, r, now)) in requests.into_iter().enumerate() {
        out(i, decide_name(policy, name, r, now));
    }
}

// ----- the grant view and times -----

/// A decision's active grant: its type, expiration and the time left (`remainingMs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantView {
    /// The grant's type.
    pub grant_type: GrantType,
    /// When it expires.
    pub expiration: Timestamp,
    /// Milliseconds left at the time asked about.
    pub remaining_ms: i64,
}

impl GrantView {
    /// The active grant of a decision, if it carries one.
    #[inline]
    pub fn of(d: &Decision) -> Option<GrantView> {
        Some(GrantView {
            grant_type: d.grant_type?,
            expiration: d.expiration_time?,
            remaining_ms: d.remaining_ms?,
        })
    }

    /// The expiration as epoch ms, `-1` without an active grant: the number JS edges pass.
    #[inline]
    pub fn expiration_f64(d: &Decision) -> f64 {
        d.expiration_time.map_or(-1.0, |t| t.millis() as f64)
    }

    /// The time left as ms, `-1` without an active grant (an active grant has at least 1 ms).
    #[inline]
    pub fn remaining_f64(d: &Decision) -> f64 {
        d.remaining_ms.map_or(-1.0, |ms| ms as f64)
    }

    /// The expiration's canonical text (`2026-11-29T20:00:00.000Z`).
    pub fn expiration_text(&self) -> Rfc3339 {
        self.expiration.rfc3339()
    }
}

/// Milliseconds left on a grant expiring at `expiration`, asked at `now`: how the core
/// computes `remainingMs` (positive while active).
#[inline]
pub fn remaining_ms(expiration: Timestamp, now: Timestamp) -> i64 {
    expiration.millis() - now.millis()
}

/// The canonical text of a time given as epoch milliseconds (`INVALID_TIMESTAMP` out of range).
pub fn time_text(ms: i64) -> Result<Rfc3339, Error> {
    Timestamp::from_millis(ms).map(Timestamp::rfc3339)
}

/// A host's floating-point epoch milliseconds (JavaScript's numbers), with the core's own
/// `INVALID_TIMESTAMP` errors: a fraction, NaN or an out-of-range number is refused, never
/// rounded.
#[inline]
pub fn timestamp_f64(ms: f64) -> Result<Timestamp, Error> {
    if (0.0..=Timestamp::MAX_MS as f64).contains(&ms) && ms as i64 as f64 == ms {
        return Timestamp::from_millis(ms as i64);
    }
    bad_f64(ms)
}

#[cold]
fn bad_f64(ms: f64) -> Result<Timestamp, Error> {
    use serde_json::Value;
    // A whole number within i64 (NaN fails the comparisons) is read as one; anything else as
    // the float it is, or null (NaN, infinities), so the message names what was given.
    let v = if -9.0e18 < ms && ms < 9.0e18 && ms as i64 as f64 == ms {
        Value::from(ms as i64)
    } else {
        serde_json::Number::from_f64(ms).map_or(Value::Null, Value::Number)
    };
    crate::wire::parse_time(&v)
}

/// Epoch milliseconds given as text because they do not fit an `i64` (a host's big integer):
/// the core's out-of-range `INVALID_TIMESTAMP` naming that text.
#[cold]
pub fn millis_out_of_range(text: &str) -> Error {
    Error::InvalidTimestamp {
        value: crate::error::clip(text),
        detail: "epoch milliseconds must be between 0 and 253402300799999",
    }
}

/// A UTC calendar time (a host's date-time fields; `micros` is truncated to milliseconds, as
/// the SPEC's precision is), with the core's `INVALID_TIMESTAMP` when out of range.
pub fn timestamp_civil(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
) -> Result<Timestamp, Error> {
    let days = crate::time::days_from_civil(year, month, day);
    Timestamp::from_millis(
        days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + micros / 1000,
    )
}

// ----- cluster ids cached by name, invalidated by the core -----

/// The most names a [`ClusterIds`] remembers before it starts over (a bound on memory when
/// callers ask about endless distinct names).
pub const CLUSTER_IDS_CAP: usize = 4096;

/// Cluster ids (or "no such cluster") remembered by name for one policy. Every lookup first
/// compares the policy's [`Policy::generation`] with the one the entries were resolved at and
/// starts over when it moved on: an id or an "unknown" is never used across a change to the
/// clusters, and the binding holding the cache never clears it.
#[derive(Debug, Default, Clone)]
pub struct ClusterIds {
    generation: u64,
    ids: HashMap<String, Option<ClusterId>, foldhash::fast::FixedState>,
}

impl ClusterIds {
    /// An empty cache.
    pub fn new() -> ClusterIds {
        ClusterIds::default()
    }

    /// The id of `name` in `policy` (which must be the policy this cache serves).
    #[inline]
    pub fn get(&mut self, policy: &Policy, name: &str) -> Option<ClusterId> {
        self.sync(policy);
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = policy.cluster_id(name);
        if self.ids.len() >= CLUSTER_IDS_CAP {
            self.ids.clear();
        }
        self.ids.insert(String::from(name), id);
        id
    }

    /// Drops every entry if `policy` changed its clusters since they were resolved.
    #[inline]
    pub fn sync(&mut self, policy: &Policy) {
        if self.generation != policy.generation() {
            self.ids.clear();
            self.generation = policy.generation();
        }
    }

    /// How many names are remembered.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no name is remembered.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::{Actor, PolicyOptions};
    use alloc::vec::Vec;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn policy() -> (Policy, Actor, Timestamp) {
        let mut o = PolicyOptions::new("org");
        o.restrict_employee_access = true;
        let mut p = Policy::new(o).unwrap();
        let a = Actor::org_owner("alice").unwrap();
        let now = t("2026-11-28T12:00:00Z");
        p.add_project(&a, "p1", now).unwrap();
        p.add_cluster(&a, "p1", "A", Default::default(), false, now)
            .unwrap();
        p.add_cluster(&a, "p1", "B", Default::default(), false, now)
            .unwrap();
        p.grant(&a, "A", GrantType::ClusterInfrastructure, now, None)
            .unwrap();
        (p, a, now)
    }

    #[test]
    fn errors_as_data() {
        let e = Error::tampered(7, "bad hash");
        let d = ErrorData::from(&e);
        assert_eq!(d.code, ErrorCode::RecordTampered);
        assert_eq!(d.number, ErrorCode::RecordTampered.index() as u32 + 1);
        assert_eq!(d.message, "record tampered at seq 7: bad hash");
        assert_eq!(d.seq, Some(7));
        assert_eq!(d.tag(), "RECORD_TAMPERED|7");
        let e = Error::AccessDenied {
            reason: Reason::NoGrant,
        };
        assert_eq!(ErrorData::from(&e).tag(), "ACCESS_DENIED|NO_GRANT");
        assert_eq!(
            ErrorData::from(&not_found("Nope")).tag(),
            "CLUSTER_NOT_FOUND"
        );
        assert_eq!(not_found("-bad").code(), ErrorCode::InvalidClusterName);
        assert_eq!(
            malformed_message("not a live policy"),
            "malformed input: not a live policy"
        );
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code_number(*c), i as u32 + 1);
            assert_eq!(code_of_number(code_number(*c)), Some(*c));
        }
        assert_eq!(code_of_number(0), None);
        assert_eq!(code_of_number(ErrorCode::ALL.len() as u32 + 1), None);
    }

    #[test]
    fn packing_round_trips_and_tables_follow_all() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(REASONS[i], r.as_str());
        }
        for (i, g) in GrantType::ALL.iter().enumerate() {
            assert_eq!(GRANT_TYPES[i], g.as_str());
        }
        for (i, r) in Resource::ALL.iter().enumerate() {
            assert_eq!(RESOURCES[i], r.as_str());
            assert_eq!(resource_at(i as u32).unwrap(), *r);
        }
        assert_eq!(
            resource_at(5).unwrap_err().code(),
            ErrorCode::InvalidEnumValue
        );
        for allowed in [false, true] {
            for r in Reason::ALL {
                for g in [None]
                    .into_iter()
                    .chain(GrantType::ALL.iter().copied().map(Some))
                {
                    let d = Decision {
                        allowed,
                        reason: *r,
                        grant_type: g,
                        expiration_time: None,
                        remaining_ms: None,
                    };
                    assert_eq!(unpack(pack(&d)), Some((allowed, *r, g)));
                }
            }
        }
        assert_eq!(unpack(1 << 7), None);
        assert_eq!(unpack(15 << 1), None);
    }

    #[test]
    fn batches_deny_unknown_clusters() {
        let (p, _, now) = policy();
        let a = p.cluster_id("A").unwrap();
        let mut got = Vec::new();
        evaluate_names(
            &p,
            [
                ("A", Resource::Infrastructure, now),
                ("Nope", Resource::Infrastructure, now),
                ("-bad name", Resource::Infrastructure, now),
            ],
            |i, d| got.push((i, d)),
        );
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0].1,
            p.evaluate("A", Resource::Infrastructure, now).unwrap()
        );
        assert_eq!(got[1].1, Decision::CLUSTER_NOT_FOUND);
        assert_eq!(got[2].1, Decision::CLUSTER_NOT_FOUND);
        let mut by_id = Vec::new();
        evaluate_ids(
            &p,
            [
                (a, Resource::DatabaseLogs, now),
                (ClusterId(u32::MAX), Resource::DatabaseLogs, now),
            ],
            |_, d| by_id.push(d),
        );
        assert!(by_id[0].allowed);
        assert_eq!(by_id[1], Decision::CLUSTER_NOT_FOUND);
        assert_eq!(require_id(&p, "A").unwrap(), a);
        assert_eq!(
            require_id(&p, "Nope").unwrap_err(),
            p.evaluate("Nope", Resource::Infrastructure, now)
                .unwrap_err()
        );
    }

    #[test]
    fn grant_view_and_times() {
        let (p, _, now) = policy();
        let d = p.evaluate("A", Resource::Infrastructure, now).unwrap();
        let g = GrantView::of(&d).unwrap();
        assert_eq!(g.grant_type, GrantType::ClusterInfrastructure);
        assert_eq!(g.remaining_ms, 24 * 3600 * 1000);
        assert_eq!(remaining_ms(g.expiration, now), g.remaining_ms);
        assert_eq!(g.expiration_text().as_str(), "2026-11-29T12:00:00.000Z");
        assert_eq!(GrantView::expiration_f64(&d), g.expiration.millis() as f64);
        assert_eq!(GrantView::remaining_f64(&d), g.remaining_ms as f64);
        let none = p.evaluate("B", Resource::Infrastructure, now).unwrap();
        assert_eq!(GrantView::of(&none), None);
        assert_eq!(GrantView::expiration_f64(&none), -1.0);
        assert_eq!(time_text(0).unwrap().as_str(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            time_text(-1).unwrap_err(),
            Timestamp::from_millis(-1).unwrap_err()
        );
        assert_eq!(timestamp_f64(1000.0).unwrap().millis(), 1000);
        for bad in [0.5, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(
                timestamp_f64(bad).unwrap_err().code(),
                ErrorCode::InvalidTimestamp
            );
        }
        assert_eq!(
            timestamp_f64(-1.0).unwrap_err(),
            Timestamp::from_millis(-1).unwrap_err()
        );
        assert_eq!(timestamp_civil(2026, 11, 28, 12, 0, 0, 999).unwrap(), now);
        assert_eq!(
            timestamp_civil(1969, 12, 31, 23, 59, 59, 0)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidTimestamp
        );
        assert_eq!(
            millis_out_of_range("99999999999999999999").to_string(),
            "invalid timestamp `99999999999999999999`: epoch milliseconds must be between 0 and 253402300799999"
        );
    }

    #[test]
    fn cached_ids_follow_the_generation() {
        let (mut p, a, now) = policy();
        let mut ids = ClusterIds::new();
        let b = ids.get(&p, "B").unwrap();
        assert_eq!(ids.get(&p, "C"), None);
        assert_eq!(ids.len(), 2);
        // A grant changes no id: the cache stays.
        let g = p.generation();
        p.grant(&a, "B", GrantType::ClusterDatabaseLogs, now, None)
            .unwrap();
        assert_eq!(p.generation(), g);
        assert_eq!(ids.get(&p, "B"), Some(b));
        assert_eq!(ids.len(), 2);
        // Adding C must make the cached "unknown" go away.
        p.add_cluster(&a, "p1", "C", Default::default(), false, now)
            .unwrap();
        assert!(ids.get(&p, "C").is_some());
        assert_eq!(ids.len(), 1);
        // Removing B and adding it back gives a new id.
        p.remove_cluster(&a, "B", now).unwrap();
        assert_eq!(ids.get(&p, "B"), None);
        p.add_cluster(&a, "p1", "B", Default::default(), false, now)
            .unwrap();
        let b2 = ids.get(&p, "B").unwrap();
        assert_ne!(b, b2);
        // A rollback moves the generation on too, never back.
        let sp = p.savepoint();
        let before = p.generation();
        p.add_cluster(&a, "p1", "D", Default::default(), false, now)
            .unwrap();
        assert!(ids.get(&p, "D").is_some());
        p.rollback(sp).unwrap();
        assert!(p.generation() > before + 1);
        assert_eq!(ids.get(&p, "D"), None);
        // Removing a project removes its clusters.
        p.remove_project(&a, "p1", now).unwrap();
        assert_eq!(ids.get(&p, "A"), None);
        // The JSON replay command replaces the policy: a new generation.
        let record = p.export_record();
        let g = p.generation();
        let cmd = serde_json::json!({"op": "replay", "record": record}).to_string();
        let out = crate::apply(&mut p, &cmd);
        assert!(out.starts_with("{\"ok\""), "{out}");
        assert!(p.generation() > g);
        // An Atlas load adds clusters.
        let g = p.generation();
        p.load_atlas(
            &serde_json::json!({}),
            &serde_json::json!([{"name": "E", "groupId": "p2"}]),
        )
        .unwrap();
        assert!(p.generation() > g);
        assert!(ids.get(&p, "E").is_some());
    }

    #[test]
    fn apply_gives_the_error_as_data() {
        let (mut p, _, _) = policy();
        let (ok, e) = apply_bytes(&mut p, br#"{"op":"describe","now":0}"#);
        assert!(ok.starts_with("{\"ok\""));
        assert_eq!(e, None);
        for cmd in [&b"{\"op\":\"nope\"}"[..], b"\xff", b"[]"] {
            let mut q = p.clone();
            let (text, e) = apply_bytes(&mut p, cmd);
            assert_eq!(text, crate::apply_bytes(&mut q, cmd));
            let e = e.unwrap();
            assert!(text.contains(e.code.as_str()), "{text}");
            assert!(text.contains(&e.message), "{text}");
        }
    }

    #[test]
    fn the_cache_is_bounded() {
        let (p, _, _) = policy();
        let mut ids = ClusterIds::new();
        for i in 0..CLUSTER_IDS_CAP + 10 {
            ids.get(&p, &alloc::format!("n{i}"));
        }
        assert!(ids.len() <= CLUSTER_IDS_CAP);
    }

    #[test]
    fn spec_at_reads_every_vocabulary_by_position() {
        use crate::vocab::ClusterKind;
        for (i, g) in GrantType::ALL.iter().enumerate() {
            assert_eq!(spec_at::<GrantType>(i as u32).unwrap(), *g);
        }
        for (i, k) in ClusterKind::ALL.iter().enumerate() {
            assert_eq!(spec_at::<ClusterKind>(i as u32).unwrap(), *k);
        }
        for (i, r) in Resource::ALL.iter().enumerate() {
            assert_eq!(resource_at(i as u32).unwrap(), *r);
        }
        let n = Resource::ALL.len() as u32;
        assert_eq!(resource_at(n).unwrap_err(), bad_index("resource", n));
        let e = spec_at::<ClusterKind>(3).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidEnumValue);
        assert_eq!(e, bad_index("kind", 3));
        assert_eq!(
            spec_at::<GrantType>(u32::MAX).unwrap_err(),
            bad_index("grantType", u32::MAX)
        );
    }

    #[test]
    fn an_invalid_cluster_name_wins() {
        assert_eq!(cluster_error_first("Cluster0"), None);
        let e = cluster_error_first("bad name").unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidClusterName);
        assert_eq!(Some(e), crate::model::check_cluster_name("bad name").err());
        assert!(cluster_error_first("").is_some());
    }
}
