//! The test run's own PostgreSQL server: Debian's `postgresql` package (installed when
//! missing), `initdb` into `.cache/pg/PID/` (ignored) as the unprivileged `postgres` user (initdb
//! refuses root), trust authentication, a loopback port of its own, and a socket directory of
//! its own. [`Server`] stops it when dropped (and removes its folder), so it is stopped whatever
//! the tests did; a server left behind by a run that was killed is stopped at the next start.
//!
//! The tests find it through the environment: `SUPPORT_ACCESS_TEST_PG` (a superuser URL),
//! `SUPPORT_ACCESS_TEST_PG_BIN` (the server's bin dir), `SUPPORT_ACCESS_TEST_PG_DATA` (its data
//! dir), `SUPPORT_ACCESS_TEST_PG_PORT` and `SUPPORT_ACCESS_TEST_PG_USER` (the OS user to run
//! `pg_ctl` as, when the run is root) — the fault tests stop and restart it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ctx::Ctx;

/// A running server; stopped on drop.
pub struct Server {
    bin: PathBuf,
    data: PathBuf,
    user: Option<String>,
    pub port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The newest `/usr/lib/postgresql/N/bin` holding `initdb`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

impl Server {
    fn ctl(&self) -> Command {
        as_user(&self.user, &self.bin.join("pg_ctl"))
    }

    /// The superuser URL of the server's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Sets the variables the tests read, for every command this run starts.
    fn export(&self) {
        std::env::set_var("SUPPORT_ACCESS_TEST_PG", self.url());
        std::env::set_var("SUPPORT_ACCESS_TEST_PG_BIN", &self.bin);
        std::env::set_var("SUPPORT_ACCESS_TEST_PG_DATA", &self.data);
        std::env::set_var("SUPPORT_ACCESS_TEST_PG_PORT", self.port.to_string());
        match &self.user {
            Some(u) => std::env::set_var("SUPPORT_ACCESS_TEST_PG_USER", u),
            None => std::env::remove_var("SUPPORT_ACCESS_TEST_PG_USER"),
        }
    }

    /// Installs (if needed), initializes and starts a fresh server; `None` (after counting a
    /// failed test) if that is impossible, so the tests that need it fail loudly.
    pub fn start(ctx: &mut Ctx) -> Option<Server> {
        if find_bin().is_none() && !ctx.apt_install(&["postgresql"]) {
            return None;
        }
        let Some(bin) = find_bin() else {
            ctx.record("postgresql: initdb found after installing", false);
            return None;
        };
        let user = is_root().then(|| String::from("postgres"));
        // One folder per run (`.cache/pg/PID`), so two runs sharing a checkout (or its .cache)
        // never stop each other's server; a folder whose run is gone is cleaned up here.
        let root = ctx.cache().join("pg");
        for stale in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let pid = stale.file_name().to_string_lossy().parse::<u32>().ok();
            let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
            if alive {
                continue;
            }
            let data = stale.path().join("data");
            if data.join("postmaster.pid").exists() {
                let mut stop = as_user(&user, &bin.join("pg_ctl"));
                stop.arg("-D").arg(&data).args(["-m", "immediate", "stop"]);
                let _ = stop.output();
            }
            let _ = std::fs::remove_dir_all(stale.path());
        }
        let dir = root.join(std::process::id().to_string());
        let data = dir.join("data");
        let server = Server {
            bin,
            data: data.clone(),
            user: user.clone(),
            port: crate::net::free_port(54329),
        };
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            println!("cannot create {}: {e}", dir.display());
            ctx.record("postgresql: create .cache/pg", false);
            return None;
        }
        if let Some(u) = &user {
            let mut chown = Command::new("chown");
            chown.args([&format!("{u}:"), dir.to_str().unwrap_or_default()]);
            if !ctx.setup("chown .cache/pg/PID to postgres", &mut chown) {
                return None;
            }
        }
        let mut initdb = as_user(&user, &server.bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        if !ctx.setup("initdb", &mut initdb) {
            return None;
        }
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on",
            server.port,
            dir.display()
        );
        let mut start = server.ctl();
        start
            .arg("-D")
            .arg(&data)
            .args(["-w", "-t", "60", "-o", &opts, "-l"])
            .arg(dir.join("log"))
            .arg("start");
        if !ctx.setup("pg_ctl start", &mut start) {
            println!(
                "{}",
                std::fs::read_to_string(dir.join("log")).unwrap_or_default()
            );
            return None;
        }
        println!("PostgreSQL is up at {}", server.url());
        server.export();
        Some(server)
    }
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut stop = self.ctl();
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"]);
        match stop.output() {
            Ok(o) if o.status.success() => {
                println!("PostgreSQL stopped");
                if let Some(dir) = self.data.parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            // Already stopped (a fault test that failed half way, say) is fine.
            Ok(o) => println!("pg_ctl stop: {}", String::from_utf8_lossy(&o.stderr).trim()),
            Err(e) => println!("pg_ctl stop: {e}"),
        }
    }
}
