//! The conformance vectors: `tests/vectors/*.json` (readable sources, the truth) and
//! `tests/vectors/vectors.txt` (generated, committed: exact bytes for every front end's runner).
//!
//! A source step's command may hold `{"$record": {…}}` where a record text belongs; generation
//! replaces it with the policy's record at that point, optionally tampered (see README there).
//! Likewise `{"$result": {"step": N, "field": F}}` stands for the string `ok.F` of step N's
//! result (a checkpoint signed earlier), optionally edited.

use std::fmt::Write as _;
use std::process::{ExitCode, Stdio};

use serde_json::{Map, Value};
use support_access_core::{apply, Policy};

use crate::ctx::Ctx;

pub struct Vector {
    pub name: String,
    pub source: Value,
}

pub fn load(ctx: &Ctx) -> Result<Vec<Vector>, String> {
    let dir = ctx.root.join("tests/vectors");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let source =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(Vector {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                source,
            })
        })
        .collect()
}

fn tamper(record: &str, spec: &Map<String, Value>) -> Result<String, String> {
    let mut lines: Vec<String> = record.lines().map(String::from).collect();
    fn at(lines: &[String], v: &Value) -> Result<usize, String> {
        let seq = v.as_u64().ok_or("seq must be a number")? as usize;
        if seq == 0 || seq > lines.len() {
            return Err(format!("seq {seq} out of range"));
        }
        Ok(seq - 1)
    }
    for (op, arg) in spec {
        match op.as_str() {
            "drop" => {
                let i = at(&lines, arg)?;
                lines.remove(i);
            }
            "duplicate" => {
                let i = at(&lines, arg)?;
                let l = lines[i].clone();
                lines.insert(i + 1, l);
            }
            "swap" => {
                let (a, b) = (at(&lines, &arg[0])?, at(&lines, &arg[1])?);
                lines.swap(a, b);
            }
            "keep" => {
                let n = arg.as_u64().ok_or("keep takes a count")? as usize;
                lines.truncate(n);
            }
            "edit" => {
                let i = at(&lines, &arg["seq"])?;
                let (from, to) = (
                    arg["from"].as_str().ok_or("edit.from")?,
                    arg["to"].as_str().ok_or("edit.to")?,
                );
                if !lines[i].contains(from) {
                    return Err(format!("edit: `{from}` not in seq {}", i + 1));
                }
                lines[i] = lines[i].replacen(from, to, 1);
            }
            other => return Err(format!("unknown $record operation `{other}`")),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// `{"step": N, "field": F, "edit"?: {"from", "to"}}`: the string `ok.F` of the result of step
/// N (1-based), with the first `from` replaced by `to`. Steps can only look back, so a vector
/// stays a plain sequence of commands.
fn earlier_result(spec: &Map<String, Value>, results: &[Value]) -> Result<String, String> {
    let step = spec["step"]
        .as_u64()
        .ok_or("$result.step must be a number")? as usize;
    let field = spec["field"]
        .as_str()
        .ok_or("$result.field must be a string")?;
    let result = step
        .checked_sub(1)
        .and_then(|i| results.get(i))
        .ok_or_else(|| format!("$result: no step {step} before this one"))?;
    let text = result["ok"][field]
        .as_str()
        .ok_or_else(|| format!("$result: step {step} has no string ok.{field}"))?;
    match spec.get("edit") {
        None => Ok(text.to_string()),
        Some(edit) => {
            let (from, to) = (
                edit["from"].as_str().ok_or("edit.from")?,
                edit["to"].as_str().ok_or("edit.to")?,
            );
            if !text.contains(from) {
                return Err(format!(
                    "$result edit: `{from}` not in step {step}'s {field}"
                ));
            }
            Ok(text.replacen(from, to, 1))
        }
    }
}

fn expand(v: &Value, policy: &Policy, results: &[Value]) -> Result<Value, String> {
    Ok(match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("$record") => {
            let spec = m["$record"].as_object().ok_or("$record takes an object")?;
            Value::String(tamper(&policy.export_record(), spec)?)
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("$result") => {
            let spec = m["$result"].as_object().ok_or("$result takes an object")?;
            Value::String(earlier_result(spec, results)?)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), expand(v, policy, results)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| expand(v, policy, results))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// Renders the flat file; with `bless`, also rewrites each source's `expect` from the core.
fn render(ctx: &Ctx, bless: bool) -> Result<String, String> {
    let mut out = String::from(
        "# GENERATED by `cargo xtask vectors` from tests/vectors/*.json: do not edit.\n\
         # Format: see tests/vectors/README.md. One item per line: `vector NAME`, `policy JSON`,\n\
         # then pairs of `command TEXT` / `expect JSON` (exact bytes), then `end`.\n",
    );
    for mut v in load(ctx)? {
        let policy_json = serde_json::to_string(&v.source["policy"]).unwrap();
        let mut policy = Policy::from_options_json(&policy_json)
            .map_err(|e| format!("{}: policy: {e}", v.name))?;
        writeln!(out, "vector {}\npolicy {policy_json}", v.name).unwrap();
        let steps = v.source["steps"]
            .as_array_mut()
            .ok_or_else(|| format!("{}: no steps", v.name))?;
        let mut results: Vec<Value> = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter_mut().enumerate() {
            let text = match (step.get("command"), step.get("commandText")) {
                (Some(c), None) => serde_json::to_string(
                    &expand(c, &policy, &results)
                        .map_err(|e| format!("{} step {i}: {e}", v.name))?,
                )
                .unwrap(),
                (None, Some(Value::String(t))) if !t.contains('\n') => t.clone(),
                _ => {
                    return Err(format!(
                        "{} step {i}: needs `command` or a one-line `commandText`",
                        v.name
                    ))
                }
            };
            let result = apply(&mut policy, &text);
            results.push(serde_json::from_str(&result).unwrap());
            if bless {
                let parsed: Value = serde_json::from_str(&result).unwrap();
                step.as_object_mut()
                    .unwrap()
                    .insert("expect".into(), parsed);
            }
            let expect = step
                .get("expect")
                .ok_or_else(|| format!("{} step {i}: no `expect` (run with --bless)", v.name))?;
            writeln!(
                out,
                "command {text}\nexpect {}",
                serde_json::to_string(expect).unwrap()
            )
            .unwrap();
        }
        out.push_str("end\n");
        if bless {
            let path = ctx
                .root
                .join("tests/vectors")
                .join(format!("{}.json", v.name));
            let mut text = serde_json::to_string_pretty(&v.source).unwrap();
            text.push('\n');
            std::fs::write(path, text).map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

pub fn generate(ctx: &mut Ctx, bless: bool) -> ExitCode {
    match render(ctx, bless) {
        Ok(text) => {
            std::fs::write(ctx.root.join("tests/vectors/vectors.txt"), text)
                .expect("write vectors.txt");
            println!("wrote tests/vectors/vectors.txt");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Test step: the committed flat file is exactly what the sources generate.
pub fn drift(ctx: &mut Ctx) {
    let ok = match render(ctx, false) {
        Ok(text) => {
            let committed = std::fs::read_to_string(ctx.root.join("tests/vectors/vectors.txt"))
                .unwrap_or_default();
            if text != committed {
                println!(
                    "tests/vectors/vectors.txt is stale: run `cargo xtask vectors` and commit it"
                );
            }
            text == committed
        }
        Err(e) => {
            println!("{e}");
            false
        }
    };
    ctx.record("tests/vectors/vectors.txt matches its sources", ok);
    // The other generated sources this step holds to theirs.
    crate::vocab::drift(ctx);
    lockfiles(ctx);
}

/// The committed Cargo lockfiles are what cargo resolves: the workspace's and the fuzz crate's
/// (a crate of its own, outside the workspace, whose lockfile nothing else would check: it
/// once went stale when the core took new dependencies, and every fuzz run rewrote it).
fn lockfiles(ctx: &mut Ctx) {
    for manifest in ["Cargo.toml", "fuzz/Cargo.toml"] {
        let mut c = ctx.cmd("cargo");
        c.args([
            "metadata",
            "--locked",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(ctx.root.join(manifest))
        .stdout(Stdio::null());
        let lock = manifest.replace("Cargo.toml", "Cargo.lock");
        if !ctx.check(&format!("{lock} is what cargo resolves"), &mut c) {
            println!("{lock} is stale: build once without --locked and commit it");
        }
    }
}
