//! Evaluation (SPEC section 4): "may support touch this, right now, and why?". Everything here is
//! `Copy` and allocation-free: this is the hot path every front end calls.

use crate::grant::GrantState;
use crate::model::{GrantType, Resource, Timestamp};

pub use crate::vocab::Reason;

/// The answer to one question. The grant fields are set exactly when the cluster holds an
/// active grant at the time asked about, whatever the verdict, so a UI can always show the
/// countdown next to the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// May support reach the resource?
    pub allowed: bool,
    /// Which rule decided.
    pub reason: Reason,
    /// The active grant's type.
    pub grant_type: Option<GrantType>,
    /// The active grant's expiration.
    pub expiration_time: Option<Timestamp>,
    /// Milliseconds until the active grant expires.
    pub remaining_ms: Option<i64>,
}

impl Decision {
    /// The batch-mode answer for a cluster that does not exist (rule 1).
    pub const CLUSTER_NOT_FOUND: Decision = Decision {
        allowed: false,
        reason: Reason::ClusterNotFound,
        grant_type: None,
        expiration_time: None,
        remaining_ms: None,
    };
}

/// What evaluation needs to know about one cluster.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClusterView<'a> {
    pub sync_enabled: bool,
    pub grant: Option<&'a GrantState>,
}

/// Rules 2–7 of SPEC §4, first match wins. Rule 1 (unknown cluster) is the caller's lookup.
#[inline]
pub(crate) fn decide(
    restricted: bool,
    cluster: ClusterView<'_>,
    resource: Resource,
    now: Timestamp,
) -> Decision {
    let active = cluster.grant.filter(|g| g.is_active(now));
    let (allowed, reason) = match resource {
        Resource::DatabaseData => (false, Reason::DatabaseDataNeverAccessible),
        Resource::SyncData => {
            let sync_grant = active.is_some_and(|g| {
                g.grant_type == GrantType::ClusterInfrastructureAndAppServicesSyncData
            });
            if sync_grant && cluster.sync_enabled {
                (true, Reason::GrantActive)
            } else {
                (false, Reason::SyncDataRequiresGrant)
            }
        }
        _ if !restricted => (true, Reason::OrgUnrestricted),
        resource => match active {
            Some(g) if g.grant_type.covers(resource) => (true, Reason::GrantActive),
            Some(_) => (false, Reason::NotCoveredByGrant),
            None => match cluster.grant {
                Some(g) if g.is_revoked() => (false, Reason::GrantRevoked),
                Some(_) => (false, Reason::GrantExpired),
                None => (false, Reason::NoGrant),
            },
        },
    };
    Decision {
        allowed,
        reason,
        grant_type: active.map(|g| g.grant_type),
        expiration_time: active.map(|g| g.expiration),
        remaining_ms: active.map(|g| g.expiration.millis() - now.millis()),
    }
}
