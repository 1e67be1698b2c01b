//! The PostgreSQL backend: many organizations in one database, one chain each.
//!
//! Every event line is stored byte for byte as the core wrote it (`text`, never `jsonb`, which
//! would reorder keys and break the hashes), keyed by `(org_id, seq)`:
//!
//! ```sql
#![doc = include_str!("schema.sql")]
//! ```
//!
//! An append is one statement, so one implicit transaction: it inserts the new lines at
//! `head+1…` only if the row at `head` still holds the line this writer built on, and queues a
//! `NOTIFY support_access` with the organization as payload (delivered on commit). Another
//! writer that appended first makes it fail on the primary key (or find no head row, if the
//! chain was cut): nothing is stored and the caller catches up and tries again. The application
//! role needs only `SELECT` and `INSERT` (see `GRANTS`).

use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls, Statement};
use support_access_core::{Error, Policy, Replayer};

use crate::error::StoreError;
use crate::location::redact;

/// The schema, created on first use (idempotent).
pub const SCHEMA: &str = include_str!("schema.sql");

/// What to grant an application role (here `support_access_app`) that may only read and
/// append: it cannot change or delete a stored event.
pub const GRANTS: &str = "\
GRANT USAGE ON SCHEMA public TO support_access_app;
GRANT SELECT, INSERT ON support_access_event TO support_access_app;
";

/// The `LISTEN`/`NOTIFY` channel; the payload is the organization id.
pub const CHANNEL: &str = "support_access";

const APPEND: &str = "\
WITH new AS (
    INSERT INTO support_access_event (org_id, seq, line)
    SELECT $1, u.seq, u.line FROM unnest($2::int8[], $3::text[]) AS u(seq, line)
    WHERE EXISTS (SELECT 1 FROM support_access_event WHERE org_id = $1 AND seq = $4 AND line = $5)
    RETURNING 1
)
SELECT (SELECT count(*) FROM new)::int8, pg_notify('support_access', $1)";

const SINCE: &str =
    "SELECT seq, line FROM support_access_event WHERE org_id = $1 AND seq > $2 ORDER BY seq";

/// How an append ended.
#[derive(Debug)]
pub(crate) enum Appended {
    /// Stored.
    Yes,
    /// Another writer appended first; nothing stored.
    Conflict,
    /// The connection failed after the statement was sent: it may or may not have committed.
    Unknown(StoreError),
}

struct Conn {
    client: Client,
    pid: (i32, String),
    append: Statement,
    since: Statement,
    listening: bool,
}

/// A connection (made lazily, made again after a failure) to one database.
pub(crate) struct PgBackend {
    config: Config,
    name: String,
    conn: Option<Conn>,
    /// The server process of a connection that failed with an append's outcome unknown: before
    /// reading the outcome, wait until it is gone (so its transaction has ended one way or the
    /// other).
    orphan: Option<(i32, String)>,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("store", &self.name)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

/// The synchronous client runs a runtime of its own, and dropping it from a thread that is
/// driving an async runtime (a web server shutting down, say) would panic: the connection is
/// closed on a short-lived thread of its own instead.
impl Drop for PgBackend {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// One readable line from a driver error: the server's message and SQLSTATE, or the innermost
/// cause of a connection failure, never a chain of wrappers.
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        cause = c.source();
    }
    msg
}

/// Whether a failure is worth retrying on a new connection.
fn transient(e: &postgres::Error) -> bool {
    match e.code() {
        None => true, // I/O: connection refused, reset, closed
        Some(c) => {
            c.code().starts_with("08") // connection exception
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS
                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
        }
    }
}

