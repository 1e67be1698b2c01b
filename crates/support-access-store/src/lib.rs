//! # support-access-store
//!
//! The home of a support-access record, shared by many writers: a local JSON Lines file (the
//! embedded default, one organization per file) or a PostgreSQL database (many organizations,
//! one chain each). The [`Policy`] a [`Store`] holds in memory is only a cache of what is
//! stored; evaluation runs on it, on the core's allocation-free hot path.
//!
//! ## Guarantees
//! - **Append is compare-and-set on the head.** A writer applies a command to its cache at head
//!   `seq = N` and stores the new lines only if the store's head is still `N`. A writer that
//!   lost the race rolls its cache back ([`Policy::rollback`]), catches up by verifying only the
//!   new lines ([`Policy::catch_up`]) and runs the same command again on the new state; that
//!   outcome — which may now be an error such as `DUPLICATE_CLUSTER` or `NO_ACTIVE_GRANT` — is
//!   what its caller gets.
//! - Nothing acknowledged is lost or stored twice; `seq` stays gap-free; a failed command stores
//!   nothing; a stored line that does not verify is refused (`RECORD_TAMPERED` with its `seq`)
//!   and never built upon.
//! - A lost connection is retried on a new one until [`StoreOptions::retry_for`] runs out. If
//!   it failed after an append was sent, the writer waits until that server process is gone and
//!   then reads the store: if its lines are there the command succeeded (and is not run again),
//!   otherwise it runs again.
//!
//! ## Time
//! A command that names its time (`now`) is stamped with exactly that time, and a time behind
//! the head is `CLOCK_WENT_BACKWARDS`, as everywhere. A writer that reads its host clock
//! ([`Now::Clock`]) stamps `max(clock, head time)` *after* catching up: hosts' clocks differ by
//! milliseconds, and a writer whose clock lags the last writer's by a little is not wrong, it is
//! just later.
//!
//! ```no_run
//! use support_access_store::{Location, Now, Store};
//! use support_access_core::{Actor, PolicyOptions};
//!
//! let location = Location::parse("postgres://app@127.0.0.1:5432/support")?;
//! let mut store = match Store::open(&location, Some("acme")) {
//!     Ok(s) => s,
//!     Err(_) => Store::create(&location, PolicyOptions::new("acme"))?,
//! };
//! let alice = Actor::org_owner("alice")?;
//! let added = store.write(Now::Clock, |p, now| p.add_project(&alice, "prod", now))?;
//! println!("{:?}", added.map(|e| e.seq));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod file;
mod follow;
mod location;
pub mod postgres;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use error::StoreError;
pub use follow::Follower;
pub use location::Location;
use support_access_core::{apply_bytes, Policy, PolicyOptions, Timestamp};

use crate::file::FileBackend;
use crate::postgres::{Appended, PgBackend};

/// How a [`Store`] behaves when things go wrong or go quiet.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// How long one call keeps retrying a lost connection or a lost race before it gives up
    /// (default 20 s: longer than a database restart).
    pub retry_for: Duration,
    /// How often a follower checks the store when no notification came (PostgreSQL), or how
    /// often it looks at the file's length (file). Default 1 s for PostgreSQL (a fallback for a
    /// notification lost while disconnected) and 20 ms for a file.
    pub poll: Option<Duration>,
}

impl Default for StoreOptions {
    /// 20 s of retries, or `SUPPORT_ACCESS_STORE_RETRY` seconds (e.g. `0.5`) when set: a CLI
    /// run against a database that is down waits that long before it says so.
    fn default() -> StoreOptions {
        let retry_for = std::env::var("SUPPORT_ACCESS_STORE_RETRY")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 86_400.0)
            .map_or(Duration::from_secs(20), Duration::from_secs_f64);
        StoreOptions {
            retry_for,
            poll: None,
        }
    }
}

