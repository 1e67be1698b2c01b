//! The entities of SPEC section 1: grant types, resources, cluster kinds, roles, actors and
//! timestamps. Every enum spells its values exactly as the Atlas Admin API does, so JSON from
//! Atlas can be fed straight in.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::Error;

macro_rules! spec_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in SPEC order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact SPEC / Admin API string.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }

            /// Parses the exact SPEC string; anything else is `INVALID_ENUM_VALUE`.
            pub fn parse(s: &str) -> Result<Self, Error> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(Error::invalid_enum($field, s)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl core::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

spec_enum! {
    /// What a grant lets support staff reach (SPEC §1, Atlas `grantType`).
    pub enum GrantType ("grantType") {
        /// Infrastructure and all cluster logs.
        ClusterInfrastructure = "CLUSTER_INFRASTRUCTURE",
        /// Database logs only (audit logs excluded).
        ClusterDatabaseLogs = "CLUSTER_DATABASE_LOGS",
        /// Infrastructure, all logs and App Services sync data.
        ClusterInfrastructureAndAppServicesSyncData = "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA",
    }
}

spec_enum! {
    /// What support staff ask to reach.
    pub enum Resource ("resource") {
        /// The MongoDB and Atlas Search hosts.
        Infrastructure = "INFRASTRUCTURE",
        /// Database logs.
        DatabaseLogs = "DATABASE_LOGS",
        /// Database audit logs.
        AuditLogs = "AUDIT_LOGS",
        /// App Services sync data.
        SyncData = "SYNC_DATA",
        /// The customer's documents: never reachable.
        DatabaseData = "DATABASE_DATA",
    }
}

spec_enum! {
    /// The kind of a cluster; only dedicated clusters take grants.
    pub enum ClusterKind ("kind") {
        /// A dedicated cluster (the default).
        Dedicated = "DEDICATED",
        /// A Flex cluster: takes no grants.
        Flex = "FLEX",
        /// A serverless instance: takes no grants.
        Serverless = "SERVERLESS",
    }
}

spec_enum! {
    /// The role names an actor may hold (SPEC §1).
    pub enum RoleName ("role") {
        /// Organization owner: may do everything.
        OrgOwner = "ORG_OWNER",
        /// Owner of one project.
        ProjectOwner = "PROJECT_OWNER",
        /// May grant and revoke support access in one project.
        ProjectSupportAccessManager = "PROJECT_SUPPORT_ACCESS_MANAGER",
        /// May only read, in one project.
        ProjectReadOnly = "PROJECT_READ_ONLY",
    }
}

#[allow(clippy::derivable_impls)] // the enum comes from spec_enum!, which cannot take #[default]
impl Default for ClusterKind {
    fn default() -> ClusterKind {
        ClusterKind::Dedicated
    }
}

impl GrantType {
    /// The resources this grant type covers (SPEC §4 rule 5).
    pub const fn covers(self, resource: Resource) -> bool {
        use Resource::*;
        match self {
            GrantType::ClusterInfrastructure => {
                matches!(resource, Infrastructure | DatabaseLogs | AuditLogs)
            }
            GrantType::ClusterDatabaseLogs => matches!(resource, DatabaseLogs),
            GrantType::ClusterInfrastructureAndAppServicesSyncData => {
                matches!(
                    resource,
                    Infrastructure | DatabaseLogs | AuditLogs | SyncData
                )
            }
        }
    }
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
                let p = String::from(crate::wire::check_id("projectId", p)?);
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
            id: String::from(crate::wire::check_id("actor.id", id)?),
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

/// A point in time: UTC, millisecond precision, from 1970-01-01T00:00:00.000Z to
/// 9999-12-31T23:59:59.999Z. The core never reads a clock; every time comes from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The latest representable time, 9999-12-31T23:59:59.999Z.
    pub const MAX_MS: i64 = 253_402_300_799_999;
    /// 1970-01-01T00:00:00.000Z: the earliest time, and when a policy's record begins unless
    /// its creation was given a time ([`crate::PolicyOptions::created_at`]).
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From epoch milliseconds; out of range is `INVALID_TIMESTAMP`.
    #[inline]
    pub fn from_millis(ms: i64) -> Result<Timestamp, Error> {
        if (0..=Self::MAX_MS).contains(&ms) {
            Ok(Timestamp(ms))
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

    /// Epoch milliseconds.
    #[inline]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2026-11-29T20:00:00Z`, `…00.123Z`, or with an offset, converted to UTC).
    /// More than millisecond precision is refused rather than silently truncated.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, Error> {
        let bad = |detail: &'static str| Error::InvalidTimestamp {
            value: crate::error::clip(s),
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
        Ok(Timestamp(ms))
    }

    /// Writes the canonical form, always with milliseconds: `2026-11-29T20:00:00.000Z`.
    pub fn write_rfc3339(self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(self.rfc3339().as_str())
    }

    /// The canonical form in a fixed buffer: no allocation and no `core::fmt`, because every
    /// event written or replayed formats several of these (it was a quarter of replay time).
    pub fn rfc3339(self) -> Rfc3339 {
        // In range by construction (0..=MAX_MS), so the year has exactly four digits.
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (mi, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1000, rest % 1000);
        let mut b = *b"0000-00-00T00:00:00.000Z";
        // Two digits at a time; every value is in 0..100 here (the year as two halves).
        fn two(b: &mut [u8; 24], at: usize, v: u32) {
            b[at] = b'0' + (v / 10) as u8;
            b[at + 1] = b'0' + (v % 10) as u8;
        }
        let y = y as u32;
        two(&mut b, 0, y / 100);
        two(&mut b, 2, y % 100);
        two(&mut b, 5, m);
        two(&mut b, 8, d);
        two(&mut b, 11, h as u32);
        two(&mut b, 14, mi as u32);
        two(&mut b, 17, s as u32);
        let ms = ms as u32;
        b[20] = b'0' + (ms / 100) as u8;
        two(&mut b, 21, ms % 100);
        Rfc3339(b)
    }

    /// Reads exactly the canonical form (`2026-11-29T20:00:00.000Z`, what [`Timestamp::rfc3339`]
    /// writes) without chrono: the replay fast path. Anything else, including dates that do not
    /// exist, is `None`, and the caller falls back to [`Timestamp::parse_rfc3339`]. Checkpoints
    /// (which take only this form) use it too, without std: it is far smaller than chrono's parser.
    pub(crate) fn parse_canonical(s: &[u8]) -> Option<Timestamp> {
        let b: &[u8; 24] = s.try_into().ok()?;
        let num = |from: usize, to: usize| -> Option<i64> {
            b[from..to].iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
            })
        };
        let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (h, mi, sec, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let days = days_from_civil(y, m, d);
        let t = Timestamp::from_millis(
            days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms,
        )
        .ok()?;
        // Separators, and days past the month's end (which would roll over), are caught here.
        (t.rfc3339().0 == *b).then_some(t)
    }

    /// This time plus `ms` milliseconds, if it stays in range.
    pub fn checked_add_millis(self, ms: i64) -> Option<Timestamp> {
        self.0
            .checked_add(ms)
            .filter(|t| (0..=Self::MAX_MS).contains(t))
            .map(Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rfc3339(f)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.rfc3339().as_str())
    }
}

/// A [`Timestamp`] in its canonical RFC 3339 form (`2026-11-29T20:00:00.000Z`), held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339([u8; 24]);

impl Rfc3339 {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written into the buffer.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proleptic Gregorian (year, month, day) to days since 1970-01-01; Howard Hinnant's
/// algorithm, the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's
/// algorithm. Written out because formatting is on the record's hot path and must not allocate.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
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
            Timestamp(951_782_400_000).to_string(),
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
