//! Runs one parsed command: read and replay the record, apply the operation with the core's
//! typed API, append the new events, print the result (text, or the SPEC's JSON).

use std::io::Write;
use std::time::{Duration, Instant};

use support_access_core::grant::Ending;
use support_access_core::{Decision, Event, EventKind, Policy, PolicyOptions, Resource, Timestamp};
use support_access_store::{host_clock, Location, Now, Store};

use crate::args::{Cli, ClusterCmd, Command, DownloadCmd, Global, ProjectCmd, StoreCmd};
use crate::fail::{Fail, EXIT_DENIED};
use crate::open::{location, open};
use crate::parse;
use crate::ui::{self, Ui};

/// Runs a command; returns the exit code (0, or 1 for a denied `check`).
pub fn run(cli: &Cli, ui: &Ui) -> Result<u8, Fail> {
    let g = &cli.global;
    match &cli.command {
        Command::Init {
            restrict,
            max_grant,
        } => init(g, ui, *restrict, max_grant.as_deref()),
        Command::Demo => crate::demo::run(g, ui, run),
        Command::Apply { command } => crate::apply::run(g, command.as_deref()),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "support-access", &mut std::io::stdout());
            Ok(0)
        }
        Command::Status => status(g, ui, false),
        Command::Cluster(ClusterCmd::List) => status(g, ui, true),
        Command::Check {
            cluster,
            resource,
            at,
        } => check(g, ui, cluster, resource, at.as_deref()),
        Command::Log { cluster } => log(g, ui, cluster.as_deref()),
        Command::Verify(v) if v.checkpoints.is_some() => crate::checkpoints::verify(g, ui, v),
        Command::Verify(_) => verify(g, ui),
        Command::Key(cmd) => crate::checkpoints::key(g, ui, cmd),
        Command::Checkpoint { key, out } => {
            crate::checkpoints::checkpoint(g, ui, key, out.as_deref())
        }
        Command::Follow {
            from,
            until_seq,
            timeout,
        } => follow(g, ui, *from, *until_seq, timeout.as_deref()),
        Command::Store(cmd) => store_cmd(g, ui, cmd),
        Command::Serve {
            listen,
            tokens,
            key,
            allow_origin,
        } => {
            let config = support_access_server::Config {
                listen: *listen,
                store: location(g)?,
                tokens: tokens.clone(),
                signing_key: key
                    .as_deref()
                    .map(crate::checkpoints::read_signing_key)
                    .transpose()?,
                allow_origins: allow_origin.clone(),
            };
            support_access_server::run(config).map_err(Fail::usage)?;
            Ok(0)
        }
        Command::Download(DownloadCmd::Continue { id }) => {
            let store = open(g)?;
            let now = now(g)?;
            let d = store
                .policy()
                .continue_log_download(id, now)
                .map_err(Fail::policy)?;
            if g.json {
                println!("{}", ok_decision(&d));
            } else {
                println!(
                    "{} download {id} may continue: {}",
                    ui.verdict(d.allowed),
                    match d.remaining_ms {
                        Some(ms) => format!(
                            "access is still allowed ({} left on the grant)",
                            ui.countdown(ms)
                        ),
                        None => String::from(
                            "it began while allowed, and a download in progress is never cut off"
                        ),
                    }
                );
            }
            Ok(0)
        }
        Command::ImportAtlas {
            org_settings,
            clusters,
        } => import_atlas(g, ui, org_settings, clusters),
        cmd => mutate(g, ui, cmd),
    }
}

/// `--now`, or the system clock.
fn now(g: &Global) -> Result<Timestamp, Fail> {
    match &g.now {
        Some(t) => parse::time(t),
        None => Ok(host_clock()),
    }
}

/// How a mutation is stamped: exactly `--now`, or the clock but never behind the record's head
/// (another writer's clock may run a little ahead of this one's).
fn now_for_write(g: &Global) -> Result<Now, Fail> {
    Ok(match &g.now {
        Some(t) => Now::At(parse::time(t)?),
        None => Now::Clock,
    })
}

