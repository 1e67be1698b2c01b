//! Two replicas of the service on one PostgreSQL database (the test server that `cargo xtask
//! test` starts), spoken to over real HTTP on loopback: the Atlas operations with their
//! statuses and shapes, the JSON commands, decisions, the record, and bad input.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support_access_core::checkpoint::{Checkpoint, SigningKey};
use support_access_core::{Policy, PolicyOptions};
use support_access_server::{auth::sha256_hex, App, Config};
use support_access_store::{Location, Now, Store};

const OWNER: &str = "owner-token";
const MANAGER: &str = "manager-token";
const READER: &str = "reader-token";
const OTHER: &str = "other-org-token";
const V2024: &str = "application/vnd.atlas.2024-08-05+json";
const V2023: &str = "application/vnd.atlas.2023-01-01+json";

fn fresh_db(name: &str) -> String {
    support_access_testkit::fresh_db(&format!("srv_{name}"))
}

fn tokens_file(dir: &std::path::Path) -> std::path::PathBuf {
    let t = |tok: &str, id: &str, roles: Value, org: &str| json!({"sha256": sha256_hex(tok), "id": id, "orgs": {org: roles}});
    let doc = json!({"tokens": [
        t(OWNER, "olivia", json!([{"role": "ORG_OWNER"}]), "acme"),
        t(MANAGER, "mo", json!([{"role": "PROJECT_SUPPORT_ACCESS_MANAGER", "projectId": "prod"}]), "acme"),
        t(READER, "rita", json!([{"role": "PROJECT_READ_ONLY", "projectId": "prod"}]), "acme"),
        t(OTHER, "gus", json!([{"role": "ORG_OWNER"}]), "globex"),
    ]});
    let path = dir.join("tokens.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// A replica on its own thread and runtime; stopped (gracefully) when dropped.
struct Replica {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Replica {
    fn start(store: &str, tokens: &std::path::Path) -> Replica {
        Replica::start_with(store, tokens, None)
    }

    fn start_with(store: &str, tokens: &std::path::Path, key: Option<SigningKey>) -> Replica {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            store: Location::parse(store).unwrap(),
            tokens: tokens.to_path_buf(),
            signing_key: key,
            allow_origins: vec![],
        };
        let app = App::new(&config).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::bind(config.listen).await.unwrap();
                addr_tx.send(l.local_addr().unwrap()).unwrap();
                support_access_server::serve(l, Arc::clone(&app), async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        Replica {
            addr: addr_rx.recv().unwrap(),
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        ctype: Option<&str>,
        body: &str,
    ) -> Http {
        http(self.addr, method, path, token, ctype, body)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Debug)]
struct Http {
    status: u16,
    content_type: String,
    body: String,
}

impl Http {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// An error in Atlas's ApiError shape, with this status and code.
    #[track_caller]
    fn api_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        let v = self.json();
        assert_eq!(v["error"], status, "{v}");
        assert_eq!(v["errorCode"], code, "{v}");
        assert!(
            v["detail"].is_string() && v["reason"].is_string() && v["parameters"].is_array(),
            "{v}"
        );
        assert_eq!(self.content_type, "application/json");
    }
}

/// One HTTP/1.1 request on a fresh connection, read to its end.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    ctype: Option<&str>,
    body: &str,
) -> Http {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(c) = ctype {
        req.push_str(&format!("Content-Type: {c}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("a response head");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let body = if header("transfer-encoding").eq_ignore_ascii_case("chunked") {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Http {
        status,
        content_type: header("content-type"),
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (len, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(len.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

/// An organization `acme` with project `prod` and clusters Cluster0 and Cluster1, and
/// `globex` with project `other` (a second org in the same store).
fn seed(url: &str) {
    let loc = Location::parse(url).unwrap();
    let mut o = PolicyOptions::new("acme");
    o.restrict_employee_access = true;
    let mut s = Store::create(&loc, o).unwrap();
    let a = support_access_core::Actor::org_owner("setup").unwrap();
    s.write(Now::Clock, |p, now| p.add_project(&a, "prod", now))
        .unwrap()
        .unwrap();
    for c in ["Cluster0", "Cluster1"] {
        s.write(Now::Clock, |p, now| {
            p.add_cluster(&a, "prod", c, Default::default(), false, now)
        })
        .unwrap()
        .unwrap();
    }
    let mut g = Store::create(&loc, PolicyOptions::new("globex")).unwrap();
    g.write(Now::Clock, |p, now| p.add_project(&a, "other", now))
        .unwrap()
        .unwrap();
}

fn stored(url: &str) -> String {
    Store::open(&Location::parse(url).unwrap(), Some("acme"))
        .unwrap()
        .policy()
        .export_record()
}

/// RFC 3339 text `h` hours from now.
fn in_hours(h: i64) -> String {
    let ms = support_access_store::host_clock().millis() + h * 3_600_000;
    support_access_core::Timestamp::from_millis(ms)
        .unwrap()
        .to_string()
}

fn until(what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{what} not within one second"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

#[test]
fn a_grant_through_one_replica_shows_on_the_other_and_a_revoke_there_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_db("two");
    seed(&url);
    let tokens = tokens_file(dir.path());
    let r1 = Replica::start(&url, &tokens);
    let r2 = Replica::start(&url, &tokens);
    let cluster = "/api/atlas/v2/groups/prod/clusters/Cluster0";
    let decision = "/v1/orgs/acme/decision?cluster=Cluster0&resource=DATABASE_LOGS";

    let before = r2.call("GET", cluster, Some(READER), None, "");
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.content_type, V2024);
    assert!(before.json().get("mongoDBEmployeeAccessGrant").is_none());
    let d = r2.call("GET", decision, Some(READER), None, "").json();
    assert_eq!(
        (d["allowed"].as_bool(), d["reason"].as_str()),
        (Some(false), Some("NO_GRANT"))
    );

    // The Atlas CLI's call: the versioned media type, a bearer token, a 204.
    let in_6h = in_hours(6);
    let body = json!({"grantType": "CLUSTER_DATABASE_LOGS", "expirationTime": in_6h}).to_string();
    let g = r1.call(
        "POST",
        &format!("{cluster}:grantMongoDBEmployeeAccess"),
        Some(MANAGER),
        Some(V2024),
        &body,
    );
    assert_eq!(g.status, 204, "{}", g.body);
    assert_eq!(g.body, "");
    let lag = until("replica 2 sees the grant", || {
        r2.call("GET", cluster, Some(READER), None, "").json()["mongoDBEmployeeAccessGrant"]
            ["grantType"]
            == "CLUSTER_DATABASE_LOGS"
    });
    let c = r2.call("GET", cluster, Some(READER), None, "").json();
    assert_eq!(c["mongoDBEmployeeAccessGrant"]["expirationTime"], in_6h);
    assert!(c["mongoDBEmployeeAccessGrant"]["links"].is_array());
    assert_eq!(
        (c["name"].as_str(), c["groupId"].as_str()),
        (Some("Cluster0"), Some("prod"))
    );
    let d = r2.call("GET", decision, Some(READER), None, "").json();
    assert_eq!(
        (d["allowed"].as_bool(), d["reason"].as_str()),
        (Some(true), Some("GRANT_ACTIVE"))
    );
    assert!(d["remainingMs"].as_i64().unwrap() > 5 * 3_600_000);

    // The list is an Atlas page.
    let page = r1
        .call(
            "GET",
            "/api/atlas/v2/groups/prod/clusters",
            Some(READER),
            None,
            "",
        )
        .json();
    assert_eq!(page["totalCount"], 2);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);

    let rv = r2.call(
        "POST",
        &format!("{cluster}:revokeMongoDBEmployeeAccess"),
        Some(MANAGER),
        None,
        "",
    );
    assert_eq!(rv.status, 204, "{}", rv.body);
    until("replica 1 sees the revoke", || {
        r1.call("GET", cluster, Some(READER), None, "")
            .json()
            .get("mongoDBEmployeeAccessGrant")
            .is_none()
    });
    let d = r1.call("GET", decision, Some(READER), None, "").json();
    assert_eq!(d["reason"], "GRANT_REVOKED");
    // A second revoke: the core's NO_ACTIVE_GRANT, as a 409 ApiError.
    r1.call(
        "POST",
        &format!("{cluster}:revokeMongoDBEmployeeAccess"),
        Some(MANAGER),
        None,
        "",
    )
    .api_error(409, "NO_ACTIVE_GRANT");
    eprintln!("a grant through replica 1 was visible on replica 2 after {lag:?}");

    // Org settings, both media types.
    let s = r2.call(
        "GET",
        "/api/atlas/v2/orgs/acme/settings",
        Some(READER),
        None,
        "",
    );
    assert_eq!((s.status, s.content_type.as_str()), (200, V2023));
    assert_eq!(s.json()["restrictEmployeeAccess"], true);
    assert_eq!(s.json()["genAIFeaturesEnabled"], true);
    let p = r1.call(
        "PATCH",
        "/api/atlas/v2/orgs/acme/settings",
        Some(OWNER),
        Some(V2023),
        r#"{"restrictEmployeeAccess": false}"#,
    );
    assert_eq!(
        (p.status, p.json()["restrictEmployeeAccess"].as_bool()),
        (200, Some(false))
    );
    r1.call(
        "PATCH",
        "/api/atlas/v2/orgs/acme/settings",
        Some(MANAGER),
        Some("application/json"),
        r#"{"restrictEmployeeAccess": true}"#,
    )
    .api_error(403, "FORBIDDEN");

    // The record, whole and since a seq, is the store's.
    // Replica 2's cache catches up with replica 1's last write within a second.
    until("replica 2's record", || {
        r2.call("GET", "/v1/orgs/acme/record", Some(READER), None, "")
            .body
            == stored(&url)
    });
    let since = r2.call(
        "GET",
        "/v1/orgs/acme/record?since=4",
        Some(READER),
        None,
        "",
    );
    assert_eq!(
        since.body,
        stored(&url)
            .lines()
            .skip(4)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    let m = r1.call("GET", "/metrics", None, None, "");
    assert!(
        m.body.contains("support_access_appends_total"),
        "{}",
        m.body
    );
    assert_eq!(r1.call("GET", "/healthz", None, None, "").status, 200);
}

#[test]
fn commands_answer_with_the_bytes_apply_gives_and_the_actor_of_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_db("commands");
    seed(&url);
    let r = Replica::start(&url, &tokens_file(dir.path()));
    let cmd = r#"{"op":"grant","cluster":"Cluster1","grantType":"CLUSTER_INFRASTRUCTURE","now":"2030-01-01T00:00:00Z"}"#;
    // What the core answers for the same command with the token's actor.
    let mut local = Policy::replay(&stored(&url)).unwrap();
    let expected = support_access_core::apply(
        &mut local,
        r#"{"op":"grant","cluster":"Cluster1","grantType":"CLUSTER_INFRASTRUCTURE","now":"2030-01-01T00:00:00Z","actor":{"id":"mo","roles":[{"role":"PROJECT_SUPPORT_ACCESS_MANAGER","projectId":"prod"}]}}"#,
    );
    let got = r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(MANAGER),
        Some("application/json"),
        cmd,
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.body, expected);
    assert_eq!(stored(&url), local.export_record());
    // Errors are the core's bytes with their natural status.
    let e = r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(READER),
        Some("application/json"),
        r#"{"op":"revoke","cluster":"Cluster1","now":"2030-01-01T00:00:00Z"}"#,
    );
    assert_eq!(e.status, 403);
    assert_eq!(e.json()["error"]["code"], "FORBIDDEN");
    let e = r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(OWNER),
        Some("application/json"),
        r#"{"op":"evaluate","cluster":"Nope","resource":"INFRASTRUCTURE"}"#,
    );
    assert_eq!(
        (e.status, e.json()["error"]["code"].as_str()),
        (404, Some("CLUSTER_NOT_FOUND"))
    );
    let e = r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(OWNER),
        Some("application/json"),
        r#"{"op":"addProject","projectId":"prod","now":"2030-01-01T00:00:00Z"}"#,
    );
    assert_eq!(
        (e.status, e.json()["error"]["code"].as_str()),
        (409, Some("DUPLICATE_PROJECT"))
    );
    // Without `now`, the replica's clock (never behind the head).
    let ok = r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(OWNER),
        Some("application/json"),
        r#"{"op":"addProject","projectId":"p2"}"#,
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.json()["ok"]["at"],
        "2030-01-01T00:00:00.000Z",
        "clamped to the head's time"
    );
}

#[test]
fn concurrent_grants_through_both_replicas_keep_one_gap_free_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_db("concurrent");
    seed(&url);
    let tokens = tokens_file(dir.path());
    let r1 = Arc::new(Replica::start(&url, &tokens));
    let r2 = Arc::new(Replica::start(&url, &tokens));
    let base = stored(&url).lines().count();
    let body =
        json!({"grantType": "CLUSTER_INFRASTRUCTURE", "expirationTime": in_hours(6)}).to_string();
    let handles: Vec<_> = [
        (r1.clone(), "Cluster0"),
        (r2.clone(), "Cluster1"),
        (r1.clone(), "Cluster1"),
        (r2.clone(), "Cluster0"),
    ]
    .into_iter()
    .map(|(r, c)| {
        let grant = body.clone();
        std::thread::spawn(move || {
            let mut ok = 0;
            for i in 0..40 {
                let (action, body) = if i % 2 == 0 {
                    ("grantMongoDBEmployeeAccess", grant.as_str())
                } else {
                    ("revokeMongoDBEmployeeAccess", "")
                };
                let ct = (!body.is_empty()).then_some(V2024);
                let res = r.call(
                    "POST",
                    &format!("/api/atlas/v2/groups/prod/clusters/{c}:{action}"),
                    Some(OWNER),
                    ct,
                    body,
                );
                assert!(
                    matches!(res.status, 204 | 400 | 409),
                    "{} {}",
                    res.status,
                    res.body
                );
                ok += usize::from(res.status == 204);
            }
            ok
        })
    })
    .collect();
    let acknowledged: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(
        acknowledged >= 80,
        "the grants ({acknowledged} acknowledged)"
    );
    let text = stored(&url);
    let p = Policy::replay(&text).unwrap(); // verifies: one gap-free chain
    assert_eq!(
        p.record().len() - base,
        acknowledged,
        "every 204 is one stored event"
    );
}

