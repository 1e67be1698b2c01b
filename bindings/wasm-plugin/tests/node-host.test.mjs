// The plugin module under plain `WebAssembly.instantiate` in Node: every conformance vector,
// byte for byte, plus the ABI's handling of bad input (error JSON, never a trap).
// SA_PLUGIN: path of the .wasm (default bindings/wasm-plugin/pkg/support_access_plugin.wasm);
// SA_DUMP: if set, every result is written there, one per line (compared with wasmtime's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { loadPlugin } from './host.mjs';
import { parseVectors, runVector } from '../../wasm/tests/vectors.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const wasmPath = process.env.SA_PLUGIN ?? `${root}bindings/wasm-plugin/pkg/support_access_plugin.wasm`;
const plugin = await loadPlugin(readFileSync(wasmPath));
const vectors = parseVectors(readFileSync(`${root}tests/vectors/vectors.txt`, 'utf8'));
const dump = [];

test('vectors.txt holds vectors', () => assert.ok(vectors.length > 0));

for (const v of vectors) {
  test(`vector ${v.name}`, () => {
    const handles = [];
    const { failures, results } = runVector(v, (options) => {
      const r = plugin.newPolicy(options);
      assert.ok(r.handle, `policy ${options}: ${r.error}`);
      handles.push(r.handle);
      return { apply: (cmd) => plugin.apply(r.handle, cmd) };
    });
    for (const h of handles) assert.equal(plugin.freePolicy(h), 0);
    dump.push(`vector ${v.name}`, ...results);
    assert.deepEqual(failures, []);
  });
}