fn label(g: &Global, ui: &Ui) -> String {
    ui.record_label
        .clone()
        .unwrap_or_else(|| location(g).map_or_else(|_| String::from("?"), |l| l.to_string()))
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// For `CLUSTER_NOT_FOUND`, a hint naming the clusters there are.
fn known_clusters(f: Fail, p: &Policy) -> Fail {
    if f.code != "CLUSTER_NOT_FOUND" {
        return f;
    }
    let names: Vec<&str> = p.clusters().map(|c| c.name.as_str()).collect();
    if names.is_empty() {
        f.hint("the record has no clusters yet: add one with `support-access cluster add NAME --project P`")
    } else {
        f.hint(format!("clusters: {}", names.join(", ")))
    }
}

fn ok_event(e: &Event) -> String {
    format!("{{\"ok\":{}}}", e.json())
}

fn ok_decision(d: &Decision) -> String {
    format!(
        "{{\"ok\":{}}}",
        serde_json::to_string(d).expect("decisions serialize")
    )
}

fn init(g: &Global, ui: &Ui, restrict: bool, max_grant: Option<&str>) -> Result<u8, Fail> {
    let org = g.org.as_deref().ok_or_else(|| {
        Fail::usage("init needs --org ID: the organization whose record to create")
    })?;
    let mut options = PolicyOptions::new(org);
    options.restrict_employee_access = restrict;
    // The record says when it was created: the clock, or --now.
    options.created_at = Some(now(g)?);
    if let Some(m) = max_grant {
        options.max_grant_duration_ms = if m.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(parse::duration_ms(m)?)
        };
    }
    // Checked before the store is touched, so bad options create nothing.
    let policy = Policy::new(options.clone()).map_err(Fail::arg)?;
    let store = Store::create(&location(g)?, options).map_err(Fail::store)?;
    let created = store.policy().events().remove(0);
    if g.json {
        println!("{}", ok_event(&created));
    } else {
        println!(
            "Created record {} for organization {org}: support access {}, grants up to {}.",
            label(g, ui),
            if restrict {
                ui.yellow("restricted")
            } else {
                String::from("not restricted")
            },
            ui::duration(policy.max_grant_duration_ms())
        );
    }
    Ok(0)
}

