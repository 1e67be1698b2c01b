//! The store on both backends, against the real test PostgreSQL server: create/open, the
//! compare-and-set append and its retry, catch-up, followers, refused rows, clear failures.

use std::time::{Duration, Instant};

use support_access_core::{
    Actor, ErrorCode, GrantType, Policy, PolicyOptions, Reason, Resource, Timestamp,
};
use support_access_store::{Location, Now, Store, StoreError, StoreOptions};
use support_access_testkit::{admin, fresh_db};

const T0: i64 = 1_795_860_000_000; // 2026-11-28T10:00:00Z

fn pg(url: &str) -> Location {
    Location::parse(url).unwrap()
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + ms).unwrap()
}

fn owner() -> Actor {
    Actor::org_owner("alice").unwrap()
}

/// A file location in a temp dir (kept alive by the returned guard), and a fresh database.
fn both(name: &str) -> Vec<(Location, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let file = Location::File(dir.path().join("r.jsonl"));
    vec![(file, Some(dir)), (pg(&fresh_db(name)), None)]
}

/// An org with project p1 and clusters c0 (sync on) and c1.
fn seeded(loc: &Location) -> Store {
    let mut o = PolicyOptions::new("acme");
    o.restrict_employee_access = true;
    let mut s = Store::create(loc, o).unwrap();
    let a = owner();
    s.write(Now::At(t(0)), |p, now| p.add_project(&a, "p1", now))
        .unwrap()
        .unwrap();
    for (c, sync) in [("c0", true), ("c1", false)] {
        s.write(Now::At(t(0)), |p, now| {
            p.add_cluster(&a, "p1", c, Default::default(), sync, now)
        })
        .unwrap()
        .unwrap();
    }
    s
}

fn stored_text(loc: &Location) -> String {
    Store::open(loc, Some("acme"))
        .unwrap()
        .policy()
        .export_record()
}

#[test]
fn create_open_write_and_catch_up_on_both_stores() {
    for (loc, _guard) in both("basic") {
        let mut a = seeded(&loc);
        let mut b = Store::open(&loc, Some("acme")).unwrap();
        assert_eq!(b.head(), 4, "{loc}");
        assert!(b.policy() == a.policy());
        let o = owner();
        let granted = a
            .write(Now::At(t(1000)), |p, now| {
                p.grant(&o, "c0", GrantType::ClusterDatabaseLogs, now, None)
            })
            .unwrap()
            .unwrap();
        assert_eq!(granted.seq, 5);
        assert_eq!(b.refresh().unwrap(), 1);
        let d = b
            .policy()
            .evaluate("c0", Resource::DatabaseLogs, t(2000))
            .unwrap();
        assert_eq!((d.allowed, d.reason), (true, Reason::GrantActive));
        assert!(b.policy() == a.policy());
        // Nothing new: a refresh adds nothing.
        assert_eq!(b.refresh().unwrap(), 0);
        // The org alone names the record; a store with one org needs none.
        assert_eq!(Store::open(&loc, None).unwrap().org_id(), "acme");
        // What is stored replays to the cache, byte for byte.
        assert_eq!(stored_text(&loc), a.policy().export_record());
    }
}

#[test]
fn a_lost_race_is_caught_up_and_run_again_with_its_new_outcome() {
    for (loc, _guard) in both("race") {
        let mut a = seeded(&loc);
        let mut b = Store::open(&loc, Some("acme")).unwrap();
        let o = owner();
        // b applies `add project p2` to its cache; before it can store it, a stores the same.
        let mut attempts = 0;
        let out = b
            .write(Now::At(t(1000)), |p, now| {
                attempts += 1;
                if attempts == 1 {
                    a.write(Now::At(t(900)), |q, n| q.add_project(&o, "p2", n))
                        .unwrap()
                        .unwrap();
                }
                p.add_project(&o, "p2", now)
            })
            .unwrap();
        assert_eq!(attempts, 2, "{loc}: run once, lost the race, run again");
        assert_eq!(out.unwrap_err().code(), ErrorCode::DuplicateProject);
        assert_eq!(b.stats().conflicts, 1);
        assert_eq!(b.stats().appends, 0, "the failed retry stored nothing");
        assert!(b.policy() == a.policy(), "b caught up with a's event");
        assert_eq!(stored_text(&loc).lines().count(), 5);

        // A revoke that loses to a revoke: NO_ACTIVE_GRANT is what b's caller gets.
        a.write(Now::At(t(2000)), |p, now| {
            p.grant(&o, "c1", GrantType::ClusterInfrastructure, now, None)
        })
        .unwrap()
        .unwrap();
        b.refresh().unwrap();
        let mut n = 0;
        let out = b
            .write(Now::At(t(3000)), |p, now| {
                n += 1;
                if n == 1 {
                    a.write(Now::At(t(3000)), |q, at| q.revoke(&o, "c1", at))
                        .unwrap()
                        .unwrap();
                }
                p.revoke(&o, "c1", now)
            })
            .unwrap();
        assert_eq!(out.unwrap_err().code(), ErrorCode::NoActiveGrant);
        // And one that can only succeed stores at the next seq after the winner's.
        let mut n = 0;
        let ev = b
            .write(Now::At(t(4000)), |p, now| {
                n += 1;
                if n == 1 {
                    a.write(Now::At(t(4000)), |q, at| q.add_project(&o, "pa", at))
                        .unwrap()
                        .unwrap();
                }
                p.add_project(&o, "pb", now)
            })
            .unwrap()
            .unwrap();
        assert_eq!(ev.seq, a.head() + 1);
        let text = stored_text(&loc);
        assert_eq!(text.lines().nth(ev.seq as usize - 1), Some(ev.json()));
        assert!(Policy::replay(&text).unwrap() == *b.policy());
    }
}

