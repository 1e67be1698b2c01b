//! The tamper-evident record (SPEC section 5): the events of one policy as their canonical
//! JSON Lines text, appended to and read back without re-encoding. The bytes of each line are
//! `codec`'s; verification (replaying a record) is in the `replay` module.

use alloc::string::String;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::codec::{to_hex, Body};
use crate::model::{Actor, Timestamp};

pub use crate::atlas::{AtlasGrant, LoadedCluster};
pub use crate::event::{Event, EventKind, ReplacedGrant, GENESIS_PREV};

/// The events of one policy, in order: their canonical lines, kept as the JSON Lines text itself
/// (one buffer plus line ends) so exporting is a copy and cloning a policy is cheap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    text: String,
    ends: Vec<usize>,
    ats: Vec<Timestamp>,
    last_hash: String,
    quiet: Quiet,
}

/// The lines of a [`Record`] (see [`Record::lines`]).
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    record: &'a Record,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.front >= self.back {
            return None;
        }
        self.front += 1;
        self.record.line(self.front - 1)
    }

    fn nth(&mut self, n: usize) -> Option<&'a str> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn count(self) -> usize {
        self.back - self.front
    }

    fn last(mut self) -> Option<&'a str> {
        self.next_back()
    }
}

impl<'a> DoubleEndedIterator for Lines<'a> {
    fn next_back(&mut self) -> Option<&'a str> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.record.line(self.back)
    }

    fn nth_back(&mut self, n: usize) -> Option<&'a str> {
        self.back = self.back.saturating_sub(n).max(self.front);
        self.next_back()
    }
}

impl ExactSizeIterator for Lines<'_> {}

impl core::iter::FusedIterator for Lines<'_> {}

/// A mode, not content: two records with the same events are equal whatever their mode.
#[derive(Debug, Clone, Copy, Default)]
struct Quiet(bool);

impl PartialEq for Quiet {
    fn eq(&self, _: &Quiet) -> bool {
        true
    }
}

impl Eq for Quiet {}

impl Record {
    /// Appends an event, computing its `seq`, `prev` and `hash`. The line is written straight
    /// into the record's text and hashed there.
    pub(crate) fn append(
        &mut self,
        at: Timestamp,
        actor: Option<&Actor>,
        kind: EventKind,
    ) -> Event {
        let seq = self.ends.len() as u64 + 1;
        let quiet = self.quiet.0;
        let prev: &str = if self.ends.is_empty() {
            GENESIS_PREV
        } else {
            &self.last_hash
        };
        let prev_owned = if quiet {
            String::new()
        } else {
            String::from(prev)
        };
        let start = self.text.len();
        Body {
            seq,
            at,
            actor,
            kind: &kind,
            prev,
        }
        .write(&mut self.text);
        let digest = Sha256::digest(&self.text.as_bytes()[start..]);
        self.text.pop(); // the closing brace
        self.text.push_str(",\"hash\":\"");
        let hash_at = self.text.len();
        to_hex(&digest, &mut self.text);
        self.last_hash.clear();
        self.last_hash.push_str(&self.text[hash_at..]);
        self.text.push_str("\"}");
        let line_end = self.text.len();
        self.text.push('\n');
        self.ends.push(self.text.len());
        self.ats.push(at);
        if quiet {
            return Event::from_parts(
                seq,
                at,
                None,
                kind,
                String::new(),
                String::new(),
                String::new(),
            );
        }
        Event::from_parts(
            seq,
            at,
            actor.cloned(),
            kind,
            prev_owned,
            self.last_hash.clone(),
            String::from(&self.text[start..line_end]),
        )
    }

