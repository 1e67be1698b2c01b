//! # libsupport_access: the C ABI of support-access
//!
//! A small, safe C interface to `support-access-core`: the SPEC section 7 JSON command interface
//! (`sa_apply`, byte-identical to the Rust core) and a typed layer for the hot and common paths
//! (evaluate into a caller-provided struct, grant, revoke, set the org restriction, remaining
//! time, export and verify the record). Every rule lives in the core; this crate only converts
//! at the edge.
//!
//! The header `include/support_access.h` is generated from this file by cbindgen; its comments
//! are these `///` docs.
//!
//! ## Conventions (read once)
//! - Every function returns an `sa_status` (`SA_OK` = 0, otherwise the SPEC error code, or one of
//!   the ABI-level `SA_NULL_ARGUMENT` / `SA_PANIC`), except the `*_name`, `sa_version`,
//!   `sa_last_error_message`, `sa_policy_free`, `sa_signing_key_free` and `sa_string_free` helpers.
//! - Every pointer argument is checked: NULL gives `SA_NULL_ARGUMENT`, never a crash.
//! - Strings in are NUL-terminated UTF-8; invalid UTF-8 gives `SA_MALFORMED_INPUT`.
//! - Strings out (`char **out_…`) are owned by the caller and freed with `sa_string_free`.
//!   On failure they are set to NULL (so freeing them unconditionally is always right).
//! - Out-parameters are written only on `SA_OK` unless a function says otherwise.
//! - Times are `int64_t` milliseconds since 1970-01-01T00:00:00Z (UTC).
//! - A failed call leaves the policy exactly as it was (SPEC section 6).
//! - No panic ever crosses the boundary and no input makes the library abort: a Rust panic
//!   becomes `SA_PANIC`, after which the policy involved refuses further use (`SA_PANIC`) and
//!   should be freed.
//! - Threads: functions taking a `const sa_policy *` may run on one policy from several threads
//!   at once; those taking a non-const `sa_policy *` (mutations, `sa_apply`) need exclusive
//!   access. Error messages are per thread.
#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use support_access_core::checkpoint::{verify_checkpoints, Verified};
use support_access_core::ffi;
use support_access_core::vocab::Spec;
use support_access_core::{
    wire, Actor, Checkpoint, ClusterId, ClusterKind, Decision, Error, GrantType, Policy, PublicKey,
    Reason, Resource, Timestamp,
};

// ---------------------------------------------------------------------------------------------
// Enums. Each is a C enum whose values are stable; its `typedef` is `uint32_t` so that a value
// from C that is out of range is still a defined value here (rejected as INVALID_ENUM_VALUE).
// ---------------------------------------------------------------------------------------------

/// Result of every call that can fail. `SA_OK` is 0; codes 1–24 are the SPEC error codes (their
/// `sa_status_name` is the SPEC string); codes from 100 are ABI-level conditions of this library.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sa_status {
    /// Success.
    SA_OK = 0,
    /// `FORBIDDEN`: the actor's roles do not allow the operation.
    SA_FORBIDDEN = 1,
    /// `INVALID_ENUM_VALUE`: a grant type, resource, reason, kind or role outside its set.
    SA_INVALID_ENUM_VALUE = 2,
    /// `INVALID_TIMESTAMP`: a time outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z.
    SA_INVALID_TIMESTAMP = 3,
    /// `INVALID_CLUSTER_NAME`: a name breaking `^[a-zA-Z0-9][a-zA-Z0-9-]*$`, 1–64 chars.
    SA_INVALID_CLUSTER_NAME = 4,
    /// `MALFORMED_INPUT`: bad JSON, missing/extra field, invalid UTF-8, oversized input (> 32 MiB).
    SA_MALFORMED_INPUT = 5,
    /// `UNKNOWN_OP`: a command's `op` is not one of SPEC section 7.
    SA_UNKNOWN_OP = 6,
    /// `PROJECT_NOT_FOUND`.
    SA_PROJECT_NOT_FOUND = 7,
    /// `CLUSTER_NOT_FOUND` (also: a cluster id that never existed or was removed).
    SA_CLUSTER_NOT_FOUND = 8,
    /// `DUPLICATE_PROJECT`.
    SA_DUPLICATE_PROJECT = 9,
    /// `DUPLICATE_CLUSTER`.
    SA_DUPLICATE_CLUSTER = 10,
    /// `UNSUPPORTED_CLUSTER_KIND`: Flex and serverless clusters take no grants.
    SA_UNSUPPORTED_CLUSTER_KIND = 11,
    /// `SYNC_NOT_ENABLED`: a sync-data grant on a cluster without App Services sync.
    SA_SYNC_NOT_ENABLED = 12,
    /// `EXPIRATION_NOT_IN_FUTURE`.
    SA_EXPIRATION_NOT_IN_FUTURE = 13,
    /// `EXPIRATION_TOO_FAR`: beyond the policy's `maxGrantDurationMs`.
    SA_EXPIRATION_TOO_FAR = 14,
    /// `NO_ACTIVE_GRANT`: revoke with nothing to revoke.
    SA_NO_ACTIVE_GRANT = 15,
    /// `CLOCK_WENT_BACKWARDS`: a mutation dated before the last recorded event.
    SA_CLOCK_WENT_BACKWARDS = 16,
    /// `ACCESS_DENIED`.
    SA_ACCESS_DENIED = 17,
    /// `DOWNLOAD_NOT_FOUND`.
    SA_DOWNLOAD_NOT_FOUND = 18,
    /// `RECORD_TAMPERED`: see `sa_verify_record` for the `seq`.
    SA_RECORD_TAMPERED = 19,
    /// `RECORD_TRUNCATED`: the record ends before a signed checkpoint's `seq` (SPEC section 9).
    SA_RECORD_TRUNCATED = 20,
    /// `CHECKPOINT_MISMATCH`: the record's event at a checkpoint's `seq` has another hash, or the
    /// checkpoint is of another organization.
    SA_CHECKPOINT_MISMATCH = 21,
    /// `CHECKPOINTS_DISAGREE`: two checkpoints name different hashes for one `seq`.
    SA_CHECKPOINTS_DISAGREE = 22,
    /// `BAD_SIGNATURE`: a checkpoint's signature does not verify with the key it names.
    SA_BAD_SIGNATURE = 23,
    /// `UNTRUSTED_KEY`: a checkpoint is signed by a key that is not trusted.
    SA_UNTRUSTED_KEY = 24,
    /// ABI-level (not a SPEC code): a required pointer argument was NULL. Nothing was changed.
    SA_NULL_ARGUMENT = 100,
    /// ABI-level (not a SPEC code): the library caught an internal panic (a bug). The policy
    /// involved is poisoned: every later call on it returns `SA_PANIC`; free it.
    SA_PANIC = 101,
}

/// What a grant lets support staff reach (SPEC section 1, Atlas `grantType`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sa_grant_type {
    /// `CLUSTER_INFRASTRUCTURE`: infrastructure and all cluster logs.
    SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE = 0,
    /// `CLUSTER_DATABASE_LOGS`: database logs only (audit logs excluded).
    SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS = 1,
    /// `CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA`: infrastructure, all logs and sync data.
    SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA = 2,
}