#[test]
fn a_failed_command_stores_nothing() {
    for (loc, _guard) in both("failed") {
        let mut s = seeded(&loc);
        let before = stored_text(&loc);
        let appends = s.stats().appends;
        let reader = Actor::new(
            "rita",
            vec![support_access_core::Role::ProjectReadOnly("p1".into())],
        )
        .unwrap();
        for cmd in [
            r#"{"op":"grant","actor":{"id":"rita","roles":[]},"cluster":"c0","grantType":"CLUSTER_INFRASTRUCTURE","now":"2026-11-28T11:00:00Z"}"#,
            r#"{"op":"grant","cluster":"nope","grantType":"ROOT","now":"2026-11-28T11:00:00Z"}"#,
            r#"{"op":"addProject","actor":{"id":"a","roles":[{"role":"ORG_OWNER"}]},"projectId":"p9","now":"2020-01-01T00:00:00Z"}"#,
            r#"{"op": "#,
            "\u{0}\u{1}",
        ] {
            let out = s.apply(cmd.as_bytes()).unwrap();
            assert!(out.starts_with(r#"{"error":"#), "{out}");
        }
        let e = s
            .write(Now::At(t(5000)), |p, now| p.revoke(&reader, "c0", now))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden);
        assert_eq!(stored_text(&loc), before, "{loc}");
        assert_eq!(s.stats().appends, appends);
    }
}

#[test]
fn the_clock_never_stamps_behind_the_head_but_an_explicit_time_may_not_go_back() {
    for (loc, _guard) in both("clock") {
        let mut s = seeded(&loc);
        let o = owner();
        // Another writer whose clock runs a day ahead of this host's.
        let future =
            Timestamp::from_millis(support_access_store::host_clock().millis() + 86_400_000)
                .unwrap();
        s.write(Now::At(future), |p, now| p.add_project(&o, "ahead", now))
            .unwrap()
            .unwrap();
        let ev = s
            .write(Now::Clock, |p, now| p.add_project(&o, "later", now))
            .unwrap()
            .unwrap();
        assert_eq!(ev.at, future, "stamped at the head's time, not behind it");
        let e = s
            .write(Now::At(t(0)), |p, now| p.add_project(&o, "past", now))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ClockWentBackwards);
    }
}

#[test]
fn a_follower_sees_another_writers_grant_and_revoke_within_milliseconds() {
    for (loc, _guard) in both("follow") {
        let mut w = seeded(&loc);
        let f = Store::open(&loc, Some("acme")).unwrap().follow();
        std::thread::sleep(Duration::from_millis(100)); // listening
        let o = owner();
        let mut lags = Vec::new();
        for i in 0..20 {
            let start = Instant::now();
            let ev = w
                .write(Now::At(t(1000 + i)), |p, now| {
                    if i % 2 == 0 {
                        p.grant(&o, "c0", GrantType::ClusterInfrastructure, now, None)
                    } else {
                        p.revoke(&o, "c0", now)
                    }
                })
                .unwrap()
                .unwrap();
            assert!(
                f.wait_for(ev.seq, Duration::from_secs(5)),
                "{loc}: follower stuck at {}",
                f.head()
            );
            lags.push(start.elapsed());
            let d = f.read(|p| {
                p.evaluate("c0", Resource::Infrastructure, t(1000 + i))
                    .unwrap()
            });
            assert_eq!(d.allowed, i % 2 == 0, "{loc} step {i}");
        }
        lags.sort();
        assert!(
            lags[10] < Duration::from_millis(500),
            "{loc}: median lag {:?}",
            lags[10]
        );
        f.read(|p| assert!(p == w.policy()));
        assert_eq!(f.error(), None);
    }
}

