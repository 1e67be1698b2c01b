//! Runs the `support-access` binary against records in temporary directories: every
//! subcommand, the SPEC's JSON, exit codes, bad input leaving the record byte-identical, refused
//! truncated and tampered records, and two concurrent writers.

use std::cell::Cell;
use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use support_access_core::{apply, Policy};

mod common;

use common::{cmd, BIN};
const T0: &str = "2026-11-28T09:00:00Z";
const OWNER: &[&str] = &["--actor", "alice", "--role", "ORG_OWNER"];

/// Which store an `Env` runs the CLI on: the tests in `mod on_postgres` (at the end) run again
/// with `Pg`, each on a fresh database of the test server that `cargo xtask test` starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Pg,
}

thread_local! {
    static KIND: Cell<Kind> = const { Cell::new(Kind::File) };
}

struct Env {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    record: PathBuf,
    /// The database URL, on PostgreSQL.
    pg: Option<String>,
}

/// A fresh database on the test server (whose URL `cargo xtask test` exports).
fn fresh_db() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    support_access_testkit::fresh_db(&format!("cli_{}", N.fetch_add(1, Ordering::Relaxed)))
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    Env {
        record: path.join("r.jsonl"),
        dir: path,
        _dir: dir,
        pg: (KIND.with(Cell::get) == Kind::Pg).then(fresh_db),
    }
}

impl Env {
    /// `--record R`, or `--store URL` on PostgreSQL.
    fn store_args(&self) -> [OsString; 2] {
        match &self.pg {
            Some(url) => ["--store".into(), url.into()],
            None => ["--record".into(), self.record.clone().into()],
        }
    }

    /// Runs `support-access --record R ARGS…` (or `--store URL`).
    fn run(&self, args: &[&str]) -> Output {
        cmd().args(self.store_args()).args(args).output().unwrap()
    }

    /// The stored record's bytes, if there is one.
    fn snapshot(&self) -> Option<Vec<u8>> {
        match &self.pg {
            None => fs::read(&self.record).ok(),
            Some(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let exists: Option<String> = c
                    .query_one("SELECT to_regclass('support_access_event')::text", &[])
                    .unwrap()
                    .get(0);
                exists?;
                let text: Option<String> = c
                    .query_one(
                        "SELECT string_agg(line || E'\\n', '' ORDER BY seq) FROM support_access_event WHERE org_id = 'acme'",
                        &[],
                    )
                    .unwrap()
                    .get(0);
                text.map(String::into_bytes)
            }
        }
    }

    /// Runs at a time, as the org owner.
    fn owner(&self, now: &str, args: &[&str]) -> Output {
        let mut all = vec!["--now", now];
        all.extend_from_slice(OWNER);
        all.extend_from_slice(args);
        self.run(&all)
    }

    fn bytes(&self) -> Vec<u8> {
        self.snapshot().expect("a stored record")
    }

    fn text(&self) -> String {
        String::from_utf8(self.bytes()).unwrap()
    }

    /// A record with project prod and clusters Cluster0 (sync on) and Flex0 (FLEX).
    fn setup(&self) {
        ok(&self.run(&["--now", T0, "init", "--org", "acme", "--restrict"]));
        ok(&self.owner(T0, &["project", "add", "prod"]));
        ok(&self.owner(
            T0,
            &["cluster", "add", "Cluster0", "--project", "prod", "--sync"],
        ));
        ok(&self.owner(
            T0,
            &[
                "cluster",
                "add",
                "Flex0",
                "--project",
                "prod",
                "--kind",
                "flex",
            ],
        ));
    }

    fn policy(&self) -> Policy {
        Policy::replay(&self.text()).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        out(o),
        err(o)
    );
    out(o)
}

#[track_caller]
fn code(o: &Output, expected: i32) {
    assert_eq!(
        o.status.code(),
        Some(expected),
        "stdout: {}\nstderr: {}",
        out(o),
        err(o)
    );
}

/// Runs `f`, which must fail with `exit` and a message containing `needle`, leaving the record
/// byte-identical.
#[track_caller]
fn refused(e: &Env, exit: i32, needle: &str, o: impl FnOnce(&Env) -> Output) {
    let before = e.snapshot();
    let o = o(e);
    code(&o, exit);
    let msg = format!("{}{}", out(&o), err(&o));
    assert!(msg.contains(needle), "expected `{needle}` in: {msg}");
    assert_eq!(e.snapshot(), before, "record changed by a refused command");
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(out(o).trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out(o)))
}

// ----- init -----

#[test]
fn init_creates_a_record_with_its_first_event() {
    let e = env();
    let o = e.run(&[
        "--now",
        T0,
        "--json",
        "init",
        "--org",
        "acme",
        "--max-grant",
        "12h",
    ]);
    let printed = ok(&o);
    assert_eq!(
        printed,
        format!("{{\"ok\":{}}}\n", e.text().trim_end()),
        "--json prints the recorded event"
    );
    let p = e.policy();
    assert_eq!(p.org_id(), "acme");
    assert_eq!(p.max_grant_duration_ms(), Some(12 * 3_600_000));
    assert!(!p.restrict_employee_access());

    assert_eq!(
        p.record().last_at().to_string(),
        "2026-11-28T09:00:00.000Z",
        "stamped --now"
    );

    let e2 = env();
    let text = ok(&e2.run(&[
        "--now",
        T0,
        "init",
        "--org",
        "acme",
        "--restrict",
        "--max-grant",
        "none",
    ]));
    assert!(text.contains("restricted"), "{text}");
    assert!(e2.policy().restrict_employee_access());
    assert_eq!(e2.policy().max_grant_duration_ms(), None);

    // Without --now the record says when it was created, by the clock.
    let e3 = env();
    let before = support_access_store::host_clock().millis();
    ok(&e3.run(&["init", "--org", "acme"]));
    let at = e3.policy().record().last_at().millis();
    assert!(
        at >= before && at - before < 60_000,
        "genesis at {at}, clock {before}"
    );
}

#[test]
fn init_never_overwrites_a_record() {
    let e = env();
    e.setup();
    refused(&e, 2, "already exists", |e| {
        e.run(&["--now", T0, "init", "--org", "acme"])
    });
}

#[test]
fn init_refuses_bad_options_and_writes_nothing() {
    let e = env();
    refused(&e, 2, "invalid duration", |e| {
        e.run(&[
            "--now",
            T0,
            "init",
            "--org",
            "acme",
            "--max-grant",
            "forever",
        ])
    });
    refused(&e, 2, "MALFORMED_INPUT", |e| {
        e.run(&["--now", T0, "init", "--org", ""])
    });
    refused(&e, 2, "init needs --org", |e| e.run(&["init"]));
    assert!(e.snapshot().is_none());
}

// ----- restrict, project, cluster -----

#[test]
fn restrict_on_and_off() {
    let e = env();
    ok(&e.run(&["--now", T0, "init", "--org", "acme"]));
    let o = e.owner(T0, &["--json", "restrict", "on"]);
    assert_eq!(json(&o)["ok"]["type"], "ORG_EMPLOYEE_ACCESS_RESTRICTED");
    assert!(e.policy().restrict_employee_access());
    let text = ok(&e.owner(T0, &["restrict", "off"]));
    assert!(text.contains("no longer restricted"), "{text}");
    assert!(!e.policy().restrict_employee_access());
    refused(&e, 2, "on|off", |e| e.owner(T0, &["restrict", "maybe"]));
    refused(&e, 3, "FORBIDDEN", |e| {
        e.run(&[
            "--now",
            T0,
            "--actor",
            "bob",
            "--role",
            "PROJECT_OWNER:prod",
            "restrict",
            "on",
        ])
    });
}

