//! Evaluation (SPEC section 4): "may support touch this, right now, and why?". Everything here is
//! `Copy` and allocation-free: this is the hot path every front end calls.

use core::fmt;

use crate::error::Error;
use crate::grant::GrantState;
use crate::model::{GrantType, Resource, Timestamp};

macro_rules! reasons {
    ($( $(#[$m:meta])* $variant:ident = $text:literal, )+) => {
        /// Why a decision came out as it did (SPEC §4), one per rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u32)]
        pub enum Reason {
            $( $(#[$m])* $variant, )+
        }

        impl Reason {
            /// Every reason, in SPEC order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),+];

            /// The reason's SPEC string.
            pub const fn as_str(self) -> &'static str {
                match self { $( Reason::$variant => $text, )+ }
            }

            /// Parses a SPEC reason string.
            pub fn parse(s: &str) -> Result<Reason, Error> {
                match s {
                    $( $text => Ok(Reason::$variant), )+
                    _ => Err(Error::invalid_enum("reason", s)),
                }
            }
        }
    };
}

reasons! {
    /// Rule 1: no cluster of that name (a deny in batch mode, an error elsewhere).
    ClusterNotFound = "CLUSTER_NOT_FOUND",
    /// Rule 2: no grant ever gives read access to the customer's documents.
    DatabaseDataNeverAccessible = "DATABASE_DATA_NEVER_ACCESSIBLE",
    /// Rule 3: sync data needs an active sync-data grant, whatever the org setting.
    SyncDataRequiresGrant = "SYNC_DATA_REQUIRES_GRANT",
    /// Rule 4: the organization does not restrict support access.
    OrgUnrestricted = "ORG_UNRESTRICTED",
    /// Rules 3 and 5: an active grant covers the resource.
    GrantActive = "GRANT_ACTIVE",
    /// Rule 6: there is an active grant, but of a type that does not cover the resource.
    NotCoveredByGrant = "NOT_COVERED_BY_GRANT",
    /// Rule 7: the last grant ran out.
    GrantExpired = "GRANT_EXPIRED",
    /// Rule 7: the last grant was revoked.
    GrantRevoked = "GRANT_REVOKED",
    /// Rule 7: the cluster never had a grant.
    NoGrant = "NO_GRANT",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

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
