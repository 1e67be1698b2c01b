//! One error enum for every failure the SPEC names. Each variant maps to one stable code
//! ([`ErrorCode`]), which is what every front end exposes: a Python exception's `.code`, a JS
//! `Error`'s `.code`, a C `sa_status`, the `code` of a JSON error. The message is for people;
//! the code is for programs.

use alloc::string::String;

use crate::time::Timestamp;
use crate::vocab::{ClusterKind, Reason};

pub use crate::vocab::ErrorCode;

/// The largest command `apply` reads, in bytes (32 MiB).
pub const MAX_COMMAND_LEN: usize = 32 << 20;

/// The longest user-supplied text an error message repeats; longer values are clipped so an
/// oversized input cannot make an oversized error.
const CLIP: usize = 64;

/// Clips user-supplied text for an error message (on a char boundary, with `…`).
pub(crate) fn clip(s: &str) -> String {
    if s.len() <= CLIP {
        return String::from(s);
    }
    let mut end = CLIP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::from(&s[..end]);
    out.push('…');
    out
}

/// Everything that can go wrong, one variant per SPEC error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The actor's roles do not allow the operation (SPEC §2).
    #[error("actor `{actor}` may not {action}")]
    Forbidden {
        /// The actor's id.
        actor: String,
        /// What it tried, e.g. `grant access on cluster Cluster0`.
        action: String,
    },
    /// A value is not one of the SPEC's strings.
    #[error("`{value}` is not a valid {field}")]
    InvalidEnumValue {
        /// The field, e.g. `grantType`.
        field: &'static str,
        /// The value given (clipped).
        value: String,
    },
    /// A time could not be read.
    #[error("invalid timestamp `{value}`: {detail}")]
    InvalidTimestamp {
        /// The value given (clipped).
        value: String,
        /// Why it was refused.
        detail: &'static str,
    },
    /// A cluster name breaks `^[a-zA-Z0-9][a-zA-Z0-9-]*$` or the 1–64 length.
    #[error("invalid cluster name `{name}`: names are 1-64 letters, digits and hyphens, starting with a letter or digit")]
    InvalidClusterName {
        /// The name given (clipped).
        name: String,
    },
    /// Bad JSON, a missing or extra field, a field of the wrong type, an oversized value.
    #[error("malformed input: {detail}")]
    MalformedInput {
        /// What and where.
        detail: String,
    },
    /// The command's `op` is not one of SPEC section 7.
    #[error("unknown op `{op}`")]
    UnknownOp {
        /// The op given (clipped).
        op: String,
    },
    /// No such project.
    #[error("project `{project_id}` not found")]
    ProjectNotFound {
        /// The project asked for.
        project_id: String,
    },
    /// No such cluster.
    #[error("cluster `{name}` not found")]
    ClusterNotFound {
        /// The cluster asked for.
        name: String,
    },
    /// The project already exists.
    #[error("project `{project_id}` already exists")]
    DuplicateProject {
        /// The project.
        project_id: String,
    },
    /// A cluster of that name already exists in the organization.
    #[error("cluster `{name}` already exists")]
    DuplicateCluster {
        /// The cluster.
        name: String,
    },
    /// Flex and serverless clusters take no grants.
    #[error("cluster `{name}` is {kind}: only DEDICATED clusters take support access grants")]
    UnsupportedClusterKind {
        /// The cluster.
        name: String,
        /// Its kind.
        kind: ClusterKind,
    },
    /// A sync-data grant on a cluster without App Services sync.
    #[error("cluster `{name}` does not have App Services sync enabled")]
    SyncNotEnabled {
        /// The cluster.
        name: String,
    },
    /// `expirationTime` is not after `now`.
    #[error("expirationTime {expiration} is not after now ({now})")]
    ExpirationNotInFuture {
        /// The requested expiration.
        expiration: Timestamp,
        /// The time of the request.
        now: Timestamp,
    },
    /// `expirationTime` is further than `maxGrantDuration` from `now`.
    #[error("expirationTime {expiration} is more than {max_ms} ms after now ({now})")]
    ExpirationTooFar {
        /// The requested expiration.
        expiration: Timestamp,
        /// The time of the request.
        now: Timestamp,
        /// The policy's `maxGrantDurationMs`.
        max_ms: i64,
    },
    /// Revoke with nothing to revoke.
    #[error("cluster `{name}` has no active grant")]
    NoActiveGrant {
        /// The cluster.
        name: String,
    },
    /// A mutation dated before the last recorded event.
    #[error("now ({now}) is before the last recorded event ({last})")]
    ClockWentBackwards {
        /// The time of the request.
        now: Timestamp,
        /// The time of the last recorded event.
        last: Timestamp,
    },
    /// A log download was asked for without access.
    #[error("access denied: {reason}")]
    AccessDenied {
        /// Why evaluation denied it.
        reason: Reason,
    },
    /// No download in progress with that id.
    #[error("download `{download_id}` not found or already finished")]
    DownloadNotFound {
        /// The id given (clipped).
        download_id: String,
    },
    /// The record is not what this core would have written.
    #[error("record tampered at seq {seq}: {detail}")]
    RecordTampered {
        /// The first event that is wrong (1-based; one past the end for a missing event).
        seq: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// The record ends before a checkpoint's `seq`: events were cut off its end (SPEC §9).
    #[error("record truncated: it has {events} events, but a checkpoint signed by key `{key_id}` holds seq {seq}")]
    RecordTruncated {
        /// The checkpoint's `seq`, which the record no longer reaches.
        seq: u64,
        /// How many events the record has.
        events: u64,
        /// The key that signed that checkpoint.
        key_id: String,
    },
    /// A checkpoint does not describe this record: the event at its `seq` has another hash (the
    /// chain was rewritten from there or before), or it is of another organization (SPEC §9).
    #[error("checkpoint mismatch at seq {seq}: {detail}")]
    CheckpointMismatch {
        /// The checkpoint's `seq`.
        seq: u64,
        /// What differs.
        detail: String,
    },
    /// Two signed checkpoints name different heads for the same `seq`: one of them, or the
    /// signer, lies, whatever the record says (SPEC §9).
    #[error("checkpoints disagree at seq {seq}: one holds hash {first}, another {second}")]
    CheckpointsDisagree {
        /// The `seq` both name.
        seq: u64,
        /// The hash in the first of them (in the order given).
        first: String,
        /// The other hash.
        second: String,
    },
    /// A checkpoint's signature does not verify with the trusted key its key id names.
    #[error("bad signature: the checkpoint of seq {seq} does not verify with key `{key_id}`")]
    BadSignature {
        /// The checkpoint's `seq`.
        seq: u64,
        /// The key id it names.
        key_id: String,
    },
    /// A checkpoint is signed by a key that is not among the trusted keys.
    #[error("untrusted key: the checkpoint of seq {seq} is signed by key `{key_id}`, which is not trusted")]
    UntrustedKey {
        /// The checkpoint's `seq`.
        seq: u64,
        /// The key id it names.
        key_id: String,
    },
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Forbidden { .. } => ErrorCode::Forbidden,
            Error::InvalidEnumValue { .. } => ErrorCode::InvalidEnumValue,
            Error::InvalidTimestamp { .. } => ErrorCode::InvalidTimestamp,
            Error::InvalidClusterName { .. } => ErrorCode::InvalidClusterName,
            Error::MalformedInput { .. } => ErrorCode::MalformedInput,
            Error::UnknownOp { .. } => ErrorCode::UnknownOp,
            Error::ProjectNotFound { .. } => ErrorCode::ProjectNotFound,
            Error::ClusterNotFound { .. } => ErrorCode::ClusterNotFound,
            Error::DuplicateProject { .. } => ErrorCode::DuplicateProject,
            Error::DuplicateCluster { .. } => ErrorCode::DuplicateCluster,
            Error::UnsupportedClusterKind { .. } => ErrorCode::UnsupportedClusterKind,
            Error::SyncNotEnabled { .. } => ErrorCode::SyncNotEnabled,
            Error::ExpirationNotInFuture { .. } => ErrorCode::ExpirationNotInFuture,
            Error::ExpirationTooFar { .. } => ErrorCode::ExpirationTooFar,
            Error::NoActiveGrant { .. } => ErrorCode::NoActiveGrant,
            Error::ClockWentBackwards { .. } => ErrorCode::ClockWentBackwards,
            Error::AccessDenied { .. } => ErrorCode::AccessDenied,
            Error::DownloadNotFound { .. } => ErrorCode::DownloadNotFound,
            Error::RecordTampered { .. } => ErrorCode::RecordTampered,
            Error::RecordTruncated { .. } => ErrorCode::RecordTruncated,
            Error::CheckpointMismatch { .. } => ErrorCode::CheckpointMismatch,
            Error::CheckpointsDisagree { .. } => ErrorCode::CheckpointsDisagree,
            Error::BadSignature { .. } => ErrorCode::BadSignature,
            Error::UntrustedKey { .. } => ErrorCode::UntrustedKey,
        }
    }
}

