//! The entities of SPEC section 1 as values the core accepts: roles, actors, ids and cluster
//! names, and reading the vocabularies ([`crate::vocab`]) and times ([`crate::time`]) from text
//! with the SPEC's errors (`INVALID_ENUM_VALUE`, `INVALID_TIMESTAMP`, `MALFORMED_INPUT`,
//! `INVALID_CLUSTER_NAME`).
//!
//! The vocabularies and `Timestamp` are defined below the error type, so that [`crate::error`]
//! can name them; their fallible constructors are here, the first floor above it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{clip, Error};
use crate::vocab::Spec;

pub use crate::time::{Rfc3339, Timestamp};
pub use crate::vocab::{ClusterKind, GrantType, Resource, RoleName};

/// Reads a SPEC string of `T`; anything else is `INVALID_ENUM_VALUE` naming `T`'s field.
pub fn parse_spec<T: Spec>(s: &str) -> Result<T, Error> {
    T::from_spec(s).ok_or_else(|| Error::invalid_enum(T::FIELD, s))
}

/// `parse` and `FromStr` for the vocabularies, with the SPEC's error.
macro_rules! fallible_parse {
    ($($name:ty),+) => {$(
        impl $name {
            /// Parses the exact SPEC string; anything else is `INVALID_ENUM_VALUE`.
            pub fn parse(s: &str) -> Result<$name, Error> {
                parse_spec(s)
            }
        }

        impl core::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<$name, Error> {
                parse_spec(s)
            }
        }
    )+};
}

fallible_parse!(
    GrantType,
    Resource,
    ClusterKind,
    RoleName,
    crate::vocab::Reason
);

impl Timestamp {
    /// From epoch milliseconds; out of range is `INVALID_TIMESTAMP`.
    #[inline]
    pub fn from_millis(ms: i64) -> Result<Timestamp, Error> {
        if (0..=Self::MAX_MS).contains(&ms) {
            // In range, just checked.
            Ok(Timestamp::in_range(ms).unwrap_or(Timestamp::EPOCH))
        } else {
            Err(Self::out_of_range(ms))
        }
    }

    #[cold]
    #[inline(never)]
    fn out_of_range(ms: i64) -> Error {
        Error::InvalidTimestamp {
            value: alloc::format!("{ms}"),
            detail: "epoch milliseconds must be between 0 and 253402300799999",
        }
    }

    /// Parses RFC 3339 (`2026-11-29T20:00:00Z`, `…00.123Z`, or with an offset, converted to UTC).
    /// More than millisecond precision is refused rather than silently truncated.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, Error> {
        let bad = |detail: &'static str| Error::InvalidTimestamp {
            value: clip(s),
            detail,
        };
        let dt = chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|_| bad("not an RFC 3339 date-time like 2026-11-29T20:00:00Z"))?;
        if dt.timestamp_subsec_nanos() % 1_000_000 != 0 {
            return Err(bad("more than millisecond precision"));
        }
        let ms = dt.timestamp_millis();
        if !(0..=Self::MAX_MS).contains(&ms) {
            return Err(bad(
                "outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z",
            ));
        }
        Timestamp::from_millis(ms)
    }
}

/// The longest id (org, project, actor, download) accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// Checks an id: 1–256 bytes, no control characters.
pub fn check_id<'a>(field: &str, id: &'a str) -> Result<&'a str, Error> {
    if id.is_empty() {
        return Err(Error::malformed(format!("`{field}` must not be empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::malformed(format!(
            "`{field}` is longer than {MAX_ID_LEN} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::malformed(format!(
            "`{field}` contains a control character"
        )));
    }
    Ok(id)
}

/// One role an actor holds. Project roles name their project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `ORG_OWNER`.
    OrgOwner,
    /// `PROJECT_OWNER` of a project.
    ProjectOwner(String),
    /// `PROJECT_SUPPORT_ACCESS_MANAGER` of a project.
    ProjectSupportAccessManager(String),
    /// `PROJECT_READ_ONLY` of a project.
    ProjectReadOnly(String),
}

impl Role {
    /// The role's SPEC name.
    pub fn name(&self) -> RoleName {
        match self {
            Role::OrgOwner => RoleName::OrgOwner,
            Role::ProjectOwner(_) => RoleName::ProjectOwner,
            Role::ProjectSupportAccessManager(_) => RoleName::ProjectSupportAccessManager,
            Role::ProjectReadOnly(_) => RoleName::ProjectReadOnly,
        }
    }

    /// The project a project role is scoped to.
    pub fn project_id(&self) -> Option<&str> {
        match self {
            Role::OrgOwner => None,
            Role::ProjectOwner(p)
            | Role::ProjectSupportAccessManager(p)
            | Role::ProjectReadOnly(p) => Some(p),
        }
    }

    /// Builds a role from its SPEC name and, for project roles, the project id.
    pub fn new(name: RoleName, project_id: Option<&str>) -> Result<Role, Error> {
        match (name, project_id) {
            (RoleName::OrgOwner, None) => Ok(Role::OrgOwner),
            (RoleName::OrgOwner, Some(_)) => {
                Err(Error::malformed("role ORG_OWNER takes no `projectId`"))
            }
            (_, None) => Err(Error::malformed(alloc::format!(
                "role {} needs a `projectId`",
                name
            ))),
            (name, Some(p)) => {
                let p = String::from(check_id("projectId", p)?);
                Ok(match name {
                    RoleName::ProjectOwner => Role::ProjectOwner(p),
                    RoleName::ProjectSupportAccessManager => Role::ProjectSupportAccessManager(p),
                    _ => Role::ProjectReadOnly(p),
                })
            }
        }
    }
}

