//! Shared plumbing for xtask steps: running commands, counting results, installing tools.
#![allow(dead_code)] // a toolkit: each front end's step uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Counts of one run, and where things live.
pub struct Ctx {
    pub root: PathBuf,
    pub passed: u64,
    pub failed: u64,
    pub failures: Vec<String>,
}

impl Ctx {
    pub fn new() -> Ctx {
        // `cargo run` sets CARGO_MANIFEST_DIR for the running binary too: prefer it, so an
        // xtask binary built in another clone sharing a target dir still finds *this* repo.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest
            .ancestors()
            .nth(2)
            .expect("repo root")
            .to_path_buf();
        Ctx {
            root,
            passed: 0,
            failed: 0,
            failures: Vec::new(),
        }
    }

    /// `.cache/` under the repo (ignored by git): installed tools, venvs, scratch dirs.
    pub fn cache(&self) -> PathBuf {
        let p = self.root.join(".cache");
        std::fs::create_dir_all(&p).expect("create .cache");
        p
    }

    pub fn section(&self, name: &str) {
        println!("\n==> {name}");
    }

    /// A command run from the repo root.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root);
        c
    }

    /// `python -m pip install`, quiet and without the version check, in the project root: every
    /// venv of the test command installs through it; the caller adds flags and packages.
    pub fn pip_install(&self, python: &Path) -> Command {
        let mut c = self.cmd(python);
        c.args(["-m", "pip", "install", "--disable-pip-version-check", "-q"]);
        c
    }

    /// Runs a command, printing its output, and returns (success, stdout+stderr).
    pub fn capture(&self, cmd: &mut Command) -> (bool, String) {
        println!("$ {}", describe(cmd));
        match cmd.stdin(Stdio::null()).output() {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                print!("{text}");
                (out.status.success(), text)
            }
            Err(e) => {
                let text = format!("could not start {}: {e}\n", describe(cmd));
                print!("{text}");
                (false, text)
            }
        }
    }

    /// Runs a command that is one test: passes if it exits 0.
    pub fn check(&mut self, name: &str, cmd: &mut Command) -> bool {
        let (ok, _) = self.capture(cmd);
        self.record(name, ok);
        ok
    }

    /// Runs a command as a setup step (build, install); a failure counts as one failed test.
    pub fn setup(&mut self, name: &str, cmd: &mut Command) -> bool {
        let (ok, _) = self.capture(cmd);
        if !ok {
            self.record(name, false);
        }
        ok
    }

    /// Counts one test.
    pub fn record(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_string());
            println!("FAILED: {name}");
        }
    }

    /// Adds the counts a test runner reported. A runner that failed without reporting
    /// any failure still counts as one failure.
    pub fn add(&mut self, name: &str, ok: bool, counts: Option<(u64, u64)>) {
        let (p, f) = counts.unwrap_or((0, 0));
        self.passed += p;
        self.failed += f;
        if f > 0 || !ok || counts.is_none() {
            if f == 0 {
                self.failed += 1;
            }
            self.failures.push(name.to_string());
            println!("FAILED: {name}");
        }
    }

    /// Runs a test runner and adds the counts `parse` reads from its output.
    pub fn run_counted(
        &mut self,
        name: &str,
        cmd: &mut Command,
        parse: fn(&str) -> Option<(u64, u64)>,
    ) -> bool {
        let (ok, out) = self.capture(cmd);
        let counts = parse(&out);
        self.add(name, ok, counts);
        ok && counts.is_some_and(|(_, f)| f == 0)
    }

    /// Installs a Rust target with rustup unless present.
    pub fn ensure_target(&mut self, target: &str) -> bool {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output();
        if installed.is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == target)
        }) {
            return true;
        }
        let mut c = Command::new("rustup");
        c.args(["target", "add", target]);
        self.setup(&format!("rustup target add {target}"), &mut c)
    }

    /// Installs Debian packages unless `probe` is already on PATH.
    pub fn ensure_apt(&mut self, probe: &str, packages: &[&str]) -> bool {
        which(probe).is_some() || self.apt_install(packages)
    }

    /// `apt-get update`, then `apt-get install` of `packages`; a failure counts as a failed test.
    pub fn apt_install(&mut self, packages: &[&str]) -> bool {
        let mut update = Command::new("apt-get");
        update
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive");
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive");
        self.setup("apt-get update", &mut update)
            && self.setup(
                &format!("apt-get install {}", packages.join(" ")),
                &mut install,
            )
    }

    /// `cargo install`s a tool at an exact version into `.cache/tools` unless already there.
    pub fn ensure_cargo_tool(
        &mut self,
        krate: &str,
        version: &str,
        bin: &str,
        extra: &[&str],
    ) -> Option<PathBuf> {
        let root = self.cache().join("tools");
        let path = root.join("bin").join(bin);
        let stamp = root.join(format!("{krate}-{version}.stamp"));
        if path.exists() && stamp.exists() {
            return Some(path);
        }
        let mut c = Command::new("cargo");
        c.args(["install", krate, "--version", version, "--root"])
            .arg(&root)
            .args(extra);
        // Keep the tool's build out of the workspace's target dir (its lock would serialize us).
        c.env("CARGO_TARGET_DIR", self.cache().join("tools-target"));
        if self.setup(&format!("cargo install {krate}@{version}"), &mut c) {
            std::fs::write(&stamp, version).ok();
            Some(path)
        } else {
            None
        }
    }

    /// A venv under `.cache/NAME` in which `imports` (a Python import line) works, pip-installing
    /// `packages` when it does not; `None` (after counting a failed test) if that fails.
    pub fn venv_with(&mut self, name: &str, imports: &str, packages: &[&str]) -> Option<PathBuf> {
        let venv = self.cache().join(name);
        let python = venv.join("bin").join("python");
        if !python.exists() {
            let mut c = self.cmd("python3");
            c.args(["-m", "venv"]).arg(&venv);
            if !self.setup(&format!("{name}: python3 -m venv"), &mut c) {
                return None;
            }
        }
        let present = Command::new(&python)
            .args(["-c", imports])
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            let mut c = self.pip_install(&python);
            c.args(packages);
            if !self.setup(
                &format!("{name}: pip install {}", packages.join(" ")),
                &mut c,
            ) {
                return None;
            }
        }
        Some(venv)
    }

    /// `npm ci` in `dir` unless its node_modules was installed from exactly the lockfile there
    /// and holds every path of `probes` (relative to `dir`); the lockfile's bytes are kept in
    /// `.cache/NAME-npm-lock.stamp`. `false` (after counting a failed test) if `npm ci` fails.
    pub fn npm_ci(&mut self, name: &str, dir: &Path, probes: &[&str]) -> bool {
        let lock = std::fs::read(dir.join("package-lock.json")).unwrap_or_default();
        let stamp = self.cache().join(format!("{name}-npm-lock.stamp"));
        if !lock.is_empty()
            && std::fs::read(&stamp).is_ok_and(|s| s == lock)
            && probes.iter().all(|p| dir.join(p).exists())
        {
            println!("{name}: node_modules is up to date with package-lock.json");
            return true;
        }
        let mut ci = self.cmd("npm");
        ci.current_dir(dir).args(["ci", "--no-audit", "--no-fund"]);
        if !self.setup(&format!("{name}: npm ci"), &mut ci) {
            return false;
        }
        std::fs::create_dir_all(self.cache()).ok();
        std::fs::write(&stamp, &lock).is_ok()
    }

    /// The workspace's target dir (`CARGO_TARGET_DIR`, or `target/`).
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| self.root.join("target"), PathBuf::from)
    }

    pub fn finish(&self) -> ExitCode {
        println!();
        if !self.failures.is_empty() {
            println!("failed: {}", self.failures.join(", "));
        }
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 && self.passed > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

fn last_number_before(line: &str, word: &str) -> Option<u64> {
    let idx = line.find(word)?;
    line[..idx]
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|s| !s.is_empty())?
        .parse()
        .ok()
}