#[test]
fn project_add_and_remove() {
    let e = env();
    e.setup();
    let o = e.owner(T0, &["--json", "project", "add", "staging"]);
    assert_eq!(json(&o)["ok"]["type"], "PROJECT_ADDED");
    refused(&e, 3, "DUPLICATE_PROJECT", |e| {
        e.owner(T0, &["project", "add", "staging"])
    });
    let text = ok(&e.owner(T0, &["project", "remove", "prod"]));
    assert!(
        text.contains("Cluster0"),
        "removing a project removes its clusters: {text}"
    );
    assert!(e.policy().cluster("Cluster0").is_none());
    refused(&e, 3, "PROJECT_NOT_FOUND", |e| {
        e.owner(T0, &["project", "remove", "nope"])
    });
}

#[test]
fn cluster_add_remove_and_list() {
    let e = env();
    e.setup();
    let o = e.owner(
        T0,
        &[
            "--json",
            "cluster",
            "add",
            "Cluster1",
            "--project",
            "prod",
            "--kind",
            "SERVERLESS",
        ],
    );
    assert_eq!(json(&o)["ok"]["kind"], "SERVERLESS");
    let list = ok(&e.run(&["--now", T0, "cluster", "list"]));
    for needle in [
        "CLUSTER",
        "Cluster0",
        "Flex0",
        "Cluster1",
        "FLEX",
        "SERVERLESS",
        "takes no grants",
    ] {
        assert!(list.contains(needle), "`{needle}` missing from:\n{list}");
    }
    let j = json(&e.run(&["--now", T0, "--json", "cluster", "list"]));
    assert_eq!(j["ok"]["clusters"].as_array().unwrap().len(), 3);
    ok(&e.owner(T0, &["cluster", "remove", "Cluster1"]));
    assert!(e.policy().cluster("Cluster1").is_none());
    refused(&e, 3, "DUPLICATE_CLUSTER", |e| {
        e.owner(T0, &["cluster", "add", "Cluster0", "--project", "prod"])
    });
    refused(&e, 3, "PROJECT_NOT_FOUND", |e| {
        e.owner(T0, &["cluster", "add", "C9", "--project", "nope"])
    });
    refused(&e, 3, "INVALID_CLUSTER_NAME", |e| {
        e.owner(T0, &["cluster", "add", "bad_name", "--project", "prod"])
    });
    refused(&e, 2, "INVALID_ENUM_VALUE", |e| {
        e.owner(
            T0,
            &[
                "cluster",
                "add",
                "C9",
                "--project",
                "prod",
                "--kind",
                "huge",
            ],
        )
    });
    refused(&e, 3, "CLUSTER_NOT_FOUND", |e| {
        e.owner(T0, &["cluster", "remove", "Nope"])
    });
}

// ----- grant, revoke, status -----

#[test]
fn grant_for_until_and_default() {
    let e = env();
    e.setup();
    let o = e.owner(
        T0,
        &[
            "--json", "grant", "Cluster0", "--type", "logs", "--for", "6h",
        ],
    );
    let j = json(&o);
    assert_eq!(j["ok"]["type"], "EMPLOYEE_ACCESS_GRANTED");
    assert_eq!(j["ok"]["grantType"], "CLUSTER_DATABASE_LOGS");
    assert_eq!(j["ok"]["expirationTime"], "2026-11-28T15:00:00.000Z");
    assert_eq!(j["ok"]["replaced"], serde_json::Value::Null);
    // --json prints exactly the line appended to the record.
    assert_eq!(
        out(&o).trim_end(),
        format!("{{\"ok\":{}}}", e.text().lines().last().unwrap())
    );

    let o = e.owner(
        "2026-11-28T10:00:00Z",
        &[
            "--json",
            "grant",
            "Cluster0",
            "--type",
            "CLUSTER_INFRASTRUCTURE",
            "--until",
            "2026-11-28T20:00:00Z",
        ],
    );
    let j = json(&o);
    assert_eq!(j["ok"]["expirationTime"], "2026-11-28T20:00:00.000Z");
    assert_eq!(
        j["ok"]["replaced"]["grantType"], "CLUSTER_DATABASE_LOGS",
        "a re-grant names what it replaced"
    );

    let text = ok(&e.owner(
        "2026-11-28T11:00:00Z",
        &["grant", "Cluster0", "--type", "sync"],
    ));
    assert!(
        text.contains("2026-11-29T11:00:00.000Z") && text.contains("24h 0m"),
        "default is 24 hours: {text}"
    );
    let text = ok(&e.owner(
        "2026-11-28T11:00:00Z",
        &["grant", "Cluster0", "--type", "infra", "--until", "+2h"],
    ));
    assert!(text.contains("2026-11-28T13:00:00.000Z"), "{text}");
}

#[test]
fn grant_bad_input_leaves_the_record_untouched() {
    let e = env();
    e.setup();
    refused(&e, 2, "invalid duration `6 hours please`", |e| {
        e.owner(
            T0,
            &[
                "grant",
                "Cluster0",
                "--type",
                "logs",
                "--for",
                "6 hours please",
            ],
        )
    });
    refused(&e, 2, "invalid duration", |e| {
        e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--for", "0h"])
    });
    refused(&e, 2, "invalid duration", |e| {
        e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--for", "6"])
    });
    refused(&e, 2, "INVALID_ENUM_VALUE", |e| {
        e.owner(T0, &["grant", "Cluster0", "--type", "everything"])
    });
    refused(&e, 2, "INVALID_TIMESTAMP", |e| {
        e.owner(
            T0,
            &["grant", "Cluster0", "--type", "logs", "--until", "tomorrow"],
        )
    });
    refused(&e, 2, "cannot be used with", |e| {
        e.owner(
            T0,
            &[
                "grant", "Cluster0", "--type", "logs", "--for", "1h", "--until", "+2h",
            ],
        )
    });
    refused(&e, 2, "--type", |e| e.owner(T0, &["grant", "Cluster0"]));
    refused(&e, 3, "CLUSTER_NOT_FOUND", |e| {
        e.owner(T0, &["grant", "Nope", "--type", "logs"])
    });
    refused(&e, 3, "EXPIRATION_TOO_FAR", |e| {
        e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--for", "25h"])
    });
    refused(&e, 3, "EXPIRATION_NOT_IN_FUTURE", |e| {
        e.owner(
            T0,
            &["grant", "Cluster0", "--type", "logs", "--until", "-1h"],
        )
    });
    refused(&e, 3, "UNSUPPORTED_CLUSTER_KIND", |e| {
        e.owner(T0, &["grant", "Flex0", "--type", "logs"])
    });
    refused(&e, 3, "FORBIDDEN", |e| {
        e.run(&[
            "--now",
            T0,
            "--actor",
            "carol",
            "--role",
            "PROJECT_READ_ONLY:prod",
            "grant",
            "Cluster0",
            "--type",
            "logs",
        ])
    });
    refused(&e, 2, "needs an actor", |e| {
        e.run(&["--now", T0, "grant", "Cluster0", "--type", "logs"])
    });
    refused(&e, 2, "INVALID_ENUM_VALUE", |e| {
        e.run(&[
            "--now", T0, "--actor", "x", "--role", "KING", "grant", "Cluster0", "--type", "logs",
        ])
    });
    refused(&e, 2, "INVALID_TIMESTAMP", |e| {
        e.owner("noon", &["grant", "Cluster0", "--type", "logs"])
    });
    // JSON mode: the SPEC's error object on stdout.
    let o = e.owner(T0, &["--json", "grant", "Nope", "--type", "logs"]);
    code(&o, 3);
    assert_eq!(json(&o)["error"]["code"], "CLUSTER_NOT_FOUND");
}