impl PgBackend {
    pub(crate) fn new(url: &str) -> Result<PgBackend, StoreError> {
        let mut config: Config =
            url.parse()
                .map_err(|e: postgres::Error| StoreError::BadLocation {
                    location: redact(url),
                    detail: describe(&e),
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("support-access");
        }
        config.keepalives_idle(Duration::from_secs(30));
        Ok(PgBackend {
            config,
            name: redact(url),
            conn: None,
            orphan: None,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Closes the connection (see the `Drop` impl for why on a thread of its own).
    fn disconnect(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = std::thread::spawn(move || drop(conn)).join();
        }
    }

    fn unavailable(&self, e: &postgres::Error) -> StoreError {
        StoreError::Unavailable {
            store: self.name.clone(),
            detail: describe(e),
        }
    }

    /// A failure: transient ones drop the connection (the next call makes a new one) and are
    /// retried; a refusal (login, database, privilege) is not.
    fn fail(&mut self, e: &postgres::Error) -> StoreError {
        if transient(e) || self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.disconnect();
        }
        if transient(e) {
            self.unavailable(e)
        } else {
            StoreError::Refused {
                store: self.name.clone(),
                detail: describe(e),
            }
        }
    }

    fn conn(&mut self) -> Result<&mut Conn, StoreError> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.disconnect();
        }
        if self.conn.is_none() {
            let c = self.connect().map_err(|e| self.fail(&e))?;
            self.conn = Some(c);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        let exists: Option<String> = client
            .query_one("SELECT to_regclass('support_access_event')::text", &[])?
            .get(0);
        if exists.is_none() {
            // First use: create the schema. Two first writers may race; the loser's error
            // (a duplicate table or type) means the schema is there.
            if let Err(e) = client.batch_execute(SCHEMA) {
                let dup = e.code().is_some_and(|c| {
                    *c == SqlState::DUPLICATE_TABLE
                        || *c == SqlState::UNIQUE_VIOLATION
                        || *c == SqlState::DUPLICATE_OBJECT
                });
                if !dup {
                    return Err(e);
                }
            }
        }
        // The server process and when it started: a pid alone may be reused after a restart.
        let row = client.query_one(
            "SELECT pid, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )?;
        let pid: (i32, String) = (row.get(0), row.get(1));
        let append = client.prepare(APPEND)?;
        let since = client.prepare(SINCE)?;
        Ok(Conn {
            client,
            pid,
            append,
            since,
            listening: false,
        })
    }

    /// Before reading the outcome of an append whose connection failed, waits (bounded) until
    /// that connection's server process has ended, so its transaction is decided.
    fn settle_orphan(&mut self, deadline: Instant) -> Result<(), StoreError> {
        let Some((pid, started)) = self.orphan.clone() else {
            return Ok(());
        };
        loop {
            let c = self.conn()?;
            let alive = c
                .client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2",
                    &[&pid, &started],
                )
                .map(|r| r.get::<_, i64>(0) > 0);
            match alive {
                Ok(false) => {
                    self.orphan = None;
                    return Ok(());
                }
                Ok(true) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(true) => {
                    return Err(StoreError::Unavailable {
                        store: self.name.clone(),
                        detail: format!(
                            "the server process {pid} of a failed append is still running; its outcome is not known yet"
                        ),
                    })
                }
                Err(e) => return Err(self.fail(&e)),
            }
        }
    }

    /// The organizations the store holds.
    pub(crate) fn orgs(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .conn()?
            .client
            .query(
                "SELECT org_id FROM support_access_event WHERE seq = 1 ORDER BY org_id",
                &[],
            )
            .map_err(|e| self.fail(&e));
        Ok(rows?.iter().map(|r| r.get(0)).collect())
    }

    /// Reads and replays an organization's whole record, streaming rows into the replayer.
    pub(crate) fn load(&mut self, org: &str, deadline: Instant) -> Result<Policy, StoreError> {
        self.settle_orphan(deadline)?;
        let name = self.name.clone();
        let c = self.conn()?;
        let mut r = Replayer::new();
        let mut expected = 1i64;
        let since = c.since.clone();
        let result: Result<(), Result<Error, postgres::Error>> = (|| {
            let mut rows = c
                .client
                .query_raw(&since, [&org as &dyn postgres::types::ToSql, &0i64])
                .map_err(Err)?;
            while let Some(row) = rows.next().map_err(Err)? {
                let seq: i64 = row.get(0);
                if seq != expected {
                    return Err(Ok(Error::RecordTampered {
                        seq: expected as u64,
                        detail: String::from("the event is missing from the store"),
                    }));
                }
                r.feed(row.get(1)).map_err(Ok)?;
                expected += 1;
            }
            Ok(())
        })();
        match result {
            Ok(()) if expected == 1 => Err(StoreError::NotFound {
                store: name,
                what: format!("organization {org}"),
            }),
            Ok(()) => r
                .finish()
                .map_err(|error| StoreError::Tampered { store: name, error }),
            Err(Ok(error)) => Err(StoreError::Tampered { store: name, error }),
            Err(Err(e)) => Err(self.fail(&e)),
        }
    }

    /// The lines after `after`, in order; a gap is a tampered store.
    pub(crate) fn fetch(
        &mut self,
        org: &str,
        after: u64,
        deadline: Instant,
    ) -> Result<Vec<String>, StoreError> {
        self.settle_orphan(deadline)?;
        let name = self.name.clone();
        let c = self.conn()?;
        let since = c.since.clone();
        let rows = c
            .client
            .query(&since, &[&org, &(after as i64)])
            .map_err(|e| self.fail(&e))?;
        let mut lines = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let want = after + 1 + i as u64;
            if row.get::<_, i64>(0) as u64 != want {
                return Err(StoreError::Tampered {
                    store: name,
                    error: Error::RecordTampered {
                        seq: want,
                        detail: String::from("the event is missing from the store"),
                    },
                });
            }
            lines.push(row.get(1));
        }
        Ok(lines)
    }

