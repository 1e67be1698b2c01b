//! What can go wrong with a store, as one enum a caller can match on, each variant with a
//! stable code (the CLI prints it, a service maps it to a status).

use support_access_core::Error;

/// A store operation failed. Nothing was stored by the command that got this error, except
/// where a variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The location is neither a path nor a `postgres://` / `postgresql://` URL that parses.
    #[error("bad store location {location}: {detail}")]
    BadLocation {
        /// The location as given (its password hidden).
        location: String,
        /// Why it does not parse.
        detail: String,
    },
    /// The database cannot be reached, or the connection was lost and did not come back
    /// within the retry time. The command was not stored.
    #[error("store {store} is unavailable: {detail}")]
    Unavailable {
        /// Where (password hidden).
        store: String,
        /// One readable line from the driver or the server.
        detail: String,
    },
    /// The server refused: the login, the database, a privilege, a query. Retrying does not
    /// help; nothing was stored.
    #[error("store {store} refused: {detail}")]
    Refused {
        /// Where (password hidden).
        store: String,
        /// The server's message and SQLSTATE.
        detail: String,
    },
    /// The store holds no record for this organization (a missing file, no rows).
    #[error("store {store} has no record for {what}")]
    NotFound {
        /// Where.
        store: String,
        /// `organization ORG`, or `a record` for a missing file.
        what: String,
    },
    /// `create` found a record there already (a file that exists, an organization with rows).
    #[error("{what} already exists")]
    AlreadyExists {
        /// `record PATH`, or `organization ORG in store URL`.
        what: String,
    },
    /// No organization was named and the store holds several.
    #[error("store {store} holds {}; choose one with --org", describe_orgs(.orgs))]
    OrgRequired {
        /// Where.
        store: String,
        /// The organizations it holds.
        orgs: Vec<String>,
    },
    /// The organization named is not the one the record file belongs to.
    #[error("store {store} is the record of organization {found}, not {wanted}")]
    WrongOrg {
        /// Where.
        store: String,
        /// The organization asked for.
        wanted: String,
        /// The one the file holds.
        found: String,
    },
    /// A stored line does not verify: the core's `RECORD_TAMPERED` with the bad `seq`. The
    /// line is never built upon; the cache stays at the last event that verified.
    #[error("record {store} is refused: {error}")]
    Tampered {
        /// Where.
        store: String,
        /// The core's error (always `RECORD_TAMPERED`, with `seq`).
        error: Error,
    },
    /// Reading or writing the record file failed.
    #[error("cannot {what} record {store}: {detail}")]
    Io {
        /// Where.
        store: String,
        /// The operation (`open`, `lock`, `append to`, …).
        what: &'static str,
        /// The OS error.
        detail: String,
    },
    /// Other writers won the race for the head every time until the retry time ran out.
    #[error("store {store}: gave up after {attempts} attempts lost to other writers")]
    Contended {
        /// Where.
        store: String,
        /// How many times the command was tried.
        attempts: u32,
    },
}

fn describe_orgs(orgs: &[String]) -> String {
    format!("several organizations ({})", orgs.join(", "))
}

impl StoreError {
    /// The stable code: the core's code for [`StoreError::Tampered`], otherwise one of
    /// `STORE_UNAVAILABLE`, `STORE_REFUSED`, `RECORD_UNREADABLE` (missing file or organization, I/O), `RECORD_EXISTS`,
    /// `ORG_REQUIRED`, `USAGE` (bad location) and `STORE_CONTENDED`.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::BadLocation { .. } => "USAGE",
            StoreError::Unavailable { .. } => "STORE_UNAVAILABLE",
            StoreError::Refused { .. } => "STORE_REFUSED",
            StoreError::NotFound { .. } | StoreError::Io { .. } => "RECORD_UNREADABLE",
            StoreError::AlreadyExists { .. } => "RECORD_EXISTS",
            StoreError::OrgRequired { .. } | StoreError::WrongOrg { .. } => "ORG_REQUIRED",
            StoreError::Tampered { error, .. } => error.code().as_str(),
            StoreError::Contended { .. } => "STORE_CONTENDED",
        }
    }

    /// The `seq` a [`StoreError::Tampered`] names.
    pub fn seq(&self) -> Option<u64> {
        match self {
            StoreError::Tampered { error, .. } => error.seq(),
            _ => None,
        }
    }

    /// Whether trying again later may succeed (a lost connection, a restarting server).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}
