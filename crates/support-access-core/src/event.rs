//! The events of a record (SPEC section 5): what happened, when, by whom, chained by hash. Their
//! canonical bytes are written and read in `codec`; the record that holds them is `record`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::atlas::LoadedCluster;
use crate::model::{Actor, ClusterKind, GrantType, Resource, Timestamp};

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
