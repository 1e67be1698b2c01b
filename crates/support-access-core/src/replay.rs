//! Verifying and replaying a record (SPEC section 5).
//!
//! There is one procedure for both: start from the `POLICY_CREATED` options, then feed each
//! event's operation back through the same typed API that wrote it and demand that the core
//! writes exactly the bytes of the record — the expiry sweeps it performs included. The first
//! line that differs, fails to parse or describes an operation the policy refuses is the
//! tampered `seq`. Hence replaying and then continuing writes the same bytes as never stopping,
//! and a record cannot smuggle in a grant that the rules would have refused.
//!
//! What a hash chain cannot show by itself is a record cut short at its end; anchor the head
//! ([`crate::record::Record::last_hash`], returned by verify) elsewhere to catch that.

use alloc::format;
use alloc::vec::Vec;

use crate::codec::read_op_fast;

pub use crate::codec::parse_event;
use crate::error::Error;
use crate::event::{Event, EventKind};
use crate::model::{Resource, Timestamp};
use crate::policy::{Policy, PolicyOptions};

#[cfg(all(test, feature = "std"))]
use serde_json::Value;

/// Feeds one event's operation back through the typed API.
fn redo(p: &mut Policy, e: &Event) -> Result<(), Error> {
    let actor = || {
        e.actor
            .as_ref()
            .ok_or_else(|| Error::malformed("this event type needs an actor"))
    };
    let at = e.at;
    match &e.kind {
        EventKind::PolicyCreated { .. } => {
            return Err(Error::malformed(
                "POLICY_CREATED may only be the first event",
            ))
        }
        EventKind::OrgEmployeeAccessRestricted => {
            p.set_restriction(actor()?, true, at).map(drop)?
        }
        EventKind::OrgEmployeeAccessUnrestricted => {
            p.set_restriction(actor()?, false, at).map(drop)?
        }
        EventKind::ProjectAdded { project_id } => {
            p.add_project(actor()?, project_id, at).map(drop)?
        }
        EventKind::ProjectRemoved { project_id, .. } => {
            p.remove_project(actor()?, project_id, at).map(drop)?
        }
        EventKind::ClusterAdded {
            cluster,
            project_id,
            kind,
            app_services_sync_enabled,
        } => p
            .add_cluster(
                actor()?,
                project_id,
                cluster,
                *kind,
                *app_services_sync_enabled,
                at,
            )
            .map(drop)?,
        EventKind::ClusterRemoved { cluster, .. } => {
            p.remove_cluster(actor()?, cluster, at).map(drop)?
        }
        EventKind::EmployeeAccessGranted {
            cluster,
            grant_type,
            expiration_time,
            ..
        } => p
            .grant(actor()?, cluster, *grant_type, at, Some(*expiration_time))
            .map(drop)?,
        EventKind::EmployeeAccessRevoked { cluster, .. } => {
            p.revoke(actor()?, cluster, at).map(drop)?
        }
        EventKind::EmployeeAccessExpired { .. } => p.expire_due(at).map(drop)?,
        EventKind::EmployeeDownloadedClusterLogs {
            cluster, resource, ..
        } => p.begin_log_download(cluster, *resource, at).map(drop)?,
        EventKind::EmployeeLogDownloadFinished { download_id, .. } => {
            p.finish_log_download(download_id, at).map(drop)?
        }
        EventKind::AtlasLoaded {
            restrict_employee_access,
            clusters,
        } => p
            .apply_atlas(*restrict_employee_access, clusters.clone(), at)
            .map(drop)?,
    }
    Ok(())
}

fn seq_of(index: usize) -> u64 {
    index as u64 + 1
}

/// Verifies and replays a record one line at a time: the streaming form of [`replay`], for
/// records read from a file or a socket. Feed lines in order (without their newline); the first
/// error names the tampered `seq`, after which the replayer should be dropped.
#[derive(Debug, Clone, Default)]
pub struct Replayer {
    policy: Option<Policy>,
    /// Lines a fed operation wrote beyond the line that described it (the expiries its sweep
    /// recorded are written before it, so this only holds ties of one `expireDue`).
    pending: usize,
    fed: usize,
    /// Bytes to reserve for the record once it exists (the text's size, when known).
    reserve: usize,
}

impl Replayer {
    /// A replayer expecting `POLICY_CREATED` first.
    pub fn new() -> Replayer {
        Replayer::default()
    }

