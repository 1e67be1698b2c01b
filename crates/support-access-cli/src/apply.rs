//! `support-access apply`: the SPEC's JSON command interface over the record file.
//!
//! One command from the command line, or a stream of them on standard input (one per line, one
//! result per line). A stream is a long-running writer: it replays the record once, then holds
//! the file lock only while it handles a command, and catches up with what other processes
//! appended meanwhile by verifying just those lines (`Store::relock`). The result bytes are the
//! core's `apply` result, identical to every binding's.

use std::borrow::Cow;
use std::io::{BufRead, Write};

use support_access_core::{apply_bytes, error_json, Error};

use crate::args::Global;
use crate::fail::{Fail, EXIT_POLICY};
use crate::store::Store;

/// Ops that never change the policy: they run under a shared lock.
const READ_ONLY: &[&str] = &[
    "evaluate",
    "evaluateMany",
    "evaluateAt",
    "remaining",
    "continueLogDownload",
    "exportRecord",
    "verifyRecord",
    "describe",
];

#[derive(serde::Deserialize)]
struct OpOnly<'a> {
    #[serde(borrow, default)]
    op: Option<Cow<'a, str>>,
}

/// The command's `op`, if it is a JSON object with a string `op` (the core judges the rest).
fn op_of(command: &[u8]) -> Option<Cow<'_, str>> {
    serde_json::from_slice::<OpOnly<'_>>(command).ok()?.op
}

/// Runs one command against the locked, caught-up store; appends what it recorded. The
/// command is bytes: a line that is not UTF-8 is the core's MALFORMED_INPUT result like any
/// other bad command, and the stream goes on.
fn one(store: &mut Store, command: &[u8]) -> Result<String, Fail> {
    if op_of(command).as_deref() == Some("replay") {
        return Ok(error_json(&Error::MalformedInput {
            detail: String::from(
                "`replay` would replace the record file's history; the record file is append-only \
                 (replay a record with the library, or `init` a new file)",
            ),
        }));
    }
    let result = apply_bytes(&mut store.policy, command);
    store.commit()?;
    Ok(result)
}

fn writes(command: &[u8]) -> bool {
    !matches!(op_of(command), Some(op) if READ_ONLY.contains(&op.as_ref()))
}

/// `apply [COMMAND]`; returns the exit code.
pub fn run(g: &Global, command: Option<&str>) -> Result<u8, Fail> {
    if let Some(command) = command {
        let command = command.as_bytes();
        let mut store = Store::open(&g.record, writes(command))?;
        let result = one(&mut store, command)?;
        println!("{result}");
        return Ok(if result.starts_with("{\"ok\"") {
            0
        } else {
            EXIT_POLICY
        });
    }
    // A stream: verify the whole file once, then hold no lock while waiting for input.
    let mut store = Store::open(&g.record, true)?;
    store.unlock()?;
    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Fail::usage(format!("cannot read standard input: {e}")))?;
        if n == 0 {
            break;
        }
        let command = line.trim_ascii();
        if command.is_empty() {
            continue;
        }
        store.relock(writes(command))?;
        let result = one(&mut store, command);
        store.unlock()?;
        let result = result?;
        writeln!(out, "{result}")
            .and_then(|()| out.flush())
            .map_err(|e| Fail::usage(format!("cannot write standard output: {e}")))?;
    }
    Ok(0)
}
