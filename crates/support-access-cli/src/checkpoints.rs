//! Signed checkpoints on the command line (SPEC §9): `key new` / `key public`, `checkpoint`, and
//! `verify --checkpoints FILE --trust KEY`.
//!
//! The core signs and verifies; this module only brings what the core will not: randomness for
//! a new key (the OS, through `getrandom`), and files — a signing key file that only its owner
//! can read, and a checkpoints file that checkpoints are appended to.

use std::io::Write;
use std::path::{Path, PathBuf};

use support_access_core::checkpoint::{Checkpoint, PublicKey, SigningKey, Verified};
use support_access_core::Policy;
use support_access_store::{Location, Now};

use crate::args::{Global, KeyCmd, VerifyArgs};
use crate::fail::{Fail, EXIT_RECORD};
use crate::open::{location, open};
use crate::parse;
use crate::ui::Ui;

/// `key new --out FILE` and `key public --key FILE`.
pub fn key(g: &Global, ui: &Ui, cmd: &KeyCmd) -> Result<u8, Fail> {
    let key = match cmd {
        KeyCmd::New { out } => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| Fail::usage(format!("the OS gave no random bytes: {e}")))?;
            let key = SigningKey::from_seed(seed);
            seed.fill(0);
            write_key_file(out, &key)?;
            if !g.json {
                eprintln!(
                    "{} signing key {} written to {} (keep it secret; give verifiers the public key below)",
                    ui.green("OK"),
                    key.key_id(),
                    out.display()
                );
            }
            key
        }
        KeyCmd::Public { key } => read_signing_key(key)?,
    };
    let public = key.public_key();
    if g.json {
        println!(
            "{{\"ok\":{{\"publicKey\":{},\"keyId\":\"{}\"}}}}",
            json_str(&public.to_text()),
            public.key_id()
        );
    } else {
        println!("{public}");
    }
    Ok(0)
}

/// `checkpoint --key FILE [--out FILE]`: signs the head and appends the checkpoint.
pub fn checkpoint(g: &Global, ui: &Ui, key_file: &Path, out: Option<&Path>) -> Result<u8, Fail> {
    let out = match (out, location(g)?) {
        (Some(out), _) => out.to_path_buf(),
        (None, Location::File(record)) => default_checkpoints_file(&record),
        (None, Location::Postgres(_)) => {
            return Err(Fail::usage(
                "a PostgreSQL store needs --out FILE for its checkpoints",
            ))
        }
    };
    let key = read_signing_key(key_file)?;
    let store = open(g)?;
    let policy = store.policy();
    let now = match &g.now {
        Some(t) => parse::time(t)?,
        None => Now::Clock.resolve(policy),
    };
    let c = policy.checkpoint(now, &key).map_err(Fail::policy)?;
    append(&out, &c)?;
    if g.json {
        println!(
            "{{\"ok\":{{\"checkpoint\":{},\"orgId\":{},\"seq\":{},\"hash\":\"{}\",\"at\":\"{}\",\"keyId\":\"{}\"}}}}",
            json_str(&c.to_text()),
            json_str(c.org_id()),
            c.seq(),
            c.hash(),
            c.at(),
            c.key_id()
        );
    } else {
        println!(
            "{} checkpoint of {}: seq {}, head {}, signed by key {}, appended to {}",
            ui.green("OK"),
            policy.org_id(),
            c.seq(),
            c.hash(),
            c.key_id(),
            out.display()
        );
    }
    Ok(0)
}

/// `verify --checkpoints FILE --trust KEY…`: the chain (as `verify`), then the checkpoints.
/// A record they refuse exits 4, naming the code and the checkpoint's seq.
pub fn verify(g: &Global, ui: &Ui, args: &VerifyArgs) -> Result<u8, Fail> {
    let Some(file) = &args.checkpoints else {
        return Err(Fail::usage("verify needs --checkpoints FILE with --trust"));
    };
    let trusted = trusted_keys(&args.trust)?;
    let text = std::fs::read_to_string(file).map_err(|e| {
        Fail::usage(format!(
            "cannot read checkpoints file {}: {e}",
            file.display()
        ))
    })?;
    let checkpoints = Checkpoint::parse_many(&text).map_err(|e| refused(e, file))?;
    let store = open(g)?;
    let policy: &Policy = store.policy();
    let v = policy
        .verify_checkpoints(&checkpoints, &trusted)
        .map_err(|e| refused(e, file))?;
    print_verified(g, ui, policy, &v, checkpoints.len(), file);
    Ok(0)
}