    /// Continues after a policy's own record: feeds lines that were appended after it (by
    /// another writer of the same file, say) without replaying what the policy already holds.
    /// This is how a long-running writer catches up cheaply; the lines fed are checked exactly
    /// as [`Replayer::feed`] checks any line.
    pub fn resume(mut policy: Policy) -> Replayer {
        policy.record.set_quiet(true);
        Replayer {
            fed: policy.record.len(),
            policy: Some(policy),
            pending: 0,
            reserve: 0,
        }
    }

    /// How many lines were accepted.
    pub fn len(&self) -> usize {
        self.fed
    }

    /// Whether no line was accepted yet.
    pub fn is_empty(&self) -> bool {
        self.fed == 0
    }

    /// Checks one more line and applies the operation it describes.
    pub fn feed(&mut self, line: &str) -> Result<(), Error> {
        let index = self.fed;
        let seq = seq_of(index);
        let Some(p) = self.policy.as_mut() else {
            let created = parse_event(line).map_err(|e| Error::tampered(1, format!("{e}")))?;
            let EventKind::PolicyCreated {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
            } = created.kind
            else {
                return Err(Error::tampered(1, "the first event must be POLICY_CREATED"));
            };
            // The genesis keeps its own time: a creation stamped with the options' `now` (or
            // the epoch default) is rebuilt at that time, and must then hash to the same line.
            let options = PolicyOptions {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
                created_at: Some(created.at),
            };
            let mut p = Policy::new(options).map_err(|e| Error::tampered(1, format!("{e}")))?;
            p.record.set_quiet(true);
            p.record.reserve(self.reserve);
            if p.record.line(0) != Some(line) {
                return Err(Error::tampered(1, "content, order or hash does not match"));
            }
            self.policy = Some(p);
            self.fed = 1;
            return Ok(());
        };
        let mismatch = || Error::tampered(seq, "content, order or hash does not match");
        if self.pending == 0 {
            let fast = read_op_fast(line);
            let fast_read = fast.is_some();
            let e = match fast {
                Some(e) => e,
                None => parse_event(line).map_err(|err| Error::tampered(seq, format!("{err}")))?,
            };
            let done = redo(p, &e)
                .map_err(|err| Error::tampered(seq, format!("the operation is refused: {err}")))
                .and_then(|()| {
                    self.pending = p.record.len() - index;
                    if p.record.line(index) == Some(line) {
                        Ok(())
                    } else {
                        Err(mismatch())
                    }
                });
            if let Err(err) = done {
                // Word the failure as the general parser would have: a line it refuses is
                // refused for that reason, before any operation runs.
                if fast_read {
                    if let Err(parse_err) = parse_event(line) {
                        return Err(Error::tampered(seq, format!("{parse_err}")));
                    }
                }
                return Err(err);
            }
        } else if p.record.line(index) != Some(line) {
            return Err(mismatch());
        }
        self.pending -= 1;
        self.fed += 1;
        Ok(())
    }

    /// The rebuilt policy, once every line was fed.
    pub fn finish(self) -> Result<Policy, Error> {
        match self.policy {
            None => Err(Error::tampered(1, "the record is empty")),
            Some(_) if self.pending > 0 => Err(Error::tampered(
                seq_of(self.fed),
                "an event the operations imply is missing",
            )),
            Some(mut p) => {
                p.record.set_quiet(false);
                Ok(p)
            }
        }
    }
}

/// Replays canonical lines into the policy they describe, or names the first bad `seq`.
pub(crate) fn replay_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Policy, Error> {
    let mut r = Replayer::new();
    for line in lines {
        r.feed(line)?;
    }
    r.finish()
}

fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_suffix('\n').unwrap_or(text).split('\n')
}

/// Checks a JSON Lines record; returns how many events it holds.
pub fn verify(text: &str) -> Result<u64, Error> {
    replay(text).map(|p| p.record.len() as u64)
}

/// Rebuilds the exact policy that wrote a JSON Lines record.
pub fn replay(text: &str) -> Result<Policy, Error> {
    if text.is_empty() {
        return Err(Error::tampered(1, "the record is empty"));
    }
    // Growing a long record's buffer by doubling copied it and faulted its pages in again and
    // again; the replayed record is exactly `text`, so its size is known.
    let mut r = Replayer {
        reserve: text.len(),
        ..Replayer::default()
    };
    for line in split_lines(text) {
        r.feed(line)?;
    }
    r.finish()
}

