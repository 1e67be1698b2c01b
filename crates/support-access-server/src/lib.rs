//! # support-access-server
//!
//! The support-access service: the MongoDB Atlas Admin API v2 operations for support access
//! (org settings, clusters with their `mongoDBEmployeeAccessGrant`, grant and revoke), shaped
//! as Atlas defines them, and the project's own API (the spec's JSON commands, decisions, the
//! record), served over HTTP on a shared record store. Several replicas on one PostgreSQL
//! store serve the same organizations: appends are compare-and-set on the head, and each
//! replica's reads come from a follower's cache that `LISTEN/NOTIFY` keeps current.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET, PATCH | `/api/atlas/v2/orgs/{orgId}/settings` | `OrganizationSettings` (`restrictEmployeeAccess`) |
//! | GET | `/api/atlas/v2/groups/{groupId}/clusters` | a `listClusters` page |
//! | GET | `/api/atlas/v2/groups/{groupId}/clusters/{clusterName}` | one cluster description |
//! | POST | `…/clusters/{clusterName}:grantMongoDBEmployeeAccess` | `{grantType, expirationTime}` → 204 |
//! | POST | `…/clusters/{clusterName}:revokeMongoDBEmployeeAccess` | → 204 |
//! | POST | `/v1/orgs/{orgId}/commands` | one spec JSON command; the answer is `apply`'s bytes |
//! | GET | `/v1/orgs/{orgId}/decision?cluster=…&resource=…[&at=…]` | the decision object |
//! | GET | `/v1/orgs/{orgId}/record[?since=SEQ]` | the record as JSON Lines |
//! | GET | `/v1/orgs/{orgId}/events` | Server-Sent Events, one per recorded event, resumable with `Last-Event-ID`; signed checkpoints between them |
//! | GET | `/v1/orgs/{orgId}/checkpoint` | the latest signed checkpoint of the record's head (SPEC §9) |
//! | GET | `/v1/checkpoint-key` | the public key this replica signs checkpoints with |
//! | GET | `/healthz`, `/metrics` | liveness; Prometheus text |
//! | GET | `/openapi.json` | the OpenAPI 3 document of all of the above |
//!
//! Who is asking comes from a bearer token ([`auth`]); the core decides what they may do.

pub mod auth;
pub mod error;
pub mod orgs;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};
use support_access_core::checkpoint::{PublicKey, SigningKey};
use support_access_core::{apply_bytes, Actor, Policy, Resource, Timestamp};
use support_access_store::{host_clock, Location, Now};

use crate::auth::Tokens;
use crate::error::{status_of_code, ApiError};
use crate::orgs::{Org, Orgs};

/// Clusters and grants: Atlas's versioned media type.
pub const CLUSTERS_TYPE: &str = "application/vnd.atlas.2024-08-05+json";
/// Org settings: Atlas's versioned media type.
pub const SETTINGS_TYPE: &str = "application/vnd.atlas.2023-01-01+json";
/// The most a request body may hold.
pub const MAX_BODY: usize = 1 << 20;

/// What a replica needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (loopback by default).
    pub listen: SocketAddr,
    /// The record store.
    pub store: Location,
    /// The tokens file (reloaded on SIGHUP).
    pub tokens: PathBuf,
    /// The key that signs checkpoints of each organization's head; none, no checkpoints.
    pub signing_key: Option<SigningKey>,
    /// Web origins (`http://host:port`) whose pages may call the service from a browser
    /// (CORS); none, same-origin only.
    pub allow_origins: Vec<String>,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<u16, u64>>,
    decisions: AtomicU64,
    appends: AtomicU64,
}

/// One replica's state.
#[derive(Debug)]
pub struct App {
    orgs: Orgs,
    tokens: RwLock<Tokens>,
    tokens_path: PathBuf,
    metrics: Metrics,
    /// Set when shutdown begins, so that event streams and signers end and the server can stop.
    stopping: Arc<AtomicBool>,
    /// The public key checkpoints are signed with.
    public_key: Option<PublicKey>,
    allow_origins: Vec<HeaderValue>,
}

