//! Property test of signed checkpoints (SPEC §9): for random records, any truncation below a
//! checkpoint, any re-hashed rewrite from a random seq, a signature from another key, a
//! checkpoint of another org, and two checkpoints that disagree are all refused, while any
//! honest continuation past the latest checkpoint verifies.

use proptest::prelude::*;
use proptest::sample::Index;
use support_access_core::checkpoint::{verify_checkpoints, Checkpoint, PublicKey, SigningKey};
use support_access_core::{
    Actor, ClusterKind, ErrorCode, GrantType, Policy, PolicyOptions, Resource, Timestamp,
};

const START: i64 = 1_795_860_000_000;
const CLUSTERS: [&str; 3] = ["Cluster0", "Cluster1", "Cluster2"];

/// One step of a random history: what to do, to which cluster, and how many minutes later.
#[derive(Debug, Clone, Copy)]
struct Op {
    kind: u8,
    cluster: usize,
    minutes: i64,
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..8, 0usize..3, 0i64..90).prop_map(|(kind, cluster, minutes)| Op {
        kind,
        cluster,
        minutes,
    })
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms).unwrap()
}

fn policy(org: &str) -> Policy {
    let mut o = PolicyOptions::new(org);
    o.restrict_employee_access = true;
    let mut p = Policy::new(o).unwrap();
    let owner = Actor::org_owner("alice").unwrap();
    p.add_project(&owner, "p1", ts(START)).unwrap();
    for c in CLUSTERS {
        p.add_cluster(&owner, "p1", c, ClusterKind::Dedicated, true, ts(START))
            .unwrap();
    }
    p
}

/// Applies one step at `last event + minutes`; refused operations (a revoke with nothing to
/// revoke…) record nothing, as in real use.
fn step(p: &mut Policy, op: Op) {
    let owner = Actor::org_owner("alice").unwrap();
    let t = p.record().last_at().millis() + op.minutes * 60_000;
    let c = CLUSTERS[op.cluster];
    let _ = match op.kind {
        0 | 1 => p
            .grant(
                &owner,
                c,
                GrantType::ALL[op.cluster],
                ts(t),
                Some(ts(t + 45 * 60_000)),
            )
            .map(drop),
        2 => p.revoke(&owner, c, ts(t)).map(drop),
        3 => p
            .begin_log_download(c, Resource::DatabaseLogs, ts(t))
            .map(drop),
        4 => p
            .set_restriction(&owner, op.minutes % 2 == 0, ts(t))
            .map(drop),
        5 => p.expire_due(ts(t)).map(drop),
        6 => p
            .add_project(&owner, &format!("q{}", op.minutes), ts(t))
            .map(drop),
        _ => p
            .grant(&owner, c, GrantType::ClusterDatabaseLogs, ts(t), None)
            .map(drop),
    };
}

fn keys() -> (SigningKey, SigningKey) {
    (
        SigningKey::from_seed([0xa5; 32]),
        SigningKey::from_seed([0x5a; 32]),
    )
}

fn sign(p: &Policy, key: &SigningKey) -> Checkpoint {
    p.checkpoint(p.record().last_at(), key).unwrap()
}