    /// Appends `lines` at `head + 1…` if the row at `head` still holds `head_line`.
    pub(crate) fn append(
        &mut self,
        org: &str,
        head: u64,
        head_line: &str,
        lines: &[&str],
    ) -> Result<Appended, StoreError> {
        let c = self.conn()?;
        let pid = c.pid.clone();
        let seqs: Vec<i64> = (1..=lines.len() as i64).map(|i| head as i64 + i).collect();
        let append = c.append.clone();
        let result = c
            .client
            .query_one(&append, &[&org, &seqs, &lines, &(head as i64), &head_line]);
        match result {
            Ok(row) if row.get::<_, i64>(0) == lines.len() as i64 => Ok(Appended::Yes),
            // The head row is not the line this writer built on: the chain was cut or changed
            // behind the store's back, or (for head 0) there is no genesis.
            Ok(_) => Err(StoreError::Tampered {
                store: self.name.clone(),
                error: Error::RecordTampered {
                    seq: head,
                    detail: String::from(
                        "the stored event this writer built on has changed or disappeared",
                    ),
                },
            }),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(Appended::Conflict),
            // An ERROR answers the statement itself: its transaction aborted, nothing stored.
            Err(e) if e.as_db_error().is_some_and(|d| d.severity() == "ERROR") => {
                Err(self.fail(&e))
            }
            Err(e) => {
                // No answer, or the connection ended (FATAL: terminated, shut down): the
                // statement may have committed just before, so its outcome is read back once
                // this server process is gone.
                self.orphan = Some(pid);
                Ok(Appended::Unknown(self.fail(&e)))
            }
        }
    }

    /// Stores a new organization's record: `lines` at seq 1, 2, … in one statement (all or
    /// nothing); refused if the organization has a record.
    pub(crate) fn create(&mut self, org: &str, lines: &[&str]) -> Result<(), StoreError> {
        let name = self.name.clone();
        let seqs: Vec<i64> = (1..=lines.len() as i64).collect();
        let c = self.conn()?;
        let r = c.client.execute(
            "INSERT INTO support_access_event (org_id, seq, line) \
             SELECT $1, u.seq, u.line FROM unnest($2::int8[], $3::text[]) AS u(seq, line)",
            &[&org, &seqs, &lines],
        );
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(StoreError::AlreadyExists {
                    what: format!("organization {org} in store {name}"),
                })
            }
            Err(e) => Err(self.fail(&e)),
        }
    }

    /// Waits until another writer's append to `org` is announced, or `timeout` passes; returns
    /// whether one was (the caller still polls now and then: a notification sent while this
    /// connection was down is lost).
    pub(crate) fn wait(&mut self, org: &str, timeout: Duration) -> Result<bool, StoreError> {
        let c = self.conn()?;
        if !c.listening {
            if let Err(e) = c.client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                return Err(self.fail(&e));
            }
            c.listening = true;
            // Listening now: anything appended before is found by the caller's catch-up.
            return Ok(true);
        }
        let deadline = Instant::now() + timeout;
        let outcome = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Ok(false);
            }
            // Owned result: the borrows of the client end with this statement.
            let next = c.client.notifications().timeout_iter(left).next();
            match next {
                Ok(Some(note)) if note.payload() == org => break Ok(true),
                Ok(Some(_)) => continue, // another organization's append
                Ok(None) => break Ok(false),
                Err(e) => break Err(e),
            }
        };
        match outcome {
            Ok(_) if c.client.is_closed() => {
                self.disconnect();
                Err(StoreError::Unavailable {
                    store: self.name.clone(),
                    detail: String::from("the connection was closed"),
                })
            }
            Ok(woken) => Ok(woken),
            Err(e) => Err(self.fail(&e)),
        }
    }
}