type Shared = Arc<App>;

impl App {
    /// A replica on `config`'s store, with its tokens loaded.
    pub fn new(config: &Config) -> Result<Shared, String> {
        let stopping = Arc::new(AtomicBool::new(false));
        Ok(Arc::new(App {
            orgs: Orgs::new(
                config.store.clone(),
                config.signing_key.clone(),
                Arc::clone(&stopping),
            ),
            tokens: RwLock::new(Tokens::load(&config.tokens)?),
            tokens_path: config.tokens.clone(),
            metrics: Metrics::default(),
            stopping,
            public_key: config.signing_key.as_ref().map(|k| k.public_key().clone()),
            allow_origins: config
                .allow_origins
                .iter()
                .map(|o| origin(o))
                .collect::<Result<_, _>>()?,
        }))
    }

    /// Reads the tokens file again; a bad file keeps the old tokens.
    pub fn reload_tokens(&self) -> Result<(), String> {
        let t = Tokens::load(&self.tokens_path)?;
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = t;
        Ok(())
    }

    /// The actor a request speaks for in `org`: 401 without a known token, 403 when the token
    /// has no roles there.
    fn actor(&self, headers: &HeaderMap, org: &str) -> Result<Actor, ApiError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "a bearer token is required (Authorization: Bearer TOKEN)",
                )
            })?;
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        let holder = tokens.holder(token).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "unknown token")
        })?;
        holder.actor(org).ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                format!("{} holds no roles in organization {org}", holder.id),
            )
            .with(org)
        })
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL",
            "the request's work stopped unexpectedly; nothing was acknowledged",
        ))
    })
}

/// A request body: bounded, and of one of the accepted media types.
fn body(
    headers: &HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
    versioned: &str,
) -> Result<Bytes, ApiError> {
    let bytes = bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                format!("request bodies hold at most {MAX_BODY} bytes"),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_INPUT", e.body_text())
        }
    })?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match kind.as_deref() {
        Some(k) if k == versioned || k == "application/json" => Ok(bytes),
        None if bytes.is_empty() => Ok(bytes),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!(
                "Content-Type {} is not accepted; send {versioned} or application/json",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// Refuses an `Accept` that allows neither the versioned type nor JSON.
fn accepts(headers: &HeaderMap, versioned: &str) -> Result<(), ApiError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let ok = accept.split(',').any(|t| {
        let t = t
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        t == versioned || t == "application/json" || t == "*/*" || t == "application/*"
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            format!("this operation answers with {versioned}"),
        ))
    }
}

fn typed(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_body(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_INPUT",
            "the body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_INPUT",
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )),
    }
}

// ----- the Atlas Admin API -----

