//! The native half of the npm package `support-access`: a thin Node-API layer over
//! `support-access-core`. It converts types and errors at the edge and calls the core; it holds
//! no policy logic of its own.
//!
//! This layer is internal. The public JavaScript API (`Policy`, `SupportAccessError`, time
//! conversion, plain-object results) is `lib.js` / `lib.mjs`, typed by `types.d.ts`. Conventions
//! here, chosen so the hot path stays cheap:
//! - times arrive as epoch milliseconds (`f64`); the wrapper turns `Date`s into numbers and asks
//!   [`parse_time`] for RFC 3339 strings;
//! - mutations, downloads, `evaluateAt`, `remaining`, `loadAtlas` and `describe` are the
//!   wrapper's SPEC §7 commands through [`NativePolicy::apply`]: the core reads and checks every
//!   field, so this package fails exactly as the browser one does, and this file holds no
//!   second typed surface of them;
//! - `evaluate` and `evaluateMany` return decisions packed by the core (`ffi::pack`) instead of
//!   objects, with the active grant's expiration and `remainingMs` as the core computes them;
//! - errors are thrown with `code` = the core's `ffi::ErrorData::tag` (the SPEC code, followed by
//!   `|seq` or `|reason`); the wrapper turns them into `SupportAccessError`s.
//!
//! Everything an edge might compute (error data, packing, the batch's not-found rule, times,
//! when cached cluster ids go stale) is the core's `ffi` module; this file only converts.

use std::cell::{Cell, RefCell};

use std::ffi::CString;
use std::ptr;

use core_::command;
use core_::ffi::{self, ErrorData, GrantView};
use core_::{
    Checkpoint, ClusterId, ClusterKind, Decision, Error, Policy, PublicKey, Resource, SigningKey,
    Timestamp,
};
use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{
    Env, Float64ArraySlice, FromNapiValue, Int32ArraySlice, Object, Unknown, Utf16String,
};
use napi::sys;
use napi_derive::napi;
use support_access_core as core_;

type Result<T> = std::result::Result<T, napi::Error<String>>;

/// A core error as a thrown JS error: `code` is its tag (`CODE`, `CODE|seq`, `CODE|REASON`).
fn js_err(e: Error) -> napi::Error<String> {
    let d = ErrorData::from(&e);
    napi::Error::new(d.tag(), d.message)
}

fn malformed(detail: &str) -> napi::Error<String> {
    js_err(ffi::malformed(detail))
}

/// Epoch milliseconds from JS, read by the core (`ffi::timestamp_f64`).
fn ts(ms: f64) -> Result<Timestamp> {
    ffi::timestamp_f64(ms).map_err(js_err)
}

fn resource_of(s: &str) -> Result<Resource> {
    Resource::parse(s).map_err(js_err)
}

/// A decision packed by the core (`ffi::pack`; 7 bits, so it fits an `i32`).
fn pack(d: &Decision) -> i32 {
    ffi::pack(d) as i32
}

/// The SPEC strings, each list in the core's order (a packed decision's reason and grant type
/// index into the first two, `evaluate` takes a resource's index in the third):
/// `[reasons, grantTypes, resources, clusterKinds, errorCodes]`.
#[napi(catch_unwind)]
pub fn spec_strings() -> Vec<Vec<&'static str>> {
    vec![
        ffi::REASONS.to_vec(),
        ffi::GRANT_TYPES.to_vec(),
        ffi::RESOURCES.to_vec(),
        ClusterKind::ALL.iter().map(|k| k.as_str()).collect(),
        core_::ErrorCode::ALL.iter().map(|c| c.as_str()).collect(),
    ]
}

/// The core's `MALFORMED_INPUT` message for `detail` (the JS wrapper's own argument checks).
#[napi(catch_unwind)]
pub fn malformed_message(detail: String) -> String {
    ffi::malformed_message(&detail)
}

/// The core's version.
#[napi(catch_unwind)]
pub fn core_version() -> &'static str {
    core_::VERSION
}