#[test]
fn a_row_edited_behind_the_stores_back_is_refused_with_its_seq_and_never_built_upon() {
    let url = fresh_db("tamper");
    let loc = pg(&url);
    let mut a = seeded(&loc);
    let mut b = Store::open(&loc, Some("acme")).unwrap(); // at seq 4
    let o = owner();
    for i in 0..3 {
        a.write(Now::At(t(100 * i)), |p, now| {
            p.add_project(&o, &format!("x{i}"), now)
        })
        .unwrap()
        .unwrap();
    }
    let f = Store::open(&loc, Some("acme")).unwrap().follow(); // at seq 7
    std::thread::sleep(Duration::from_millis(100));
    // Someone who can write the table edits seq 6 and appends a forged seq 8.
    let mut db = admin(&url);
    let n = db
        .execute(
            "UPDATE support_access_event SET line = replace(line, '\"x1\"', '\"y1\"') WHERE org_id = 'acme' AND seq = 6",
            &[],
        )
        .unwrap();
    assert_eq!(n, 1);
    db.execute(
        "INSERT INTO support_access_event SELECT org_id, 8, replace(replace(line, '\"x2\"', '\"y2\"'), '\"seq\":7', '\"seq\":8') FROM support_access_event WHERE org_id = 'acme' AND seq = 7",
        &[],
    )
    .unwrap();
    db.execute("NOTIFY support_access, 'acme'", &[]).unwrap();

    // A writer behind the edit refuses it on catch-up, and stays where it was.
    let e = b.refresh().unwrap_err();
    assert!(matches!(e, StoreError::Tampered { .. }), "{e}");
    assert_eq!((e.code(), e.seq()), ("RECORD_TAMPERED", Some(6)));
    assert_eq!(
        b.head(),
        4,
        "the cache stays at the last event that verified"
    );
    // Never built upon: a write refuses too.
    let e = b
        .write(Now::At(t(900)), |p, now| p.add_project(&o, "z", now))
        .unwrap_err();
    assert_eq!(e.seq(), Some(6));
    // A fresh open refuses the edited row.
    assert_eq!(Store::open(&loc, Some("acme")).unwrap_err().seq(), Some(6));
    // The follower and the writer that already verified seq 6 refuse the forged seq 8.
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.error().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let fe = f.error().expect("the follower refuses the forged row");
    assert!(fe.contains("seq 8"), "{fe}");
    assert_eq!(f.head(), 7, "the follower keeps its last good state");
    let e = a
        .write(Now::At(t(900)), |p, now| p.add_project(&o, "z", now))
        .unwrap_err();
    assert_eq!((e.code(), e.seq()), ("RECORD_TAMPERED", Some(8)));
    assert_eq!(a.head(), 7);
    let count: i64 = db
        .query_one("SELECT count(*) FROM support_access_event", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 8, "nothing was stored after the edit");
}

#[test]
fn a_gap_or_a_cut_chain_is_refused() {
    let url = fresh_db("gap");
    let loc = pg(&url);
    let mut a = seeded(&loc);
    let o = owner();
    for i in 0..3 {
        a.write(Now::At(t(i)), |p, now| {
            p.add_project(&o, &format!("x{i}"), now)
        })
        .unwrap()
        .unwrap();
    }
    let mut db = admin(&url);
    db.execute("DELETE FROM support_access_event WHERE seq = 5", &[])
        .unwrap();
    let e = Store::open(&loc, None).unwrap_err();
    assert_eq!((e.code(), e.seq()), ("RECORD_TAMPERED", Some(5)));
    assert!(e.to_string().contains("missing"), "{e}");
    // Cutting the end: a writer whose cache holds the cut events finds its head gone.
    let url2 = fresh_db("cut");
    let loc2 = pg(&url2);
    let mut w = seeded(&loc2);
    admin(&url2)
        .execute("DELETE FROM support_access_event WHERE seq = 4", &[])
        .unwrap();
    let e = w
        .write(Now::At(t(10)), |p, now| p.add_project(&o, "after-cut", now))
        .unwrap_err();
    assert_eq!((e.code(), e.seq()), ("RECORD_TAMPERED", Some(4)));
}

