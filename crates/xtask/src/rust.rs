//! The Rust steps: formatting, lints, tests (unit, doc, property, vectors), the no_std proof.

use std::process::ExitCode;

use crate::ctx::{count_cargo, Ctx};

pub fn fmt(ctx: &mut Ctx) {
    let mut c = ctx.cmd("cargo");
    c.args(["fmt", "--all", "--check"]);
    ctx.check("cargo fmt --check", &mut c);
}

pub fn clippy(ctx: &mut Ctx) {
    let mut c = ctx.cmd("cargo");
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    ctx.check("cargo clippy -D warnings", &mut c);
}

pub fn tests(ctx: &mut Ctx) {
    let mut c = ctx.cmd("cargo");
    // Release: the property tests run 10,000+ sequences, which debug builds make slow. The
    // store's and the CLI's tests have steps of their own (they race writers on PostgreSQL).
    c.args([
        "test",
        "--workspace",
        "--release",
        "--exclude",
        "support-access-store",
        "--exclude",
        "support-access-cli",
        "--exclude",
        "support-access-server",
    ]);
    ctx.run_counted("cargo test", &mut c, count_cargo);
}

/// The record store on a file and on the run's PostgreSQL server: compare-and-set appends,
/// catch-up, followers, races, faults (a killed writer, a restarted server, dropped
/// connections, a row edited behind the store's back).
pub fn store(ctx: &mut Ctx) {
    let mut c = ctx.cmd("cargo");
    c.args(["test", "-p", "support-access-store", "--release"]);
    ctx.run_counted(
        "store: cargo test -p support-access-store",
        &mut c,
        count_cargo,
    );
}

pub fn no_std(ctx: &mut Ctx) {
    const TARGET: &str = "thumbv7em-none-eabihf";
    if !ctx.ensure_target(TARGET) {
        return;
    }
    let mut c = ctx.cmd("cargo");
    c.args([
        "build",
        "-p",
        "support-access-core",
        "--no-default-features",
        "--target",
        TARGET,
    ]);
    ctx.check("no_std build for thumbv7em-none-eabihf", &mut c);
}

/// The service: two replicas on the run's PostgreSQL over real HTTP on loopback (the Atlas
/// operations, the JSON commands, decisions, the record, bad input).
pub fn server(ctx: &mut Ctx) {
    let mut c = ctx.cmd("cargo");
    c.args(["test", "-p", "support-access-server", "--release"]);
    ctx.run_counted(
        "server: cargo test -p support-access-server",
        &mut c,
        count_cargo,
    );
    crate::server::schemathesis(ctx);
}

/// The store's figures (docs/benchmarks.md): appends, conflicts, catch-up, follower lag, on a
/// PostgreSQL server of the run's own (stopped before the closing count).
pub fn bench_store(ctx: &mut Ctx, quick: bool) -> ExitCode {
    let Some(pg) = crate::pg::Server::start(ctx) else {
        return ctx.finish();
    };
    let mut c = ctx.cmd("cargo");
    c.args([
        "run",
        "--release",
        "-p",
        "support-access-store",
        "--example",
        "store_bench",
        "--",
    ])
    .arg(pg.url());
    if quick {
        c.arg("--quick");
    }
    ctx.check("store bench", &mut c);
    drop(pg);
    ctx.finish()
}

pub fn bench(ctx: &mut Ctx) -> ExitCode {
    let mut c = ctx.cmd("cargo");
    c.args(["bench", "-p", "support-access-core"]);
    ctx.check("cargo bench", &mut c);
    ctx.finish()
}
