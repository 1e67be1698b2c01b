//! Test step for the C ABI (bindings/c): builds libsupport_access (.so and .a), checks the
//! committed cbindgen header for drift, writes the pkg-config file, compiles the C tests against
//! both libraries and runs them under valgrind (zero leaks, zero errors), then builds and runs
//! the example with the documented pkg-config commands.

use std::path::{Path, PathBuf};

use crate::ctx::{count_plain, Ctx};

/// The cbindgen release the header is generated with (installed into `.cache/tools`).
const CBINDGEN: &str = "0.29.4";

/// What the Rust standard library needs when linking `libsupport_access.a`
/// (`cargo rustc -- --print native-static-libs`; also in `support_access.pc`'s Libs.private).
const NATIVE_STATIC_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

const CFLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O1",
    "-g",
];

const VALGRIND: &[&str] = &[
    "--leak-check=full",
    "--errors-for-leak-kinds=all",
    "--error-exitcode=1",
    "--quiet",
];

pub fn run(ctx: &mut Ctx) {
    let cbindgen = ctx.ensure_cargo_tool("cbindgen", CBINDGEN, "cbindgen", &[]);
    let have_valgrind = ctx.ensure_apt("valgrind", &["valgrind"]);
    let have_pkg_config =
        ctx.ensure_apt("pkg-config", &["pkg-config"]) && ctx.ensure_apt("make", &["make"]);

    let mut build = ctx.cmd("cargo");
    build.args(["build", "-p", "support-access-c", "--release"]);
    if !ctx.setup("cargo build -p support-access-c --release", &mut build) {
        return;
    }
    let release = target_dir(&ctx.root).join("release");
    let scratch = ctx.cache().join("c");
    std::fs::create_dir_all(&scratch).expect("create .cache/c");

    match cbindgen {
        Some(cbindgen) => header_drift(ctx, &cbindgen, &scratch),
        None => ctx.record(
            "c: header drift check (cbindgen could not be installed)",
            false,
        ),
    }
    let pc_dir = write_pc(ctx, &release);

    // Test a private copy of the libraries: target/ is shared with concurrent builds, which may
    // replace target/release/libsupport_access.so while the tests run.
    let lib = scratch.join("lib");
    let copied = std::fs::create_dir_all(&lib).is_ok()
        && ["libsupport_access.so", "libsupport_access.a"]
            .iter()
            .all(|f| std::fs::copy(release.join(f), lib.join(f)).is_ok());
    if !copied {
        ctx.record("c: copy the built libraries into .cache/c/lib", false);
        return;
    }

    // The C tests, against the shared and the static library, under valgrind.
    let dir = ctx.root.join("bindings/c");
    let vectors = ctx.root.join("tests/vectors/vectors.txt");
    for test in ["run_vectors", "test_api"] {
        for link in ["shared", "static"] {
            let exe = scratch.join(format!("{test}-{link}"));
            let mut cc = ctx.cmd("cc");
            cc.args(CFLAGS)
                .arg("-I")
                .arg(dir.join("include"))
                .arg(dir.join(format!("tests/{test}.c")));
            cc.arg("-o").arg(&exe);
            if link == "shared" {
                cc.arg("-L").arg(&lib).arg("-lsupport_access");
                cc.arg(format!("-Wl,-rpath,{}", lib.display()));
                cc.arg("-lpthread");
            } else {
                cc.arg(lib.join("libsupport_access.a"))
                    .args(NATIVE_STATIC_LIBS);
            }
            if !ctx.setup(&format!("c: compile {test} ({link})"), &mut cc) {
                continue;
            }
            let mut ldd = linked_as(ctx, &exe, link, &lib);
            ctx.check(
                &format!("c: {test} ({link}) links the {link} library"),
                &mut ldd,
            );
            if !have_valgrind {
                ctx.record(
                    &format!("c: {test} ({link}) under valgrind (valgrind missing)"),
                    false,
                );
                continue;
            }
            let mut v = ctx.cmd("valgrind");
            v.env_remove("LD_LIBRARY_PATH");
            v.args(VALGRIND)
                .arg(format!(
                    "--suppressions={}",
                    dir.join("tests/valgrind.supp").display()
                ))
                .arg(&exe);
            if test == "run_vectors" {
                v.arg(&vectors);
            }
            ctx.run_counted(
                &format!("c: {test} ({link}) under valgrind"),
                &mut v,
                count_plain,
            );
        }
    }

    // The example, built and run exactly as docs/quickstart-c.md says.
    if !have_pkg_config {
        ctx.record("c: example (pkg-config or make missing)", false);
        return;
    }
    for link in ["shared", "static"] {
        let mut make = ctx.cmd("make");
        make.args([
            "-C",
            "examples/c",
            "clean",
            "countdown",
            &format!("LINK={link}"),
        ]);
        make.env("PKG_CONFIG_PATH", &pc_dir);
        if ctx.setup(&format!("c: make -C examples/c LINK={link}"), &mut make) {
            let mut run = ctx.cmd(ctx.root.join("examples/c/countdown"));
            run.env_remove("LD_LIBRARY_PATH");
            let name = format!("c: examples/c countdown ({link}) runs to the end of its grant");
            let (ok, out) = ctx.capture(&mut run);
            ctx.record(
                &name,
                ok && out.contains("GRANT_EXPIRED") && out.contains("record verified"),
            );
        }
    }
    let mut clean = ctx.cmd("make");
    clean
        .args(["-C", "examples/c", "clean"])
        .env("PKG_CONFIG_PATH", &pc_dir);
    ctx.capture(&mut clean);
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Regenerates the header into scratch space and compares it with the committed one.
fn header_drift(ctx: &mut Ctx, cbindgen: &Path, scratch: &Path) {
    let fresh = scratch.join("support_access.h");
    let committed = ctx.root.join("bindings/c/include/support_access.h");
    let mut gen = ctx.cmd(cbindgen);
    gen.current_dir(ctx.root.join("bindings/c"));
    gen.args(["--quiet", "--config", "cbindgen.toml", "--output"])
        .arg(&fresh);
    if !ctx.setup("c: cbindgen", &mut gen) {
        return;
    }
    let same = std::fs::read(&fresh)
        .ok()
        .is_some_and(|f| std::fs::read(&committed).is_ok_and(|c| c == f));
    if !same {
        let mut diff = ctx.cmd("diff");
        diff.arg("-u").arg(&committed).arg(&fresh);
        ctx.capture(&mut diff);
        println!(
            "bindings/c/include/support_access.h is stale: copy {} over it and commit",
            fresh.strip_prefix(&ctx.root).unwrap_or(&fresh).display()
        );
    }
    ctx.record("c: committed header matches cbindgen's output", same);
}

/// Writes target/release/pkgconfig/support_access.pc from the committed template.
fn write_pc(ctx: &mut Ctx, release: &Path) -> PathBuf {
    let dir = release.join("pkgconfig");
    let template = std::fs::read_to_string(ctx.root.join("bindings/c/support_access.pc.in"))
        .unwrap_or_default();
    let text = template
        .replace("@LIBDIR@", &release.display().to_string())
        .replace(
            "@INCLUDEDIR@",
            &ctx.root.join("bindings/c/include").display().to_string(),
        )
        .replace("@VERSION@", support_access_core::VERSION);
    let ok = !template.is_empty()
        && std::fs::create_dir_all(&dir).is_ok()
        && std::fs::write(dir.join("support_access.pc"), text).is_ok();
    ctx.record("c: write target/release/pkgconfig/support_access.pc", ok);
    dir
}

/// A command that succeeds when `exe` loads libsupport_access.so from `lib` (shared) or does
/// not load it at all (static), as `ldd` resolves it without `LD_LIBRARY_PATH`.
fn linked_as(ctx: &Ctx, exe: &Path, link: &str, lib: &Path) -> std::process::Command {
    let mut c = ctx.cmd("sh");
    c.env_remove("LD_LIBRARY_PATH");
    let script = if link == "shared" {
        format!(
            "ldd '{}' | grep -qF 'libsupport_access.so => {}/libsupport_access.so'",
            exe.display(),
            lib.display()
        )
    } else {
        format!("! ldd '{}' | grep -q libsupport_access.so", exe.display())
    };
    c.arg("-c").arg(script);
    c
}