#[test]
fn revoke_ends_the_grant() {
    let e = env();
    e.setup();
    refused(&e, 3, "NO_ACTIVE_GRANT", |e| {
        e.owner(T0, &["revoke", "Cluster0"])
    });
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let o = e.run(&[
        "--now",
        "2026-11-28T10:00:00Z",
        "--actor",
        "bob",
        "--role",
        "manager:prod",
        "--json",
        "revoke",
        "Cluster0",
    ]);
    assert_eq!(json(&o)["ok"]["type"], "EMPLOYEE_ACCESS_REVOKED");
    assert_eq!(
        json(&o)["ok"]["actor"]["roles"][0]["role"],
        "PROJECT_SUPPORT_ACCESS_MANAGER"
    );
    let o = e.run(&["--now", "2026-11-28T10:01:00Z", "check", "Cluster0", "logs"]);
    code(&o, 1);
    assert!(out(&o).contains("GRANT_REVOKED"));
    refused(&e, 3, "NO_ACTIVE_GRANT", |e| {
        e.owner("2026-11-28T10:02:00Z", &["revoke", "Cluster0"])
    });
    refused(&e, 3, "CLOCK_WENT_BACKWARDS", |e| {
        e.owner("2026-11-28T08:00:00Z", &["project", "add", "late"])
    });
}

#[test]
fn status_shows_a_countdown_plain_when_piped() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let text = ok(&e.run(&["--now", "2026-11-28T09:00:30Z", "status"]));
    for needle in [
        "CLUSTER",
        "PROJECT",
        "GRANT TYPE",
        "EXPIRES AT",
        "LEFT",
        "Cluster0",
        "prod",
        "CLUSTER_DATABASE_LOGS",
        "2026-11-29T09:00:00.000Z",
        "23h 59m",
        "RESTRICTED",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    assert!(!text.contains('\x1b'), "no colors when piped");
    // NO_COLOR unset still gives plain output when stdout is not a terminal.
    let o = Command::new(BIN)
        .args(e.store_args())
        .args(["--now", T0, "status"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!ok(&o).contains('\x1b'));
    let j = json(&e.run(&["--now", T0, "--json", "status"]));
    assert_eq!(
        j["ok"]["clusters"][0]["mongoDBEmployeeAccessGrant"]["grantType"],
        "CLUSTER_DATABASE_LOGS"
    );
    // The same bytes as the core's describe.
    let o = e.run(&["--now", T0, "--json", "status"]);
    let mut p = e.policy();
    let expected = apply(
        &mut p,
        "{\"op\":\"describe\",\"now\":\"2026-11-28T09:00:00Z\"}",
    );
    assert_eq!(out(&o).trim_end(), expected);
}

// ----- check -----

#[test]
fn check_allows_denies_and_explains() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--for", "2h"]));
    let o = e.run(&[
        "--now",
        "2026-11-28T10:00:00Z",
        "check",
        "Cluster0",
        "DATABASE_LOGS",
    ]);
    code(&o, 0);
    assert!(
        out(&o).contains("ALLOW") && out(&o).contains("GRANT_ACTIVE") && out(&o).contains("1h 0m"),
        "{}",
        out(&o)
    );
    let o = e.run(&[
        "--now",
        "2026-11-28T10:00:00Z",
        "check",
        "Cluster0",
        "audit_logs",
    ]);
    code(&o, 1);
    assert!(out(&o).contains("DENY") && out(&o).contains("NOT_COVERED_BY_GRANT"));
    code(
        &e.run(&["--now", "2026-11-28T10:00:00Z", "check", "Cluster0", "data"]),
        1,
    );
    code(
        &e.run(&["--now", "2026-11-28T10:00:00Z", "check", "Cluster0", "sync"]),
        1,
    );
    let o = e.run(&["--now", "2026-11-28T12:00:00Z", "check", "Cluster0", "logs"]);
    code(&o, 1);
    assert!(out(&o).contains("GRANT_EXPIRED"));
    refused(&e, 3, "CLUSTER_NOT_FOUND", |e| {
        e.run(&["--now", T0, "check", "Nope", "logs"])
    });
    refused(&e, 2, "INVALID_ENUM_VALUE", |e| {
        e.run(&["--now", T0, "check", "Cluster0", "secrets"])
    });
}

#[test]
fn check_json_matches_the_core_bytes() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "infra", "--for", "2h"]));
    let mut p = e.policy();
    for (res, spec) in [
        ("infra", "INFRASTRUCTURE"),
        ("logs", "DATABASE_LOGS"),
        ("sync", "SYNC_DATA"),
    ] {
        let o = e.run(&[
            "--now",
            "2026-11-28T10:00:00Z",
            "--json",
            "check",
            "Cluster0",
            res,
        ]);
        let cmd = format!("{{\"op\":\"evaluate\",\"cluster\":\"Cluster0\",\"resource\":\"{spec}\",\"now\":\"2026-11-28T10:00:00Z\"}}");
        assert_eq!(out(&o).trim_end(), apply(&mut p, &cmd));
    }
}

#[test]
fn check_at_a_past_time_uses_the_record() {
    let e = env();
    ok(&e.run(&["--now", T0, "init", "--org", "acme"]));
    ok(&e.owner(T0, &["project", "add", "prod"]));
    ok(&e.owner(T0, &["cluster", "add", "Cluster0", "--project", "prod"]));
    ok(&e.owner("2026-11-28T10:00:00Z", &["restrict", "on"]));
    ok(&e.owner(
        "2026-11-28T11:00:00Z",
        &["grant", "Cluster0", "--type", "logs"],
    ));
    ok(&e.owner("2026-11-28T12:00:00Z", &["revoke", "Cluster0"]));
    let now = "2026-11-28T18:00:00Z";
    let at = |t: &str| e.run(&["--now", now, "check", "Cluster0", "logs", "--at", t]);
    let o = at("2026-11-28T09:30:00Z");
    code(&o, 0);
    assert!(out(&o).contains("ORG_UNRESTRICTED") && out(&o).contains("from the record"));
    code(&at("2026-11-28T10:30:00Z"), 1);
    let o = at("2026-11-28T11:30:00Z");
    code(&o, 0);
    assert!(out(&o).contains("GRANT_ACTIVE"));
    code(&at("2026-11-28T12:30:00Z"), 1);
    code(&at("-6h30m"), 0); // 11:30, relative to --now
    let o = e.run(&[
        "--now",
        now,
        "--json",
        "check",
        "Cluster0",
        "logs",
        "--at",
        "2026-11-28T11:30:00Z",
    ]);
    let mut p = e.policy();
    let cmd = "{\"op\":\"evaluateAt\",\"cluster\":\"Cluster0\",\"resource\":\"DATABASE_LOGS\",\"at\":\"2026-11-28T11:30:00Z\"}";
    assert_eq!(out(&o).trim_end(), apply(&mut p, cmd));
    refused(&e, 2, "INVALID_TIMESTAMP", |e| {
        e.run(&["check", "Cluster0", "logs", "--at", "last tuesday"])
    });
}

