//! `cargo xtask bench-service`: the service's figures for docs/benchmarks.md, with `wrk`
//! (Debian's package, installed when missing) on loopback, keep-alive:
//! - decisions per second and p50/p99 latency on one replica (`GET /v1/orgs/acme/decision`),
//! - the same for a minimal axum handler that answers a constant (the HTTP ceiling here),
//! - grants per second through two replicas on one PostgreSQL store (a wrk per replica, both
//!   re-granting the same cluster, so every append races the other replica's).
//!
//! Every server it starts is stopped when the step ends (a guard), as is PostgreSQL.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::ctx::Ctx;
use crate::fixture::{owner_tokens, seed_org};
use crate::net::{free_port, Children};

fn wrk(ctx: &Ctx, label: &str, url: &str, token: Option<&str>, script: Option<&Path>) -> String {
    let mut c = ctx.cmd("wrk");
    c.args(["-t2", "-c32", "-d10s", "--latency"]);
    if let Some(t) = token {
        c.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(s) = script {
        c.arg("-s").arg(s);
    }
    c.arg(url);
    let out = c
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let pick = |key: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(key))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
            .unwrap_or_else(|| String::from("?"))
    };
    let line = format!(
        "{label}: {} requests/s, p50 {}, p99 {}",
        pick("Requests/sec:"),
        pick("50%"),
        pick("99%")
    );
    println!("{line}");
    if out.contains("Non-2xx") {
        println!(
            "  ({})",
            out.lines()
                .find(|l| l.contains("Non-2xx"))
                .unwrap_or("")
                .trim()
        );
    }
    line
}

pub fn run(ctx: &mut Ctx) -> std::process::ExitCode {
    if !ctx.ensure_apt("wrk", &["wrk"]) {
        return ctx.finish();
    }
    let mut b = ctx.cmd("cargo");
    b.args([
        "build",
        "--release",
        "-p",
        "support-access-server",
        "--example",
        "constant",
    ]);
    if !ctx.setup("bench-service: build", &mut b) {
        return ctx.finish();
    }
    let mut cli_build = ctx.cmd("cargo");
    cli_build.args(["build", "--release", "-p", "support-access-cli"]);
    if !ctx.setup("bench-service: build the CLI", &mut cli_build) {
        return ctx.finish();
    }
    let release = ctx.target_dir().join("release");
    let bin = release.join("support-access");
    let dir = ctx.cache().join("bench-service");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let token = "bench-token";
    let tokens = dir.join("tokens.json");
    owner_tokens(&tokens, token, "bench", "acme");
    // acme with Cluster0 holding a grant, so every decision has a countdown to compute.
    let seed = |ctx: &mut Ctx, store: &[&str]| -> bool {
        let grant = [
            "--actor",
            "setup",
            "--role",
            "ORG_OWNER",
            "grant",
            "Cluster0",
            "--type",
            "logs",
        ];
        seed_org(
            ctx,
            "bench-service",
            &bin,
            store,
            ("acme", "setup"),
            "prod",
            &[&["Cluster0"]],
        ) && ctx.setup(
            &format!("bench-service: support-access {}", grant.join(" ")),
            Command::new(&bin).args(store).args(grant),
        )
    };
    let record = dir.join("r.jsonl");
    let record_s = record.to_string_lossy().into_owned();
    if !seed(ctx, &["--record", &record_s]) {
        return ctx.finish();
    }
    let mut guard = Children::default();
    let start_serve = |guard: &mut Children, store: &[&str]| -> Option<String> {
        let addr = format!("127.0.0.1:{}", free_port(18790));
        let child = Command::new(&bin)
            .args(store)
            .args(["serve", "--listen", &addr, "--tokens"])
            .arg(&tokens)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        guard.hold_listening(child, &addr).then_some(addr)
    };
    let mut lines = Vec::new();
    let Some(a) = start_serve(&mut guard, &["--record", &record_s]) else {
        ctx.record("bench-service: serve", false);
        return ctx.finish();
    };
    lines.push(wrk(
        ctx,
        "decision, one replica (file store)",
        &format!("http://{a}/v1/orgs/acme/decision?cluster=Cluster0&resource=DATABASE_LOGS"),
        Some(token),
        None,
    ));
    let caddr = format!("127.0.0.1:{}", free_port(18790));
    let constant = Command::new(release.join("examples/constant"))
        .arg(&caddr)
        .stdout(Stdio::null())
        .spawn();
    let Ok(constant) = constant else {
        ctx.record("bench-service: constant", false);
        return ctx.finish();
    };
    if guard.hold_listening(constant, &caddr) {
        lines.push(wrk(
            ctx,
            "baseline: constant axum handler",
            &format!("http://{caddr}/"),
            None,
            None,
        ));
    }
    // Grants through two replicas on PostgreSQL.
    if let Some(pg) = crate::pg::Server::start(ctx) {
        let url = pg.url();
        if seed(ctx, &["--store", &url]) {
            let r1 = start_serve(&mut guard, &["--store", &url]);
            let r2 = start_serve(&mut guard, &["--store", &url]);
            if let (Some(r1), Some(r2)) = (r1, r2) {
                let script = dir.join("grant.lua");
                std::fs::write(
                    &script,
                    "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/vnd.atlas.2024-08-05+json\"\nwrk.body = '{\"grantType\":\"CLUSTER_INFRASTRUCTURE\",\"expirationTime\":\"'..os.date(\"!%Y-%m-%dT%H:%M:%SZ\", os.time() + 6*3600)..'\"}'\n",
                )
                .expect("lua");
                let path = "/api/atlas/v2/groups/prod/clusters/Cluster0:grantMongoDBEmployeeAccess";
                let (s1, t1, s2) = (script.clone(), token.to_string(), script.clone());
                let u1 = format!("http://{r1}{path}");
                let u2 = format!("http://{r2}{path}");
                let ctx2 = Ctx::new();
                let h = std::thread::spawn(move || {
                    wrk(
                        &ctx2,
                        "grants via replica 1 (PostgreSQL)",
                        &u1,
                        Some(&t1),
                        Some(&s1),
                    )
                });
                lines.push(wrk(
                    ctx,
                    "grants via replica 2 (PostgreSQL)",
                    &u2,
                    Some(token),
                    Some(&s2),
                ));
                lines.push(h.join().unwrap_or_default());
                let mut v = Command::new(&bin);
                v.args(["--store", &url, "verify"]);
                ctx.check(
                    "bench-service: the record verifies after the grant load",
                    &mut v,
                );
            }
        }
        drop(guard);
        drop(pg);
    }
    println!("\n{}", lines.join("\n"));
    ctx.record("bench-service", true);
    ctx.finish()
}
