//! Test step for the WebAssembly packages: the browser package (bindings/wasm, wasm-bindgen ESM),
//! the plugin module (bindings/wasm-plugin, plain ABI) and the demo page (examples/web).
//!
//! Installs (each skipped when present): the wasm32 target, npm deps of bindings/wasm
//! (`npm ci`: playwright-core, binaryen for wasm-opt), `wasm-bindgen-cli` at exactly the
//! `wasm-bindgen` version in Cargo.lock, Debian's chromium, a venv with PyPI `wasmtime`.
//! Builds both modules with the size profile `wasm-release`, runs wasm-bindgen (`--target web`)
//! and wasm-opt, then runs: host unit tests, clippy for wasm32, the size budget, the vectors in
//! Node through the ESM package, the plugin under `WebAssembly.instantiate` and under wasmtime
//! (with identical bytes), the vectors in Chromium, and the demo page click-through.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::ctx::{count_cargo, count_node, count_plain, Ctx};
use crate::fixture::{owner_tokens, seed_org};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";
/// The browser package's size budget for the `.wasm` (raw bytes): issue 14's 190 KiB. It was
/// 150 KiB until signed checkpoints (SPEC §9) brought Ed25519 and SHA-512 in; the package
/// verifies but does not sign (the core without `sign`), and the core keeps no B-trees or std
/// sorts, which leaves it at ≈ 163 KiB (166,930 B on 2026-12-03; docs/benchmarks.md).
const BUDGET: u64 = 190 * 1024;
/// The browser `.wasm` after `gzip -9`: issue 14's 70 KiB. It was ≈ 66.9 KiB when this guard
/// came (76030a5); the work of issue 16 since took it to ≈ 69.2 KiB (70,903 B on 2026-12-03),
/// so under 1 KiB is left: a change that grows the browser core must pay for itself in bytes.
const GZIP_BUDGET: u64 = 70 * 1024;
const WASMTIME: &str = "wasmtime==50.0.1";
/// wasm-opt's flags: size, no debug info or names, and the features rustc's wasm32 target emits.
const WASM_OPT: &[&str] = &[
    "-Oz",
    "--strip-debug",
    "--strip-producers",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// What `build` made (the dist step repackages both).
pub(crate) struct Built {
    pub(crate) web_wasm: PathBuf,
    pub(crate) plugin_wasm: PathBuf,
}

/// The `wasm-bindgen` version Cargo.lock holds (what wasm-bindgen-cli must match exactly).
fn locked_wasm_bindgen(root: &Path) -> Option<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "name = \"wasm-bindgen\"" {
            let v = lines
                .next()?
                .trim()
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(v.to_string());
        }
    }
    None
}

