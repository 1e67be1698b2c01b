//! `support-access demo`: a scripted day on a temporary record. Every step is a real command
//! line run through the same code as a typed-in one, at a fixed time, so the output is stable.
//! The demo checks each step's exit code and fails (exit 3) if the policy ever answers otherwise.

use clap::Parser;

use crate::args::{Cli, Global};
use crate::fail::{Fail, EXIT_POLICY};
use crate::ui::Ui;

const DAY: &str = "2026-11-28";
const ALICE: &[&str] = &["--actor", "alice", "--role", "ORG_OWNER"];
const BOB: &[&str] = &["--actor", "bob", "--role", "manager:prod"];

/// One step: time (HH:MM), who acts, the command, the exit code it must give, what to say first.
struct Step {
    time: &'static str,
    actor: &'static [&'static str],
    command: &'static str,
    expect: u8,
    say: &'static str,
}

const fn step(
    time: &'static str,
    actor: &'static [&'static str],
    command: &'static str,
    expect: u8,
    say: &'static str,
) -> Step {
    Step {
        time,
        actor,
        command,
        expect,
        say,
    }
}

const NOBODY: &[&str] = &[];

const SCRIPT: &[Step] = &[
    step("08:55", NOBODY, "init --org acme", 0, "Acme starts a record for its organization. Support access is open by default."),
    step("08:55", ALICE, "project add prod", 0, ""),
    step("08:56", ALICE, "cluster add Cluster0 --project prod", 0, ""),
    step("08:56", ALICE, "cluster add Analytics --project prod", 0, ""),
    step("09:00", NOBODY, "check Cluster0 logs", 0, "Anyone holding the record may ask: may support read Cluster0's database logs?"),
    step("09:05", ALICE, "restrict on", 0, "Alice, the org owner, restricts support access: from now on a cluster must grant it."),
    step("09:05", NOBODY, "check Cluster0 logs", 1, ""),
    step("09:10", BOB, "grant Cluster0 --type logs --for 6h", 0, "An incident. Bob, support access manager of project prod, grants logs-only access for 6 hours."),
    step("09:10", NOBODY, "status", 0, ""),
    step("10:00", NOBODY, "check Cluster0 DATABASE_LOGS", 0, "Support reads the database logs; audit logs, hosts and documents stay out of reach."),
    step("10:00", NOBODY, "check Cluster0 AUDIT_LOGS", 1, ""),
    step("10:00", NOBODY, "check Cluster0 INFRASTRUCTURE", 1, ""),
    step("10:00", NOBODY, "check Cluster0 DATABASE_DATA", 1, ""),
    step("10:30", NOBODY, "download begin Cluster0 logs", 0, "Support starts downloading the logs."),
    step("10:45", BOB, "revoke Cluster0", 0, "The incident is solved; Bob revokes the grant."),
    step("10:45", NOBODY, "check Cluster0 logs", 1, ""),
    step("10:50", NOBODY, "download continue dl-7", 0, "The download that began while allowed survives the revoke…"),
    step("10:50", NOBODY, "download begin Cluster0 logs", 3, "…but no new download may begin."),
    step("11:00", NOBODY, "download finish dl-7", 0, ""),
    step("12:00", ALICE, "grant Analytics --type infra --for 2h", 0, "Alice grants infrastructure access (hosts and all logs) on Analytics for 2 hours."),
    step("13:30", NOBODY, "status", 0, "Half past one: the countdown shows what is left."),
    step("14:30", NOBODY, "check Analytics infra", 1, "At 14:00 the grant ran out on its own: no sweep is needed to enforce expiry."),
    step("14:30", NOBODY, "expire", 0, "`expire` writes the expiry into the record, stamped with the grant's own expiration time."),
    step("14:30", NOBODY, "status", 0, ""),
    step("17:00", NOBODY, "check Cluster0 logs --at 2026-11-28T10:15:00Z", 0, "An auditor asks about the past, answered from the record alone: could support read Cluster0's logs at 10:15?"),
    step("17:00", NOBODY, "check Cluster0 logs --at 2026-11-28T11:00:00Z", 1, "And at 11:00, after the revoke?"),
    step("17:00", NOBODY, "check Cluster0 logs --at 2026-11-28T09:02:00Z", 0, "And at 09:02, before the org restricted access?"),
    step("17:05", NOBODY, "log", 0, "The whole day, as recorded: every event is hash-chained to the one before."),
    step("17:05", NOBODY, "verify", 0, ""),
];

