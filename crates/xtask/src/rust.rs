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
    // Release: the property tests run 10,000+ sequences, which debug builds make slow.
    c.args(["test", "--workspace", "--release"]);
    ctx.run_counted("cargo test", &mut c, count_cargo);
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

pub fn bench(ctx: &mut Ctx) -> ExitCode {
    let mut c = ctx.cmd("cargo");
    c.args(["bench", "-p", "support-access-core"]);
    ctx.check("cargo bench", &mut c);
    ctx.finish()
}