/// Installs what building needs and builds both modules; `None` (already counted as a failure)
/// when something could not be had. The dist step packages the same build.
pub(crate) fn build(ctx: &mut Ctx) -> Option<Built> {
    if !ctx.ensure_target(TARGET)
        || !ctx.npm_ci(
            "wasm",
            &ctx.root.join("bindings/wasm"),
            &["node_modules/playwright-core", "node_modules/binaryen"],
        )
    {
        return None;
    }
    let Some(version) = locked_wasm_bindgen(&ctx.root) else {
        ctx.record("wasm: wasm-bindgen version in Cargo.lock", false);
        return None;
    };
    let bindgen = ctx.ensure_cargo_tool(
        "wasm-bindgen-cli",
        &version,
        "wasm-bindgen",
        &["--no-default-features"],
    )?;
    // The browser crate is `cdylib` + `rlib`; with an `rlib` in the build rustc skips LTO
    // (≈185 KiB instead of ≈142 KiB), so the module is built as a `cdylib` alone.
    let mut cargo = ctx.cmd("cargo");
    cargo.args([
        "rustc",
        "--target",
        TARGET,
        "--profile",
        PROFILE,
        "-p",
        "support-access-wasm",
    ]);
    cargo.args(["--crate-type", "cdylib"]);
    if !ctx.setup(
        "wasm: cargo rustc --crate-type cdylib (browser, wasm32)",
        &mut cargo,
    ) {
        return None;
    }
    let mut cargo = ctx.cmd("cargo");
    cargo.args([
        "build",
        "--target",
        TARGET,
        "--profile",
        PROFILE,
        "-p",
        "support-access-plugin",
    ]);
    if !ctx.setup("wasm: cargo build (plugin, wasm32)", &mut cargo) {
        return None;
    }
    let out = ctx.root.join("target").join(TARGET).join(PROFILE);
    let wasm_opt = ctx.root.join("bindings/wasm/node_modules/.bin/wasm-opt");

    // The browser package: wasm-bindgen ESM for the web (also what the Node test loads).
    let web = ctx.root.join("bindings/wasm/pkg/web");
    let mut bg = Command::new(&bindgen);
    bg.current_dir(&ctx.root)
        .args([
            "--target",
            "web",
            "--weak-refs",
            "--remove-producers-section",
            "--out-dir",
        ])
        .arg(&web)
        .arg(out.join("support_access_wasm.wasm"));
    if !ctx.setup("wasm: wasm-bindgen --target web", &mut bg) {
        return None;
    }
    let web_wasm = web.join("support_access_wasm_bg.wasm");
    let mut opt = ctx.cmd(&wasm_opt);
    opt.args(WASM_OPT).arg(&web_wasm).arg("-o").arg(&web_wasm);
    if !ctx.setup("wasm: wasm-opt (browser package)", &mut opt) {
        return None;
    }

    // The TypeScript surface it shares with the Node package: one source (bindings/node/
    // common.d.ts), copied into the package beside its own js/index.d.ts, which re-exports it.
    let common = ctx.root.join("bindings/node/common.d.ts");
    let copied = std::fs::copy(&common, ctx.root.join("bindings/wasm/js/common.d.ts")).is_ok();
    if !copied {
        ctx.record("wasm: copy bindings/node/common.d.ts into js/", false);
        return None;
    }
    // And the JavaScript half both packages share, as the ES module js/index.js imports.
    let written = common_module(&ctx.root).is_some_and(|body| {
        std::fs::write(
            ctx.root.join("bindings/wasm/js/common.js"),
            format!("{COMMON_HEADER}{body}export {{ common }};\n"),
        )
        .is_ok()
    });
    if !written {
        ctx.record(
            "wasm: write bindings/node/common.js into js/ as an ES module",
            false,
        );
        return None;
    }

    // The plugin: no glue, just wasm-opt.
    let plugin_dir = ctx.root.join("bindings/wasm-plugin/pkg");
    std::fs::create_dir_all(&plugin_dir).ok();
    let plugin_wasm = plugin_dir.join("support_access_plugin.wasm");
    let mut opt = ctx.cmd(&wasm_opt);
    opt.args(WASM_OPT)
        .arg(out.join("support_access_plugin.wasm"))
        .arg("-o")
        .arg(&plugin_wasm);
    if !ctx.setup("wasm: wasm-opt (plugin)", &mut opt) {
        return None;
    }
    Some(Built {
        web_wasm,
        plugin_wasm,
    })
}

/// The first line of js/common.js.
const COMMON_HEADER: &str =
    "// Generated by the wasm build (cargo xtask) from bindings/node/common.js: edit that file.\n";

/// The body of bindings/node/common.js for an ES module: without `'use strict'` (which ES
/// modules are anyway) and without its last line, `module.exports = { common }` (the wasm build
/// writes `export { common };` there; dist's entries define `common` in place). `None` when the
/// file is not as that conversion expects, or it requires a module.
pub fn common_module(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("bindings/node/common.js")).ok()?;
    let body = text.strip_prefix("'use strict'\n")?;
    let body = body.strip_suffix("module.exports = { common }\n")?;
    (!body.contains("require(")).then(|| body.to_string())
}

fn gzip_len(path: &Path) -> Option<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

/// Raw and gzip budgets of one artifact.
struct Budget {
    raw: u64,
    gzip: u64,
}

fn report_size(ctx: &mut Ctx, name: &str, path: &Path, budget: Option<Budget>) {
    let raw = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let gz = gzip_len(path).unwrap_or(0);
    println!(
        "{name}: {raw} bytes raw ({:.1} KiB), {gz} bytes gzip -9 ({:.1} KiB)",
        raw as f64 / 1024.0,
        gz as f64 / 1024.0
    );
    if let Some(b) = budget {
        println!(
            "{name}: budget {} bytes raw, {} bytes gzip -9",
            b.raw, b.gzip
        );
        ctx.record(
            &format!("wasm: {name} ≤ {} KiB raw", b.raw / 1024),
            raw > 0 && raw <= b.raw,
        );
        ctx.record(
            &format!("wasm: {name} ≤ {} KiB gzip -9", b.gzip / 1024),
            gz > 0 && gz <= b.gzip,
        );
    }
}

