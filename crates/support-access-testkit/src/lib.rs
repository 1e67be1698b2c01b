//! Helpers for tests that talk to the PostgreSQL server `cargo xtask test` starts (see
//! `crates/xtask/src/pg.rs`): its URL, a fresh database per test, and `pg_ctl` for the fault
//! tests that stop and restart it. Without the server the tests fail, loudly.

use std::process::{Command, Stdio};

/// The superuser URL of the test server (`SUPPORT_ACCESS_TEST_PG`).
pub fn server_url() -> String {
    std::env::var("SUPPORT_ACCESS_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "SUPPORT_ACCESS_TEST_PG is not set: these tests need the PostgreSQL server that \
             `cargo xtask test` starts (or set it to a superuser URL of a scratch server)"
        )
    })
}

/// `postgres://…/NAME` on the test server.
pub fn db_url(name: &str) -> String {
    let base = server_url();
    let cut = base.rfind('/').expect("a URL with a database");
    format!("{}/{name}", &base[..cut])
}

/// A new, empty database `sa_NAME_PID` (dropped first if a previous run left it); its URL.
pub fn fresh_db(name: &str) -> String {
    let name = format!("sa_{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server_url(), postgres::NoTls)
        .expect("connect to the test server");
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin.batch_execute(&sql).expect("make a fresh database");
    }
    db_url(&name)
}

/// A superuser connection (for editing rows behind a store's back).
pub fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect as the test superuser")
}

/// Runs `pg_ctl ARGS` on the test server, as its OS user when the tests run as root. The
/// server's own output goes to a log file beside its data: were it to inherit our pipes,
/// reading them to the end would wait for the server to exit.
pub fn pg_ctl(args: &[&str]) {
    let bin = std::env::var("SUPPORT_ACCESS_TEST_PG_BIN").expect("SUPPORT_ACCESS_TEST_PG_BIN");
    let data = std::env::var("SUPPORT_ACCESS_TEST_PG_DATA").expect("SUPPORT_ACCESS_TEST_PG_DATA");
    let ctl = format!("{bin}/pg_ctl");
    let mut c = match std::env::var("SUPPORT_ACCESS_TEST_PG_USER") {
        Ok(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &u, "--", &ctl]);
            c
        }
        Err(_) => Command::new(&ctl),
    };
    let log = std::path::Path::new(&data).with_file_name("restart.log");
    let out = c
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
