//! Test step for the `support-access` command (crates/support-access-cli): its integration
//! tests (every subcommand, bad input, tampered and truncated records, concurrent writers) and
//! the README's first command, the demo, which must run from a clean clone and exit 0.

use crate::ctx::{count_cargo, Ctx};

pub fn run(ctx: &mut Ctx) {
    let mut t = ctx.cmd("cargo");
    t.args(["test", "-p", "support-access-cli", "--release"]);
    ctx.run_counted("cli: cargo test -p support-access-cli", &mut t, count_cargo);

    let mut demo = ctx.cmd("cargo");
    demo.args(["run", "--release", "-p", "support-access-cli", "--", "demo"])
        .env("NO_COLOR", "1");
    ctx.check(
        "cli: cargo run --release -p support-access-cli -- demo",
        &mut demo,
    );
}