// ----- log, verify, expire, downloads -----

#[test]
fn log_human_and_json() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let text = ok(&e.run(&["log"]));
    assert_eq!(text.lines().count(), 5, "{text}");
    for needle in [
        "POLICY_CREATED",
        "PROJECT_ADDED",
        "CLUSTER_ADDED",
        "EMPLOYEE_ACCESS_GRANTED",
        "alice",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    assert_eq!(
        ok(&e.run(&["log", "--json"])),
        e.text(),
        "--json prints the record's lines exactly"
    );
    let only = ok(&e.run(&["log", "--cluster", "Flex0"]));
    assert_eq!(only.lines().count(), 1, "{only}");
}

#[test]
fn verify_counts_events() {
    let e = env();
    e.setup();
    let text = ok(&e.run(&["verify"]));
    assert!(text.contains("4 events"), "{text}");
    let j = json(&e.run(&["--json", "verify"]));
    assert_eq!(j["ok"]["events"], 4);
    assert_eq!(j["ok"]["lastHash"], e.policy().record().last_hash());
}

#[test]
fn expire_records_expiry_at_the_grant_expiration() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--for", "1h"]));
    let text = ok(&e.run(&["--now", "2026-11-28T09:30:00Z", "expire"]));
    assert!(text.contains("nothing to record"), "{text}");
    let o = e.run(&["--now", "2026-11-28T12:00:00Z", "--json", "expire"]);
    let j = json(&o);
    assert_eq!(j["ok"][0]["type"], "EMPLOYEE_ACCESS_EXPIRED");
    assert_eq!(j["ok"][0]["at"], "2026-11-28T10:00:00.000Z");
    let o = e.run(&["--now", "2026-11-28T12:00:00Z", "--json", "expire"]);
    assert_eq!(out(&o).trim_end(), "{\"ok\":[]}");
}

#[test]
fn a_mutation_records_due_expiries_first() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--for", "1h"]));
    let text = ok(&e.owner("2026-11-28T12:00:00Z", &["project", "add", "p2"]));
    assert!(
        text.contains("expired at 2026-11-28T10:00:00.000Z"),
        "{text}"
    );
    let types: Vec<String> = e
        .policy()
        .events()
        .iter()
        .map(|ev| ev.kind.type_name().to_string())
        .collect();
    assert_eq!(
        &types[types.len() - 2..],
        ["EMPLOYEE_ACCESS_EXPIRED", "PROJECT_ADDED"]
    );
}

#[test]
fn downloads_survive_a_revoke() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let o = e.run(&[
        "--now",
        "2026-11-28T09:10:00Z",
        "--json",
        "download",
        "begin",
        "Cluster0",
        "logs",
    ]);
    let id = json(&o)["ok"]["downloadId"].as_str().unwrap().to_string();
    ok(&e.owner("2026-11-28T09:20:00Z", &["revoke", "Cluster0"]));
    let o = e.run(&["--now", "2026-11-28T09:30:00Z", "download", "continue", &id]);
    assert!(ok(&o).contains("ALLOW"));
    refused(&e, 3, "ACCESS_DENIED", |e| {
        e.run(&[
            "--now",
            "2026-11-28T09:30:00Z",
            "download",
            "begin",
            "Cluster0",
            "logs",
        ])
    });
    let o = e.run(&[
        "--now",
        "2026-11-28T09:40:00Z",
        "--json",
        "download",
        "finish",
        &id,
    ]);
    assert_eq!(json(&o)["ok"]["type"], "EMPLOYEE_LOG_DOWNLOAD_FINISHED");
    refused(&e, 3, "DOWNLOAD_NOT_FOUND", |e| {
        e.run(&["--now", "2026-11-28T09:50:00Z", "download", "continue", &id])
    });
    refused(&e, 2, "INVALID_ENUM_VALUE", |e| {
        e.run(&[
            "--now",
            "2026-11-28T09:50:00Z",
            "download",
            "begin",
            "Cluster0",
            "nope",
        ])
    });
}

// ----- import-atlas -----

const SETTINGS: &str = r#"{"restrictEmployeeAccess": true, "apiAccessListRequired": false}"#;
const CLUSTERS: &str = r#"[
  {"name": "Cluster0", "groupId": "p1", "clusterType": "REPLICASET",
   "mongoDBEmployeeAccessGrant": {"grantType": "CLUSTER_DATABASE_LOGS", "expirationTime": "2026-11-29T09:00:00Z"}},
  {"name": "Cluster1", "groupId": "p2", "stateName": "IDLE"}
]"#;

#[test]
fn import_atlas_loads_admin_api_json() {
    let e = env();
    ok(&e.run(&["--now", T0, "init", "--org", "acme"]));
    fs::write(e.path("s.json"), SETTINGS).unwrap();
    fs::write(e.path("c.json"), CLUSTERS).unwrap();
    let o = e.run(&[
        "--now",
        T0,
        "--json",
        "import-atlas",
        "--org-settings",
        e.path("s.json").to_str().unwrap(),
        "--clusters",
        e.path("c.json").to_str().unwrap(),
    ]);
    let j = json(&o);
    assert_eq!(j["ok"]["clusters"], 2);
    assert_eq!(j["ok"]["grants"], 1);
    let p = e.policy();
    assert!(p.restrict_employee_access());
    assert_eq!(p.projects().collect::<Vec<_>>(), ["p1", "p2"]);
    let o = e.run(&["--now", T0, "check", "Cluster0", "logs"]);
    code(&o, 0);

    // An Admin API page ({"results": [...]}) works too.
    let e2 = env();
    ok(&e2.run(&["--now", T0, "init", "--org", "acme"]));
    fs::write(
        e2.path("c.json"),
        format!("{{\"results\": {CLUSTERS}, \"totalCount\": 2}}"),
    )
    .unwrap();
    fs::write(e2.path("s.json"), "{}").unwrap();
    let text = ok(&e2.run(&[
        "--now",
        T0,
        "import-atlas",
        "--org-settings",
        e2.path("s.json").to_str().unwrap(),
        "--clusters",
        e2.path("c.json").to_str().unwrap(),
    ]));
    assert!(
        text.contains("Loaded 2 clusters (2 new projects) and 1 grant "),
        "{text}"
    );
}