#[test]
fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_db("bad");
    seed(&url);
    let r = Replica::start(&url, &tokens_file(dir.path()));
    let before = stored(&url);
    let grant = "/api/atlas/v2/groups/prod/clusters/Cluster0:grantMongoDBEmployeeAccess";
    let good = r#"{"grantType":"CLUSTER_DATABASE_LOGS","expirationTime":"2099-01-01T00:00:00Z"}"#;
    r.call("POST", grant, None, Some(V2024), good)
        .api_error(401, "UNAUTHORIZED");
    r.call("POST", grant, Some("wrong"), Some(V2024), good)
        .api_error(401, "UNAUTHORIZED");
    r.call(
        "POST",
        grant,
        Some(MANAGER),
        Some(V2024),
        "{\"grantType\": ",
    )
    .api_error(400, "MALFORMED_INPUT");
    r.call("POST", grant, Some(MANAGER), Some("text/plain"), good)
        .api_error(415, "UNSUPPORTED_MEDIA_TYPE");
    r.call(
        "POST",
        grant,
        Some(MANAGER),
        Some(V2024),
        r#"{"grantType":"ROOT","expirationTime":"2099-01-01T00:00:00Z"}"#,
    )
    .api_error(400, "INVALID_ENUM_VALUE");
    r.call(
        "POST",
        grant,
        Some(MANAGER),
        Some(V2024),
        r#"{"grantType":"CLUSTER_DATABASE_LOGS"}"#,
    )
    .api_error(400, "MALFORMED_INPUT");
    r.call("POST", grant, Some(MANAGER), Some(V2024), good)
        .api_error(400, "EXPIRATION_TOO_FAR");
    let big = format!("{{\"grantType\":\"{}\"}}", "x".repeat(2 << 20));
    r.call("POST", grant, Some(MANAGER), Some(V2024), &big)
        .api_error(413, "BODY_TOO_LARGE");
    r.call("POST", grant, Some(OTHER), Some(V2024), good)
        .api_error(404, "PROJECT_NOT_FOUND");
    r.call(
        "POST",
        "/api/atlas/v2/groups/nope/clusters/Cluster0:grantMongoDBEmployeeAccess",
        Some(MANAGER),
        Some(V2024),
        good,
    )
    .api_error(404, "PROJECT_NOT_FOUND");
    r.call(
        "POST",
        "/api/atlas/v2/groups/prod/clusters/Nope:grantMongoDBEmployeeAccess",
        Some(MANAGER),
        Some(V2024),
        good,
    )
    .api_error(404, "CLUSTER_NOT_FOUND");
    r.call(
        "POST",
        "/api/atlas/v2/groups/other/clusters/Cluster0:grantMongoDBEmployeeAccess",
        Some(OTHER),
        Some(V2024),
        good,
    )
    .api_error(404, "CLUSTER_NOT_FOUND");
    r.call(
        "POST",
        "/api/atlas/v2/groups/prod/clusters/Cluster0:explode",
        Some(MANAGER),
        None,
        "",
    )
    .api_error(404, "NOT_FOUND");
    r.call(
        "GET",
        "/api/atlas/v2/orgs/nope/settings",
        Some(OWNER),
        None,
        "",
    )
    .api_error(403, "FORBIDDEN");
    r.call(
        "GET",
        "/v1/orgs/acme/decision?cluster=Cluster0&resource=EVERYTHING",
        Some(OWNER),
        None,
        "",
    )
    .api_error(400, "INVALID_ENUM_VALUE");
    r.call(
        "GET",
        "/v1/orgs/acme/decision?cluster=Cluster0&resource=AUDIT_LOGS&at=yesterday",
        Some(OWNER),
        None,
        "",
    )
    .api_error(400, "INVALID_TIMESTAMP");
    r.call(
        "GET",
        "/v1/orgs/acme/decision?cluster=Nope&resource=AUDIT_LOGS",
        Some(OWNER),
        None,
        "",
    )
    .api_error(404, "CLUSTER_NOT_FOUND");
    r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(OWNER),
        Some("application/json"),
        r#"{"op":"grant","actor":{"id":"x","roles":[]}}"#,
    )
    .api_error(400, "MALFORMED_INPUT");
    r.call(
        "POST",
        "/v1/orgs/acme/commands",
        Some(OWNER),
        Some("application/json"),
        r#"{"op":"replay","record":""}"#,
    )
    .api_error(400, "MALFORMED_INPUT");
    r.call(
        "PATCH",
        "/api/atlas/v2/orgs/acme/settings",
        Some(OWNER),
        Some(V2023),
        r#"{"multiFactorAuthRequired": true}"#,
    )
    .api_error(400, "MALFORMED_INPUT");
    r.call("GET", "/nowhere", None, None, "")
        .api_error(404, "NOT_FOUND");
    assert_eq!(stored(&url), before, "nothing was stored by any of it");
}

