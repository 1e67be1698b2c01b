//! # support-access-plugin
//!
//! The support-access policy core as a host-neutral WebAssembly module: no JavaScript glue, no
//! WASI, no imports at all — only the small ABI documented in `docs/plugin-abi.md`:
//!
//! | export | signature | meaning |
//! |---|---|---|
//! | `sa_abi_version` | `() -> i32` | [`ABI_VERSION`] |
//! | `sa_alloc` | `(len: i32) -> i32` | allocate `len` bytes for the host to write input into (0: out of memory) |
//! | `sa_free` | `(ptr: i32, len: i32)` | free bytes from `sa_alloc` or a result |
//! | `sa_policy_new` | `(ptr: i32, len: i32) -> i32` | create a policy from options JSON; handle > 0, or 0 on error (then `sa_last_error`) |
//! | `sa_last_error` | `() -> i64` | the error result JSON of the last failed `sa_policy_new`, packed like `sa_apply`'s result (0 if none) |
//! | `sa_apply` | `(handle: i32, ptr: i32, len: i32) -> i64` | run one command; result JSON packed as `ptr << 32 \| len`, freed by the host with `sa_free` |
//! | `sa_policy_free` | `(handle: i32) -> i32` | drop a policy: 0, or -1 for an unknown handle |
//!
//! Every bad input comes back as error JSON bytes, never as a trap: an unknown handle, a
//! pointer/length outside linear memory and invalid UTF-8 are `MALFORMED_INPUT` results, and
//! the core's `apply` never panics on any command. (On `wasm32-unknown-unknown` a panic could
//! only abort, so the module is built to have nothing on the input path that can panic.)
//!
//! The logic lives in [`Plugin`], plain safe Rust that the host tests exercise; the `extern "C"`
//! exports exist only on `wasm32`.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use support_access_core::wire::MAX_COMMAND_LEN;
use support_access_core::{apply_bytes, error_json, new_policy_json, Error, Policy};

/// The ABI version `sa_abi_version` returns. Bumped on any incompatible change to the exports.
pub const ABI_VERSION: i32 = 1;

/// The most policies a module instance holds at once (a host that leaks handles gets an error
/// result instead of unbounded growth).
pub const MAX_POLICIES: usize = 1 << 16;

fn malformed(detail: String) -> String {
    error_json(&Error::MalformedInput { detail })
}

/// The handle table and the last creation error: everything the exports need.
#[derive(Debug, Default)]
pub struct Plugin {
    policies: Vec<Option<Policy>>,
    free: Vec<usize>,
    last_error: Option<String>,
}