/// The operations that change the policy: checked, applied, appended.
fn mutate(g: &Global, ui: &Ui, cmd: &Command) -> Result<u8, Fail> {
    debug_assert!(cmd.writes());
    // Everything that can be read from the command line is read before the record is touched.
    #[derive(Clone, Copy)]
    enum Op<'a> {
        Restrict(bool),
        AddProject(&'a str),
        RemoveProject(&'a str),
        AddCluster {
            name: &'a str,
            project: &'a str,
            kind: support_access_core::ClusterKind,
            sync: bool,
        },
        RemoveCluster(&'a str),
        Grant {
            cluster: &'a str,
            grant_type: support_access_core::GrantType,
            duration: Option<i64>,
            until: Option<&'a str>,
        },
        Revoke(&'a str),
        Expire,
        BeginDownload(&'a str, Resource),
        FinishDownload(&'a str),
    }
    let op = match cmd {
        Command::Restrict { state } => Op::Restrict(state == "on"),
        Command::Project(ProjectCmd::Add { id }) => Op::AddProject(id),
        Command::Project(ProjectCmd::Remove { id }) => Op::RemoveProject(id),
        Command::Cluster(ClusterCmd::Add {
            name,
            project,
            kind,
            sync,
        }) => Op::AddCluster {
            name,
            project,
            kind: kind
                .as_deref()
                .map(parse::kind)
                .transpose()?
                .unwrap_or_default(),
            sync: *sync,
        },
        Command::Cluster(ClusterCmd::Remove { name }) => Op::RemoveCluster(name),
        Command::Grant {
            cluster,
            grant_type,
            duration,
            until,
        } => Op::Grant {
            cluster,
            grant_type: parse::grant_type(grant_type)?,
            duration: duration.as_deref().map(parse::duration_ms).transpose()?,
            until: until.as_deref(),
        },
        Command::Revoke { cluster } => Op::Revoke(cluster),
        Command::Expire => Op::Expire,
        Command::Download(DownloadCmd::Begin { cluster, resource }) => {
            Op::BeginDownload(cluster, parse::resource(resource)?)
        }
        Command::Download(DownloadCmd::Finish { id }) => Op::FinishDownload(id),
        _ => unreachable!("not a mutation"),
    };
    let needs_actor = !matches!(
        op,
        Op::Expire | Op::BeginDownload(..) | Op::FinishDownload(_)
    );
    let actor = if needs_actor {
        Some(parse::actor(g.actor.as_deref(), &g.roles)?)
    } else {
        None
    };
    if let Some(t) = &g.now {
        parse::time(t)?;
    }
    let mut store = open(g)?;
    let mut before = 0;
    let mut now = Timestamp::EPOCH;
    // Runs on the caught-up cache; again, on the new state, if another writer stored first.
    let (main, expired) = store
        .write(now_for_write(g)?, |p, at| -> Result<_, Fail> {
            before = p.record().len();
            now = at;
            let a = || actor.as_ref().expect("actor parsed above");
            let main: Option<Event> = match op {
                Op::Restrict(on) => Some(p.set_restriction(a(), on, now)),
                Op::AddProject(id) => Some(p.add_project(a(), id, now)),
                Op::RemoveProject(id) => Some(p.remove_project(a(), id, now)),
                Op::AddCluster {
                    name,
                    project,
                    kind,
                    sync,
                } => Some(p.add_cluster(a(), project, name, kind, sync, now)),
                Op::RemoveCluster(name) => Some(p.remove_cluster(a(), name, now)),
                Op::Grant {
                    cluster,
                    grant_type,
                    duration,
                    until,
                } => {
                    let expiration = match (duration, until) {
                        (Some(ms), _) => Some(
                            now.checked_add_millis(ms)
                                .ok_or_else(|| Fail::usage("--for reaches past the year 9999"))?,
                        ),
                        (None, Some(t)) => Some(parse::time_rel(t, now)?),
                        (None, None) => None,
                    };
                    Some(p.grant(a(), cluster, grant_type, now, expiration))
                }
                Op::Revoke(cluster) => Some(p.revoke(a(), cluster, now)),
                Op::Expire => None,
                Op::BeginDownload(cluster, resource) => {
                    Some(p.begin_log_download(cluster, resource, now))
                }
                Op::FinishDownload(id) => Some(p.finish_log_download(id, now)),
            }
            .transpose()
            .map_err(|e| known_clusters(Fail::policy(e), p))?;
            let expired = if main.is_none() {
                p.expire_due(now).map_err(Fail::policy)?
            } else {
                Vec::new()
            };
            Ok((main, expired))
        })
        .map_err(Fail::store)??;

    // Only the new lines are parsed: on a long record, `events()` would re-read all of it.
    let new: Vec<Event> = store
        .policy()
        .record()
        .lines()
        .skip(before)
        .map(|l| support_access_core::replay::parse_event(l).expect("the core's own lines parse"))
        .collect();
    if g.json {
        match (&main, cmd) {
            (Some(e), Command::Download(DownloadCmd::Begin { .. })) => {
                let EventKind::EmployeeDownloadedClusterLogs { download_id, .. } = &e.kind else {
                    unreachable!()
                };
                println!(
                    "{{\"ok\":{{\"downloadId\":{},\"event\":{}}}}}",
                    serde_json::Value::from(download_id.as_str()),
                    e.json()
                );
            }
            (Some(e), _) => println!("{}", ok_event(e)),
            (None, _) => {
                let lines: Vec<&str> = expired.iter().map(Event::json).collect();
                println!("{{\"ok\":[{}]}}", lines.join(","));
            }
        }
        return Ok(0);
    }
    let main_seq = main.as_ref().map(|e| e.seq);
    for e in new.iter().filter(|e| Some(e.seq) != main_seq) {
        if let EventKind::EmployeeAccessExpired {
            cluster,
            grant_type,
            expiration_time,
        } = &e.kind
        {
            println!("{}", ui.dim(&format!("Recorded: the {grant_type} grant on {cluster} expired at {expiration_time} (event #{}).", e.seq)));
        }
    }
    match &main {
        None if expired.is_empty() => println!("No grant has run out; nothing to record."),
        None => {}
        Some(e) => println!("{}", describe_mutation(store.policy(), ui, e, now)),
    }
    Ok(0)
}

fn describe_mutation(p: &Policy, ui: &Ui, e: &Event, now: Timestamp) -> String {
    let seq = ui.dim(&format!("(event #{})", e.seq));
    match &e.kind {
        EventKind::OrgEmployeeAccessRestricted => format!(
            "Support access for organization {} is now {}: support staff need a grant on each cluster. {seq}",
            p.org_id(),
            ui.yellow("RESTRICTED")
        ),
        EventKind::OrgEmployeeAccessUnrestricted => format!(
            "Support access for organization {} is {}: support staff may reach infrastructure and logs of every cluster. {seq}",
            p.org_id(),
            ui.bold("no longer restricted")
        ),
        EventKind::ProjectAdded { project_id } => format!("Added project {project_id}. {seq}"),
        EventKind::ProjectRemoved { project_id, clusters_removed } if clusters_removed.is_empty() => {
            format!("Removed project {project_id}. {seq}")
        }
        EventKind::ProjectRemoved { project_id, clusters_removed } => {
            format!("Removed project {project_id} and its clusters {}. {seq}", clusters_removed.join(", "))
        }
        EventKind::ClusterAdded { cluster, project_id, kind, app_services_sync_enabled } => format!(
            "Added cluster {cluster} to project {project_id} ({kind}, App Services sync {}). {seq}",
            if *app_services_sync_enabled { "on" } else { "off" }
        ),
        EventKind::ClusterRemoved { cluster, project_id } => format!("Removed cluster {cluster} from project {project_id}. {seq}"),
        EventKind::EmployeeAccessGranted { cluster, grant_type, expiration_time, replaced } => {
            let mut s = format!(
                "Granted {} on {cluster} until {expiration_time} ({} left). {seq}",
                ui.green(grant_type.as_str()),
                ui.countdown(expiration_time.millis() - now.millis())
            );
            if let Some(r) = replaced {
                s.push_str(&format!("\n  It replaces the {} grant that ran until {}.", r.grant_type, r.expiration_time));
            }
            if !p.restrict_employee_access() {
                s.push_str("\n  Note: the organization does not restrict support access, so the grant only matters once it does (and for SYNC_DATA).");
            }
            s
        }
        EventKind::EmployeeAccessRevoked { cluster, grant_type, expiration_time } => format!(
            "Revoked the {grant_type} grant on {cluster} ({} before it would have expired at {expiration_time}). {seq}",
            ui::countdown(expiration_time.millis() - now.millis())
        ),
        EventKind::EmployeeDownloadedClusterLogs { cluster, resource, download_id } => format!(
            "{} download {} of {resource} on {cluster} began; it may run to completion even if access ends. {seq}",
            ui.verdict(true),
            ui.bold(download_id)
        ),
        EventKind::EmployeeLogDownloadFinished { cluster, download_id } => {
            format!("Download {download_id} on {cluster} finished. {seq}")
        }
        _ => format!("{} {seq}", ui::event_summary(e)),
    }
}

fn status(g: &Global, ui: &Ui, list_only: bool) -> Result<u8, Fail> {
    let mut store = open(g)?;
    let now = now(g)?;
    if g.json {
        let describe = format!("{{\"op\":\"describe\",\"now\":{}}}", now.millis());
        println!("{}", store.apply(describe.as_bytes()).map_err(Fail::store)?);
        return Ok(0);
    }
    let p = store.policy();
    if !list_only {
        println!(
            "Organization {}: support access {}; grants up to {}. As of {}.",
            ui.bold(p.org_id()),
            if p.restrict_employee_access() {
                ui.yellow("RESTRICTED (only clusters with a grant)")
            } else {
                String::from("not restricted (every cluster's infrastructure and logs)")
            },
            ui::duration(p.max_grant_duration_ms()),
            now
        );
    }
    if p.clusters().next().is_none() {
        println!("No clusters yet: add one with `support-access cluster add NAME --project P`.");
        return Ok(0);
    }
    let plain = |s: String| (s.clone(), s);
    let rows: Vec<Vec<(String, String)>> = p
        .clusters()
        .map(|c| {
            let mut row = vec![plain(c.name.clone()), plain(c.project_id.clone())];
            if list_only {
                row.push(plain(c.kind.to_string()));
                row.push(plain(String::from(if c.app_services_sync_enabled {
                    "on"
                } else {
                    "off"
                })));
            }
            match c.active_grant(now) {
                Some(gr) => {
                    let left = gr.expiration_time.millis() - now.millis();
                    row.push(plain(gr.grant_type.to_string()));
                    row.push(plain(gr.expiration_time.to_string()));
                    row.push((ui::countdown(left), ui.countdown(left)));
                }
                None => {
                    let why = match &c.grant {
                        _ if c.kind != support_access_core::ClusterKind::Dedicated => {
                            "takes no grants"
                        }
                        None => "no grant",
                        Some(gs) if matches!(gs.ended, Some(Ending::Revoked(_))) => "revoked",
                        Some(_) => "expired",
                    };
                    row.push(plain(String::from("-")));
                    row.push(plain(String::from("-")));
                    row.push((why.to_string(), ui.dim(why)));
                }
            }
            row
        })
        .collect();
    if list_only {
        ui.table(
            &[
                "CLUSTER",
                "PROJECT",
                "KIND",
                "SYNC",
                "GRANT TYPE",
                "EXPIRES AT",
                "LEFT",
            ],
            &rows,
        );
    } else {
        ui.table(
            &["CLUSTER", "PROJECT", "GRANT TYPE", "EXPIRES AT", "LEFT"],
            &rows,
        );
        let downloads: Vec<&str> = p.downloads_in_progress().collect();
        if !downloads.is_empty() {
            println!("Downloads in progress: {}", downloads.join(", "));
        }
    }
    Ok(0)
}

fn check(g: &Global, ui: &Ui, cluster: &str, resource: &str, at: Option<&str>) -> Result<u8, Fail> {
    let resource = parse::resource(resource)?;
    if let Some(t) = &g.now {
        parse::time(t)?;
    }
    let store = open(g)?;
    let now = now(g)?;
    let p = store.policy();
    let (d, when) = match at {
        Some(t) => {
            let at = parse::time_rel(t, now)?;
            (
                p.evaluate_at(cluster, resource, at)
                    .map_err(|e| known_clusters(Fail::policy(e), p))?,
                Some(at),
            )
        }
        None => (
            p.evaluate(cluster, resource, now)
                .map_err(|e| known_clusters(Fail::policy(e), p))?,
            None,
        ),
    };
    if g.json {
        println!("{}", ok_decision(&d));
    } else {
        let mut s = format!(
            "{}  {cluster} {resource}{}: {} ({})",
            ui.verdict(d.allowed),
            when.map(|t| format!(" at {t}")).unwrap_or_default(),
            ui::explain(&d, resource),
            d.reason
        );
        if let (Some(e), Some(ms)) = (d.expiration_time, d.remaining_ms) {
            s.push_str(&format!("; grant expires {e}, {} left", ui.countdown(ms)));
        }
        if when.is_some() {
            s.push_str(&ui.dim(" [from the record]"));
        }
        println!("{s}");
    }
    Ok(if d.allowed { 0 } else { EXIT_DENIED })
}

fn log(g: &Global, ui: &Ui, cluster: Option<&str>) -> Result<u8, Fail> {
    let store = open(g)?;
    for e in store.policy().events().iter().filter(|e| about(e, cluster)) {
        if g.json {
            println!("{}", e.json());
        } else {
            println!("{}", ui::event_line(ui, e));
        }
    }
    Ok(0)
}

/// Whether an event is about the cluster (every event, without one).
fn about(e: &Event, cluster: Option<&str>) -> bool {
    {
        let Some(name) = cluster else { return true };
        match &e.kind {
            EventKind::ClusterAdded { cluster, .. }
            | EventKind::ClusterRemoved { cluster, .. }
            | EventKind::EmployeeAccessGranted { cluster, .. }
            | EventKind::EmployeeAccessRevoked { cluster, .. }
            | EventKind::EmployeeAccessExpired { cluster, .. }
            | EventKind::EmployeeDownloadedClusterLogs { cluster, .. }
            | EventKind::EmployeeLogDownloadFinished { cluster, .. } => cluster == name,
            EventKind::ProjectRemoved {
                clusters_removed, ..
            } => clusters_removed.iter().any(|c| c == name),
            EventKind::AtlasLoaded { clusters, .. } => clusters.iter().any(|c| c.cluster == name),
            _ => false,
        }
    }
}

/// `follow`: prints events as they are recorded (by any writer), verified first.
fn follow(
    g: &Global,
    ui: &Ui,
    from: Option<u64>,
    until: Option<u64>,
    timeout: Option<&str>,
) -> Result<u8, Fail> {
    let timeout = timeout.map(parse::duration_ms).transpose()?;
    let mut store = open(g)?;
    let deadline = timeout.map(|ms| Instant::now() + Duration::from_millis(ms.max(0) as u64));
    let mut printed = from.unwrap_or_else(|| store.head()).min(store.head());
    let mut out = std::io::stdout().lock();
    loop {
        for line in store.policy().record().lines().skip(printed as usize) {
            let text = if g.json {
                String::from(line)
            } else {
                let e = support_access_core::replay::parse_event(line)
                    .expect("the core's own lines parse");
                ui::event_line(ui, &e)
            };
            writeln!(out, "{text}")
                .and_then(|()| out.flush())
                .map_err(|e| Fail::usage(format!("cannot write standard output: {e}")))?;
        }
        printed = store.head();
        if until.is_some_and(|u| printed >= u) {
            return Ok(0);
        }
        let wait = match deadline {
            Some(d) if Instant::now() >= d => return Ok(EXIT_DENIED),
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1)),
            None => Duration::from_secs(1),
        };
        store.wait_for_change(wait).map_err(Fail::store)?;
    }
}

/// `store migrate | schema | orgs`.
fn store_cmd(g: &Global, ui: &Ui, cmd: &StoreCmd) -> Result<u8, Fail> {
    match cmd {
        StoreCmd::Schema => {
            print!(
                "{}\n-- An application role that may only read and append:\n{}",
                support_access_store::postgres::SCHEMA,
                support_access_store::postgres::GRANTS
            );
            Ok(0)
        }
        StoreCmd::Orgs => {
            for org in Store::orgs(&location(g)?).map_err(Fail::store)? {
                println!("{org}");
            }
            Ok(0)
        }
        StoreCmd::Migrate { to } => {
            let from = open(g)?;
            let target = Location::parse(to).map_err(Fail::store)?;
            let copied =
                Store::import(&target, from.policy().record().as_text()).map_err(Fail::store)?;
            let r = copied.policy().record();
            if g.json {
                println!(
                    "{{\"ok\":{{\"orgId\":{},\"events\":{},\"lastHash\":\"{}\"}}}}",
                    serde_json::Value::from(copied.org_id()),
                    r.len(),
                    r.last_hash()
                );
            } else {
                println!(
                    "{} copied {} of organization {} from {} to {}; read back and verified there, head {}.",
                    ui.green("OK"),
                    plural(r.len(), "event"),
                    copied.org_id(),
                    label(g, ui),
                    target,
                    r.last_hash()
                );
            }
            Ok(0)
        }
    }
}

fn verify(g: &Global, ui: &Ui) -> Result<u8, Fail> {
    let store = open(g)?;
    let r = store.policy().record();
    if g.json {
        println!(
            "{{\"ok\":{{\"events\":{},\"lastHash\":\"{}\"}}}}",
            r.len(),
            r.last_hash()
        );
    } else {
        println!(
            "{} record {}: {} events, every hash and operation checks out; head {}",
            ui.green("OK"),
            label(g, ui),
            r.len(),
            r.last_hash()
        );
    }
    Ok(0)
}

fn read_json(path: &std::path::Path, what: &str) -> Result<serde_json::Value, Fail> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fail::usage(format!("cannot read {what} file {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Fail::policy(support_access_core::Error::MalformedInput {
            detail: format!(
                "{what} file {}: invalid JSON at line {} column {}: {e}",
                path.display(),
                e.line(),
                e.column()
            ),
        })
    })
}