/// Parses an RFC 3339 time to epoch milliseconds (`INVALID_TIMESTAMP` otherwise).
#[napi(catch_unwind)]
pub fn parse_time(text: String) -> Result<f64> {
    Timestamp::parse_rfc3339(&text)
        .map(|t| t.millis() as f64)
        .map_err(js_err)
}

/// Formats epoch milliseconds as the core writes times (`2026-11-29T20:00:00.000Z`).
#[napi(catch_unwind)]
pub fn format_time(ms: f64) -> Result<String> {
    Ok(ts(ms)?.rfc3339().as_str().to_string())
}

/// Checks a value as a resource string (`INVALID_ENUM_VALUE` otherwise); returns its index.
#[napi(catch_unwind)]
pub fn resource_index(value: String) -> Result<u32> {
    Ok(core_::vocab::Spec::index(resource_of(&value)?) as u32)
}

/// Verifies a JSON Lines record: `{"events":N,"lastHash":"…"}` or `RECORD_TAMPERED`.
#[napi(catch_unwind)]
pub fn verify_record(record: String) -> Result<String> {
    let p = Policy::replay(&record).map_err(js_err)?;
    Ok(command::record_verified_json(&p))
}

// ----- signed checkpoints (SPEC §9) -----
//
// Keys and checkpoints cross the boundary as their text forms (the wrapper's classes hold the
// text); what the core reads from a text comes back as JSON. Every check is the core's.

fn checkpoints_of(texts: &[String]) -> Result<Vec<Checkpoint>> {
    texts
        .iter()
        .map(|t| Checkpoint::parse(t).map_err(js_err))
        .collect()
}

fn public_keys_of(texts: &[String]) -> Result<Vec<PublicKey>> {
    texts
        .iter()
        .map(|t| PublicKey::parse(t).map_err(js_err))
        .collect()
}

/// Reads a public key's text: `[text, keyId]` (MALFORMED_INPUT for anything else).
#[napi(catch_unwind)]
pub fn public_key_parse(text: String) -> Result<Vec<String>> {
    let k = PublicKey::parse(&text).map_err(js_err)?;
    Ok(vec![k.to_text(), k.key_id().to_hex()])
}

/// The signing key for exactly 32 seed bytes (the host draws them, e.g. `crypto.randomBytes`):
/// `[text, publicKeyText, keyId]`.
#[napi(catch_unwind)]
pub fn signing_key_from_seed(seed: &[u8]) -> Result<Vec<String>> {
    let key = SigningKey::from_seed_bytes(seed).map_err(js_err)?;
    Ok(signing_key_texts(&key))
}

/// Reads a signing key's text (a secret: the error never repeats it):
/// `[text, publicKeyText, keyId]`.
#[napi(catch_unwind)]
pub fn signing_key_parse(text: String) -> Result<Vec<String>> {
    Ok(signing_key_texts(
        &SigningKey::parse(&text).map_err(js_err)?,
    ))
}

fn signing_key_texts(k: &SigningKey) -> Vec<String> {
    vec![k.to_text(), k.public_key().to_text(), k.key_id().to_hex()]
}

/// Reads one checkpoint's text (the signature is not checked): its fields as JSON.
#[napi(catch_unwind)]
pub fn checkpoint_parse(text: String) -> Result<String> {
    Ok(command::checkpoint_json(
        &Checkpoint::parse(&text).map_err(js_err)?,
    ))
}

/// Reads a checkpoints file (checkpoints one after another): a JSON array of their fields.
#[napi(catch_unwind)]
pub fn checkpoint_parse_many(text: String) -> Result<String> {
    Ok(command::checkpoints_json(
        &Checkpoint::parse_many(&text).map_err(js_err)?,
    ))
}

/// Whether a checkpoint's signature verifies with a public key (both as text).
#[napi(catch_unwind)]
pub fn checkpoint_verify_signature(checkpoint: String, public_key: String) -> Result<bool> {
    let c = Checkpoint::parse(&checkpoint).map_err(js_err)?;
    let k = PublicKey::parse(&public_key).map_err(js_err)?;
    Ok(c.verify_signature(&k))
}

