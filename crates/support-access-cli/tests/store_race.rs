//! Many writers on one record, as processes: `support-access apply` streams racing on one
//! organization, on a file and on the test PostgreSQL server, and the faults a shared store
//! meets — a writer killed mid-stream, the server restarted mid-run, connections dropped while
//! an append is in flight. After each: every acknowledged event is stored exactly once at the
//! seq its writer was told, the record verifies, and followers hold the replayed state.
//!
//! The heavy tests take a lock so they run one at a time (each already runs several processes
//! on a 2-core machine), and every loop is bounded in count and time.

use std::io::{BufRead, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support_access_core::Policy;
use support_access_store::{Location, Store};
use support_access_testkit::pg_ctl;

mod common;

const NOW: &str = "2026-11-28T10:00:00Z";
const CLUSTERS: [&str; 4] = ["c0", "c1", "c2", "c3"];

static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

fn fresh_db(name: &str) -> String {
    support_access_testkit::fresh_db(&format!("race_{name}"))
}

/// Where a test's record lives.
struct Target {
    store: String,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    fn file() -> Target {
        let dir = tempfile::tempdir().unwrap();
        Target {
            store: dir.path().join("r.jsonl").to_string_lossy().into_owned(),
            _dir: Some(dir),
        }
    }

    fn pg(name: &str) -> Target {
        Target {
            store: fresh_db(name),
            _dir: None,
        }
    }

    fn location(&self) -> Location {
        Location::parse(&self.store).unwrap()
    }

    fn cmd(&self) -> Command {
        let mut c = common::cmd();
        c.args(["--store", &self.store]);
        c
    }

    /// `init` an org with project `shared` and clusters c0…c3.
    fn setup(&self) {
        let run = |args: &[&str]| {
            let o = self
                .cmd()
                .args(["--now", NOW, "--actor", "setup", "--role", "ORG_OWNER"])
                .args(args)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        run(&["init", "--org", "acme", "--restrict"]);
        run(&["project", "add", "shared"]);
        for c in CLUSTERS {
            run(&["cluster", "add", c, "--project", "shared"]);
        }
    }

    /// The stored record, replayed (verified) from scratch.
    fn replayed(&self) -> Policy {
        Store::open(&self.location(), Some("acme"))
            .unwrap()
            .policy()
            .clone()
    }

    fn stream(&self) -> (Child, ChildStdin) {
        let mut child = self
            .cmd()
            .arg("apply")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        (child, stdin)
    }
}

/// Writer `w`'s `i`-th command: half can only succeed (a project of its own), half contend
/// for the shared clusters (grants replace each other; a revoke may find no active grant).
fn command(w: usize, i: usize) -> String {
    let actor = format!(r#"{{"id":"w{w}","roles":[{{"role":"ORG_OWNER"}}]}}"#);
    let c = CLUSTERS[(i / 2 + w) % CLUSTERS.len()];
    match i % 4 {
        0 | 2 => format!(
            r#"{{"op":"addProject","actor":{actor},"projectId":"w{w}-p{i}","now":"{NOW}"}}"#
        ),
        1 => format!(
            r#"{{"op":"grant","actor":{actor},"cluster":"{c}","grantType":"CLUSTER_INFRASTRUCTURE","now":"{NOW}"}}"#
        ),
        _ => format!(r#"{{"op":"revoke","actor":{actor},"cluster":"{c}","now":"{NOW}"}}"#),
    }
}

/// Runs one stream writer over `n` commands; returns its result lines (as many as it
/// answered) and whether it exited 0.
fn writer(t: &Target, w: usize, n: usize) -> std::thread::JoinHandle<(Vec<String>, bool)> {
    let (mut child, mut stdin) = t.stream();
    std::thread::spawn(move || {
        let feeder = std::thread::spawn(move || {
            for i in 0..n {
                if writeln!(stdin, "{}", command(w, i)).is_err() {
                    break;
                }
            }
        });
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let results: Vec<String> = out.lines().map_while(Result::ok).collect();
        feeder.join().unwrap();
        let status = child.wait().unwrap();
        (results, status.success())
    })
}

/// Waits for every writer: each must exit 0 having answered all `per` of its commands.
fn answered(
    handles: Vec<std::thread::JoinHandle<(Vec<String>, bool)>>,
    per: usize,
) -> Vec<Vec<String>> {
    handles
        .into_iter()
        .map(|h| {
            let (rs, ok) = h.join().unwrap();
            assert!(ok, "a writer exited with an error");
            assert_eq!(rs.len(), per, "every command answered");
            rs
        })
        .collect()
}

/// Checks what the writers were told against the store: every `{"ok": event}` is stored at
/// its seq byte for byte (so once: a seq holds one line), the record verifies, and the
/// acknowledged events of mutations number as many as the stored events after `base`.
/// Returns (acknowledged, errors by code).
fn check_acknowledged(
    t: &Target,
    results: &[Vec<String>],
    base: usize,
) -> (usize, Vec<(String, usize)>) {
    let p = t.replayed();
    let lines: Vec<&str> = p.record().lines().collect();
    let mut acked = std::collections::BTreeSet::new();
    let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
    for (w, rs) in results.iter().enumerate() {
        for r in rs {
            if let Some(line) = r
                .strip_prefix(r#"{"ok":"#)
                .and_then(|r| r.strip_suffix('}'))
            {
                let seq = serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
                    .as_u64()
                    .unwrap() as usize;
                assert_eq!(
                    lines.get(seq - 1).copied(),
                    Some(line),
                    "writer {w}: acknowledged #{seq}"
                );
                assert!(acked.insert(seq), "seq {seq} acknowledged twice");
            } else {
                let v: serde_json::Value = serde_json::from_str(r).unwrap();
                let code = v["error"]["code"].as_str().unwrap_or("?").to_string();
                *errors.entry(code).or_default() += 1;
            }
        }
    }
    // Gap-free and nothing unacknowledged in between: no expiries can fall due at NOW.
    assert_eq!(
        acked.len(),
        lines.len() - base,
        "stored events that nobody was told of"
    );
    (acked.len(), errors.into_iter().collect())
}

fn race(t: &Target, writers: usize, per: usize) {
    t.setup();
    let base = t.replayed().record().len();
    let followers: Vec<_> = (0..2)
        .map(|_| Store::open(&t.location(), Some("acme")).unwrap().follow())
        .collect();
    let started = Instant::now();
    let results = answered((0..writers).map(|w| writer(t, w, per)).collect(), per);
    let took = started.elapsed();
    let (acked, errors) = check_acknowledged(t, &results, base);
    // The only refusals are the outcomes of contention on the shared clusters.
    for (code, _) in &errors {
        assert_eq!(code, "NO_ACTIVE_GRANT", "unexpected refusal {code}");
    }
    assert!(acked >= writers * per / 2, "every addProject succeeds");
    let p = t.replayed();
    for f in &followers {
        assert!(
            f.wait_for(p.record().len() as u64, Duration::from_secs(10)),
            "a follower is stuck at {}",
            f.head()
        );
        f.read(|fp| {
            assert!(
                *fp == p,
                "a follower's state differs from the replayed record"
            )
        });
        assert_eq!(f.error(), None);
    }
    let writers_seen = p
        .record()
        .lines()
        .skip(base)
        .map(|l| &l[l.find(r#""id":"w"#).unwrap()..][..8])
        .collect::<Vec<_>>();
    let switches = writers_seen.windows(2).filter(|w| w[0] != w[1]).count();
    eprintln!(
        "{}: {writers} writers x {per} commands in {took:?}: {acked} events stored, refusals {errors:?}, {switches} switches between writers",
        t.store
    );
    assert!(
        switches > 100,
        "the writers did not interleave ({switches} switches)"
    );
}

#[test]
fn four_writers_race_on_postgres() {
    let _g = heavy();
    race(&Target::pg("four"), 4, 2_500);
}

#[test]
fn four_writers_race_on_a_file() {
    let _g = heavy();
    race(&Target::file(), 4, 2_500);
}

/// `kill -9` of a writer in the middle of its stream: what it was told is stored, nothing
/// half-stored is left, and the other writer and later ones carry on.
fn killed_writer(t: &Target) {
    t.setup();
    let base = t.replayed().record().len();
    let (mut victim, mut vin) = t.stream();
    let survivor = writer(t, 1, 1_500);
    let mut out = std::io::BufReader::new(victim.stdout.take().unwrap());
    let mut told = Vec::new();
    let mut line = String::new();
    for i in 0..100_000 {
        writeln!(vin, "{}", command(0, i)).unwrap();
        vin.flush().unwrap();
        if i >= 300 {
            break; // in flight: the next commands are written but not answered
        }
        line.clear();
        out.read_line(&mut line).unwrap();
        told.push(line.trim_end().to_string());
    }
    for i in 301..320 {
        let _ = writeln!(vin, "{}", command(0, i));
    }
    let _ = vin.flush();
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    let (rs, ok) = survivor.join().unwrap();
    assert!(ok);
    assert_eq!(rs.len(), 1_500);
    // What the killed writer stored after its last answer is in the record too, whole; count
    // it as acknowledged by reading the store's lines of writer w0 beyond what it was told.
    let p = t.replayed();
    let told_seqs: std::collections::BTreeSet<u64> = told
        .iter()
        .filter_map(|r| {
            r.strip_prefix(r#"{"ok":"#)?
                .strip_suffix('}')
                .map(String::from)
        })
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(&l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut unanswered = 0;
    for (i, l) in p.record().lines().enumerate().skip(base) {
        if l.contains(r#""id":"w0""#) && !told_seqs.contains(&(i as u64 + 1)) {
            unanswered += 1;
        }
    }
    assert!(
        unanswered <= 20,
        "{unanswered} events of the killed writer past its answers"
    );
    let mut all = vec![told, rs];
    // A new writer resumes from the store.
    let (rs, ok) = writer(t, 2, 100).join().unwrap();
    assert!(ok);
    assert_eq!(rs.len(), 100);
    all.push(rs);
    let p = t.replayed();
    let acked: usize = all
        .iter()
        .flatten()
        .filter(|r| r.starts_with(r#"{"ok":"#))
        .count();
    for rs in &all {
        for r in rs.iter().filter(|r| r.starts_with(r#"{"ok":"#)) {
            let l = &r[6..r.len() - 1];
            let seq = serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap();
            assert_eq!(p.record().line(seq as usize - 1), Some(l));
        }
    }
    assert_eq!(acked + unanswered, p.record().len() - base);
    eprintln!(
        "{}: killed a writer after {} answers; {unanswered} of its events were stored but unanswered; record of {} verifies",
        t.store,
        all[0].len(),
        p.record().len()
    );
}

#[test]
fn a_writer_killed_mid_stream_on_postgres() {
    let _g = heavy();
    killed_writer(&Target::pg("killed"));
}

#[test]
fn a_writer_killed_mid_stream_on_a_file() {
    let _g = heavy();
    killed_writer(&Target::file());
}

/// The server stops and starts again while four writers run: each command is answered with
/// its outcome (retried on a new connection) or STORE_UNAVAILABLE (nothing stored), never a
/// half-stored command, and the writers carry on after recovery.
#[test]
fn the_server_restarted_mid_run() {
    let _g = heavy();
    let t = Target::pg("restart");
    t.setup();
    let base = t.replayed().record().len();
    let handles: Vec<_> = (0..4).map(|w| writer(&t, w, 1_500)).collect();
    std::thread::sleep(Duration::from_millis(700));
    // Stopped (fast: open connections are cut, transactions in flight abort) and started
    // again with the options it ran with (pg_ctl restart reads them from postmaster.opts).
    let down = Instant::now();
    pg_ctl(&["-m", "fast", "-w", "-t", "60", "restart"]);
    let outage = down.elapsed();
    let results = answered(handles, 1_500);
    let (acked, errors) = check_acknowledged(&t, &results, base);
    for (code, _) in &errors {
        assert!(
            code == "NO_ACTIVE_GRANT" || code == "STORE_UNAVAILABLE",
            "unexpected {code}"
        );
    }
    // Recovery: the last commands of every writer were stored.
    for rs in &results {
        assert!(
            rs.last().unwrap().starts_with(r#"{"ok""#)
                || rs.last().unwrap().contains("NO_ACTIVE_GRANT")
        );
    }
    eprintln!("server down for {outage:?} mid-run: {acked} events stored, refusals {errors:?}");
}

/// Connections are dropped (pg_terminate_backend) while writers append, many of them with a
/// statement in flight: every outcome is settled — stored once, or not at all and retried.
#[test]
fn connections_dropped_while_appending() {
    let _g = heavy();
    let t = Target::pg("dropped");
    t.setup();
    let base = t.replayed().record().len();
    let db = t.store.rsplit('/').next().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (stop, kills, in_flight) = (stop.clone(), kills.clone(), in_flight.clone());
        let url = t.store.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let rows = c
                    .query(
                        "SELECT pg_terminate_backend(pid), query LIKE 'WITH new AS%' AND state = 'active' \
                         FROM pg_stat_activity WHERE datname = $1 AND application_name = 'support-access' \
                         AND pid <> pg_backend_pid() AND state = 'active'",
                        &[&db],
                    )
                    .unwrap();
                for r in rows {
                    kills.fetch_add(1, Ordering::Relaxed);
                    if r.get::<_, bool>(1) {
                        in_flight.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    let handles: Vec<_> = (0..4).map(|w| writer(&t, w, 1_500)).collect();
    let results = answered(handles, 1_500);
    stop.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    let (acked, errors) = check_acknowledged(&t, &results, base);
    for (code, _) in &errors {
        assert!(
            code == "NO_ACTIVE_GRANT" || code == "STORE_UNAVAILABLE",
            "unexpected {code}"
        );
    }
    let (k, f) = (
        kills.load(Ordering::Relaxed),
        in_flight.load(Ordering::Relaxed),
    );
    eprintln!("{k} connections dropped mid-statement ({f} during an append): {acked} events stored, refusals {errors:?}");
    assert!(
        k >= 5,
        "only {k} connections were dropped: the test did not test"
    );
}