/// What support staff ask to reach (SPEC section 1).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sa_resource {
    /// `INFRASTRUCTURE`: the MongoDB and Atlas Search hosts.
    SA_RESOURCE_INFRASTRUCTURE = 0,
    /// `DATABASE_LOGS`.
    SA_RESOURCE_DATABASE_LOGS = 1,
    /// `AUDIT_LOGS`: database audit logs.
    SA_RESOURCE_AUDIT_LOGS = 2,
    /// `SYNC_DATA`: App Services sync data.
    SA_RESOURCE_SYNC_DATA = 3,
    /// `DATABASE_DATA`: the customer's documents (never reachable).
    SA_RESOURCE_DATABASE_DATA = 4,
}

/// Why a decision came out as it did (SPEC section 4), one per rule.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sa_reason {
    /// `CLUSTER_NOT_FOUND` (rule 1; only in batch mode, the typed calls return an error instead).
    SA_REASON_CLUSTER_NOT_FOUND = 0,
    /// `DATABASE_DATA_NEVER_ACCESSIBLE` (rule 2).
    SA_REASON_DATABASE_DATA_NEVER_ACCESSIBLE = 1,
    /// `SYNC_DATA_REQUIRES_GRANT` (rule 3).
    SA_REASON_SYNC_DATA_REQUIRES_GRANT = 2,
    /// `ORG_UNRESTRICTED` (rule 4).
    SA_REASON_ORG_UNRESTRICTED = 3,
    /// `GRANT_ACTIVE` (rules 3 and 5).
    SA_REASON_GRANT_ACTIVE = 4,
    /// `NOT_COVERED_BY_GRANT` (rule 6).
    SA_REASON_NOT_COVERED_BY_GRANT = 5,
    /// `GRANT_EXPIRED` (rule 7).
    SA_REASON_GRANT_EXPIRED = 6,
    /// `GRANT_REVOKED` (rule 7).
    SA_REASON_GRANT_REVOKED = 7,
    /// `NO_GRANT` (rule 7).
    SA_REASON_NO_GRANT = 8,
}

/// The kind of a cluster; only dedicated clusters take grants.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sa_cluster_kind {
    /// `DEDICATED` (the default).
    SA_CLUSTER_KIND_DEDICATED = 0,
    /// `FLEX`: takes no grants.
    SA_CLUSTER_KIND_FLEX = 1,
    /// `SERVERLESS`: takes no grants.
    SA_CLUSTER_KIND_SERVERLESS = 2,
}

// Values cross the boundary as plain integers (cbindgen renames these to the enum's typedef, see
// cbindgen.toml): a C caller may pass any value, and an out-of-range value must be an error, not
// undefined behaviour as it would be for a Rust enum. Each value is the core's own number for it
// (`Spec::index`, for a status `ffi::code_number`), so converting is indexing, with no table here:
// `ffi::spec_at` in, `index()` out (the test `c_enums_follow_the_core` holds the enums to it).
/// An `sa_status` value as read from C.
pub type RawStatus = u32;
// The statuses this file returns itself, as they cross (the SPEC codes are `ffi::code_number`).
const OK: RawStatus = sa_status::SA_OK as RawStatus;
const NULL_ARGUMENT: RawStatus = sa_status::SA_NULL_ARGUMENT as RawStatus;
const PANIC: RawStatus = sa_status::SA_PANIC as RawStatus;
/// An `sa_grant_type` value as read from C.
pub type RawGrantType = u32;
/// An `sa_resource` value as read from C.
pub type RawResource = u32;
/// An `sa_cluster_kind` value as read from C.
pub type RawClusterKind = u32;
/// An `sa_reason` value as read from C.
pub type RawReason = u32;

// ---------------------------------------------------------------------------------------------
// Handles, decisions, errors.
// ---------------------------------------------------------------------------------------------

/// An opaque policy: one organization's support-access state and its record. Create it with
/// `sa_policy_new` or `sa_policy_from_record`, free it with `sa_policy_free`.
#[derive(Debug)]
pub struct sa_policy {
    inner: Policy,
    poisoned: bool,
}

/// The answer to one evaluation, written into caller-provided memory (no allocation).
/// The grant fields describe the cluster's active grant at the time asked about, whatever the
/// verdict, so a UI can show the countdown next to the answer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct sa_decision {
    /// May support reach the resource?
    pub allowed: bool,
    /// Which SPEC rule decided (an `sa_reason` value).
    pub reason: RawReason,
    /// Whether the cluster holds an active grant (then `grant_type` and `expiration_ms` are set).
    pub has_grant: bool,
    /// The active grant's type (an `sa_grant_type` value; 0 when `has_grant` is false).
    pub grant_type: RawGrantType,
    /// The active grant's expiration, epoch ms (0 when `has_grant` is false).
    pub expiration_ms: i64,
    /// Whether `remaining_ms` is set.
    pub has_remaining: bool,
    /// Milliseconds until the active grant expires (0 when `has_remaining` is false).
    pub remaining_ms: i64,
}

impl sa_decision {
    fn from_core(d: &Decision) -> sa_decision {
        sa_decision {
            allowed: d.allowed,
            reason: d.reason.index() as RawReason,
            has_grant: d.grant_type.is_some(),
            grant_type: d.grant_type.map_or(0, |g| g.index() as RawGrantType),
            expiration_ms: d.expiration_time.map_or(0, Timestamp::millis),
            has_remaining: d.remaining_ms.is_some(),
            remaining_ms: d.remaining_ms.unwrap_or(0),
        }
    }
}

/// A failure inside one call.
enum Failure {
    Core(Error),
    Null(&'static str),
    Poisoned,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Core(e)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: &str) {
    // Messages never hold NUL bytes, but a message is not worth a failure if one ever does.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with`: during thread teardown the slot may be gone; then there is no message, but
    // never a panic (this runs outside catch_unwind).
    let _ = LAST_ERROR.try_with(|l| {
        if let Ok(mut slot) = l.try_borrow_mut() {
            *slot = Some(c);
        }
    });
}

fn fail(f: Failure) -> RawStatus {
    match f {
        Failure::Core(e) => {
            set_last_error(&e.to_string());
            ffi::code_number(e.code())
        }
        Failure::Null(arg) => {
            set_last_error(&format!("null argument: `{arg}` must not be NULL"));
            NULL_ARGUMENT
        }
        Failure::Poisoned => {
            set_last_error("this policy is unusable after an internal panic; free it");
            PANIC
        }
    }
}

/// Runs one call's body: no panic escapes, failures become a status and a thread-local message.
fn guard(body: impl FnOnce() -> Result<(), Failure>) -> RawStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => OK,
        Ok(Err(f)) => fail(f),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            // Dropping the payload could itself panic; forget it instead (a leak, on a bug path).
            std::mem::forget(payload);
            set_last_error(&format!("internal panic (a bug in support-access): {what}"));
            PANIC
        }
    }
}

/// A mutating call: a panic in it poisons the policy.
fn guard_mut(
    policy: *mut sa_policy,
    body: impl FnOnce(&mut Policy) -> Result<(), Failure>,
) -> RawStatus {
    // SAFETY: the caller passes a pointer from sa_policy_new (or NULL, checked here) and holds it
    // exclusively for the duration of the call, as documented.
    let Some(p) = (unsafe { policy.as_mut() }) else {
        return fail(Failure::Null("policy"));
    };
    if p.poisoned {
        return fail(Failure::Poisoned);
    }
    let status = guard(|| body(&mut p.inner));
    if status == PANIC {
        p.poisoned = true;
    }
    status
}