fn settings_json(p: &Policy) -> String {
    json!({
        "apiAccessListRequired": false,
        "genAIFeaturesEnabled": true,
        "multiFactorAuthRequired": false,
        "restrictEmployeeAccess": p.restrict_employee_access(),
        "streamsCrossGroupEnabled": false,
    })
    .to_string()
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn cluster_json(p: &Policy, name: &str, now: Timestamp, base: &str) -> Option<Value> {
    let c = p.cluster(name)?;
    let href = format!(
        "{base}/api/atlas/v2/groups/{}/clusters/{}",
        c.project_id, c.name
    );
    let mut v = json!({
        "clusterType": match c.kind {
            support_access_core::ClusterKind::Dedicated => "REPLICASET",
            other => other.as_str(),
        },
        "groupId": c.project_id,
        "links": [{"href": href, "rel": "self"}],
        "name": c.name,
        "paused": false,
        "stateName": "IDLE",
    });
    if let Some(g) = c.active_grant(now) {
        v["mongoDBEmployeeAccessGrant"] = json!({
            "expirationTime": g.expiration_time.to_string(),
            "grantType": g.grant_type.as_str(),
            "links": [{"href": href, "rel": "self"}],
        });
    }
    Some(v)
}

async fn get_settings(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    accepts(&headers, SETTINGS_TYPE)?;
    app.actor(&headers, &org)?;
    let body = blocking(move || {
        let o = app.orgs.get(&org)?;
        Ok(o.follower.read(settings_json))
    })
    .await?;
    Ok(typed(StatusCode::OK, SETTINGS_TYPE, body))
}

async fn patch_settings(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    accepts(&headers, SETTINGS_TYPE)?;
    let actor = app.actor(&headers, &org)?;
    let fields = json_body(&body(&headers, bytes, SETTINGS_TYPE)?)?;
    let mut restrict = None;
    for (k, v) in &fields {
        match (k.as_str(), v) {
            ("restrictEmployeeAccess", Value::Bool(b)) => restrict = Some(*b),
            ("restrictEmployeeAccess", _) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_INPUT",
                    "`restrictEmployeeAccess` must be a boolean",
                ))
            }
            (other, _) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_INPUT",
                    format!("this service keeps only `restrictEmployeeAccess`; `{other}` cannot be set here"),
                )
                .with(other))
            }
        }
    }
    let body = blocking(move || {
        let o = app.orgs.get(&org)?;
        if let Some(on) = restrict {
            let ev = write(&app, &o, |p, now| p.set_restriction(&actor, on, now))??;
            o.settle(ev.seq);
        }
        Ok(o.follower.read(settings_json))
    })
    .await?;
    Ok(typed(StatusCode::OK, SETTINGS_TYPE, body))
}

/// A mutation through this replica's writer, compare-and-set on the shared head.
fn write<T>(app: &App, o: &Org, f: impl FnMut(&mut Policy, Timestamp) -> T) -> Result<T, ApiError> {
    let mut w = o.writer.lock().unwrap_or_else(|e| e.into_inner());
    let before = w.stats().appends;
    let out = w.write(Now::Clock, f)?;
    app.metrics
        .appends
        .fetch_add(w.stats().appends - before, Ordering::Relaxed);
    Ok(out)
}

/// The organization holding the group, and the actor the request speaks for there.
fn group_org(app: &App, headers: &HeaderMap, group: &str) -> Result<(Arc<Org>, Actor), ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "PROJECT_NOT_FOUND",
            format!("project (group) `{group}` not found"),
        )
        .with(group)
    };
    let (org, o) = app.orgs.of_group(group)?.ok_or_else(not_found)?;
    // A token without roles in the group's organization learns nothing about it.
    let actor = app.actor(headers, &org).map_err(|e| {
        if e.status == StatusCode::FORBIDDEN {
            not_found()
        } else {
            e
        }
    })?;
    Ok((o, actor))
}

/// A read of a group's clusters: the media type and token checked, then `f` on the follower's
/// cache of the group's organization, at the replica's clock, with the base URL for links.
async fn read_group(
    app: Shared,
    headers: HeaderMap,
    group: String,
    f: impl FnOnce(&Policy, &str, Timestamp, &str) -> Result<String, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    accepts(&headers, CLUSTERS_TYPE)?;
    authenticated(&app, &headers)?;
    let base = base_url(&headers);
    let body = blocking(move || {
        let (o, _) = group_org(&app, &headers, &group)?;
        let now = host_clock();
        o.follower.read(|p| f(p, &group, now, &base))
    })
    .await?;
    Ok(typed(StatusCode::OK, CLUSTERS_TYPE, body))
}

async fn list_clusters(
    State(app): State<Shared>,
    Path(group): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_group(app, headers, group, |p, group, now, base| {
        let results: Vec<Value> = p
            .clusters()
            .filter(|c| c.project_id == group)
            .filter_map(|c| cluster_json(p, &c.name, now, base))
            .collect();
        Ok(json!({
            "links": [{"href": format!("{base}/api/atlas/v2/groups/{group}/clusters"), "rel": "self"}],
            "totalCount": results.len(),
            "results": results,
        })
        .to_string())
    })
    .await
}

/// 401 before anything else is looked up.
fn authenticated(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    match app.actor(headers, "") {
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(e),
        _ => Ok(()),
    }
}

