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

process.on('exit', () => {
  if (process.env.SA_DUMP) writeFileSync(process.env.SA_DUMP, dump.join('\n') + '\n');
});