#[test]
fn the_events_stream_resumes_from_last_event_id_and_carries_another_replicas_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_db("events");
    seed(&url);
    let tokens = tokens_file(dir.path());
    let r1 = Replica::start(&url, &tokens);
    let r2 = Replica::start(&url, &tokens);
    let mut s = TcpStream::connect(r2.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        s,
        "GET /v1/orgs/acme/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {READER}\r\nLast-Event-ID: 2\r\n\r\n"
    )
    .unwrap();
    let mut seen = String::new();
    let mut read_until = |needle: &str, seen: &mut String| {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while !seen.contains(needle) {
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "no {needle:?} in {seen}"
            );
            if let Ok(n) = s.read(&mut buf) {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    };
    read_until("id: 4", &mut seen);
    assert!(seen.contains("text/event-stream"), "{seen}");
    assert!(
        !seen.contains("id: 2\n") && seen.contains("id: 3"),
        "resumed after 2: {seen}"
    );
    let lines: Vec<String> = stored(&url).lines().map(String::from).collect();
    assert!(seen.contains(&format!("data: {}", lines[3])), "{seen}");
    // A grant through replica 1 arrives on replica 2's stream.
    let body =
        json!({"grantType": "CLUSTER_INFRASTRUCTURE", "expirationTime": in_hours(1)}).to_string();
    let g = r1.call(
        "POST",
        "/api/atlas/v2/groups/prod/clusters/Cluster1:grantMongoDBEmployeeAccess",
        Some(MANAGER),
        Some(V2024),
        &body,
    );
    assert_eq!(g.status, 204, "{}", g.body);
    read_until("id: 5", &mut seen);
    assert!(seen.contains("EMPLOYEE_ACCESS_GRANTED"), "{seen}");
    drop(s);
    // Without a token: 401, before any stream.
    r2.call("GET", "/v1/orgs/acme/events", None, None, "")
        .api_error(401, "UNAUTHORIZED");
}

