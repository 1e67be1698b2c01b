//! The tamper-evident record (SPEC section 5).
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
//! operation the event describes, writes exactly the same bytes (see [`crate::replay`]). Any
//! changed byte therefore changes either the content (which no longer re-encodes to itself or no
//! longer matches its hash) or the hash (which no longer matches the content).

use alloc::string::String;
use alloc::vec::Vec;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::model::{Actor, ClusterKind, GrantType, Resource, Role, Timestamp};

/// The `prev` of the first event.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A grant that a re-grant replaced, as recorded in `replaced`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacedGrant {
    /// Its type.
    pub grant_type: GrantType,
    /// When it would have expired.
    pub expiration_time: Timestamp,
    /// When it was made.
    pub granted_at: Timestamp,
}

/// A grant as the Admin API writes it (`mongoDBEmployeeAccessGrant`, and the grant body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AtlasGrant {
    /// `grantType`.
    pub grant_type: GrantType,
    /// `expirationTime`.
    pub expiration_time: Timestamp,
}

/// One cluster of an Atlas import, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadedCluster {
    /// Cluster name.
    pub cluster: String,
    /// Project (Atlas `groupId`).
    pub project_id: String,
    /// Kind.
    pub kind: ClusterKind,
    /// App Services sync.
    pub app_services_sync_enabled: bool,
    /// The grant it held, if still in force at load time.
    pub grant: Option<AtlasGrant>,
}

/// What happened, with the fields of its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `POLICY_CREATED`: the creation options, so a record alone rebuilds its policy.
    PolicyCreated {
        /// `orgId`.
        org_id: String,
        /// `restrictEmployeeAccess`.
        restrict_employee_access: bool,
        /// `maxGrantDurationMs` (`None` = no bound).
        max_grant_duration_ms: Option<i64>,
    },
    /// `ORG_EMPLOYEE_ACCESS_RESTRICTED`.
    OrgEmployeeAccessRestricted,
    /// `ORG_EMPLOYEE_ACCESS_UNRESTRICTED`.
    OrgEmployeeAccessUnrestricted,
    /// `PROJECT_ADDED`.
    ProjectAdded {
        /// The project.
        project_id: String,
    },
    /// `PROJECT_REMOVED`, with the clusters that went with it.
    ProjectRemoved {
        /// The project.
        project_id: String,
        /// Its clusters, by name, in name order.
        clusters_removed: Vec<String>,
    },
    /// `CLUSTER_ADDED`.
    ClusterAdded {
        /// Name.
        cluster: String,
        /// Project.
        project_id: String,
        /// Kind.
        kind: ClusterKind,
        /// App Services sync.
        app_services_sync_enabled: bool,
    },
    /// `CLUSTER_REMOVED` (drops its grant).
    ClusterRemoved {
        /// Name.
        cluster: String,
        /// Project.
        project_id: String,
    },
    /// `EMPLOYEE_ACCESS_GRANTED`: a grant or re-grant.
    EmployeeAccessGranted {
        /// Cluster.
        cluster: String,
        /// Type.
        grant_type: GrantType,
        /// Expiration.
        expiration_time: Timestamp,
        /// The active grant this one replaced.
        replaced: Option<ReplacedGrant>,
    },
    /// `EMPLOYEE_ACCESS_REVOKED`.
    EmployeeAccessRevoked {
        /// Cluster.
        cluster: String,
        /// The revoked grant's type.
        grant_type: GrantType,
        /// When it would have expired.
        expiration_time: Timestamp,
    },
    /// `EMPLOYEE_ACCESS_EXPIRED`, stamped at the grant's expiration.
    EmployeeAccessExpired {
        /// Cluster.
        cluster: String,
        /// The grant's type.
        grant_type: GrantType,
        /// Its expiration (equal to the event's `at`).
        expiration_time: Timestamp,
    },
    /// `EMPLOYEE_DOWNLOADED_CLUSTER_LOGS`: a log download began.
    EmployeeDownloadedClusterLogs {
        /// Cluster.
        cluster: String,
        /// `DATABASE_LOGS` or `AUDIT_LOGS`.
        resource: Resource,
        /// Its id, `dl-<seq of this event>`.
        download_id: String,
    },
    /// `EMPLOYEE_LOG_DOWNLOAD_FINISHED`: a download in progress finished.
    EmployeeLogDownloadFinished {
        /// Cluster.
        cluster: String,
        /// The download.
        download_id: String,
    },
    /// `ATLAS_LOADED`: org settings and clusters loaded from Admin API JSON.
    AtlasLoaded {
        /// The org setting, if the settings document had it.
        restrict_employee_access: Option<bool>,
        /// The clusters, normalized.
        clusters: Vec<LoadedCluster>,
    },
}