#[test]
fn import_atlas_bad_json_leaves_the_record_untouched() {
    let e = env();
    ok(&e.run(&["--now", T0, "init", "--org", "acme"]));
    let s = e.path("s.json");
    let c = e.path("c.json");
    fs::write(&s, SETTINGS).unwrap();
    let import = |e: &Env| {
        e.run(&[
            "--now",
            T0,
            "import-atlas",
            "--org-settings",
            s.to_str().unwrap(),
            "--clusters",
            c.to_str().unwrap(),
        ])
    };
    fs::write(&c, "[{\"name\": \"Cluster0\", \"groupId\": ").unwrap();
    refused(&e, 3, "MALFORMED_INPUT", import);
    fs::write(&c, "[{\"name\": \"Cluster0\"}]").unwrap();
    refused(&e, 3, "groupId", import);
    fs::write(&c, r#"[{"name": "C0", "groupId": "p", "mongoDBEmployeeAccessGrant": {"grantType": "ROOT", "expirationTime": "2026-11-29T09:00:00Z"}}]"#).unwrap();
    refused(&e, 3, "INVALID_ENUM_VALUE", import);
    fs::write(&c, "42").unwrap();
    refused(&e, 3, "MALFORMED_INPUT", import);
    fs::remove_file(&c).unwrap();
    refused(&e, 2, "cannot read clusters file", import);
    let o = e.run(&[
        "--now",
        T0,
        "--json",
        "import-atlas",
        "--org-settings",
        s.to_str().unwrap(),
        "--clusters",
        s.to_str().unwrap(),
    ]);
    code(&o, 3);
    assert_eq!(json(&o)["error"]["code"], "MALFORMED_INPUT");
}

// ----- demo, completions, help, usage -----

#[test]
fn demo_runs_the_day_deterministically() {
    let a = cmd().arg("demo").output().unwrap();
    let text = ok(&a);
    for needle in [
        "RESTRICTED",
        "CLUSTER_DATABASE_LOGS",
        "6h 0m",
        "GRANT_ACTIVE",
        "GRANT_REVOKED",
        "GRANT_EXPIRED",
        "may continue",
        "EMPLOYEE_ACCESS_EXPIRED",
        "from the record",
        "refused",
        "seq 6",
    ] {
        assert!(
            text.contains(needle),
            "`{needle}` missing from the demo:\n{text}"
        );
    }
    let b = cmd().arg("demo").output().unwrap();
    assert_eq!(out(&a), out(&b), "the demo's output is stable");
    let j = cmd().args(["demo", "--json"]).output().unwrap();
    for line in ok(&j).lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    // The demo needs no record and leaves none behind.
    let e = env();
    let o = cmd().current_dir(&e.dir).arg("demo").output().unwrap();
    ok(&o);
    assert_eq!(fs::read_dir(&e.dir).unwrap().count(), 0);
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = cmd().args(["completions", shell]).output().unwrap();
        assert!(ok(&o).contains("support-access"), "{shell}");
    }
    code(&cmd().args(["completions", "tcsh"]).output().unwrap(), 2);
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let top = ok(&cmd().arg("--help").output().unwrap());
    for needle in [
        "Exit codes",
        "1  `check` only",
        "4  the record is tampered",
        "Examples",
    ] {
        assert!(
            top.contains(needle),
            "`{needle}` missing from --help:\n{top}"
        );
    }
    let subs: &[&[&str]] = &[
        &["init"],
        &["restrict"],
        &["project", "add"],
        &["project", "remove"],
        &["cluster", "add"],
        &["cluster", "remove"],
        &["cluster", "list"],
        &["grant"],
        &["revoke"],
        &["status"],
        &["check"],
        &["log"],
        &["verify"],
        &["import-atlas"],
        &["expire"],
        &["download", "begin"],
        &["download", "continue"],
        &["download", "finish"],
        &["demo"],
        &["apply"],
        &["follow"],
        &["serve"],
        &["store", "migrate"],
        &["store", "schema"],
        &["store", "orgs"],
        &["completions"],
    ];
    for sub in subs {
        let o = cmd().args(*sub).arg("--help").output().unwrap();
        let text = ok(&o);
        assert!(
            text.contains("Example"),
            "{sub:?} --help has no example:\n{text}"
        );
    }
}

#[test]
fn unknown_flags_and_subcommands_are_usage_errors() {
    let e = env();
    e.setup();
    refused(&e, 2, "unexpected argument", |e| {
        e.owner(T0, &["grant", "Cluster0", "--type", "logs", "--forever"])
    });
    refused(&e, 2, "unrecognized subcommand", |e| e.run(&["frobnicate"]));
    refused(&e, 2, "Usage", |e| e.run(&[]));
    refused(&e, 2, "unexpected argument", |e| {
        e.run(&["status", "extra"])
    });
}

// ----- the record file -----

#[test]
fn a_missing_record_is_exit_4() {
    let e = env();
    refused(&e, 4, "init --org", |e| e.run(&["status"]));
    let o = e.run(&["--json", "verify"]);
    code(&o, 4);
    assert_eq!(json(&o)["error"]["code"], "RECORD_UNREADABLE");
    assert!(e.snapshot().is_none());
}

#[test]
fn a_truncated_record_is_refused_and_left_untouched() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let full = e.bytes();
    let cut = full.len() - 40; // in the middle of event 5
    fs::write(&e.record, &full[..cut]).unwrap();
    refused(&e, 4, "seq 5", |e| e.run(&["verify"]));
    refused(&e, 4, "seq 5", |e| e.run(&["--now", T0, "status"]));
    refused(&e, 4, "seq 5", |e| e.owner(T0, &["revoke", "Cluster0"]));
    refused(&e, 4, "seq 5", |e| {
        e.owner(T0, &["grant", "Cluster0", "--type", "infra"])
    });
    let o = e.run(&["--json", "verify"]);
    code(&o, 4);
    assert_eq!(json(&o)["error"]["code"], "RECORD_TAMPERED");
    assert_eq!(json(&o)["error"]["seq"], 5);
    assert_eq!(e.bytes(), &full[..cut]);

    // An empty file is refused at seq 1.
    fs::write(&e.record, "").unwrap();
    refused(&e, 4, "seq 1", |e| e.run(&["verify"]));
}

#[test]
fn a_tampered_middle_event_is_refused_and_left_untouched() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    ok(&e.owner("2026-11-28T10:00:00Z", &["revoke", "Cluster0"]));
    let text = e.text();
    // Widen the grant in event 5 after the fact.
    let forged = text.replacen(
        "\"grantType\":\"CLUSTER_DATABASE_LOGS\",\"expirationTime\"",
        "\"grantType\":\"CLUSTER_INFRASTRUCTURE\",\"expirationTime\"",
        1,
    );
    assert_ne!(forged, text);
    fs::write(&e.record, &forged).unwrap();
    refused(&e, 4, "seq 5", |e| e.run(&["verify"]));
    refused(&e, 4, "seq 5", |e| {
        e.run(&["--now", T0, "check", "Cluster0", "infra"])
    });
    refused(&e, 4, "seq 5", |e| {
        e.owner(
            "2026-11-28T11:00:00Z",
            &["grant", "Cluster0", "--type", "logs"],
        )
    });
    refused(&e, 4, "seq 5", |e| e.run(&["log"]));
    // Removing an event from the middle breaks the chain at that seq.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(2);
    fs::write(&e.record, lines.join("\n") + "\n").unwrap();
    refused(&e, 4, "seq 3", |e| e.run(&["verify"]));
    // Bytes that are not UTF-8 name their line.
    let mut raw = text.clone().into_bytes();
    let at = text.lines().take(3).map(|l| l.len() + 1).sum::<usize>() + 10;
    raw[at] = 0xff;
    fs::write(&e.record, &raw).unwrap();
    refused(&e, 4, "seq 4", |e| e.run(&["verify"]));
}

