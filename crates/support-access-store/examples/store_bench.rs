//! The store's figures for docs/benchmarks.md (run by `cargo xtask bench-store`, which starts
//! its own PostgreSQL server): appends per second with 1, 2 and 4 concurrent writers on
//! PostgreSQL and on a file, conflict retries per 1,000 appends, catch-up time for 10,000 and
//! 1,000,000 events, and a follower's lag from commit to visible in its cache. Each figure has
//! a baseline measured in the same run: a bare one-row INSERT per statement (appends), the core
//! replaying the same lines from memory (catch-up), a bare NOTIFY round trip (lag).
//!
//! Usage: store_bench POSTGRES_SUPERUSER_URL [--quick]

use std::time::{Duration, Instant};

use support_access_core::{Actor, GrantType, Policy, PolicyOptions, Timestamp};
use support_access_store::{Location, Now, Store};

const T0: i64 = 1_795_860_000_000;

fn db(base: &str, name: &str) -> String {
    let mut admin = postgres::Client::connect(base, postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    format!("{}/{name}", &base[..base.rfind('/').unwrap()])
}

fn seeded(loc: &Location) -> Store {
    let mut s = Store::create(loc, PolicyOptions::new("acme")).unwrap();
    let a = Actor::org_owner("bench").unwrap();
    let t = Timestamp::from_millis(T0).unwrap();
    s.write(Now::At(t), |p, now| p.add_project(&a, "p", now))
        .unwrap()
        .unwrap();
    s.write(Now::At(t), |p, now| {
        p.add_cluster(&a, "p", "c0", Default::default(), false, now)
    })
    .unwrap()
    .unwrap();
    s
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `writers` threads, each with its own store, append `total / writers` events each.
fn appends(loc: &Location, writers: usize, total: usize) -> (f64, f64) {
    drop(seeded(loc));
    let start = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let loc = loc.clone();
            std::thread::spawn(move || {
                let mut s = Store::open(&loc, Some("acme")).unwrap();
                let a = Actor::org_owner(&format!("w{w}")).unwrap();
                let t = Timestamp::from_millis(T0).unwrap();
                for i in 0..total / writers {
                    s.write(Now::At(t), |p, now| {
                        p.add_project(&a, &format!("w{w}-{i}"), now)
                    })
                    .unwrap()
                    .unwrap();
                }
                s.stats().conflicts
            })
        })
        .collect();
    let conflicts: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let secs = start.elapsed().as_secs_f64();
    (
        total as f64 / secs,
        conflicts as f64 * 1000.0 / total as f64,
    )
}

/// A record of `n` events (grant/revoke on one cluster, one line per operation).
fn record(n: usize) -> Policy {
    let mut p = Policy::new(PolicyOptions::new("acme")).unwrap();
    let a = Actor::org_owner("bench").unwrap();
    let t = |ms: i64| Timestamp::from_millis(T0 + ms).unwrap();
    p.add_project(&a, "p", t(0)).unwrap();
    p.add_cluster(&a, "p", "c0", Default::default(), false, t(0))
        .unwrap();
    let mut i = 0i64;
    while p.record().len() < n {
        if i % 2 == 0 {
            p.grant(&a, "c0", GrantType::ClusterInfrastructure, t(i), None)
                .unwrap();
        } else {
            p.revoke(&a, "c0", t(i)).unwrap();
        }
        i += 1;
    }
    p
}

/// A cache at the genesis catches up with `n - 1` events another writer stored.
fn catch_up(loc: &Location, full: &Policy) -> (Duration, Duration) {
    let lines: Vec<&str> = full.record().lines().collect();
    // Create the org with the genesis only, open a reader there, then store the rest in
    // chunks (every line is one operation, so any chunk boundary is whole).
    let genesis = Policy::replay(&format!("{}\n", lines[0])).unwrap();
    let mut writer = Store::import(loc, &genesis.export_record()).unwrap();
    let mut reader = Store::open(loc, Some("acme")).unwrap();
    for chunk in lines[1..].chunks(20_000) {
        writer
            .write(Now::Clock, |p, _| p.catch_up(chunk.iter().copied()))
            .unwrap()
            .unwrap();
    }
    let start = Instant::now();
    let n = reader.refresh().unwrap();
    let took = start.elapsed();
    assert_eq!(n, lines.len() - 1);
    // Baseline: the core verifying the same lines from memory.
    let mut copy = genesis.clone();
    let start = Instant::now();
    copy.catch_up(lines[1..].iter().copied()).unwrap();
    (took, start.elapsed())
}

