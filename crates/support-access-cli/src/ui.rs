//! Text output: colors on a terminal (plain when piped or with NO_COLOR), countdowns, tables,
//! and one-line explanations of decisions and events.

use std::io::IsTerminal;

use support_access_core::{Decision, Event, EventKind, Reason, Resource};

/// How text is written.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    /// ANSI colors.
    pub color: bool,
    /// Show this instead of the record's path (the demo's temporary file).
    pub record_label: Option<String>,
}

impl Ui {
    /// Colors when stdout is a terminal and NO_COLOR is not set.
    pub fn detect() -> Ui {
        let color = std::io::stdout().is_terminal()
            && !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty());
        Ui {
            color,
            record_label: None,
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    /// ALLOW in green or DENY in red.
    pub fn verdict(&self, allowed: bool) -> String {
        if allowed {
            self.green("ALLOW")
        } else {
            self.red("DENY ")
        }
    }

    /// A countdown colored by urgency: green, yellow under an hour, red under ten minutes.
    pub fn countdown(&self, ms: i64) -> String {
        let text = countdown(ms);
        if ms < 10 * 60_000 {
            self.red(&text)
        } else if ms < 3_600_000 {
            self.yellow(&text)
        } else {
            self.green(&text)
        }
    }

    /// Prints rows as aligned columns; `cells` hold (plain text, colored text).
    pub fn table(&self, header: &[&str], rows: &[Vec<(String, String)>]) {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (i, (plain, _)) in r.iter().enumerate() {
                widths[i] = widths[i].max(plain.chars().count());
            }
        }
        let line = |cells: Vec<(String, String)>| {
            let n = cells.len();
            let mut s = String::new();
            for (i, (plain, shown)) in cells.into_iter().enumerate() {
                s.push_str(&shown);
                if i + 1 < n {
                    s.push_str(&" ".repeat(widths[i] - plain.chars().count() + 2));
                }
            }
            s
        };
        println!(
            "{}",
            line(
                header
                    .iter()
                    .map(|h| (h.to_string(), self.bold(h)))
                    .collect()
            )
        );
        for r in rows {
            println!("{}", line(r.clone()));
        }
    }
}

/// `23h 59m`, `5m 10s`, `42s`; hours up to 48, then days.
pub fn countdown(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600, (s % 3600) / 60, s % 60);
    if h >= 48 {
        format!("{d}d {}h", h % 24)
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    }
}

/// A duration in words for messages: `24h`, `90m`, `none`.
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => String::from("no limit"),
        Some(ms) if ms % 86_400_000 == 0 && ms >= 2 * 86_400_000 => format!("{}d", ms / 86_400_000),
        Some(ms) if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        Some(ms) if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        Some(ms) => countdown(ms),
    }
}

/// Why a decision came out as it did, in words.
pub fn explain(d: &Decision, resource: Resource) -> String {
    let r = resource.as_str();
    match d.reason {
        Reason::ClusterNotFound => String::from("no such cluster"),
        Reason::DatabaseDataNeverAccessible => {
            String::from("no grant ever lets support read the customer's documents")
        }
        Reason::SyncDataRequiresGrant => String::from(
            "sync data needs an active CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA grant on a cluster with sync enabled",
        ),
        Reason::OrgUnrestricted => String::from("the organization does not restrict support access"),
        Reason::GrantActive => format!("the active {} grant covers {r}", d.grant_type.map_or("", |g| g.as_str())),
        Reason::NotCoveredByGrant => {
            format!("the active {} grant does not cover {r}", d.grant_type.map_or("", |g| g.as_str()))
        }
        Reason::GrantExpired => String::from("support access is restricted and the last grant expired"),
        Reason::GrantRevoked => String::from("support access is restricted and the last grant was revoked"),
        Reason::NoGrant => String::from("support access is restricted and the cluster has no grant"),
    }
}

fn actor_text(e: &Event) -> String {
    match &e.actor {
        None => String::from("-"),
        Some(a) => a.id.clone(),
    }
}

