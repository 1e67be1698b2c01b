//! `cargo bench -p support-access-core`: the figures in docs/benchmarks.md.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sha2::{Digest, Sha256};
use support_access_core::{
    Actor, ClusterKind, Decision, GrantType, Policy, PolicyOptions, Reason, Request, Resource,
    Timestamp,
};

const START: i64 = 1_795_860_000_000;

fn policy(clusters: usize) -> (Policy, Actor) {
    let mut o = PolicyOptions::new("org");
    o.restrict_employee_access = true;
    let mut p = Policy::new(o).unwrap();
    let owner = Actor::org_owner("owner").unwrap();
    let t = Timestamp::from_millis(START).unwrap();
    p.add_project(&owner, "p1", t).unwrap();
    for i in 0..clusters {
        let name = format!("Cluster{i}");
        p.add_cluster(&owner, "p1", &name, ClusterKind::Dedicated, false, t)
            .unwrap();
        if i % 2 == 0 {
            p.grant(&owner, &name, GrantType::ClusterDatabaseLogs, t, None)
                .unwrap();
        }
    }
    (p, owner)
}

/// The baseline the issue names: a hand-written HashMap lookup plus a match.
#[derive(Clone, Copy)]
struct Naive {
    restricted: bool,
    grant: Option<(u8, i64)>,
}

fn naive_decide(m: &HashMap<String, Naive>, name: &str, r: u8, now: i64) -> Option<bool> {
    let c = m.get(name)?;
    Some(match (c.restricted, c.grant) {
        (false, _) => r != 4,
        (true, Some((g, exp))) if now < exp => matches!((g, r), (0, 0..=2) | (1, 1)),
        _ => false,
    })
}

fn evaluate(c: &mut Criterion) {
    let (p, _) = policy(100);
    let now = Timestamp::from_millis(START + 3_600_000).unwrap();
    let id = p.cluster_id("Cluster42").unwrap();
    let mut g = c.benchmark_group("evaluate");
    g.bench_function("by_name", |b| {
        b.iter(|| {
            p.evaluate(
                black_box("Cluster42"),
                black_box(Resource::DatabaseLogs),
                black_box(now),
            )
        })
    });
    g.bench_function("by_id", |b| {
        b.iter(|| {
            p.evaluate_id(
                black_box(id),
                black_box(Resource::DatabaseLogs),
                black_box(now),
            )
        })
    });
    let naive: HashMap<String, Naive> = (0..100)
        .map(|i| {
            (
                format!("Cluster{i}"),
                Naive {
                    restricted: true,
                    grant: (i % 2 == 0).then_some((1, START + 86_400_000)),
                },
            )
        })
        .collect();
    g.bench_function("baseline_hashmap_match", |b| {
        b.iter(|| {
            naive_decide(
                &naive,
                black_box("Cluster42"),
                black_box(1),
                black_box(now.millis()),
            )
        })
    });
    let names: Vec<String> = (0..1000).map(|i| format!("Cluster{}", i % 100)).collect();
    let requests: Vec<Request<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Request {
            cluster: n,
            resource: Resource::ALL[i % 5],
            now,
        })
        .collect();
    let mut out = Vec::with_capacity(requests.len());
    g.throughput(Throughput::Elements(requests.len() as u64));
    g.bench_function("many_1000", |b| {
        b.iter(|| p.evaluate_many(black_box(&requests), &mut out))
    });
    g.finish();
}

/// Issue 16's workload, the one every front end's benchmark runs (bindings/node/workload.mjs,
/// bindings/python/bench.py, bindings/c/bench/bench_evaluate.c): a restricting org with 1,000
/// clusters, 40 % of them holding a grant of its own expiration and type, and 100,000 requests
/// over varying names and all five resources, beside a plain rule in the same run.
struct Workload {
    policy: Policy,
    /// The plain rule's state: name -> the grant's (type, expiration), if any.
    rule: HashMap<String, Option<(GrantType, Timestamp)>>,
    names: Vec<String>,
    /// (index into `names`, resource) per request; all at `now`.
    requests: Vec<(usize, Resource)>,
    now: Timestamp,
}

