//! Exhaustive tamper check: on a 1,000-event record, every single-byte change, and every
//! deletion, duplication and swap of adjacent events, is refused by verification.
//!
//! Verifying is replaying, so a change at event k leaves events 1..k-1 valid: the test replays
//! the untouched prefix once, keeps a snapshot of the `Replayer` before each event, and feeds the
//! tampered rest from that snapshot. That is exactly what `verify` does on the whole text, minus
//! re-checking the unchanged prefix 250,000 times.

use support_access_core::{
    Actor, ClusterKind, GrantType, Policy, PolicyOptions, Replayer, Resource, Timestamp,
};

const START: i64 = 1_795_860_000_000;

fn thousand_events() -> Policy {
    let mut o = PolicyOptions::new("org-1");
    o.restrict_employee_access = true;
    let mut p = Policy::new(o).unwrap();
    let owner = Actor::org_owner("alice").unwrap();
    let mut t = START;
    let ts = |t: i64| Timestamp::from_millis(t).unwrap();
    p.add_project(&owner, "p1", ts(t)).unwrap();
    for c in ["Cluster0", "Cluster1", "Cluster2"] {
        p.add_cluster(&owner, "p1", c, ClusterKind::Dedicated, true, ts(t))
            .unwrap();
    }
    let mut i = 0usize;
    while p.record().len() < 1000 {
        i += 1;
        t += 7 * 60_000;
        let c = ["Cluster0", "Cluster1", "Cluster2"][i % 3];
        let _ = match i % 7 {
            0 | 3 => p
                .grant(
                    &owner,
                    c,
                    GrantType::ALL[i % 3],
                    ts(t),
                    Some(ts(t + 20 * 60_000)),
                )
                .map(drop),
            1 => p.revoke(&owner, c, ts(t)).map(drop),
            2 => p
                .begin_log_download(c, Resource::DatabaseLogs, ts(t))
                .map(drop),
            4 => p.set_restriction(&owner, i % 2 == 0, ts(t)).map(drop),
            5 => p.expire_due(ts(t)).map(drop),
            _ => p
                .grant(&owner, c, GrantType::ClusterDatabaseLogs, ts(t), None)
                .map(drop),
        };
    }
    p
}

/// Feeds `rest` into a copy of `snapshot`; true if some line (or the end) is refused.
fn refused<'a>(snapshot: &Replayer, rest: impl IntoIterator<Item = &'a str>) -> bool {
    let mut r = snapshot.clone();
    for line in rest {
        if r.feed(line).is_err() {
            return true;
        }
    }
    r.finish().is_err()
}

#[test]
fn every_single_byte_change_deletion_duplication_and_swap_is_detected() {
    let p = thousand_events();
    let text = p.export_record();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 1000);
    // Snapshots before each event, built by one pass over the untouched record.
    let mut snapshots = Vec::with_capacity(lines.len());
    let mut r = Replayer::new();
    for line in &lines {
        snapshots.push(r.clone());
        r.feed(line).expect("the untouched record verifies");
    }
    assert!(r.finish().unwrap() == p);

    let mut flips = 0u64;
    for (k, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        for i in 0..bytes.len() {
            // One changed byte: the next one in a fixed cycle that stays ASCII (other bytes make
            // the text invalid UTF-8, which every front end refuses before it reaches verify).
            let mut changed = bytes.to_vec();
            changed[i] = if bytes[i] == b'~' { b' ' } else { bytes[i] + 1 };
            let changed = String::from_utf8(changed).unwrap();
            let tail =
                std::iter::once(changed.as_str()).chain(lines[k + 1..].iter().take(2).copied());
            assert!(
                refused(&snapshots[k], tail),
                "byte {i} of event {} changed, accepted",
                k + 1
            );
            flips += 1;
        }
        // The newline after each line, changed to a space, joins two events.
        if k + 1 < lines.len() {
            let joined = format!("{line} {}", lines[k + 1]);
            assert!(
                refused(&snapshots[k], [joined.as_str()]),
                "newline after event {} removed",
                k + 1
            );
        }
    }
    for k in 0..lines.len() {
        // Deleted (the last event's deletion is a shorter, valid record: anchoring the head hash
        // is what catches that, see `Record::last_hash`).
        if k + 1 < lines.len() {
            assert!(
                refused(&snapshots[k], lines[k + 1..].iter().take(3).copied()),
                "deleting event {}",
                k + 1
            );
        }
        // Duplicated.
        assert!(
            refused(&snapshots[k], [lines[k], lines[k]]),
            "duplicating event {}",
            k + 1
        );
        // Swapped with the next.
        if k + 1 < lines.len() && lines[k] != lines[k + 1] {
            assert!(
                refused(&snapshots[k], [lines[k + 1], lines[k]]),
                "swapping events {} and {}",
                k + 1,
                k + 2
            );
        }
    }
    println!(
        "checked {flips} single-byte changes over {} events",
        lines.len()
    );
    assert!(flips > 100_000);
}
