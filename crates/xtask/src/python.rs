//! Test step for the Python package (bindings/python).
//!
//! 1. a venv of its own under `.cache/venv` (kept), with maturin, pytest, hypothesis and mypy from
//!    the package index (installed once);
//! 2. `maturin build --release` into `.cache/python-wheels`, then `pip install --force-reinstall`
//!    of that wheel;
//! 3. `mypy.stubtest` (the `.pyi` against the runtime) and mypy over tests, example and bench;
//! 4. pytest (every conformance vector through `apply`, the typed API, hypothesis, threads);
//! 5. the example script (reads the shipped Atlas JSON, writes a record);
//! 6. what a user does: `pip install bindings/python` into a second venv, then import and use it.

use std::path::{Path, PathBuf};

use crate::ctx::{count_pytest, Ctx};

const TOOLS: &[&str] = &["maturin", "pytest", "hypothesis", "mypy"];

fn bin(venv: &Path, name: &str) -> PathBuf {
    venv.join("bin").join(name)
}

pub fn run(ctx: &mut Ctx) {
    let Some(venv) = ctx.venv_with("venv", "import maturin, pytest, hypothesis, mypy", TOOLS)
    else {
        return;
    };
    let python = bin(&venv, "python");

    // Build the wheel fresh (an old wheel left in the folder must never be what gets tested).
    let wheels = ctx.cache().join("python-wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let mut build = ctx.cmd(bin(&venv, "maturin"));
    build
        .args([
            "build",
            "--release",
            "-m",
            "bindings/python/Cargo.toml",
            "-o",
        ])
        .arg(&wheels)
        .arg("-i")
        .arg(&python);
    if !ctx.setup("python: maturin build --release", &mut build) {
        return;
    }
    let wheel = std::fs::read_dir(&wheels).ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
    });
    let Some(wheel) = wheel else {
        ctx.record("python: maturin build produced no wheel", false);
        return;
    };
    let mut install = ctx.pip_install(&python);
    install.args(["--force-reinstall", "--no-deps"]).arg(&wheel);
    if !ctx.setup("python: pip install the wheel", &mut install) {
        return;
    }

    // The stub against the runtime, then the tests/examples against the stub. Run from a scratch
    // dir so the installed package (not the source tree) is what gets imported.
    let scratch = ctx.cache().join("python-scratch");
    std::fs::create_dir_all(&scratch).expect("create .cache/python-scratch");
    let mut stubtest = ctx.cmd(&python);
    stubtest
        .args(["-m", "mypy.stubtest", "support_access", "--allowlist"])
        .arg(ctx.root.join("bindings/python/stubtest-allowlist.txt"))
        .current_dir(&scratch);
    ctx.check("python: mypy.stubtest support_access", &mut stubtest);

    let mut mypy = ctx.cmd(&python);
    mypy.args([
        "-m",
        "mypy",
        "--config-file",
        "bindings/python/pyproject.toml",
        "--cache-dir",
        ".cache/mypy",
        "bindings/python/tests",
        "bindings/python/bench.py",
        "examples/python",
    ]);
    ctx.check("python: mypy (tests, bench, examples)", &mut mypy);

    // pytest: exit code 5 (no tests collected) is not a pass: run_counted needs counts and exit 0.
    let mut pytest = ctx.cmd(&python);
    pytest
        .args([
            "-m",
            "pytest",
            "bindings/python/tests",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .env(
            "HYPOTHESIS_STORAGE_DIRECTORY",
            ctx.cache().join("hypothesis"),
        );
    ctx.run_counted("python: pytest", &mut pytest, count_pytest);

    let out = ctx.cache().join("python-example");
    let _ = std::fs::remove_dir_all(&out);
    let mut example = ctx.cmd(&python);
    example
        .arg("examples/python/who_may_access.py")
        .arg("--now")
        .arg("2026-11-28T12:00:00Z")
        .arg("--record")
        .arg(out.join("record.jsonl"));
    let ran = ctx.check("python: examples/python/who_may_access.py", &mut example);
    if ran {
        let mut verify = ctx.cmd(&python);
        verify.args([
            "-c",
            "import sys, support_access as sa; n = sa.verify_record(open(sys.argv[1]).read()); \
             assert n >= 2, n; print('record verified:', n, 'events')",
        ]);
        verify.arg(out.join("record.jsonl"));
        ctx.check("python: example record verifies", &mut verify);
    }

    user_install(ctx);
}

/// What the quickstart tells a user to do: `pip install bindings/python` (PEP 517 build through
/// maturin fetched by pip), into a venv of its own, then use it.
fn user_install(ctx: &mut Ctx) {
    let Some(venv) = ctx.venv_with("venv-user", "import sys", &[]) else {
        return;
    };
    let python = bin(&venv, "python");
    let mut install = ctx.pip_install(&python);
    install
        .args(["--force-reinstall", "./bindings/python"])
        // Its own target dir: a different interpreter path would otherwise make cargo rebuild
        // pyo3 in the shared target dir on every alternate run.
        .env("CARGO_TARGET_DIR", ctx.cache().join("python-user-target"));
    if !ctx.setup("python: pip install bindings/python", &mut install) {
        return;
    }
    let mut smoke = ctx.cmd(&python);
    smoke.current_dir(ctx.cache()).args([
        "-c",
        "from support_access import Actor, GrantType, Policy, Resource\n\
         p = Policy('org-1', restrict_employee_access=True)\n\
         a = Actor.org_owner('alice')\n\
         p.add_project(a, 'p1', '2026-11-28T12:00:00Z')\n\
         p.add_cluster(a, 'p1', 'Cluster0', '2026-11-28T12:00:00Z')\n\
         p.grant(a, 'Cluster0', GrantType.CLUSTER_DATABASE_LOGS, '2026-11-28T12:00:00Z')\n\
         d = p.evaluate('Cluster0', Resource.DATABASE_LOGS, '2026-11-28T13:00:00Z')\n\
         assert d.allowed and d.remaining_ms == 23 * 3600 * 1000, d\n\
         print('pip install bindings/python: ok', d)",
    ]);
    ctx.check("python: pip-installed package works", &mut smoke);
}
