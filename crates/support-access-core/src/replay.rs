//! Verifying and replaying a record (SPEC section 5).
//!
//! There is one procedure for both: start from the `POLICY_CREATED` options, then feed each
//! event's operation back through the same typed API that wrote it and demand that the core
//! writes exactly the bytes of the record — the expiry sweeps it performs included. The first
//! line that differs, fails to parse or describes an operation the policy refuses is the
//! tampered `seq`. Hence replaying and then continuing writes the same bytes as never stopping,
//! and a record cannot smuggle in a grant that the rules would have refused.
//!
//! What a hash chain cannot show by itself is a record cut short at its end; anchor the head
//! ([`crate::record::Record::last_hash`], returned by verify) elsewhere to catch that.

use alloc::format;
use alloc::string::String;

use serde_json::Value;

use crate::error::Error;
#[cfg(feature = "std")]
use alloc::borrow::Cow;
#[cfg(feature = "std")]
use alloc::vec::Vec;

#[cfg(feature = "std")]
use crate::model::{Actor, Role, RoleName};
use crate::model::{ClusterKind, GrantType, Resource, Timestamp};
use crate::policy::{Policy, PolicyOptions};
use crate::record::{AtlasGrant, Event, EventKind, LoadedCluster, ReplacedGrant};
use crate::wire::{parse_actor, parse_time, Fields};

#[cfg(feature = "std")]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRole<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow, default)]
    project_id: Option<Cow<'a, str>>,
}

#[cfg(feature = "std")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    roles: Vec<RawRole<'a>>,
}

#[cfg(feature = "std")]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawReplaced<'a> {
    #[serde(borrow)]
    grant_type: Cow<'a, str>,
    #[serde(borrow)]
    expiration_time: Cow<'a, str>,
    #[serde(borrow)]
    granted_at: Cow<'a, str>,
}

/// Every field any event type has; which ones an event needs depends on its `type`. Typed and
/// borrowed rather than a `serde_json::Value`, because replaying a long record parses every line.
#[cfg(feature = "std")]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawEvent<'a> {
    seq: u64,
    #[serde(borrow)]
    at: Cow<'a, str>,
    #[serde(borrow)]
    actor: Option<RawActor<'a>>,
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    org_id: Option<Cow<'a, str>>,
    #[serde(default)]
    restrict_employee_access: Option<bool>,
    #[serde(default)]
    max_grant_duration_ms: Option<i64>,
    #[serde(borrow, default)]
    project_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    clusters_removed: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    cluster: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    app_services_sync_enabled: Option<bool>,
    #[serde(borrow, default)]
    grant_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    expiration_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    replaced: Option<RawReplaced<'a>>,
    #[serde(borrow, default)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    download_id: Option<Cow<'a, str>>,
    #[serde(default)]
    clusters: Option<Value>,
    #[serde(borrow)]
    prev: Cow<'a, str>,
    #[serde(borrow)]
    hash: Cow<'a, str>,
}

#[cfg(feature = "std")]
fn need<T>(v: Option<T>, field: &str) -> Result<T, Error> {
    v.ok_or_else(|| Error::malformed(format!("missing field `{field}` in event")))
}

#[cfg(feature = "std")]
fn text(v: Option<Cow<'_, str>>, field: &str) -> Result<String, Error> {
    need(v, field).map(Cow::into_owned)
}

/// Reads one canonical line into an [`Event`] (structure only; replay checks the rest).
pub fn parse_event(line: &str) -> Result<Event, Error> {
    #[cfg(feature = "std")]
    return parse_event_typed(line);
    #[cfg(not(feature = "std"))]
    return parse_event_value(line);
}