fn code(r: Result<impl std::fmt::Debug, support_access_core::Error>) -> (ErrorCode, Option<u64>) {
    let e = r.expect_err("must be refused");
    (e.code(), e.seq())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn checkpoints_refuse_truncation_rewrites_foreign_keys_and_orgs(
        ops in prop::collection::vec(op(), 1..40),
        more in prop::collection::vec(op(), 0..12),
        at in any::<Index>(),
        fork in any::<Index>(),
    ) {
        let (a, b) = keys();
        let trusted: Vec<PublicKey> = vec![a.public_key().clone()];
        // Build the record, keeping the state after every step, and sign one of them.
        let mut p = policy("org-1");
        let mut states = vec![p.clone()];
        for o in &ops {
            step(&mut p, *o);
            states.push(p.clone());
        }
        let signed_state = &states[at.index(states.len())];
        let c = sign(signed_state, &a);
        let s = c.seq();
        let text = p.export_record();
        let ok = verify_checkpoints(&text, std::slice::from_ref(&c), &trusted).unwrap();
        prop_assert_eq!(ok.verified_up_to, s);
        prop_assert_eq!(ok.events, p.record().len() as u64);

        // Any truncation below the checkpoint is refused: as RECORD_TRUNCATED (seq = the
        // checkpoint's) when the shorter text is a valid chain, else by the chain itself.
        let lines: Vec<&str> = text.lines().collect();
        for keep in 1..s as usize {
            let short = format!("{}\n", lines[..keep].join("\n"));
            let refusal = code(verify_checkpoints(&short, std::slice::from_ref(&c), &trusted));
            if Policy::replay(&short).is_ok() {
                prop_assert_eq!(refusal, (ErrorCode::RecordTruncated, Some(s)));
            } else {
                prop_assert_eq!(refusal.0, ErrorCode::RecordTampered);
            }
        }

        // A rewrite from a random seq at or below the checkpoint's, with fresh hashes: a
        // valid chain, but not the one signed.
        let earlier: Vec<&Policy> = states.iter().filter(|q| (q.record().len() as u64) < s).collect();
        if !earlier.is_empty() {
            let mut rewritten = earlier[fork.index(earlier.len())].clone();
            let owner = Actor::org_owner("mallory").unwrap();
            let mut n = 0;
            while (rewritten.record().len() as u64) < s {
                let t = rewritten.record().last_at();
                rewritten.add_project(&owner, &format!("forged-{n}"), t).unwrap();
                n += 1;
            }
            // Signed at exactly the honest checkpoint's seq, by the same key (its holder
            // signing two histories).
            let d = sign(&rewritten, &a);
            prop_assert_eq!(d.seq(), s);
            for o in &more {
                step(&mut rewritten, *o);
            }
            let forged = rewritten.export_record();
            prop_assert!(Policy::replay(&forged).is_ok());
            prop_assert_eq!(
                code(verify_checkpoints(&forged, std::slice::from_ref(&c), &trusted)),
                (ErrorCode::CheckpointMismatch, Some(s))
            );
            // Its checkpoint at the same seq disagrees with the honest one, on either record.
            for record in [&text, &forged] {
                prop_assert_eq!(
                    code(verify_checkpoints(record, &[c.clone(), d.clone()], &trusted)),
                    (ErrorCode::CheckpointsDisagree, Some(s))
                );
            }
            // A later checkpoint of the rewrite does not extend the honest one: whichever
            // record is shown, one of the two does not match it.
            let later = sign(&rewritten, &a);
            for record in [&text, &forged] {
                prop_assert!(verify_checkpoints(record, &[c.clone(), later.clone()], &trusted).is_err());
            }
        }

        // Another key: untrusted, or (claiming a trusted key's id) a bad signature.
        let by_b = sign(signed_state, &b);
        prop_assert_eq!(
            code(verify_checkpoints(&text, std::slice::from_ref(&by_b), &trusted)),
            (ErrorCode::UntrustedKey, Some(s))
        );
        let claimed = by_b.to_text().replace(
            &format!("key {}", b.key_id()),
            &format!("key {}", a.key_id()),
        );
        let claimed = Checkpoint::parse(&claimed).unwrap();
        prop_assert_eq!(
            code(verify_checkpoints(&text, &[claimed], &trusted)),
            (ErrorCode::BadSignature, Some(s))
        );

        // Another organization's checkpoint, of the same history, well signed.
        let mut other = policy("org-2");
        for o in &ops[..at.index(states.len())] {
            step(&mut other, *o);
        }
        let foreign = sign(&other, &a);
        prop_assert_eq!(
            code(verify_checkpoints(&text, &[foreign], &trusted)),
            (ErrorCode::CheckpointMismatch, Some(other.record().len() as u64))
        );

        // Any honest continuation past the latest checkpoint verifies, and so does a new
        // checkpoint of it together with the old one.
        for o in &more {
            step(&mut p, *o);
        }
        let latest = sign(&p, &a);
        let continued = p.export_record();
        let ok = verify_checkpoints(&continued, &[latest.clone(), c.clone()], &trusted).unwrap();
        prop_assert_eq!(ok.verified_up_to, latest.seq());
        prop_assert_eq!(ok.last_hash.as_str(), p.record().last_hash());
        step(&mut p, Op { kind: 6, cluster: 0, minutes: 1 });
        prop_assert!(verify_checkpoints(&p.export_record(), &[c, latest], &trusted).is_ok());
    }
}