#[test]
fn a_record_without_its_last_newline_is_appended_to_correctly() {
    let e = env();
    e.setup();
    let text = e.text();
    fs::write(&e.record, text.trim_end_matches('\n')).unwrap();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let after = e.text();
    assert!(after.starts_with(&text) && after.ends_with('\n'));
    assert_eq!(e.policy().record().len(), 5);
    ok(&e.run(&["verify"]));
}

#[test]
fn environment_variables_choose_record_and_actor() {
    let e = env();
    let c = || {
        let mut c = cmd();
        c.env("SUPPORT_ACCESS_RECORD", &e.record)
            .env("SUPPORT_ACCESS_ACTOR", "alice")
            .env("SUPPORT_ACCESS_ROLES", "PROJECT_OWNER:prod,ORG_OWNER");
        c
    };
    ok(&c()
        .args(["--now", T0, "init", "--org", "acme"])
        .output()
        .unwrap());
    ok(&c()
        .args(["--now", T0, "project", "add", "prod"])
        .output()
        .unwrap());
    let ev = e.policy().events().pop().unwrap();
    let a = ev.actor.unwrap();
    assert_eq!(a.id, "alice");
    assert_eq!(a.roles.len(), 2);
    // The default record is ./support-access.jsonl.
    let o = cmd()
        .current_dir(&e.dir)
        .args(["--now", T0, "init", "--org", "acme"])
        .output()
        .unwrap();
    ok(&o);
    assert!(e.dir.join("support-access.jsonl").exists());
}

#[test]
fn two_concurrent_writers_are_serialised() {
    const N: usize = 50;
    let e = env();
    ok(&e.run(&["--now", T0, "init", "--org", "acme", "--restrict"]));
    ok(&e.run(&[
        "--actor",
        "alice",
        "--role",
        "ORG_OWNER",
        "project",
        "add",
        "prod",
    ]));
    for c in ["A", "B"] {
        ok(&e.run(&[
            "--actor",
            "alice",
            "--role",
            "ORG_OWNER",
            "cluster",
            "add",
            c,
            "--project",
            "prod",
        ]));
    }
    let base = e.policy().record().len();
    let writer = |cluster: &'static str, record: PathBuf| {
        std::thread::spawn(move || {
            for i in 0..N {
                let args: Vec<&str> = if i % 2 == 0 {
                    vec!["grant", cluster, "--type", "logs", "--for", "1h"]
                } else {
                    vec!["revoke", cluster]
                };
                let o = cmd()
                    .arg("--record")
                    .arg(&record)
                    .env("SUPPORT_ACCESS_ACTOR", format!("writer-{cluster}"))
                    .env("SUPPORT_ACCESS_ROLES", "manager:prod")
                    .args(&args)
                    .output()
                    .unwrap();
                assert_eq!(o.status.code(), Some(0), "{cluster} #{i}: {}", err(&o));
            }
        })
    };
    let a = writer("A", e.record.clone());
    let b = writer("B", e.record.clone());
    a.join().unwrap();
    b.join().unwrap();
    let p = e.policy(); // replays: every event valid, in order, chained
    assert_eq!(p.record().len(), base + 2 * N);
    for c in ["A", "B"] {
        let n = p
            .events()
            .iter()
            .filter(|ev| {
                ev.actor
                    .as_ref()
                    .is_some_and(|a| a.id == format!("writer-{c}"))
            })
            .count();
        assert_eq!(n, N, "every event of writer {c} is there");
    }
    ok(&e.run(&["verify"]));
}

/// A full disk, simulated with a file-size limit (RLIMIT_FSIZE) just above the record's current
/// size and SIGXFSZ ignored, so the append's write fails part way with EFBIG. The command fails
/// with a clear message (exit 4), the half-written bytes are cut off, nothing acknowledged is lost
/// and the next command, with room again, appends normally.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_mid_append_leaves_the_record_as_it_was() {
    use std::os::unix::process::CommandExt;

    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let before = e.bytes();
    // Room for a few bytes more than the record: the next event (a few hundred bytes) cannot fit.
    let limit = before.len() as u64 + 10;
    let mut c = cmd();
    c.arg("--record")
        .arg(&e.record)
        .args(["--now", "2026-11-28T10:00:00Z"])
        .args(OWNER)
        .args(["revoke", "Cluster0"]);
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        c.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let o = c.output().unwrap();
    code(&o, 4);
    let msg = err(&o);
    assert!(
        msg.contains("cannot append to record") && msg.contains("too large"),
        "{msg}"
    );
    assert_eq!(
        e.bytes(),
        before,
        "a failed append must leave the file as it was"
    );
    ok(&e.run(&["verify"]));

    // With room again, the same command succeeds and the record holds every event.
    ok(&e.owner("2026-11-28T10:00:00Z", &["revoke", "Cluster0"]));
    let p = e.policy();
    assert_eq!(
        p.record().len(),
        Policy::replay(&String::from_utf8(before).unwrap())
            .unwrap()
            .record()
            .len()
            + 1
    );
}

// ----- apply: the JSON command interface, one command or a stream -----

const ALICE: &str = r#"{"id":"alice","roles":[{"role":"ORG_OWNER"}]}"#;

fn grant_json(actor: &str, cluster: &str, grant_type: &str, now: &str) -> String {
    format!(
        r#"{{"op":"grant","actor":{actor},"cluster":"{cluster}","grantType":"{grant_type}","now":"{now}"}}"#
    )
}