/// The typed, borrowing parser: ~4x faster than going through a `Value`, which matters when
/// replaying long records, but its generated code is ~35 KiB, so only `std` builds carry it.
#[cfg(feature = "std")]
fn parse_event_typed(line: &str) -> Result<Event, Error> {
    let raw: RawEvent<'_> = serde_json::from_str(line).map_err(|e| crate::wire::json_error(&e))?;
    let at = Timestamp::parse_rfc3339(&raw.at)?;
    let actor = match raw.actor {
        None => None,
        Some(a) => {
            let roles = a
                .roles
                .iter()
                .map(|r| Role::new(RoleName::parse(&r.role)?, r.project_id.as_deref()))
                .collect::<Result<Vec<_>, _>>()?;
            Some(Actor::new(&a.id, roles)?)
        }
    };
    let time = |v: Option<Cow<'_, str>>, field: &str| Timestamp::parse_rfc3339(&need(v, field)?);
    let grant_type = |v: Option<Cow<'_, str>>| GrantType::parse(&need(v, "grantType")?);
    let kind = match &*raw.ty {
        "POLICY_CREATED" => EventKind::PolicyCreated {
            org_id: text(raw.org_id, "orgId")?,
            restrict_employee_access: need(raw.restrict_employee_access, "restrictEmployeeAccess")?,
            max_grant_duration_ms: raw.max_grant_duration_ms,
        },
        "ORG_EMPLOYEE_ACCESS_RESTRICTED" => EventKind::OrgEmployeeAccessRestricted,
        "ORG_EMPLOYEE_ACCESS_UNRESTRICTED" => EventKind::OrgEmployeeAccessUnrestricted,
        "PROJECT_ADDED" => EventKind::ProjectAdded {
            project_id: text(raw.project_id, "projectId")?,
        },
        "PROJECT_REMOVED" => EventKind::ProjectRemoved {
            project_id: text(raw.project_id, "projectId")?,
            clusters_removed: need(raw.clusters_removed, "clustersRemoved")?
                .into_iter()
                .map(Cow::into_owned)
                .collect(),
        },
        "CLUSTER_ADDED" => EventKind::ClusterAdded {
            cluster: text(raw.cluster, "cluster")?,
            project_id: text(raw.project_id, "projectId")?,
            kind: ClusterKind::parse(&need(raw.kind, "kind")?)?,
            app_services_sync_enabled: need(
                raw.app_services_sync_enabled,
                "appServicesSyncEnabled",
            )?,
        },
        "CLUSTER_REMOVED" => EventKind::ClusterRemoved {
            cluster: text(raw.cluster, "cluster")?,
            project_id: text(raw.project_id, "projectId")?,
        },
        "EMPLOYEE_ACCESS_GRANTED" => EventKind::EmployeeAccessGranted {
            cluster: text(raw.cluster, "cluster")?,
            grant_type: grant_type(raw.grant_type)?,
            expiration_time: time(raw.expiration_time, "expirationTime")?,
            replaced: match raw.replaced {
                None => None,
                Some(r) => Some(ReplacedGrant {
                    grant_type: GrantType::parse(&r.grant_type)?,
                    expiration_time: Timestamp::parse_rfc3339(&r.expiration_time)?,
                    granted_at: Timestamp::parse_rfc3339(&r.granted_at)?,
                }),
            },
        },
        t @ ("EMPLOYEE_ACCESS_REVOKED" | "EMPLOYEE_ACCESS_EXPIRED") => ended(
            t,
            text(raw.cluster, "cluster")?,
            grant_type(raw.grant_type)?,
            time(raw.expiration_time, "expirationTime")?,
        ),
        "EMPLOYEE_DOWNLOADED_CLUSTER_LOGS" => EventKind::EmployeeDownloadedClusterLogs {
            cluster: text(raw.cluster, "cluster")?,
            resource: Resource::parse(&need(raw.resource, "resource")?)?,
            download_id: text(raw.download_id, "downloadId")?,
        },
        "EMPLOYEE_LOG_DOWNLOAD_FINISHED" => EventKind::EmployeeLogDownloadFinished {
            cluster: text(raw.cluster, "cluster")?,
            download_id: text(raw.download_id, "downloadId")?,
        },
        "ATLAS_LOADED" => EventKind::AtlasLoaded {
            restrict_employee_access: raw.restrict_employee_access,
            clusters: match need(raw.clusters, "clusters")? {
                Value::Array(a) => a
                    .iter()
                    .map(parse_loaded_cluster)
                    .collect::<Result<_, _>>()?,
                _ => return Err(Error::malformed("`clusters` must be an array")),
            },
        },
        other => return Err(Error::invalid_enum("event type", other)),
    };
    Ok(Event::from_parts(
        raw.seq,
        at,
        actor,
        kind,
        raw.prev.into_owned(),
        raw.hash.into_owned(),
        String::from(line),
    ))
}

