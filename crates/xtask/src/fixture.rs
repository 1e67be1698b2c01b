//! The organization that the steps starting `support-access serve` put in front of it (the
//! schemathesis run, the service benchmark, `cargo xtask web --live`): a record made through the
//! CLI, and a tokens file with one owner.

use std::path::Path;
use std::process::Command;

use crate::ctx::Ctx;
use crate::net::sha256_hex;

/// Writes a tokens file that gives `token` (stored only as its SHA-256) to `actor`, an
/// `ORG_OWNER` of `org`.
pub fn owner_tokens(path: &Path, token: &str, actor: &str, org: &str) {
    std::fs::write(
        path,
        format!(
            r#"{{"tokens":[{{"sha256":"{}","id":"{actor}","orgs":{{"{org}":[{{"role":"ORG_OWNER"}}]}}}}]}}"#,
            sha256_hex(token)
        ),
    )
    .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Creates `org` (support blocked) with `project` and its clusters through the CLI `bin`, with
/// `store` (e.g. `--record FILE`) before every command and `owner` as the acting owner. Each
/// cluster is its name and any further `cluster add` flags (`--sync`). Each command is one setup
/// of `ctx`, named `{label}: support-access …`; false at the first that fails.
pub fn seed_org(
    ctx: &mut Ctx,
    label: &str,
    bin: &Path,
    store: &[&str],
    (org, owner): (&str, &str),
    project: &str,
    clusters: &[&[&str]],
) -> bool {
    let as_owner = ["--actor", owner, "--role", "ORG_OWNER"];
    let mut steps: Vec<Vec<&str>> = vec![
        vec!["init", "--org", org, "--restrict"],
        [&as_owner[..], &["project", "add", project]].concat(),
    ];
    for c in clusters {
        let (name, flags) = c.split_first().expect("a cluster has a name");
        steps.push(
            [
                &as_owner[..],
                &["cluster", "add", name, "--project", project],
                flags,
            ]
            .concat(),
        );
    }
    steps.iter().all(|args| {
        let mut c = Command::new(bin);
        c.args(store).args(args).env("NO_COLOR", "1");
        ctx.setup(
            &format!("{label}: support-access {}", args.join(" ")),
            &mut c,
        )
    })
}
