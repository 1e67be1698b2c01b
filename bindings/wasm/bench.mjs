// Rough figures for docs/benchmarks.md: module sizes, load time, and evaluate throughput of the
// browser package (in Node's V8) and of the plugin module. `node bindings/wasm/bench.mjs`
// after `cargo xtask test --only wasm` (which builds both).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { issue16Workload } from '../node/workload.mjs';

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


{
  const w = issue16Workload(Policy, owner, T0);
  const reqs = w.requests;
  console.log(`issue 16 workload: 1,000 clusters, ${reqs.length.toLocaleString('en')} requests, ${(w.withGrant * 100).toFixed(0)} % with an active grant (best of 6 rounds)`);
  const best = (f) => {
    let b = Infinity;
    for (let r = 0; r < 7; r++) {
      const s0 = performance.now();
      f();
      const ns = ((performance.now() - s0) * 1e6) / reqs.length;
      if (r > 0) b = Math.min(b, ns);
    }
    return b;
  };
  let sink = 0;
  const base = best(() => { for (let i = 0; i < reqs.length; i++) sink += w.mapRule(reqs[i]).allowed ? 1 : 0; });
  const one = best(() => { for (let i = 0; i < reqs.length; i++) { const q = reqs[i]; sink += w.policy.evaluate(q.cluster, q.resource, q.now).allowed ? 1 : 0; } });
  const many = best(() => { sink += w.policy.evaluateMany(reqs).length; });
  console.log(`  plain-JS Map rule (baseline): ${base.toFixed(0)} ns/request`);
  console.log(`  Policy#evaluate: ${one.toFixed(0)} ns/call (${(one / base).toFixed(2)}x, target <= 2)`);
  console.log(`  Policy#evaluateMany(100,000): ${many.toFixed(0)} ns/decision (${(many / base).toFixed(2)}x, target <= 1)`);
  if (sink === 42) console.log('');
}

const { loadPlugin } = await import('../wasm-plugin/tests/host.mjs');
t = performance.now();
const plugin = await loadPlugin(readFileSync(pluginWasm));
console.log(`instantiate (plugin): ${(performance.now() - t).toFixed(1)} ms`);
const { handle } = plugin.newPolicy('{"orgId":"org-1","restrictEmployeeAccess":true}');
plugin.apply(handle, `{"op":"replay","record":${JSON.stringify(p.exportRecord())}}`);
bench('plugin sa_apply(evaluate) (bytes in and out, Node host)', N, (i) => plugin.apply(handle, cmds[i % 100]));
