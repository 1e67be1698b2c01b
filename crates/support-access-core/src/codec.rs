//! The one codec of a record's events: the canonical encoding (SPEC section 5), its one encoder
//! and its one decoder, the same with and without `std`.
//!
//! # Canonical encoding
//!
//! An event is one line of compact JSON (no whitespace, UTF-8, strings escaped as `serde_json`
//! escapes them: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as
//! `\u00xx`, nothing else) whose keys come in this fixed order:
//!
//! `seq`, `at`, `actor`, `type`, then the type's own fields in the order of the table below,
//! then `prev`, then `hash`.
//!
//! | `type` | fields |
//! |---|---|
//! | `POLICY_CREATED` | `orgId`, `restrictEmployeeAccess`, `maxGrantDurationMs` |
//! | `ORG_EMPLOYEE_ACCESS_RESTRICTED`, `ORG_EMPLOYEE_ACCESS_UNRESTRICTED` | — |
//! | `PROJECT_ADDED` | `projectId` |
//! | `PROJECT_REMOVED` | `projectId`, `clustersRemoved` |
//! | `CLUSTER_ADDED` | `cluster`, `projectId`, `kind`, `appServicesSyncEnabled` |
//! | `CLUSTER_REMOVED` | `cluster`, `projectId` |
//! | `EMPLOYEE_ACCESS_GRANTED` | `cluster`, `grantType`, `expirationTime`, `replaced` |
//! | `EMPLOYEE_ACCESS_REVOKED`, `EMPLOYEE_ACCESS_EXPIRED` | `cluster`, `grantType`, `expirationTime` |
//! | `EMPLOYEE_DOWNLOADED_CLUSTER_LOGS` | `cluster`, `resource`, `downloadId` |
//! | `EMPLOYEE_LOG_DOWNLOAD_FINISHED` | `cluster`, `downloadId` |
//! | `ATLAS_LOADED` | `restrictEmployeeAccess`, `clusters` |
//!
//! `seq` counts from 1; `at` is RFC 3339 UTC with exactly three fraction digits
//! (`2026-11-29T20:00:00.000Z`); `actor` is `null` for events no person caused (creation,
//! expiry, downloads, Atlas loads) or `{"id":…,"roles":[{"role":…[,"projectId":…]}…]}`.
//! `prev` is the previous event's `hash` (64 zeros for the first event). `hash` is the lowercase
//! hex SHA-256 of the line's bytes up to, not including, `,"hash":` — followed by `}`, i.e. of
//! the event serialized with every key but `hash`.
//!
//! A record exports as JSON Lines: each event's line followed by `\n`. Because the encoding is
//! canonical, verifying a record is replaying it: an event is accepted only if this core, fed the
//! operation the event describes, writes exactly the same bytes (see the `replay` module). Any
//! changed byte therefore changes either the content (which no longer re-encodes to itself or no
//! longer matches its hash) or the hash (which no longer matches the content).

use alloc::string::String;
#[cfg(feature = "std")]
use alloc::vec::Vec;

use serde_json::Value;

use crate::atlas::{AtlasGrant, LoadedCluster};
use crate::error::Error;
use crate::event::{Event, EventKind, ReplacedGrant};
use crate::model::{Actor, ClusterKind, GrantType, Resource, Timestamp};
#[cfg(feature = "std")]
use crate::model::{Role, RoleName};
use crate::wire::{parse_actor, parse_time, Fields};

// ----- the encoder -----

/// The event minus its hash: exactly what is hashed.
pub(crate) struct Body<'a> {
    pub(crate) seq: u64,
    pub(crate) at: Timestamp,
    pub(crate) actor: Option<&'a Actor>,
    pub(crate) kind: &'a EventKind,
    pub(crate) prev: &'a str,
}