/// A read-only call on a policy.
fn guard_ref(
    policy: *const sa_policy,
    body: impl FnOnce(&Policy) -> Result<(), Failure>,
) -> RawStatus {
    // SAFETY: as for guard_mut, shared access.
    let Some(p) = (unsafe { policy.as_ref() }) else {
        return fail(Failure::Null("policy"));
    };
    if p.poisoned {
        return fail(Failure::Poisoned);
    }
    guard(|| body(&p.inner))
}

/// Reads a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string that outlives `'a`.
unsafe fn arg_str<'a>(s: *const c_char, name: &'static str) -> Result<&'a str, Failure> {
    if s.is_null() {
        return Err(Failure::Null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the function's contract.
    let bytes = unsafe { CStr::from_ptr(s) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        ffi::malformed(format!(
            "argument `{name}` is not UTF-8 (invalid byte at {})",
            e.valid_up_to()
        ))
        .into()
    })
}

/// Checks an out-pointer and gives it back as a mutable reference.
///
/// # Safety
/// `p` is NULL or valid for writes of `T` for `'a`.
unsafe fn out<'a, T>(p: *mut T, name: &'static str) -> Result<&'a mut T, Failure> {
    // SAFETY: per the function's contract.
    unsafe { p.as_mut() }.ok_or(Failure::Null(name))
}

fn time(ms: i64) -> Result<Timestamp, Failure> {
    Ok(Timestamp::from_millis(ms)?)
}

fn to_c_string(s: String) -> Result<*mut c_char, Failure> {
    // The library's outputs are JSON (control characters escaped), so they hold no NUL byte.
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| ffi::malformed("output holds a NUL byte").into())
}

/// Sets `*out` to NULL (if `out` is not NULL) so that a caller may always free it.
fn clear_out<T>(p: *mut *mut T) {
    if !p.is_null() {
        // SAFETY: non-NULL out-pointers are valid for writes by the caller's contract.
        unsafe { p.write(ptr::null_mut()) };
    }
}

/// The body of every constructor: `*out` (named `name` in errors) is NULL first, so a caller may
/// always free it, and on `SA_OK` the new handle `make` built, which its `*_free` releases.
fn new_handle<T>(
    out: *mut *mut T,
    name: &'static str,
    make: impl FnOnce() -> Result<T, Failure>,
) -> RawStatus {
    clear_out(out);
    guard(|| {
        // SAFETY: NULL or valid for a write, per the callers' contracts.
        let out = unsafe { self::out(out, name) }?;
        *out = Box::into_raw(Box::new(make()?));
        Ok(())
    })
}

/// The body of every handle's `*_free`: NULL does nothing, and a panic while dropping stays here.
///
/// # Safety
/// `p` is NULL or a handle from `new_handle` not yet freed.
unsafe fn free_handle<T>(p: *mut T) {
    if p.is_null() {
        return;
    }
    // SAFETY: non-NULL handles come from Box::into_raw in new_handle (caller's contract).
    let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(p) })));
}

// ---------------------------------------------------------------------------------------------
// Names and version.
// ---------------------------------------------------------------------------------------------

/// The library version (e.g. `"0.1.0"`): a static string, never freed.
#[no_mangle]
pub extern "C" fn sa_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The NUL-terminated SPEC string at position `v` of a vocabulary (its C enum's value), the
/// core's own (`Spec::c_str`): no table of names is written here. NULL when out of range.
fn name_ptr<T: Spec>(v: u32) -> *const c_char {
    usize::try_from(v)
        .ok()
        .and_then(|i| T::ALL.get(i))
        .map_or(ptr::null(), |s| s.c_str().as_ptr())
}

/// The name of a status: `"OK"`, the SPEC error code string (e.g. `"CLUSTER_NOT_FOUND"`),
/// `"NULL_ARGUMENT"` or `"PANIC"`. A static string (never free it); NULL for a value that is
/// not an `sa_status`.
#[no_mangle]
pub extern "C" fn sa_status_name(status: RawStatus) -> *const c_char {
    match status {
        NULL_ARGUMENT => c"NULL_ARGUMENT".as_ptr(),
        PANIC => c"PANIC".as_ptr(),
        OK => c"OK".as_ptr(),
        v => ffi::code_of_number(v).map_or(ptr::null(), |c| c.c_str().as_ptr()),
    }
}

/// The SPEC string of a grant type (e.g. `"CLUSTER_DATABASE_LOGS"`): static, never freed; NULL
/// for a value that is not an `sa_grant_type`.
#[no_mangle]
pub extern "C" fn sa_grant_type_name(grant_type: RawGrantType) -> *const c_char {
    name_ptr::<GrantType>(grant_type)
}

/// The SPEC string of a resource (e.g. `"DATABASE_LOGS"`): static, never freed; NULL for a value
/// that is not an `sa_resource`.
#[no_mangle]
pub extern "C" fn sa_resource_name(resource: RawResource) -> *const c_char {
    name_ptr::<Resource>(resource)
}

/// The SPEC string of a decision reason (e.g. `"GRANT_ACTIVE"`): static, never freed; NULL for a
/// value that is not an `sa_reason`.
#[no_mangle]
pub extern "C" fn sa_reason_name(reason: RawReason) -> *const c_char {
    name_ptr::<Reason>(reason)
}

/// The SPEC string of a cluster kind (e.g. `"DEDICATED"`): static, never freed; NULL for a value
/// that is not an `sa_cluster_kind`.
#[no_mangle]
pub extern "C" fn sa_cluster_kind_name(kind: RawClusterKind) -> *const c_char {
    name_ptr::<ClusterKind>(kind)
}

// ---------------------------------------------------------------------------------------------
// Errors and strings.
// ---------------------------------------------------------------------------------------------

/// The message of the most recent failed call on this thread (NULL if none failed yet).
///
/// Lifetime: the string belongs to the library and stays valid until the next call into the
/// library on the same thread (other than `sa_last_error_message` itself). Copy it to keep it.
/// Successful calls do not clear it, so read it only right after a call returned non-`SA_OK`.
#[no_mangle]
pub extern "C" fn sa_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|l| {
            l.try_borrow()
                .ok()
                .and_then(|m| m.as_ref().map(|c| c.as_ptr()))
        })
        .ok()
        .flatten()
        .unwrap_or(ptr::null())
}

/// Frees a string the library handed over through a `char **out_…` parameter (`sa_apply`,
/// `sa_export_record`). NULL is allowed and does nothing. Never pass anything else (in particular
/// not the `const char *` of `sa_last_error_message`, `sa_version` or a `*_name` function, which
/// the library keeps), and never free a string twice.
///
/// # Safety
/// `s` is NULL or a pointer returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sa_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: non-NULL pointers come from CString::into_raw in this library (caller's contract).
    let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { CString::from_raw(s) })));
}

// ---------------------------------------------------------------------------------------------
// Policies.
// ---------------------------------------------------------------------------------------------

fn live(inner: Policy) -> sa_policy {
    sa_policy {
        inner,
        poisoned: false,
    }
}

