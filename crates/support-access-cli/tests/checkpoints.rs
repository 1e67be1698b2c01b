//! `key new`, `checkpoint` and `verify --checkpoints` (SPEC §9) against real files: an honest
//! record verifies, and one cut short or rewritten after a checkpoint is refused with exit 4,
//! the code and the checkpoint's seq.

use std::fs;
use std::path::Path;
use std::process::Output;

mod common;

use common::{cmd, exit};

const OWNER: &[&str] = &["--actor", "alice", "--role", "ORG_OWNER"];

fn run(record: &Path, args: &[&str]) -> Output {
    cmd()
        .arg("--record")
        .arg(record)
        .args(args)
        .output()
        .unwrap()
}

fn owner(record: &Path, now: &str, args: &[&str]) -> Output {
    let mut all = vec!["--now", now];
    all.extend_from_slice(OWNER);
    all.extend_from_slice(args);
    run(record, &all)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A record of org acme with a project and a cluster (3 events), and a signing key.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let record = dir.join("r.jsonl");
    exit(
        &run(
            &record,
            &[
                "--now",
                "2026-11-28T09:00:00Z",
                "init",
                "--org",
                "acme",
                "--restrict",
            ],
        ),
        0,
    );
    exit(
        &owner(&record, "2026-11-28T09:00:00Z", &["project", "add", "prod"]),
        0,
    );
    exit(
        &owner(
            &record,
            "2026-11-28T09:00:00Z",
            &["cluster", "add", "Cluster0", "--project", "prod"],
        ),
        0,
    );
    let key = dir.join("signing.key");
    let o = cmd()
        .args(["key", "new", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    exit(&o, 0);
    let public = String::from_utf8(o.stdout).unwrap().trim().to_string();
    assert!(public.starts_with("sa-ed25519-pub:"), "{public}");
    (record, key, public)
}

#[test]
fn key_new_writes_a_private_key_file_once_and_prints_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key, public) = setup(dir.path());
    let text = fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("sa-ed25519-key:") && text.ends_with('\n'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Never over an existing key; the key file is unchanged.
    let again = cmd()
        .args(["key", "new", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(exit(&again, 2).contains("exists"));
    assert_eq!(fs::read_to_string(&key).unwrap(), text);
    // `key public` gives the same public key; --json the SPEC publicKey shape.
    let o = cmd()
        .args(["key", "public", "--key"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), public);
    let o = cmd()
        .args(["--json", "key", "public", "--key"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(json(&o)["ok"]["publicKey"], public.as_str());
    // Two new keys differ (the seed comes from the OS).
    let other = dir.path().join("other.key");
    let o = cmd()
        .args(["key", "new", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    assert_ne!(String::from_utf8(o.stdout).unwrap().trim(), public);
    // A file that is no key is refused without echoing it.
    fs::write(dir.path().join("bad.key"), "sa-ed25519-key:hunter2\n").unwrap();
    let o = cmd()
        .args(["checkpoint", "--key"])
        .arg(dir.path().join("bad.key"))
        .arg("--record")
        .arg(dir.path().join("r.jsonl"))
        .output()
        .unwrap();
    let text = exit(&o, 2);
    assert!(
        text.contains("not a signing key") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn checkpoint_then_verify_catches_truncation_and_a_rewritten_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (record, key, public) = setup(dir.path());
    let key = key.to_str().unwrap();
    let cps = format!("{}.checkpoints", record.display());
    let cps_arg = ["--checkpoints", cps.as_str(), "--trust", public.as_str()];
    let verify = |r: &Path, json_out: bool| {
        let mut args = vec!["verify"];
        if json_out {
            args.insert(0, "--json");
        }
        args.extend_from_slice(&cps_arg);
        run(r, &args)
    };

    // A checkpoint at seq 3, by default next to the record.
    let o = run(
        &record,
        &[
            "--json",
            "--now",
            "2026-11-28T10:00:00Z",
            "checkpoint",
            "--key",
            key,
        ],
    );
    exit(&o, 0);
    let signed = json(&o);
    assert_eq!(signed["ok"]["seq"], 3);
    assert_eq!(
        fs::read_to_string(&cps).unwrap(),
        signed["ok"]["checkpoint"].as_str().unwrap()
    );
    assert!(exit(&verify(&record, false), 0).contains("up to seq 3"));

    // An honest continuation verifies; a second checkpoint is appended.
    exit(
        &owner(
            &record,
            "2026-11-28T10:30:00Z",
            &["grant", "Cluster0", "--type", "logs"],
        ),
        0,
    );
    let v = json(&verify(&record, true));
    assert_eq!(
        (v["ok"]["events"].as_u64(), v["ok"]["verifiedUpTo"].as_u64()),
        (Some(4), Some(3))
    );
    exit(&run(&record, &["checkpoint", "--key", key]), 0);
    let v = json(&verify(&record, true));
    assert_eq!(v["ok"]["verifiedUpTo"], 4);
    let original = fs::read_to_string(&record).unwrap();

    // Cut short: the chain alone accepts it, the checkpoints do not.
    let lines: Vec<&str> = original.lines().collect();
    let short = dir.path().join("short.jsonl");
    fs::write(&short, format!("{}\n", lines[..3].join("\n"))).unwrap();
    exit(&run(&short, &["verify"]), 0);
    let o = verify(&short, false);
    let text = exit(&o, 4);
    assert!(
        text.contains("RECORD_TRUNCATED") && text.contains("seq 4"),
        "{text}"
    );
    let e = json(&verify(&short, true));
    assert_eq!(
        (e["error"]["code"].as_str(), e["error"]["seq"].as_u64()),
        (Some("RECORD_TRUNCATED"), Some(4))
    );

    // Rewritten from seq 4 with fresh hashes (as a writer of the store could): it is a valid
    // chain, but its event 4 is not the one the checkpoint signed.
    let rewritten = dir.path().join("rewritten.jsonl");
    fs::write(&rewritten, format!("{}\n", lines[..3].join("\n"))).unwrap();
    exit(
        &owner(
            &rewritten,
            "2026-11-28T10:30:00Z",
            &["grant", "Cluster0", "--type", "infrastructure"],
        ),
        0,
    );
    exit(&run(&rewritten, &["verify"]), 0);
    let text = exit(&verify(&rewritten, false), 4);
    assert!(
        text.contains("CHECKPOINT_MISMATCH") && text.contains("seq 4"),
        "{text}"
    );

    // Another key's checkpoints are not trusted; a changed checkpoint does not verify.
    let other = dir.path().join("other.key");
    let o = cmd()
        .args(["key", "new", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    let other_public = String::from_utf8(o.stdout).unwrap().trim().to_string();
    let text = exit(
        &run(
            &record,
            &["verify", "--checkpoints", &cps, "--trust", &other_public],
        ),
        4,
    );
    assert!(text.contains("UNTRUSTED_KEY"), "{text}");
    let pubfile = dir.path().join("trusted.pub");
    fs::write(&pubfile, format!("{other_public}\n{public}\n")).unwrap();
    exit(
        &run(
            &record,
            &[
                "verify",
                "--checkpoints",
                &cps,
                "--trust",
                pubfile.to_str().unwrap(),
            ],
        ),
        0,
    );
    let forged = fs::read_to_string(&cps)
        .unwrap()
        .replacen("seq 3", "seq 2", 1);
    let forged_file = dir.path().join("forged.checkpoints");
    fs::write(&forged_file, forged).unwrap();
    let text = exit(
        &run(
            &record,
            &[
                "verify",
                "--checkpoints",
                forged_file.to_str().unwrap(),
                "--trust",
                &public,
            ],
        ),
        4,
    );
    assert!(
        text.contains("BAD_SIGNATURE") && text.contains("seq 2"),
        "{text}"
    );
    // A checkpoints file cut mid-checkpoint is refused too.
    let cut = fs::read_to_string(&cps).unwrap();
    fs::write(&forged_file, &cut[..cut.len() - 10]).unwrap();
    let text = exit(
        &run(
            &record,
            &[
                "verify",
                "--checkpoints",
                forged_file.to_str().unwrap(),
                "--trust",
                &public,
            ],
        ),
        4,
    );
    assert!(text.contains("MALFORMED_INPUT"), "{text}");

    // --checkpoints needs --trust (and the other way round): usage errors.
    exit(&run(&record, &["verify", "--checkpoints", &cps]), 2);
    exit(&run(&record, &["verify", "--trust", &public]), 2);
    let text = exit(
        &run(
            &record,
            &["verify", "--checkpoints", &cps, "--trust", "nonsense"],
        ),
        2,
    );
    assert!(text.contains("--trust nonsense"), "{text}");
    // The record itself was never touched by any of this.
    assert_eq!(fs::read_to_string(&record).unwrap(), original);
}

#[test]
fn checkpoint_out_and_its_clock() {
    let dir = tempfile::tempdir().unwrap();
    let (record, key, public) = setup(dir.path());
    let key = key.to_str().unwrap();
    let out = dir.path().join("elsewhere").join("acme.checkpoints");
    fs::create_dir(out.parent().unwrap()).unwrap();
    let out = out.to_str().unwrap();
    exit(
        &run(&record, &["checkpoint", "--key", key, "--out", out]),
        0,
    );
    assert!(!Path::new(&format!("{}.checkpoints", record.display())).exists());
    exit(
        &run(
            &record,
            &["verify", "--checkpoints", out, "--trust", &public],
        ),
        0,
    );
    // --now behind the head is refused (exit 3); nothing is appended.
    let before = fs::read_to_string(out).unwrap();
    let text = exit(
        &run(
            &record,
            &[
                "--now",
                "2026-11-28T08:00:00Z",
                "checkpoint",
                "--key",
                key,
                "--out",
                out,
            ],
        ),
        3,
    );
    assert!(text.contains("CLOCK_WENT_BACKWARDS"), "{text}");
    assert_eq!(fs::read_to_string(out).unwrap(), before);
    // A PostgreSQL store has no record path to put the checkpoints next to: --out is required
    // (checked before connecting, so no server is needed here).
    let o = cmd()
        .args([
            "--store",
            "postgres://nobody@127.0.0.1:1/none",
            "--org",
            "acme",
        ])
        .args(["checkpoint", "--key", key])
        .output()
        .unwrap();
    assert!(exit(&o, 2).contains("--out"));
}