fn import_atlas(
    g: &Global,
    ui: &Ui,
    org_settings: &std::path::Path,
    clusters: &std::path::Path,
) -> Result<u8, Fail> {
    let settings = read_json(org_settings, "org settings")?;
    // An array of descriptions or a listClusters page, as Atlas answers: the core reads both.
    let list = read_json(clusters, "clusters")?;
    let mut store = open(g)?;
    let summary = store
        .write(now_for_write(g)?, |p, now| {
            p.load_atlas_at(&settings, &list, Some(now))
        })
        .map_err(Fail::store)?
        .map_err(Fail::policy)?;
    if g.json {
        println!(
            "{{\"ok\":{}}}",
            serde_json::to_string(&summary).expect("summaries serialize")
        );
    } else {
        println!(
            "Loaded {} ({}) and {} from Admin API JSON{}. {}",
            plural(summary.clusters, "cluster"),
            plural(summary.projects, "new project"),
            plural(summary.grants, "grant"),
            if summary.expired_grants_skipped > 0 {
                format!(
                    "; skipped {} that had already expired",
                    plural(summary.expired_grants_skipped, "grant")
                )
            } else {
                String::new()
            },
            ui.dim(&format!("(event #{})", store.policy().record().len()))
        );
    }
    Ok(0)
}