pub fn run(ctx: &mut Ctx) {
    // Host unit tests of both crates (the logic behind the exports).
    let mut c = ctx.cmd("cargo");
    c.args([
        "test",
        "-p",
        "support-access-wasm",
        "-p",
        "support-access-plugin",
    ]);
    ctx.run_counted("wasm: cargo test (host)", &mut c, count_cargo);

    // Clippy on the wasm32-only code (the workspace clippy step sees the host cfg only).
    let mut c = ctx.cmd("cargo");
    c.args([
        "clippy",
        "--no-deps",
        "--target",
        TARGET,
        "-p",
        "support-access-wasm",
        "-p",
        "support-access-plugin",
        "--",
        "-D",
        "warnings",
    ]);
    if ctx.ensure_target(TARGET) {
        ctx.check("wasm: clippy --target wasm32", &mut c);
    }

    let Some(built) = build(ctx) else { return };
    let budget = Budget {
        raw: BUDGET,
        gzip: GZIP_BUDGET,
    };
    report_size(ctx, "browser package .wasm", &built.web_wasm, Some(budget));
    report_size(ctx, "plugin .wasm", &built.plugin_wasm, None);

    let node_test = |ctx: &Ctx, file: &str| {
        let mut c = ctx.cmd("node");
        c.args(["--test", "--test-reporter=tap", file]);
        c
    };

    // (a) Every vector through the ESM package in Node, and its typed surface.
    let mut c = node_test(ctx, "bindings/wasm/tests/node.test.mjs");
    ctx.run_counted("wasm: ESM package in Node", &mut c, count_node);
    // FFI abuse (issue 8): huge, deep, wrong and hostile input through the same package.
    let mut c = node_test(ctx, "bindings/wasm/tests/abuse.test.mjs");
    ctx.run_counted("wasm: ESM package abuse in Node", &mut c, count_node);

    // The TypeScript surface, as a user sees it (string-literal unions, SupportAccessError…).
    let mut c = ctx.cmd(ctx.root.join("bindings/wasm/node_modules/.bin/tsc"));
    c.args(["-p", "bindings/wasm/tests/types"]);
    ctx.check("wasm: tsc over js/index.d.ts", &mut c);

    // (b) The plugin under two hosts that are not wasm-bindgen, with identical bytes.
    let out = ctx.cache().join("test-output");
    std::fs::create_dir_all(&out).ok();
    let (node_dump, py_dump) = (out.join("plugin-node.txt"), out.join("plugin-wasmtime.txt"));
    std::fs::remove_file(&node_dump).ok();
    std::fs::remove_file(&py_dump).ok();
    let mut c = node_test(ctx, "bindings/wasm-plugin/tests/node-host.test.mjs");
    c.env("SA_PLUGIN", &built.plugin_wasm)
        .env("SA_DUMP", &node_dump);
    ctx.run_counted(
        "wasm: plugin under WebAssembly.instantiate (Node)",
        &mut c,
        count_node,
    );
    if let Some(python) = ctx
        .venv_with("venv-wasm", "import wasmtime", &[WASMTIME])
        .map(|v| v.join("bin/python"))
    {
        let mut c = ctx.cmd(python);
        c.arg("bindings/wasm-plugin/tests/wasmtime_host.py")
            .arg(&built.plugin_wasm)
            .arg("tests/vectors/vectors.txt")
            .arg(&py_dump);
        ctx.run_counted("wasm: plugin under wasmtime (Python)", &mut c, count_plain);
        let (a, b) = (std::fs::read(&node_dump), std::fs::read(&py_dump));
        let same = matches!((&a, &b), (Ok(a), Ok(b)) if !a.is_empty() && a == b);
        println!(
            "plugin results, Node vs wasmtime: {}",
            if same { "identical bytes" } else { "DIFFERENT" }
        );
        ctx.record(
            "wasm: plugin gives identical bytes in Node and wasmtime",
            same,
        );
    }

    // (c) Every vector in real Chromium, and (d) the demo page click-through.
    if !ctx.ensure_apt("chromium", &["chromium", "chromium-driver"]) {
        return;
    }
    let mut c = node_test(ctx, "bindings/wasm/tests/chromium.test.mjs");
    ctx.run_counted("wasm: vectors in Chromium", &mut c, count_node);
    let mut c = node_test(ctx, "examples/web/tests/demo.test.mjs");
    c.env("SA_TEST_OUTPUT", &out);
    ctx.run_counted("wasm: demo page in Chromium", &mut c, count_node);

    // (e) The demo as a live client: two replicas on the test PostgreSQL server (a record file
    // when the step runs without one), one page following each.
    let Some(bin) = cli_binary(ctx) else { return };
    let mut c = node_test(ctx, "examples/web/tests/live.test.mjs");
    c.env("SA_TEST_OUTPUT", &out).env("SA_BIN", &bin);
    ctx.run_counted(
        "wasm: live demo pages on two replicas in Chromium",
        &mut c,
        count_node,
    );
}