/// Creates a policy from its SPEC section 7 options JSON, e.g.
/// `{"orgId": "org-1", "restrictEmployeeAccess": true, "maxGrantDurationMs": 86400000,
/// "now": 1795860000000}`. `now` (RFC 3339 or epoch ms) is when the policy is created: its
/// `POLICY_CREATED` event's time, before which no mutation is accepted; without it that event
/// is stamped 1970-01-01T00:00:00.000Z. A bad `now` is `SA_INVALID_TIMESTAMP`.
/// On `SA_OK`, `*out_policy` is a new handle to free with `sa_policy_free`; otherwise it is NULL.
///
/// # Safety
/// `options_json` is NULL or NUL-terminated; `out_policy` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_policy_new(
    options_json: *const c_char,
    out_policy: *mut *mut sa_policy,
) -> RawStatus {
    new_handle(out_policy, "out_policy", || {
        // SAFETY: per this function's contract.
        let json = unsafe { arg_str(options_json, "options_json") }?;
        Ok(live(Policy::from_options_json(json)?))
    })
}

/// Rebuilds the exact policy that wrote a JSON Lines record (SPEC section 5 `replay`); a record
/// that does not verify is `SA_RECORD_TAMPERED`. On `SA_OK`, `*out_policy` is a new handle;
/// otherwise it is NULL.
///
/// # Safety
/// `record` is NULL or NUL-terminated; `out_policy` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_policy_from_record(
    record: *const c_char,
    out_policy: *mut *mut sa_policy,
) -> RawStatus {
    new_handle(out_policy, "out_policy", || {
        // SAFETY: per this function's contract.
        let text = unsafe { arg_str(record, "record") }?;
        Ok(live(Policy::replay(text)?))
    })
}

/// Frees a policy. NULL is allowed and does nothing. Never free a policy twice.
///
/// # Safety
/// `policy` is NULL or a handle from `sa_policy_new`/`sa_policy_from_record` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sa_policy_free(policy: *mut sa_policy) {
    // SAFETY: per this function's contract.
    unsafe { free_handle(policy) }
}

// ---------------------------------------------------------------------------------------------
// The JSON command interface.
// ---------------------------------------------------------------------------------------------

/// Runs one SPEC section 7 command (e.g. `{"op":"evaluate",…}`) and gives its result JSON,
/// byte for byte what the Rust core's `apply` returns: `{"ok":…}` or
/// `{"error":{"code":…,"message":…}}`.
///
/// Returns `SA_OK` for an `ok` result, and for an `error` result the status of its code (the
/// message is also in `sa_last_error_message`). Whatever the status, `*out_json` is set to the
/// result, which the caller frees with `sa_string_free`, except on `SA_NULL_ARGUMENT` and
/// `SA_PANIC`, where it is NULL. So: always `sa_string_free(*out_json)` afterwards.
/// A command that is not UTF-8 or longer than 32 MiB is a `MALFORMED_INPUT` result.
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; `command_json` is
/// NULL or NUL-terminated; `out_json` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_apply(
    policy: *mut sa_policy,
    command_json: *const c_char,
    out_json: *mut *mut c_char,
) -> RawStatus {
    clear_out(out_json);
    if command_json.is_null() {
        return apply_into(policy, None, "command_json", out_json);
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    let bytes = unsafe { CStr::from_ptr(command_json) }.to_bytes();
    apply_into(policy, Some(bytes), "command_json", out_json)
}

/// `sa_apply` for a command given as `len` bytes at `command` (no NUL terminator needed; a NUL
/// byte inside is just an invalid JSON character): for callers holding a byte slice (Go, Rust,
/// buffers read from a socket). Same result, status and ownership rules as `sa_apply`.
/// `command` must not be NULL (`SA_NULL_ARGUMENT`), even when `len` is 0.
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; `command` is NULL
/// or valid for reads of `len` bytes; `out_json` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_apply_n(
    policy: *mut sa_policy,
    command: *const u8,
    len: usize,
    out_json: *mut *mut c_char,
) -> RawStatus {
    clear_out(out_json);
    if command.is_null() {
        return apply_into(policy, None, "command", out_json);
    }
    // SAFETY: non-NULL and valid for `len` bytes per this function's contract.
    let bytes = unsafe { std::slice::from_raw_parts(command, len) };
    apply_into(policy, Some(bytes), "command", out_json)
}

/// The body of `sa_apply` / `sa_apply_n`.
fn apply_into(
    policy: *mut sa_policy,
    command: Option<&[u8]>,
    command_arg: &'static str,
    out_json: *mut *mut c_char,
) -> RawStatus {
    let mut error = None;
    let status = guard_mut(policy, |p| {
        // SAFETY: NULL or valid for a write, per the callers' contracts.
        let out = unsafe { out(out_json, "out_json") }?;
        let bytes = command.ok_or(Failure::Null(command_arg))?;
        // The result and, for an error result, its error as data: never read back from JSON.
        let (result, e) = ffi::apply_bytes(p, bytes);
        error = e;
        *out = to_c_string(result)?;
        Ok(())
    });
    match error {
        Some(e) if status == OK => {
            set_last_error(&e.message);
            e.number
        }
        _ => status,
    }
}

// ---------------------------------------------------------------------------------------------
// Typed mutations. The actor is SPEC section 7 actor JSON, exactly as in commands:
// `{"id":"alice","roles":[{"role":"ORG_OWNER"}]}` or
// `{"id":"bob","roles":[{"role":"PROJECT_SUPPORT_ACCESS_MANAGER","projectId":"p1"}]}`.
// ---------------------------------------------------------------------------------------------

