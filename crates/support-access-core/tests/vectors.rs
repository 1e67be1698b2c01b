//! Runs every conformance vector (tests/vectors/vectors.txt) through `apply` and demands the
//! exact bytes; then checks that every error code and reason code the core defines is exercised
//! by some vector. One libtest-style result line per vector file.

use std::collections::BTreeSet;

use support_access_core::{apply, ErrorCode, Policy, Reason};

fn collect_codes(
    v: &serde_json::Value,
    errors: &mut BTreeSet<String>,
    reasons: &mut BTreeSet<String>,
) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Object(e)) = m.get("error") {
                if let Some(c) = e.get("code").and_then(|c| c.as_str()) {
                    errors.insert(c.to_string());
                }
            }
            if let Some(r) = m.get("reason").and_then(|r| r.as_str()) {
                reasons.insert(r.to_string());
            }
            m.values().for_each(|x| collect_codes(x, errors, reasons));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_codes(x, errors, reasons)),
        _ => {}
    }
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/vectors.txt"
    );
    let text = std::fs::read_to_string(path).expect("tests/vectors/vectors.txt");
    let (mut passed, mut failed) = (0u32, 0u32);
    let (mut errors, mut reasons) = (BTreeSet::new(), BTreeSet::new());
    let mut policy: Option<Policy> = None;
    let mut name = String::new();
    let mut last = String::new();
    let mut ok = true;
    let mut steps = 0;
    for line in text.lines() {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "#" | "" => {}
            "vector" => {
                name = rest.to_string();
                ok = true;
                steps = 0;
            }
            "policy" => {
                policy = Some(Policy::from_options_json(rest).expect("vector policy options"))
            }
            "command" => {
                last = apply(policy.as_mut().expect("policy before command"), rest);
                steps += 1;
            }
            "expect" => {
                if last != rest {
                    ok = false;
                    eprintln!("{name} step {steps}:\n  expected {rest}\n  got      {last}");
                }
                collect_codes(
                    &serde_json::from_str(rest).expect("expect is JSON"),
                    &mut errors,
                    &mut reasons,
                );
            }
            "end" => {
                println!(
                    "test vector {name} ... {}",
                    if ok { "ok" } else { "FAILED" }
                );
                if ok {
                    passed += 1
                } else {
                    failed += 1
                }
            }
            other => panic!("unknown line kind `{other}` in vectors.txt"),
        }
    }
    for code in ErrorCode::ALL {
        let covered = errors.contains(code.as_str());
        println!(
            "test error code {code} has a vector ... {}",
            if covered { "ok" } else { "FAILED" }
        );
        if covered {
            passed += 1
        } else {
            failed += 1
        }
    }
    for reason in Reason::ALL {
        let covered = reasons.contains(reason.as_str());
        println!(
            "test reason {reason} has a vector ... {}",
            if covered { "ok" } else { "FAILED" }
        );
        if covered {
            passed += 1
        } else {
            failed += 1
        }
    }
    let status = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {status}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out\n");
    if failed > 0 {
        std::process::exit(1);
    }
}
