//! The JSON command interface of SPEC section 7: one command object in, one result object out.
//! Every front end exposes exactly this, so its bytes must be deterministic: results are written
//! by `serde_json` from fixed structs (keys in declaration order), events as their record lines.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::atlas::{AtlasClusters, AtlasGrant};
#[cfg(feature = "sign")]
use crate::checkpoint::SigningKey;
use crate::checkpoint::{Checkpoint, PublicKey};
use crate::decision::{Decision, Reason};
use crate::error::Error;
use crate::model::Resource;
use crate::policy::{Policy, Request};
use crate::record::Event;
use crate::wire::{parse_json, Fields, MAX_COMMAND_LEN};

#[derive(Serialize)]
struct Ok<T> {
    ok: T,
}

#[derive(Serialize)]
struct ErrBody<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
}

#[derive(Serialize)]
struct ErrWrap<'a> {
    error: ErrBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Remaining {
    remaining_ms: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordText {
    record: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Verified<'a> {
    events: u64,
    last_hash: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointOut<'a> {
    checkpoint: String,
    org_id: &'a str,
    seq: u64,
    hash: &'a str,
    at: crate::model::Timestamp,
    key_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyOut {
    public_key: String,
    key_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointsVerified<'a> {
    events: u64,
    last_hash: &'a str,
    verified_up_to: u64,
    key_ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterOut<'a> {
    name: &'a str,
    project_id: &'a str,
    kind: crate::model::ClusterKind,
    app_services_sync_enabled: bool,
    #[serde(rename = "mongoDBEmployeeAccessGrant")]
    grant: Option<AtlasGrant>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Describe<'a> {
    org_id: &'a str,
    restrict_employee_access: bool,
    max_grant_duration_ms: Option<i64>,
    projects: Vec<&'a str>,
    clusters: Vec<ClusterOut<'a>>,
    downloads_in_progress: Vec<&'a str>,
}

impl<'a> CheckpointOut<'a> {
    fn of(c: &'a Checkpoint) -> CheckpointOut<'a> {
        CheckpointOut {
            checkpoint: c.to_text(),
            org_id: c.org_id(),
            seq: c.seq(),
            hash: c.hash(),
            at: c.at(),
            key_id: c.key_id().to_hex(),
        }
    }
}

impl<'a> CheckpointsVerified<'a> {
    fn of(v: &'a crate::checkpoint::Verified) -> CheckpointsVerified<'a> {
        CheckpointsVerified {
            events: v.events,
            last_hash: &v.last_hash,
            verified_up_to: v.verified_up_to,
            key_ids: v.key_ids.iter().map(|k| k.to_hex()).collect(),
        }
    }
}

/// A checkpoint as JSON: `{"checkpoint":TEXT,"orgId":…,"seq":…,"hash":…,"at":…,"keyId":…}`,
/// the `ok` of the `checkpoint` command. For front ends whose checkpoint objects show fields.
pub fn checkpoint_json(c: &Checkpoint) -> String {
    to_json(&CheckpointOut::of(c))
}

/// What verifying against checkpoints found, as JSON: the `ok` of `verifyCheckpoints`
/// (`{"events":…,"lastHash":…,"verifiedUpTo":…,"keyIds":[…]}`).
pub fn checkpoints_verified_json(v: &crate::checkpoint::Verified) -> String {
    to_json(&CheckpointsVerified::of(v))
}

/// A checkpoints file's checkpoints as JSON: `[…]` of [`checkpoint_json`] each, in order.
pub fn checkpoints_json(all: &[Checkpoint]) -> String {
    to_json(&all.iter().map(CheckpointOut::of).collect::<Vec<_>>())
}

/// A public key as JSON: `{"publicKey":TEXT,"keyId":…}`, the `ok` of the `publicKey` command,
/// for a front end that reads a key from its text (the browser package, which does not sign).
pub fn public_key_json(k: &PublicKey) -> String {
    to_json(&PublicKeyOut {
        public_key: k.to_text(),
        key_id: k.key_id().to_hex(),
    })
}

/// A record that replayed, as JSON: `{"events":…,"lastHash":…}`, the `ok` of `verifyRecord`,
/// for a front end that verifies a record outside a command (no 32 MiB command limit).
pub fn record_verified_json(p: &Policy) -> String {
    to_json(&Verified {
        events: p.record().len() as u64,
        last_hash: p.record().last_hash(),
    })
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("results always serialize")
}

fn ok<T: Serialize>(v: T) -> String {
    to_json(&Ok { ok: v })
}

fn ok_event(e: &Event) -> String {
    format!("{{\"ok\":{}}}", e.json())
}

/// The result JSON for an error: `{"error":{"code":…,"message":…}}`, plus `seq` for
/// `RECORD_TAMPERED` and `reason` for `ACCESS_DENIED`.
pub fn error_json(e: &Error) -> String {
    let message = format!("{e}");
    to_json(&ErrWrap {
        error: ErrBody {
            code: e.code().as_str(),
            message: &message,
            seq: e.seq(),
            reason: e.reason(),
        },
    })
}

/// The result JSON of a call a front end answers outside a command (reading a checkpoint or a
/// key, verifying a record), written as a command's is: `{"ok":…}` around what `payload` writes
/// of the value, or [`error_json`] of the error. So a binding that answers in JSON text (the
/// browser package) matches on nothing itself.
pub fn result_json<T>(r: Result<T, Error>, payload: impl FnOnce(&T) -> String) -> String {
    match r {
        Result::Ok(v) => format!("{{\"ok\":{}}}", payload(&v)),
        Err(e) => error_json(&e),
    }
}

/// Runs one SPEC §7 command against a policy and returns the result JSON. Never panics on any
/// input; a failed command leaves the policy and its record exactly as they were.
pub fn apply(policy: &mut Policy, command: &str) -> String {
    match run(policy, command) {
        Result::Ok(s) => s,
        Err(e) => error_json(&e),
    }
}

/// [`apply`] for raw bytes (FFI, WebAssembly): invalid UTF-8 is `MALFORMED_INPUT`.
pub fn apply_bytes(policy: &mut Policy, command: &[u8]) -> String {
    apply_bytes_checked(policy, command).0
}

/// [`apply_bytes`], also giving the error an error result holds, so a front end that reports
/// errors out of band (C's status) never reads its own result JSON back.
pub fn apply_bytes_checked(policy: &mut Policy, command: &[u8]) -> (String, Option<Error>) {
    let run = core::str::from_utf8(command)
        .map_err(|e| Error::command_not_utf8(e.valid_up_to()))
        .and_then(|s| run(policy, s));
    match run {
        Result::Ok(s) => (s, None),
        Err(e) => (error_json(&e), Some(e)),
    }
}

/// Creates a policy from options JSON, or returns the error result JSON.
pub fn new_policy_json(options: &str) -> Result<Policy, String> {
    Policy::from_options_json(options).map_err(|e| error_json(&e))
}

fn run(p: &mut Policy, text: &str) -> Result<String, Error> {
    if text.len() > MAX_COMMAND_LEN {
        return Err(Error::command_too_long());
    }
    let v = parse_json(text)?;
    let op = {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::malformed("a command must be a JSON object"))?;
        let op = obj
            .get("op")
            .ok_or_else(|| Error::malformed("missing field `op` in command"))?;
        op.as_str()
            .ok_or_else(|| Error::malformed("field `op` in command must be a string"))?
    };
    let fields = |allowed: &[&str]| -> Result<Fields<'_>, Error> {
        let mut all = Vec::with_capacity(allowed.len() + 1);
        all.push("op");
        all.extend_from_slice(allowed);
        Fields::new(&v, op, &all)
    };
    Ok(match op {
        "setRestriction" => {
            let f = fields(&["actor", "restrictEmployeeAccess", "now"])?;
            let (actor, r, now) = (
                f.actor("actor")?,
                f.bool("restrictEmployeeAccess")?,
                f.time("now")?,
            );
            ok_event(&p.set_restriction(&actor, r, now)?)
        }
        "addProject" | "removeProject" => {
            let f = fields(&["actor", "projectId", "now"])?;
            let (actor, project, now) = (f.actor("actor")?, f.id("projectId")?, f.time("now")?);
            if op == "addProject" {
                ok_event(&p.add_project(&actor, project, now)?)
            } else {
                ok_event(&p.remove_project(&actor, project, now)?)
            }
        }
        "addCluster" => {
            let f = fields(&[
                "actor",
                "projectId",
                "name",
                "kind",
                "appServicesSyncEnabled",
                "now",
            ])?;
            let actor = f.actor("actor")?;
            let project = f.id("projectId")?;
            let name = f.cluster("name")?;
            let kind = match f.opt("kind") {
                Some(_) => f.enum_("kind", crate::model::ClusterKind::parse)?,
                None => crate::model::ClusterKind::Dedicated,
            };
            let sync = f.opt_bool("appServicesSyncEnabled")?.unwrap_or(false);
            let now = f.time("now")?;
            ok_event(&p.add_cluster(&actor, project, name, kind, sync, now)?)
        }
        "removeCluster" => {
            let f = fields(&["actor", "name", "now"])?;
            let (actor, name, now) = (f.actor("actor")?, f.cluster("name")?, f.time("now")?);
            ok_event(&p.remove_cluster(&actor, name, now)?)
        }
        "grant" => {
            let f = fields(&["actor", "cluster", "grantType", "now", "expirationTime"])?;
            let actor = f.actor("actor")?;
            let cluster = f.cluster("cluster")?;
            let grant_type = f.enum_("grantType", crate::model::GrantType::parse)?;
            let now = f.time("now")?;
            let expiration = f.opt_time("expirationTime")?;
            ok_event(&p.grant(&actor, cluster, grant_type, now, expiration)?)
        }
        "revoke" => {
            let f = fields(&["actor", "cluster", "now"])?;
            let (actor, cluster, now) = (f.actor("actor")?, f.cluster("cluster")?, f.time("now")?);
            ok_event(&p.revoke(&actor, cluster, now)?)
        }
        "expireDue" => {
            let f = fields(&["now"])?;
            let events = p.expire_due(f.time("now")?)?;
            let mut out = String::from("{\"ok\":[");
            for (i, e) in events.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(e.json());
            }
            out.push_str("]}");
            out
        }
        "evaluate" => {
            let f = fields(&["cluster", "resource", "now"])?;
            let (cluster, resource, now) = (
                f.cluster("cluster")?,
                f.enum_("resource", Resource::parse)?,
                f.time("now")?,
            );
            ok(p.evaluate(cluster, resource, now)?)
        }
        "evaluateMany" => {
            let f = fields(&["requests"])?;
            let raw = f.array("requests")?;
            let mut reqs = Vec::with_capacity(raw.len());
            for r in raw {
                let rf = Fields::new(r, "evaluateMany request", &["cluster", "resource", "now"])?;
                reqs.push(Request {
                    cluster: rf.str("cluster")?,
                    resource: rf.enum_("resource", Resource::parse)?,
                    now: rf.time("now")?,
                });
            }
            let mut out: Vec<Decision> = Vec::with_capacity(reqs.len());
            p.evaluate_many(&reqs, &mut out);
            ok(out)
        }
        "evaluateAt" => {
            let f = fields(&["cluster", "resource", "at"])?;
            let (cluster, resource, at) = (
                f.cluster("cluster")?,
                f.enum_("resource", Resource::parse)?,
                f.time("at")?,
            );
            ok(p.evaluate_at(cluster, resource, at)?)
        }
        "remaining" => {
            let f = fields(&["cluster", "now"])?;
            let (cluster, now) = (f.cluster("cluster")?, f.time("now")?);
            ok(Remaining {
                remaining_ms: p.remaining(cluster, now)?,
            })
        }
        "beginLogDownload" => {
            let f = fields(&["cluster", "resource", "now"])?;
            let (cluster, resource, now) = (
                f.cluster("cluster")?,
                f.enum_("resource", Resource::parse)?,
                f.time("now")?,
            );
            let e = p.begin_log_download(cluster, resource, now)?;
            let crate::record::EventKind::EmployeeDownloadedClusterLogs { download_id, .. } =
                &e.kind
            else {
                unreachable!("begin_log_download records a download event")
            };
            format!(
                "{{\"ok\":{{\"downloadId\":{},\"event\":{}}}}}",
                to_json(download_id),
                e.json()
            )
        }
        "continueLogDownload" => {
            let f = fields(&["downloadId", "now"])?;
            let (id, now) = (f.id("downloadId")?, f.time("now")?);
            ok(p.continue_log_download(id, now)?)
        }
        "finishLogDownload" => {
            let f = fields(&["downloadId", "now"])?;
            let (id, now) = (f.id("downloadId")?, f.time("now")?);
            ok_event(&p.finish_log_download(id, now)?)
        }
        "exportRecord" => {
            fields(&[])?;
            ok(RecordText {
                record: p.export_record(),
            })
        }
        "verifyRecord" => {
            let f = fields(&["record"])?;
            let checked = crate::replay::replay(f.str("record")?)?;
            ok(Verified {
                events: checked.record().len() as u64,
                last_hash: checked.record().last_hash(),
            })
        }
        "replay" => {
            let f = fields(&["record"])?;
            let rebuilt = crate::replay::replay(f.str("record")?)?;
            p.replace_with(rebuilt);
            ok(Verified {
                events: p.record().len() as u64,
                last_hash: p.record().last_hash(),
            })
        }
        #[cfg(feature = "sign")]
        "publicKey" => {
            let f = fields(&["signingKey"])?;
            let key = signing_key(&f, op)?;
            ok(PublicKeyOut {
                public_key: key.public_key().to_text(),
                key_id: key.key_id().to_hex(),
            })
        }
        #[cfg(feature = "sign")]
        "checkpoint" => {
            let f = fields(&["signingKey", "now"])?;
            let key = signing_key(&f, op)?;
            let c = p.checkpoint(f.time("now")?, &key)?;
            ok(CheckpointOut::of(&c))
        }
        "verifyCheckpoints" => {
            let f = fields(&["record", "checkpoints", "trustedKeys"])?;
            let record = f.str("record")?;
            let checkpoints = texts(&f, op, "checkpoints", Checkpoint::parse)?;
            let trusted = texts(&f, op, "trustedKeys", PublicKey::parse)?;
            let v = crate::checkpoint::verify_checkpoints(record, &checkpoints, &trusted)?;
            ok(CheckpointsVerified::of(&v))
        }
        "loadAtlas" => {
            let f = fields(&["orgSettings", "clusters", "now"])?;
            // A list or a listClusters page, unwrapped before `now` is read: a bad `clusters`
            // is the error named first.
            let settings = f.req("orgSettings")?;
            let clusters = AtlasClusters::from(f.req("clusters")?).descriptions()?;
            let now = f.opt_time("now")?;
            ok(p.load_atlas_at(settings, clusters, now)?)
        }
        "describe" => {
            let f = fields(&["now"])?;
            let now = f.time("now")?;
            ok(Describe {
                org_id: p.org_id(),
                restrict_employee_access: p.restrict_employee_access(),
                max_grant_duration_ms: p.max_grant_duration_ms(),
                projects: p.projects().collect(),
                clusters: p
                    .clusters()
                    .map(|c| ClusterOut {
                        name: &c.name,
                        project_id: &c.project_id,
                        kind: c.kind,
                        app_services_sync_enabled: c.app_services_sync_enabled,
                        grant: c.active_grant(now),
                    })
                    .collect(),
                downloads_in_progress: p.downloads_in_progress().collect(),
            })
        }
        other => {
            return Err(Error::UnknownOp {
                op: crate::error::clip(other),
            })
        }
    })
}

/// Reads `signingKey`; the error names the field and never repeats the secret.
#[cfg(feature = "sign")]
fn signing_key(f: &Fields<'_>, op: &str) -> Result<SigningKey, Error> {
    SigningKey::parse(f.str("signingKey")?).map_err(|e| in_field(e, "signingKey", op))
}

/// Reads an array of texts (checkpoints, public keys), naming the item that is wrong.
fn texts<T>(
    f: &Fields<'_>,
    op: &str,
    name: &str,
    parse: fn(&str) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let items = f.array(name)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let item = format!("{name}[{i}]");
        let Some(text) = v.as_str() else {
            return Err(Error::malformed(format!(
                "`{item}` in {op} must be a string, not {}",
                crate::wire::type_name(v)
            )));
        };
        out.push(parse(text).map_err(|e| in_field(e, &item, op))?);
    }
    Ok(out)
}

