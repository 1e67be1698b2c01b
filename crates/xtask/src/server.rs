//! The service's OpenAPI document exercised by schemathesis (PyPI) against a running
//! `support-access serve` on loopback: no 5xx, every response matching its schema. Also checks
//! that the committed `openapi.json` is what `openapi/generate.py` writes from the Atlas
//! excerpt. The server is always stopped (a guard), whatever schemathesis did.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ctx::Ctx;

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    for args in [
        vec![
            "--now",
            "2026-12-01T00:00:00Z",
            "init",
            "--org",
            "acme",
            "--restrict",
        ],
        vec![
            "--actor",
            "setup",
            "--role",
            "ORG_OWNER",
            "project",
            "add",
            group,
        ],
        vec![
            "--actor",
            "setup",
            "--role",
            "ORG_OWNER",
            "cluster",
            "add",
            "Cluster0",
            "--project",
            group,
        ],
    ] {
        let mut c = Command::new(&bin);
        c.arg("--record").arg(&record).args(&args);
        if !ctx.setup(
            &format!("server: support-access {}", args.join(" ")),
            &mut c,
        ) {
            return;
        }
    }
    let token = "schemathesis-token";
    let tokens = dir.join("tokens.json");
    let hash = sha256_hex(token);
    std::fs::write(
        &tokens,
        format!(r#"{{"tokens":[{{"sha256":"{hash}","id":"st","orgs":{{"acme":[{{"role":"ORG_OWNER"}}]}}}}]}}"#),
    )
    .expect("write tokens");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18787);
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(&bin)
        .arg("--record")
        .arg(&record)
        .args(["serve", "--listen", &addr, "--tokens"])
        .arg(&tokens)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        ctx.record("server: start support-access serve", false);
        return;
    };
    let _serving = Serving(child);
    let start = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            ctx.record("server: support-access serve listening", false);
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
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

/// Lowercase hex SHA-256 (xtask has no hashing crate; `sha256sum` is coreutils).
fn sha256_hex(text: &str) -> String {
    use std::io::Write;
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    c.stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = c.wait_with_output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}
