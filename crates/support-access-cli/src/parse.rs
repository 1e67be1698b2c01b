//! Reading command-line values: durations, times, enum values with friendly aliases, roles.
//! Enum values end in the core's own parsers, so an unknown value is the SPEC's
//! `INVALID_ENUM_VALUE` naming it.

use support_access_core::{Actor, ClusterKind, GrantType, Resource, Role, RoleName, Timestamp};

use crate::fail::Fail;

/// `6h`, `90m`, `1h30m`, `2d`, `45s`, `500ms` → milliseconds (> 0).
pub fn duration_ms(text: &str) -> Result<i64, Fail> {
    let bad = |why: &str| {
        Fail::usage(format!(
            "invalid duration `{text}`: {why} (use a number and a unit: 6h, 90m, 1h30m, 2d, 45s, 500ms)"
        ))
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad("empty"));
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: i64 = match unit.to_ascii_lowercase().as_str() {
            "ms" => 1,
            "s" | "sec" | "secs" => 1000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "" => return Err(bad("missing unit")),
            _ => return Err(bad("unknown unit")),
        };
        total = n
            .checked_mul(scale)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| bad("too large"))?;
    }
    if total <= 0 {
        return Err(bad("must be longer than zero"));
    }
    Ok(total)
}

/// An absolute time: RFC 3339 or epoch milliseconds (core errors: `INVALID_TIMESTAMP`).
pub fn time(text: &str) -> Result<Timestamp, Fail> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = t
            .parse()
            .map_err(|_| Fail::usage(format!("invalid time `{text}`: number too large")))?;
        return Timestamp::from_millis(ms).map_err(Fail::arg);
    }
    Timestamp::parse_rfc3339(t).map_err(Fail::arg)
}

/// A time that may also be relative to `now`: `+6h`, `-2h`.
pub fn time_rel(text: &str, now: Timestamp) -> Result<Timestamp, Fail> {
    let t = text.trim();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return time(t),
    };
    let ms = duration_ms(rest)?;
    now.checked_add_millis(sign * ms)
        .ok_or_else(|| Fail::usage(format!("invalid time `{text}`: outside 1970..9999")))
}

fn norm(s: &str) -> String {
    s.trim().to_ascii_uppercase().replace('-', "_")
}

/// A grant type: the SPEC string (any case) or `infra`, `logs`, `sync`.
pub fn grant_type(text: &str) -> Result<GrantType, Fail> {
    let n = norm(text);
    let spec = match n.as_str() {
        "INFRA" | "INFRASTRUCTURE" => "CLUSTER_INFRASTRUCTURE",
        "LOGS" | "DATABASE_LOGS" => "CLUSTER_DATABASE_LOGS",
        "SYNC" | "SYNC_DATA" => "CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA",
        other => other,
    };
    GrantType::parse(spec).map_err(|_| {
        Fail::arg(GrantType::parse(text).expect_err("not a grant type")).hint(
            "grant types: CLUSTER_INFRASTRUCTURE (infra), CLUSTER_DATABASE_LOGS (logs), \
             CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA (sync)",
        )
    })
}

/// A resource: the SPEC string (any case) or `infra`, `logs`, `audit`, `sync`, `data`.
pub fn resource(text: &str) -> Result<Resource, Fail> {
    let n = norm(text);
    let spec = match n.as_str() {
        "INFRA" => "INFRASTRUCTURE",
        "LOGS" => "DATABASE_LOGS",
        "AUDIT" => "AUDIT_LOGS",
        "SYNC" => "SYNC_DATA",
        "DATA" => "DATABASE_DATA",
        other => other,
    };
    Resource::parse(spec).map_err(|_| {
        Fail::arg(Resource::parse(text).expect_err("not a resource")).hint(
            "resources: INFRASTRUCTURE (infra), DATABASE_LOGS (logs), AUDIT_LOGS (audit), SYNC_DATA (sync), \
             DATABASE_DATA (data)",
        )
    })
}

/// A cluster kind, any case.
pub fn kind(text: &str) -> Result<ClusterKind, Fail> {
    ClusterKind::parse(&norm(text)).map_err(|_| {
        Fail::arg(ClusterKind::parse(text).expect_err("not a kind"))
            .hint("kinds: DEDICATED, FLEX, SERVERLESS")
    })
}

/// `ROLE[:PROJECT]`, role in any case; `OWNER`, `MANAGER`, `READ_ONLY` are short for the
/// project roles.
pub fn role(text: &str) -> Result<Role, Fail> {
    let (name, project) = match text.split_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (text, None),
    };
    let n = norm(name);
    let spec = match n.as_str() {
        "OWNER" => "PROJECT_OWNER",
        "MANAGER" | "SUPPORT_ACCESS_MANAGER" => "PROJECT_SUPPORT_ACCESS_MANAGER",
        "READ_ONLY" => "PROJECT_READ_ONLY",
        other => other,
    };
    let hint =
        "roles: ORG_OWNER, PROJECT_OWNER:P, PROJECT_SUPPORT_ACCESS_MANAGER:P, PROJECT_READ_ONLY:P";
    let name = RoleName::parse(spec).map_err(|e| Fail::arg(e).hint(hint))?;
    Role::new(name, project).map_err(|e| Fail::arg(e).hint(hint))
}

/// The actor of a mutation, from `--actor`/`--role` or the environment.
pub fn actor(id: Option<&str>, roles: &[String]) -> Result<Actor, Fail> {
    let Some(id) = id else {
        return Err(Fail::usage(String::from(
            "this command changes the policy and needs an actor: --actor ID --role ROLE[:PROJECT] \
             (or SUPPORT_ACCESS_ACTOR and SUPPORT_ACCESS_ROLES)",
        )));
    };
    let roles = roles
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| role(r))
        .collect::<Result<Vec<_>, _>>()?;
    Actor::new(id, roles).map_err(Fail::arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("6h").unwrap(), 6 * 3_600_000);
        assert_eq!(duration_ms("1h30m").unwrap(), 90 * 60_000);
        assert_eq!(duration_ms("2d").unwrap(), 2 * 86_400_000);
        assert_eq!(duration_ms("500ms").unwrap(), 500);
        for bad in [
            "",
            "6",
            "h",
            "6x",
            "0h",
            "-1h",
            "6h-",
            "99999999999999999999h",
        ] {
            assert!(duration_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times() {
        let t = time("2026-11-28T09:00:00Z").unwrap();
        assert_eq!(time(&t.millis().to_string()).unwrap(), t);
        assert_eq!(time_rel("+1h", t).unwrap().millis(), t.millis() + 3_600_000);
        assert_eq!(time_rel("-1h", t).unwrap().millis(), t.millis() - 3_600_000);
        assert!(time("yesterday").is_err());
    }

    #[test]
    fn aliases() {
        assert_eq!(grant_type("logs").unwrap(), GrantType::ClusterDatabaseLogs);
        assert_eq!(
            grant_type("cluster_infrastructure").unwrap(),
            GrantType::ClusterInfrastructure
        );
        assert_eq!(resource("audit").unwrap(), Resource::AuditLogs);
        assert_eq!(resource("database-logs").unwrap(), Resource::DatabaseLogs);
        assert!(grant_type("everything").is_err());
        assert_eq!(role("org_owner").unwrap(), Role::OrgOwner);
        assert_eq!(
            role("manager:p1").unwrap(),
            Role::ProjectSupportAccessManager("p1".into())
        );
        assert!(role("PROJECT_OWNER").is_err());
    }
}
