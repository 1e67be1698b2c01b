//! Why a command failed, which exit code that is, and how it is shown (text or SPEC JSON).

use std::fmt::Display;
use std::path::Path;

use support_access_core::{error_json, Error, ErrorCode};
use support_access_store::StoreError;

/// Exit code 1: `check` denied access.
pub const EXIT_DENIED: u8 = 1;
/// Exit code 2: the command line is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit code 3: the policy refused the operation.
pub const EXIT_POLICY: u8 = 3;
/// Exit code 4: the record is tampered, truncated or unreadable.
pub const EXIT_RECORD: u8 = 4;

/// A failed command.
#[derive(Debug)]
pub struct Fail {
    pub exit: u8,
    pub code: String,
    pub message: String,
    pub json: String,
    pub hint: Option<String>,
}

fn cli_error_json(code: &str, message: &str) -> String {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    body.to_string()
}

impl Fail {
    /// A usage error found by the CLI itself (JSON code `USAGE`).
    pub fn usage(message: impl Into<String>) -> Fail {
        let message = message.into();
        Fail {
            exit: EXIT_USAGE,
            code: String::from("USAGE"),
            json: cli_error_json("USAGE", &message),
            message,
            hint: None,
        }
    }

    /// A command-line value the core refused to read (bad enum value, time…): exit 2, the core's JSON.
    pub fn arg(e: Error) -> Fail {
        Fail {
            exit: EXIT_USAGE,
            ..Fail::from_core(&e)
        }
    }

    /// The core refused the operation: exit 3 (4 for a tampered record).
    pub fn policy(e: Error) -> Fail {
        let exit = if e.code() == ErrorCode::RecordTampered {
            EXIT_RECORD
        } else {
            EXIT_POLICY
        };
        Fail {
            exit,
            ..Fail::from_core(&e)
        }
    }

    fn from_core(e: &Error) -> Fail {
        Fail {
            exit: EXIT_POLICY,
            code: String::from(e.code().as_str()),
            message: e.to_string(),
            json: error_json(e),
            hint: None,
        }
    }

    /// The store refused or failed: exit 4 for a tampered, unreadable or unavailable record;
    /// exit 2 for what the command line got wrong (a bad location, `init` over an existing
    /// record, an organization to choose). The JSON code is the store error's code (the core's
    /// `RECORD_TAMPERED` JSON, with `seq`, for a refused record).
    pub fn store(e: StoreError) -> Fail {
        if let StoreError::Tampered { error, .. } = &e {
            return Fail {
                exit: EXIT_RECORD,
                code: String::from(error.code().as_str()),
                message: format!("{e}"),
                json: error_json(error),
                hint: Some(String::from(
                    "the record was left exactly as it is; restore it from a copy you trust",
                )),
            };
        }
        let exit = match &e {
            StoreError::BadLocation { .. }
            | StoreError::AlreadyExists { .. }
            | StoreError::OrgRequired { .. }
            | StoreError::WrongOrg { .. } => EXIT_USAGE,
            _ => EXIT_RECORD,
        };
        let message = e.to_string();
        let hint = match &e {
            StoreError::NotFound { .. } => Some(
                "create one with `support-access init --org ID`, or choose another with --store URL|PATH",
            ),
            StoreError::AlreadyExists { .. } => {
                Some("init only creates new records (choose another with --store URL|PATH or --org ID)")
            }
            StoreError::Unavailable { .. } => Some(
                "nothing was stored; check that the database is up and the URL is right",
            ),
            StoreError::Refused { .. } => {
                Some("nothing was stored; check the URL's user, password, database and the role's privileges")
            }
            _ => None,
        };
        Fail {
            exit,
            code: String::from(e.code()),
            json: cli_error_json(e.code(), &message),
            message,
            hint: hint.map(String::from),
        }
    }

    /// The record could not be read or written: exit 4 (JSON code `RECORD_UNREADABLE`).
    pub fn record_io(path: &Path, what: &str, e: impl Display) -> Fail {
        let message = format!("cannot {what} record {}: {e}", path.display());
        Fail {
            exit: EXIT_RECORD,
            code: String::from("RECORD_UNREADABLE"),
            json: cli_error_json("RECORD_UNREADABLE", &message),
            message,
            hint: None,
        }
    }

    /// Adds a hint shown under the message (text mode only).
    pub fn hint(mut self, hint: impl Into<String>) -> Fail {
        self.hint = Some(hint.into());
        self
    }

    /// Prints the failure: JSON on stdout with `--json`, otherwise text on stderr.
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", self.json);
        } else {
            eprintln!("error: {} [{}]", self.message, self.code);
            if let Some(h) = &self.hint {
                eprintln!("  hint: {h}");
            }
        }
    }
}
