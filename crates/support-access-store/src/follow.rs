//! Following an organization: a thread keeps a cached policy current with what other writers
//! store (PostgreSQL `LISTEN/NOTIFY`, a poll as fallback; a file's length), while any number of
//! readers evaluate on it under a read lock — the in-memory hot path, never a query.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support_access_core::Policy;

use crate::{Source, Stats, StoreError};

#[derive(Debug)]
struct Shared {
    policy: RwLock<Policy>,
    head: AtomicU64,
    stop: AtomicBool,
    /// The last error, and a condition variable woken at every catch-up.
    state: Mutex<Option<String>>,
    moved: Condvar,
}

/// A cached policy that a background thread keeps current. Dropping it stops the thread.
///
/// A stored line that does not verify stops the following: the cache stays at the last event
/// that verified (never built upon), and [`Follower::error`] says why.
#[derive(Debug)]
pub struct Follower {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    pub(crate) fn start(source: Source, policy: Policy) -> Follower {
        let shared = Arc::new(Shared {
            head: AtomicU64::new(policy.record().len() as u64),
            policy: RwLock::new(policy),
            stop: AtomicBool::new(false),
            state: Mutex::new(None),
            moved: Condvar::new(),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(String::from("support-access-follow"))
            .spawn(move || run(source, &s))
            .expect("spawn the follower thread");
        Follower {
            shared,
            thread: Some(thread),
        }
    }

    /// Reads the cached policy (evaluate, describe, export…) under a read lock.
    pub fn read<R>(&self, f: impl FnOnce(&Policy) -> R) -> R {
        let guard = self.shared.policy.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// The head `seq` the cache has reached.
    pub fn head(&self) -> u64 {
        self.shared.head.load(Ordering::Acquire)
    }

    /// Waits until the cache reaches `seq` or `timeout` passes; returns whether it did.
    pub fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        while self.head() < seq {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .moved
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Why following stopped or last failed (a refused line, a store that is down), if it did.
    pub fn error(&self) -> Option<String> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The follower thread: wait for a change, fetch the new lines without holding the lock, then
/// verify and apply them under the write lock (readers wait only for that).
fn run(mut source: Source, shared: &Shared) {
    let mut stats = Stats::default();
    // Short waits, so a dropped follower stops promptly; a fetch only when a change was
    // announced or the poll interval has passed since the last one.
    let tick = Duration::from_millis(100);
    let poll = source.poll();
    let mut fetched = Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        let step: Result<(), StoreError> = (|| {
            if !source.wait(tick)? && fetched.elapsed() < poll {
                return Ok(());
            }
            fetched = Instant::now();
            let head = shared.head.load(Ordering::Acquire);
            let deadline = Instant::now() + source.options.retry_for;
            let (lines, end) = source.fetch(head, deadline)?;
            if lines.is_empty() {
                return Ok(());
            }
            let mut policy = shared.policy.write().unwrap_or_else(|e| e.into_inner());
            let n = policy
                .catch_up(lines.iter().map(String::as_str))
                .map_err(|e| source.tampered(e))?;
            source.advance(end);
            stats.caught_up += n as u64;
            shared
                .head
                .store(policy.record().len() as u64, Ordering::Release);
            Ok(())
        })();
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        match step {
            Ok(()) => *state = None,
            Err(e) => {
                let refused = matches!(e, StoreError::Tampered { .. });
                *state = Some(e.to_string());
                if refused {
                    shared.moved.notify_all();
                    return;
                }
                drop(state);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        shared.moved.notify_all();
    }
}