fn revoke_json(actor: &str, cluster: &str, now: &str) -> String {
    format!(r#"{{"op":"revoke","actor":{actor},"cluster":"{cluster}","now":"{now}"}}"#)
}

/// A stream writer: `support-access apply` with piped stdin/stdout.
struct Stream {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Stream {
    fn start(record: &std::path::Path) -> Stream {
        use std::process::Stdio;
        let mut child = cmd()
            .arg("--record")
            .arg(record)
            .arg("apply")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Stream {
            stdin: child.stdin.take(),
            stdout: std::io::BufReader::new(child.stdout.take().unwrap()),
            child,
        }
    }

    /// Sends one command and reads its result line.
    fn send(&mut self, command: &str) -> String {
        use std::io::{BufRead, Write};
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }

    /// Closes stdin and waits for the exit.
    fn finish(mut self) -> Output {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut self.stdout, &mut rest).unwrap();
        let mut o = self.child.wait_with_output().unwrap();
        o.stdout = rest;
        o
    }
}

#[test]
fn apply_one_command_gives_the_core_result_and_exit_code() {
    let e = env();
    e.setup();
    let grant = grant_json(ALICE, "Cluster0", "CLUSTER_DATABASE_LOGS", T0);
    // What the core itself answers, on a copy of the policy.
    let mut expected = e.policy();
    let want = apply(&mut expected, &grant);
    let o = e.run(&["apply", &grant]);
    assert_eq!(ok(&o).trim_end(), want);
    assert_eq!(e.text(), expected.export_record());

    let evaluate = r#"{"op":"evaluate","cluster":"Cluster0","resource":"AUDIT_LOGS","now":"2026-11-28T09:30:00Z"}"#;
    let o = e.run(&["apply", evaluate]);
    assert_eq!(ok(&o).trim_end(), apply(&mut expected, evaluate));
    // Error results are data on stdout with exit 3, and change nothing.
    for (bad, code_str) in [
        (r#"{"op":"nope"}"#.to_owned(), "UNKNOWN_OP"),
        ("not json".to_owned(), "MALFORMED_INPUT"),
        (
            grant_json(ALICE, "Missing", "CLUSTER_DATABASE_LOGS", T0),
            "CLUSTER_NOT_FOUND",
        ),
        (
            revoke_json(ALICE, "Cluster0", "2026-11-28T08:00:00Z"),
            "CLOCK_WENT_BACKWARDS",
        ),
        (
            r#"{"op":"replay","record":""}"#.to_owned(),
            "MALFORMED_INPUT",
        ),
    ] {
        refused(&e, 3, code_str, |e| e.run(&["apply", &bad]));
        let o = e.run(&["apply", &bad]);
        assert_eq!(json(&o)["error"]["code"], code_str, "{bad}");
    }
    ok(&e.run(&["verify"]));
}

#[test]
fn apply_stream_answers_each_line_and_catches_up_with_other_writers() {
    let e = env();
    e.setup();
    let mut s = Stream::start(&e.record);
    let r = s.send(&grant_json(ALICE, "Cluster0", "CLUSTER_DATABASE_LOGS", T0));
    assert!(r.starts_with(r#"{"ok":{"seq":5,"#), "{r}");
    // Another process revokes between two commands of the stream: the stream sees it.
    ok(&e.owner("2026-11-28T09:10:00Z", &["revoke", "Cluster0"]));
    let r = s.send(
        r#"{"op":"evaluate","cluster":"Cluster0","resource":"DATABASE_LOGS","now":"2026-11-28T09:20:00Z"}"#,
    );
    assert!(
        r.contains(r#""allowed":false,"reason":"GRANT_REVOKED""#),
        "{r}"
    );
    // Its next event chains onto the other writer's.
    let r = s.send(&grant_json(
        ALICE,
        "Cluster0",
        "CLUSTER_INFRASTRUCTURE",
        "2026-11-28T09:30:00Z",
    ));
    assert!(r.starts_with(r#"{"ok":{"seq":7,"#), "{r}");
    // Blank lines are skipped; bad lines (even bytes that are not UTF-8) are error results
    // and the stream goes on.
    let r = s.send("\n{\"op\":42}");
    assert!(r.contains("MALFORMED_INPUT"), "{r}");
    {
        use std::io::{BufRead, Write};
        let stdin = s.stdin.as_mut().unwrap();
        stdin
            .write_all(b"{\"op\":\"evaluate\",\"cluster\":\"\xff\xfe\"}\n")
            .unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        s.stdout.read_line(&mut line).unwrap();
        assert!(
            line.starts_with(r#"{"error":{"code":"MALFORMED_INPUT""#),
            "{line}"
        );
    }
    let o = s.finish();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let p = e.policy();
    assert_eq!(p.record().len(), 7);
    ok(&e.run(&["verify"]));

    // A stream refuses a file that shrank or changed under it, and writes nothing.
    let mut s = Stream::start(&e.record);
    let r = s.send(&revoke_json(ALICE, "Cluster0", "2026-11-28T09:40:00Z"));
    assert!(r.starts_with(r#"{"ok":{"seq":8,"#), "{r}");
    let text = e.text();
    let cut = text.len() - 100;
    fs::write(&e.record, &text[..cut]).unwrap();
    let before = e.bytes();
    let r = s.send(&grant_json(
        ALICE,
        "Cluster0",
        "CLUSTER_DATABASE_LOGS",
        "2026-11-28T09:50:00Z",
    ));
    assert_eq!(r, "", "no result after the refusal");
    let o = s.finish();
    code(&o, 4);
    assert!(err(&o).contains("shrank"), "{}", err(&o));
    assert_eq!(e.bytes(), before, "the refused file is left as it was");

    // Bytes appended by something other than the core are refused too (named by seq).
    fs::write(&e.record, &text).unwrap();
    let mut s = Stream::start(&e.record);
    let r = s.send(&grant_json(
        ALICE,
        "Cluster0",
        "CLUSTER_DATABASE_LOGS",
        "2026-11-28T09:50:00Z",
    ));
    assert!(r.starts_with(r#"{"ok":{"seq":9,"#), "{r}");
    let mut forged = e.text();
    let last = forged
        .lines()
        .last()
        .unwrap()
        .replace("Cluster0", "Cluster1");
    forged.push_str(&last);
    forged.push('\n');
    fs::write(&e.record, &forged).unwrap();
    let r = s.send(r#"{"op":"exportRecord"}"#);
    assert_eq!(r, "");
    let o = s.finish();
    code(&o, 4);
    assert!(err(&o).contains("seq 10"), "{}", err(&o));
    assert_eq!(e.text(), forged);
}

/// A line far over the core's 32 MiB command limit is answered MALFORMED_INPUT without being
/// held in memory, and the stream goes on.
#[cfg(target_os = "linux")]
#[test]
fn apply_stream_answers_an_oversized_line_without_holding_it() {
    use std::io::{BufRead, Write};
    let e = env();
    e.setup();
    let mut s = Stream::start(&e.record);
    let chunk = vec![b'['; 1 << 20];
    let writer = {
        let mut stdin = s.stdin.take().unwrap();
        std::thread::spawn(move || {
            for _ in 0..100 {
                stdin.write_all(&chunk).unwrap(); // 100 MiB
            }
            stdin.write_all(b"\n").unwrap();
            stdin
        })
    };
    let mut line = String::new();
    s.stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with(
            r#"{"error":{"code":"MALFORMED_INPUT","message":"malformed input: command longer than"#
        ),
        "{line}"
    );
    let status = fs::read_to_string(format!("/proc/{}/status", s.child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(
        peak_kb < 64 << 10,
        "peak memory {peak_kb} kB for a 100 MiB line"
    );
    s.stdin = Some(writer.join().unwrap());
    let r = s.send(
        r#"{"op":"evaluate","cluster":"Cluster0","resource":"INFRASTRUCTURE","now":"2026-11-28T10:00:00Z"}"#,
    );
    assert!(r.starts_with(r#"{"ok":{"allowed":false"#), "{r}");
    code(&s.finish(), 0);
}

/// Two writers race for 10,000 appends: two `apply` streams of 5,000 mutations each, taking the
/// lock per command, while a third thread runs one-shot commands against the same file. Every
/// acknowledged event is in the final record, exactly once, at the seq it was acknowledged with;
/// the record verifies; and the writers really interleaved.
#[test]
fn two_writers_race_for_ten_thousand_appends() {
    use std::io::{BufRead, Write};

    const PER_WRITER: usize = 5_000;
    const ONE_SHOT: usize = 40;
    const NOW: &str = "2026-11-28T10:00:00Z";
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["cluster", "add", "Cluster1", "--project", "prod"]));
    ok(&e.owner(T0, &["cluster", "add", "Cluster2", "--project", "prod"]));
    let base = e.policy().record().len();

    let writer = |name: &'static str, cluster: &'static str, record: PathBuf| {
        std::thread::spawn(move || {
            let actor = format!(r#"{{"id":"{name}","roles":[{{"role":"ORG_OWNER"}}]}}"#);
            let mut s = Stream::start(&record);
            let mut stdin = s.stdin.take().unwrap();
            let feeder = std::thread::spawn(move || {
                for i in 0..PER_WRITER {
                    let c = if i % 2 == 0 {
                        let t = ["CLUSTER_DATABASE_LOGS", "CLUSTER_INFRASTRUCTURE"][i / 2 % 2];
                        grant_json(&actor, cluster, t, NOW)
                    } else {
                        revoke_json(&actor, cluster, NOW)
                    };
                    writeln!(stdin, "{c}").unwrap();
                }
            });
            let results: Vec<String> = (&mut s.stdout).lines().map(Result::unwrap).collect();
            feeder.join().unwrap();
            let o = s.finish();
            assert_eq!(o.status.code(), Some(0), "{name}: {}", err(&o));
            results
        })
    };
    let a = writer("writer-a", "Cluster0", e.record.clone());
    let b = writer("writer-b", "Cluster1", e.record.clone());
    let record = e.record.clone();
    let one_shot = std::thread::spawn(move || {
        for i in 0..ONE_SHOT {
            let args: &[&str] = if i % 2 == 0 {
                &["grant", "Cluster2", "--type", "logs"]
            } else {
                &["revoke", "Cluster2"]
            };
            let o = cmd()
                .arg("--record")
                .arg(&record)
                .args(["--now", NOW, "--actor", "one-shot", "--role", "ORG_OWNER"])
                .args(args)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0), "one-shot #{i}: {}", err(&o));
        }
    });
    let results = [a.join().unwrap(), b.join().unwrap()];
    one_shot.join().unwrap();

    let p = e.policy(); // a full replay: every event valid, chained, in order
    assert_eq!(p.record().len(), base + 2 * PER_WRITER + ONE_SHOT);
    let lines: Vec<&str> = p.record().lines().collect();
    for (w, rs) in results.iter().enumerate() {
        assert_eq!(rs.len(), PER_WRITER, "writer {w} answered every command");
        for r in rs {
            // `{"ok":<the event's canonical line>}`: the acknowledged bytes themselves.
            let line = r
                .strip_prefix(r#"{"ok":"#)
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or_else(|| panic!("writer {w}: not ok: {r}"));
            let seq = serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
                .as_u64()
                .unwrap() as usize;
            assert_eq!(
                lines[seq - 1],
                line,
                "acknowledged event {seq} is in the record"
            );
        }
    }
    // The writers interleaved (each took the lock per command), rather than running in turn.
    let writer_of = |l: &&str| {
        ["writer-a", "writer-b"]
            .into_iter()
            .find(|w| l.contains(&format!(r#""id":"{w}""#)))
    };
    let order: Vec<&str> = lines.iter().filter_map(writer_of).collect();
    let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
    eprintln!(
        "10,000 raced appends: {switches} switches between the two stream writers, {ONE_SHOT} one-shot appends in between"
    );
    assert!(
        switches >= 20,
        "only {switches} switches: the writers did not race"
    );
    let v = ok(&e.run(&["verify"]));
    assert!(
        v.contains(&format!("{} events", base + 2 * PER_WRITER + ONE_SHOT)),
        "{v}"
    );
}

// ----- the store: migrate, follow, several organizations -----

#[test]
fn store_migrate_copies_a_file_record_into_postgres_and_verifies_it_there() {
    let e = env();
    e.setup();
    ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
    let url = fresh_db();
    let o = cmd()
        .args(["--record"])
        .arg(&e.record)
        .args(["--json", "store", "migrate", "--to", &url])
        .output()
        .unwrap();
    let j = json(&o);
    assert_eq!(j["ok"]["events"], 5, "{j}");
    assert_eq!(j["ok"]["lastHash"], e.policy().record().last_hash());
    // The copy answers like the file, byte for byte.
    let on_pg = |args: &[&str]| cmd().args(["--store", &url]).args(args).output().unwrap();
    assert_eq!(out(&on_pg(&["log", "--json"])), e.text());
    assert_eq!(
        out(&on_pg(&["--now", T0, "--json", "status"])),
        out(&e.run(&["--now", T0, "--json", "status"]))
    );
    // Twice is refused, and a second organization beside it needs --org to be chosen.
    let again = cmd()
        .args(["--record"])
        .arg(&e.record)
        .args(["store", "migrate", "--to", &url])
        .output()
        .unwrap();
    code(&again, 2);
    assert!(err(&again).contains("already exists"), "{}", err(&again));
    ok(&on_pg(&["--now", T0, "init", "--org", "globex"]));
    let o = on_pg(&["status"]);
    code(&o, 2);
    assert!(err(&o).contains("acme, globex"), "{}", err(&o));
    ok(&on_pg(&["--org", "globex", "status"]));
    assert_eq!(out(&on_pg(&["store", "orgs"])), "acme\nglobex\n");
}

#[test]
fn follow_prints_what_other_writers_record() {
    use std::io::{BufRead, BufReader};
    for pg in [false, true] {
        let e = Env {
            pg: pg.then(fresh_db),
            ..env()
        };
        e.setup();
        let mut f = cmd()
            .args(e.store_args())
            .args([
                "--json",
                "follow",
                "--from",
                "2",
                "--until-seq",
                "6",
                "--timeout",
                "20s",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(f.stdout.take().unwrap()).lines();
        // The history after seq 2 first, then what arrives.
        for _ in 0..2 {
            lines.next().unwrap().unwrap();
        }
        ok(&e.owner(T0, &["grant", "Cluster0", "--type", "logs"]));
        ok(&e.owner(T0, &["revoke", "Cluster0"]));
        let got: Vec<String> = lines.map(Result::unwrap).collect();
        code(&f.wait_with_output().unwrap(), 0);
        let all: Vec<String> = e.text().lines().map(String::from).collect();
        assert_eq!(got, all[4..6].to_vec(), "pg={pg}");
    }
    // --timeout without reaching --until-seq: exit 1.
    let e = env();
    e.setup();
    let o = e.run(&["follow", "--until-seq", "99", "--timeout", "200ms"]);
    code(&o, 1);
}

/// The same tests on a PostgreSQL store: every subcommand works, and fails, the same way.
mod on_postgres {
    macro_rules! again {
        ($($name:ident),* $(,)?) => {
            $(
                #[test]
                fn $name() {
                    super::KIND.with(|k| k.set(super::Kind::Pg));
                    super::$name();
                }
            )*
        };
    }

    again!(
        init_creates_a_record_with_its_first_event,
        init_never_overwrites_a_record,
        init_refuses_bad_options_and_writes_nothing,
        restrict_on_and_off,
        project_add_and_remove,
        cluster_add_remove_and_list,
        grant_for_until_and_default,
        grant_bad_input_leaves_the_record_untouched,
        revoke_ends_the_grant,
        status_shows_a_countdown_plain_when_piped,
        check_allows_denies_and_explains,
        check_json_matches_the_core_bytes,
        check_at_a_past_time_uses_the_record,
        log_human_and_json,
        verify_counts_events,
        expire_records_expiry_at_the_grant_expiration,
        a_mutation_records_due_expiries_first,
        downloads_survive_a_revoke,
        import_atlas_loads_admin_api_json,
        import_atlas_bad_json_leaves_the_record_untouched,
        unknown_flags_and_subcommands_are_usage_errors,
        a_missing_record_is_exit_4,
        apply_one_command_gives_the_core_result_and_exit_code,
    );
}
