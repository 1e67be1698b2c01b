//! What the CLI's test files share.

use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_support-access");

/// `support-access` with none of its environment variables set (the tests say what they mean
/// on the command line) and no colors.
pub fn cmd() -> Command {
    let mut c = Command::new(BIN);
    for v in [
        "SUPPORT_ACCESS_RECORD",
        "SUPPORT_ACCESS_STORE",
        "SUPPORT_ACCESS_ORG",
        "SUPPORT_ACCESS_ACTOR",
        "SUPPORT_ACCESS_ROLES",
        "SUPPORT_ACCESS_STORE_RETRY",
    ] {
        c.env_remove(v);
    }
    c.env("NO_COLOR", "1");
    c
}

/// Asserts the exit code; gives stdout and stderr together, for the message checks that follow.
#[track_caller]
#[allow(dead_code)] // not every test file that shares this module asserts exit codes this way
pub fn exit(o: &Output, code: i32) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(code), "{text}");
    text
}
