//! Test step for the Node package (bindings/node, npm `support-access`): installs the npm
//! dependencies with `npm ci` (skipped when node_modules matches the lockfile), builds the addon
//! with `napi build --platform --release` (into the workspace's shared target dir), fails on
//! drift of the committed generated loader (`index.js`) and native typings (`index.d.ts`), runs
//! the `node --test` suites of the package and of examples/node, and type-checks a typed example
//! with `tsc --noEmit`.

use std::path::Path;

use crate::ctx::{count_node, Ctx};

pub fn run(ctx: &mut Ctx) {
    let dir = ctx.root.join("bindings/node");
    if !ctx.npm_ci("node", &dir, &["node_modules/.bin/napi"]) {
        return;
    }

    let mut build = ctx.cmd(dir.join("node_modules/.bin/napi"));
    build
        .current_dir(&dir)
        .args(["build", "--platform", "--release"]);
    if !ctx.setup("node: napi build --platform --release", &mut build) {
        return;
    }

    // The generated loader and native typings are committed: building must not change them.
    let mut drift = ctx.cmd("git");
    drift.args([
        "diff",
        "--exit-code",
        "--",
        "bindings/node/index.js",
        "bindings/node/index.d.ts",
    ]);
    ctx.check(
        "node: generated index.js / index.d.ts match the committed ones",
        &mut drift,
    );
    let mut tracked = ctx.cmd("git");
    tracked.args([
        "ls-files",
        "--error-unmatch",
        "bindings/node/index.js",
        "bindings/node/index.d.ts",
    ]);
    ctx.check(
        "node: generated index.js / index.d.ts are committed",
        &mut tracked,
    );

    let mut test = ctx.cmd("node");
    test.current_dir(&dir)
        .arg("--test")
        .args(test_files(&dir.join("tests")));
    ctx.run_counted(
        "node: node --test bindings/node/tests",
        &mut test,
        count_node,
    );

    let mut tsc = ctx.cmd(dir.join("node_modules/.bin/tsc"));
    tsc.current_dir(&dir)
        .args(["-p", "tests/types/tsconfig.json"]);
    ctx.check("node: tsc --noEmit over the typed example", &mut tsc);

    let example = ctx.root.join("examples/node");
    let mut ex = ctx.cmd("node");
    ex.current_dir(&example)
        .arg("--test")
        .args(test_files(&example.join("test")));
    ctx.run_counted("node: node --test examples/node/test", &mut ex, count_node);
}

/// The `*.test.js` / `*.test.mjs` / `*.test.cjs` files of a folder, sorted (Node 20's `--test`
/// does not take folders).
fn test_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        [".test.js", ".test.mjs", ".test.cjs"]
                            .iter()
                            .any(|s| n.ends_with(s))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