    /// Reserves room for `bytes` of text (a replay knows the record's size in advance).
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.text.reserve(bytes.saturating_sub(self.text.len()));
    }

    /// While replaying, the events the typed API returns are dropped unread: `quiet` skips
    /// building them (their copies of actor, hashes and line were a fifth of replay time).
    /// Only the replayer sets it, and only while it owns the policy.
    pub(crate) fn set_quiet(&mut self, quiet: bool) {
        self.quiet = Quiet(quiet);
    }

    /// Keeps the first `len` events and forgets the rest (a [`crate::Savepoint`] rollback).
    /// `len` must be at least 1 and at most [`Record::len`]; the head hash is read back from
    /// the new last line, whose canonical form ends with `"hash":"<64 hex>"}`.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.ends.len() || len == 0 {
            return;
        }
        self.ends.truncate(len);
        self.ats.truncate(len);
        self.text.truncate(self.ends[len - 1]);
        let line_end = self.text.len() - 1; // before the newline
        let hash = line_end.checked_sub(66).map_or(0..0, |at| at..at + 64);
        self.last_hash.clear();
        self.last_hash.push_str(&self.text[hash]);
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Never true for a policy's record (it starts with `POLICY_CREATED`).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The canonical line of the event at `index` (0-based; `seq - 1`), without its newline.
    pub fn line(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.text[start..end - 1])
    }

    /// The canonical lines, in order. Skipping ahead (`skip`, `nth`, `last`) is O(1), so
    /// reading the lines past a known count costs only those lines.
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            record: self,
            front: 0,
            back: self.ends.len(),
        }
    }

    /// The time of the last event (the clock a mutation may not go behind).
    pub fn last_at(&self) -> Timestamp {
        self.ats.last().copied().unwrap_or(Timestamp::EPOCH)
    }

    /// How many events happened at or before `t` (events are in time order).
    pub(crate) fn count_until(&self, t: Timestamp) -> usize {
        self.ats.partition_point(|a| *a <= t)
    }

    /// The record as JSON Lines text (each line ends with `\n`).
    pub fn as_text(&self) -> &str {
        &self.text
    }

    /// The record as JSON Lines text, owned.
    pub fn export(&self) -> String {
        self.text.clone()
    }

    /// The last event's hash (the head of the chain), to anchor a record elsewhere.
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    /// The hash of the event at `index` (0-based; `seq - 1`): what a checkpoint of that `seq`
    /// must hold (SPEC §9). Read from the line, whose canonical form ends `"hash":"<64 hex>"}`.
    pub fn hash_at(&self, index: usize) -> Option<&str> {
        let line = self.line(index)?;
        line.len().checked_sub(66).map(|at| &line[at..at + 64])
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use alloc::format;

    /// A record's lines walk forwards and back, and skip ahead without reading what they skip.
    #[test]
    fn lines_skip_ahead_and_walk_back() {
        let mut r = Record::default();
        let t = Timestamp::from_millis(0).unwrap();
        let owner = Actor::org_owner("o").unwrap();
        for i in 0..5 {
            r.append(
                t,
                Some(&owner),
                EventKind::ProjectAdded {
                    project_id: format!("p{i}"),
                },
            );
        }
        let all: Vec<&str> = (0..5).map(|i| r.line(i).unwrap()).collect();
        assert_eq!(r.lines().collect::<Vec<_>>(), all);
        assert_eq!(r.lines().skip(3).collect::<Vec<_>>(), &all[3..]);
        assert_eq!(r.lines().skip(9).count(), 0);
        assert_eq!(
            r.lines().rev().collect::<Vec<_>>(),
            all.iter().rev().copied().collect::<Vec<_>>()
        );
        assert_eq!(r.lines().last(), Some(all[4]));
        assert_eq!(r.lines().nth_back(1), Some(all[3]));
        let mut it = r.lines();
        assert_eq!(
            (it.next(), it.next_back(), it.len()),
            (Some(all[0]), Some(all[4]), 3)
        );
        assert_eq!(it.nth(5), None);
        assert_eq!(it.next_back(), None);
        assert_eq!(r.lines().count(), 5);
    }
}