/// `EMPLOYEE_ACCESS_REVOKED` (for that `type`) or `EMPLOYEE_ACCESS_EXPIRED`: the two events a
/// grant can end with carry the same fields, and all three line readers build them here.
fn ended(
    ty: &str,
    cluster: String,
    grant_type: GrantType,
    expiration_time: Timestamp,
) -> EventKind {
    if ty == "EMPLOYEE_ACCESS_REVOKED" {
        EventKind::EmployeeAccessRevoked {
            cluster,
            grant_type,
            expiration_time,
        }
    } else {
        EventKind::EmployeeAccessExpired {
            cluster,
            grant_type,
            expiration_time,
        }
    }
}

/// [`parse_event`] over a `serde_json::Value`: slower, but a fraction of the code of the typed
/// parser, so builds without `std` (WebAssembly, embedded) use it. Both are checked to agree.
#[cfg_attr(feature = "std", allow(dead_code))]
fn parse_event_value(line: &str) -> Result<Event, Error> {
    let v = crate::wire::parse_json(line)?;
    let f = Fields::new(
        &v,
        "event",
        &[
            "seq",
            "at",
            "actor",
            "type",
            "orgId",
            "restrictEmployeeAccess",
            "maxGrantDurationMs",
            "projectId",
            "clustersRemoved",
            "cluster",
            "kind",
            "appServicesSyncEnabled",
            "grantType",
            "expirationTime",
            "replaced",
            "resource",
            "downloadId",
            "clusters",
            "prev",
            "hash",
        ],
    )?;
    let seq = f
        .req("seq")?
        .as_u64()
        .ok_or_else(|| Error::malformed("`seq` must be a positive integer"))?;
    let at = f.time("at")?;
    let actor = f.opt("actor").map(parse_actor).transpose()?;
    let s = |k: &str| f.str(k).map(String::from);
    let kind = match f.str("type")? {
        "POLICY_CREATED" => EventKind::PolicyCreated {
            org_id: s("orgId")?,
            restrict_employee_access: f.bool("restrictEmployeeAccess")?,
            max_grant_duration_ms: f.opt("maxGrantDurationMs").and_then(Value::as_i64),
        },
        "ORG_EMPLOYEE_ACCESS_RESTRICTED" => EventKind::OrgEmployeeAccessRestricted,
        "ORG_EMPLOYEE_ACCESS_UNRESTRICTED" => EventKind::OrgEmployeeAccessUnrestricted,
        "PROJECT_ADDED" => EventKind::ProjectAdded {
            project_id: s("projectId")?,
        },
        "PROJECT_REMOVED" => EventKind::ProjectRemoved {
            project_id: s("projectId")?,
            clusters_removed: f
                .array("clustersRemoved")?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| Error::malformed("cluster names are strings"))
                })
                .collect::<Result<_, _>>()?,
        },
        "CLUSTER_ADDED" => EventKind::ClusterAdded {
            cluster: s("cluster")?,
            project_id: s("projectId")?,
            kind: f.enum_("kind", ClusterKind::parse)?,
            app_services_sync_enabled: f.bool("appServicesSyncEnabled")?,
        },
        "CLUSTER_REMOVED" => EventKind::ClusterRemoved {
            cluster: s("cluster")?,
            project_id: s("projectId")?,
        },
        "EMPLOYEE_ACCESS_GRANTED" => EventKind::EmployeeAccessGranted {
            cluster: s("cluster")?,
            grant_type: f.enum_("grantType", GrantType::parse)?,
            expiration_time: f.time("expirationTime")?,
            replaced: f
                .opt("replaced")
                .map(|r| {
                    let rf =
                        Fields::new(r, "replaced", &["grantType", "expirationTime", "grantedAt"])?;
                    Ok::<_, Error>(ReplacedGrant {
                        grant_type: rf.enum_("grantType", GrantType::parse)?,
                        expiration_time: rf.time("expirationTime")?,
                        granted_at: rf.time("grantedAt")?,
                    })
                })
                .transpose()?,
        },
        t @ ("EMPLOYEE_ACCESS_REVOKED" | "EMPLOYEE_ACCESS_EXPIRED") => ended(
            t,
            s("cluster")?,
            f.enum_("grantType", GrantType::parse)?,
            f.time("expirationTime")?,
        ),
        "EMPLOYEE_DOWNLOADED_CLUSTER_LOGS" => EventKind::EmployeeDownloadedClusterLogs {
            cluster: s("cluster")?,
            resource: f.enum_("resource", Resource::parse)?,
            download_id: s("downloadId")?,
        },
        "EMPLOYEE_LOG_DOWNLOAD_FINISHED" => EventKind::EmployeeLogDownloadFinished {
            cluster: s("cluster")?,
            download_id: s("downloadId")?,
        },
        "ATLAS_LOADED" => EventKind::AtlasLoaded {
            restrict_employee_access: f.opt_bool("restrictEmployeeAccess")?,
            clusters: f
                .array("clusters")?
                .iter()
                .map(parse_loaded_cluster)
                .collect::<Result<_, _>>()?,
        },
        other => return Err(Error::invalid_enum("event type", other)),
    };
    Ok(Event::from_parts(
        seq,
        at,
        actor,
        kind,
        s("prev")?,
        s("hash")?,
        String::from(line),
    ))
}

