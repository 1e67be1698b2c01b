//! `cargo xtask dist` and the `dist` test step: the release artifacts of every front end in
//! `dist/` (ignored), then each installed and used in a scratch folder outside the repository,
//! as a user would (issue 15).
//!
//! Installs (each skipped when present): a venv `.cache/venv-dist` with PyPI `ziglang` (zig as
//! the cross linker, glibc 2.17 for manylinux2014), `cargo-zigbuild`, `maturin` and `auditwheel`;
//! the rustup targets x86_64/aarch64 musl and aarch64 gnu; Debian `qemu-user-static`, `cmake`;
//! the npm tools of `tests/dist/tools` (esbuild, TypeScript, playwright-core) under
//! `.cache/dist-npm`; Chromium as the wasm step does.
//!
//! Builds, with the `dist` profile (release, stripped):
//! - in `target/dist-cli/` (started first, in the background: the longest build): the static
//!   CLI for x86_64 and aarch64 musl, in one cargo run;
//! - in `target/dist-python/` (maturin with zig): the abi3 wheels, manylinux2014 (glibc 2.17) and
//!   musllinux_1_2, and the sdist;
//! - in `target/<triple>/dist` (cargo-zigbuild): the C library (glibc 2.17) and the Node addons
//!   (x86_64 and aarch64 glibc 2.17 in one run, x86_64 musl);
//! - the wasm step's own build (`wasm::build`), repackaged.
//!
//! Versions come from `[workspace.package] version`; `versions` fails when any place that
//! spells it (manifests, the C header, `--version`, artifact names) says something else.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde_json::{json, Value};

use crate::ctx::{count_node, count_plain, Ctx};

/// PyPI tools of the dist venv (pinned: what was checked to produce manylinux2014 here).
const PY_TOOLS: &[&str] = &[
    "ziglang==0.17.1",
    "cargo-zigbuild==0.24.0",
    "maturin==1.16.0",
    "auditwheel==6.8.2",
];
const PROFILE: &str = "dist";
const GNU_X64: &str = "x86_64-unknown-linux-gnu";
const MUSL_X64: &str = "x86_64-unknown-linux-musl";
const GNU_ARM64: &str = "aarch64-unknown-linux-gnu";
const MUSL_ARM64: &str = "aarch64-unknown-linux-musl";
/// glibc of the gnu builds (manylinux2014 = CentOS 7's glibc 2.17), as cargo-zigbuild spells it.
const GLIBC: &str = "2.17";

/// The Node platform packages: napi-rs' name, Rust target, npm `os`/`cpu`/`libc`.
struct NodePlatform {
    name: &'static str,
    target: &'static str,
    cpu: &'static str,
    libc: &'static str,
}

const NODE_PLATFORMS: &[NodePlatform] = &[
    NodePlatform {
        name: "linux-x64-gnu",
        target: GNU_X64,
        cpu: "x64",
        libc: "glibc",
    },
    NodePlatform {
        name: "linux-x64-musl",
        target: MUSL_X64,
        cpu: "x64",
        libc: "musl",
    },
    NodePlatform {
        name: "linux-arm64-gnu",
        target: GNU_ARM64,
        cpu: "arm64",
        libc: "glibc",
    },
];

const CLI_TARGETS: &[&str] = &[MUSL_X64, MUSL_ARM64];

/// The flags a cdylib for musl needs (a dynamically linked C runtime): what maturin passes for
/// the musllinux wheel, given to the Node addon's build in the same form.
const MUSL_DYLIB_FLAGS: (&str, &str) = (
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
    "-C target-feature=-crt-static",
);

/// What `dist/` holds for version `v`, relative to `dist/`.
fn expected_files(v: &str) -> Vec<String> {
    let mut files = vec![
        format!(
            "python/support_access-{v}-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ),
        format!("python/support_access-{v}-cp39-abi3-musllinux_1_2_x86_64.whl"),
        format!("python/support_access-{v}.tar.gz"),
        format!("node/support-access-{v}.tgz"),
    ];
    for p in NODE_PLATFORMS {
        files.push(format!("node/support-access-{}-{v}.tgz", p.name));
    }
    files.push(format!("wasm/support-access-wasm-{v}.tgz"));
    files.push(format!("plugin/support_access_plugin-{v}.wasm"));
    files.push(format!("plugin/support_access_plugin-{v}.wasm.sha256"));
    files.push("plugin/plugin-abi.md".to_string());
    files.push(format!("c/libsupport_access-{v}-x86_64-linux-gnu.tar.gz"));
    for t in CLI_TARGETS {
        files.push(format!("cli/support-access-{v}-{t}"));
    }
    files
}

/// `cargo xtask dist`: builds `dist/` (and says what failed to build).
pub fn command(ctx: &mut Ctx) -> ExitCode {
    ctx.section("dist: versions");
    let Some(v) = versions(ctx) else {
        return ctx.finish();
    };
    if let Some(d) = build(ctx, &v) {
        list(ctx, &d, &v);
    }
    ctx.finish()
}

/// The `dist` test step: versions, build, then every install test.
pub fn run(ctx: &mut Ctx) {
    let Some(v) = versions(ctx) else { return };
    let Some(d) = build(ctx, &v) else { return };
    list(ctx, &d, &v);
    let scratch = std::env::temp_dir().join("support-access-dist-test");
    if scratch.starts_with(&ctx.root) {
        ctx.record("dist: the scratch folder is outside the repository", false);
        return;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("create the scratch folder");
    let t = Tests {
        dist: d.dir.clone(),
        scratch,
        v: v.clone(),
        tools: d.tools.clone(),
    };
    t.python(ctx);
    t.npm(ctx);
    t.c(ctx);
    t.cli(ctx);
    t.plugin(ctx);
}

// ---------------------------------------------------------------------------------------------
// Versions

/// The workspace version, after checking every place that spells it agrees; `None` (counted)
/// when they do not.
fn versions(ctx: &mut Ctx) -> Option<String> {
    let read = |p: &Path| std::fs::read_to_string(p).ok();
    let Some(v) = workspace_version(&read(&ctx.root.join("Cargo.toml")).unwrap_or_default()) else {
        ctx.record("dist: [workspace.package] version in Cargo.toml", false);
        return None;
    };
    let root = ctx.root.clone();
    let problems = version_drift(&root, &v, &read);
    for p in &problems {
        println!("version drift: {p}");
    }
    ctx.record(
        &format!("dist: every manifest, package.json and the C header say {v}"),
        problems.is_empty(),
    );
    // The check itself must notice drift: the same files with one package.json changed.
    let bumped = |p: &Path| {
        let text = read(p)?;
        if p.ends_with("bindings/wasm/package.json") {
            Some(text.replacen(
                &format!("\"version\": \"{v}\""),
                "\"version\": \"9.9.9\"",
                1,
            ))
        } else {
            Some(text)
        }
    };
    let caught = version_drift(&root, &v, &bumped);
    ctx.record(
        "dist: the version check notices a package.json that drifted",
        caught
            .iter()
            .any(|p| p.contains("bindings/wasm/package.json")),
    );
    problems.is_empty().then_some(v)
}

/// `version = "…"` under `[workspace.package]`.
fn workspace_version(cargo_toml: &str) -> Option<String> {
    let mut inside = false;
    for line in cargo_toml.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == "[workspace.package]";
        } else if inside {
            if let Some(rest) = l.strip_prefix("version") {
                let q = rest.trim_start().strip_prefix('=')?.trim();
                return Some(q.trim_matches('"').to_string());
            }
        }
    }
    None
}