/// Counters a store keeps (for benchmarks and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Commands whose events were stored.
    pub appends: u64,
    /// Events stored by this writer.
    pub events_appended: u64,
    /// Appends lost to another writer (each was retried on the caught-up state).
    pub conflicts: u64,
    /// Events other writers stored that this cache caught up with.
    pub caught_up: u64,
    /// Connection failures retried.
    pub retries: u64,
}

/// Which time a store-backed mutation is stamped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// The host clock, but never behind the head: `max(clock, last event's time)`.
    Clock,
    /// Exactly this time (behind the head it is `CLOCK_WENT_BACKWARDS`).
    At(Timestamp),
}

impl Now {
    /// The time for a mutation on `policy` (read after catching up).
    pub fn resolve(self, policy: &Policy) -> Timestamp {
        match self {
            Now::At(t) => t,
            Now::Clock => host_clock().max(policy.record().last_at()),
        }
    }
}

/// The host clock as a [`Timestamp`] (the core never reads one).
pub fn host_clock() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX)).unwrap_or(Timestamp::EPOCH)
}

#[derive(Debug)]
enum Backend {
    File(FileBackend),
    Postgres(Box<PgBackend>),
}

/// Where one organization's lines come from and go to: the part of a [`Store`] a
/// [`Follower`] shares.
#[derive(Debug)]
struct Source {
    backend: Backend,
    org: String,
    options: StoreOptions,
}

/// New lines and, for a file, where it ends after them.
type Batch = (Vec<String>, Option<file::FileEnd>);

impl Source {
    fn name(&self) -> String {
        match &self.backend {
            Backend::File(f) => f.name(),
            Backend::Postgres(p) => String::from(p.name()),
        }
    }

    fn tampered(&self, error: support_access_core::Error) -> StoreError {
        StoreError::Tampered {
            store: self.name(),
            error,
        }
    }

    /// The lines stored after `head`.
    fn fetch(&mut self, head: u64, deadline: Instant) -> Result<Batch, StoreError> {
        match &mut self.backend {
            Backend::File(f) => f.fetch(head).map(|(lines, end)| (lines, Some(end))),
            Backend::Postgres(pg) => pg.fetch(&self.org, head, deadline).map(|l| (l, None)),
        }
    }

    /// Marks a fetched batch as verified.
    fn advance(&mut self, end: Option<file::FileEnd>) {
        if let (Backend::File(f), Some(end)) = (&mut self.backend, end) {
            f.advance(end);
        }
    }

    /// Catches `policy` up with the store, retrying lost connections until `deadline`.
    fn catch_up(
        &mut self,
        policy: &mut Policy,
        deadline: Instant,
        stats: &mut Stats,
    ) -> Result<usize, StoreError> {
        let mut attempt = 0;
        loop {
            let fetched = self.fetch(policy.record().len() as u64, deadline);
            match fetched {
                Err(e) if e.is_transient() && Instant::now() < deadline => {
                    stats.retries += 1;
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok((lines, end)) => {
                    let n = policy
                        .catch_up(lines.iter().map(String::as_str))
                        .map_err(|e| self.tampered(e))?;
                    self.advance(end);
                    stats.caught_up += n as u64;
                    return Ok(n);
                }
            }
        }
    }

    /// How often a follower fetches when nothing announced a change (see
    /// [`StoreOptions::poll`]).
    fn poll(&self) -> Duration {
        self.options.poll.unwrap_or(match self.backend {
            Backend::File(_) => Duration::from_millis(20),
            Backend::Postgres(_) => Duration::from_secs(1),
        })
    }

    /// Blocks until another writer may have stored something, or `timeout` passed; returns
    /// whether something announced a change (a lost connection counts: look again).
    fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        let poll = self.poll();
        match &mut self.backend {
            Backend::File(f) => f.wait(timeout, poll),
            Backend::Postgres(pg) => match pg.wait(&self.org, timeout.min(poll)) {
                Err(e) if e.is_transient() => {
                    // Down: the caller's catch-up retries; a notification sent meanwhile
                    // is lost, which is why catch-up never relies on one.
                    std::thread::sleep(Duration::from_millis(50).min(timeout));
                    Ok(true)
                }
                r => r,
            },
        }
    }
}