/// The body of every typed mutation: the string arguments read in order (`actor_json` first;
/// each NULL- and UTF-8-checked), then the actor parsed, then `op` with the other strings.
/// As for `guard_mut`, the callers' contracts make `policy` and the strings valid.
fn by_actor<const N: usize, R>(
    policy: *mut sa_policy,
    actor_json: *const c_char,
    args: [(*const c_char, &'static str); N],
    op: impl FnOnce(&mut Policy, &Actor, [&str; N]) -> Result<R, Failure>,
) -> RawStatus {
    guard_mut(policy, |p| {
        // SAFETY: NULL or NUL-terminated, per the callers' contracts.
        let actor_text = unsafe { arg_str(actor_json, "actor_json") }?;
        let mut text = [""; N];
        for (t, (s, name)) in text.iter_mut().zip(args) {
            // SAFETY: as above.
            *t = unsafe { arg_str(s, name) }?;
        }
        op(p, &wire::parse_actor_json(actor_text)?, text).map(drop)
    })
}

/// Sets the organization's `restrictEmployeeAccess` (`ORG_OWNER` only; recorded even when
/// unchanged). `restrict_employee_access` true blocks support unless a cluster grants access.
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; `actor_json` is
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sa_set_restriction(
    policy: *mut sa_policy,
    actor_json: *const c_char,
    restrict_employee_access: bool,
    now_ms: i64,
) -> RawStatus {
    by_actor(policy, actor_json, [], |p, actor, []| {
        Ok(p.set_restriction(actor, restrict_employee_access, time(now_ms)?)?)
    })
}

/// Adds a project (`ORG_OWNER`, or `PROJECT_OWNER` of that project).
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; the strings are
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sa_add_project(
    policy: *mut sa_policy,
    actor_json: *const c_char,
    project_id: *const c_char,
    now_ms: i64,
) -> RawStatus {
    let args = [(project_id, "project_id")];
    by_actor(policy, actor_json, args, |p, actor, [project]| {
        Ok(p.add_project(actor, project, time(now_ms)?)?)
    })
}

/// Adds a cluster to a project (`ORG_OWNER`, or `PROJECT_OWNER` of that project). `kind` is an
/// `sa_cluster_kind` value; `app_services_sync_enabled` allows sync-data grants.
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; the strings are
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sa_add_cluster(
    policy: *mut sa_policy,
    actor_json: *const c_char,
    project_id: *const c_char,
    name: *const c_char,
    kind: RawClusterKind,
    app_services_sync_enabled: bool,
    now_ms: i64,
) -> RawStatus {
    let args = [(project_id, "project_id"), (name, "name")];
    by_actor(policy, actor_json, args, |p, actor, [project, name]| {
        let kind = ffi::spec_at(kind)?;
        let sync = app_services_sync_enabled;
        Ok(p.add_cluster(actor, project, name, kind, sync, time(now_ms)?)?)
    })
}

/// Grants (or re-grants, replacing the active grant: how access is extended) support access to a
/// cluster. The expiration is `expiration_ms` when `has_expiration` is true, else now + 24 h; it
/// must be after `now_ms` and within the policy's `maxGrantDurationMs`. On `SA_OK`, if
/// `out_expiration_ms` is not NULL it receives the grant's expiration (NULL is allowed here:
/// it is the only optional pointer of the library).
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; the strings are
/// NULL or NUL-terminated; `out_expiration_ms` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_grant(
    policy: *mut sa_policy,
    actor_json: *const c_char,
    cluster: *const c_char,
    grant_type: RawGrantType,
    now_ms: i64,
    has_expiration: bool,
    expiration_ms: i64,
    out_expiration_ms: *mut i64,
) -> RawStatus {
    let args = [(cluster, "cluster")];
    by_actor(policy, actor_json, args, |p, actor, [cluster]| {
        let grant_type = ffi::spec_at(grant_type)?;
        let now = time(now_ms)?;
        let expiration = has_expiration.then(|| time(expiration_ms)).transpose()?;
        let event = p.grant(actor, cluster, grant_type, now, expiration)?;
        if let support_access_core::EventKind::EmployeeAccessGranted {
            expiration_time, ..
        } = event.kind
        {
            // SAFETY: NULL or valid for a write, per this function's contract.
            if let Some(out) = unsafe { out_expiration_ms.as_mut() } {
                *out = expiration_time.millis();
            }
        }
        Ok(())
    })
}

/// Revokes the cluster's active grant at `now_ms` (`SA_NO_ACTIVE_GRANT` if there is none).
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; the strings are
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sa_revoke(
    policy: *mut sa_policy,
    actor_json: *const c_char,
    cluster: *const c_char,
    now_ms: i64,
) -> RawStatus {
    let args = [(cluster, "cluster")];
    by_actor(policy, actor_json, args, |p, actor, [cluster]| {
        Ok(p.revoke(actor, cluster, time(now_ms)?)?)
    })
}

/// Records `EMPLOYEE_ACCESS_EXPIRED` for every grant that ran out by `now_ms`; `*out_count`
/// receives how many.
///
/// # Safety
/// `policy` is NULL or a live handle used by no other thread during the call; `out_count` is
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_expire_due(
    policy: *mut sa_policy,
    now_ms: i64,
    out_count: *mut usize,
) -> RawStatus {
    guard_mut(policy, |p| {
        // SAFETY: per this function's contract.
        let out = unsafe { out(out_count, "out_count") }?;
        let events = p.expire_due(time(now_ms)?)?;
        *out = events.len();
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the hot path. No allocation on success.
// ---------------------------------------------------------------------------------------------

/// Resolves a cluster name to the id `sa_evaluate_id` takes (stable while the cluster exists; a
/// removed cluster's id never comes back). `SA_CLUSTER_NOT_FOUND` for an unknown name,
/// `SA_INVALID_CLUSTER_NAME` for a name that could never exist.
///
/// # Safety
/// `policy` is NULL or a live handle; `name` is NULL or NUL-terminated; `out_id` is NULL or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_cluster_id(
    policy: *const sa_policy,
    name: *const c_char,
    out_id: *mut u32,
) -> RawStatus {
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let (out, name) = unsafe { (out(out_id, "out_id")?, arg_str(name, "name")?) };
        // The core's own error for an unknown name: INVALID_CLUSTER_NAME or CLUSTER_NOT_FOUND.
        *out = ffi::require_id(p, name)?.0;
        Ok(())
    })
}

/// SPEC section 4 for a cluster by id (from `sa_cluster_id`): may support reach `resource`
/// at `now_ms`? Fills `*out_decision`. Never mutates the policy; safe to call from several
/// threads at once.
///
/// # Safety
/// `policy` is NULL or a live handle; `out_decision` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_evaluate_id(
    policy: *const sa_policy,
    cluster_id: u32,
    resource: RawResource,
    now_ms: i64,
    out_decision: *mut sa_decision,
) -> RawStatus {
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let out = unsafe { out(out_decision, "out_decision") }?;
        let d = p.evaluate_id(
            ClusterId(cluster_id),
            ffi::spec_at(resource)?,
            time(now_ms)?,
        )?;
        *out = sa_decision::from_core(&d);
        Ok(())
    })
}

/// SPEC section 4 for a cluster by name. Fills `*out_decision`. Unknown cluster:
/// `SA_CLUSTER_NOT_FOUND`. Never mutates the policy; safe to call from several threads at once.
///
/// # Safety
/// `policy` is NULL or a live handle; `cluster` is NULL or NUL-terminated; `out_decision` is
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_evaluate(
    policy: *const sa_policy,
    cluster: *const c_char,
    resource: RawResource,
    now_ms: i64,
    out_decision: *mut sa_decision,
) -> RawStatus {
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let (out, cluster) = unsafe {
            (
                out(out_decision, "out_decision")?,
                arg_str(cluster, "cluster")?,
            )
        };
        let d = p.evaluate(cluster, ffi::spec_at(resource)?, time(now_ms)?)?;
        *out = sa_decision::from_core(&d);
        Ok(())
    })
}

/// Time left on the cluster's active grant at `now_ms` (the UI's countdown):
/// `*out_has_remaining` says whether there is an active grant, `*out_remaining_ms` how many
/// milliseconds it has left (0 without one).
///
/// # Safety
/// `policy` is NULL or a live handle; `cluster` is NULL or NUL-terminated; the out-pointers are
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_remaining(
    policy: *const sa_policy,
    cluster: *const c_char,
    now_ms: i64,
    out_has_remaining: *mut bool,
    out_remaining_ms: *mut i64,
) -> RawStatus {
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let (has, ms, cluster) = unsafe {
            (
                out(out_has_remaining, "out_has_remaining")?,
                out(out_remaining_ms, "out_remaining_ms")?,
                arg_str(cluster, "cluster")?,
            )
        };
        let r = p.remaining(cluster, time(now_ms)?)?;
        *has = r.is_some();
        *ms = r.unwrap_or(0);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// The record.
// ---------------------------------------------------------------------------------------------

/// The policy's record as JSON Lines (one event per line, each ending in `\n`). On `SA_OK`,
/// `*out_record` is a new string to free with `sa_string_free`; otherwise it is NULL.
///
/// # Safety
/// `policy` is NULL or a live handle; `out_record` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_export_record(
    policy: *const sa_policy,
    out_record: *mut *mut c_char,
) -> RawStatus {
    clear_out(out_record);
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let out = unsafe { out(out_record, "out_record") }?;
        *out = to_c_string(p.export_record())?;
        Ok(())
    })
}

