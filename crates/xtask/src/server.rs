//! The service's OpenAPI document exercised by schemathesis (PyPI) against a running
//! `support-access serve` on loopback: no 5xx, every response matching its schema. Also checks
//! that the committed `openapi.json` is what `openapi/generate.py` writes from the Atlas
//! excerpt. The server is always stopped (a guard), whatever schemathesis did.

use std::process::{Command, Stdio};

use crate::ctx::Ctx;
use crate::fixture::{owner_tokens, seed_org};
use crate::net::{free_port, Children};

pub fn schemathesis(ctx: &mut Ctx) {
    let Some(venv) = ctx.venv_with(
        "venv-schemathesis",
        "import schemathesis, yaml",
        &["schemathesis"],
    ) else {
        return;
    };
    let mut check = ctx.cmd(venv.join("bin/python"));
    check.args([
        "crates/support-access-server/openapi/generate.py",
        "--check",
    ]);
    ctx.check(
        "server: openapi.json is what generate.py writes from the Atlas excerpt",
        &mut check,
    );

    let mut build = ctx.cmd("cargo");
    build.args(["build", "--release", "-p", "support-access-cli"]);
    if !ctx.setup(
        "server: cargo build --release -p support-access-cli",
        &mut build,
    ) {
        return;
    }
    let bin = ctx.target_dir().join("release/support-access");
    let dir = ctx.cache().join("schemathesis");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create .cache/schemathesis");
    let record = dir.join("r.jsonl");
    // A project id in Atlas's 24-hex form, so generated group ids can hit it.
    let group = "32b6e34b3d91647abb20e7b8";
    let record_s = record.to_string_lossy().into_owned();
    let store = ["--record", &record_s, "--now", "2026-12-01T00:00:00Z"];
    let org = ("acme", "setup");
    if !seed_org(ctx, "server", &bin, &store, org, group, &[&["Cluster0"]]) {
        return;
    }
    let token = "schemathesis-token";
    let tokens = dir.join("tokens.json");
    owner_tokens(&tokens, token, "st", "acme");
    // A signing key, so the checkpoint operations answer 200 too.
    let key = dir.join("replica.key");
    let mut new_key = Command::new(&bin);
    new_key.args(["key", "new", "--out"]).arg(&key);
    if !ctx.setup("server: support-access key new", &mut new_key) {
        return;
    }
    let port = free_port(18787);
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(&bin)
        .arg("--record")
        .arg(&record)
        .args(["serve", "--listen", &addr, "--tokens"])
        .arg(&tokens)
        .arg("--key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        ctx.record("server: start support-access serve", false);
        return;
    };
    let mut serving = Children::default();
    if !serving.hold_listening(child, &addr) {
        ctx.record("server: support-access serve listening", false);
        return;
    }
    let url = format!("http://{addr}");
    let mut st = ctx.cmd(venv.join("bin/st"));
    st.args(["--no-color", "run"])
        .arg(format!("{url}/openapi.json"))
        .args(["--url", &url])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--max-examples", "30", "--request-timeout", "10"])
        // The events stream never ends by design; its first bytes are tested in Rust.
        .args(["--exclude-operation-id", "events"])
        .current_dir(&dir);
    // One test: schemathesis exits non-zero on any failed check (its summary says which).
    ctx.check(
        "server: schemathesis against /openapi.json (no 5xx, schemas hold)",
        &mut st,
    );
}