fn parse_loaded_cluster(v: &Value) -> Result<LoadedCluster, Error> {
    let f = Fields::new(
        v,
        "loaded cluster",
        &[
            "cluster",
            "projectId",
            "kind",
            "appServicesSyncEnabled",
            "grant",
        ],
    )?;
    Ok(LoadedCluster {
        cluster: String::from(f.str("cluster")?),
        project_id: String::from(f.str("projectId")?),
        kind: f.enum_("kind", ClusterKind::parse)?,
        app_services_sync_enabled: f.bool("appServicesSyncEnabled")?,
        grant: f
            .opt("grant")
            .map(|g| {
                let gf = Fields::new(g, "grant", &["grantType", "expirationTime"])?;
                Ok::<_, Error>(AtlasGrant {
                    grant_type: gf.enum_("grantType", GrantType::parse)?,
                    expiration_time: parse_time(gf.req("expirationTime")?)?,
                })
            })
            .transpose()?,
    })
}

/// A cursor over a canonical line, for [`parse_op_fast`].
#[cfg(feature = "std")]
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

#[cfg(feature = "std")]
impl<'a> Cursor<'a> {
    fn lit(&mut self, l: &str) -> Option<()> {
        self.s[self.i..].starts_with(l).then(|| self.i += l.len())
    }

    /// A JSON string without escapes (anything with a backslash goes to the general parser).
    fn plain_str(&mut self) -> Option<&'a str> {
        self.lit("\"")?;
        let rest = &self.s[self.i..];
        let end = rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.as_bytes()[end] != b'"' {
            return None;
        }
        self.i += end + 1;
        Some(&rest[..end])
    }

    fn time(&mut self) -> Option<Timestamp> {
        let v = self.plain_str()?;
        Timestamp::parse_canonical(v.as_bytes())
    }

    fn uint(&mut self) -> Option<()> {
        let n = self.s[self.i..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        (n > 0).then(|| self.i += n)
    }

    fn actor(&mut self) -> Option<Option<Actor>> {
        if self.lit("null").is_some() {
            return Some(None);
        }
        self.lit("{\"id\":")?;
        let id = self.plain_str()?;
        self.lit(",\"roles\":[")?;
        let mut roles = Vec::new();
        loop {
            self.lit("{\"role\":")?;
            let name = RoleName::parse(self.plain_str()?).ok()?;
            let project = if self.lit(",\"projectId\":").is_some() {
                Some(self.plain_str()?)
            } else {
                None
            };
            self.lit("}")?;
            roles.push(Role::new(name, project).ok()?);
            if self.lit(",").is_none() {
                break;
            }
        }
        self.lit("]}")?;
        Actor::new(id, roles).ok().map(Some)
    }
}