/// One event in words.
pub fn event_summary(e: &Event) -> String {
    match &e.kind {
        EventKind::PolicyCreated {
            org_id,
            restrict_employee_access,
            max_grant_duration_ms,
        } => format!(
            "organization {org_id}, support access {}, max grant {}",
            if *restrict_employee_access {
                "restricted"
            } else {
                "not restricted"
            },
            duration(*max_grant_duration_ms)
        ),
        EventKind::OrgEmployeeAccessRestricted => {
            String::from("support access restricted to granted clusters")
        }
        EventKind::OrgEmployeeAccessUnrestricted => {
            String::from("support access no longer restricted")
        }
        EventKind::ProjectAdded { project_id } => format!("project {project_id}"),
        EventKind::ProjectRemoved {
            project_id,
            clusters_removed,
        } => {
            if clusters_removed.is_empty() {
                format!("project {project_id}")
            } else {
                format!(
                    "project {project_id} with clusters {}",
                    clusters_removed.join(", ")
                )
            }
        }
        EventKind::ClusterAdded {
            cluster,
            project_id,
            kind,
            app_services_sync_enabled,
        } => format!(
            "{cluster} in project {project_id} ({kind}{})",
            if *app_services_sync_enabled {
                ", App Services sync"
            } else {
                ""
            }
        ),
        EventKind::ClusterRemoved {
            cluster,
            project_id,
        } => format!("{cluster} from project {project_id}"),
        EventKind::EmployeeAccessGranted {
            cluster,
            grant_type,
            expiration_time,
            replaced,
        } => {
            let mut s = format!("{cluster}: {grant_type} until {expiration_time}");
            if let Some(r) = replaced {
                s.push_str(&format!(
                    " (replaces {} until {})",
                    r.grant_type, r.expiration_time
                ));
            }
            s
        }
        EventKind::EmployeeAccessRevoked {
            cluster,
            grant_type,
            expiration_time,
        } => {
            format!("{cluster}: {grant_type} (was until {expiration_time})")
        }
        EventKind::EmployeeAccessExpired {
            cluster,
            grant_type,
            ..
        } => format!("{cluster}: {grant_type}"),
        EventKind::EmployeeDownloadedClusterLogs {
            cluster,
            resource,
            download_id,
        } => {
            format!("{cluster}: {resource} download {download_id} began")
        }
        EventKind::EmployeeLogDownloadFinished {
            cluster,
            download_id,
        } => {
            format!("{cluster}: download {download_id} finished")
        }
        EventKind::AtlasLoaded {
            restrict_employee_access,
            clusters,
        } => {
            let grants = clusters.iter().filter(|c| c.grant.is_some()).count();
            let n = clusters.len();
            let mut s = format!(
                "{n} cluster{}, {grants} grant{} from Admin API JSON",
                if n == 1 { "" } else { "s" },
                if grants == 1 { "" } else { "s" }
            );
            if let Some(r) = restrict_employee_access {
                s.push_str(if *r {
                    ", support access restricted"
                } else {
                    ", support access not restricted"
                });
            }
            s
        }
        _ => String::new(),
    }
}

/// A log line: `#seq  at  actor  TYPE  summary`.
pub fn event_line(ui: &Ui, e: &Event) -> String {
    let ty = format!("{:<32}", e.kind.type_name());
    let ty = ty.as_str();
    let ty_shown = match &e.kind {
        EventKind::EmployeeAccessGranted { .. } => ui.green(ty),
        EventKind::EmployeeAccessRevoked { .. } | EventKind::EmployeeAccessExpired { .. } => {
            ui.yellow(ty)
        }
        _ => ui.bold(ty),
    };
    format!(
        "{:>4}  {}  {:<10}  {ty_shown} {}",
        e.seq,
        ui.dim(&e.at.to_string()),
        actor_text(e),
        event_summary(e)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns() {
        assert_eq!(countdown(24 * 3_600_000 - 1), "23h 59m");
        assert_eq!(countdown(24 * 3_600_000), "24h 0m");
        assert_eq!(countdown(3 * 86_400_000 + 3_600_000), "3d 1h");
        assert_eq!(countdown(310_000), "5m 10s");
        assert_eq!(countdown(42_000), "42s");
        assert_eq!(duration(Some(86_400_000)), "24h");
        assert_eq!(duration(None), "no limit");
    }

    #[test]
    fn colors_only_when_asked() {
        let on = Ui {
            color: true,
            record_label: None,
        };
        let off = Ui::default();
        assert_eq!(on.countdown(2 * 3_600_000), "\x1b[32m2h 0m\x1b[0m");
        assert_eq!(on.countdown(30 * 60_000), "\x1b[33m30m 0s\x1b[0m");
        assert_eq!(on.countdown(60_000), "\x1b[31m1m 0s\x1b[0m");
        assert_eq!(off.countdown(60_000), "1m 0s");
        assert_eq!(off.verdict(false), "DENY ");
    }
}
