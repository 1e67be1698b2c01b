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

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("seq", &self.seq)?;
        m.serialize_entry("at", &self.at)?;
        m.serialize_entry("actor", &self.actor)?;
        m.serialize_entry("type", self.kind.type_name())?;
        match self.kind {
            EventKind::PolicyCreated {
                org_id,
                restrict_employee_access,
                max_grant_duration_ms,
            } => {
                m.serialize_entry("orgId", org_id)?;
                m.serialize_entry("restrictEmployeeAccess", restrict_employee_access)?;
                m.serialize_entry("maxGrantDurationMs", max_grant_duration_ms)?;
            }
            EventKind::OrgEmployeeAccessRestricted | EventKind::OrgEmployeeAccessUnrestricted => {}
            EventKind::ProjectAdded { project_id } => m.serialize_entry("projectId", project_id)?,
            EventKind::ProjectRemoved {
                project_id,
                clusters_removed,
            } => {
                m.serialize_entry("projectId", project_id)?;
                m.serialize_entry("clustersRemoved", clusters_removed)?;
            }
            EventKind::ClusterAdded {
                cluster,
                project_id,
                kind,
                app_services_sync_enabled,
            } => {
                m.serialize_entry("cluster", cluster)?;
                m.serialize_entry("projectId", project_id)?;
                m.serialize_entry("kind", kind)?;
                m.serialize_entry("appServicesSyncEnabled", app_services_sync_enabled)?;
            }
            EventKind::ClusterRemoved {
                cluster,
                project_id,
            } => {
                m.serialize_entry("cluster", cluster)?;
                m.serialize_entry("projectId", project_id)?;
            }
            EventKind::EmployeeAccessGranted {
                cluster,
                grant_type,
                expiration_time,
                replaced,
            } => {
                m.serialize_entry("cluster", cluster)?;
                m.serialize_entry("grantType", grant_type)?;
                m.serialize_entry("expirationTime", expiration_time)?;
                m.serialize_entry("replaced", replaced)?;
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
                m.serialize_entry("cluster", cluster)?;
                m.serialize_entry("grantType", grant_type)?;
                m.serialize_entry("expirationTime", expiration_time)?;
            }
            EventKind::EmployeeDownloadedClusterLogs {
                cluster,
                resource,
                download_id,
            } => {
                m.serialize_entry("cluster", cluster)?;
                m.serialize_entry("resource", resource)?;
                m.serialize_entry("downloadId", download_id)?;
            }
            EventKind::EmployeeLogDownloadFinished {
                cluster,
                download_id,
            } => {
                m.serialize_entry("cluster", cluster)?;
                m.serialize_entry("downloadId", download_id)?;
            }
            EventKind::AtlasLoaded {
                restrict_employee_access,
                clusters,
            } => {
                m.serialize_entry("restrictEmployeeAccess", restrict_employee_access)?;
                m.serialize_entry("clusters", clusters)?;
            }
        }
        m.serialize_entry("prev", self.prev)?;
        m.end()
    }
}

fn to_hex(bytes: &[u8], out: &mut String) {
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
}

impl Record {
    /// Appends an event, computing its `seq`, `prev` and `hash`.
    pub(crate) fn append(
        &mut self,
        at: Timestamp,
        actor: Option<&Actor>,
        kind: EventKind,
    ) -> Event {
        let seq = self.ends.len() as u64 + 1;
        let prev = if self.ends.is_empty() {
            String::from(GENESIS_PREV)
        } else {
            self.last_hash.clone()
        };
        let body = Body {
            seq,
            at,
            actor,
            kind: &kind,
            prev: &prev,
        };
        // Sized from the previous line (events of a record are alike) so the line is written
        // without regrowing, with room for the hash.
        let last = self
            .line(self.ends.len().wrapping_sub(1))
            .map_or(0, str::len);
        let mut bytes = Vec::with_capacity(last.max(256) + 96);
        serde_json::to_writer(&mut bytes, &body).expect("serializing an event cannot fail");
        let mut line = String::from_utf8(bytes).expect("serde_json writes UTF-8");
        let mut hash = String::with_capacity(64);
        to_hex(&Sha256::digest(line.as_bytes()), &mut hash);
        line.pop(); // the closing brace
        line.push_str(",\"hash\":\"");
        line.push_str(&hash);
        line.push_str("\"}");
        self.text.push_str(&line);
        self.text.push('\n');
        self.ends.push(self.text.len());
        self.ats.push(at);
        self.last_hash.clone_from(&hash);
        Event {
            seq,
            at,
            actor: actor.cloned(),
            kind,
            prev,
            hash,
            line,
        }
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

    /// The canonical lines, in order.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|i| self.line(i).expect("index in range"))
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
}