fn argv(record: &str, time: &str, json: bool, s: &Step) -> Vec<String> {
    let mut v = vec![
        String::from("support-access"),
        String::from("--record"),
        String::from(record),
    ];
    v.push(String::from("--now"));
    v.push(format!("{DAY}T{time}:00Z"));
    if json {
        v.push(String::from("--json"));
    }
    v.extend(s.command.split_whitespace().map(String::from));
    v.extend(s.actor.iter().map(|a| String::from(*a)));
    v
}

/// Runs one command line; failures are printed to stdout so the demo reads as one stream.
fn exec(args: &[String], ui: &Ui, hide: &str, dispatch: Dispatch) -> Result<u8, Fail> {
    let cli = Cli::try_parse_from(args)
        .map_err(|e| Fail::usage(format!("demo step does not parse: {e}")))?;
    Ok(match dispatch(&cli, ui) {
        Ok(code) => code,
        Err(f) => {
            if cli.global.json {
                println!("{}", f.json);
            } else {
                println!("error: {} [{}]", f.message.replace(hide, ""), f.code);
            }
            f.exit
        }
    })
}

/// Runs one parsed command line (the CLI's dispatcher, passed in so the demo plays real commands
/// without the dispatcher and the demo importing each other).
pub type Dispatch = fn(&Cli, &Ui) -> Result<u8, Fail>;

pub fn run(g: &Global, ui: &Ui, dispatch: Dispatch) -> Result<u8, Fail> {
    let dir = tempfile::tempdir()
        .map_err(|e| Fail::usage(format!("demo: cannot create a temporary directory: {e}")))?;
    let record = dir.path().join("demo.jsonl");
    let record_s = record.to_string_lossy().into_owned();
    let hide = format!("{}{}", dir.path().display(), std::path::MAIN_SEPARATOR);
    let demo_ui = Ui {
        color: ui.color,
        record_label: Some(String::from("demo.jsonl (a temporary file)")),
    };
    let json = g.json;
    let mut wrong = Vec::new();
    if !json {
        println!(
            "{}",
            ui.bold(&format!(
                "support-access demo: one day at Acme, {DAY} (UTC), on a temporary record"
            ))
        );
    }
    for s in SCRIPT {
        if !json {
            if !s.say.is_empty() {
                println!("\n{}  {}", ui.bold(s.time), s.say);
            }
            let mut shown = format!("$ support-access {}", s.command);
            for a in s.actor {
                shown.push(' ');
                shown.push_str(a);
            }
            println!("{}", ui.dim(&shown));
        }
        let code = exec(&argv(&record_s, s.time, json, s), &demo_ui, &hide, dispatch)?;
        if code != s.expect {
            wrong.push(format!(
                "`{}` at {} exited {code}, expected {}",
                s.command, s.time, s.expect
            ));
        }
    }

    // Tampering: a copy of the record with one event changed in the middle is refused.
    let text = std::fs::read_to_string(&record).map_err(|e| Fail::record_io(&record, "read", e))?;
    let forged = text.replacen(
        "\"grantType\":\"CLUSTER_DATABASE_LOGS\"",
        "\"grantType\":\"CLUSTER_INFRASTRUCTURE\"",
        1,
    );
    let copy = dir.path().join("tampered.jsonl");
    std::fs::write(&copy, forged).map_err(|e| Fail::record_io(&copy, "write", e))?;
    if !json {
        println!(
            "\n{}  Someone edits a copy so that Bob's grant reads CLUSTER_INFRASTRUCTURE instead of logs only.",
            ui.bold("17:10")
        );
        println!(
            "{}",
            ui.dim("$ support-access --record tampered.jsonl verify")
        );
    }
    let verify = Step {
        time: "17:10",
        actor: NOBODY,
        command: "verify",
        expect: 4,
        say: "",
    };
    let code = exec(
        &argv(&copy.to_string_lossy(), "17:10", json, &verify),
        &demo_ui,
        &hide,
        dispatch,
    )?;
    if code != verify.expect {
        wrong.push(format!(
            "verify of the tampered copy exited {code}, expected 4"
        ));
    }

    if wrong.is_empty() {
        if !json {
            println!("\nThat was the demo. Try the same commands on a record of your own: `support-access --help`.");
        }
        Ok(0)
    } else {
        for w in &wrong {
            eprintln!("demo: {w}");
        }
        Ok(EXIT_POLICY)
    }
}