/// The person or API key asking for a change. The host authenticates it; the core checks its
/// roles against SPEC section 2 and keeps id and roles in the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    /// Who it is (user name, API key id…).
    pub id: String,
    /// The roles it holds.
    pub roles: Vec<Role>,
}

impl Actor {
    /// An actor with the given id and roles; the id must be 1–256 bytes without control characters.
    pub fn new(id: &str, roles: Vec<Role>) -> Result<Actor, Error> {
        Ok(Actor {
            id: String::from(check_id("actor.id", id)?),
            roles,
        })
    }

    /// An organization owner.
    pub fn org_owner(id: &str) -> Result<Actor, Error> {
        Actor::new(id, alloc::vec![Role::OrgOwner])
    }

    pub(crate) fn is_org_owner(&self) -> bool {
        self.roles.iter().any(|r| matches!(r, Role::OrgOwner))
    }

    /// May change grants on clusters of `project` (SPEC §2).
    pub(crate) fn may_manage_grants(&self, project: &str) -> bool {
        self.roles.iter().any(|r| match r {
            Role::OrgOwner => true,
            Role::ProjectOwner(p) | Role::ProjectSupportAccessManager(p) => p == project,
            Role::ProjectReadOnly(_) => false,
        })
    }

    /// May change the inventory of `project` (SPEC §2).
    pub(crate) fn may_manage_inventory(&self, project: &str) -> bool {
        self.roles.iter().any(|r| match r {
            Role::OrgOwner => true,
            Role::ProjectOwner(p) => p == project,
            _ => false,
        })
    }
}

/// Checks a cluster name against SPEC §1: `^[a-zA-Z0-9][a-zA-Z0-9-]*$`, 1–64 characters.
pub fn check_cluster_name(name: &str) -> Result<&str, Error> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
    if ok {
        Ok(name)
    } else {
        Err(Error::InvalidClusterName {
            name: crate::error::clip(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// The hand-written formatter agrees with chrono's over the whole range (a stride that
    /// visits every month, leap day, hour and millisecond digit), and at both ends.
    #[test]
    fn formatting_matches_chrono() {
        let mut ms = 0i64;
        let mut n = 0;
        while ms <= Timestamp::MAX_MS {
            for t in [ms, Timestamp::MAX_MS - ms] {
                let ours = Timestamp::from_millis(t).unwrap().to_string();
                let theirs = chrono::DateTime::from_timestamp_millis(t)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string();
                assert_eq!(ours, theirs, "{t}");
            }
            ms += 3_600_000 * 277 + 60_000 * 7 + 1_013;
            n += 1;
        }
        assert!(n > 200_000, "{n}");
    }

    /// The canonical fast parser agrees with chrono's on every canonical string, and refuses
    /// what is not canonical (the general parser then decides).
    #[cfg(feature = "std")]
    #[test]
    fn canonical_parser_agrees_with_the_general_one() {
        let mut ms = 0i64;
        while ms <= Timestamp::MAX_MS {
            let t = Timestamp::from_millis(ms).unwrap();
            let s = t.rfc3339();
            assert_eq!(Timestamp::parse_canonical(s.as_str().as_bytes()), Some(t));
            ms += 3_600_000 * 277 + 60_000 * 7 + 1_013;
        }
        for bad in [
            "2026-02-30T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-11-29T24:00:00.000Z",
            "2026-11-29T20:00:00.000+",
            "2026-11-29 20:00:00.000Z",
            "2026-11-29T20:00:00Z",
            "2026-11-29T20:00:60.000Z",
            "+026-11-29T20:00:00.000Z",
            "2026-11-29T20:00:00.0000Z",
        ] {
            assert_eq!(Timestamp::parse_canonical(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn formats_and_parses_round_trip() {
        for ms in [
            0,
            1,
            999,
            86_399_999,
            1_764_446_400_000,
            951_782_400_000,
            Timestamp::MAX_MS,
        ] {
            let t = Timestamp::from_millis(ms).unwrap();
            let s = t.to_string();
            assert_eq!(Timestamp::parse_rfc3339(&s).unwrap(), t, "{s}");
        }
        assert_eq!(
            Timestamp::from_millis(951_782_400_000).unwrap().to_string(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn rejects_bad_times() {
        for s in [
            "",
            "2026-11-29",
            "2026-11-29T20:00:00",
            "2026-11-29T20:00:00.0001Z",
            "1969-12-31T23:59:59Z",
            "2026-13-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(s).is_err(), "{s}");
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-29T21:00:00+01:00").unwrap(),
            Timestamp::parse_rfc3339("2026-11-29T20:00:00Z").unwrap()
        );
        assert!(Timestamp::from_millis(-1).is_err());
    }

    #[test]
    fn cluster_names() {
        assert!(check_cluster_name("Cluster0").is_ok());
        assert!(check_cluster_name("a-b-1").is_ok());
        for bad in ["", "-a", "a_b", "a b", "ä"] {
            assert!(check_cluster_name(bad).is_err(), "{bad}");
        }
        assert!(check_cluster_name(&"a".repeat(64)).is_ok());
        assert!(check_cluster_name(&"a".repeat(65)).is_err());
    }
}