/// One organization's record in a store, and the policy it holds (the cache).
#[derive(Debug)]
pub struct Store {
    source: Source,
    policy: Policy,
    stats: Stats,
}

fn backoff(attempt: u32) -> Duration {
    // 10 ms, 20 ms, 40 ms … capped at 500 ms: enough for a server restart without hammering it.
    Duration::from_millis(10u64 << attempt.min(6)).min(Duration::from_millis(500))
}

/// Retries `f` while it fails with a transient error and `deadline` is ahead.
fn retrying<T>(
    deadline: Instant,
    mut f: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                std::thread::sleep(backoff(attempt));
                attempt += 1;
            }
            r => return r,
        }
    }
}

/// Stores `policy`'s whole record as a new organization's (refused if there is one).
fn create_record(
    location: &Location,
    policy: &Policy,
    retry_for: Duration,
) -> Result<(), StoreError> {
    let lines: Vec<&str> = policy.record().lines().collect();
    match location {
        Location::File(path) => FileBackend::create(path, &lines),
        Location::Postgres(url) => {
            let mut pg = PgBackend::new(url)?;
            let deadline = Instant::now() + retry_for;
            let org = policy.org_id();
            // A failure may have hidden a commit: if a retry then finds the organization, it is
            // ours when it holds exactly these lines.
            let mut unsure = false;
            retrying(deadline, || match pg.create(org, &lines) {
                Err(e @ StoreError::AlreadyExists { .. }) if unsure => {
                    match pg.fetch(org, 0, deadline) {
                        Ok(stored)
                            if stored.iter().map(String::as_str).eq(lines.iter().copied()) =>
                        {
                            Ok(())
                        }
                        _ => Err(e),
                    }
                }
                Err(e) if e.is_transient() => {
                    unsure = true;
                    Err(e)
                }
                r => r,
            })
        }
    }
}