fn workload() -> Workload {
    const CLUSTERS: usize = 1000;
    const REQUESTS: usize = 100_000;
    let types = [
        GrantType::ClusterInfrastructure,
        GrantType::ClusterDatabaseLogs,
        GrantType::ClusterInfrastructureAndAppServicesSyncData,
    ];
    let t0 = Timestamp::from_millis(START).unwrap();
    let (mut policy, owner) = policy(0);
    let mut rule = HashMap::new();
    let mut names = Vec::new();
    for i in 0..CLUSTERS {
        let name = format!("cluster-{i}");
        policy
            .add_cluster(&owner, "p1", &name, ClusterKind::Dedicated, true, t0)
            .unwrap();
        let grant = (i % 5 < 2).then(|| {
            let exp = Timestamp::from_millis(START + 3_600_000 + i as i64 * 1000).unwrap();
            let g = types[i % 3];
            policy.grant(&owner, &name, g, t0, Some(exp)).unwrap();
            (g, exp)
        });
        rule.insert(name.clone(), grant);
        names.push(name);
    }
    let mut seed: u32 = 16;
    let mut rand = |n: usize| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (seed >> 8) as usize % n
    };
    let requests = (0..REQUESTS)
        .map(|_| (rand(CLUSTERS), Resource::ALL[rand(5)]))
        .collect();
    let now = Timestamp::from_millis(START + 1_800_000).unwrap();
    Workload {
        policy,
        rule,
        names,
        requests,
        now,
    }
}

/// SPEC §4 rules 2-7 by hand over a `HashMap` by name, building the same `Decision`.
fn plain_rule(
    rule: &HashMap<String, Option<(GrantType, Timestamp)>>,
    name: &str,
    r: Resource,
    now: Timestamp,
) -> Decision {
    let Some(grant) = rule.get(name) else {
        return Decision::CLUSTER_NOT_FOUND;
    };
    let grant = grant.filter(|g| now < g.1);
    let (allowed, reason) = match (r, grant) {
        (Resource::DatabaseData, _) => (false, Reason::DatabaseDataNeverAccessible),
        (Resource::SyncData, Some((GrantType::ClusterInfrastructureAndAppServicesSyncData, _))) => {
            (true, Reason::GrantActive)
        }
        (Resource::SyncData, _) => (false, Reason::SyncDataRequiresGrant),
        (_, None) => (false, Reason::NoGrant),
        // What each type covers besides sync data: the database logs, or all three logs and
        // the infrastructure.
        (Resource::DatabaseLogs, Some(_))
        | (
            _,
            Some((
                GrantType::ClusterInfrastructure
                | GrantType::ClusterInfrastructureAndAppServicesSyncData,
                _,
            )),
        ) => (true, Reason::GrantActive),
        (_, Some(_)) => (false, Reason::NotCoveredByGrant),
    };
    Decision {
        allowed,
        reason,
        grant_type: grant.map(|g| g.0),
        expiration_time: grant.map(|g| g.1),
        remaining_ms: grant.map(|g| g.1.millis() - now.millis()),
    }
}