impl EventKind {
    /// The SPEC `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::PolicyCreated { .. } => "POLICY_CREATED",
            EventKind::OrgEmployeeAccessRestricted => "ORG_EMPLOYEE_ACCESS_RESTRICTED",
            EventKind::OrgEmployeeAccessUnrestricted => "ORG_EMPLOYEE_ACCESS_UNRESTRICTED",
            EventKind::ProjectAdded { .. } => "PROJECT_ADDED",
            EventKind::ProjectRemoved { .. } => "PROJECT_REMOVED",
            EventKind::ClusterAdded { .. } => "CLUSTER_ADDED",
            EventKind::ClusterRemoved { .. } => "CLUSTER_REMOVED",
            EventKind::EmployeeAccessGranted { .. } => "EMPLOYEE_ACCESS_GRANTED",
            EventKind::EmployeeAccessRevoked { .. } => "EMPLOYEE_ACCESS_REVOKED",
            EventKind::EmployeeAccessExpired { .. } => "EMPLOYEE_ACCESS_EXPIRED",
            EventKind::EmployeeDownloadedClusterLogs { .. } => "EMPLOYEE_DOWNLOADED_CLUSTER_LOGS",
            EventKind::EmployeeLogDownloadFinished { .. } => "EMPLOYEE_LOG_DOWNLOAD_FINISHED",
            EventKind::AtlasLoaded { .. } => "ATLAS_LOADED",
        }
    }
}

/// One recorded event. `line` is its canonical JSON, exactly as exported.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Event {
    /// Position in the record, from 1.
    pub seq: u64,
    /// When it happened.
    pub at: Timestamp,
    /// Who caused it (`None` for events no person caused).
    pub actor: Option<Actor>,
    /// What happened.
    pub kind: EventKind,
    /// The previous event's hash.
    pub prev: String,
    /// This event's hash.
    pub hash: String,
    line: String,
}

impl Event {
    pub(crate) fn from_parts(
        seq: u64,
        at: Timestamp,
        actor: Option<Actor>,
        kind: EventKind,
        prev: String,
        hash: String,
        line: String,
    ) -> Event {
        Event {
            seq,
            at,
            actor,
            kind,
            prev,
            hash,
            line,
        }
    }

    /// The canonical JSON line (without the trailing newline).
    pub fn json(&self) -> &str {
        &self.line
    }
}

struct RolesSer<'a>(&'a [Role]);
struct RoleSer<'a>(&'a Role);
struct ActorSer<'a>(&'a Actor);

impl Serialize for RoleSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0.project_id();
        let mut m = s.serialize_map(Some(1 + usize::from(p.is_some())))?;
        m.serialize_entry("role", &self.0.name())?;
        if let Some(p) = p {
            m.serialize_entry("projectId", p)?;
        }
        m.end()
    }
}

impl Serialize for RolesSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut q = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            q.serialize_element(&RoleSer(r))?;
        }
        q.end()
    }
}

impl Serialize for ActorSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("id", &self.0.id)?;
        m.serialize_entry("roles", &RolesSer(&self.0.roles))?;
        m.end()
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ActorSer(self).serialize(s)
    }
}

/// The event minus its hash: exactly what is hashed.
struct Body<'a> {
    seq: u64,
    at: Timestamp,
    actor: Option<&'a Actor>,
    kind: &'a EventKind,
    prev: &'a str,
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
    fn write(&self, out: &mut String) {
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

/// The events of one policy, in order: their canonical lines, kept as the JSON Lines text itself
/// (one buffer plus line ends) so exporting is a copy and cloning a policy is cheap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    text: String,
    ends: Vec<usize>,
    ats: Vec<Timestamp>,
    last_hash: String,
    quiet: Quiet,
}

/// The lines of a [`Record`] (see [`Record::lines`]).
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    record: &'a Record,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.front >= self.back {
            return None;
        }
        self.front += 1;
        self.record.line(self.front - 1)
    }

    fn nth(&mut self, n: usize) -> Option<&'a str> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn count(self) -> usize {
        self.back - self.front
    }

    fn last(mut self) -> Option<&'a str> {
        self.next_back()
    }
}

impl<'a> DoubleEndedIterator for Lines<'a> {
    fn next_back(&mut self) -> Option<&'a str> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.record.line(self.back)
    }

    fn nth_back(&mut self, n: usize) -> Option<&'a str> {
        self.back = self.back.saturating_sub(n).max(self.front);
        self.next_back()
    }
}

impl ExactSizeIterator for Lines<'_> {}

impl core::iter::FusedIterator for Lines<'_> {}

/// A mode, not content: two records with the same events are equal whatever their mode.
#[derive(Debug, Clone, Copy, Default)]
struct Quiet(bool);

impl PartialEq for Quiet {
    fn eq(&self, _: &Quiet) -> bool {
        true
    }
}

impl Eq for Quiet {}

