//! `support-access serve` as an operator runs it: a process on loopback with a tokens file and a
//! signing key. The README's checkpoint flow (fetch a checkpoint and the record over HTTP, verify
//! them with the CLI, catch the record cut short), SIGHUP reloading the tokens, and SIGTERM
//! stopping it cleanly.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support_access_server::auth::sha256_hex;

mod common;

use common::{cmd, exit};

/// A running `serve`, killed if a test fails before it stops it.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start(record: &Path, tokens: &Path, key: &Path) -> Serve {
        let mut child = cmd()
            .arg("--record")
            .arg(record)
            .args(["serve", "--listen", "127.0.0.1:0", "--tokens"])
            .arg(tokens)
            .arg("--key")
            .arg(key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // "support-access: serving … on http://127.0.0.1:PORT"
        let mut line = String::new();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        stderr.read_line(&mut line).unwrap();
        // Keep reading what it says (a closed pipe would fail its next message).
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let addr = line
            .trim()
            .rsplit_once("http://")
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .1
            .to_string();
        Serve { child, addr }
    }

    /// One request; the status and the (de-chunked) body.
    fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        ctype: &str,
        body: &str,
    ) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, mut rest) = out.split_once("\r\n\r\n").unwrap();
        let status = head[9..12].parse().unwrap();
        if !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return (status, rest.to_string());
        }
        let mut body = String::new();
        loop {
            let (len, tail) = rest.split_once("\r\n").unwrap();
            let n = usize::from_str_radix(len.trim(), 16).unwrap();
            if n == 0 {
                return (status, body);
            }
            body.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
    }

    fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tokens(path: &Path, token: &str) {
    fs::write(
        path,
        format!(
            r#"{{"tokens":[{{"sha256":"{}","id":"alice","orgs":{{"acme":[{{"role":"ORG_OWNER"}}]}}}}]}}"#,
            sha256_hex(token)
        ),
    )
    .unwrap();
}

#[test]
fn a_served_checkpoint_pins_the_record_a_reload_swaps_tokens_and_sigterm_stops() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("acme.jsonl");
    let owner = ["--actor", "alice", "--role", "ORG_OWNER"];
    exit(
        &cmd()
            .arg("--record")
            .arg(&record)
            .args(["init", "--org", "acme", "--restrict"])
            .output()
            .unwrap(),
        0,
    );
    for args in [
        &["project", "add", "prod"][..],
        &["cluster", "add", "Cluster0", "--project", "prod"],
    ] {
        exit(
            &cmd()
                .arg("--record")
                .arg(&record)
                .args(owner)
                .args(args)
                .output()
                .unwrap(),
            0,
        );
    }
    let key = dir.path().join("replica.key");
    let o = cmd()
        .args(["key", "new", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    exit(&o, 0);
    let public = dir.path().join("replica.pub");
    fs::write(&public, &o.stdout).unwrap();
    let tokens_path = dir.path().join("tokens.json");
    tokens(&tokens_path, "first-token");
    let serve = Serve::start(&record, &tokens_path, &key);

    // A grant the way an Admin API client sends it, then the README's checkpoint flow.
    let (status, body) = serve.call(
        "POST",
        "/api/atlas/v2/groups/prod/clusters/Cluster0:grantMongoDBEmployeeAccess",
        "first-token",
        "application/vnd.atlas.2024-08-05+json",
        r#"{"grantType":"CLUSTER_DATABASE_LOGS","expirationTime":"2099-01-01T00:00:00Z"}"#,
    );
    assert_eq!(status, 400, "more than the 24 h a grant may run: {body}");
    let until = support_access_core::Timestamp::from_millis(
        support_access_store::host_clock().millis() + 3_600_000,
    )
    .unwrap();
    let (status, body) = serve.call(
        "POST",
        "/api/atlas/v2/groups/prod/clusters/Cluster0:grantMongoDBEmployeeAccess",
        "first-token",
        "application/vnd.atlas.2024-08-05+json",
        &format!(r#"{{"grantType":"CLUSTER_DATABASE_LOGS","expirationTime":"{until}"}}"#),
    );
    assert_eq!(status, 204, "{body}");
    let checkpoints = dir.path().join("acme.checkpoints");
    let start = Instant::now();
    let text = loop {
        let (status, text) = serve.call(
            "GET",
            "/v1/orgs/acme/checkpoint",
            "first-token",
            "text/plain",
            "",
        );
        assert_eq!(status, 200, "{text}");
        if text.contains("\nseq 4\n") {
            break text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no checkpoint of the grant: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    fs::write(&checkpoints, &text).unwrap();
    let (status, served) = serve.call(
        "GET",
        "/v1/orgs/acme/record",
        "first-token",
        "text/plain",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(served, fs::read_to_string(&record).unwrap());
    let copy = dir.path().join("copy.jsonl");
    fs::write(&copy, &served).unwrap();
    let verify = |r: &Path| {
        cmd()
            .arg("--record")
            .arg(r)
            .arg("verify")
            .arg("--checkpoints")
            .arg(&checkpoints)
            .arg("--trust")
            .arg(&public)
            .output()
            .unwrap()
    };
    exit(&verify(&copy), 0);
    let cut: String = served.lines().take(3).map(|l| format!("{l}\n")).collect();
    fs::write(&copy, cut).unwrap();
    let refused = exit(&verify(&copy), 4);
    assert!(
        refused.contains("RECORD_TRUNCATED") && refused.contains("seq 4"),
        "{refused}"
    );

    // SIGHUP: the new tokens file takes over; a bad one keeps it.
    tokens(&tokens_path, "second-token");
    serve.signal("HUP");
    let start = Instant::now();
    while serve
        .call(
            "GET",
            "/v1/orgs/acme/checkpoint",
            "second-token",
            "text/plain",
            "",
        )
        .0
        != 200
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "tokens not reloaded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        serve
            .call(
                "GET",
                "/v1/orgs/acme/checkpoint",
                "first-token",
                "text/plain",
                ""
            )
            .0,
        401
    );
    fs::write(&tokens_path, "{not json").unwrap();
    serve.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        serve
            .call(
                "GET",
                "/v1/orgs/acme/checkpoint",
                "second-token",
                "text/plain",
                ""
            )
            .0,
        200
    );

    // SIGTERM: it stops by itself, exit 0, the record intact.
    let mut serve = serve;
    serve.signal("TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = serve.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    exit(
        &cmd()
            .arg("--record")
            .arg(&record)
            .arg("verify")
            .output()
            .unwrap(),
        0,
    );
}