/// Verifies a JSON Lines record, then checks it against checkpoints signed by trusted keys.
#[napi(catch_unwind)]
pub fn verify_checkpoints(
    record: String,
    checkpoints: Vec<String>,
    trusted_keys: Vec<String>,
) -> Result<String> {
    let checkpoints = checkpoints_of(&checkpoints)?;
    let trusted = public_keys_of(&trusted_keys)?;
    core_::checkpoint::verify_checkpoints(&record, &checkpoints, &trusted)
        .map(|v| command::checkpoints_verified_json(&v))
        .map_err(js_err)
}

/// This thread's policies. Each JS thread (main or worker) has its own Node-API environment
/// and its own slots; a `NativePolicy` object owns one slot and frees it when collected. The hot
/// path takes the slot number in a plain function call, which costs less than a class method
/// call in napi-rs (no `this` unwrap and type-tag check).
#[derive(Debug, Default)]
struct Slots {
    policies: Vec<Option<Policy>>,
    free: Vec<u32>,
}

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::new(Slots::default());
    /// The wrapper's hot-path array (see `bindIo`): a `Float64Array` of [`IO_LEN`] through
    /// which `evaluateIo` takes its arguments and both evaluations give the active grant.
    static IO: Cell<*mut f64> = const { Cell::new(ptr::null_mut()) };
}

fn no_slot() -> napi::Error<String> {
    malformed("not a live policy")
}

/// Runs `f` on the policy in `slot`.
fn with_policy<R>(slot: u32, f: impl FnOnce(&mut Policy) -> Result<R>) -> Result<R> {
    SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        let p = s
            .policies
            .get_mut(slot as usize)
            .and_then(Option::as_mut)
            .ok_or_else(no_slot)?;
        f(p)
    })
}

/// One policy (internal: wrapped by `Policy` in lib.js).
#[napi(js_name = "NativePolicy")]
#[derive(Debug)]
pub struct NativePolicy {
    slot: u32,
    /// Set by `free()`: the slot may then hold another policy.
    freed: Cell<bool>,
}

impl NativePolicy {
    fn wrap(inner: Policy) -> NativePolicy {
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let slot = match s.free.pop() {
                Some(slot) => {
                    s.policies[slot as usize] = Some(inner);
                    slot
                }
                None => {
                    s.policies.push(Some(inner));
                    u32::try_from(s.policies.len() - 1).expect("fewer than 2^32 policies")
                }
            };
            NativePolicy {
                slot,
                freed: Cell::new(false),
            }
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Policy) -> Result<R>) -> Result<R> {
        if self.freed.get() {
            return Err(no_slot());
        }
        with_policy(self.slot, f)
    }

    /// Empties this policy's slot for reuse (once).
    fn release(&self) {
        if self.freed.replace(true) {
            return;
        }
        // At thread exit the registry may already be gone; then so is the policy.
        let _ = SLOTS.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if let Some(p) = s.policies.get_mut(self.slot as usize) {
                    if p.take().is_some() {
                        s.free.push(self.slot);
                    }
                }
            }
        });
    }
}

impl Drop for NativePolicy {
    fn drop(&mut self) {
        self.release();
    }
}

// ----- the hot path, registered as raw Node-API functions -----
//
// napi-rs' generated glue costs several hundred nanoseconds per call (argument validation,
// borrow scopes), more than the decision itself. `evaluateIo` and `evaluateSlot` are the
// calls a service makes per request, so they are plain `extern "C"` callbacks doing the few
// Node-API calls they need; everything else goes through napi-rs.

/// Reads a JS string of up to 64 UTF-8 bytes (the longest valid cluster name) into `buf`
/// without allocating; `None` if it is not a string or is longer (the caller then takes the
/// slow path, which names the error).
fn short_str(env: sys::napi_env, v: sys::napi_value, buf: &mut [u8; 66]) -> Option<&str> {
    let mut len = 0usize;
    // SAFETY: `v` is a live value of this callback's env; napi writes at most `buf.len()`
    // bytes including the NUL.
    let status = unsafe {
        sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut len)
    };
    if status != sys::Status::napi_ok || len > 64 {
        return None;
    }
    std::str::from_utf8(&buf[..len]).ok()
}