impl Record {
    /// Appends an event, computing its `seq`, `prev` and `hash`. The line is written straight
    /// into the record's text and hashed there.
    pub(crate) fn append(
        &mut self,
        at: Timestamp,
        actor: Option<&Actor>,
        kind: EventKind,
    ) -> Event {
        let seq = self.ends.len() as u64 + 1;
        let quiet = self.quiet.0;
        let prev: &str = if self.ends.is_empty() {
            GENESIS_PREV
        } else {
            &self.last_hash
        };
        let prev_owned = if quiet {
            String::new()
        } else {
            String::from(prev)
        };
        let start = self.text.len();
        Body {
            seq,
            at,
            actor,
            kind: &kind,
            prev,
        }
        .write(&mut self.text);
        let digest = Sha256::digest(&self.text.as_bytes()[start..]);
        self.text.pop(); // the closing brace
        self.text.push_str(",\"hash\":\"");
        let hash_at = self.text.len();
        to_hex(&digest, &mut self.text);
        self.last_hash.clear();
        self.last_hash.push_str(&self.text[hash_at..]);
        self.text.push_str("\"}");
        let line_end = self.text.len();
        self.text.push('\n');
        self.ends.push(self.text.len());
        self.ats.push(at);
        if quiet {
            return Event::from_parts(
                seq,
                at,
                None,
                kind,
                String::new(),
                String::new(),
                String::new(),
            );
        }
        Event {
            seq,
            at,
            actor: actor.cloned(),
            kind,
            prev: prev_owned,
            hash: self.last_hash.clone(),
            line: String::from(&self.text[start..line_end]),
        }
    }

    /// Reserves room for `bytes` of text (a replay knows the record's size in advance).
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.text.reserve(bytes.saturating_sub(self.text.len()));
    }

    /// While replaying, the events the typed API returns are dropped unread: `quiet` skips
    /// building them (their copies of actor, hashes and line were a fifth of replay time).
    /// Only the replayer sets it, and only while it owns the policy.
    pub(crate) fn set_quiet(&mut self, quiet: bool) {
        self.quiet = Quiet(quiet);
    }

    /// Keeps the first `len` events and forgets the rest (a [`crate::Savepoint`] rollback).
    /// `len` must be at least 1 and at most [`Record::len`]; the head hash is read back from
    /// the new last line, whose canonical form ends with `"hash":"<64 hex>"}`.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.ends.len() || len == 0 {
            return;
        }
        self.ends.truncate(len);
        self.ats.truncate(len);
        self.text.truncate(self.ends[len - 1]);
        let line_end = self.text.len() - 1; // before the newline
        let hash = line_end.checked_sub(66).map_or(0..0, |at| at..at + 64);
        self.last_hash.clear();
        self.last_hash.push_str(&self.text[hash]);
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Never true for a policy's record (it starts with `POLICY_CREATED`).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The canonical line of the event at `index` (0-based; `seq - 1`), without its newline.
    pub fn line(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.text[start..end - 1])
    }

    /// The canonical lines, in order. Skipping ahead (`skip`, `nth`, `last`) is O(1), so
    /// reading the lines past a known count costs only those lines.
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            record: self,
            front: 0,
            back: self.ends.len(),
        }
    }

    /// The time of the last event (the clock a mutation may not go behind).
    pub fn last_at(&self) -> Timestamp {
        self.ats.last().copied().unwrap_or(Timestamp::EPOCH)
    }

    /// How many events happened at or before `t` (events are in time order).
    pub(crate) fn count_until(&self, t: Timestamp) -> usize {
        self.ats.partition_point(|a| *a <= t)
    }

    /// The record as JSON Lines text (each line ends with `\n`).
    pub fn as_text(&self) -> &str {
        &self.text
    }

    /// The record as JSON Lines text, owned.
    pub fn export(&self) -> String {
        self.text.clone()
    }

    /// The last event's hash (the head of the chain), to anchor a record elsewhere.
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    /// The hash of the event at `index` (0-based; `seq - 1`): what a checkpoint of that `seq`
    /// must hold (SPEC §9). Read from the line, whose canonical form ends `"hash":"<64 hex>"}`.
    pub fn hash_at(&self, index: usize) -> Option<&str> {
        let line = self.line(index)?;
        line.len().checked_sub(66).map(|at| &line[at..at + 64])
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

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
    fn lines_skip_ahead_and_walk_back() {
        use crate::model::Actor;
        let mut r = Record::default();
        let t = Timestamp::from_millis(0).unwrap();
        let owner = Actor::org_owner("o").unwrap();
        for i in 0..5 {
            r.append(
                t,
                Some(&owner),
                EventKind::ProjectAdded {
                    project_id: format!("p{i}"),
                },
            );
        }
        let all: Vec<&str> = (0..5).map(|i| r.line(i).unwrap()).collect();
        assert_eq!(r.lines().collect::<Vec<_>>(), all);
        assert_eq!(r.lines().skip(3).collect::<Vec<_>>(), &all[3..]);
        assert_eq!(r.lines().skip(9).count(), 0);
        assert_eq!(
            r.lines().rev().collect::<Vec<_>>(),
            all.iter().rev().copied().collect::<Vec<_>>()
        );
        assert_eq!(r.lines().last(), Some(all[4]));
        assert_eq!(r.lines().nth_back(1), Some(all[3]));
        let mut it = r.lines();
        assert_eq!(
            (it.next(), it.next_back(), it.len()),
            (Some(all[0]), Some(all[4]), 3)
        );
        assert_eq!(it.nth(5), None);
        assert_eq!(it.next_back(), None);
        assert_eq!(r.lines().count(), 5);
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
