//! Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain: `RUSTC_BOOTSTRAP=1` lets stable
//! rustc take the `-Z` flags cargo-fuzz passes (sanitizer, coverage instrumentation).
//!
//! `cargo xtask fuzz [--secs N]` runs every target for N seconds (default 60); the test command
//! runs each for a short smoke time. Corpora are seeded from the conformance vectors.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::ctx::Ctx;

pub const TARGETS: &[&str] = &[
    "apply_bytes",
    "apply_sequence",
    "record",
    "atlas",
    "timestamp",
];
const SMOKE_SECS: u64 = 20;

/// Seeds each target's corpus from tests/vectors/vectors.txt (idempotent: files named by content).
fn seed(ctx: &Ctx) -> std::io::Result<()> {
    let vectors = fs::read_to_string(ctx.root.join("tests/vectors/vectors.txt"))?;
    let corpus = ctx.root.join("fuzz/corpus");
    let put = |target: &str, data: &str| -> std::io::Result<()> {
        let dir = corpus.join(target);
        fs::create_dir_all(&dir)?;
        let name = format!("seed-{:016x}", fnv(data.as_bytes()));
        let path = dir.join(name);
        if !path.exists() {
            fs::write(path, data)?;
        }
        Ok(())
    };
    for line in vectors.lines() {
        let Some((kind, rest)) = line.split_once(' ') else {
            continue;
        };
        match kind {
            "command" => {
                put("apply_bytes", rest)?;
                if rest.contains("\"loadAtlas\"") {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(rest) {
                        let pair = serde_json::json!([v["orgSettings"], v["clusters"]]);
                        put("atlas", &pair.to_string())?;
                    }
                }
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(rest) {
                    for key in ["now", "at", "expirationTime"] {
                        if let Some(s) = v.get(key).and_then(|x| x.as_str()) {
                            put("timestamp", s)?;
                        }
                    }
                }
            }
            "expect" if rest.contains("\"record\":") => {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(rest) {
                    if let Some(r) = v["ok"]["record"].as_str() {
                        put("record", r)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Builds and runs every target for `secs` seconds; each target that finds nothing is a pass.
pub fn run_all(ctx: &mut Ctx, secs: u64) {
    let Some(cargo_fuzz) = ctx.ensure_cargo_tool("cargo-fuzz", "0.12.0", "cargo-fuzz", &[]) else {
        return;
    };
    if let Err(e) = seed(ctx) {
        ctx.record(&format!("seed fuzz corpora: {e}"), false);
        return;
    }
    let fuzz_dir = ctx.root.join("fuzz");
    let mut report = String::new();
    for target in TARGETS {
        let mut c = ctx.cmd(&cargo_fuzz);
        c.current_dir(&fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["run", target, "--"])
            .arg(format!("-max_total_time={secs}"))
            .args([
                "-rss_limit_mb=4096",
                "-max_len=65536",
                "-print_final_stats=1",
            ])
            .arg(Path::new("corpus").join(target));
        let (ok, out) = ctx.capture(&mut c);
        let runs = stat(&out, "stat::number_of_executed_units:");
        let cov = out.lines().rev().find_map(|l| {
            l.split("cov: ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        });
        report.push_str(&format!(
            "{target}: {} executions, coverage {} edges\n",
            runs.unwrap_or(0),
            cov.unwrap_or(0)
        ));
        ctx.record(&format!("fuzz {target} for {secs}s"), ok && runs.is_some());
    }
    println!("\nfuzz summary ({secs}s per target):\n{report}");
    let _ = fs::write(ctx.cache().join("fuzz-summary.txt"), report);
}

fn stat(out: &str, key: &str) -> Option<u64> {
    out.lines()
        .rev()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.trim().parse().ok()))
}

/// The test step: a short smoke run of every target.
pub fn smoke(ctx: &mut Ctx) {
    run_all(ctx, SMOKE_SECS);
}

/// `cargo xtask fuzz [--secs N]`.
pub fn command(ctx: &mut Ctx, args: &[String]) -> ExitCode {
    let secs = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    run_all(ctx, secs);
    ctx.finish()
}