/// Puts a field's name in front of a parse error: `` `checkpoints[1]` in verifyCheckpoints is
/// not a checkpoint: … ``.
fn in_field(e: Error, field: &str, op: &str) -> Error {
    match e {
        Error::MalformedInput { detail } => {
            Error::malformed(format!("`{field}` in {op} is {detail}"))
        }
        other => other,
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::{Resource, Timestamp};
    use crate::policy::PolicyOptions;

    /// A log download's checks come in the command's order: a bad name before a resource
    /// that is no log, so the typed call and the command refuse alike.
    #[test]
    fn log_download_checks_the_name_first() {
        let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
        let typed = p.begin_log_download("bad name", Resource::Infrastructure, Timestamp::EPOCH);
        assert_eq!(typed.unwrap_err().code(), ErrorCode::InvalidClusterName);
        let command =
            r#"{"op":"beginLogDownload","cluster":"bad name","resource":"INFRASTRUCTURE","now":0}"#;
        let answer = apply(&mut p, command);
        assert!(answer.contains("\"INVALID_CLUSTER_NAME\""), "{answer}");
        let typed = p.begin_log_download("C0", Resource::Infrastructure, Timestamp::EPOCH);
        assert_eq!(typed.unwrap_err().code(), ErrorCode::InvalidEnumValue);
        assert_eq!(p.record().len(), 1);
    }

    /// A journaled savepoint returns across the replay command, which replaces the whole
    /// policy (a store's writer may run it, then lose the race for the head).
    #[test]
    fn journaled_rollback_across_a_replay() {
        let owner = crate::model::Actor::org_owner("alice").unwrap();
        let mut other = Policy::new(PolicyOptions::new("org")).unwrap();
        other.add_project(&owner, "q", Timestamp::EPOCH).unwrap();
        let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
        p.add_project(&owner, "p", Timestamp::EPOCH).unwrap();
        let before = p.clone();
        let sp = p.journaled_savepoint();
        let command = serde_json::json!({"op": "replay", "record": other.export_record()});
        let answer = apply(&mut p, &serde_json::to_string(&command).unwrap());
        assert!(answer.starts_with("{\"ok\""), "{answer}");
        assert_eq!(p, other);
        p.rollback(sp).unwrap();
        assert_eq!(p, before);
        assert_eq!(p.projects().collect::<Vec<_>>(), ["p"]);
        // A copy of the state holds no record to bring back: refused, and nothing changes.
        let sp = p.savepoint();
        apply(&mut p, &serde_json::to_string(&command).unwrap());
        let err = p.rollback(sp).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedInput);
        assert_eq!(p, other);
    }

    /// The result JSON a front end writes outside a command is the command's `ok`, byte for
    /// byte: `verifyRecord`, `publicKey`, and a checkpoints file as `checkpoint` shows each.
    #[cfg(feature = "sign")]
    #[test]
    fn outside_a_command_the_same_json_as_the_command() {
        let ok = |answer: String| String::from(&answer["{\"ok\":".len()..answer.len() - 1]);
        let owner = crate::model::Actor::org_owner("alice").unwrap();
        let mut p = Policy::new(PolicyOptions::new("org")).unwrap();
        p.add_project(&owner, "p", Timestamp::EPOCH).unwrap();
        let record = serde_json::to_string(&p.export_record()).unwrap();
        let verified = apply(
            &mut p,
            &format!(r#"{{"op":"verifyRecord","record":{record}}}"#),
        );
        assert_eq!(record_verified_json(&p), ok(verified));

        let key = SigningKey::from_seed_bytes(&[7; 32]).unwrap();
        let key_text = key.to_text();
        let public = apply(
            &mut p,
            &format!(r#"{{"op":"publicKey","signingKey":"{key_text}"}}"#),
        );
        assert_eq!(public_key_json(key.public_key()), ok(public.clone()));
        // And whole, answer or error, through result_json, as a command writes them.
        let answer = result_json(Result::Ok(key.public_key()), |k| public_key_json(k));
        assert_eq!(answer, public);
        let bad = PublicKey::parse("sa-ed25519-pub:00").unwrap_err();
        let refused = result_json(PublicKey::parse("sa-ed25519-pub:00"), public_key_json);
        assert_eq!(refused, error_json(&bad));
        assert!(refused.starts_with(r#"{"error":{"code":"MALFORMED_INPUT""#));

        let mut texts = String::new();
        let mut shown = Vec::new();
        for now in [1, 2] {
            let c = apply(
                &mut p,
                &format!(r#"{{"op":"checkpoint","signingKey":"{key_text}","now":{now}}}"#),
            );
            let c = ok(c);
            let fields: serde_json::Value = serde_json::from_str(&c).unwrap();
            texts.push_str(fields["checkpoint"].as_str().unwrap());
            shown.push(c);
        }
        let all = Checkpoint::parse_many(&texts).unwrap();
        assert_eq!(checkpoints_json(&all), format!("[{}]", shown.join(",")));
    }
}