impl Plugin {
    /// Creates a policy from options bytes: `Ok(handle)` (≥ 1) or `Err(error result JSON)`,
    /// which is also kept for [`Plugin::take_last_error`].
    pub fn policy_new(&mut self, options: &[u8]) -> Result<u32, String> {
        let result = match core::str::from_utf8(options) {
            Err(e) => Err(malformed(format!(
                "options are not UTF-8 (invalid byte at {})",
                e.valid_up_to()
            ))),
            Ok(text) => new_policy_json(text),
        }
        .and_then(|p| self.insert(p));
        match result {
            Ok(h) => {
                self.last_error = None;
                Ok(h)
            }
            Err(e) => {
                self.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn insert(&mut self, p: Policy) -> Result<u32, String> {
        let slot = match self.free.pop() {
            Some(i) => {
                self.policies[i] = Some(p);
                i
            }
            None if self.policies.len() < MAX_POLICIES => {
                self.policies.push(Some(p));
                self.policies.len() - 1
            }
            None => {
                return Err(malformed(format!(
                    "too many policies (at most {MAX_POLICIES}); free some"
                )))
            }
        };
        // slot < MAX_POLICIES < u32::MAX, so this never truncates.
        Ok(slot as u32 + 1)
    }

    fn slot(handle: i32) -> Option<usize> {
        usize::try_from(handle)
            .ok()
            .filter(|h| *h >= 1)
            .map(|h| h - 1)
    }

    /// The policy behind a handle.
    pub fn policy_mut(&mut self, handle: i32) -> Option<&mut Policy> {
        Self::slot(handle)
            .and_then(|i| self.policies.get_mut(i))
            .and_then(Option::as_mut)
    }

    /// Runs one command against a policy; an unknown handle is a `MALFORMED_INPUT` result.
    pub fn apply(&mut self, handle: i32, command: &[u8]) -> String {
        match self.policy_mut(handle) {
            Some(p) => apply_bytes(p, command),
            None => unknown_handle(handle),
        }
    }

    /// [`Plugin::apply`] for a command longer than the core's limit, given only the outcome of
    /// checking it as UTF-8 (`Err(index of the first bad byte)`): the same result bytes, without
    /// a copy of the command (see [`over_limit_result`]).
    pub fn apply_over_limit(&mut self, handle: i32, utf8: Result<(), usize>) -> String {
        match self.policy_mut(handle) {
            Some(_) => over_limit_result(utf8),
            None => unknown_handle(handle),
        }
    }

    /// Drops a policy; false for an unknown handle.
    pub fn policy_free(&mut self, handle: i32) -> bool {
        match Self::slot(handle) {
            Some(i) if self.policies.get(i).is_some_and(Option::is_some) => {
                self.policies[i] = None;
                self.free.push(i);
                true
            }
            _ => false,
        }
    }

    /// The error of the last failed [`Plugin::policy_new`], once.
    pub fn take_last_error(&mut self) -> Option<String> {
        self.last_error.take()
    }

    /// How many policies are alive.
    pub fn live(&self) -> usize {
        self.policies.iter().filter(|p| p.is_some()).count()
    }
}

/// The error result for a handle that names no live policy.
pub fn unknown_handle(handle: i32) -> String {
    malformed(format!("unknown policy handle {handle}"))
}

/// What the core's `apply_bytes` answers for any command longer than
/// [`MAX_COMMAND_LEN`] (it checks UTF-8, then the length, and reads no further), from the
/// outcome of the UTF-8 check alone. The host tests compare it with the core, byte for byte.
pub fn over_limit_result(utf8: Result<(), usize>) -> String {
    error_json(&match utf8 {
        Err(at) => Error::command_not_utf8(at),
        Ok(()) => Error::command_too_long(),
    })
}

/// Whether a command is over the core's limit, and then the outcome of its UTF-8 check.
pub fn over_limit(command: &[u8]) -> Option<Result<(), usize>> {
    (command.len() > MAX_COMMAND_LEN).then(|| {
        core::str::from_utf8(command)
            .map(|_| ())
            .map_err(|e| e.valid_up_to())
    })
}

/// The error result for input bytes that lie outside linear memory.
pub fn out_of_bounds(ptr: u32, len: u32) -> String {
    malformed(format!(
        "input bytes at {ptr}+{len} are outside the module's memory"
    ))
}

#[cfg(target_arch = "wasm32")]
mod exports {
    //! The `extern "C"` ABI. The module is `no_std` (no panic machinery, no formatting of
    //! panic messages: smaller) with dlmalloc as its allocator. wasm32 modules without the
    //! `atomics` feature are single-threaded, so the handle table is one global cell.
    use alloc::alloc::{alloc, dealloc, Layout};
    use alloc::boxed::Box;
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    use super::{out_of_bounds, Plugin, ABI_VERSION};

    #[global_allocator]
    static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    /// Nothing on the input path panics (see the crate docs); should a bug ever reach a panic,
    /// the call traps (`unreachable`) instead of returning bytes.
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }

    struct Global(RefCell<Option<Plugin>>);
    // SAFETY: wasm32 without the `atomics` target feature has exactly one thread.
    unsafe impl Sync for Global {}
    static PLUGIN: Global = Global(RefCell::new(None));

    fn with<T>(f: impl FnOnce(&mut Plugin) -> T) -> T {
        // No export calls another or calls out to the host, so the cell is never borrowed twice.
        let mut cell = PLUGIN.0.borrow_mut();
        f(cell.get_or_insert_with(Plugin::default))
    }

    const PAGE: u64 = 65536;

    /// The input bytes the host wrote, if `ptr..ptr+len` lies inside linear memory.
    ///
    /// # Safety
    /// Read it before anything allocates (the host may have pointed anywhere, even at free
    /// heap memory): copy it at once, or only check it.
    unsafe fn view(ptr: i32, len: i32) -> Result<&'static [u8], String> {
        let (p, l) = (ptr as u32, len as u32);
        let mem = core::arch::wasm32::memory_size(0) as u64 * PAGE;
        if len < 0 || (l > 0 && p == 0) || u64::from(p) + u64::from(l) > mem {
            return Err(out_of_bounds(p, l));
        }
        if l == 0 {
            return Ok(&[]);
        }
        // SAFETY: the range lies inside linear memory (checked above), which is always
        // readable; the host owns these bytes for the duration of the call.
        Ok(unsafe { core::slice::from_raw_parts(p as usize as *const u8, l as usize) })
    }

    /// A copy of the input bytes the host wrote, if `ptr..ptr+len` lies inside linear memory.
    /// (Copied at once, so nothing the call then does can alias them, wherever the host pointed.)
    fn input(ptr: i32, len: i32) -> Result<Vec<u8>, String> {
        // SAFETY: copied before anything else happens.
        unsafe { view(ptr, len) }.map(<[u8]>::to_vec)
    }

    /// Moves a result into memory the host frees with `sa_free(ptr, len)`; packed `ptr << 32 | len`.
    fn output(s: String) -> i64 {
        let bytes = s.into_bytes().into_boxed_slice();
        let len = bytes.len() as u64;
        let ptr = Box::into_raw(bytes) as *mut u8 as usize as u64;
        ((ptr << 32) | len) as i64
    }

    #[no_mangle]
    pub extern "C" fn sa_abi_version() -> i32 {
        ABI_VERSION
    }

    #[no_mangle]
    pub extern "C" fn sa_alloc(len: i32) -> i32 {
        if len <= 0 {
            // A zero-length buffer needs no memory; a dangling, aligned, non-null address.
            return if len == 0 { 1 } else { 0 };
        }
        match Layout::from_size_align(len as usize, 1) {
            // SAFETY: the layout has a non-zero size.
            Ok(layout) => unsafe { alloc(layout) as usize as i32 },
            Err(_) => 0,
        }
    }

    /// # Safety
    /// `ptr`/`len` must come from `sa_alloc(len)` or a packed result, and be freed once.
    #[no_mangle]
    pub unsafe extern "C" fn sa_free(ptr: i32, len: i32) {
        if ptr == 0 || len <= 0 {
            return;
        }
        if let Ok(layout) = Layout::from_size_align(len as usize, 1) {
            // SAFETY: the caller passes back an allocation of exactly this layout.
            unsafe { dealloc(ptr as u32 as usize as *mut u8, layout) }
        }
    }

    #[no_mangle]
    pub extern "C" fn sa_policy_new(ptr: i32, len: i32) -> i32 {
        with(|p| match input(ptr, len) {
            Ok(bytes) => p.policy_new(&bytes).map_or(0, |h| h as i32),
            Err(e) => {
                p.last_error = Some(e);
                0
            }
        })
    }

    #[no_mangle]
    pub extern "C" fn sa_last_error() -> i64 {
        with(|p| p.take_last_error()).map_or(0, output)
    }

    #[no_mangle]
    pub extern "C" fn sa_apply(handle: i32, ptr: i32, len: i32) -> i64 {
        // A command over the core's limit is refused unread: answered without copying it
        // (linear memory never shrinks; the host's copy is the only one).
        // SAFETY: only checked (UTF-8, length), before anything allocates.
        if let Ok(Some(utf8)) = unsafe { view(ptr, len) }.map(super::over_limit) {
            return output(with(|p| p.apply_over_limit(handle, utf8)));
        }
        let result = with(|p| match input(ptr, len) {
            Ok(bytes) => p.apply(handle, &bytes),
            Err(e) => e,
        });
        output(result)
    }

    #[no_mangle]
    pub extern "C" fn sa_policy_free(handle: i32) -> i32 {
        with(|p| if p.policy_free(handle) { 0 } else { -1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_errors() {
        let mut pl = Plugin::default();
        let h = pl.policy_new(br#"{"orgId":"org-1"}"#).unwrap();
        assert_eq!(h, 1);
        let r = pl.apply(h as i32, br#"{"op":"remaining","cluster":"C0","now":0}"#);
        assert!(r.contains("CLUSTER_NOT_FOUND"), "{r}");
        assert!(pl.apply(7, b"{}").contains("unknown policy handle 7"));
        assert!(pl.apply(0, b"{}").contains("MALFORMED_INPUT"));
        assert!(pl.apply(-3, b"{}").contains("MALFORMED_INPUT"));
        assert!(pl.apply(h as i32, b"\xff\xfe").contains("not UTF-8"));
        let e = pl.policy_new(b"{").unwrap_err();
        assert!(e.contains("MALFORMED_INPUT"));
        assert_eq!(pl.take_last_error(), Some(e));
        assert_eq!(pl.take_last_error(), None);
        assert!(pl.policy_new(b"\xc3").unwrap_err().contains("not UTF-8"));
        assert!(pl.policy_free(h as i32));
        assert!(!pl.policy_free(h as i32));
        assert!(!pl.policy_free(i32::MIN));
        assert!(pl.apply(h as i32, b"{}").contains("unknown policy handle"));
        // Freed slots are reused.
        assert_eq!(pl.policy_new(br#"{"orgId":"org-2"}"#), Ok(1));
        assert_eq!(pl.live(), 1);
    }

    /// Over-limit commands answered without a copy get exactly the core's result bytes.
    #[test]
    fn over_limit_is_the_cores_result() {
        let mut pl = Plugin::default();
        let h = pl.policy_new(br#"{"orgId":"org-1"}"#).unwrap() as i32;
        let before = pl.apply(h, br#"{"op":"exportRecord"}"#);
        let mut big = alloc::vec![b'['; MAX_COMMAND_LEN + 1];
        assert_eq!(over_limit(&big[..MAX_COMMAND_LEN]), None);
        let cases: [(usize, &[u8]); 4] = [
            (0, b"["),
            (MAX_COMMAND_LEN, b"\xff"),
            (12345, b"\xc3"),
            (7, "é".as_bytes()),
        ];
        for (at, bytes) in cases {
            big[at..at + bytes.len()].copy_from_slice(bytes);
            let utf8 = over_limit(&big).unwrap();
            assert_eq!(pl.apply_over_limit(h, utf8), pl.apply(h, &big), "{at}");
            assert_eq!(pl.apply_over_limit(h + 9, utf8), pl.apply(h + 9, &big));
        }
        assert_eq!(pl.apply(h, br#"{"op":"exportRecord"}"#), before);
    }
}