/// The answers that come from the record rather than the current state.
impl Policy {
    /// The record's events, parsed.
    pub fn events(&self) -> Vec<Event> {
        self.record
            .lines()
            .map(|l| parse_event(l).expect("a policy's own record parses"))
            .collect()
    }

    /// SPEC §4 for a past (or any) time, from the record alone: the state the record implies
    /// after every event at or before `at`, judged at `at`. Before the policy was created (its
    /// `POLICY_CREATED` time) there was no cluster to ask about: `CLUSTER_NOT_FOUND`, as right
    /// after creation.
    pub fn evaluate_at(
        &self,
        cluster: &str,
        resource: Resource,
        at: Timestamp,
    ) -> Result<crate::decision::Decision, Error> {
        let n = self.record.count_until(at);
        if n == 0 {
            return Err(crate::policy::not_found(cluster));
        }
        let past = replay_lines(self.record.lines().take(n))
            .expect("a prefix of a policy's own record replays");
        past.evaluate(cluster, resource, at)
    }

    /// Rebuilds the exact policy that wrote a JSON Lines record (see [`replay`]).
    pub fn replay(text: &str) -> Result<Policy, Error> {
        replay(text)
    }

    /// Verifies and applies lines that another writer appended after this policy's record,
    /// all or nothing: each line is checked exactly as [`Replayer::feed`] checks it, and on the
    /// first one that does not verify the policy is left exactly as it was and the error
    /// (`RECORD_TAMPERED`) names that line's `seq`. Returns how many lines were applied.
    ///
    /// This is how a cache of a shared record (a store's writer, a follower) stays current
    /// without ever building on a line it refused.
    pub fn catch_up<'a>(
        &mut self,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Result<usize, Error> {
        // A store's writer catches up before every write, mostly finding nothing new: no
        // savepoint for nothing, and a journaled one otherwise (a copy of the state costs
        // milliseconds for 10,000 clusters; the journal, what the lines change).
        let mut lines = lines.into_iter().peekable();
        if lines.peek().is_none() {
            return Ok(0);
        }
        let savepoint = self.journaled_savepoint();
        let before = self.record.len();
        let mut r = Replayer::resume(core::mem::replace(self, Policy::placeholder()));
        let fed = lines.try_for_each(|line| r.feed(line));
        let pending = r.pending;
        let mut p = r
            .policy
            .take()
            .expect("a resumed replayer holds its policy");
        p.record.set_quiet(false);
        let result = match fed {
            Ok(()) if pending > 0 => Err(Error::tampered(
                seq_of(r.fed),
                "an event the operations imply is missing",
            )),
            Ok(()) => Ok(p.record.len() - before),
            Err(e) => Err(e),
        };
        if result.is_err() {
            p.rollback(savepoint)
                .expect("the savepoint was taken from this policy");
        } else {
            p.release(savepoint);
        }
        *self = p;
        result
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    /// Resuming from a policy and feeding what another writer appended gives the policy a full
    /// replay gives, and checks the appended lines like any others.
    #[test]
    fn resume_catches_up_and_checks_appended_lines() {
        use crate::model::{Actor, ClusterKind, GrantType, Timestamp};
        let t = |s: i64| Timestamp::from_millis(1_795_860_000_000 + s * 1000).unwrap();
        let owner = Actor::org_owner("owner").unwrap();
        let mut a = Policy::new(PolicyOptions::new("org")).unwrap();
        a.add_project(&owner, "p", t(0)).unwrap();
        a.add_cluster(&owner, "p", "c1", ClusterKind::Dedicated, false, t(0))
            .unwrap();
        let mine = a.clone();
        // Another writer appends a grant, a re-grant and (through its sweep) an expiry.
        a.grant(
            &owner,
            "c1",
            GrantType::ClusterDatabaseLogs,
            t(1),
            Some(t(2)),
        )
        .unwrap();
        a.grant(&owner, "c1", GrantType::ClusterInfrastructure, t(5), None)
            .unwrap();
        let appended: Vec<&str> = a.record().lines().skip(mine.record().len()).collect();
        assert_eq!(appended.len(), 3);

        let mut r = Replayer::resume(mine.clone());
        assert_eq!(r.len(), mine.record().len());
        for l in &appended {
            r.feed(l).unwrap();
        }
        let mut caught_up = r.finish().unwrap();
        assert_eq!(caught_up, a);
        // Replay builds no events for the operations it re-runs, but a finished policy does.
        let e = caught_up.revoke(&owner, "c1", t(6)).unwrap();
        assert_eq!(Some(e.json()), caught_up.record().lines().last());
        assert_eq!(e.hash, caught_up.record().last_hash());
        assert_eq!(e.actor.as_ref(), Some(&owner));
        let mut replayed = Policy::replay(&caught_up.export_record()).unwrap();
        let e = replayed
            .grant(&owner, "c1", GrantType::ClusterDatabaseLogs, t(7), None)
            .unwrap();
        assert_eq!(Some(e.json()), replayed.record().lines().last());
        assert_eq!(e.prev.len(), 64);

        // A changed appended line is refused with its own seq.
        let bad = appended[2].replace("CLUSTER_INFRASTRUCTURE", "CLUSTER_DATABASE_LOGS");
        assert_ne!(bad, appended[2]);
        let mut r = Replayer::resume(mine.clone());
        r.feed(appended[0]).unwrap();
        r.feed(appended[1]).unwrap();
        let err = r.feed(&bad).unwrap_err();
        assert_eq!(err.seq(), Some(mine.record().len() as u64 + 3));
        // So is a line that skips one (the chain no longer links).
        let mut r = Replayer::resume(mine);
        assert!(r.feed(appended[1]).is_err());
    }

    /// Catching up on nothing changes nothing, and a real catch-up still follows it.
    #[test]
    fn catching_up_on_nothing() {
        use crate::model::{Actor, GrantType, Timestamp};
        let t = |s: i64| Timestamp::from_millis(1_795_860_000_000 + s * 1000).unwrap();
        let owner = Actor::org_owner("owner").unwrap();
        let mut a = Policy::new(PolicyOptions::new("org")).unwrap();
        a.add_project(&owner, "p", t(0)).unwrap();
        let mut b = a.clone();
        let generation = b.generation();
        assert_eq!(b.catch_up(core::iter::empty()).unwrap(), 0);
        assert_eq!((b.generation(), &b), (generation, &a));
        a.add_cluster(
            &owner,
            "p",
            "c1",
            crate::model::ClusterKind::Dedicated,
            false,
            t(1),
        )
        .unwrap();
        a.grant(&owner, "c1", GrantType::ClusterDatabaseLogs, t(2), None)
            .unwrap();
        let new: Vec<&str> = a.record().lines().skip(b.record().len()).collect();
        assert_eq!(b.catch_up(new.iter().copied()).unwrap(), 2);
        assert_eq!(b, a);
    }

    /// The fast path reads what the decoder reads (the operation: time, actor, kind) on every
    /// vector line it takes, and leaves the rest (and every malformed line) to the decoder.
    #[test]
    fn the_fast_path_agrees_with_the_decoder() {
        let text = include_str!("../../../tests/vectors/vectors.txt");
        let (mut lines, mut fast) = (0, 0);
        for l in text.lines() {
            let Some((kind, json)) = l.split_once(' ') else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(json) else {
                continue;
            };
            let record = match kind {
                "expect" => v["ok"]["record"].as_str(),
                "command" => v["record"].as_str(),
                _ => None,
            };
            // Records in commands may be tampered with on purpose: compare whatever parses.
            for line in record.unwrap_or("").lines() {
                let Ok(full) = parse_event(line) else {
                    continue;
                };
                lines += 1;
                if let Some(op) = read_op_fast(line) {
                    fast += 1;
                    assert_eq!((op.at, &op.actor), (full.at, &full.actor), "{line}");
                    match (&op.kind, &full.kind) {
                        (
                            EventKind::EmployeeAccessGranted {
                                cluster: a,
                                grant_type: g,
                                expiration_time: t,
                                ..
                            },
                            EventKind::EmployeeAccessGranted {
                                cluster: b,
                                grant_type: h,
                                expiration_time: u,
                                ..
                            },
                        ) => assert_eq!((a, g, t), (b, h, u), "{line}"),
                        (a, b) => assert_eq!(a, b, "{line}"),
                    }
                }
            }
        }
        assert!(
            lines > 50 && fast > 20,
            "only {lines} event lines ({fast} fast) found"
        );
        for bad in ["", "{", "[]", "{\"seq\":1}", "{\"seq\":\"1\",\"at\":\"x\"}"] {
            assert!(
                parse_event(bad).is_err() && read_op_fast(bad).is_none(),
                "{bad}"
            );
        }
    }
}