/// The release CLI (`support-access serve` for the live demo), built once for every step.
fn cli_binary(ctx: &mut Ctx) -> Option<std::path::PathBuf> {
    let mut build = ctx.cmd("cargo");
    build.args(["build", "--release", "-p", "support-access-cli"]);
    if !ctx.setup(
        "wasm: cargo build --release -p support-access-cli",
        &mut build,
    ) {
        return None;
    }
    Some(ctx.target_dir().join("release/support-access"))
}

/// `cargo xtask web`: builds the browser package and serves the demo on 127.0.0.1.
pub fn serve(ctx: &mut Ctx, live: bool) -> ExitCode {
    if build(ctx).is_none() {
        return ctx.finish();
    }
    let port = std::env::var("PORT").unwrap_or_else(|_| String::from("8080"));
    let site = format!("http://127.0.0.1:{port}");
    let mut page = format!("{site}/examples/web/");
    // Live: a service on a demo record of its own (kept in .cache/web-live/ between runs), with
    // a signing key and one token, that the page is a client of.
    let _service = if live {
        match live_service(ctx, &site) {
            Some((child, query)) => {
                page.push_str(&query);
                Some(child)
            }
            None => return ctx.finish(),
        }
    } else {
        None
    };
    println!("\nserving the demo: open {page}");
    match ctx
        .cmd("node")
        .args(["examples/web/server.mjs", &port])
        .status()
    {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// Starts `support-access serve` for `cargo xtask web --live`: the child, held so that it is
/// killed however `web` ends (a service that never listens as well), and the page's query.
fn live_service(ctx: &mut Ctx, site: &str) -> Option<(crate::net::Children, String)> {
    let bin = cli_binary(ctx)?;
    let dir = ctx.cache().join("web-live");
    std::fs::create_dir_all(&dir).expect("create .cache/web-live");
    let record = dir.join("acme.jsonl");
    let key = dir.join("replica.key");
    let record_s = record.to_string_lossy().into_owned();
    let store = ["--record", record_s.as_str()];
    let clusters: [&[&str]; 2] = [&["Cluster0"], &["orders-prod", "--sync"]];
    if !record.exists()
        && !seed_org(
            ctx,
            "web",
            &bin,
            &store,
            ("acme", "alice"),
            "payments",
            &clusters,
        )
    {
        let _ = std::fs::remove_file(&record);
        return None;
    }
    let mut new_key = std::process::Command::new(&bin);
    new_key.args(["key", "new", "--out"]).arg(&key);
    if !key.exists() && !ctx.setup("web: support-access key new", &mut new_key) {
        return None;
    }
    let public = std::process::Command::new(&bin)
        .args(["key", "public", "--key"])
        .arg(&key)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|p| p.starts_with("sa-ed25519-pub:"))?;
    let token = "demo-token";
    let tokens = dir.join("tokens.json");
    owner_tokens(&tokens, token, "alice", "acme");
    let listen = std::env::var("SERVICE_ADDR").unwrap_or_else(|_| String::from("127.0.0.1:8787"));
    let service = std::process::Command::new(&bin)
        .arg("--record")
        .arg(&record)
        .args(["serve", "--listen", &listen, "--tokens"])
        .arg(&tokens)
        .arg("--key")
        .arg(&key)
        .args(["--allow-origin", site])
        .spawn()
        .ok()?;
    let mut child = crate::net::Children::default();
    if !child.hold_listening(service, &listen) {
        eprintln!("support-access serve did not listen on {listen}");
        return None;
    }
    println!(
        "service on http://{listen} (record {}, token {token})",
        record.display()
    );
    Some((
        child,
        format!("?service=http://{listen}&org=acme&token={token}&trust={public}"),
    ))
}
