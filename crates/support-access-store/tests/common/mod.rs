//! The test PostgreSQL server (started by `cargo xtask test`) and fresh databases on it.
#![allow(dead_code)]

use std::process::Command;

use support_access_store::Location;

/// The superuser URL of the test server. Panics, loudly, without one: these tests talk to a
/// real PostgreSQL and `cargo xtask test` starts it.
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

/// A new, empty database for one test (dropped first if a previous run left it).
pub fn fresh_db(name: &str) -> String {
    let name = format!("sa_{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server_url(), postgres::NoTls)
        .expect("connect to the test server");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    db_url(&name)
}

/// A superuser connection to a database (for editing rows behind the store's back).
pub fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect as the test superuser")
}

pub fn pg(url: &str) -> Location {
    Location::parse(url).unwrap()
}

/// Runs `pg_ctl ARGS` on the test server (as its OS user when the tests run as root).
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
    let out = c.arg("-D").arg(&data).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