/// Writes `s` as a JSON string exactly as `serde_json` does (the canonical encoding): `\"`,
/// `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as `\u00xx`, nothing else.
/// Written out because the record's writer is on the replay path (see [`Body::write`]); a test
/// compares it with `serde_json` on every byte value.
fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut from = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push_str(esc);
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(core::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

fn push_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Appends `,"k":` (every key but an object's first).
fn key(out: &mut String, k: &str) {
    out.push_str(",\"");
    out.push_str(k);
    out.push_str("\":");
}

/// Appends `,"k":` and a string that needs no escaping (a SPEC enum value or a type name).
fn key_plain(out: &mut String, k: &str, v: &str) {
    key(out, k);
    out.push('"');
    out.push_str(v);
    out.push('"');
}

fn key_str(out: &mut String, k: &str, v: &str) {
    key(out, k);
    push_json_str(out, v);
}

fn key_time(out: &mut String, k: &str, t: Timestamp) {
    key_plain(out, k, t.rfc3339().as_str());
}

fn key_bool(out: &mut String, k: &str, b: Option<bool>) {
    key(out, k);
    out.push_str(match b {
        None => "null",
        Some(true) => "true",
        Some(false) => "false",
    });
}

/// A JSON array of `items`, each written by `each`.
fn push_array<T>(out: &mut String, items: &[T], each: impl Fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// The canonical JSON of an actor: `{"id":…,"roles":[{"role":…[,"projectId":…]}…]}`.
fn push_actor(out: &mut String, a: &Actor) {
    out.push_str("{\"id\":");
    push_json_str(out, &a.id);
    out.push_str(",\"roles\":");
    push_array(out, &a.roles, |out, r| {
        out.push_str("{\"role\":\"");
        out.push_str(r.name().as_str());
        out.push('"');
        if let Some(p) = r.project_id() {
            key_str(out, "projectId", p);
        }
        out.push('}');
    });
    out.push('}');
}

fn push_loaded_cluster(out: &mut String, c: &LoadedCluster) {
    out.push_str("{\"cluster\":");
    push_json_str(out, &c.cluster);
    key_str(out, "projectId", &c.project_id);
    key_plain(out, "kind", c.kind.as_str());
    key_bool(
        out,
        "appServicesSyncEnabled",
        Some(c.app_services_sync_enabled),
    );
    key(out, "grant");
    match &c.grant {
        None => out.push_str("null"),
        Some(g) => {
            out.push_str("{\"grantType\":\"");
            out.push_str(g.grant_type.as_str());
            out.push('"');
            key_time(out, "expirationTime", g.expiration_time);
            out.push('}');
        }
    }
    out.push('}');
}

impl Body<'_> {
    /// Writes the canonical line minus its hash (the layout is in the module docs). By hand
    /// rather than through serde: every event written *and every event replayed* comes through
    /// here, and the generic path cost several times the SHA-256 of the line. The conformance
    /// vectors pin these bytes, and verification compares them, so a slip here could only
    /// refuse a record, never accept an altered one.
    pub(crate) fn write(&self, out: &mut String) {
        out.push_str("{\"seq\":");
        push_u64(out, self.seq);
        key_time(out, "at", self.at);
        key(out, "actor");
        match self.actor {
            None => out.push_str("null"),
            Some(a) => push_actor(out, a),
        }
        key_plain(out, "type", self.kind.type_name());
        match self.kind {
            EventKind::PolicyCreated {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
            } => {
                key_str(out, "orgId", org_id);
                key_bool(
                    out,
                    "restrictEmployeeAccess",
                    Some(*restrict_employee_access),
                );
                key(out, "maxGrantDurationMs");
                match max_grant_duration_ms {
                    None => out.push_str("null"),
                    Some(ms) => push_i64(out, *ms),
                }
            }
            EventKind::OrgEmployeeAccessRestricted | EventKind::OrgEmployeeAccessUnrestricted => {}
            EventKind::ProjectAdded { project_id } => key_str(out, "projectId", project_id),
            EventKind::ProjectRemoved {
                project_id,
                clusters_removed,
            } => {
                key_str(out, "projectId", project_id);
                key(out, "clustersRemoved");
                push_array(out, clusters_removed, |out, c| push_json_str(out, c));
            }
            EventKind::ClusterAdded {
                cluster,
                project_id,
                kind,
                app_services_sync_enabled,
            } => {
                key_str(out, "cluster", cluster);
                key_str(out, "projectId", project_id);
                key_plain(out, "kind", kind.as_str());
                key_bool(
                    out,
                    "appServicesSyncEnabled",
                    Some(*app_services_sync_enabled),
                );
            }
            EventKind::ClusterRemoved {
                cluster,
                project_id,
            } => {
                key_str(out, "cluster", cluster);
                key_str(out, "projectId", project_id);
            }
            EventKind::EmployeeAccessGranted {
                cluster,
                grant_type,
                expiration_time,
                replaced,
            } => {
                key_str(out, "cluster", cluster);
                key_plain(out, "grantType", grant_type.as_str());
                key_time(out, "expirationTime", *expiration_time);
                key(out, "replaced");
                match replaced {
                    None => out.push_str("null"),
                    Some(r) => {
                        out.push_str("{\"grantType\":\"");
                        out.push_str(r.grant_type.as_str());
                        out.push('"');
                        key_time(out, "expirationTime", r.expiration_time);
                        key_time(out, "grantedAt", r.granted_at);
                        out.push('}');
                    }
                }
            }
            EventKind::EmployeeAccessRevoked {
                cluster,
                grant_type,
                expiration_time,
            }
            | EventKind::EmployeeAccessExpired {
                cluster,
                grant_type,
                expiration_time,
            } => {
                key_str(out, "cluster", cluster);
                key_plain(out, "grantType", grant_type.as_str());
                key_time(out, "expirationTime", *expiration_time);
            }
            EventKind::EmployeeDownloadedClusterLogs {
                cluster,
                resource,
                download_id,
            } => {
                key_str(out, "cluster", cluster);
                key_plain(out, "resource", resource.as_str());
                key_str(out, "downloadId", download_id);
            }
            EventKind::EmployeeLogDownloadFinished {
                cluster,
                download_id,
            } => {
                key_str(out, "cluster", cluster);
                key_str(out, "downloadId", download_id);
            }
            EventKind::AtlasLoaded {
                restrict_employee_access,
                clusters,
            } => {
                key_bool(out, "restrictEmployeeAccess", *restrict_employee_access);
                key(out, "clusters");
                push_array(out, clusters, push_loaded_cluster);
            }
        }
        // Always a hash this record wrote (or the genesis zeros): hex, nothing to escape.
        key_plain(out, "prev", self.prev);
        out.push('}');
    }
}

pub(crate) fn to_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

// ----- the decoder -----

/// `EMPLOYEE_ACCESS_REVOKED` (for that `type`) or `EMPLOYEE_ACCESS_EXPIRED`: the two events a
/// grant can end with carry the same fields, and both line readers build them here.
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

/// The decoder: reads one canonical line into an [`Event`] (its structure: which fields, of
/// which types; replaying checks that the bytes are the ones this core writes). One decoder for
/// every build. It reads through a `serde_json::Value`, a fraction of the code of a typed serde
/// reader; the replayer reads its hot event types with a faster strict cursor first, which hands anything it
/// does not recognise, and every error's wording, to this decoder.
pub fn parse_event(line: &str) -> Result<Event, Error> {
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

/// A cursor over a canonical line, for [`read_op_fast`].
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
/// general parser, which also words every error (see the replayer's `feed`).
#[cfg(feature = "std")]
pub(crate) fn read_op_fast(line: &str) -> Option<Event> {
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
pub(crate) fn read_op_fast(_line: &str) -> Option<Event> {
    None
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    /// The hand-written escaping is serde_json's, for every character that JSON treats
    /// specially and a sample of everything else.
    #[test]
    fn strings_escape_exactly_as_serde_json_does() {
        let mut samples: Vec<String> = (0u32..0x800)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b{c}"))
            .collect();
        samples.extend(
            [
                "",
                "\"",
                "\\",
                "\u{7f}",
                "\u{2028}",
                "é😀",
                "\u{ffff}",
                "x\u{0}y\u{1f}",
            ]
            .map(String::from),
        );
        for s in samples {
            let mut ours = String::new();
            push_json_str(&mut ours, &s);
            assert_eq!(ours, serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn integers_are_written_like_serde_json() {
        for v in [
            0i64,
            1,
            9,
            10,
            99,
            100,
            -1,
            -10,
            i64::MAX,
            i64::MIN,
            86_400_000,
        ] {
            let mut ours = String::new();
            push_i64(&mut ours, v);
            assert_eq!(ours, v.to_string());
        }
        let mut ours = String::new();
        push_u64(&mut ours, u64::MAX);
        assert_eq!(ours, u64::MAX.to_string());
    }
}