#[test]
fn bad_urls_and_refused_logins_are_one_readable_line() {
    let base = support_access_testkit::server_url();
    let port = std::env::var("SUPPORT_ACCESS_TEST_PG_PORT").unwrap();
    let cases = [
        (
            format!("postgres://nobody:hunter2@127.0.0.1:{port}/postgres"),
            "role \"nobody\" does not exist",
        ),
        (
            format!("postgres://postgres@127.0.0.1:{port}/no_such_db"),
            "database \"no_such_db\" does not exist",
        ),
        (
            String::from("postgres://postgres@127.0.0.1:1/postgres"),
            "refused",
        ),
    ];
    let quick = StoreOptions {
        retry_for: Duration::from_millis(300),
        ..StoreOptions::default()
    };
    for (url, needle) in cases {
        let started = Instant::now();
        let e = Store::open_with(&pg(&url), Some("acme"), quick).unwrap_err();
        let msg = e.to_string();
        if needle == "refused" {
            assert_eq!(e.code(), "STORE_UNAVAILABLE", "{msg}");
        } else {
            assert_eq!(e.code(), "STORE_REFUSED", "{msg}");
            assert!(
                started.elapsed() < Duration::from_millis(250),
                "a refusal is not retried"
            );
        }
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
        assert!(!msg.contains("hunter2"), "password shown: {msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
    }
    let e = Location::parse("postgres://u@h:99999999/db").unwrap_err();
    assert_eq!(e.code(), "USAGE");
    // An org that is not there, and a store of several orgs without --org.
    let url = fresh_db("orgs");
    let loc = pg(&url);
    assert_eq!(
        Store::open(&loc, Some("acme")).unwrap_err().code(),
        "RECORD_UNREADABLE"
    );
    Store::create(&loc, PolicyOptions::new("one")).unwrap();
    Store::create(&loc, PolicyOptions::new("two")).unwrap();
    let e = Store::open(&loc, None).unwrap_err();
    assert_eq!(e.code(), "ORG_REQUIRED");
    assert!(e.to_string().contains("one, two"), "{e}");
    let e = Store::create(&loc, PolicyOptions::new("one")).unwrap_err();
    assert_eq!(e.code(), "RECORD_EXISTS");
    assert_eq!(Store::orgs(&loc).unwrap(), ["one", "two"]);
    drop(base);
}

#[test]
fn an_application_role_with_only_select_and_insert_can_write_but_not_rewrite() {
    let url = fresh_db("grants");
    seeded(&pg(&url)); // creates the schema as the owner
    let mut db = admin(&url);
    // The role is server-wide: another run (another database) may have made it already.
    db.batch_execute(
        "DO $$ BEGIN CREATE ROLE support_access_app LOGIN; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .unwrap();
    db.batch_execute(support_access_store::postgres::GRANTS)
        .unwrap();
    let app_url = url.replacen("postgres@", "support_access_app@", 1);
    let loc = pg(&app_url);
    let mut s = Store::open(&loc, Some("acme")).unwrap();
    let o = owner();
    s.write(Now::At(t(10)), |p, now| p.add_project(&o, "by-app", now))
        .unwrap()
        .unwrap();
    let mut app = admin(&app_url);
    let e = app
        .execute(
            "UPDATE support_access_event SET line = 'x' WHERE seq = 1",
            &[],
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("permission denied")
            || e.as_db_error()
                .is_some_and(|d| d.message().contains("permission denied")),
        "{e}"
    );
    let e = app
        .execute("DELETE FROM support_access_event", &[])
        .unwrap_err();
    assert!(
        e.as_db_error()
            .is_some_and(|d| d.message().contains("permission denied")),
        "{e}"
    );
}

#[test]
fn a_file_record_migrates_into_postgres_and_verifies_there() {
    let dir = tempfile::tempdir().unwrap();
    let file = Location::File(dir.path().join("acme.jsonl"));
    let mut s = seeded(&file);
    let o = owner();
    s.write(Now::At(t(10)), |p, now| {
        p.grant(
            &o,
            "c0",
            GrantType::ClusterInfrastructure,
            now,
            Some(t(3_600_000)),
        )
    })
    .unwrap()
    .unwrap();
    // Two expiries and a grant in one command: the lines one operation writes stay together.
    s.write(Now::At(t(7_200_000)), |p, now| {
        p.grant(&o, "c1", GrantType::ClusterDatabaseLogs, now, None)
    })
    .unwrap()
    .unwrap();
    let text = s.policy().export_record();
    let url = fresh_db("migrate");
    let moved = Store::import(&pg(&url), &text).unwrap();
    assert_eq!(moved.policy().export_record(), text);
    assert_eq!(stored_text(&pg(&url)), text);
    // Importing again is refused: the organization is there.
    assert_eq!(
        Store::import(&pg(&url), &text).unwrap_err().code(),
        "RECORD_EXISTS"
    );
    // A tampered record is refused before anything is stored.
    let bad = text.replacen("\"p1\"", "\"p9\"", 1);
    let url2 = fresh_db("migrate_bad");
    assert_eq!(
        Store::import(&pg(&url2), &bad).unwrap_err().code(),
        "RECORD_TAMPERED"
    );
    assert!(Store::orgs(&pg(&url2)).unwrap().is_empty());
}