/// `support_access_checkpoints_signed_total{org="acme"}` on a replica.
fn signed_total(r: &Replica) -> u64 {
    let m = r.call("GET", "/metrics", None, None, "");
    m.body
        .lines()
        .find_map(|l| l.strip_prefix("support_access_checkpoints_signed_total{org=\"acme\"} "))
        .unwrap_or_else(|| panic!("no checkpoint counter in {}", m.body))
        .parse()
        .unwrap()
}

#[test]
fn each_replica_signs_checkpoints_of_the_shared_head_at_most_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_db("checkpoints");
    seed(&url);
    let tokens = tokens_file(dir.path());
    let (k1, k2) = (
        SigningKey::from_seed([1; 32]),
        SigningKey::from_seed([2; 32]),
    );
    let trusted = [k1.public_key().clone(), k2.public_key().clone()];
    let started = Instant::now();
    let r1 = Replica::start_with(&url, &tokens, Some(k1.clone()));
    let r2 = Replica::start_with(&url, &tokens, Some(k2.clone()));

    // The public key, in its text form, without a token.
    let k = r1.call("GET", "/v1/checkpoint-key", None, None, "");
    assert_eq!(k.status, 200, "{}", k.body);
    assert_eq!(k.body, format!("{}\n", k1.public_key()));
    let checkpoint = |r: &Replica| {
        let c = r.call("GET", "/v1/orgs/acme/checkpoint", Some(READER), None, "");
        assert_eq!(c.status, 200, "{}", c.body);
        assert_eq!(c.content_type, "text/plain; charset=utf-8");
        Checkpoint::parse(&c.body).unwrap_or_else(|e| panic!("{e}: {}", c.body))
    };
    // The first checkpoint is of the head as opened (genesis, a project, two clusters).
    let first = checkpoint(&r1);
    assert_eq!((first.org_id(), first.seq()), ("acme", 4));
    assert!(first.verify_signature(k1.public_key()));
    assert!(!first.verify_signature(k2.public_key()));

    // Twenty appends through replica 1, as fast as they go.
    let grant = json!({"grantType": "CLUSTER_DATABASE_LOGS", "expirationTime": in_hours(2)});
    for _ in 0..10 {
        let g = r1.call(
            "POST",
            "/api/atlas/v2/groups/prod/clusters/Cluster0:grantMongoDBEmployeeAccess",
            Some(MANAGER),
            Some(V2024),
            &grant.to_string(),
        );
        assert_eq!(g.status, 204, "{}", g.body);
        let v = r1.call(
            "POST",
            "/api/atlas/v2/groups/prod/clusters/Cluster0:revokeMongoDBEmployeeAccess",
            Some(MANAGER),
            None,
            "",
        );
        assert_eq!(v.status, 204, "{}", v.body);
    }
    // Both replicas (replica 2 through its follower) sign the new head soon after.
    let deadline = Instant::now() + Duration::from_secs(5);
    let (c1, c2) = loop {
        let (c1, c2) = (checkpoint(&r1), checkpoint(&r2));
        if c1.seq() == 24 && c2.seq() == 24 {
            break (c1, c2);
        }
        assert!(
            Instant::now() < deadline,
            "heads {} and {}",
            c1.seq(),
            c2.seq()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(c1.hash(), c2.hash(), "two replicas, one chain");
    assert!(c2.verify_signature(k2.public_key()));
    // At most one per second each, plus the one at opening (replica 2 opened the organization
    // only after the appends, so its first checkpoint was of the new head already).
    let limit = 2 + started.elapsed().as_secs();
    for (r, name, least) in [(&r1, "replica 1", 2), (&r2, "replica 2", 1)] {
        let n = signed_total(r);
        assert!(
            (least..=limit).contains(&n),
            "{name} signed {n} in {:?}",
            started.elapsed()
        );
    }

    // What the replicas signed pins the stored record: it verifies, a shorter one does not.
    let record = stored(&url);
    let policy = support_access_core::replay::replay(&record).unwrap();
    let all = [first.clone(), c1.clone(), c2.clone()];
    let ok = policy.verify_checkpoints(&all, &trusted).unwrap();
    assert_eq!(ok.verified_up_to, 24);
    assert_eq!(ok.key_ids.len(), 2);
    let cut: String = record.lines().take(20).map(|l| format!("{l}\n")).collect();
    let err = support_access_core::replay::replay(&cut)
        .unwrap()
        .verify_checkpoints(&all, &trusted)
        .unwrap_err();
    assert_eq!(err.code().as_str(), "RECORD_TRUNCATED", "{err}");

    // Replica 2's events stream carries its latest checkpoint after the events it covers.
    let mut s = TcpStream::connect(r2.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        s,
        "GET /v1/orgs/acme/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {READER}\r\nLast-Event-ID: 20\r\n\r\n"
    )
    .unwrap();
    let (mut seen, mut buf, start) = (String::new(), [0u8; 4096], Instant::now());
    while !seen.contains("data: sig ") {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "no checkpoint in {seen}"
        );
        if let Ok(n) = s.read(&mut buf) {
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
    let at = seen.find("event: checkpoint").expect("a checkpoint event");
    assert!(
        seen[..at].contains("id: 24"),
        "after the event it covers: {seen}"
    );
    assert!(
        seen[at..].contains(&format!("data: hash {}", c2.hash())),
        "{seen}"
    );
    drop(s);

    // A replica without a key says so; a token is still needed for an organization's.
    let r3 = Replica::start(&url, &tokens);
    r3.call("GET", "/v1/orgs/acme/checkpoint", Some(READER), None, "")
        .api_error(404, "NO_CHECKPOINT_KEY");
    r3.call("GET", "/v1/checkpoint-key", None, None, "")
        .api_error(404, "NO_CHECKPOINT_KEY");
    r1.call("GET", "/v1/orgs/acme/checkpoint", None, None, "")
        .api_error(401, "UNAUTHORIZED");
    r1.call("GET", "/v1/orgs/globex/checkpoint", Some(READER), None, "")
        .api_error(403, "FORBIDDEN");
}

#[test]
fn browser_pages_of_allowed_origins_may_call_it_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("r.jsonl");
    let loc = record.display().to_string();
    Store::create(&Location::parse(&loc).unwrap(), PolicyOptions::new("acme")).unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        store: Location::parse(&loc).unwrap(),
        tokens: tokens_file(dir.path()),
        signing_key: None,
        allow_origins: vec![String::from("http://127.0.0.1:8080/path")],
    };
    let err = App::new(&config).unwrap_err();
    assert!(err.contains("not a web origin"), "{err}");
    config.allow_origins = vec![String::from("http://127.0.0.1:8080")];
    let app = App::new(&config).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(support_access_server::serve(listener, app, async {
        let _ = stopped.await;
    }));
    let raw = |req: String| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.to_ascii_lowercase()
    };
    let preflight = |origin: &str| {
        raw(format!(
            "OPTIONS /v1/orgs/acme/events HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization, last-event-id\r\nConnection: close\r\n\r\n"
        ))
    };
    let ok = preflight("http://127.0.0.1:8080");
    assert!(ok.starts_with("http/1.1 200"), "{ok}");
    assert!(
        ok.contains("access-control-allow-origin: http://127.0.0.1:8080"),
        "{ok}"
    );
    assert!(
        ok.contains("authorization") && ok.contains("last-event-id"),
        "{ok}"
    );
    let other = preflight("http://evil.example");
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    let get = raw(format!(
        "GET /v1/orgs/acme/record HTTP/1.1\r\nHost: x\r\nOrigin: http://127.0.0.1:8080\r\nAuthorization: Bearer {OWNER}\r\nConnection: close\r\n\r\n"
    ));
    assert!(get.starts_with("http/1.1 200"), "{get}");
    assert!(
        get.contains("access-control-allow-origin: http://127.0.0.1:8080"),
        "{get}"
    );
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}