/// Verifies a JSON Lines record (SPEC section 5). On `SA_OK`, `*out_events` is its number of
/// events and `*out_tampered_seq` is 0. On `SA_RECORD_TAMPERED`, `*out_tampered_seq` is the
/// `seq` of the first wrong event (one past the end for a missing one) and `*out_events` is 0.
/// On other failures both are 0. The record needs no policy.
///
/// # Safety
/// `record` is NULL or NUL-terminated; the out-pointers are NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_verify_record(
    record: *const c_char,
    out_events: *mut u64,
    out_tampered_seq: *mut u64,
) -> RawStatus {
    guard(|| {
        // SAFETY: per this function's contract.
        let (events, seq) = unsafe {
            (
                out(out_events, "out_events")?,
                out(out_tampered_seq, "out_tampered_seq")?,
            )
        };
        *events = 0;
        *seq = 0;
        // SAFETY: per this function's contract.
        let text = unsafe { arg_str(record, "record") }?;
        match support_access_core::verify(text) {
            Ok(n) => {
                *events = n;
                Ok(())
            }
            Err(e) => {
                *seq = e.seq().unwrap_or(0);
                Err(e.into())
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Signed checkpoints (SPEC section 9). Checkpoints and public keys are their text forms; a
// signing key is an opaque handle (its text is a secret, so it is read once and kept inside).
// ---------------------------------------------------------------------------------------------

/// An opaque Ed25519 signing key. Create it with `sa_signing_key_from_seed` or
/// `sa_signing_key_parse`, free it with `sa_signing_key_free` (which wipes it from memory).
/// Immutable: any number of threads may use one key at once.
pub struct sa_signing_key {
    inner: support_access_core::SigningKey,
}

impl std::fmt::Debug for sa_signing_key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// What verifying a record against checkpoints found, written into caller-provided memory.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sa_checkpoints_verified {
    /// How many events the record holds (0 on failure).
    pub events: u64,
    /// The highest `seq` a checkpoint vouches for: events past it are covered by the chain only
    /// (0 on failure).
    pub verified_up_to: u64,
    /// On failure with a checkpoint code (`SA_RECORD_TRUNCATED`, `SA_CHECKPOINT_MISMATCH`,
    /// `SA_CHECKPOINTS_DISAGREE`, `SA_BAD_SIGNATURE`, `SA_UNTRUSTED_KEY`): the refused
    /// checkpoint's `seq`; on `SA_RECORD_TAMPERED`: the first wrong event's. Otherwise 0.
    pub failed_seq: u64,
    /// The hash of the record's last event: 64 lower-case hex digits and a NUL (empty on failure).
    pub last_hash: [c_char; 65],
}

/// Reads a checkpoints text (checkpoints one after another, as the CLI appends them) and
/// `n_trusted_keys` public key texts.
///
/// # Safety
/// As for `sa_verify_checkpoints`.
unsafe fn checkpoint_args(
    checkpoints: *const c_char,
    trusted_keys: *const *const c_char,
    n_trusted_keys: usize,
) -> Result<(Vec<Checkpoint>, Vec<PublicKey>), Failure> {
    // SAFETY: per the caller's contract.
    let text = unsafe { arg_str(checkpoints, "checkpoints") }?;
    let checkpoints = Checkpoint::parse_many(text)?;
    if trusted_keys.is_null() {
        return Err(Failure::Null("trusted_keys"));
    }
    let mut keys = Vec::with_capacity(n_trusted_keys.min(1024));
    for i in 0..n_trusted_keys {
        // SAFETY: `trusted_keys` is valid for reads of `n_trusted_keys` pointers (contract).
        let p = unsafe { *trusted_keys.add(i) };
        // SAFETY: each is NULL (checked) or NUL-terminated (contract).
        let t = unsafe { arg_str(p, "trusted_keys[i]") }?;
        keys.push(PublicKey::parse(t)?);
    }
    Ok((checkpoints, keys))
}

/// Fills `out` from what the core found; on failure records the refused `seq`.
fn write_verified(
    out: &mut sa_checkpoints_verified,
    r: Result<Verified, Error>,
) -> Result<(), Failure> {
    match r {
        Ok(v) => {
            out.events = v.events;
            out.verified_up_to = v.verified_up_to;
            for (o, b) in out.last_hash.iter_mut().zip(v.last_hash.bytes()) {
                *o = b as c_char;
            }
            Ok(())
        }
        Err(e) => {
            out.failed_seq = e.seq().unwrap_or(0);
            Err(e.into())
        }
    }
}

fn cleared(out: &mut sa_checkpoints_verified) -> &mut sa_checkpoints_verified {
    *out = sa_checkpoints_verified {
        events: 0,
        verified_up_to: 0,
        failed_seq: 0,
        last_hash: [0; 65],
    };
    out
}

/// Creates the signing key for exactly 32 seed bytes (`len` must be 32, else
/// `SA_MALFORMED_INPUT`). The library draws no randomness: take the seed from the operating
/// system (e.g. `getrandom(2)`), or a fixed one in tests. On `SA_OK`, `*out_key` is a new handle
/// to free with `sa_signing_key_free`; otherwise it is NULL.
///
/// # Safety
/// `seed` is NULL or valid for reads of `len` bytes; `out_key` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_signing_key_from_seed(
    seed: *const u8,
    len: usize,
    out_key: *mut *mut sa_signing_key,
) -> RawStatus {
    new_handle(out_key, "out_key", || {
        if seed.is_null() {
            return Err(Failure::Null("seed"));
        }
        // SAFETY: `seed` is valid for reads of `len` bytes by contract.
        let seed = unsafe { std::slice::from_raw_parts(seed, len) };
        let inner = support_access_core::SigningKey::from_seed_bytes(seed)?;
        Ok(sa_signing_key { inner })
    })
}

/// Reads a signing key's text (`sa-ed25519-key:` and 64 lower-case hex digits);
/// `SA_MALFORMED_INPUT` otherwise (the message never repeats the text: it is a secret). On
/// `SA_OK`, `*out_key` is a new handle to free with `sa_signing_key_free`; otherwise it is NULL.
///
/// # Safety
/// `text` is NULL or NUL-terminated; `out_key` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_signing_key_parse(
    text: *const c_char,
    out_key: *mut *mut sa_signing_key,
) -> RawStatus {
    new_handle(out_key, "out_key", || {
        // SAFETY: per this function's contract.
        let text = unsafe { arg_str(text, "text") }?;
        let inner = support_access_core::SigningKey::parse(text)?;
        Ok(sa_signing_key { inner })
    })
}

/// Frees (and wipes) a signing key. NULL is allowed and does nothing. Never free a key twice.
///
/// # Safety
/// `key` is NULL or a handle from `sa_signing_key_from_seed`/`sa_signing_key_parse` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sa_signing_key_free(key: *mut sa_signing_key) {
    // SAFETY: per this function's contract.
    unsafe { free_handle(key) }
}

/// A text of a signing key into `*out_text` (named `name` in errors): a new string to free with
/// `sa_string_free` on `SA_OK`, NULL otherwise.
///
/// # Safety
/// `key` is NULL or a live handle; `out_text` is NULL or valid for a write.
unsafe fn key_text(
    key: *const sa_signing_key,
    out_text: *mut *mut c_char,
    name: &'static str,
    text: impl FnOnce(&support_access_core::SigningKey) -> String,
) -> RawStatus {
    clear_out(out_text);
    with_key(key, |k| {
        // SAFETY: per this function's contract.
        let out = unsafe { out(out_text, name) }?;
        *out = to_c_string(text(k))?;
        Ok(())
    })
}

/// Runs `body` on a signing key handle.
fn with_key(
    key: *const sa_signing_key,
    body: impl FnOnce(&support_access_core::SigningKey) -> Result<(), Failure>,
) -> RawStatus {
    // SAFETY: the caller passes NULL (checked here) or a live handle, as documented.
    let Some(k) = (unsafe { key.as_ref() }) else {
        return fail(Failure::Null("key"));
    };
    guard(|| body(&k.inner))
}

/// The signing key's text (a secret: keep it out of logs). On `SA_OK`, `*out_text` is a new
/// string to free with `sa_string_free`; otherwise it is NULL.
///
/// # Safety
/// `key` is NULL or a live handle; `out_text` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_signing_key_text(
    key: *const sa_signing_key,
    out_text: *mut *mut c_char,
) -> RawStatus {
    // SAFETY: per this function's contract.
    unsafe { key_text(key, out_text, "out_text", |k| k.to_text()) }
}