fn print_verified(g: &Global, ui: &Ui, p: &Policy, v: &Verified, count: usize, file: &Path) {
    let ids: Vec<String> = v.key_ids.iter().map(|k| k.to_hex()).collect();
    if g.json {
        println!(
            "{{\"ok\":{{\"events\":{},\"lastHash\":\"{}\",\"verifiedUpTo\":{},\"keyIds\":{}}}}}",
            v.events,
            v.last_hash,
            v.verified_up_to,
            serde_json::to_string(&ids).unwrap_or_default()
        );
    } else {
        println!(
            "{} record of {}: {} events, every hash and operation checks out; head {}",
            ui.green("OK"),
            p.org_id(),
            v.events,
            v.last_hash
        );
        println!(
            "   {count} checkpoint(s) in {} vouch for it up to seq {} (key {})",
            file.display(),
            v.verified_up_to,
            ids.join(", key ")
        );
    }
}

/// A refusal from the checkpoints: exit 4 like a tampered record, with the core's JSON (its
/// `seq`). A checkpoints file that cannot be read as checkpoints is refused the same way: the
/// evidence is unusable, whoever broke it.
fn refused(e: support_access_core::Error, file: &Path) -> Fail {
    use support_access_core::ErrorCode;
    let file = file.display();
    let hint = match e.code() {
        ErrorCode::RecordTruncated | ErrorCode::CheckpointMismatch => format!(
            "the record was cut short or rewritten since a checkpoint in {file} was signed (or that checkpoint is another record's)"
        ),
        ErrorCode::BadSignature | ErrorCode::UntrustedKey => format!(
            "a checkpoint in {file} was changed after signing, or is signed by a key not given with --trust"
        ),
        ErrorCode::CheckpointsDisagree => format!(
            "{file} holds checkpoints of two different histories: whoever holds the key signed both"
        ),
        _ => format!("{file} does not hold checkpoints as `support-access checkpoint` writes them"),
    };
    Fail {
        exit: EXIT_RECORD,
        ..Fail::policy(e)
    }
    .hint(hint)
}

/// The default checkpoints file of a record file: its path plus `.checkpoints`.
fn default_checkpoints_file(record: &Path) -> PathBuf {
    let mut name = record.as_os_str().to_owned();
    name.push(".checkpoints");
    PathBuf::from(name)
}

/// `--trust` values: a public key's text, or a file holding one or more (one per line).
fn trusted_keys(values: &[String]) -> Result<Vec<PublicKey>, Fail> {
    let mut keys = Vec::new();
    for v in values {
        if v.starts_with(support_access_core::checkpoint::PUBLIC_KEY_PREFIX) {
            keys.push(PublicKey::parse(v).map_err(Fail::arg)?);
            continue;
        }
        let text = std::fs::read_to_string(v).map_err(|e| {
            Fail::usage(format!(
                "--trust {v}: neither a public key (sa-ed25519-pub:…) nor a readable file: {e}"
            ))
        })?;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            keys.push(
                PublicKey::parse(line)
                    .map_err(|e| Fail::arg(e).hint(format!("in --trust file {v}")))?,
            );
        }
    }
    Ok(keys)
}

pub(crate) fn read_signing_key(path: &Path) -> Result<SigningKey, Fail> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fail::usage(format!("cannot read key file {}: {e}", path.display())))?;
    SigningKey::parse(text.trim_end())
        .map_err(|e| Fail::arg(e).hint(format!("in key file {}", path.display())))
}

/// Writes a new key file readable by its owner only, never over an existing one (a key lost
/// by overwriting cannot sign again, and its checkpoints stay valid only with its public key).
fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), Fail> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| Fail::usage(format!("cannot create key file {}: {e}", path.display())))?;
    let mut text = key.to_text();
    text.push('\n');
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    // The text is the secret: do not leave a copy in freed memory.
    // SAFETY: overwriting ASCII bytes with NUL keeps the string valid UTF-8.
    unsafe { text.as_bytes_mut().fill(0) };
    written.map_err(|e| Fail::usage(format!("cannot write key file {}: {e}", path.display())))
}

/// Appends one checkpoint in a single write (O_APPEND), so concurrent signers never interleave.
fn append(path: &Path, c: &Checkpoint) -> Result<(), Fail> {
    let io = |e: std::io::Error| {
        Fail::usage(format!(
            "cannot append to checkpoints file {}: {e}",
            path.display()
        ))
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    file.write_all(c.to_text().as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}