/// Every disagreement with `v` among the files that spell the version (read through `read`,
/// so the check can be checked).
fn version_drift(root: &Path, v: &str, read: &dyn Fn(&Path) -> Option<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |file: &str| -> String {
        read(&root.join(file)).unwrap_or_else(|| {
            problems.push(format!("{file}: cannot be read"));
            String::new()
        })
    };
    let mut texts: Vec<(String, String)> = Vec::new();
    // Every crate takes the workspace version; path dependencies name it as their requirement.
    let members = [
        "Cargo.toml",
        "crates/support-access-core/Cargo.toml",
        "crates/support-access-store/Cargo.toml",
        "crates/support-access-server/Cargo.toml",
        "crates/support-access-testkit/Cargo.toml",
        "crates/support-access-cli/Cargo.toml",
        "crates/xtask/Cargo.toml",
        "bindings/c/Cargo.toml",
        "bindings/python/Cargo.toml",
        "bindings/node/Cargo.toml",
        "bindings/wasm/Cargo.toml",
        "bindings/wasm-plugin/Cargo.toml",
    ];
    for m in members {
        texts.push((m.to_string(), need(m)));
    }
    let pyproject = need("bindings/python/pyproject.toml");
    let node = need("bindings/node/package.json");
    let wasm = need("bindings/wasm/package.json");
    let header = need("bindings/c/include/support_access.h");
    for (file, text) in &texts {
        let mut section = String::new();
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with('[') {
                section = l.to_string();
                continue;
            }
            if file != "Cargo.toml"
                && section == "[package]"
                && l.starts_with("version")
                && l.replace(' ', "") != "version.workspace=true"
            {
                problems.push(format!("{file}: `{l}` (use version.workspace = true)"));
            }
            if l.contains("path =") && l.contains("version = \"") {
                let req = l
                    .split("version = \"")
                    .nth(1)
                    .and_then(|r| r.split('"').next());
                if req != Some(v) {
                    problems.push(format!(
                        "{file}: path dependency `{l}` requires another version"
                    ));
                }
            }
        }
    }
    // pyproject.toml: the version is dynamic (maturin takes the crate's), or spelled equal.
    let dynamic = pyproject
        .lines()
        .any(|l| l.trim().starts_with("dynamic") && l.contains("\"version\""));
    let spelled = pyproject
        .lines()
        .find(|l| l.trim().starts_with("version"))
        .map(|l| l.contains(&format!("\"{v}\"")));
    if !(dynamic && spelled.is_none() || spelled == Some(true)) {
        problems
            .push("bindings/python/pyproject.toml: version is neither dynamic nor equal".into());
    }
    for (file, text) in [
        ("bindings/node/package.json", &node),
        ("bindings/wasm/package.json", &wasm),
    ] {
        let found = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|j| j["version"].as_str().map(String::from));
        if found.as_deref() != Some(v) {
            problems.push(format!("{file}: version {found:?}"));
        }
    }
    let parts: Vec<&str> = v.split('.').collect();
    let mut macros = vec![format!("#define SUPPORT_ACCESS_VERSION \"{v}\"")];
    for (name, part) in ["MAJOR", "MINOR", "PATCH"].iter().zip(&parts) {
        macros.push(format!("#define SUPPORT_ACCESS_VERSION_{name} {part}"));
    }
    for m in macros {
        if !header.lines().any(|l| l.trim() == m) {
            problems.push(format!(
                "bindings/c/include/support_access.h: no `{m}` (bindings/c/cbindgen.toml)"
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Tools

/// What the cross builds run with: the dist venv's bin first on PATH (zig through
/// `python -m ziglang`, cargo-zigbuild, maturin, auditwheel), and the npm tools.
#[derive(Clone)]
struct Tools {
    venv: PathBuf,
    path: OsString,
    npm: PathBuf,
}

impl Tools {
    fn bin(&self, name: &str) -> PathBuf {
        self.venv.join("bin").join(name)
    }

    fn cmd(&self, ctx: &Ctx, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = ctx.cmd(program);
        c.env("PATH", &self.path);
        c
    }

    /// `cargo zigbuild` of `package` for `target` with the dist profile and `cargo_args`; with
    /// `rustc_args`, `cargo zigbuild rustc … -- rustc_args` (flags for the final crate only).
    fn zigbuild(
        &self,
        ctx: &Ctx,
        package: &str,
        target: &str,
        cargo_args: &[&str],
        rustc_args: &[&str],
    ) -> Command {
        let mut c = self.cmd(ctx, self.bin("cargo-zigbuild"));
        let zig_target = if target.contains("-gnu") {
            format!("{target}.{GLIBC}")
        } else {
            target.to_string()
        };
        c.arg(if rustc_args.is_empty() {
            "zigbuild"
        } else {
            "rustc"
        });
        c.args(["--profile", PROFILE, "-p", package, "--target", &zig_target]);
        c.args(cargo_args);
        if !rustc_args.is_empty() {
            c.arg("--").args(rustc_args);
        }
        c
    }

    fn npm_bin(&self, name: &str) -> PathBuf {
        self.npm.join("node_modules/.bin").join(name)
    }
}

fn tools(ctx: &mut Ctx) -> Option<Tools> {
    let probe = "import ziglang, maturin, auditwheel, os, sys; \
                 sys.exit(0 if os.path.exists(os.path.join(sys.prefix, 'bin', 'cargo-zigbuild')) else 1)";
    let venv = ctx.venv_with("venv-dist", probe, PY_TOOLS)?;
    for t in [MUSL_X64, GNU_ARM64, MUSL_ARM64, "wasm32-unknown-unknown"] {
        if !ctx.ensure_target(t) {
            return None;
        }
    }
    let mut path = OsString::from(venv.join("bin"));
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let npm = ctx.cache().join("dist-npm");
    if !npm_tools(ctx, &npm) {
        return None;
    }
    Some(Tools { venv, path, npm })
}

/// `npm ci` of tests/dist/tools into `.cache/dist-npm`, unless done from this very lockfile.
fn npm_tools(ctx: &mut Ctx, dir: &Path) -> bool {
    let src = ctx.root.join("tests/dist/tools");
    let lock = std::fs::read(src.join("package-lock.json")).unwrap_or_default();
    let stamp = dir.join("node_modules/.dist-lockfile");
    let have = ["esbuild", "tsc"]
        .iter()
        .all(|b| dir.join("node_modules/.bin").join(b).exists());
    if have && std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        return true;
    }
    let copied = std::fs::create_dir_all(dir).is_ok()
        && ["package.json", "package-lock.json"]
            .iter()
            .all(|f| std::fs::copy(src.join(f), dir.join(f)).is_ok());
    if !copied {
        ctx.record("dist: copy tests/dist/tools into .cache/dist-npm", false);
        return false;
    }
    let mut c = ctx.cmd("npm");
    c.current_dir(dir).args(["ci", "--no-audit", "--no-fund"]);
    ctx.setup(
        "dist: npm ci (esbuild, typescript, playwright-core)",
        &mut c,
    ) && std::fs::write(&stamp, &lock).is_ok()
}

// ---------------------------------------------------------------------------------------------
// Build

struct Dist {
    dir: PathBuf,
    tools: Tools,
}

/// Builds every artifact into `dist/`. Each piece that fails is counted and the others are still
/// built; `None` only when the tools could not be had.
fn build(ctx: &mut Ctx, v: &str) -> Option<Dist> {
    let tools = tools(ctx)?;
    let dir = ctx.root.join("dist");
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["python", "node", "wasm", "plugin", "c", "cli"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create dist/");
    }
    let stage = ctx.cache().join("dist-stage");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).expect("create .cache/dist-stage");
    let b = Builder {
        dist: &dir,
        stage: &stage,
        tools: &tools,
        v,
    };
    let cli = b.start_cli(ctx);
    b.python(ctx);
    b.c(ctx);
    b.node(ctx);
    b.wasm(ctx);
    b.finish_cli(ctx, cli);
    sha256sums(ctx, &dir);
    Some(Dist { dir, tools })
}

struct Builder<'a> {
    dist: &'a Path,
    stage: &'a Path,
    tools: &'a Tools,
    v: &'a str,
}

/// maturin's target dir: its zig wrapper sets other CC/linker variables than cargo-zigbuild's,
/// which rebuilds the shared crates each time the two take turns in one target dir.
fn python_target_dir(ctx: &Ctx) -> PathBuf {
    ctx.target_dir().join("dist-python")
}

/// The CLI's own target dir (its static builds share nothing with the libraries' builds).
fn cli_target_dir(ctx: &Ctx) -> PathBuf {
    ctx.target_dir().join("dist-cli")
}

fn out_dir(ctx: &Ctx, target: &str) -> PathBuf {
    ctx.target_dir().join(target).join(PROFILE)
}

/// Copies `from` to `to`, counting a failure.
fn copy(ctx: &mut Ctx, from: &Path, to: &Path) -> bool {
    let ok = to
        .parent()
        .is_some_and(|p| std::fs::create_dir_all(p).is_ok())
        && std::fs::copy(from, to).is_ok();
    if !ok {
        ctx.record(
            &format!("dist: copy {} to {}", from.display(), to.display()),
            false,
        );
    }
    ok
}

fn write(ctx: &mut Ctx, path: &Path, text: &str) -> bool {
    let ok = path
        .parent()
        .is_some_and(|p| std::fs::create_dir_all(p).is_ok())
        && std::fs::write(path, text).is_ok();
    if !ok {
        ctx.record(&format!("dist: write {}", path.display()), false);
    }
    ok
}

fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s
}

