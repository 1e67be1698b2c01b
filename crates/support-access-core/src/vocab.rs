//! The SPEC's closed vocabularies: grant types, resources, cluster kinds, role names, decision
//! reasons and error codes. Each value is spelled exactly as the SPEC and the Atlas Admin API
//! spell it, so JSON from Atlas can be fed straight in.
//!
//! The ground floor of the core, with `time`: it imports nothing else of the crate.
//! Reading a value from text is [`Spec::from_spec`], which cannot fail loudly here (there is no
//! error type yet); the `parse` methods that answer `INVALID_ENUM_VALUE` are in `model`.

use core::ffi::CStr;
use core::fmt;

/// A closed set of SPEC strings: every value, its text, and reading it back.
pub trait Spec: Copy + Eq + 'static {
    /// The field it is read from (`grantType`, `resource`…), named by `INVALID_ENUM_VALUE`.
    const FIELD: &'static str;
    /// Every value, in SPEC order.
    const ALL: &'static [Self];
    /// The exact SPEC string.
    fn as_str(self) -> &'static str;
    /// The value whose SPEC string is exactly `s`.
    fn from_spec(s: &str) -> Option<Self>;
    /// Its position in [`Spec::ALL`]: the number a front end passes instead of the text.
    fn index(self) -> usize;
    /// The SPEC string NUL-terminated, for C callers (static: never freed).
    fn c_str(self) -> &'static CStr;
}

/// The one macro behind every enum here: the enum (`#[repr(u32)]`, so its number is its
/// position in `ALL`), `ALL`, `as_str`, `from_spec`, [`Spec`], `Display` and `Serialize`.
macro_rules! spec_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u32)]
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

            /// The SPEC string NUL-terminated, for C callers (static: never freed).
            pub const fn c_str(self) -> &'static CStr {
                match self {
                    $( $name::$variant => match CStr::from_bytes_with_nul(concat!($text, "\0").as_bytes()) {
                        Ok(c) => c,
                        Err(_) => panic!("SPEC strings hold no NUL"),
                    }, )+
                }
            }

            /// The value whose SPEC string is exactly `s` (`parse` words the error).
            pub fn from_spec(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl Spec for $name {
            const FIELD: &'static str = $field;
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn from_spec(s: &str) -> Option<$name> {
                $name::from_spec(s)
            }
            fn index(self) -> usize {
                self as usize
            }
            fn c_str(self) -> &'static CStr {
                $name::c_str(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
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

spec_enum! {
    /// Why a decision came out as it did (SPEC §4), one per rule.
    pub enum Reason ("reason") {
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
}

spec_enum! {
    /// The stable codes of SPEC section 6, one per variant of the `Error` enum (in `error`).
    pub enum ErrorCode ("code") {
        /// `FORBIDDEN`.
        Forbidden = "FORBIDDEN",
        /// `INVALID_ENUM_VALUE`.
        InvalidEnumValue = "INVALID_ENUM_VALUE",
        /// `INVALID_TIMESTAMP`.
        InvalidTimestamp = "INVALID_TIMESTAMP",
        /// `INVALID_CLUSTER_NAME`.
        InvalidClusterName = "INVALID_CLUSTER_NAME",
        /// `MALFORMED_INPUT`.
        MalformedInput = "MALFORMED_INPUT",
        /// `UNKNOWN_OP`.
        UnknownOp = "UNKNOWN_OP",
        /// `PROJECT_NOT_FOUND`.
        ProjectNotFound = "PROJECT_NOT_FOUND",
        /// `CLUSTER_NOT_FOUND`.
        ClusterNotFound = "CLUSTER_NOT_FOUND",
        /// `DUPLICATE_PROJECT`.
        DuplicateProject = "DUPLICATE_PROJECT",
        /// `DUPLICATE_CLUSTER`.
        DuplicateCluster = "DUPLICATE_CLUSTER",
        /// `UNSUPPORTED_CLUSTER_KIND`.
        UnsupportedClusterKind = "UNSUPPORTED_CLUSTER_KIND",
        /// `SYNC_NOT_ENABLED`.
        SyncNotEnabled = "SYNC_NOT_ENABLED",
        /// `EXPIRATION_NOT_IN_FUTURE`.
        ExpirationNotInFuture = "EXPIRATION_NOT_IN_FUTURE",
        /// `EXPIRATION_TOO_FAR`.
        ExpirationTooFar = "EXPIRATION_TOO_FAR",
        /// `NO_ACTIVE_GRANT`.
        NoActiveGrant = "NO_ACTIVE_GRANT",
        /// `CLOCK_WENT_BACKWARDS`.
        ClockWentBackwards = "CLOCK_WENT_BACKWARDS",
        /// `ACCESS_DENIED`.
        AccessDenied = "ACCESS_DENIED",
        /// `DOWNLOAD_NOT_FOUND`.
        DownloadNotFound = "DOWNLOAD_NOT_FOUND",
        /// `RECORD_TAMPERED`.
        RecordTampered = "RECORD_TAMPERED",
        /// `RECORD_TRUNCATED`.
        RecordTruncated = "RECORD_TRUNCATED",
        /// `CHECKPOINT_MISMATCH`.
        CheckpointMismatch = "CHECKPOINT_MISMATCH",
        /// `CHECKPOINTS_DISAGREE`.
        CheckpointsDisagree = "CHECKPOINTS_DISAGREE",
        /// `BAD_SIGNATURE`.
        BadSignature = "BAD_SIGNATURE",
        /// `UNTRUSTED_KEY`.
        UntrustedKey = "UNTRUSTED_KEY",
    }
}