/// The replay fast path: reads what [`redo`] needs from a canonical line of the event types a
/// long record is made of (grants, revokes, expiries, downloads), without serde. It reads only
/// the fields the operation takes; the rest (`seq`, `replaced`, `prev`, `hash`) is checked when
/// the line the operation writes is compared with this one, byte for byte. So a misreading here
/// could only refuse a good record, never accept an altered one. `None` sends the line to the
/// general parser, which also words every error (see [`Replayer::feed`]).
#[cfg(feature = "std")]
fn parse_op_fast(line: &str) -> Option<Event> {
    let mut c = Cursor { s: line, i: 0 };
    c.lit("{\"seq\":")?;
    c.uint()?;
    c.lit(",\"at\":")?;
    let at = c.time()?;
    c.lit(",\"actor\":")?;
    let actor = c.actor()?;
    c.lit(",\"type\":")?;
    let ty = c.plain_str()?;
    c.lit(",\"cluster\":")?;
    let cluster = String::from(c.plain_str()?);
    let kind = match ty {
        "EMPLOYEE_ACCESS_GRANTED" | "EMPLOYEE_ACCESS_REVOKED" | "EMPLOYEE_ACCESS_EXPIRED" => {
            c.lit(",\"grantType\":")?;
            let grant_type = GrantType::parse(c.plain_str()?).ok()?;
            c.lit(",\"expirationTime\":")?;
            let expiration_time = c.time()?;
            if ty == "EMPLOYEE_ACCESS_GRANTED" {
                EventKind::EmployeeAccessGranted {
                    cluster,
                    grant_type,
                    expiration_time,
                    replaced: None, // recomputed by the grant, then compared
                }
            } else {
                ended(ty, cluster, grant_type, expiration_time)
            }
        }
        "EMPLOYEE_DOWNLOADED_CLUSTER_LOGS" => {
            c.lit(",\"resource\":")?;
            let resource = Resource::parse(c.plain_str()?).ok()?;
            c.lit(",\"downloadId\":")?;
            EventKind::EmployeeDownloadedClusterLogs {
                cluster,
                resource,
                download_id: String::from(c.plain_str()?),
            }
        }
        "EMPLOYEE_LOG_DOWNLOAD_FINISHED" => {
            c.lit(",\"downloadId\":")?;
            EventKind::EmployeeLogDownloadFinished {
                cluster,
                download_id: String::from(c.plain_str()?),
            }
        }
        _ => return None,
    };
    Some(Event::from_parts(
        0,
        at,
        actor,
        kind,
        String::new(),
        String::new(),
        String::new(),
    ))
}

#[cfg(not(feature = "std"))]
fn parse_op_fast(_line: &str) -> Option<Event> {
    None
}