fn cluster_not_found(name: &str) -> ApiError {
    ApiError::from(support_access_core::Error::ClusterNotFound {
        name: String::from(name),
    })
    .with(name)
}

/// One cluster of the group (the `POST` custom methods are [`cluster_action`]).
async fn get_cluster(
    State(app): State<Shared>,
    Path((group, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_group(app, headers, group, move |p, group, now, base| {
        p.cluster(&name)
            .filter(|c| c.project_id == group)
            .and_then(|_| cluster_json(p, &name, now, base))
            .map(|v| v.to_string())
            .ok_or_else(|| cluster_not_found(&name))
    })
    .await
}

async fn cluster_action(
    State(app): State<Shared>,
    Path((group, target)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (name, action) = match target.rsplit_once(':') {
        Some((n, a @ ("grantMongoDBEmployeeAccess" | "revokeMongoDBEmployeeAccess"))) => {
            (String::from(n), a == "grantMongoDBEmployeeAccess")
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("no operation `POST …/clusters/{target}`"),
            ))
        }
    };
    authenticated(&app, &headers)?;
    let grant = if action {
        let fields = json_body(&body(&headers, bytes, CLUSTERS_TYPE)?)?;
        for key in fields.keys() {
            if key != "grantType" && key != "expirationTime" && key != "links" {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_INPUT",
                    format!("unknown field `{key}` in EmployeeAccessGrant"),
                )
                .with(key.as_str()));
            }
        }
        for key in ["grantType", "expirationTime"] {
            if !fields.contains_key(key) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_INPUT",
                    format!("EmployeeAccessGrant needs `{key}`"),
                )
                .with(key));
            }
        }
        let mut g = fields;
        g.remove("links");
        Some(support_access_core::atlas::parse_atlas_grant(
            &Value::Object(g),
        )?)
    } else {
        body(&headers, bytes, CLUSTERS_TYPE)?;
        None
    };
    blocking(move || {
        let (o, actor) = group_org(&app, &headers, &group)?;
        let in_group = o
            .follower
            .read(|p| p.cluster(&name).map(|c| c.project_id == group));
        if in_group == Some(false) {
            return Err(cluster_not_found(&name));
        }
        let ev = write(&app, &o, |p, now| match grant {
            Some(g) => p.grant(&actor, &name, g.grant_type, now, Some(g.expiration_time)),
            None => p.revoke(&actor, &name, now),
        })??;
        o.settle(ev.seq);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- the project's own API -----

/// Ops whose actor is the token's.
const ACTOR_OPS: &[&str] = &[
    "setRestriction",
    "addProject",
    "removeProject",
    "addCluster",
    "removeCluster",
    "grant",
    "revoke",
];

/// Ops whose `now` defaults to the replica's clock (never behind the record's head).
const NOW_OPS: &[&str] = &[
    "setRestriction",
    "addProject",
    "removeProject",
    "addCluster",
    "removeCluster",
    "grant",
    "revoke",
    "expireDue",
    "evaluate",
    "remaining",
    "beginLogDownload",
    "continueLogDownload",
    "finishLogDownload",
    "describe",
];

async fn command(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = app.actor(&headers, &org)?;
    let mut cmd = json_body(&body(&headers, bytes, "application/json")?)?;
    if cmd.contains_key("actor") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_INPUT",
            "a command names no `actor`: it is the bearer token's",
        ));
    }
    let op = cmd
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if op == "replay" || op == "loadAtlas" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_INPUT",
            format!("`{op}` would replace or bypass the stored history; the record is append-only (use the Atlas operations or the CLI)"),
        ));
    }
    if ACTOR_OPS.contains(&op.as_str()) {
        let roles: Vec<Value> = actor
            .roles
            .iter()
            .map(|r| match r.project_id() {
                Some(p) => json!({"role": r.name().as_str(), "projectId": p}),
                None => json!({"role": r.name().as_str()}),
            })
            .collect();
        cmd.insert(
            String::from("actor"),
            json!({"id": actor.id, "roles": roles}),
        );
    }
    let default_now = NOW_OPS.contains(&op.as_str()) && !cmd.contains_key("now");
    let out = blocking(move || {
        let o = app.orgs.get(&org)?;
        let result = write(&app, &o, |p, now| {
            if default_now {
                cmd.insert(String::from("now"), Value::from(now.millis()));
            }
            let text = Value::Object(cmd.clone()).to_string();
            apply_bytes(p, text.as_bytes())
        })?;
        // Read-your-writes: the read cache holds what this command stored before it answers.
        let head = o.writer.lock().unwrap_or_else(|e| e.into_inner()).head();
        o.settle(head);
        if op == "evaluate" || op == "evaluateMany" {
            app.metrics.decisions.fetch_add(1, Ordering::Relaxed);
        }
        Ok(result)
    })
    .await?;
    let status = if out.starts_with("{\"ok\"") {
        StatusCode::OK
    } else {
        let code = serde_json::from_str::<Value>(&out)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(String::from))
            .unwrap_or_default();
        status_of_code(&code)
    };
    Ok(typed(status, "application/json", out))
}

