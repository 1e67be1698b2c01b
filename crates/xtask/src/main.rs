//! `cargo xtask …`: builds everything, installs what the tests need (idempotently, cached under
//! `.cache/`), and runs every test of every front end, closing with one `N passed, N failed` line.
//!
//! Usage:
//!   cargo xtask test [--only STEP,STEP…]   run every step (or some): see `STEPS`
//!   cargo xtask vectors [--bless]          regenerate tests/vectors/vectors.txt (and, with
//!                                          --bless, rewrite each vector's `expect` from the core)
//!   cargo xtask vocab                      rewrite the bindings' copies of the SPEC vocabulary
//!                                          (Python enums, TypeScript unions) from the core
//!   cargo xtask dist                       build the release artifacts into dist/
//!   cargo xtask web [--live]               serve the browser demo (examples/web); with --live,
//!                                          also a `support-access serve` the page is a client of
//!   cargo xtask fuzz [--secs N]            run every fuzz target for N seconds (default 60)
//!   cargo xtask bench                      run the benchmarks whose figures go in docs/benchmarks.md
//!   cargo xtask bench-store [--quick]      the store's figures, on a PostgreSQL server of its own
//!   cargo xtask bench-service              the service's figures with wrk (and PostgreSQL)

mod bench_service;
mod c;
mod cli;
mod ctx;
mod dist;
mod fixture;
mod fuzz;
mod net;
mod node;
mod pg;
mod python;
mod rust;
mod server;
mod vectors;
mod vocab;
mod wasm;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ctx::Ctx;

/// Every test step, in the order `cargo xtask test` runs them.
/// A test step: its name (for `--only`) and what it runs.
type Step = (&'static str, fn(&mut Ctx));

const STEPS: &[Step] = &[
    ("fmt", rust::fmt),
    ("clippy", rust::clippy),
    ("rust", rust::tests),
    ("store", rust::store),
    ("server", rust::server),
    ("nostd", rust::no_std),
    ("vectors", vectors::drift),
    ("cli", cli::run),
    ("c", c::run),
    ("python", python::run),
    ("node", node::run),
    ("wasm", wasm::run),
    ("dist", dist::run),
    ("fuzz", fuzz::smoke),
];

/// The steps whose tests need the PostgreSQL server (wasm: the live demo's two replicas).
const NEEDS_PG: &[&str] = &["rust", "store", "server", "cli", "wasm"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ctx = Ctx::new();
    match args.first().map(String::as_str) {
        Some("test") => {
            let only: Option<Vec<String>> = args
                .iter()
                .position(|a| a == "--only")
                .and_then(|i| args.get(i + 1))
                .map(|s| s.split(',').map(String::from).collect());
            if let Some(only) = &only {
                if let Some(bad) = only.iter().find(|o| !STEPS.iter().any(|(n, _)| n == o)) {
                    eprintln!("unknown step `{bad}`; steps: {}", step_names());
                    return ExitCode::from(2);
                }
            }
            let chosen = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
            // One server for every step whose tests talk to PostgreSQL, stopped (dropped)
            // before the closing count, whatever the tests did.
            let pg = if NEEDS_PG.iter().any(|s| chosen(s)) {
                ctx.section("postgresql");
                pg::Server::start(&mut ctx)
            } else {
                None
            };
            // Each step's wall time, printed before the closing count: where a cold run's
            // minutes go (CI has 45 of them) is then in every log.
            let mut times: Vec<(&str, Duration)> = Vec::new();
            for (name, step) in STEPS {
                if chosen(name) {
                    ctx.section(name);
                    let start = Instant::now();
                    step(&mut ctx);
                    times.push((name, start.elapsed()));
                }
            }
            drop(pg);
            println!("\nstep times: {}", step_times(&times));
            ctx.finish()
        }
        Some("vectors") => vectors::generate(&mut ctx, args.iter().any(|a| a == "--bless")),
        Some("vocab") => vocab::generate(&mut ctx),
        Some("bench") => rust::bench(&mut ctx),
        Some("bench-service") => bench_service::run(&mut ctx),
        Some("bench-store") => rust::bench_store(&mut ctx, args.iter().any(|a| a == "--quick")),
        Some("fuzz") => fuzz::command(&mut ctx, &args),
        Some("dist") => dist::command(&mut ctx),
        Some("web") => wasm::serve(&mut ctx, args.iter().any(|a| a == "--live")),
        _ => {
            eprintln!(
                "usage: cargo xtask test [--only {}] | dist | vectors [--bless] | vocab | bench | bench-store [--quick] | fuzz [--secs N] | web [--live]",
                step_names()
            );
            ExitCode::from(2)
        }
    }
}

/// `fmt 4s, clippy 1m 12s, …, total 31m 5s`.
fn step_times(times: &[(&str, Duration)]) -> String {
    let text = |d: Duration| match d.as_secs() {
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    };
    let total: Duration = times.iter().map(|(_, d)| *d).sum();
    let mut parts: Vec<String> = times
        .iter()
        .map(|(n, d)| format!("{n} {}", text(*d)))
        .collect();
    parts.push(format!("total {}", text(total)));
    parts.join(", ")
}

fn step_names() -> String {
    STEPS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(",")
}