/// Sums cargo test's `test result: ok. N passed; M failed` lines.
pub fn count_cargo(out: &str) -> Option<(u64, u64)> {
    let mut found = None;
    for line in out.lines().filter(|l| l.contains("test result:")) {
        let (p, f) = found.unwrap_or((0, 0));
        found = Some((
            p + last_number_before(line, " passed").unwrap_or(0),
            f + last_number_before(line, " failed").unwrap_or(0),
        ));
    }
    found
}

/// Reads a plain `N passed, M failed` line (the last one).
pub fn count_plain(out: &str) -> Option<(u64, u64)> {
    out.lines()
        .rev()
        .find(|l| l.contains(" passed, ") && l.contains(" failed"))
        .and_then(|l| {
            Some((
                last_number_before(l, " passed")?,
                last_number_before(l, " failed")?,
            ))
        })
}

/// Reads pytest's closing line (`== 12 passed, 1 failed in 0.3s ==`).
pub fn count_pytest(out: &str) -> Option<(u64, u64)> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.contains(" passed") || l.contains(" failed") || l.contains(" error"))?;
    let p = last_number_before(line, " passed").unwrap_or(0);
    let f = last_number_before(line, " failed").unwrap_or(0)
        + last_number_before(line, " error").unwrap_or(0);
    (p + f > 0).then_some((p, f))
}

/// Reads node --test's `# pass N` / `# fail N` (or `ℹ pass N`) lines.
pub fn count_node(out: &str) -> Option<(u64, u64)> {
    let get = |key: &str| {
        out.lines().rev().find_map(|l| {
            let t = l.trim_start_matches(['#', 'ℹ', ' ']);
            t.strip_prefix(key)
                .and_then(|r| r.trim().parse::<u64>().ok())
        })
    };
    Some((get("pass ")?, get("fail ")?))
}
