//! Test step for the C ABI (bindings/c): builds libsupport_access (.so and .a), checks the
//! committed cbindgen header for drift, writes the pkg-config file, compiles the C tests against
//! both libraries and runs them under valgrind (zero leaks, zero errors), builds the API and
//! abuse tests with AddressSanitizer + UBSan (+ LeakSanitizer) against the static library and
//! runs them, builds the library again with the Rust code itself instrumented by AddressSanitizer
//! and runs the C tests built with clang against it, then builds and runs the example with the
//! documented pkg-config commands.

use std::path::{Path, PathBuf};

use crate::ctx::{count_plain, which, Ctx};

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

/// The C tests built with gcc's AddressSanitizer + UndefinedBehaviorSanitizer against the static
/// library. The Rust side is not instrumented here (`RUST_SANITIZED` below is), but ASan checks
/// every access the C side makes and intercepts malloc/free for the whole process, so double
/// frees, frees of foreign pointers and leaks of Rust-allocated strings are caught.
const SANITIZED: &[&str] = &["test_api", "test_abuse"];

const SANITIZE_FLAGS: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// Debian packages holding gcc 12's sanitizer runtimes (normally installed with gcc).
const SANITIZER_PACKAGES: &[&str] = &["libasan8", "libubsan1"];

/// The C tests run against a library whose Rust code is instrumented with AddressSanitizer
/// (`-Zsanitizer=address`), built with clang, so one ASan runtime checks the loads and stores of
/// both languages (the Rust standard library's own code stays uninstrumented; its allocations
/// still go through the intercepted malloc/free).
const RUST_SANITIZED: &[&str] = &["test_api", "test_abuse", "run_vectors"];

/// The clang whose compiler-rt ASan runtime (from Debian's `libclang-rt-19-dev`) links the
/// instrumented Rust library: the newest in Debian bookworm. rustc's LLVM is newer (22), but
/// the instrumentation ABI it emits (`__asan_version_mismatch_check_v8`) is the runtime's.
const CLANG: &str = "clang-19";
const CLANG_PACKAGES: &[&str] = &["clang-19", "libclang-rt-19-dev"];

/// Sanitizers need an explicit target, so that build scripts and proc macros (built for the
/// host) are not instrumented.
const HOST_TARGET: &str = "x86_64-unknown-linux-gnu";

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
    for test in ["run_vectors", "test_api", "test_abuse"] {
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

    sanitized(ctx, &dir, &lib, &scratch, &vectors);
    rust_sanitized(ctx, &dir, &scratch, &vectors);

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
                ok && out.contains("GRANT_EXPIRED")
                    && out.contains("record verified")
                    && out.contains("checkpoint verified"),
            );
        }
    }
    let mut clean = ctx.cmd("make");
    clean
        .args(["-C", "examples/c", "clean"])
        .env("PKG_CONFIG_PATH", &pc_dir);
    ctx.capture(&mut clean);
}

/// Builds `SANITIZED` with ASan + UBSan against the static library and runs them.
fn sanitized(ctx: &mut Ctx, dir: &Path, lib: &Path, scratch: &Path, vectors: &Path) {
    if !ensure_sanitizers(ctx, scratch, "cc", SANITIZER_PACKAGES) {
        return;
    }
    // LeakSanitizer runs here (it works in this sandbox: the probe's deliberate leak is
    // reported). Where it cannot run (ptrace restricted, e.g. some containers), it is turned off
    // and leaks are left to the valgrind runs above, which check the same tests.
    run_sanitized(
        ctx,
        &SanitizedRun {
            compiler: "cc",
            lib: &lib.join("libsupport_access.a"),
            tests: SANITIZED,
            exe_suffix: "asan",
            what: "(static) under ASan + UBSan",
            symbolizer: None,
            dir,
            scratch,
            vectors,
        },
    );
}

/// Whether `compiler` builds and runs sanitized programs, installing `packages` first if it
/// does not; a failure is recorded as a failed test.
fn ensure_sanitizers(ctx: &mut Ctx, scratch: &Path, compiler: &str, packages: &[&str]) -> bool {
    if sanitizers_work(ctx, scratch, compiler) {
        return true;
    }
    if ctx.apt_install(packages) && sanitizers_work(ctx, scratch, compiler) {
        return true;
    }
    ctx.record(
        &format!(
            "c: {compiler} -fsanitize=address,undefined works ({} installed)",
            packages.join(" ")
        ),
        false,
    );
    false
}