/// Feeds one event's operation back through the typed API.
fn redo(p: &mut Policy, e: &Event) -> Result<(), Error> {
    let actor = || {
        e.actor
            .as_ref()
            .ok_or_else(|| Error::malformed("this event type needs an actor"))
    };
    let at = e.at;
    match &e.kind {
        EventKind::PolicyCreated { .. } => {
            return Err(Error::malformed(
                "POLICY_CREATED may only be the first event",
            ))
        }
        EventKind::OrgEmployeeAccessRestricted => {
            p.set_restriction(actor()?, true, at).map(drop)?
        }
        EventKind::OrgEmployeeAccessUnrestricted => {
            p.set_restriction(actor()?, false, at).map(drop)?
        }
        EventKind::ProjectAdded { project_id } => {
            p.add_project(actor()?, project_id, at).map(drop)?
        }
        EventKind::ProjectRemoved { project_id, .. } => {
            p.remove_project(actor()?, project_id, at).map(drop)?
        }
        EventKind::ClusterAdded {
            cluster,
            project_id,
            kind,
            app_services_sync_enabled,
        } => p
            .add_cluster(
                actor()?,
                project_id,
                cluster,
                *kind,
                *app_services_sync_enabled,
                at,
            )
            .map(drop)?,
        EventKind::ClusterRemoved { cluster, .. } => {
            p.remove_cluster(actor()?, cluster, at).map(drop)?
        }
        EventKind::EmployeeAccessGranted {
            cluster,
            grant_type,
            expiration_time,
            ..
        } => p
            .grant(actor()?, cluster, *grant_type, at, Some(*expiration_time))
            .map(drop)?,
        EventKind::EmployeeAccessRevoked { cluster, .. } => {
            p.revoke(actor()?, cluster, at).map(drop)?
        }
        EventKind::EmployeeAccessExpired { .. } => p.expire_due(at).map(drop)?,
        EventKind::EmployeeDownloadedClusterLogs {
            cluster, resource, ..
        } => p.begin_log_download(cluster, *resource, at).map(drop)?,
        EventKind::EmployeeLogDownloadFinished { download_id, .. } => {
            p.finish_log_download(download_id, at).map(drop)?
        }
        EventKind::AtlasLoaded {
            restrict_employee_access,
            clusters,
        } => p
            .apply_atlas(*restrict_employee_access, clusters.clone(), at)
            .map(drop)?,
    }
    Ok(())
}

fn seq_of(index: usize) -> u64 {
    index as u64 + 1
}

/// Verifies and replays a record one line at a time: the streaming form of [`replay`], for
/// records read from a file or a socket. Feed lines in order (without their newline); the first
/// error names the tampered `seq`, after which the replayer should be dropped.
#[derive(Debug, Clone, Default)]
pub struct Replayer {
    policy: Option<Policy>,
    /// Lines a fed operation wrote beyond the line that described it (the expiries its sweep
    /// recorded are written before it, so this only holds ties of one `expireDue`).
    pending: usize,
    fed: usize,
    /// Bytes to reserve for the record once it exists (the text's size, when known).
    reserve: usize,
}

impl Replayer {
    /// A replayer expecting `POLICY_CREATED` first.
    pub fn new() -> Replayer {
        Replayer::default()
    }

    /// Continues after a policy's own record: feeds lines that were appended after it (by
    /// another writer of the same file, say) without replaying what the policy already holds.
    /// This is how a long-running writer catches up cheaply; the lines fed are checked exactly
    /// as [`Replayer::feed`] checks any line.
    pub fn resume(mut policy: Policy) -> Replayer {
        policy.record.set_quiet(true);
        Replayer {
            fed: policy.record.len(),
            policy: Some(policy),
            pending: 0,
            reserve: 0,
        }
    }

    /// How many lines were accepted.
    pub fn len(&self) -> usize {
        self.fed
    }

    /// Whether no line was accepted yet.
    pub fn is_empty(&self) -> bool {
        self.fed == 0
    }

    /// Checks one more line and applies the operation it describes.
    pub fn feed(&mut self, line: &str) -> Result<(), Error> {
        let index = self.fed;
        let seq = seq_of(index);
        let Some(p) = self.policy.as_mut() else {
            let created = parse_event(line).map_err(|e| Error::tampered(1, format!("{e}")))?;
            let EventKind::PolicyCreated {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
            } = created.kind
            else {
                return Err(Error::tampered(1, "the first event must be POLICY_CREATED"));
            };
            // The genesis keeps its own time: a creation stamped with the options' `now` (or
            // the epoch default) is rebuilt at that time, and must then hash to the same line.
            let options = PolicyOptions {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
                created_at: Some(created.at),
            };
            let mut p = Policy::new(options).map_err(|e| Error::tampered(1, format!("{e}")))?;
            p.record.set_quiet(true);
            p.record.reserve(self.reserve);
            if p.record.line(0) != Some(line) {
                return Err(Error::tampered(1, "content, order or hash does not match"));
            }
            self.policy = Some(p);
            self.fed = 1;
            return Ok(());
        };
        let mismatch = || Error::tampered(seq, "content, order or hash does not match");
        if self.pending == 0 {
            let fast = parse_op_fast(line);
            let fast_read = fast.is_some();
            let e = match fast {
                Some(e) => e,
                None => parse_event(line).map_err(|err| Error::tampered(seq, format!("{err}")))?,
            };
            let done = redo(p, &e)
                .map_err(|err| Error::tampered(seq, format!("the operation is refused: {err}")))
                .and_then(|()| {
                    self.pending = p.record.len() - index;
                    if p.record.line(index) == Some(line) {
                        Ok(())
                    } else {
                        Err(mismatch())
                    }
                });
            if let Err(err) = done {
                // Word the failure as the general parser would have: a line it refuses is
                // refused for that reason, before any operation runs.
                if fast_read {
                    if let Err(parse_err) = parse_event(line) {
                        return Err(Error::tampered(seq, format!("{parse_err}")));
                    }
                }
                return Err(err);
            }
        } else if p.record.line(index) != Some(line) {
            return Err(mismatch());
        }
        self.pending -= 1;
        self.fed += 1;
        Ok(())
    }