async fn decision(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    app.actor(&headers, &org)?;
    let need = |k: &str| {
        q.get(k).cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_INPUT",
                format!("query parameter `{k}` is required"),
            )
            .with(k)
        })
    };
    let cluster = need("cluster")?;
    let resource = Resource::parse(&need("resource")?)?;
    let at = match q.get("at") {
        None => None,
        Some(t) => Some(match t.parse::<i64>() {
            Ok(ms) => Timestamp::from_millis(ms)?,
            Err(_) => Timestamp::parse_rfc3339(t)?,
        }),
    };
    // The hot path: an open organization answers from its cache on this thread (a read lock
    // and an in-memory evaluation); only the first request opens it, off the async threads.
    let o = match app.orgs.cached(&org) {
        Some(o) => o,
        None => {
            let a = Arc::clone(&app);
            blocking(move || Ok(a.orgs.get(&org)?)).await?
        }
    };
    let d = o.follower.read(|p| match at {
        Some(at) => p.evaluate_at(&cluster, resource, at),
        None => p.evaluate(&cluster, resource, host_clock()),
    })?;
    app.metrics.decisions.fetch_add(1, Ordering::Relaxed);
    let body = serde_json::to_string(&d).expect("decisions serialize");
    Ok(typed(StatusCode::OK, "application/json", body))
}

async fn record(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    app.actor(&headers, &org)?;
    let since = match q.get("since") {
        None => 0,
        Some(s) => s.parse::<usize>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_INPUT",
                "`since` must be a seq (a non-negative integer)",
            )
        })?,
    };
    let body = blocking(move || {
        let o = app.orgs.get(&org)?;
        Ok(o.follower.read(|p| {
            let mut out = String::new();
            for l in p.record().lines().skip(since) {
                out.push_str(l);
                out.push('\n');
            }
            out
        }))
    })
    .await?;
    Ok(typed(StatusCode::OK, "application/x-ndjson", body))
}

/// One Server-Sent Event per recorded event (`event: event`, `id` = its seq, `data` = its
/// line), from the client's `Last-Event-ID` (or the start) on, then each new one as this
/// replica's cache sees it; with a signing key, also `event: checkpoint` (no `id`, so resuming
/// is unaffected; `data` = the checkpoint's seven lines) each time a newer checkpoint covers
/// what the client has. A stream ends when the server stops.
async fn events(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.actor(&headers, &org)?;
    let from = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_INPUT",
                    "`Last-Event-ID` must be a seq",
                )
            })
        })
        .transpose()?
        .unwrap_or(0);
    let a = Arc::clone(&app);
    let o = blocking(move || Ok(a.orgs.get(&org)?)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(256);
    tokio::task::spawn_blocking(move || {
        let mut next = from;
        let mut vouched = 0;
        while !app.stopping.load(Ordering::Relaxed) && !tx.is_closed() {
            let lines: Vec<String> = o.follower.read(|p| {
                p.record()
                    .lines()
                    .skip(next as usize)
                    .map(String::from)
                    .collect()
            });
            for line in lines {
                next += 1;
                let e = Event::default()
                    .id(next.to_string())
                    .event("event")
                    .data(line);
                if tx.blocking_send(e).is_err() {
                    return;
                }
            }
            // The latest checkpoint, once the client holds the event it vouches for.
            if let Some(c) = o.signer.as_ref().map(|s| s.latest()) {
                if c.seq() <= next && c.seq() > vouched {
                    vouched = c.seq();
                    let text = c.to_text();
                    let e = Event::default().event("checkpoint").data(text.trim_end());
                    if tx.blocking_send(e).is_err() {
                        return;
                    }
                }
            }
            o.follower
                .wait_for(next + 1, std::time::Duration::from_millis(500));
        }
    });
    let stream =
        tokio_stream::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), |e| {
            Ok::<_, std::convert::Infallible>(e)
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn no_key() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NO_CHECKPOINT_KEY",
        "this replica signs no checkpoints: start it with `serve --key KEYFILE`",
    )
}