test('bad input comes back as error JSON, never a trap', () => {
  const x = plugin.exports;
  const { handle } = plugin.newPolicy('{"orgId":"org-1"}');
  const code = (s) => JSON.parse(s).error.code;
  // Unknown, zero and negative handles.
  for (const h of [handle + 1000, 0, -1, 2147483647]) {
    assert.equal(code(plugin.apply(h, '{"op":"exportRecord"}')), 'MALFORMED_INPUT');
  }
  // Input outside linear memory, a null pointer, a negative length.
  const memBytes = x.memory.buffer.byteLength;
  assert.equal(code(plugin.take(x.sa_apply(handle, memBytes - 2, 10))), 'MALFORMED_INPUT');
  assert.equal(code(plugin.take(x.sa_apply(handle, -1, 10))), 'MALFORMED_INPUT');
  assert.equal(code(plugin.take(x.sa_apply(handle, 0, 5))), 'MALFORMED_INPUT');
  assert.equal(code(plugin.take(x.sa_apply(handle, 8, -5))), 'MALFORMED_INPUT');
  // Empty input, invalid UTF-8, junk, an unknown op, a huge command.
  assert.equal(code(plugin.take(x.sa_apply(handle, 0, 0))), 'MALFORMED_INPUT');
  assert.equal(code(plugin.apply(handle, new Uint8Array([0xff, 0xfe, 0x7b]))), 'MALFORMED_INPUT');
  assert.equal(code(plugin.apply(handle, '\u0000\u0001')), 'MALFORMED_INPUT');
  assert.equal(code(plugin.apply(handle, '{"op":"fly"}')), 'UNKNOWN_OP');
  assert.equal(code(plugin.apply(handle, `{"op":"evaluate","cluster":"${'a'.repeat(200000)}"}`)), 'INVALID_CLUSTER_NAME');
  // Bad options: handle 0 and the error bytes.
  for (const [opts, c] of [['{', 'MALFORMED_INPUT'], ['{"orgId":"o","maxGrantDurationMs":-1}', 'MALFORMED_INPUT'], [new Uint8Array([0xc3]), 'MALFORMED_INPUT']]) {
    const r = plugin.newPolicy(opts);
    assert.equal(r.handle, undefined);
    assert.equal(code(r.error), c);
  }
  assert.equal(x.sa_policy_new(memBytes, 4), 0);
  assert.equal(code(plugin.take(x.sa_last_error())), 'MALFORMED_INPUT');
  assert.equal(x.sa_last_error(), 0n, 'the last error is handed out once');
  // Freeing: once, then unknown.
  assert.equal(plugin.freePolicy(handle), 0);
  assert.equal(plugin.freePolicy(handle), -1);
  assert.equal(plugin.freePolicy(-7), -1);
  assert.equal(x.sa_alloc(-1), 0);
  assert.equal(x.sa_alloc(0) > 0, true);
  // The module still works after all that.
  const again = plugin.newPolicy('{"orgId":"org-2"}');
  assert.ok(again.handle > 0);
  assert.match(plugin.apply(again.handle, '{"op":"exportRecord"}'), /^\{"ok":\{"record":/);
  plugin.freePolicy(again.handle);
});

test('no memory leak over many calls', () => {
  const round = () => {
    const { handle } = plugin.newPolicy('{"orgId":"org-1"}');
    plugin.apply(handle, '{"op":"exportRecord"}');
    plugin.apply(handle, '{"op":"evaluate"}');
    plugin.freePolicy(handle);
  };
  for (let i = 0; i < 100; i++) round();
  const before = plugin.exports.memory.buffer.byteLength;
  for (let i = 0; i < 3000; i++) {
    const { handle } = plugin.newPolicy('{"orgId":"org-1"}');
    plugin.apply(handle, '{"op":"exportRecord"}');
    plugin.apply(handle, '{"op":"evaluate"}');
    plugin.freePolicy(handle);
  }
  assert.equal(plugin.exports.memory.buffer.byteLength, before);
});

test('ABI exports are exactly the documented ones', () => {
  // (`__data_end` / `__heap_base` are the linker's layout globals, harmless.)
  const names = Object.keys(plugin.exports).filter((n) => !n.startsWith('__')).sort();
  assert.deepEqual(names, ['memory', 'sa_abi_version', 'sa_alloc', 'sa_apply', 'sa_free', 'sa_last_error', 'sa_policy_free', 'sa_policy_new']);
  const mod = new WebAssembly.Module(readFileSync(wasmPath));
  assert.deepEqual(WebAssembly.Module.imports(mod), [], 'the module imports nothing');
});

// ----- FFI abuse (issue 8): huge commands and allocations -----

const MIB = 1 << 20;
const LIMIT = 32 * MIB; // the core's MAX_COMMAND_LEN
const OWNER = '{"id":"alice","roles":[{"role":"ORG_OWNER"}]}';

test('a 64 MiB command written through sa_alloc: MALFORMED_INPUT, no trap, no copy, the instance keeps working', () => {
  const x = plugin.exports;
  const code = (s) => JSON.parse(s).error.code;
  const { handle } = plugin.newPolicy('{"orgId":"org-1","restrictEmployeeAccess":true}');
  const ok = (cmd) => assert.match(plugin.apply(handle, cmd), /^\{"ok"/, cmd);
  ok(`{"op":"addProject","actor":${OWNER},"projectId":"p1","now":"2026-11-28T10:00:00Z"}`);
  ok(`{"op":"addCluster","actor":${OWNER},"projectId":"p1","name":"C0","now":"2026-11-28T10:00:00Z"}`);
  const record = () => plugin.apply(handle, '{"op":"exportRecord"}');
  const before = record();
  const tooLong = 'malformed input: command longer than 33554432 bytes';
  const invalid = new Uint8Array(64 * MIB).fill(0x5b); // '['
  invalid[64 * MIB - 1] = 0xff;
  const cases = [
    ['64 MiB of x', 'x'.repeat(64 * MIB), tooLong],
    ['64 MiB of [', '['.repeat(64 * MIB), tooLong],
    ['64 MiB string field', `{"op":"evaluate","cluster":"${'C'.repeat(64 * MIB)}","resource":"INFRASTRUCTURE","now":0}`, tooLong],
    ['64 MiB, bad UTF-8 at the end', invalid, `malformed input: command is not UTF-8 (invalid byte at ${64 * MIB - 1})`],
    ['limit + 1 bytes', `{"op":"${'x'.repeat(LIMIT + 1 - 9)}"}`, tooLong],
  ];
  for (const [label, cmd, message] of cases) {
    const mem0 = x.memory.buffer.byteLength;
    const t = performance.now();
    const out = plugin.apply(handle, cmd);
    const ms = performance.now() - t;
    const r = JSON.parse(out);
    assert.equal(r.error.code, 'MALFORMED_INPUT', `${label}: ${out.slice(0, 200)}`);
    assert.equal(r.error.message, message, label);
    assert.ok(ms < 3000, `${label}: ${ms.toFixed(0)} ms`);
    // At most the host's own copy (sa_alloc) of the command: the module copies nothing.
    const grown = x.memory.buffer.byteLength - mem0;
    assert.ok(grown <= 65 * MIB, `${label}: linear memory grew by ${(grown / MIB).toFixed(1)} MiB`);
    assert.equal(record(), before, `${label}: record changed`);
  }
  // An unknown handle is named first, as for any command.
  assert.match(plugin.apply(handle + 77, 'x'.repeat(64 * MIB)), /unknown policy handle/);
  // Just under the limit the command is read (and refused by the parser's depth limit).
  assert.equal(code(plugin.apply(handle, '['.repeat(31 * MIB))), 'MALFORMED_INPUT');
  assert.equal(code(plugin.apply(handle, `{"op":"${'x'.repeat(LIMIT - 9)}"}`)), 'UNKNOWN_OP');
  // 200 failures in a row, then it still works.
  for (let i = 0; i < 200; i++) {
    assert.equal(code(plugin.apply(handle, i % 2 ? '{"op":"revoke","actor":{},"cluster":"C0","now":0}' : '\u0000')), 'MALFORMED_INPUT');
  }
  assert.equal(record(), before);
  ok(`{"op":"grant","actor":${OWNER},"cluster":"C0","grantType":"CLUSTER_DATABASE_LOGS","now":"2026-11-28T11:00:00Z"}`);
  const d = JSON.parse(plugin.apply(handle, '{"op":"evaluate","cluster":"C0","resource":"DATABASE_LOGS","now":"2026-11-28T12:00:00Z"}'));
  assert.equal(d.ok.allowed, true);
  const rec = JSON.parse(record()).ok.record;
  const v = JSON.parse(plugin.apply(handle, JSON.stringify({ op: 'verifyRecord', record: rec })));
  assert.equal(v.ok.events, 4);
  assert.equal(plugin.freePolicy(handle), 0);
});

test('sa_alloc beyond what linear memory can grow to returns 0; the instance keeps working', async () => {
  // A fresh instance, so the others' memory stays small.
  const fresh = await loadPlugin(readFileSync(wasmPath));
  const x = fresh.exports;
  // Lengths are i32: 3.9 GiB is negative as an i32 (`len < 0`: 0, documented).
  assert.equal(x.sa_alloc(Math.floor(3.9 * 2 ** 30)), 0);
  assert.equal(x.sa_alloc(0xffffffff), 0);
  assert.equal(x.sa_alloc(-(2 ** 31)), 0);
  // The largest request there is (2 GiB - 1): the host may grant it (memory grows to ~2 GiB,
  // virtual) or refuse; a second cannot fit in 4 GiB: 0 ("out of memory", documented), no trap.
  const first = x.sa_alloc(0x7fffffff) >>> 0;
  const second = x.sa_alloc(0x7fffffff) >>> 0;
  assert.equal(second, 0);
  console.log(`# sa_alloc(2^31-1): ${first === 0 ? 'refused' : 'granted'}; again: refused; memory ${(x.memory.buffer.byteLength / MIB).toFixed(0)} MiB`);
  if (first !== 0) x.sa_free(first, 0x7fffffff);
  const { handle } = fresh.newPolicy('{"orgId":"org-1"}');
  assert.ok(handle > 0);
  assert.match(fresh.apply(handle, '{"op":"exportRecord"}'), /^\{"ok":\{"record":/);
  // Memory freed by the host is reused: a 64 MiB command fits without growing further.
  const mem = x.memory.buffer.byteLength;
  assert.equal(JSON.parse(fresh.apply(handle, 'x'.repeat(64 * MIB))).error.code, 'MALFORMED_INPUT');
  if (first !== 0) assert.equal(x.memory.buffer.byteLength, mem);
});

process.on('exit', () => {
  if (process.env.SA_DUMP) writeFileSync(process.env.SA_DUMP, dump.join('\n') + '\n');
});