/// One sanitized build-and-run of C tests against a static library.
struct SanitizedRun<'a> {
    compiler: &'a str,
    /// The static library the tests link.
    lib: &'a Path,
    tests: &'a [&'a str],
    /// Appended to each test's executable name, so the runs do not overwrite each other.
    exe_suffix: &'a str,
    /// How the run is named in the results, after the test's name.
    what: &'a str,
    symbolizer: Option<&'a Path>,
    dir: &'a Path,
    scratch: &'a Path,
    /// The conformance vectors, for `run_vectors`.
    vectors: &'a Path,
}

/// Compiles each test with `compiler`'s ASan + UBSan against `lib` and runs it, with
/// LeakSanitizer on wherever it can run.
fn run_sanitized(ctx: &mut Ctx, r: &SanitizedRun<'_>) {
    let lsan = leak_sanitizer_works(ctx, r.scratch, r.compiler);
    if !lsan {
        println!("c: LeakSanitizer cannot run on this machine; ASan runs with detect_leaks=0 (valgrind checks leaks)");
    }
    let leaks = if lsan { " + LSan" } else { "" };
    for test in r.tests {
        let exe = r.scratch.join(format!("{test}-{}", r.exe_suffix));
        let mut cc = ctx.cmd(r.compiler);
        cc.args(CFLAGS)
            .args(SANITIZE_FLAGS)
            .arg("-I")
            .arg(r.dir.join("include"))
            .arg(r.dir.join(format!("tests/{test}.c")))
            .arg("-o")
            .arg(&exe)
            .arg(r.lib)
            .args(NATIVE_STATIC_LIBS);
        if !ctx.setup(
            &format!("c: compile {test} with {} ASan + UBSan", r.compiler),
            &mut cc,
        ) {
            continue;
        }
        let mut run = ctx.cmd(&exe);
        run.env("ASAN_OPTIONS", asan_options(lsan))
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        if let Some(s) = r.symbolizer {
            run.env("ASAN_SYMBOLIZER_PATH", s);
        }
        if *test == "run_vectors" {
            run.arg(r.vectors);
        }
        ctx.run_counted(
            &format!("c: {test} {}{leaks}", r.what),
            &mut run,
            count_plain,
        );
    }
}

fn asan_options(lsan: bool) -> String {
    format!(
        "detect_leaks={}:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1",
        u8::from(lsan)
    )
}

