//! `support-access apply`: the SPEC's JSON command interface over the record's store.
//!
//! One command from the command line, or a stream of them on standard input (one per line, one
//! result per line). A stream is a long-running writer: it replays the record once, then for
//! each command catches up with what other writers stored meanwhile by verifying just those
//! lines, applies the command and stores its events compare-and-set on the head (a command that
//! lost the race runs again on the new state). The result bytes are the core's `apply` result,
//! identical to every binding's.

use std::borrow::Cow;
use std::io::{BufRead, Write};

use support_access_core::wire::MAX_COMMAND_LEN;
use support_access_core::{error_json, Error};
use support_access_store::{Store, StoreError};

use crate::args::Global;
use crate::fail::{Fail, EXIT_POLICY};

#[derive(serde::Deserialize)]
struct OpOnly<'a> {
    #[serde(borrow, default)]
    op: Option<Cow<'a, str>>,
}

/// The command's `op`, if it is a JSON object with a string `op` (the core judges the rest).
fn op_of(command: &[u8]) -> Option<Cow<'_, str>> {
    serde_json::from_slice::<OpOnly<'_>>(command).ok()?.op
}

/// Runs one command against the caught-up store and stores what it recorded. The command is
/// bytes: a line that is not UTF-8 is the core's MALFORMED_INPUT result like any other bad
/// command, and the stream goes on.
fn one(store: &mut Store, command: &[u8]) -> Result<String, StoreError> {
    if op_of(command).as_deref() == Some("replay") {
        return Ok(error_json(&Error::MalformedInput {
            detail: String::from(
                "`replay` would replace the stored history; the record is append-only \
                 (replay a record with the library, or `init` a new one)",
            ),
        }));
    }
    store.apply(command)
}

/// The most of one input line a stream holds: the core's command limit and room to cut back to
/// a whole character.
const LINE_CAP: usize = MAX_COMMAND_LEN + 4;

/// Reads the next line (without its newline) into `line`, keeping at most `cap` bytes and
/// reading past the rest: memory stays bounded whatever the input. `None` at the end of the
/// input; `Some(true)` when the line was longer than `cap`.
fn read_line_capped(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<bool>> {
    line.clear();
    let (mut any, mut cut) = (false, false);
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let newline = buf.iter().position(|&b| b == b'\n');
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        let room = cap.saturating_sub(line.len());
        cut |= chunk.len() > room;
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = newline.map_or(buf.len(), |i| i + 1);
        input.consume(used);
        if newline.is_some() {
            return Ok(Some(cut));
        }
    }
}

/// `apply [COMMAND]`; returns the exit code.
pub fn run(g: &Global, command: Option<&str>) -> Result<u8, Fail> {
    let mut store = crate::open::open(g)?;
    if let Some(command) = command {
        let result = one(&mut store, command.as_bytes()).map_err(Fail::store)?;
        println!("{result}");
        return Ok(if result.starts_with("{\"ok\"") {
            0
        } else {
            EXIT_POLICY
        });
    }
    // A stream: the whole record was verified once by `open`; from here on only new lines.
    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        let cut = match read_line_capped(&mut input, &mut line, LINE_CAP) {
            Ok(Some(cut)) => cut,
            Ok(None) => break,
            Err(e) => return Err(Fail::usage(format!("cannot read standard input: {e}"))),
        };
        let command = if cut {
            // Over the core's limit: what was kept (cut back to whole characters) is still
            // over it, so the core answers MALFORMED_INPUT without the rest ever being held.
            let whole = match std::str::from_utf8(&line) {
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                _ => line.len(),
            };
            &line[..whole]
        } else {
            line.trim_ascii()
        };
        if command.is_empty() {
            continue;
        }
        let result = match one(&mut store, command) {
            Ok(r) => r,
            // The store is down past the retry time: this command was not stored; say so and
            // take the next (the store may be back by then). A refused record ends the stream.
            Err(e) if e.is_transient() => Fail::store(e).json,
            Err(e) => return Err(Fail::store(e)),
        };
        writeln!(out, "{result}")
            .and_then(|()| out.flush())
            .map_err(|e| Fail::usage(format!("cannot write standard output: {e}")))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_capped_and_the_rest_is_skipped() {
        // A tiny buffer so lines span many fill_buf calls.
        let data = b"short\n0123456789abcdef\n\nlast-without-newline";
        let mut input = std::io::BufReader::with_capacity(3, &data[..]);
        let mut line = Vec::new();
        let mut got = Vec::new();
        while let Some(cut) = read_line_capped(&mut input, &mut line, 8).unwrap() {
            got.push((String::from_utf8(line.clone()).unwrap(), cut));
        }
        let want = [
            ("short", false),
            ("01234567", true),
            ("", false),
            ("last-wit", true),
        ];
        assert_eq!(
            got,
            want.map(|(s, c)| (String::from(s), c)).to_vec(),
            "{got:?}"
        );
    }
}