/// Throws a JS error with `code` and `message`; returns the null value a callback then returns.
fn throw(env: sys::napi_env, code: &str, message: &str) -> sys::napi_value {
    let code = CString::new(code).unwrap_or_default();
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: both are NUL-terminated strings that outlive the call.
    unsafe { sys::napi_throw_error(env, code.as_ptr(), message.as_ptr()) };
    ptr::null_mut()
}

fn throw_err(env: sys::napi_env, e: &napi::Error<String>) -> sys::napi_value {
    throw(env, &e.status, &e.reason)
}

/// The first `N` arguments of a raw callback (`None` if fewer were passed).
fn cb_args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Option<[sys::napi_value; N]> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    // SAFETY: `info` is this callback's; `argv` has room for `argc` values.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    (status == sys::Status::napi_ok && argc >= N).then_some(argv)
}

// The hot-path array's layout, shared with lib.js: `evaluateIo`'s arguments, then what the
// evaluations write back.
const IO_SLOT: usize = 0;
const IO_GENERATION: usize = 1;
const IO_CLUSTER_ID: usize = 2;
const IO_RESOURCE: usize = 3;
const IO_NOW: usize = 4;
const IO_CODE: usize = 5;
const IO_EXPIRATION: usize = 6;
const IO_REMAINING: usize = 7;
const IO_LEN: usize = 8;

/// The bound hot-path array's cells (`None` before `bindIo`), read and written through the
/// raw pointer only: JS touches the array only between calls, so nothing else aliases it here.
fn io() -> Option<*mut f64> {
    let p = IO.with(Cell::get);
    (!p.is_null()).then_some(p)
}

fn io_get(io: *mut f64, i: usize) -> f64 {
    debug_assert!(i < IO_LEN);
    // SAFETY: `bindIo` checked the array holds `IO_LEN` f64s and keeps it alive (a strong
    // reference) for the life of this thread's environment.
    unsafe { io.add(i).read() }
}

fn io_set(io: *mut f64, i: usize, v: f64) {
    debug_assert!(i < IO_LEN);
    // SAFETY: as in `io_get`.
    unsafe { io.add(i).write(v) }
}

/// Writes the active grant of `d` where the wrapper reads it.
fn grant_out(d: &Decision) {
    if let Some(io) = io() {
        io_set(io, IO_EXPIRATION, GrantView::expiration_f64(d));
        io_set(io, IO_REMAINING, GrantView::remaining_f64(d));
    }
}

/// Runs a raw callback's body: its value, an error thrown as the core's, a panic as `INTERNAL`
/// (none crosses the boundary).
fn answer(env: sys::napi_env, run: impl FnOnce() -> Result<sys::napi_value>) -> sys::napi_value {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => throw_err(env, &e),
        Err(_) => throw(
            env,
            "INTERNAL",
            "support-access: internal error (panic) in evaluate",
        ),
    }
}

/// A slot, id or index from JS: an `f64` that is a `u32`, anything else `u32::MAX` (which names
/// no policy, cluster or resource).
fn u32_of(v: f64) -> u32 {
    if (0.0..=f64::from(u32::MAX)).contains(&v) && v.fract() == 0.0 {
        v as u32
    } else {
        u32::MAX
    }
}