/// The public key that verifies this key's checkpoints, as text (`sa-ed25519-pub:` and 64 hex
/// digits): what verifiers trust. On `SA_OK`, `*out_public_key` is a new string to free with
/// `sa_string_free`; otherwise it is NULL.
///
/// # Safety
/// `key` is NULL or a live handle; `out_public_key` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_signing_key_public_key(
    key: *const sa_signing_key,
    out_public_key: *mut *mut c_char,
) -> RawStatus {
    // SAFETY: per this function's contract.
    unsafe {
        key_text(key, out_public_key, "out_public_key", |k| {
            k.public_key().to_text()
        })
    }
}

/// Reads a public key's text and gives its key id (16 lower-case hex digits, what checkpoints
/// signed with the matching signing key carry). `SA_MALFORMED_INPUT` for anything that is not a
/// public key (small-order keys are refused). On `SA_OK`, `*out_key_id` is a new string to free
/// with `sa_string_free`; otherwise it is NULL.
///
/// # Safety
/// `public_key` is NULL or NUL-terminated; `out_key_id` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_public_key_id(
    public_key: *const c_char,
    out_key_id: *mut *mut c_char,
) -> RawStatus {
    clear_out(out_key_id);
    guard(|| {
        // SAFETY: per this function's contract.
        let (out, text) = unsafe {
            (
                out(out_key_id, "out_key_id")?,
                arg_str(public_key, "public_key")?,
            )
        };
        *out = to_c_string(PublicKey::parse(text)?.key_id().to_hex())?;
        Ok(())
    })
}

/// Whether one checkpoint's signature verifies with a public key (both as text): only the
/// signature; `sa_policy_verify_checkpoints` also checks trust and the record. A text that is
/// not a checkpoint or not a public key is `SA_MALFORMED_INPUT`; a signature that does not
/// verify is `SA_OK` with `*out_valid` false.
///
/// # Safety
/// `checkpoint` and `public_key` are NULL or NUL-terminated; `out_valid` is NULL or valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn sa_checkpoint_verify_signature(
    checkpoint: *const c_char,
    public_key: *const c_char,
    out_valid: *mut bool,
) -> RawStatus {
    guard(|| {
        // SAFETY: per this function's contract.
        let (out, c, k) = unsafe {
            (
                out(out_valid, "out_valid")?,
                arg_str(checkpoint, "checkpoint")?,
                arg_str(public_key, "public_key")?,
            )
        };
        let c = Checkpoint::parse(c)?;
        let k = PublicKey::parse(k)?;
        *out = c.verify_signature(&k);
        Ok(())
    })
}

/// Signs a checkpoint of the policy's current head, dated `now_ms` (SPEC section 9); records
/// nothing. `now_ms` before the last recorded event is `SA_CLOCK_WENT_BACKWARDS`. On `SA_OK`,
/// `*out_checkpoint` is the checkpoint's text (seven lines, each ending with `\n`; append it to a
/// checkpoints file as is), a new string to free with `sa_string_free`; otherwise it is NULL.
///
/// # Safety
/// `policy` and `key` are NULL or live handles; `out_checkpoint` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_policy_checkpoint(
    policy: *const sa_policy,
    key: *const sa_signing_key,
    now_ms: i64,
    out_checkpoint: *mut *mut c_char,
) -> RawStatus {
    clear_out(out_checkpoint);
    // SAFETY: NULL or a live handle (contract).
    let Some(key) = (unsafe { key.as_ref() }) else {
        return fail(Failure::Null("key"));
    };
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let out = unsafe { out(out_checkpoint, "out_checkpoint") }?;
        let c = p.checkpoint(time(now_ms)?, &key.inner)?;
        *out = to_c_string(c.to_text())?;
        Ok(())
    })
}

/// Checks the policy's record against checkpoints signed by trusted keys (SPEC section 9):
/// `checkpoints` is a checkpoints text (one or more checkpoints one after another, as
/// `sa_policy_checkpoint` writes them; none is `SA_MALFORMED_INPUT`), `trusted_keys` an array
/// of `n_trusted_keys` public key texts. Fails with `SA_UNTRUSTED_KEY`, `SA_BAD_SIGNATURE`,
/// `SA_CHECKPOINT_MISMATCH`, `SA_RECORD_TRUNCATED` or `SA_CHECKPOINTS_DISAGREE`, the refused
/// checkpoint's `seq` in `out->failed_seq`. `*out` is always written (zeroed, then filled).
///
/// # Safety
/// `policy` is NULL or a live handle; `checkpoints` is NULL or NUL-terminated; `trusted_keys`
/// is NULL or valid for reads of `n_trusted_keys` pointers, each NULL or NUL-terminated; `out`
/// is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sa_policy_verify_checkpoints(
    policy: *const sa_policy,
    checkpoints: *const c_char,
    trusted_keys: *const *const c_char,
    n_trusted_keys: usize,
    out: *mut sa_checkpoints_verified,
) -> RawStatus {
    guard_ref(policy, |p| {
        // SAFETY: per this function's contract.
        let out = cleared(unsafe { self::out(out, "out") }?);
        // SAFETY: per this function's contract.
        let (cs, ks) = unsafe { checkpoint_args(checkpoints, trusted_keys, n_trusted_keys) }?;
        write_verified(out, p.verify_checkpoints(&cs, &ks))
    })
}