/// The latest checkpoint of the organization's head (SPEC §9's text, seven lines), ready to be
/// appended to a checkpoints file that `support-access verify --checkpoints` reads.
async fn checkpoint(
    State(app): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.actor(&headers, &org)?;
    if app.public_key.is_none() {
        return Err(no_key());
    }
    let text = blocking(move || {
        let o = app.orgs.get(&org)?;
        Ok(o.signer.as_ref().map(|s| s.latest().to_text()))
    })
    .await?
    .ok_or_else(no_key)?;
    Ok(typed(StatusCode::OK, "text/plain; charset=utf-8", text))
}

/// The public key checkpoints are signed with (its text form). Public by nature; an auditor
/// pins it once, out of band, rather than trusting each fetch.
async fn checkpoint_key(State(app): State<Shared>) -> Result<Response, ApiError> {
    let key = app.public_key.as_ref().ok_or_else(no_key)?;
    Ok(typed(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        format!("{key}\n"),
    ))
}

/// The OpenAPI 3 document: the Atlas excerpt (docs/atlas/) plus this service's own paths,
/// generated by `openapi/generate.py`.
pub const OPENAPI: &str = include_str!("../openapi/openapi.json");

async fn openapi() -> Response {
    typed(StatusCode::OK, "application/json", String::from(OPENAPI))
}

async fn healthz() -> Response {
    typed(
        StatusCode::OK,
        "application/json",
        String::from("{\"status\":\"ok\"}"),
    )
}

async fn metrics(State(app): State<Shared>) -> Response {
    let mut out = String::from("# TYPE support_access_requests_total counter\n");
    for (code, n) in app
        .metrics
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        out.push_str(&format!(
            "support_access_requests_total{{code=\"{code}\"}} {n}\n"
        ));
    }
    out.push_str(&format!(
        "# TYPE support_access_decisions_total counter\nsupport_access_decisions_total {}\n",
        app.metrics.decisions.load(Ordering::Relaxed)
    ));
    out.push_str(&format!(
        "# TYPE support_access_appends_total counter\nsupport_access_appends_total {}\n",
        app.metrics.appends.load(Ordering::Relaxed)
    ));
    let orgs = app.orgs.opened();
    out.push_str("# TYPE support_access_checkpoints_signed_total counter\n");
    for (name, o) in &orgs {
        if let Some(s) = &o.signer {
            out.push_str(&format!(
                "support_access_checkpoints_signed_total{{org=\"{name}\"}} {}\n",
                s.signed()
            ));
        }
    }
    out.push_str("# TYPE support_access_append_conflicts_total counter\n");
    for (name, o) in &orgs {
        let conflicts = o.writer.lock().map_or(0, |w| w.stats().conflicts);
        out.push_str(&format!(
            "support_access_append_conflicts_total{{org=\"{name}\"}} {conflicts}\n"
        ));
    }
    // Events this replica's writer has seen that its read cache has not (yet).
    out.push_str("# TYPE support_access_follower_lag_events gauge\n");
    for (name, o) in &orgs {
        let written = o.writer.lock().map_or(0, |w| w.head());
        let lag = written.saturating_sub(o.follower.head());
        out.push_str(&format!(
            "support_access_follower_lag_events{{org=\"{name}\"}} {lag}\n"
        ));
    }
    typed(StatusCode::OK, "text/plain; version=0.0.4", out)
}