/// Builds libsupport_access.a with its Rust code instrumented by AddressSanitizer (in its own
/// target dir, `.cache/asan-target`, so the shared target/ keeps its flags), proves that ASan
/// then catches a bad access made *inside* the Rust library, and runs `RUST_SANITIZED` built with
/// clang's ASan + UBSan (+ LSan) against it.
fn rust_sanitized(ctx: &mut Ctx, dir: &Path, scratch: &Path, vectors: &Path) {
    if !ensure_sanitizers(ctx, scratch, CLANG, CLANG_PACKAGES) {
        return;
    }
    let target = ctx.cache().join("asan-target");
    let mut build = ctx.cmd("cargo");
    build
        .args(["rustc", "-p", "support-access-c", "--lib", "--release"])
        .args(["--crate-type", "staticlib", "--target", HOST_TARGET])
        // -Z flags on the stable toolchain, as cargo-fuzz does (see fuzz.rs).
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", "-Zsanitizer=address")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // Line tables, so reports name the Rust file and line.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "line-tables-only")
        .env("CARGO_TARGET_DIR", &target);
    if !ctx.setup(
        "c: cargo rustc -p support-access-c (staticlib, -Zsanitizer=address)",
        &mut build,
    ) {
        return;
    }
    let lib = target
        .join(HOST_TARGET)
        .join("release")
        .join("libsupport_access.a");
    let symbolizer = symbolizer();

    // Before trusting a pass: a use-after-free that only the Rust code makes (C frees the
    // handle, then sa_evaluate_id reads it) must be reported. Against the uninstrumented
    // library the same probe runs to the end unnoticed.
    let src = scratch.join("rust_uaf_probe.c");
    let exe = scratch.join("rust_uaf_probe");
    let probe = r#"#include <support_access.h>
int main(void) {
    sa_policy *p = 0;
    sa_decision d;
    if (sa_policy_new("{\"orgId\":\"o\"}", &p) != SA_OK) return 2;
    sa_policy_free(p);
    (void)sa_evaluate_id(p, 0, SA_RESOURCE_DATABASE_LOGS, 0, &d);
    return 0;
}
"#;
    let caught = std::fs::write(&src, probe).is_ok() && {
        let mut cc = ctx.cmd(CLANG);
        cc.args(SANITIZE_FLAGS)
            .arg("-g")
            .arg("-I")
            .arg(dir.join("include"))
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .arg(&lib)
            .args(NATIVE_STATIC_LIBS);
        ctx.capture(&mut cc).0 && {
            // Not ctx.capture: the expected report would read like a failure in the log.
            let mut run = ctx.cmd(&exe);
            run.env("ASAN_OPTIONS", "detect_leaks=0");
            if let Some(s) = &symbolizer {
                run.env("ASAN_SYMBOLIZER_PATH", s);
            }
            run.output().is_ok_and(|o| {
                let err = String::from_utf8_lossy(&o.stderr);
                let reported = !o.status.success()
                    && err.contains("heap-use-after-free")
                    && err.contains("in sa_evaluate_id");
                if !reported {
                    println!(
                        "$ {}\n{err}(no use-after-free reported in sa_evaluate_id)",
                        exe.display()
                    );
                }
                reported
            })
        }
    };
    ctx.record(
        "c: ASan reports a use-after-free made inside the instrumented Rust library (probe)",
        caught,
    );
    if !caught {
        return;
    }
    let what = format!("(Rust instrumented too) under {CLANG} ASan + UBSan");
    run_sanitized(
        ctx,
        &SanitizedRun {
            compiler: CLANG,
            lib: &lib,
            tests: RUST_SANITIZED,
            exe_suffix: "rust-asan",
            what: &what,
            symbolizer: symbolizer.as_deref(),
            dir,
            scratch,
            vectors,
        },
    );
}

/// A symbolizer for ASan reports. Debian's clang runtime looks only for its own version's
/// llvm-symbolizer (in llvm-19, not installed); any llvm-symbolizer, or binutils' addr2line,
/// does the job.
fn symbolizer() -> Option<PathBuf> {
    let versioned = PathBuf::from("/usr/lib/llvm-19/bin/llvm-symbolizer");
    if versioned.is_file() {
        return Some(versioned);
    }
    which("llvm-symbolizer").or_else(|| which("addr2line"))
}

/// Whether LeakSanitizer can run here: a probe that leaks must be reported and fail.
fn leak_sanitizer_works(ctx: &Ctx, scratch: &Path, compiler: &str) -> bool {
    let src = scratch.join(format!("lsan_probe-{compiler}.c"));
    let exe = scratch.join(format!("lsan_probe-{compiler}"));
    let probe = "#include <stdlib.h>\nvoid *volatile keep;\n\
                 int main(void) { keep = malloc(64); keep = 0; return 0; }\n";
    if std::fs::write(&src, probe).is_err() {
        return false;
    }
    let mut cc = ctx.cmd(compiler);
    cc.args(SANITIZE_FLAGS).arg(&src).arg("-o").arg(&exe);
    if !ctx.capture(&mut cc).0 {
        return false;
    }
    // Not ctx.capture: the expected leak report would read like a failure in the log.
    let out = ctx.cmd(&exe).env("ASAN_OPTIONS", "detect_leaks=1").output();
    out.is_ok_and(|o| {
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("detected memory leaks")
    })
}

/// Whether `compiler` can build and run a sanitized program (it and the runtimes are installed).
fn sanitizers_work(ctx: &Ctx, scratch: &Path, compiler: &str) -> bool {
    if which(compiler).is_none() {
        return false;
    }
    let src = scratch.join(format!("asan_probe-{compiler}.c"));
    let exe = scratch.join(format!("asan_probe-{compiler}"));
    if std::fs::write(&src, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    let mut cc = ctx.cmd(compiler);
    cc.args(SANITIZE_FLAGS).arg(&src).arg("-o").arg(&exe);
    ctx.capture(&mut cc).0 && ctx.capture(&mut ctx.cmd(&exe)).0
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
