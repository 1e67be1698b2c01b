//! A cluster's grant (SPEC section 3): what it allows, until when, and how it ended.

use alloc::string::String;

use crate::error::Error;
use crate::model::{GrantType, Timestamp};

/// The default and default maximum grant duration: 24 hours.
pub const DEFAULT_GRANT_MS: i64 = 24 * 60 * 60 * 1000;

/// How a grant stopped being active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// Revoked at this time.
    Revoked(Timestamp),
    /// Ran out; the record holds its `EMPLOYEE_ACCESS_EXPIRED` event.
    Expired,
}

/// The last grant a cluster received. Kept after it ends so evaluation can say
/// `GRANT_EXPIRED` or `GRANT_REVOKED` rather than `NO_GRANT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrantState {
    /// What it covers.
    pub grant_type: GrantType,
    /// When it ends on its own (exclusive: at this instant it is over).
    pub expiration: Timestamp,
    /// When it was made.
    pub granted_at: Timestamp,
    /// Who made it (`None` when loaded from Atlas JSON).
    pub granted_by: Option<String>,
    /// Set once it was revoked or its expiry was recorded.
    pub ended: Option<Ending>,
}

impl GrantState {
    /// Active while not ended and `now < expirationTime` (strict).
    #[inline]
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.ended.is_none() && now < self.expiration
    }

    /// Whether it ended by revoke.
    #[inline]
    pub fn is_revoked(&self) -> bool {
        matches!(self.ended, Some(Ending::Revoked(_)))
    }

    /// Due for an `EMPLOYEE_ACCESS_EXPIRED` event at `now`.
    pub(crate) fn is_due(&self, now: Timestamp) -> bool {
        self.ended.is_none() && self.expiration <= now
    }
}

/// Checks a requested expiration against SPEC §3 and returns the one to use.
pub(crate) fn expiration_for(
    now: Timestamp,
    requested: Option<Timestamp>,
    max_ms: Option<i64>,
) -> Result<Timestamp, Error> {
    let expiration = match requested {
        Some(t) => t,
        None => {
            // SPEC §3: the default is always 24 h; a policy with a shorter bound needs an
            // explicit expiration, and says so with EXPIRATION_TOO_FAR.
            now.checked_add_millis(DEFAULT_GRANT_MS)
                .ok_or(Error::InvalidTimestamp {
                    value: alloc::format!("{now}"),
                    detail: "now + the default grant duration is past 9999-12-31",
                })?
        }
    };
    if expiration <= now {
        return Err(Error::ExpirationNotInFuture { expiration, now });
    }
    if let Some(max_ms) = max_ms {
        if expiration.millis() - now.millis() > max_ms {
            return Err(Error::ExpirationTooFar {
                expiration,
                now,
                max_ms,
            });
        }
    }
    Ok(expiration)
}