impl Builder<'_> {
    /// The manylinux2014 and musllinux_1_2 abi3 wheels (maturin with zig) and the sdist.
    fn python(&self, ctx: &mut Ctx) {
        let out = self.dist.join("python");
        for (target, compat) in [(GNU_X64, "manylinux2014"), (MUSL_X64, "musllinux_1_2")] {
            let mut c = self.tools.cmd(ctx, self.tools.bin("maturin"));
            c.args(["build", "--profile", PROFILE, "--zig", "--target", target])
                .args([
                    "--compatibility",
                    compat,
                    "-m",
                    "bindings/python/Cargo.toml",
                ])
                .arg("-i")
                .arg(self.tools.bin("python"))
                .arg("--target-dir")
                .arg(python_target_dir(ctx))
                .arg("-o")
                .arg(&out);
            ctx.setup(&format!("dist: maturin build --zig ({compat})"), &mut c);
        }
        // maturin writes the tags as `manylinux2014_x86_64.manylinux_2_17_x86_64`; the
        // compressed tag set is unordered (PEP 425), and the name auditwheel and PyPI's own
        // wheels use puts the PEP 600 tag first.
        let v = self.v;
        let maturin_name =
            format!("support_access-{v}-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl");
        let name =
            format!("support_access-{v}-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
        if out.join(&maturin_name).exists()
            && std::fs::rename(out.join(&maturin_name), out.join(&name)).is_err()
        {
            ctx.record("dist: rename the manylinux wheel", false);
        }
        let mut c = self.tools.cmd(ctx, self.tools.bin("maturin"));
        c.args(["sdist", "-m", "bindings/python/Cargo.toml", "-o"])
            .arg(&out);
        ctx.setup("dist: maturin sdist", &mut c);
    }

    /// libsupport_access (.so with a versioned soname, and .a) for glibc 2.17, as a tarball with
    /// the header, a relocatable pkg-config file and a CMake package.
    fn c(&self, ctx: &mut Ctx) {
        let v = self.v;
        let (soname, real) = sonames(v);
        let soname_arg = format!("link-arg=-Wl,-soname,{soname}");
        let mut c = self.tools.zigbuild(
            ctx,
            "support-access-c",
            GNU_X64,
            &["--lib", "--crate-type", "cdylib,staticlib"],
            &["-C", &soname_arg],
        );
        if !ctx.setup(
            "dist: cargo zigbuild rustc -p support-access-c (glibc 2.17)",
            &mut c,
        ) {
            return;
        }
        let built = out_dir(ctx, GNU_X64);
        let name = format!("libsupport_access-{v}-x86_64-linux-gnu");
        let top = self.stage.join(&name);
        let lib = top.join("lib");
        let ok = std::fs::create_dir_all(lib.join("pkgconfig")).is_ok()
            && std::fs::create_dir_all(lib.join("cmake/support_access")).is_ok()
            && std::fs::create_dir_all(top.join("include")).is_ok()
            && copy(ctx, &built.join("libsupport_access.so"), &lib.join(&real))
            && copy(
                ctx,
                &built.join("libsupport_access.a"),
                &lib.join("libsupport_access.a"),
            )
            && copy(
                ctx,
                &ctx.root.join("bindings/c/include/support_access.h"),
                &top.join("include/support_access.h"),
            )
            && std::os::unix::fs::symlink(&real, lib.join(&soname)).is_ok()
            && std::os::unix::fs::symlink(&soname, lib.join("libsupport_access.so")).is_ok();
        if !ok {
            ctx.record("dist: lay out the C tarball", false);
            return;
        }
        // The dist profile strips what it links; the archive carries the standard library's
        // debug info (24.6 MB of 16): drop it, keep the symbols a linker needs.
        let mut strip = ctx.cmd("strip");
        strip
            .arg("--strip-debug")
            .arg(lib.join("libsupport_access.a"));
        if !ctx.setup("dist: strip --strip-debug libsupport_access.a", &mut strip) {
            return;
        }
        let template = std::fs::read_to_string(ctx.root.join("bindings/c/support_access.pc.in"))
            .unwrap_or_default();
        // Relocatable: every path from where pkg-config found the file.
        let pc = format!(
            "prefix=${{pcfiledir}}/../..\n{}",
            template
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
                .replace("@LIBDIR@", "${prefix}/lib")
                .replace("@INCLUDEDIR@", "${prefix}/include")
                .replace("@VERSION@", v)
        ) + "\n";
        let cmake = |file: &str| {
            std::fs::read_to_string(ctx.root.join("bindings/c/cmake").join(format!("{file}.in")))
                .map(|t| {
                    let mut it = v.split('.');
                    t.replace("@VERSION@", v)
                        .replace("@MAJOR@", it.next().unwrap_or("0"))
                        .replace("@MINOR@", it.next().unwrap_or("0"))
                        .replace("@SONAME@", &soname)
                        .replace("@REALNAME@", &real)
                })
                .unwrap_or_default()
        };
        let config = cmake("support_accessConfig.cmake");
        let version = cmake("support_accessConfigVersion.cmake");
        let ok = !template.is_empty()
            && !config.is_empty()
            && !version.is_empty()
            && write(ctx, &lib.join("pkgconfig/support_access.pc"), &pc)
            && write(
                ctx,
                &lib.join("cmake/support_access/support_accessConfig.cmake"),
                &config,
            )
            && write(
                ctx,
                &lib.join("cmake/support_access/support_accessConfigVersion.cmake"),
                &version,
            )
            && copy(
                ctx,
                &ctx.root.join("docs/quickstart-c.md"),
                &top.join("README.md"),
            );
        if !ok {
            ctx.record("dist: pkg-config / CMake files of the C tarball", false);
            return;
        }
        let mut tar = ctx.cmd("tar");
        tar.current_dir(self.stage)
            .args(["--sort=name", "--owner=0", "--group=0", "--numeric-owner"])
            .args(["--mtime=@0", "-czf"])
            .arg(self.dist.join("c").join(format!("{name}.tar.gz")))
            .arg(&name);
        ctx.setup("dist: tar the C library", &mut tar);
    }

    /// The napi-rs release layout: one package per platform (the addon, `os`/`cpu`/`libc`) and
    /// the main package naming them as optionalDependencies.
    fn node(&self, ctx: &mut Ctx) {
        let v = self.v;
        let src = ctx.root.join("bindings/node");
        let manifest: Value = std::fs::read_to_string(src.join("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let bin_name = manifest["napi"]["binaryName"]
            .as_str()
            .unwrap_or("support-access")
            .to_string();
        // The glibc addons in one cargo run (x86_64 and aarch64 compile side by side), then musl.
        let mut gnu = self
            .tools
            .zigbuild(ctx, "support-access-node", GNU_X64, &[], &[]);
        gnu.args(["--target", &format!("{GNU_ARM64}.{GLIBC}")]);
        let gnu_ok = ctx.setup(
            "dist: cargo zigbuild -p support-access-node (glibc 2.17, x86_64 + aarch64)",
            &mut gnu,
        );
        let mut musl = self
            .tools
            .zigbuild(ctx, "support-access-node", MUSL_X64, &[], &[]);
        // A cdylib on musl needs the C runtime linked dynamically (as maturin does for the
        // musllinux wheel).
        musl.env(MUSL_DYLIB_FLAGS.0, MUSL_DYLIB_FLAGS.1);
        let musl_ok = ctx.setup(
            "dist: cargo zigbuild -p support-access-node (musl, x86_64)",
            &mut musl,
        );
        let mut optional = serde_json::Map::new();
        for p in NODE_PLATFORMS {
            let built = if p.libc == "musl" { musl_ok } else { gnu_ok };
            let pkg_name = format!("support-access-{}", p.name);
            optional.insert(pkg_name.clone(), json!(v));
            if !built {
                continue;
            }
            let dir = self.stage.join("node").join(p.name);
            let node_file = format!("{bin_name}.{}.node", p.name);
            let pj = json!({
                "name": pkg_name,
                "version": v,
                "description": format!("The {} native addon of the npm package `support-access`.", p.name),
                "license": manifest["license"],
                "os": ["linux"],
                "cpu": [p.cpu],
                "libc": [p.libc],
                "main": node_file,
                "files": [node_file],
                "engines": manifest["engines"],
            });
            let readme = format!(
                "# {pkg_name}\n\nThe `{}` binary of [`support-access`](https://www.npmjs.com/package/support-access) \
                 ({} on Linux, {}). Install `support-access`; npm picks this package when it matches.\n",
                p.name, p.cpu, p.libc
            );
            let ok = std::fs::create_dir_all(&dir).is_ok()
                && copy(
                    ctx,
                    &out_dir(ctx, p.target).join("libsupport_access_node.so"),
                    &dir.join(&node_file),
                )
                && write(ctx, &dir.join("package.json"), &json_text(&pj))
                && write(ctx, &dir.join("README.md"), &readme);
            if ok {
                self.npm_pack(ctx, &dir, "node");
            }
        }
        // The main package: the JavaScript and types, the platform packages as optional deps.
        let dir = self.stage.join("node").join("main");
        let mut pj = manifest.clone();
        let files: Vec<String> = manifest["files"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str())
                    .filter(|f| !f.contains('*'))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(o) = pj.as_object_mut() {
            o.remove("devDependencies");
            o.remove("scripts");
            o.insert("files".into(), json!(files));
            o.insert("optionalDependencies".into(), Value::Object(optional));
            let targets: Vec<&str> = NODE_PLATFORMS.iter().map(|p| p.target).collect();
            o.insert(
                "napi".into(),
                json!({ "binaryName": bin_name, "targets": targets }),
            );
        }
        let mut ok = std::fs::create_dir_all(&dir).is_ok();
        for f in &files {
            ok = ok && copy(ctx, &src.join(f), &dir.join(f));
        }
        if ok && write(ctx, &dir.join("package.json"), &json_text(&pj)) {
            self.npm_pack(ctx, &dir, "node");
        }
    }

    /// `npm pack` of a staged package folder into `dist/<sub>`.
    fn npm_pack(&self, ctx: &mut Ctx, dir: &Path, sub: &str) -> bool {
        let mut c = ctx.cmd("npm");
        c.current_dir(dir)
            .args(["pack", "--silent", "--pack-destination"])
            .arg(self.dist.join(sub));
        ctx.setup(&format!("dist: npm pack {}", dir.display()), &mut c)
    }

    /// Starts the static CLI builds (musl, x86_64 and aarch64, in one cargo run so they share
    /// the host's build scripts and proc macros) in the background, in a target dir of their own
    /// so they do not wait on the other builds' lock: the longest build runs beside the rest.
    fn start_cli(&self, ctx: &mut Ctx) -> Option<(std::process::Child, PathBuf)> {
        let mut c = self.tools.cmd(ctx, self.tools.bin("cargo-zigbuild"));
        c.args(["zigbuild", "--profile", PROFILE, "-p", "support-access-cli"]);
        c.args(["--bin", "support-access"]);
        for t in CLI_TARGETS {
            c.args(["--target", t]);
        }
        c.env("CARGO_TARGET_DIR", cli_target_dir(ctx));
        let log = ctx.cache().join("dist-cli-build.log");
        println!(
            "$ {} (in the background, output in {})",
            crate::ctx::describe(&c),
            log.display()
        );
        let out = std::fs::File::create(&log).ok()?;
        let err = out.try_clone().ok()?;
        match c
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
        {
            Ok(child) => Some((child, log)),
            Err(e) => {
                ctx.record(&format!("dist: start the CLI build: {e}"), false);
                None
            }
        }
    }

    fn finish_cli(&self, ctx: &mut Ctx, started: Option<(std::process::Child, PathBuf)>) {
        let Some((mut child, log)) = started else {
            return;
        };
        let ok = child.wait().is_ok_and(|s| s.success());
        print!("{}", std::fs::read_to_string(&log).unwrap_or_default());
        if !ok {
            ctx.record(
                "dist: cargo zigbuild -p support-access-cli (musl, x86_64 + aarch64)",
                false,
            );
            return;
        }
        for t in CLI_TARGETS {
            let to = self
                .dist
                .join("cli")
                .join(format!("support-access-{}-{t}", self.v));
            copy(
                ctx,
                &cli_target_dir(ctx)
                    .join(t)
                    .join(PROFILE)
                    .join("support-access"),
                &to,
            );
        }
    }

    /// The wasm step's build, repackaged: the npm package `support-access-wasm` (browser ES
    /// module, bundler entry, Node import and require, each with types) and the plugin.
    fn wasm(&self, ctx: &mut Ctx) {
        let Some(built) = crate::wasm::build(ctx) else {
            return;
        };
        let v = self.v;
        // The plugin: the module, its ABI and a checksum.
        let plugin = self.dist.join("plugin");
        let file = format!("support_access_plugin-{v}.wasm");
        if copy(ctx, &built.plugin_wasm, &plugin.join(&file))
            && copy(
                ctx,
                &ctx.root.join("docs/plugin-abi.md"),
                &plugin.join("plugin-abi.md"),
            )
        {
            let mut sum = ctx.cmd("sha256sum");
            sum.current_dir(&plugin).arg(&file);
            let (ok, out) = ctx.capture(&mut sum);
            if !(ok && write(ctx, &plugin.join(format!("{file}.sha256")), &out)) {
                ctx.record("dist: plugin checksum", false);
            }
        }

        let src = ctx.root.join("bindings/wasm");
        let wrapper = std::fs::read_to_string(src.join("js/index.js")).unwrap_or_default();
        // The package's types are one file per entry: js/index.d.ts with the shared surface
        // (bindings/node/common.d.ts, which it re-exports) written in, so no entry depends on
        // how a resolver treats an extension-less relative import (node16 refuses them in ESM).
        let common =
            std::fs::read_to_string(ctx.root.join("bindings/node/common.d.ts")).unwrap_or_default();
        let types = std::fs::read_to_string(src.join("js/index.d.ts"))
            .unwrap_or_default()
            .replace("export * from './common'\n", &common);
        if common.is_empty() || types.contains("from './common'") {
            println!(
                "bindings/wasm/js/index.d.ts: its `export * from './common'` line was not found"
            );
            ctx.record("dist: wasm types hold the shared surface", false);
            return;
        }
        // The JavaScript half shared with the Node package is written into each entry too.
        let Some(shared) = crate::wasm::common_module(&ctx.root) else {
            println!("bindings/node/common.js: not in the form the wasm build converts");
            ctx.record("dist: wasm entries hold the shared JavaScript", false);
            return;
        };
        let Some(parts) = split_wrapper(&wrapper, &shared) else {
            println!(
                "bindings/wasm/js/index.js: its loading prologue (`import init, {{…}} from '../pkg/web/…'` \
                 … the `await init(…)` block) or its `import {{ common }} from './common.js';` line \
                 was not found; dist.rs rewrites it per entry"
            );
            ctx.record("dist: wasm wrapper prologue found", false);
            return;
        };
        let pkg = self.stage.join("wasm");
        let web = pkg.join("web");
        let glue_dir = built.web_wasm.parent().expect("pkg/web").to_path_buf();
        let glue = [
            "support_access_wasm.js",
            "support_access_wasm.d.ts",
            "support_access_wasm_bg.wasm",
            "support_access_wasm_bg.wasm.d.ts",
        ];
        let mut ok = std::fs::create_dir_all(&web).is_ok();
        for f in glue {
            ok = ok && copy(ctx, &glue_dir.join(f), &web.join(f));
        }
        let wasm_bytes = std::fs::read(&built.web_wasm).unwrap_or_default();
        let generated = "// Generated by `cargo xtask dist` from bindings/wasm/js/index.js:";
        let web_js = format!(
            "{generated} the browser ES module.\n// It fetches support_access_wasm_bg.wasm next to it.\n\
             import init, {{{imports}}} from './support_access_wasm.js';\n\n\
             const wasm = await init({{ module_or_path: new URL('./support_access_wasm_bg.wasm', import.meta.url) }});\n{body}",
            imports = parts.imports,
            body = parts.body
        );
        let bundler_js = format!(
            "{generated} the bundler entry (`module`).\n// The module's bytes are inline (base64), so any bundler takes it without asset rules.\n\
             import init, {{{imports}}} from '../web/support_access_wasm.js';\n\
             import {{ WASM_BASE64 }} from './wasm-base64.js';\n\n\
             const wasm = await init({{ module_or_path: Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)) }});\n{body}",
            imports = parts.imports,
            body = parts.body
        );
        let node_mjs = format!(
            "{generated} the Node entry.\n// Instantiated synchronously from the .wasm on disk (no top-level await).\n\
             import {{ initSync, {imports}}} from '../web/support_access_wasm.js';\n\
             import {{ readFileSync }} from 'node:fs';\n\n\
             const wasm = initSync({{ module: readFileSync(new URL('../web/support_access_wasm_bg.wasm', import.meta.url)) }});\n{body}",
            imports = parts.imports.trim_start(),
            body = parts.body
        );
        let b64 = format!(
            "// Generated by `cargo xtask dist`: web/support_access_wasm_bg.wasm, base64.\nexport const WASM_BASE64 = '{}';\n",
            base64(&wasm_bytes)
        );
        let cts = format!(
            "// Generated by `cargo xtask dist`: bindings/wasm/js/index.d.ts as CommonJS types.\n{types}"
        );
        ok = ok
            && !wasm_bytes.is_empty()
            && write(ctx, &web.join("index.js"), &web_js)
            && write(ctx, &web.join("index.d.ts"), &types)
            && write(ctx, &pkg.join("bundler/index.js"), &bundler_js)
            && write(ctx, &pkg.join("bundler/wasm-base64.js"), &b64)
            && write(ctx, &pkg.join("bundler/index.d.ts"), &types)
            && write(ctx, &pkg.join("node/index.mjs"), &node_mjs)
            && write(ctx, &pkg.join("node/index.d.mts"), &types)
            && write(ctx, &pkg.join("node/index.d.cts"), &cts);
        if !ok {
            ctx.record("dist: lay out the wasm package", false);
            return;
        }
        // CommonJS: the Node entry bundled by esbuild (import.meta.url from __filename).
        let mut c = ctx.cmd(self.tools.npm_bin("esbuild"));
        c.current_dir(&pkg)
            .args(["node/index.mjs", "--bundle", "--platform=node", "--format=cjs"])
            .args(["--target=node18", "--outfile=node/index.cjs", "--log-level=warning"])
            .arg("--define:import.meta.url=__sa_import_meta_url")
            .arg("--banner:js=const __sa_import_meta_url = require('node:url').pathToFileURL(__filename).href;");
        if !ctx.setup("dist: esbuild the CommonJS Node entry", &mut c) {
            return;
        }
        let manifest: Value = std::fs::read_to_string(src.join("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let entry = |types: &str, file: &str| json!({ "types": types, "default": file });
        let pj = json!({
            "name": manifest["name"],
            "version": v,
            "description": "support-access as WebAssembly: one package for browsers (ES module), bundlers, and Node (import and require), with types.",
            "license": manifest["license"],
            "type": "module",
            "main": "./node/index.cjs",
            "module": "./bundler/index.js",
            "browser": "./web/index.js",
            "types": "./web/index.d.ts",
            "exports": {
                ".": {
                    "node": {
                        "import": entry("./node/index.d.mts", "./node/index.mjs"),
                        "require": entry("./node/index.d.cts", "./node/index.cjs"),
                    },
                    "module": entry("./bundler/index.d.ts", "./bundler/index.js"),
                    "browser": entry("./web/index.d.ts", "./web/index.js"),
                    "default": entry("./web/index.d.ts", "./web/index.js"),
                },
                "./web": entry("./web/index.d.ts", "./web/index.js"),
                "./web/support_access_wasm_bg.wasm": "./web/support_access_wasm_bg.wasm",
                "./package.json": "./package.json",
            },
            "files": ["web/", "bundler/", "node/", "README.md"],
            "sideEffects": false,
            "engines": { "node": ">= 18" },
        });
        let readme = std::fs::read_to_string(src.join("npm/README.md")).unwrap_or_default();
        if write(ctx, &pkg.join("package.json"), &json_text(&pj))
            && !readme.is_empty()
            && write(ctx, &pkg.join("README.md"), &readme)
        {
            self.npm_pack(ctx, &pkg, "wasm");
        }
    }
}

/// The loading prologue of bindings/wasm/js/index.js split off: the names it imports from the
/// wasm-bindgen glue (besides `init`), and everything after the `await init(…)` block, with
/// the shared half (`shared`, common.js's body) written in where it is imported. Each
/// entry's own prologue binds `wasm` to the module's exports, as index.js's does (the body reads
/// `wasm.memory`).
struct Wrapper {
    imports: String,
    body: String,
}

fn split_wrapper(text: &str, shared: &str) -> Option<Wrapper> {
    let start = text.find("import init, {")?;
    let from = "} from '../pkg/web/support_access_wasm.js';";
    let end_imports = text[start..].find(from)? + start;
    let imports = text[start + "import init, {".len()..end_imports].to_string();
    let last_init = text.find("await init({ module_or_path: wasmUrl });")?;
    let close = text[last_init..].find("\n}\n")? + last_init + 3;
    // Nothing after the prologue may still load the module itself.
    let body = text[close..].to_string();
    if body.contains("../pkg/web/") || body.contains("await init(") {
        return None;
    }
    // The shared half (bindings/node/common.js) in place of its import.
    let import = "import { common } from './common.js';\n";
    if !body.contains(import) {
        return None;
    }
    let body = body.replacen(import, shared, 1);
    Some(Wrapper { imports, body })
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// The shared library's soname and file name for `v`: `libsupport_access.so.MAJOR` (for 0.x,
/// where a minor release may break, `.so.0.MINOR`) and `libsupport_access.so.X.Y.Z`.
fn sonames(v: &str) -> (String, String) {
    let parts: Vec<&str> = v.split('.').collect();
    let abi = if parts.first() == Some(&"0") {
        parts.iter().take(2).copied().collect::<Vec<_>>().join(".")
    } else {
        parts.first().copied().unwrap_or("0").to_string()
    };
    (
        format!("libsupport_access.so.{abi}"),
        format!("libsupport_access.so.{v}"),
    )
}

/// `dist/SHA256SUMS`: every file under `dist/`, by relative path.
fn sha256sums(ctx: &mut Ctx, dir: &Path) {
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.retain(|f| f != "SHA256SUMS");
    files.sort();
    let mut c = ctx.cmd("sha256sum");
    c.current_dir(dir).args(&files);
    let (ok, out) = ctx.capture(&mut c);
    if !(ok && !files.is_empty() && write(ctx, &dir.join("SHA256SUMS"), &out)) {
        ctx.record("dist: SHA256SUMS", false);
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(base, &p, out);
        } else if let Ok(rel) = p.strip_prefix(base) {
            out.push(rel.display().to_string());
        }
    }
}

/// Prints what `dist/` holds with sizes, and counts each expected file as a test.
fn list(ctx: &mut Ctx, d: &Dist, v: &str) {
    println!("\ndist/ (version {v}):");
    let mut files = Vec::new();
    walk(&d.dir, &d.dir, &mut files);
    files.sort();
    let sizes: BTreeMap<String, u64> = files
        .iter()
        .map(|f| {
            (
                f.clone(),
                std::fs::metadata(d.dir.join(f)).map_or(0, |m| m.len()),
            )
        })
        .collect();
    for (f, n) in &sizes {
        println!("  {f:<90} {n:>10} bytes ({:.1} KiB)", *n as f64 / 1024.0);
    }
    for f in expected_files(v)
        .iter()
        .chain(std::iter::once(&"SHA256SUMS".to_string()))
    {
        ctx.record(
            &format!("dist: dist/{f} built"),
            sizes.get(f).is_some_and(|n| *n > 0),
        );
    }
    let extra: Vec<&String> = sizes
        .keys()
        .filter(|f| *f != "SHA256SUMS" && !expected_files(v).contains(f))
        .collect();
    if !extra.is_empty() {
        println!("dist/ holds files nobody expects: {extra:?}");
    }
    ctx.record(
        "dist: dist/ holds exactly the expected files",
        extra.is_empty(),
    );
}

// ---------------------------------------------------------------------------------------------
// Install tests

struct Tests {
    dist: PathBuf,
    scratch: PathBuf,
    v: String,
    tools: Tools,
}

impl Tests {
    fn file(&self, rel: &str) -> PathBuf {
        self.dist.join(rel)
    }

    fn script(&self, ctx: &Ctx, rel: &str) -> PathBuf {
        ctx.root.join("tests/dist").join(rel)
    }

    /// auditwheel, then a fresh venv from each of the wheel and the sdist running smoke.py.
    fn python(&self, ctx: &mut Ctx) {
        let v = &self.v;
        let gnu = self.file(&format!(
            "python/support_access-{v}-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ));
        let musl = self.file(&format!(
            "python/support_access-{v}-cp39-abi3-musllinux_1_2_x86_64.whl"
        ));
        let sdist = self.file(&format!("python/support_access-{v}.tar.gz"));
        let mut c = self.tools.cmd(ctx, self.tools.bin("auditwheel"));
        c.arg("show").arg(&gnu);
        let (ok, out) = ctx.capture(&mut c);
        ctx.record(
            &format!(
                "dist: auditwheel show: {} is manylinux_2_17_x86_64 (manylinux2014)",
                name_of(&gnu)
            ),
            ok && out.contains("\"manylinux_2_17_x86_64\""),
        );
        // auditwheel cannot show the musllinux wheel on a glibc machine: zig links musl's C
        // library as `libc.so` (musl's loader takes any libc.so* NEEDED as itself), and
        // auditwheel then opens this machine's /usr/lib/x86_64-linux-gnu/libc.so, a linker
        // script, and stops (ELFError). The same facts, checked directly: the tag, and an
        // extension that needs only the C library and no glibc symbol version.
        let mut c = self.tools.cmd(ctx, self.tools.bin("python"));
        c.args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
             w = [n for n in z.namelist() if n.endswith('.dist-info/WHEEL')][0]; \
             t = z.read(w).decode(); print(t); sys.exit(0 if 'Tag: cp39-abi3-musllinux_1_2_x86_64' in t else 1)",
        ])
        .arg(&musl);
        ctx.check(
            "dist: the musllinux wheel is tagged cp39-abi3-musllinux_1_2_x86_64",
            &mut c,
        );
        let unpacked = self.scratch.join("musl-wheel");
        let mut c = self.tools.cmd(ctx, self.tools.bin("python"));
        c.args(["-m", "zipfile", "-e"]).arg(&musl).arg(&unpacked);
        if ctx.setup("dist: unpack the musllinux wheel", &mut c) {
            let so = std::fs::read_dir(unpacked.join("support_access"))
                .ok()
                .and_then(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .find(|p| p.extension().is_some_and(|x| x == "so"))
                });
            let mut c = musl_elf(
                ctx,
                so.as_deref().unwrap_or(Path::new("missing.so")),
                "X86-64",
            );
            ctx.check(
                "dist: the musllinux extension is x86_64, needs only musl's libc, no glibc",
                &mut c,
            );
        }
        // Issue 15 asks auditwheel to name manylinux2014: its alias tag, in the wheel's name and
        // in the WHEEL metadata auditwheel reads.
        let mut c = self.tools.cmd(ctx, self.tools.bin("python"));
        c.args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
             w = [n for n in z.namelist() if n.endswith('.dist-info/WHEEL')][0]; \
             t = z.read(w).decode(); print(t); sys.exit(0 if 'manylinux2014_x86_64' in t else 1)",
        ])
        .arg(&gnu);
        ctx.check(
            "dist: the wheel's WHEEL tags include manylinux2014_x86_64",
            &mut c,
        );
        self.venv_install(ctx, "wheel", &gnu);
        self.venv_install(ctx, "sdist", &sdist);
        println!(
            "dist: the musllinux wheel is checked by its tag and its extension's ELF, not installed: this machine has no musl Python to install it in"
        );
    }

    fn venv_install(&self, ctx: &mut Ctx, what: &str, artifact: &Path) {
        let venv = self.scratch.join(format!("venv-{what}"));
        let mut mk = ctx.cmd("python3");
        mk.args(["-m", "venv"]).arg(&venv);
        if !ctx.setup(&format!("dist: python3 -m venv (from the {what})"), &mut mk) {
            return;
        }
        let python = venv.join("bin/python");
        let mut pip = ctx.pip_install(&python);
        pip.current_dir(&self.scratch).arg(artifact);
        if what == "sdist" {
            // The sdist builds with cargo: keep its target dir warm between runs.
            pip.env("CARGO_TARGET_DIR", ctx.cache().join("dist-sdist-target"));
        }
        if !ctx.setup(&format!("dist: pip install the {what}"), &mut pip) {
            return;
        }
        let mut run = ctx.cmd(&python);
        run.current_dir(&self.scratch)
            .arg(self.script(ctx, "smoke.py"))
            .arg(&self.v);
        ctx.check(
            &format!("dist: a fresh venv from the {what} runs smoke.py"),
            &mut run,
        );
    }

    /// A fresh npm project installing the tarballs: which platform package npm picks, ESM and
    /// CommonJS for both packages, the types under nodenext and bundler, and Chromium pages.
    fn npm(&self, ctx: &mut Ctx) {
        let v = &self.v;
        let proj = self.scratch.join("npm-project");
        let tgz = |n: &str| format!("file:{}", self.file(&format!("node/{n}-{v}.tgz")).display());
        let mut overrides = serde_json::Map::new();
        for p in NODE_PLATFORMS {
            let name = format!("support-access-{}", p.name);
            overrides.insert(name.clone(), json!(tgz(&name)));
        }
        let pj = json!({
            "name": "support-access-user",
            "private": true,
            "dependencies": {
                "support-access": tgz("support-access"),
                "support-access-wasm": format!("file:{}", self.file(&format!("wasm/support-access-wasm-{v}.tgz")).display()),
            },
            // Not published: the platform packages come from dist/ instead of the registry.
            "overrides": overrides,
        });
        let ok = write(ctx, &proj.join("package.json"), &json_text(&pj));
        let mut copied = ok;
        for f in ["native.mjs", "native.cjs", "wasm.mjs", "wasm.cjs"] {
            copied = copied && copy(ctx, &self.script(ctx, f), &proj.join(f));
        }
        if !copied {
            return;
        }
        let mut install = ctx.cmd("npm");
        install.current_dir(&proj).args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
        ]);
        if !ctx.setup(
            "dist: npm install of the tarballs in a fresh project",
            &mut install,
        ) {
            return;
        }
        let present: Vec<&str> = NODE_PLATFORMS
            .iter()
            .filter(|p| {
                proj.join("node_modules")
                    .join(format!("support-access-{}", p.name))
                    .is_dir()
            })
            .map(|p| p.name)
            .collect();
        println!("platform packages npm installed: {present:?}");
        ctx.record(
            "dist: npm installs exactly the matching platform package (linux-x64-gnu)",
            present == ["linux-x64-gnu"],
        );
        for (f, what) in [
            ("native.mjs", "support-access as an ES module"),
            ("native.cjs", "support-access as CommonJS"),
            ("wasm.mjs", "support-access-wasm as an ES module in Node"),
            ("wasm.cjs", "support-access-wasm as CommonJS in Node"),
        ] {
            let mut c = ctx.cmd("node");
            c.current_dir(&proj).arg(f).arg(v);
            ctx.check(&format!("dist: {what}"), &mut c);
        }
        self.types(ctx, &proj);
        self.pages(ctx, &proj);
    }

    fn types(&self, ctx: &mut Ctx, proj: &Path) {
        let dir = proj.join("types");
        let mut ok = true;
        for f in [
            "esm.mts",
            "cjs.cts",
            "bundler.ts",
            "tsconfig.node16.json",
            "tsconfig.nodenext.json",
            "tsconfig.bundler.json",
        ] {
            ok = ok && copy(ctx, &self.script(ctx, &format!("types/{f}")), &dir.join(f));
        }
        if !ok {
            return;
        }
        // node16 is the strict CommonJS/ES module split (no require of an ES module, as on Node
        // 18): a `require` entry whose types are ES module types fails there (TS1471), where
        // nodenext, which allows require(esm), would let it pass.
        for (cfg, what) in [
            ("tsconfig.node16.json", "node16 (.mts import, .cts require)"),
            (
                "tsconfig.nodenext.json",
                "nodenext (.mts import, .cts require)",
            ),
            ("tsconfig.bundler.json", "bundler resolution"),
        ] {
            let mut c = ctx.cmd(self.tools.npm_bin("tsc"));
            c.current_dir(&dir).args(["-p", cfg]);
            ctx.check(
                &format!("dist: tsc finds real types for every entry: {what}"),
                &mut c,
            );
        }
    }

    fn pages(&self, ctx: &mut Ctx, proj: &Path) {
        let mut ok = true;
        for f in ["app.js", "bundled.html", "direct.html"] {
            ok = ok && copy(ctx, &self.script(ctx, &format!("page/{f}")), &proj.join(f));
        }
        if !ok {
            return;
        }
        let mut c = ctx.cmd(self.tools.npm_bin("esbuild"));
        c.current_dir(proj)
            .args(["app.js", "--bundle", "--format=esm", "--platform=browser"])
            .args(["--outfile=out/app.js", "--log-level=warning"]);
        if !ctx.setup(
            "dist: esbuild bundles a page from support-access-wasm",
            &mut c,
        ) {
            return;
        }
        if !ctx.ensure_apt("chromium", &["chromium", "chromium-driver"]) {
            return;
        }
        let mut c = ctx.cmd("node");
        c.arg(self.script(ctx, "page/chromium.mjs"))
            .arg(proj)
            .arg(&self.v)
            .arg(self.tools.npm.join("node_modules"));
        ctx.run_counted(
            "dist: the wasm package's pages in Chromium",
            &mut c,
            count_plain,
        );
    }

    /// The unpacked C tarball: layout, soname, glibc 2.17, a program built with pkg-config
    /// (shared and static) and with CMake's find_package (shared and static).
    fn c(&self, ctx: &mut Ctx) {
        let v = &self.v;
        let name = format!("libsupport_access-{v}-x86_64-linux-gnu");
        let dir = self.scratch.join("c");
        let _ = std::fs::create_dir_all(&dir);
        let mut untar = ctx.cmd("tar");
        untar
            .current_dir(&dir)
            .arg("-xzf")
            .arg(self.file(&format!("c/{name}.tar.gz")));
        if !ctx.setup("dist: unpack the C tarball", &mut untar) {
            return;
        }
        let prefix = dir.join(&name);
        let lib = prefix.join("lib");
        let (soname, real) = sonames(v);
        let mut c = ctx.cmd("sh");
        c.arg("-c").arg(format!(
            "readelf -d '{}' | grep -F 'Library soname: [{soname}]' && test \"$(readlink '{lib}/{soname}')\" = '{real}' \
             && test \"$(readlink '{lib}/libsupport_access.so')\" = '{soname}'",
            lib.join(&real).display(),
            lib = lib.display()
        ));
        ctx.check(
            &format!("dist: the .so has soname {soname} and the usual symlinks"),
            &mut c,
        );
        let mut c = glibc_at_most(ctx, &lib.join(&real), GLIBC);
        ctx.check(&format!("dist: the .so needs glibc ≤ {GLIBC}"), &mut c);

        let have =
            ctx.ensure_apt("pkg-config", &["pkg-config"]) && ctx.ensure_apt("cmake", &["cmake"]);
        if !have {
            return;
        }
        let src = dir.join("src");
        let ok = std::fs::create_dir_all(&src).is_ok()
            && copy(
                ctx,
                &ctx.root.join("examples/c/countdown.c"),
                &src.join("countdown.c"),
            )
            && copy(
                ctx,
                &self.script(ctx, "c/version.c"),
                &src.join("version.c"),
            )
            && copy(
                ctx,
                &self.script(ctx, "c/CMakeLists.txt"),
                &src.join("CMakeLists.txt"),
            );
        if !ok {
            return;
        }
        let pc = lib.join("pkgconfig");
        let mut c = ctx.cmd("pkg-config");
        c.env("PKG_CONFIG_PATH", &pc)
            .args(["--modversion", "support_access"]);
        let (ok, out) = ctx.capture(&mut c);
        ctx.record(
            "dist: pkg-config --modversion support_access is the version",
            ok && out.trim() == v,
        );
        // What a user types: cc … $(pkg-config --cflags --libs support_access), rpath to libdir.
        let sh = |script: String| {
            let mut c = ctx.cmd("sh");
            c.current_dir(&src)
                .env("PKG_CONFIG_PATH", &pc)
                .env_remove("LD_LIBRARY_PATH");
            c.arg("-c").arg(script);
            c
        };
        let mut c = sh(
            "cc -std=c11 -Wall -Wextra -Werror -o countdown-pc countdown.c $(pkg-config --cflags --libs support_access) \
             -Wl,-rpath,$(pkg-config --variable=libdir support_access) \
             && cc -std=c11 -o version-pc version.c $(pkg-config --cflags --libs support_access) -Wl,-rpath,$(pkg-config --variable=libdir support_access) \
             && cc -std=c11 -Wall -Wextra -Werror -o countdown-pc-static countdown.c $(pkg-config --cflags support_access) \
             $(pkg-config --variable=libdir support_access)/libsupport_access.a $(pkg-config --static --libs-only-l support_access | sed 's/-lsupport_access//')"
            .to_string());
        if ctx.setup(
            "dist: cc with pkg-config against the unpacked tarball",
            &mut c,
        ) {
            self.run_c(
                ctx,
                &src.join("countdown-pc"),
                &src.join("version-pc"),
                "pkg-config",
                Some(&soname),
            );
            self.run_c(
                ctx,
                &src.join("countdown-pc-static"),
                &src.join("version-pc"),
                "pkg-config, static",
                None,
            );
        }
        let build = dir.join("cmake-build");
        let mut c = ctx.cmd("cmake");
        c.arg("-S")
            .arg(&src)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
            .arg(format!("-DSA_EXPECTED_VERSION={v}"));
        let mut b = ctx.cmd("cmake");
        b.arg("--build").arg(&build);
        if ctx.setup(
            "dist: cmake configure (find_package(support_access))",
            &mut c,
        ) && ctx.setup("dist: cmake --build", &mut b)
        {
            self.run_c(
                ctx,
                &build.join("countdown"),
                &build.join("version"),
                "CMake",
                Some(&soname),
            );
            self.run_c(
                ctx,
                &build.join("countdown_static"),
                &build.join("version"),
                "CMake, static",
                None,
            );
        }
    }

    fn run_c(
        &self,
        ctx: &mut Ctx,
        countdown: &Path,
        version: &Path,
        how: &str,
        shared: Option<&str>,
    ) {
        let mut ldd = ctx.cmd("sh");
        ldd.env_remove("LD_LIBRARY_PATH").arg("-c");
        match shared {
            Some(soname) => ldd.arg(format!(
                "ldd '{}' | grep -F '{soname} => {}/'",
                countdown.display(),
                self.scratch.join("c").display()
            )),
            None => ldd.arg(format!(
                "! ldd '{}' | grep -q libsupport_access",
                countdown.display()
            )),
        };
        ctx.check(
            &format!("dist: C program ({how}) loads the library it should"),
            &mut ldd,
        );
        let mut run = ctx.cmd(countdown);
        run.env_remove("LD_LIBRARY_PATH");
        let (ok, out) = ctx.capture(&mut run);
        ctx.record(
            &format!("dist: C program ({how}) runs to the end of its grant"),
            ok && out.contains("GRANT_EXPIRED") && out.contains("record verified"),
        );
        let mut run = ctx.cmd(version);
        run.env_remove("LD_LIBRARY_PATH").arg(&self.v);
        ctx.check(
            &format!("dist: SUPPORT_ACCESS_VERSION is {} ({how})", self.v),
            &mut run,
        );
    }

    /// The static CLI binaries: ldd says static, `--version` and `demo` run (aarch64 under
    /// qemu-user).
    fn cli(&self, ctx: &mut Ctx) {
        let qemu = ctx.ensure_apt("qemu-aarch64-static", &["qemu-user-static"]);
        for t in CLI_TARGETS {
            let bin = self.file(&format!("cli/support-access-{}-{t}", self.v));
            let mut c = ctx.cmd("sh");
            c.arg("-c").arg(format!(
                "out=$(ldd '{b}' 2>&1); echo \"$out\"; case \"$out\" in *'=>'*) exit 1;; esac; \
                 case \"$out\" in *'statically linked'*|*'not a dynamic executable'*) ;; *) exit 1;; esac; \
                 ! readelf -d '{b}' | grep -q NEEDED",
                b = bin.display()
            ));
            ctx.check(&format!("dist: ldd: the {t} CLI is static"), &mut c);
            let runner: Option<&str> = if t.starts_with("aarch64") {
                if !qemu {
                    continue;
                }
                Some("qemu-aarch64-static")
            } else {
                None
            };
            let mk = |ctx: &Ctx, args: &[&str]| {
                let mut c = match runner {
                    Some(r) => {
                        let mut c = ctx.cmd(r);
                        c.arg(&bin);
                        c
                    }
                    None => ctx.cmd(&bin),
                };
                c.current_dir(&self.scratch).env("NO_COLOR", "1").args(args);
                c
            };
            let how = if runner.is_some() {
                " under qemu-user"
            } else {
                ""
            };
            let (ok, out) = ctx.capture(&mut mk(ctx, &["--version"]));
            ctx.record(
                &format!("dist: the {t} CLI{how} says `support-access {}`", self.v),
                ok && out.trim() == format!("support-access {}", self.v),
            );
            let mut demo = mk(ctx, &["demo"]);
            ctx.check(&format!("dist: the {t} CLI{how} runs the demo"), &mut demo);
        }
        // The Node addons this machine cannot load (no arm64 or musl Node here): their ELF
        // header, C library and glibc level are what the platform package promises.
        for p in NODE_PLATFORMS.iter().filter(|p| p.name != "linux-x64-gnu") {
            let dir = self.scratch.join("node-addons").join(p.name);
            let _ = std::fs::create_dir_all(&dir);
            let mut c = ctx.cmd("tar");
            c.current_dir(&dir)
                .arg("-xzf")
                .arg(self.file(&format!("node/support-access-{}-{}.tgz", p.name, self.v)));
            if !ctx.setup(&format!("dist: unpack support-access-{}", p.name), &mut c) {
                continue;
            }
            let node = dir.join(format!("package/support-access.{}.node", p.name));
            let machine = if p.cpu == "arm64" {
                "AArch64"
            } else {
                "X86-64"
            };
            let mut c = if p.libc == "musl" {
                musl_elf(ctx, &node, machine)
            } else {
                let mut c = ctx.cmd("sh");
                c.arg("-c").arg(format!(
                    "readelf -h '{n}' | grep -q 'Machine:.*{machine}' && readelf -d '{n}' | grep NEEDED | grep -qF 'libc.so.6'",
                    n = node.display()
                ));
                c
            };
            ctx.check(
                &format!(
                    "dist: support-access-{} holds a {machine} {} addon",
                    p.name, p.libc
                ),
                &mut c,
            );
            if p.libc == "glibc" {
                let mut c = glibc_at_most(ctx, &node, GLIBC);
                ctx.check(
                    &format!("dist: support-access-{} needs glibc ≤ {GLIBC}", p.name),
                    &mut c,
                );
            }
        }
        let gnu = self.scratch.join("npm-project/node_modules/support-access-linux-x64-gnu/support-access.linux-x64-gnu.node");
        let mut c = glibc_at_most(ctx, &gnu, GLIBC);
        ctx.check(
            &format!("dist: support-access-linux-x64-gnu needs glibc ≤ {GLIBC}"),
            &mut c,
        );
        println!(
            "dist: the arm64 and musl Node addons are checked by their ELF headers only: \
             this machine has no arm64 or musl Node to load them (qemu-user runs the arm64 CLI)"
        );
    }

    /// The plugin: its checksum, and the vectors through the shipped bytes.
    fn plugin(&self, ctx: &mut Ctx) {
        let dir = self.dist.join("plugin");
        let file = format!("support_access_plugin-{}.wasm", self.v);
        let mut c = ctx.cmd("sha256sum");
        c.current_dir(&dir).args(["-c", &format!("{file}.sha256")]);
        ctx.check("dist: the plugin's checksum matches", &mut c);
        let mut c = ctx.cmd("node");
        c.args([
            "--test",
            "--test-reporter=tap",
            "bindings/wasm-plugin/tests/node-host.test.mjs",
        ])
        .env("SA_PLUGIN", dir.join(&file))
        .env("SA_DUMP", self.scratch.join("plugin-dump.txt"));
        ctx.run_counted(
            "dist: the shipped plugin under WebAssembly.instantiate",
            &mut c,
            count_node,
        );
        let mut c = ctx.cmd("sha256sum");
        c.current_dir(&self.dist)
            .args(["-c", "--quiet", "SHA256SUMS"]);
        ctx.check("dist: sha256sum -c SHA256SUMS", &mut c);
    }
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A command that passes when `file` is an ELF for `machine` whose only NEEDED entries are
/// musl's C library (`libc.so`, as zig links it, or `libc.musl-*`) and that has no glibc symbol
/// versions.
fn musl_elf(ctx: &Ctx, file: &Path, machine: &str) -> Command {
    let mut c = ctx.cmd("sh");
    c.arg("-c").arg(format!(
        "f='{}'; readelf -h \"$f\" | grep -q 'Machine:.*{machine}' || exit 1; \
         readelf -d \"$f\" | grep NEEDED; \
         bad=$(readelf -d \"$f\" | grep NEEDED | grep -v -e '\\[libc\\.so\\]' -e 'libc\\.musl-'); \
         test -z \"$bad\" || exit 1; ! objdump -T \"$f\" | grep -q GLIBC_",
        file.display()
    ));
    c
}

/// A command that fails when `file` needs a glibc symbol version above `max`.
fn glibc_at_most(ctx: &Ctx, file: &Path, max: &str) -> Command {
    let mut c = ctx.cmd("sh");
    c.arg("-c").arg(format!(
        "v=$(objdump -T '{}' | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1); \
         echo \"newest glibc symbol: ${{v:-none}}\"; \
         test -z \"$v\" || test \"$(printf '%s\\n%s\\n' \"$v\" '{max}' | sort -V | tail -1)\" = '{max}'",
        file.display()
    ));
    c
}