/// `evaluateSlot(slot, cluster, resourceIndex, nowMs)`: SPEC §4 by name for the policy in
/// `slot`, packed (see [`pack`]), the active grant written to the bound array. The wrapper's
/// path for a name it holds no id for; every error is the core's.
unsafe extern "C" fn evaluate_slot(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    answer(env, || {
        let usage = || malformed("evaluateSlot takes (slot, cluster, resource, nowMs)");
        let argv = cb_args::<4>(env, info).ok_or_else(usage)?;
        let mut num = [0f64; 3];
        for (n, v) in num.iter_mut().zip([argv[0], argv[2], argv[3]]) {
            // SAFETY: a live value of this env, a plain out-parameter.
            if unsafe { sys::napi_get_value_double(env, v, n) } != sys::Status::napi_ok {
                return Err(usage());
            }
        }
        let [slot, resource, now_ms] = num;
        let resource = resource_at(u32_of(resource))?;
        let now = ts(now_ms)?;
        let mut buf = [0u8; 66];
        let d = match short_str(env, argv[1], &mut buf) {
            Some(name) => with_policy(u32_of(slot), |p| {
                p.evaluate(name, resource, now).map_err(js_err)
            })?,
            None => {
                // Longer than any valid name, or not a string: let the core name the error.
                // SAFETY: a live value of this env.
                let name = unsafe { String::from_napi_value(env, argv[1]) }
                    .map_err(|_| malformed("`cluster` must be a string"))?;
                with_policy(u32_of(slot), |p| {
                    p.evaluate(&name, resource, now).map_err(js_err)
                })?
            }
        };
        grant_out(&d);
        let mut out = ptr::null_mut();
        // SAFETY: plain out-parameter.
        unsafe { sys::napi_create_int32(env, pack(&d), &mut out) };
        Ok(out)
    })
}

/// `evaluateIo()`: SPEC §4 for a cluster id the wrapper resolved (`clusterIdSlot`), with no
/// argument and no result crossing as a JS value, so the call costs only Node-API's own entry:
/// it reads slot, generation, cluster id, resource index and epoch ms from the bound array and
/// writes the packed decision and the active grant back. The code is `-1` when the policy's
/// clusters changed since that generation, or the id names no cluster: the wrapper then asks
/// by name, which answers exactly and resolves the id again. Bad resources and times throw
/// the core's errors, as `evaluateSlot` does.
unsafe extern "C" fn evaluate_io(
    env: sys::napi_env,
    _info: sys::napi_callback_info,
) -> sys::napi_value {
    answer(env, || {
        let io = io().ok_or_else(|| malformed("evaluateIo before bindIo"))?;
        let resource = resource_at(u32_of(io_get(io, IO_RESOURCE)))?;
        let now = ts(io_get(io, IO_NOW))?;
        let id = ClusterId(u32_of(io_get(io, IO_CLUSTER_ID)));
        let generation = io_get(io, IO_GENERATION);
        let code = with_policy(u32_of(io_get(io, IO_SLOT)), |p| {
            if p.generation() as f64 != generation {
                return Ok(-1.0);
            }
            Ok(match p.evaluate_id(id, resource, now) {
                Ok(d) => {
                    grant_out(&d);
                    f64::from(pack(&d))
                }
                Err(_) => -1.0,
            })
        })?;
        io_set(io, IO_CODE, code);
        Ok(ptr::null_mut())
    })
}

/// `bindIo(float64Array)`: the array, of [`IO_LEN`] (8), through which `evaluateIo` takes its
/// arguments and both evaluations give back the active grant's expiration and `remainingMs`
/// (-1 each without one). Called once per thread by the wrapper with an array it never hands
/// out; the array is kept alive from then on.
unsafe extern "C" fn bind_io(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let usage = || malformed("bindIo takes a Float64Array of 8");
    let Some([array]) = cb_args::<1>(env, info) else {
        return throw_err(env, &usage());
    };
    let (mut kind, mut len, mut data) = (0, 0usize, ptr::null_mut());
    let (mut buffer, mut offset) = (ptr::null_mut(), 0usize);
    let mut reference = ptr::null_mut();
    // SAFETY: `array` is a live value of this env; the rest are plain out-parameters.
    let ok = unsafe {
        sys::napi_get_typedarray_info(
            env,
            array,
            &mut kind,
            &mut len,
            &mut data,
            &mut buffer,
            &mut offset,
        ) == sys::Status::napi_ok
            && kind == sys::TypedarrayType::float64_array
            && len >= IO_LEN
            && sys::napi_create_reference(env, array, 1, &mut reference) == sys::Status::napi_ok
    };
    if !ok {
        return throw_err(env, &usage());
    }
    IO.with(|c| c.set(data.cast()));
    ptr::null_mut()
}