/// Commit-to-visible in a follower's cache, over `n` appends.
fn lag(loc: &Location, n: usize) -> Vec<Duration> {
    let mut w = seeded(loc);
    let f = Store::open(loc, Some("acme")).unwrap().follow();
    std::thread::sleep(Duration::from_millis(200));
    let a = Actor::org_owner("bench").unwrap();
    let mut lags = Vec::with_capacity(n);
    for i in 0..n {
        let t = Timestamp::from_millis(T0 + i as i64).unwrap();
        let ev = w
            .write(Now::At(t), |p, now| {
                p.add_project(&a, &format!("l{i}"), now)
            })
            .unwrap()
            .unwrap();
        let committed = Instant::now();
        assert!(f.wait_for(ev.seq, Duration::from_secs(10)));
        lags.push(committed.elapsed());
    }
    lags.sort();
    lags
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .expect("usage: store_bench POSTGRES_SUPERUSER_URL [--quick]");
    let quick = args.iter().any(|a| a == "--quick");
    let dir = tempfile::tempdir().unwrap();
    let total = if quick { 400 } else { 4_000 };

    println!("## appends ({total} per run, one event each)");
    // Baseline: one-row INSERTs of the same lines, one statement each, no verification.
    {
        let url = db(base, "bench_bare");
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(support_access_store::postgres::SCHEMA)
            .unwrap();
        let p = record(total + 1);
        let start = Instant::now();
        for (i, l) in p.record().lines().enumerate() {
            c.execute(
                "INSERT INTO support_access_event VALUES ('acme', $1, $2)",
                &[&(i as i64 + 1), &l],
            )
            .unwrap();
        }
        let rate = p.record().len() as f64 / start.elapsed().as_secs_f64();
        println!("baseline postgres bare one-row INSERT: {rate:.0}/s");
    }
    for writers in [1, 2, 4] {
        let pg = Location::parse(&db(base, &format!("bench_w{writers}"))).unwrap();
        let (rate, conflicts) = appends(&pg, writers, total);
        println!("postgres {writers} writer(s): {rate:.0} appends/s, {conflicts:.1} conflict retries per 1000 appends");
        let file = Location::File(dir.path().join(format!("w{writers}.jsonl")));
        let (rate, conflicts) = appends(&file, writers, total);
        println!("file     {writers} writer(s): {rate:.0} appends/s, {conflicts:.1} conflict retries per 1000 appends");
    }

    println!("## catch-up (a cache at the genesis verifies what another writer stored)");
    for n in [10_000usize, if quick { 100_000 } else { 1_000_000 }] {
        let full = record(n);
        let pg = Location::parse(&db(base, &format!("bench_catch{n}"))).unwrap();
        let (took, core) = catch_up(&pg, &full);
        println!("postgres {n} events: {took:?} (core alone, from memory: {core:?})");
        let file = Location::File(dir.path().join(format!("catch{n}.jsonl")));
        let (took, core) = catch_up(&file, &full);
        println!("file     {n} events: {took:?} (core alone, from memory: {core:?})");
    }

    println!("## follower lag (commit to visible in the cache)");
    let n = if quick { 100 } else { 1_000 };
    // Baseline: a bare NOTIFY from one connection to a LISTENing other.
    {
        let url = db(base, "bench_notify");
        let mut l = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut s = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        l.batch_execute("LISTEN bench").unwrap();
        let mut rt = Vec::with_capacity(n);
        for _ in 0..n {
            s.batch_execute("NOTIFY bench").unwrap();
            let sent = Instant::now();
            use postgres::fallible_iterator::FallibleIterator;
            l.notifications()
                .timeout_iter(Duration::from_secs(5))
                .next()
                .unwrap()
                .unwrap();
            rt.push(sent.elapsed());
        }
        rt.sort();
        println!(
            "baseline bare NOTIFY to LISTEN: median {:?}, p99 {:?}",
            pct(&rt, 0.5),
            pct(&rt, 0.99)
        );
    }
    let pg = Location::parse(&db(base, "bench_lag")).unwrap();
    let l = lag(&pg, n);
    println!(
        "postgres follower over {n} appends: median {:?}, p99 {:?}",
        pct(&l, 0.5),
        pct(&l, 0.99)
    );
    let file = Location::File(dir.path().join("lag.jsonl"));
    let l = lag(&file, n);
    println!(
        "file follower (20 ms poll) over {n} appends: median {:?}, p99 {:?}",
        pct(&l, 0.5),
        pct(&l, 0.99)
    );
}
