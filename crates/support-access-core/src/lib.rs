//! # support-access-core
//!
//! Decides, and records, who may reach a managed database cluster's backend: the policy core of
//! *support-access*, modeled on MongoDB Atlas' "MongoDB Support access to backend
//! infrastructure". An organization may block support staff (`restrictEmployeeAccess`); cluster
//! admins then grant time-limited access of a given type, revoke it at any time, and it expires
//! on its own. Every change is an event in a hash-chained record that alone rebuilds the policy.
//!
//! One core serves every runtime (C, Python, Node, WebAssembly, the CLI): each front end wraps
//! either the typed API ([`Policy`]) or the JSON command interface ([`apply`]), never its own
//! copy of the rules. The contract is `docs/spec.md` in the repository; the conformance vectors
//! in `tests/vectors/` are its executable form.
//!
//! ```
//! use support_access_core::{Actor, GrantType, Policy, PolicyOptions, Reason, Resource, Timestamp};
//!
//! let mut options = PolicyOptions::new("org-1");
//! options.restrict_employee_access = true;
//! let mut policy = Policy::new(options)?;
//! let owner = Actor::org_owner("alice")?;
//! let now = Timestamp::parse_rfc3339("2026-11-28T12:00:00Z")?;
//! policy.add_project(&owner, "p1", now)?;
//! policy.add_cluster(&owner, "p1", "Cluster0", Default::default(), false, now)?;
//!
//! let d = policy.evaluate("Cluster0", Resource::DatabaseLogs, now)?;
//! assert!(!d.allowed);
//! assert_eq!(d.reason, Reason::NoGrant);
//!
//! policy.grant(&owner, "Cluster0", GrantType::ClusterDatabaseLogs, now, None)?;
//! let d = policy.evaluate("Cluster0", Resource::DatabaseLogs, now)?;
//! assert!(d.allowed);
//! assert_eq!(d.remaining_ms, Some(24 * 3600 * 1000));
//!
//! // The record alone rebuilds the policy.
//! let again = Policy::replay(&policy.export_record())?;
//! assert_eq!(again, policy);
//! # Ok::<(), support_access_core::Error>(())
//! ```
//!
//! ## Features
//! - `std` (default): `std`-backed serde_json and friends. Without it the crate is `#![no_std]`
//!   and needs only `alloc` (it builds for `thumbv7em-none-eabihf`).
//! - `sign` (default): signing checkpoints ([`SigningKey`], [`Policy::checkpoint`], the
//!   `publicKey` and `checkpoint` commands). Without it the crate still parses and verifies
//!   checkpoints, and those two commands answer `UNKNOWN_OP`: what the browser package builds,
//!   to stay small (docs/benchmarks.md).
//!
//! ## Time
//! The core never reads a clock. Every operation takes its time ([`Timestamp`], UTC,
//! millisecond precision) from the caller. A grant is active while `now < expirationTime`.
//! Creation too: the record starts at [`PolicyOptions::created_at`] (the options' `now`), or at
//! 1970-01-01T00:00:00.000Z when the caller gives no creation time.
//!
//! ## The record's canonical encoding
//! See [`codec`] for the exact bytes that are hashed and [`replay`] for how verification works.
//!
//! ## Reading the core, from its ground floor up
//! No module imports one above it (no import circles):
//! 1. [`vocab`] (the SPEC's closed vocabularies, one enum macro) and [`time`] (`Timestamp` and its
//!    canonical text) import nothing else of the crate;
//! 2. [`error`]: the one error enum and its stable codes;
//! 3. [`model`]: roles, actors, ids, and reading the vocabularies and times from text;
//! 4. [`wire`] (strict JSON readers), [`grant`], [`decision`] (SPEC §4, the hot path);
//! 5. [`atlas`] (Admin API documents), [`event`], [`codec`] (the one encoder and decoder),
//!    [`record`] (the hash-chained buffer);
//! 6. [`policy`] (the state and its operations), [`replay`] (verification and the past);
//! 7. [`checkpoint`] (signed heads) and [`command`] (the JSON command interface every front end
//!    shares);
//! 8. [`ffi`]: the edge layer the bindings call (errors as data, packed decisions, batches, the
//!    grant view, times, cluster ids cached by generation) instead of writing their own.
//!
//! ## Checkpoints
//! The chain cannot show a record cut short at its end, nor one rewritten from some event on by
//! whoever can write the store. [`checkpoint`] signs the head ([`Policy::checkpoint`]) and checks
//! a record against such signatures ([`Policy::verify_checkpoints`]).
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod atlas;
pub mod checkpoint;
pub mod codec;
pub mod command;
pub mod decision;
pub mod error;
pub mod event;
pub mod ffi;
pub mod grant;
pub mod model;
pub mod policy;
pub mod record;
pub mod replay;
mod sorted;
pub mod time;
pub mod vocab;
pub mod wire;

pub use atlas::AtlasClusters;
#[cfg(feature = "sign")]
pub use checkpoint::SigningKey;
pub use checkpoint::{Checkpoint, KeyId, PublicKey};
pub use command::{apply, apply_bytes, error_json, new_policy_json};
pub use decision::{Decision, Reason};
pub use error::{Error, ErrorCode};
pub use grant::{GrantState, DEFAULT_GRANT_MS};
pub use model::{Actor, ClusterKind, GrantType, Resource, Role, RoleName, Timestamp};
pub use policy::{Cluster, ClusterId, LoadSummary, Policy, PolicyOptions, Request, Savepoint};
pub use record::{AtlasGrant, Event, EventKind, Lines, Record};
pub use replay::{verify, Replayer};

/// The crate version, for front ends to report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