/// Adds the raw hot-path functions to the module's exports.
#[napi(module_exports)]
pub fn register_hot_path(exports: Object<'_>, env: Env) -> napi::Result<()> {
    type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;
    let fns: [(&str, Callback); 3] = [
        ("evaluateSlot", evaluate_slot),
        ("evaluateIo", evaluate_io),
        ("bindIo", bind_io),
    ];
    for (name, cb) in fns {
        let mut f = ptr::null_mut();
        // SAFETY: `name` outlives the call (napi copies it); `cb` is a valid callback.
        let status = unsafe {
            sys::napi_create_function(
                env.raw(),
                name.as_ptr().cast(),
                name.len() as isize,
                Some(cb),
                ptr::null_mut(),
                &mut f,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(format!("cannot create {name}")));
        }
        // SAFETY: `f` was just created in this env.
        let value = unsafe { Unknown::from_napi_value(env.raw(), f) }?;
        let mut exports = exports;
        exports.set_named_property(name, value)?;
    }
    Ok(())
}

/// The id of the cluster `name` in the policy in `slot`, for `evaluateManyIds`; `-1` when there
/// is no such cluster. The wrapper caches ids by name together with the policy's generation
/// (`generationSlot`); `evaluateManyIds` refuses a stale generation, so an id is never used
/// across a change to the clusters and the wrapper never decides when to drop them.
#[napi(catch_unwind)]
pub fn cluster_id_slot(slot: u32, name: Utf16String) -> Result<i32> {
    // A lone surrogate cannot be part of a valid name: lossy decoding keeps it unknown.
    let name = String::from_utf16_lossy(&name);
    with_policy(slot, |p| {
        Ok(p.cluster_id(&name)
            .and_then(|id| i32::try_from(id.0).ok())
            .unwrap_or(-1))
    })
}

/// The policy's generation (`Policy::generation`): what cached cluster ids are valid for.
#[napi(catch_unwind)]
pub fn generation_slot(slot: u32) -> Result<f64> {
    with_policy(slot, |p| Ok(p.generation() as f64))
}

/// SPEC §4 in batch mode by cluster id, once across the boundary: request `i` asks about
/// cluster `ids[i]` (`u32::MAX`, or any id without a cluster: the batch's `CLUSTER_NOT_FOUND`
/// deny), resource index `res[i]`, at `nows[i]` (epoch ms). The ids were resolved at
/// `generation`; if the policy has moved on since, nothing is evaluated and `false` is
/// returned (the wrapper re-resolves). Otherwise writes packed decisions to `out_codes[..n]`,
/// the active grants' expirations and `remainingMs` (or -1) to `out_exp[..n]` and
/// `out_rem[..n]`, and returns `true`.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn evaluate_many_ids(
    slot: u32,
    generation: f64,
    n: u32,
    ids: &[u32],
    res: &[u8],
    nows: &[f64],
    mut out_codes: Int32ArraySlice<'_>,
    mut out_exp: Float64ArraySlice<'_>,
    mut out_rem: Float64ArraySlice<'_>,
) -> Result<bool> {
    let n = n as usize;
    if ids.len() < n
        || res.len() < n
        || nows.len() < n
        || out_codes.len() < n
        || out_exp.len() < n
        || out_rem.len() < n
    {
        return Err(malformed("evaluateMany arrays are shorter than the batch"));
    }
    if with_policy(slot, |p| Ok(p.generation() as f64))? != generation {
        return Ok(false);
    }
    // Every request is checked before any decision is written: an error names the first bad
    // request exactly as the name-based batch does.
    let mut requests = Vec::with_capacity(n);
    for i in 0..n {
        let resource = resource_at(u32::from(res[i]))?;
        requests.push((ClusterId(ids[i]), resource, ts(nows[i])?));
    }
    // SAFETY: the wrapper passes typed arrays that nothing else views during this synchronous
    // call.
    let (out_codes, out_exp, out_rem) =
        unsafe { (out_codes.as_mut(), out_exp.as_mut(), out_rem.as_mut()) };
    with_policy(slot, |p| {
        ffi::evaluate_ids(p, requests.iter().copied(), |i, d| {
            out_codes[i] = pack(&d);
            out_exp[i] = GrantView::expiration_f64(&d);
            out_rem[i] = GrantView::remaining_f64(&d);
        });
        Ok(true)
    })
}