fn issue16(c: &mut Criterion) {
    let w = workload();
    let requests: Vec<Request<'_>> = w
        .requests
        .iter()
        .map(|&(i, resource)| Request {
            cluster: &w.names[i],
            resource,
            now: w.now,
        })
        .collect();
    // The same answers first: a benchmark of wrong answers is worth nothing.
    let mut with_grant = 0;
    for q in &requests {
        let d = w.policy.evaluate(q.cluster, q.resource, q.now).unwrap();
        assert_eq!(
            d,
            plain_rule(&w.rule, q.cluster, q.resource, q.now),
            "{q:?}"
        );
        with_grant += usize::from(d.grant_type.is_some());
    }
    println!(
        "issue 16 workload: 1,000 clusters, {} requests, {} % with an active grant",
        requests.len(),
        with_grant * 100 / requests.len()
    );
    let mut g = c.benchmark_group("issue16");
    g.throughput(Throughput::Elements(requests.len() as u64));
    g.bench_function("baseline_hashmap_rule", |b| {
        b.iter(|| {
            for q in &requests {
                black_box(plain_rule(&w.rule, black_box(q.cluster), q.resource, q.now));
            }
        })
    });
    g.bench_function("evaluate_by_name", |b| {
        b.iter(|| {
            for q in &requests {
                let _ = black_box(w.policy.evaluate(black_box(q.cluster), q.resource, q.now));
            }
        })
    });
    let mut out = Vec::with_capacity(requests.len());
    g.bench_function("evaluate_many_100000", |b| {
        b.iter(|| w.policy.evaluate_many(black_box(&requests), &mut out))
    });
    g.bench_function("evaluate_many_batches_of_1000", |b| {
        b.iter(|| {
            for batch in requests.chunks(1000) {
                w.policy.evaluate_many(black_box(batch), &mut out);
            }
        })
    });
    g.finish();
}

/// Two events appended: a grant of `Cluster1` and its revoke, at `t`.
fn grant_then_revoke(p: &mut Policy, owner: &Actor, t: Timestamp) {
    p.grant(owner, "Cluster1", GrantType::ClusterInfrastructure, t, None)
        .unwrap();
    p.revoke(owner, "Cluster1", t).unwrap();
}

fn mutate(c: &mut Criterion) {
    let mut g = c.benchmark_group("record");
    g.bench_function("grant_then_revoke", |b| {
        b.iter_batched(
            || policy(10),
            |(mut p, owner)| {
                let t = Timestamp::from_millis(START + 1000).unwrap();
                grant_then_revoke(&mut p, &owner, t);
                p
            },
            BatchSize::SmallInput,
        )
    });
    // The same on a policy of 10,000 clusters: a mutation's cost must not grow with the
    // number of clusters (each one once read every cluster for due expiries).
    let (base, owner) = policy(10_000);
    g.bench_function("grant_then_revoke_10000_clusters", |b| {
        b.iter_custom(|iters| {
            let mut p = base.clone();
            let start = Instant::now();
            for i in 0..iters {
                let t = Timestamp::from_millis(START + 1000 + i as i64).unwrap();
                grant_then_revoke(&mut p, &owner, t);
            }
            start.elapsed()
        })
    });
    g.finish();
}

fn replay(c: &mut Criterion) {
    const EVENTS: usize = 1_000_000;
    let (mut p, owner) = policy(10);
    let mut t = START;
    while p.record().len() < EVENTS {
        t += 1000;
        let ts = Timestamp::from_millis(t).unwrap();
        if p.grant(&owner, "Cluster1", GrantType::ClusterDatabaseLogs, ts, None)
            .is_err()
        {
            break;
        }
    }
    let text = p.export_record();
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("verify_and_replay_1M_events", |b| {
        b.iter(|| Policy::replay(black_box(&text)).unwrap())
    });
    g.bench_function("baseline_sha256_same_bytes_per_line", |b| {
        b.iter(|| {
            for line in black_box(&text).lines() {
                black_box(Sha256::digest(line.as_bytes()));
            }
        })
    });
    // Many clusters rather than many events: 10,000 added, half of them granted (15,002
    // events). Replay re-runs each mutation, so a mutation that read every cluster made this
    // quadratic in the number of clusters.
    let clusters = policy(10_000).0.export_record();
    g.throughput(Throughput::Bytes(clusters.len() as u64));
    g.bench_function("verify_and_replay_10000_clusters", |b| {
        b.iter(|| Policy::replay(black_box(&clusters)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, evaluate, issue16, mutate, replay);
criterion_main!(benches);