/// `sa_policy_verify_checkpoints` for a JSON Lines record without a policy: verifies the record
/// (SPEC section 5, `SA_RECORD_TAMPERED` with the event's `seq` in `out->failed_seq`), then
/// checks it against the checkpoints. `*out` is always written (zeroed, then filled).
///
/// # Safety
/// `record` is NULL or NUL-terminated; the other arguments as for
/// `sa_policy_verify_checkpoints`.
#[no_mangle]
pub unsafe extern "C" fn sa_verify_checkpoints(
    record: *const c_char,
    checkpoints: *const c_char,
    trusted_keys: *const *const c_char,
    n_trusted_keys: usize,
    out: *mut sa_checkpoints_verified,
) -> RawStatus {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = cleared(unsafe { self::out(out, "out") }?);
        // SAFETY: per this function's contract.
        let record = unsafe { arg_str(record, "record") }?;
        // SAFETY: per this function's contract.
        let (cs, ks) = unsafe { checkpoint_args(checkpoints, trusted_keys, n_trusted_keys) }?;
        write_verified(out, verify_checkpoints(record, &cs, &ks))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use support_access_core::ErrorCode;

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let s = guard(|| panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(s, PANIC);
        // SAFETY: the message is a live NUL-terminated string until the next call.
        let msg = unsafe { CStr::from_ptr(sa_last_error_message()) }
            .to_str()
            .unwrap()
            .to_string();
        assert!(msg.contains("boom"), "{msg}");
    }

    #[test]
    fn statuses_mirror_every_spec_code() {
        for code in ErrorCode::ALL {
            let s = ffi::code_number(*code);
            // SAFETY: static strings.
            let name = unsafe { CStr::from_ptr(sa_status_name(s)) }
                .to_str()
                .unwrap();
            assert_eq!(name, code.as_str());
        }
        assert!(sa_status_name(ErrorCode::ALL.len() as u32 + 1).is_null());
    }

    /// The C enums, written out for cbindgen, hold exactly the core's numbers: `c[i]` is
    /// `<prefix><the SPEC string of T::ALL[i]>` and `value` (which reads a C value as the core's
    /// index) gives `i`, one C value per core value. A reordered, added or renamed core value
    /// fails here, as does a C enum edited out of step.
    fn follows<C: std::fmt::Debug + Copy, T: Spec>(c: &[C], value: fn(C) -> u32, prefix: &str) {
        assert_eq!(c.len(), T::ALL.len(), "{prefix}");
        for (c, t) in c.iter().zip(T::ALL) {
            assert_eq!(format!("{c:?}"), format!("{prefix}{}", t.as_str()));
            assert_eq!(value(*c) as usize, t.index(), "{c:?}");
            // SAFETY: static strings.
            let name = unsafe { CStr::from_ptr(name_ptr::<T>(value(*c))) };
            assert_eq!(name.to_str().unwrap(), t.as_str());
            assert!(ffi::spec_at::<T>(value(*c)).unwrap() == *t);
        }
        assert!(name_ptr::<T>(c.len() as u32).is_null());
        assert!(ffi::spec_at::<T>(c.len() as u32).is_err());
    }

    #[test]
    fn c_enums_follow_the_core() {
        use sa_status::*;
        let spec_statuses = [
            SA_FORBIDDEN,
            SA_INVALID_ENUM_VALUE,
            SA_INVALID_TIMESTAMP,
            SA_INVALID_CLUSTER_NAME,
            SA_MALFORMED_INPUT,
            SA_UNKNOWN_OP,
            SA_PROJECT_NOT_FOUND,
            SA_CLUSTER_NOT_FOUND,
            SA_DUPLICATE_PROJECT,
            SA_DUPLICATE_CLUSTER,
            SA_UNSUPPORTED_CLUSTER_KIND,
            SA_SYNC_NOT_ENABLED,
            SA_EXPIRATION_NOT_IN_FUTURE,
            SA_EXPIRATION_TOO_FAR,
            SA_NO_ACTIVE_GRANT,
            SA_CLOCK_WENT_BACKWARDS,
            SA_ACCESS_DENIED,
            SA_DOWNLOAD_NOT_FOUND,
            SA_RECORD_TAMPERED,
            SA_RECORD_TRUNCATED,
            SA_CHECKPOINT_MISMATCH,
            SA_CHECKPOINTS_DISAGREE,
            SA_BAD_SIGNATURE,
            SA_UNTRUSTED_KEY,
        ];
        // A status is its code's number, `ffi::code_number`: 1 + its index (0 is SA_OK).
        follows::<_, ErrorCode>(&spec_statuses, |c| c as u32 - 1, "SA_");
        assert_eq!(SA_OK as u32, 0);
        use sa_grant_type::*;
        follows::<_, GrantType>(
            &[
                SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE,
                SA_GRANT_TYPE_CLUSTER_DATABASE_LOGS,
                SA_GRANT_TYPE_CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA,
            ],
            |c| c as u32,
            "SA_GRANT_TYPE_",
        );
        use sa_resource::*;
        follows::<_, Resource>(
            &[
                SA_RESOURCE_INFRASTRUCTURE,
                SA_RESOURCE_DATABASE_LOGS,
                SA_RESOURCE_AUDIT_LOGS,
                SA_RESOURCE_SYNC_DATA,
                SA_RESOURCE_DATABASE_DATA,
            ],
            |c| c as u32,
            "SA_RESOURCE_",
        );
        use sa_reason::*;
        follows::<_, Reason>(
            &[
                SA_REASON_CLUSTER_NOT_FOUND,
                SA_REASON_DATABASE_DATA_NEVER_ACCESSIBLE,
                SA_REASON_SYNC_DATA_REQUIRES_GRANT,
                SA_REASON_ORG_UNRESTRICTED,
                SA_REASON_GRANT_ACTIVE,
                SA_REASON_NOT_COVERED_BY_GRANT,
                SA_REASON_GRANT_EXPIRED,
                SA_REASON_GRANT_REVOKED,
                SA_REASON_NO_GRANT,
            ],
            |c| c as u32,
            "SA_REASON_",
        );
        use sa_cluster_kind::*;
        follows::<_, ClusterKind>(
            &[
                SA_CLUSTER_KIND_DEDICATED,
                SA_CLUSTER_KIND_FLEX,
                SA_CLUSTER_KIND_SERVERLESS,
            ],
            |c| c as u32,
            "SA_CLUSTER_KIND_",
        );
    }

    #[test]
    fn a_decision_carries_the_core_numbers() {
        for r in Reason::ALL {
            for g in [None]
                .into_iter()
                .chain(GrantType::ALL.iter().copied().map(Some))
            {
                let d = Decision {
                    allowed: false,
                    reason: *r,
                    grant_type: g,
                    expiration_time: None,
                    remaining_ms: None,
                };
                let c = sa_decision::from_core(&d);
                assert_eq!(c.reason as usize, r.index());
                assert_eq!(c.has_grant, g.is_some());
                assert_eq!(c.grant_type as usize, g.map_or(0, |g| g.index()));
            }
        }
    }

    #[test]
    fn a_poisoned_policy_refuses_use() {
        let mut p = sa_policy {
            inner: Policy::from_options_json(r#"{"orgId":"o"}"#).unwrap(),
            poisoned: false,
        };
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let s = guard_mut(&mut p, |_| panic!("mid-mutation"));
        std::panic::set_hook(prev);
        assert_eq!(s, PANIC);
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: valid pointers.
        let s = unsafe { sa_export_record(&p, &mut out) };
        assert_eq!(s, PANIC);
        assert!(out.is_null());
    }
}