fn resource_at(index: u32) -> Result<Resource> {
    ffi::resource_at(index).map_err(|_| malformed("resource index out of range"))
}

#[napi]
impl NativePolicy {
    /// Creates a policy from its SPEC §7 options JSON.
    #[napi(constructor, catch_unwind)]
    pub fn new(options_json: String) -> Result<NativePolicy> {
        Policy::from_options_json(&options_json)
            .map(NativePolicy::wrap)
            .map_err(js_err)
    }

    /// Rebuilds the policy that wrote a JSON Lines record.
    #[napi(factory, catch_unwind)]
    pub fn replay(record: String) -> Result<NativePolicy> {
        Policy::replay(&record)
            .map(NativePolicy::wrap)
            .map_err(js_err)
    }

    /// Frees the policy now; later calls on it fail.
    #[napi(catch_unwind)]
    pub fn free(&self) {
        self.release();
    }

    /// The slot the hot-path functions take.
    #[napi(getter, catch_unwind)]
    pub fn slot(&self) -> u32 {
        self.slot
    }

    /// The SPEC §7 JSON command interface: the core's `apply`, byte for byte.
    #[napi(catch_unwind)]
    pub fn apply(&self, command: String) -> Result<String> {
        self.with(|p| Ok(core_::apply(p, &command)))
    }

    /// The organization.
    #[napi(getter, catch_unwind)]
    pub fn org_id(&self) -> Result<String> {
        self.with(|p| Ok(p.org_id().to_string()))
    }

    /// Whether the organization restricts support access.
    #[napi(getter, catch_unwind)]
    pub fn restrict_employee_access(&self) -> Result<bool> {
        self.with(|p| Ok(p.restrict_employee_access()))
    }

    /// The longest grant allowed in ms, or null for no bound.
    #[napi(getter, catch_unwind)]
    pub fn max_grant_duration_ms(&self) -> Result<Option<f64>> {
        self.with(|p| Ok(p.max_grant_duration_ms().map(|ms| ms as f64)))
    }

    /// The record as JSON Lines.
    #[napi(catch_unwind)]
    pub fn export_record(&self) -> Result<String> {
        self.with(|p| Ok(p.export_record()))
    }

    /// Signs a checkpoint of the current head, dated `now_ms`, with a signing key's text: the
    /// checkpoint's fields as JSON. Records nothing.
    #[napi(catch_unwind)]
    pub fn checkpoint(&self, signing_key: String, now_ms: f64) -> Result<String> {
        let key = SigningKey::parse(&signing_key).map_err(js_err)?;
        let now = ts(now_ms)?;
        self.with(|p| {
            p.checkpoint(now, &key)
                .map(|c| command::checkpoint_json(&c))
                .map_err(js_err)
        })
    }

    /// Checks this policy's record against checkpoints (texts) signed by trusted keys (texts).
    #[napi(catch_unwind)]
    pub fn verify_checkpoints(
        &self,
        checkpoints: Vec<String>,
        trusted_keys: Vec<String>,
    ) -> Result<String> {
        let checkpoints = checkpoints_of(&checkpoints)?;
        let trusted = public_keys_of(&trusted_keys)?;
        self.with(|p| {
            p.verify_checkpoints(&checkpoints, &trusted)
                .map(|v| command::checkpoints_verified_json(&v))
                .map_err(js_err)
        })
    }
}