async fn count(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    *app.metrics
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(r.status().as_u16())
        .or_default() += 1;
    r
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such operation")
}

/// A web origin for CORS: `http(s)://host[:port]`, nothing after it.
fn origin(text: &str) -> Result<HeaderValue, String> {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let ok = matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' ', '*']);
    match HeaderValue::from_str(text) {
        Ok(v) if ok => Ok(v),
        _ => Err(format!(
            "{text:?} is not a web origin: scheme://host[:port], e.g. http://127.0.0.1:8080"
        )),
    }
}

/// Browser pages of the allowed origins may call every route with a bearer token; the events
/// stream is read with `fetch` (an `EventSource` cannot send `Authorization`), resuming with
/// `Last-Event-ID`.
fn cors(origins: &[HeaderValue]) -> tower_http::cors::CorsLayer {
    use axum::http::Method;
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins.to_vec())
        .allow_methods([Method::GET, Method::POST, Method::PATCH])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("last-event-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// The routes, bound to a replica's state.
pub fn router(app: Shared) -> Router {
    let origins = app.allow_origins.clone();
    let routes = Router::new()
        .route(
            "/api/atlas/v2/orgs/{org}/settings",
            get(get_settings).patch(patch_settings),
        )
        .route("/api/atlas/v2/groups/{group}/clusters", get(list_clusters))
        .route(
            "/api/atlas/v2/groups/{group}/clusters/{cluster}",
            get(get_cluster).post(cluster_action),
        )
        .route("/v1/orgs/{org}/commands", post(command))
        .route("/v1/orgs/{org}/decision", get(decision))
        .route("/v1/orgs/{org}/record", get(record))
        .route("/v1/orgs/{org}/events", get(events))
        .route("/v1/orgs/{org}/checkpoint", get(checkpoint))
        .route("/v1/checkpoint-key", get(checkpoint_key))
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            count,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app);
    if origins.is_empty() {
        routes
    } else {
        routes.layer(cors(&origins))
    }
}

/// Serves until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = Arc::clone(&app);
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.stopping.store(true, Ordering::Relaxed);
        })
        .await
}

/// `support-access serve`: binds, serves, reloads the tokens on SIGHUP, stops gracefully on
/// SIGTERM or Ctrl-C. Blocks until then.
pub fn run(config: Config) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let app = App::new(&config)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        eprintln!(
            "support-access: serving {} on http://{}",
            config.store,
            listener.local_addr().map_err(|e| e.to_string())?
        );
        #[cfg(unix)]
        {
            let reload = Arc::clone(&app);
            tokio::spawn(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let Ok(mut hup) = signal(SignalKind::hangup()) else {
                    return;
                };
                while hup.recv().await.is_some() {
                    match reload.reload_tokens() {
                        Ok(()) => eprintln!("support-access: tokens reloaded"),
                        Err(e) => eprintln!("support-access: kept the old tokens: {e}"),
                    }
                }
            });
        }
        let shutdown = async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("support-access: stopping; requests in flight finish first");
        };
        serve(listener, app, shutdown)
            .await
            .map_err(|e| format!("serving failed: {e}"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_openapi_document_holds_every_operation_served() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let ops: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|p| p.as_object().unwrap().values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        for want in [
            "getOrgSettings",
            "updateOrgSettings",
            "listClusters",
            "getCluster",
            "grantMongoEmployeeAccess",
            "revokeMongoEmployeeAccess",
            "command",
            "decision",
            "record",
            "events",
            "checkpoint",
            "checkpointKey",
            "healthz",
            "metrics",
        ] {
            assert!(ops.contains(&want), "{want} missing from {ops:?}");
        }
        assert_eq!(doc["openapi"], "3.0.1");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
            "bearer"
        );
    }
}
