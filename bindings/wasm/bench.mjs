// Rough figures for docs/benchmarks.md: module sizes, load time, and evaluate throughput of the
// browser package (in Node's V8) and of the plugin module. `node bindings/wasm/bench.mjs`
// after `cargo xtask test --only wasm` (which builds both).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { issue16Workload, timeIssue16Workload } from '../node/workload.mjs';

const root = new URL('../../', import.meta.url);
const webWasm = new URL('bindings/wasm/pkg/web/support_access_wasm_bg.wasm', root);
const pluginWasm = new URL('bindings/wasm-plugin/pkg/support_access_plugin.wasm', root);

for (const [name, url] of [['browser package', webWasm], ['plugin', pluginWasm]]) {
  const b = readFileSync(url);
  console.log(`${name}: ${b.length} B raw (${(b.length / 1024).toFixed(1)} KiB), ${gzipSync(b, { level: 9 }).length} B gzip -9, ${(gzipSync(b, { level: 9 }).length / 1024).toFixed(1)} KiB`);
}

let t = performance.now();
const { Policy } = await import('./js/index.js');
console.log(`import + instantiate (browser package): ${(performance.now() - t).toFixed(1)} ms`);

const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
const T0 = Date.parse('2026-11-28T10:00:00Z');
const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
p.addProject(owner, 'p1', T0);
for (let i = 0; i < 100; i++) {
  p.addCluster(owner, 'p1', `c${i}`, {}, T0);
  if (i % 2 === 0) p.grant(owner, `c${i}`, 'CLUSTER_INFRASTRUCTURE', T0);
}

function bench(label, n, f, per = 1) {
  for (let i = 0; i < Math.min(n, 20000); i++) f(i); // warm-up: let V8 tier up first
  const start = performance.now();
  for (let i = 0; i < n; i++) f(i);
  const ns = ((performance.now() - start) * 1e6) / n / per;
  console.log(`${label}: ${ns.toFixed(0)} ns/op (${(1e9 / ns / 1e3).toFixed(0)} k ops/s)`);
}

const N = 100_000;
bench('Policy#evaluate (typed: packed hot path)', N, (i) => p.evaluate(`c${i % 100}`, 'DATABASE_LOGS', T0 + 1000));
const cmds = Array.from({ length: 100 }, (_, i) => `{"op":"evaluate","cluster":"c${i}","resource":"DATABASE_LOGS","now":${T0 + 1000}}`);
bench('Policy#apply(evaluate) (JSON text in and out)', N, (i) => p.apply(cmds[i % 100]));
const batch = Array.from({ length: 1000 }, (_, i) => ({ cluster: `c${i % 100}`, resource: 'INFRASTRUCTURE', now: T0 + 1000 }));
bench('Policy#evaluateMany, per decision (batches of 1000)', 200, () => p.evaluateMany(batch), 1000);


timeIssue16Workload(issue16Workload(Policy, owner, T0));

const { loadPlugin } = await import('../wasm-plugin/tests/host.mjs');
t = performance.now();
const plugin = await loadPlugin(readFileSync(pluginWasm));
console.log(`instantiate (plugin): ${(performance.now() - t).toFixed(1)} ms`);
const { handle } = plugin.newPolicy('{"orgId":"org-1","restrictEmployeeAccess":true}');
plugin.apply(handle, `{"op":"replay","record":${JSON.stringify(p.exportRecord())}}`);
bench('plugin sa_apply(evaluate) (bytes in and out, Node host)', N, (i) => plugin.apply(handle, cmds[i % 100]));