impl Store {
    /// Opens an organization's record and replays (verifies) all of it. `org` may be omitted
    /// for a file (it holds one organization) or a database that holds exactly one.
    pub fn open(location: &Location, org: Option<&str>) -> Result<Store, StoreError> {
        Store::open_with(location, org, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(
        location: &Location,
        org: Option<&str>,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let deadline = Instant::now() + options.retry_for;
        let (backend, org, policy) = match location {
            Location::File(path) => {
                let (backend, policy) = FileBackend::open(path)?;
                if let Some(want) = org.filter(|o| *o != policy.org_id()) {
                    return Err(StoreError::WrongOrg {
                        store: path.display().to_string(),
                        wanted: String::from(want),
                        found: String::from(policy.org_id()),
                    });
                }
                (
                    Backend::File(backend),
                    String::from(policy.org_id()),
                    policy,
                )
            }
            Location::Postgres(url) => {
                let mut pg = PgBackend::new(url)?;
                let (org, policy) = retrying(deadline, || {
                    let org = match org {
                        Some(o) => String::from(o),
                        None => match pg.orgs()?.as_slice() {
                            [one] => one.clone(),
                            [] => {
                                return Err(StoreError::NotFound {
                                    store: String::from(pg.name()),
                                    what: String::from("any organization yet"),
                                })
                            }
                            orgs => {
                                return Err(StoreError::OrgRequired {
                                    store: String::from(pg.name()),
                                    orgs: orgs.to_vec(),
                                })
                            }
                        },
                    };
                    let policy = pg.load(&org, deadline)?;
                    Ok((org, policy))
                })?;
                (Backend::Postgres(Box::new(pg)), org, policy)
            }
        };
        Ok(Store {
            source: Source {
                backend,
                org,
                options,
            },
            policy,
            stats: Stats::default(),
        })
    }

    /// Creates a new organization's record from its options; refuses one that exists.
    pub fn create(location: &Location, options: PolicyOptions) -> Result<Store, StoreError> {
        Store::create_with(location, options, StoreOptions::default())
    }

    /// [`Store::create`] with store options.
    pub fn create_with(
        location: &Location,
        policy_options: PolicyOptions,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let policy = Policy::new(policy_options).map_err(|error| StoreError::BadLocation {
            location: location.to_string(),
            detail: error.to_string(),
        })?;
        create_record(location, &policy, options.retry_for)?;
        Store::open_with(location, Some(policy.org_id()), options)
    }

    /// Stores a whole record (a file's, say) as a new organization in `location`, after
    /// verifying it, in one statement or one file (all there or not at all); then opens it
    /// there, which reads it back and verifies it again as stored.
    pub fn import(location: &Location, record: &str) -> Result<Store, StoreError> {
        let policy = Policy::replay(record).map_err(|error| StoreError::Tampered {
            store: String::from("the record to import"),
            error,
        })?;
        let options = StoreOptions::default();
        create_record(location, &policy, options.retry_for)?;
        let store = Store::open_with(location, Some(policy.org_id()), options)?;
        Ok(store)
    }

    /// The organizations a store holds (a file: its one).
    pub fn orgs(location: &Location) -> Result<Vec<String>, StoreError> {
        match location {
            Location::File(_) => Ok(vec![String::from(Store::open(location, None)?.org_id())]),
            Location::Postgres(url) => PgBackend::new(url)?.orgs(),
        }
    }

    /// The organization.
    pub fn org_id(&self) -> &str {
        &self.source.org
    }

    /// The store's name for messages (a path, or the URL without its password).
    pub fn name(&self) -> String {
        self.source.name()
    }

    /// Whether this is a PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        matches!(self.source.backend, Backend::Postgres(_))
    }

    /// The cached policy, as of the last catch-up or append.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The head `seq` of the cache.
    pub fn head(&self) -> u64 {
        self.policy.record().len() as u64
    }

    /// This writer's counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Catches up with what other writers stored, verifying only the new lines. Returns how
    /// many events were added. A line that does not verify is refused with its `seq`, and the
    /// cache stays where it was.
    pub fn refresh(&mut self) -> Result<usize, StoreError> {
        let deadline = Instant::now() + self.source.options.retry_for;
        self.source
            .catch_up(&mut self.policy, deadline, &mut self.stats)
    }

    /// Runs a mutation on the caught-up cache and stores what it recorded, compare-and-set on
    /// the head: if another writer stored first, the cache is rolled back, caught up and `f`
    /// runs again on the new state (so `f` may run more than once; its last result is
    /// returned). A call that records nothing (a failed command, a read) stores nothing.
    ///
    /// `now` is resolved after each catch-up (see [`Now`]) and passed to `f`.
    pub fn write<T>(
        &mut self,
        now: Now,
        mut f: impl FnMut(&mut Policy, Timestamp) -> T,
    ) -> Result<T, StoreError> {
        let deadline = Instant::now() + self.source.options.retry_for;
        // An append whose outcome is unknown may have committed: it is settled (read back)
        // before anything is answered, for up to another retry time past the deadline.
        let settle_by = deadline + self.source.options.retry_for;
        let mut attempt = 0u32;
        let mut failed: Option<StoreError> = None;
        // An append whose outcome is unknown: if the store turns out to hold its lines at the
        // head they were built on, that attempt committed and its result is the answer.
        let mut unsettled: Option<(usize, Vec<String>, T)> = None;
        loop {
            let by = if unsettled.is_some() {
                settle_by
            } else {
                deadline
            };
            if let Err(e) = self.source.catch_up(&mut self.policy, by, &mut self.stats) {
                if unsettled.is_none() || Instant::now() >= settle_by {
                    return Err(match unsettled {
                        None => e,
                        Some(_) => StoreError::Unavailable {
                            store: self.name(),
                            detail: format!(
                                "{e}; whether the last append was stored is not known: read the record before retrying it"
                            ),
                        },
                    });
                }
                attempt += 1;
                std::thread::sleep(backoff(attempt));
                continue;
            }
            if let Some((head, lines, out)) = unsettled.take() {
                let record = self.policy.record();
                let stored = lines
                    .iter()
                    .enumerate()
                    .all(|(i, l)| record.line(head + i) == Some(l.as_str()));
                if stored {
                    self.stats.appends += 1;
                    self.stats.events_appended += lines.len() as u64;
                    self.stats.caught_up -= lines.len() as u64;
                    return Ok(out);
                }
            }
            if attempt > 0 && Instant::now() >= deadline {
                return Err(failed.take().unwrap_or(StoreError::Contended {
                    store: self.name(),
                    attempts: attempt,
                }));
            }
            let head = self.policy.record().len();
            // Journaled: rolling back costs what `f` changed, not a copy of every cluster.
            let savepoint = self.policy.journaled_savepoint();
            let at = now.resolve(&self.policy);
            let out = f(&mut self.policy, at);
            let record = self.policy.record();
            if record.len() == head {
                self.policy.release(savepoint);
                return Ok(out);
            }
            let lines: Vec<&str> = record.lines().skip(head).collect();
            let stored = match &mut self.source.backend {
                Backend::File(file) => file.append(&lines).map(|ok| {
                    if ok {
                        Appended::Yes
                    } else {
                        Appended::Conflict
                    }
                }),
                Backend::Postgres(pg) => {
                    let head_line = record.line(head - 1).unwrap_or_default();
                    pg.append(&self.source.org, head as u64, head_line, &lines)
                }
            };
            failed = match stored {
                Ok(Appended::Yes) => {
                    self.stats.appends += 1;
                    self.stats.events_appended += lines.len() as u64;
                    self.policy.release(savepoint);
                    return Ok(out);
                }
                Ok(Appended::Conflict) => {
                    self.stats.conflicts += 1;
                    None
                }
                Ok(Appended::Unknown(e)) => {
                    self.stats.retries += 1;
                    unsettled = Some((head, lines.iter().map(|l| String::from(*l)).collect(), out));
                    Some(e)
                }
                Err(e) if e.is_transient() => {
                    self.stats.retries += 1;
                    Some(e)
                }
                Err(e) => {
                    self.rollback(savepoint);
                    return Err(e);
                }
            };
            self.rollback(savepoint);
            attempt += 1;
            if failed.is_some() {
                std::thread::sleep(backoff(attempt));
            }
        }
    }

    fn rollback(&mut self, savepoint: support_access_core::Savepoint) {
        self.policy
            .rollback(savepoint)
            .expect("a savepoint of this cache");
    }

    /// Runs one SPEC §7 JSON command (bytes, as `apply_bytes`) against the caught-up cache and
    /// stores what it recorded, compare-and-set as [`Store::write`]. Returns the core's result
    /// bytes, identical to every front end's. The command names its own time.
    pub fn apply(&mut self, command: &[u8]) -> Result<String, StoreError> {
        self.write(Now::Clock, |p, _| apply_bytes(p, command))
    }

    /// Waits until another writer may have stored something (a notification, the file grew) or
    /// `timeout` passed, then catches up. Returns how many events were added.
    pub fn wait_for_change(&mut self, timeout: Duration) -> Result<usize, StoreError> {
        self.source.wait(timeout)?;
        self.refresh()
    }

    /// Turns this store into a [`Follower`]: a thread that keeps the cache current while any
    /// number of readers evaluate on it.
    pub fn follow(self) -> Follower {
        Follower::start(self.source, self.policy)
    }
}