    /// The rebuilt policy, once every line was fed.
    pub fn finish(self) -> Result<Policy, Error> {
        match self.policy {
            None => Err(Error::tampered(1, "the record is empty")),
            Some(_) if self.pending > 0 => Err(Error::tampered(
                seq_of(self.fed),
                "an event the operations imply is missing",
            )),
            Some(mut p) => {
                p.record.set_quiet(false);
                Ok(p)
            }
        }
    }
}

/// Replays canonical lines into the policy they describe, or names the first bad `seq`.
pub(crate) fn replay_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Policy, Error> {
    let mut r = Replayer::new();
    for line in lines {
        r.feed(line)?;
    }
    r.finish()
}

fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_suffix('\n').unwrap_or(text).split('\n')
}

/// Checks a JSON Lines record; returns how many events it holds.
pub fn verify(text: &str) -> Result<u64, Error> {
    replay(text).map(|p| p.record.len() as u64)
}

/// Rebuilds the exact policy that wrote a JSON Lines record.
pub fn replay(text: &str) -> Result<Policy, Error> {
    if text.is_empty() {
        return Err(Error::tampered(1, "the record is empty"));
    }
    // Growing a long record's buffer by doubling copied it and faulted its pages in again and
    // again; the replayed record is exactly `text`, so its size is known.
    let mut r = Replayer {
        reserve: text.len(),
        ..Replayer::default()
    };
    for line in split_lines(text) {
        r.feed(line)?;
    }
    r.finish()
}

impl Policy {
    /// Rebuilds the exact policy that wrote a JSON Lines record (see [`replay`]).
    pub fn replay(text: &str) -> Result<Policy, Error> {
        replay(text)
    }