impl Error {
    /// The error for a command longer than [`MAX_COMMAND_LEN`] bytes. Public so a
    /// front end that answers such a command without copying it in (WebAssembly, whose memory
    /// never shrinks) gives exactly the core's error.
    pub fn command_too_long() -> Error {
        Error::malformed(alloc::format!(
            "command longer than {} bytes",
            MAX_COMMAND_LEN
        ))
    }

    /// The error for a command that is not UTF-8; `valid_up_to` is the offset of the first bad
    /// byte (`Utf8Error::valid_up_to`).
    pub fn command_not_utf8(valid_up_to: usize) -> Error {
        Error::malformed(alloc::format!(
            "command is not UTF-8 (invalid byte at {valid_up_to})"
        ))
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Error {
        Error::MalformedInput {
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_enum(field: &'static str, value: &str) -> Error {
        Error::InvalidEnumValue {
            field,
            value: clip(value),
        }
    }

    pub(crate) fn cluster_not_found(name: &str) -> Error {
        Error::ClusterNotFound { name: clip(name) }
    }

    pub(crate) fn tampered(seq: u64, detail: impl Into<String>) -> Error {
        Error::RecordTampered {
            seq,
            detail: detail.into(),
        }
    }

    /// The `seq` an error is about: for `RECORD_TAMPERED` the first bad event's; for the
    /// checkpoint errors (SPEC §9) the `seq` of the checkpoint that was refused.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Error::RecordTampered { seq, .. }
            | Error::RecordTruncated { seq, .. }
            | Error::CheckpointMismatch { seq, .. }
            | Error::CheckpointsDisagree { seq, .. }
            | Error::BadSignature { seq, .. }
            | Error::UntrustedKey { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// For `ACCESS_DENIED`: why access was denied.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Error::AccessDenied { reason } => Some(*reason),
            _ => None,
        }
    }
}