    /// Verifies and applies lines that another writer appended after this policy's record,
    /// all or nothing: each line is checked exactly as [`Replayer::feed`] checks it, and on the
    /// first one that does not verify the policy is left exactly as it was and the error
    /// (`RECORD_TAMPERED`) names that line's `seq`. Returns how many lines were applied.
    ///
    /// This is how a cache of a shared record (a store's writer, a follower) stays current
    /// without ever building on a line it refused.
    pub fn catch_up<'a>(
        &mut self,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Result<usize, Error> {
        let savepoint = self.savepoint();
        let before = self.record.len();
        let mut r = Replayer::resume(core::mem::replace(self, Policy::placeholder()));
        let fed = lines.into_iter().try_for_each(|line| r.feed(line));
        let pending = r.pending;
        let mut p = r
            .policy
            .take()
            .expect("a resumed replayer holds its policy");
        p.record.set_quiet(false);
        let result = match fed {
            Ok(()) if pending > 0 => Err(Error::tampered(
                seq_of(r.fed),
                "an event the operations imply is missing",
            )),
            Ok(()) => Ok(p.record.len() - before),
            Err(e) => Err(e),
        };
        if result.is_err() {
            p.rollback(savepoint)
                .expect("the savepoint was taken from this policy");
        }
        *self = p;
        result
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    /// Resuming from a policy and feeding what another writer appended gives the policy a full
    /// replay gives, and checks the appended lines like any others.
    #[test]
    fn resume_catches_up_and_checks_appended_lines() {
        use crate::model::{Actor, ClusterKind, GrantType, Timestamp};
        let t = |s: i64| Timestamp::from_millis(1_795_860_000_000 + s * 1000).unwrap();
        let owner = Actor::org_owner("owner").unwrap();
        let mut a = Policy::new(PolicyOptions::new("org")).unwrap();
        a.add_project(&owner, "p", t(0)).unwrap();
        a.add_cluster(&owner, "p", "c1", ClusterKind::Dedicated, false, t(0))
            .unwrap();
        let mine = a.clone();
        // Another writer appends a grant, a re-grant and (through its sweep) an expiry.
        a.grant(
            &owner,
            "c1",
            GrantType::ClusterDatabaseLogs,
            t(1),
            Some(t(2)),
        )
        .unwrap();
        a.grant(&owner, "c1", GrantType::ClusterInfrastructure, t(5), None)
            .unwrap();
        let appended: Vec<&str> = a.record().lines().skip(mine.record().len()).collect();
        assert_eq!(appended.len(), 3);

        let mut r = Replayer::resume(mine.clone());
        assert_eq!(r.len(), mine.record().len());
        for l in &appended {
            r.feed(l).unwrap();
        }
        let mut caught_up = r.finish().unwrap();
        assert_eq!(caught_up, a);
        // Replay builds no events for the operations it re-runs, but a finished policy does.
        let e = caught_up.revoke(&owner, "c1", t(6)).unwrap();
        assert_eq!(Some(e.json()), caught_up.record().lines().last());
        assert_eq!(e.hash, caught_up.record().last_hash());
        assert_eq!(e.actor.as_ref(), Some(&owner));
        let mut replayed = Policy::replay(&caught_up.export_record()).unwrap();
        let e = replayed
            .grant(&owner, "c1", GrantType::ClusterDatabaseLogs, t(7), None)
            .unwrap();
        assert_eq!(Some(e.json()), replayed.record().lines().last());
        assert_eq!(e.prev.len(), 64);

        // A changed appended line is refused with its own seq.
        let bad = appended[2].replace("CLUSTER_INFRASTRUCTURE", "CLUSTER_DATABASE_LOGS");
        assert_ne!(bad, appended[2]);
        let mut r = Replayer::resume(mine.clone());
        r.feed(appended[0]).unwrap();
        r.feed(appended[1]).unwrap();
        let err = r.feed(&bad).unwrap_err();
        assert_eq!(err.seq(), Some(mine.record().len() as u64 + 3));
        // So is a line that skips one (the chain no longer links).
        let mut r = Replayer::resume(mine);
        assert!(r.feed(appended[1]).is_err());
    }

    /// The two parsers agree on every event type, and refuse the same malformed lines.
    #[test]
    fn typed_and_value_parsers_agree() {
        let text = include_str!("../../../tests/vectors/vectors.txt");
        let mut lines = 0;
        for l in text.lines() {
            let Some((kind, json)) = l.split_once(' ') else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(json) else {
                continue;
            };
            let record = match kind {
                "expect" => v["ok"]["record"].as_str(),
                "command" => v["record"].as_str(),
                _ => None,
            };
            // Records in commands may be tampered with on purpose: compare whatever parses.
            for line in record.unwrap_or("").lines() {
                let (typed, value) = (parse_event_typed(line), parse_event_value(line));
                assert_eq!(typed.is_ok(), value.is_ok(), "{line}");
                if let (Ok(a), Ok(b)) = (typed, value) {
                    assert_eq!(a, b);
                    lines += 1;
                }
            }
        }
        assert!(lines > 50, "only {lines} event lines found");
        for bad in ["", "{", "[]", "{\"seq\":1}", "{\"seq\":\"1\",\"at\":\"x\"}"] {
            assert!(
                parse_event_typed(bad).is_err() && parse_event_value(bad).is_err(),
                "{bad}"
            );
        }
    }
}
