// FFI abuse (issue 8) for the browser package (`js/index.js` over the wasm-bindgen module), run
// in Node. Modeled on bindings/node/tests/abuse.test.js: huge commands and strings, deep nesting,
// wrong types, odd times, lone surrogates and NUL bytes, long runs of failures. Every bad typed
// call must throw a SupportAccessError (an Error) with a SPEC `.code`, never trap the module
// (`RuntimeError: unreachable`), never leak a bare TypeError/RangeError, and leave the exported
// record byte-identical; `apply` must return an error result. The module's linear memory must
// not grow for commands over the core's limit (32 MiB): they are refused before crossing over.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Policy, SupportAccessError, verifyRecord, ERROR_CODES } from '../js/index.js';
// The same module instance the package initialized (init returns it when already loaded):
// only to watch its linear memory.
import init from '../pkg/web/support_access_wasm.js';
// The wrong values, the odd times and their check, shared with the Node package's abuse tests (one surface).
import abuseValues from '../../node/tests/abuse-values.js';

const { WRONG, checkOddTimes, describeValue } = abuseValues;

const wasm = await init();
const memBytes = () => wasm.memory.buffer.byteLength;
const MIB = 1 << 20;
const LIMIT = 32 * MIB; // the core's MAX_COMMAND_LEN

const OWNER = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
const T0 = Date.parse('2026-11-28T10:00:00Z');
const HOUR = 3600 * 1000;
const NOW = T0 + HOUR;
const INFRA = 'CLUSTER_INFRASTRUCTURE';

function setup() {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
  p.addProject(OWNER, 'p1', T0);
  p.addCluster(OWNER, 'p1', 'Cluster0', {}, T0);
  p.grant(OWNER, 'Cluster0', INFRA, T0);
  return p;
}

/** `e` is a SupportAccessError with a SPEC code (one of `codes`, if given). */
function assertTyped(e, codes, label) {
  assert.ok(e instanceof SupportAccessError, `${label}: not a SupportAccessError: ${e && e.stack}`);
  assert.ok(e instanceof Error, `${label}: not an Error`);
  assert.ok(ERROR_CODES.includes(e.code), `${label}: code ${e.code}`);
  assert.equal(typeof e.message, 'string');
  if (codes) assert.ok(codes.includes(e.code), `${label}: ${e.code} not in ${codes}: ${e.message.slice(0, 200)}`);
}

/** `fn` throws a typed error (with one of `codes`, if given); `p`'s record is unchanged. */
function typed(p, fn, codes, label = '') {
  const before = p.exportRecord();
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `${label}: nothing was thrown`);
  assertTyped(thrown, codes, label);
  assert.equal(p.exportRecord(), before, `${label}: a failed call must leave the record unchanged`);
  return thrown;
}

/** `apply(cmd)` gives an error result (with `code`, if given) and changes nothing. */
function errorResult(p, cmd, code, label) {
  const before = p.exportRecord();
  const out = p.apply(cmd);
  assert.equal(typeof out, 'string', label);
  const r = JSON.parse(out);
  assert.ok(r.error && ERROR_CODES.includes(r.error.code), `${label}: ${out.slice(0, 200)}`);
  if (code) assert.equal(r.error.code, code, `${label}: ${out.slice(0, 200)}`);
  assert.equal(p.exportRecord(), before, `${label}: record changed`);
  return out;
}

/** After everything: the policy still grants and evaluates, its record verifies and replays. */
function stillWorks(p) {
  const record = p.exportRecord();
  assert.equal(verifyRecord(record), p.events().length);
  assert.equal(Policy.replay(record).exportRecord(), record);
  const later = NOW + HOUR;
  p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', later);
  const d = p.evaluate('Cluster0', 'DATABASE_LOGS', later + 1);
  assert.equal(d.allowed, true);
  assert.equal(d.reason, 'GRANT_ACTIVE');
  assert.equal(verifyRecord(p.exportRecord()), p.events().length);
}

// ---------------------------------------------------------------------------------------------

test('apply: commands over the 32 MiB limit are one MALFORMED_INPUT result, fast, memory unchanged', () => {
  const p = setup();
  const huge = [
    ['64 MiB of x', 'x'.repeat(64 * MIB)],
    ['64 MiB of [', '['.repeat(64 * MIB)],
    ['64 MiB of {"a":', '{"a":'.repeat((64 * MIB) / 5)],
    ['64 MiB string field', `{"op":"evaluate","cluster":"${'C'.repeat(64 * MIB)}","resource":"INFRASTRUCTURE","now":0}`],
    ['64 Mi of é (128 MiB UTF-8)', 'é'.repeat(64 * MIB)],
    ['64 Mi lone surrogates', '\ud800'.repeat(64 * MIB)],
    ['64 Mi NUL', '\0'.repeat(64 * MIB)],
    // Under the limit in UTF-16 code units, over it in UTF-8 bytes.
    ['20 Mi of é (40 MiB UTF-8)', 'é'.repeat(20 * MIB)],
    ['12 Mi of 𝄞 (48 MiB UTF-8)', '𝄞'.repeat(12 * MIB)],
    ['limit + 1 ASCII bytes', `{"op":"${'x'.repeat(LIMIT + 1 - 9)}"}`],
  ];
  const mem0 = memBytes();
  let first;
  for (const [label, cmd] of huge) {
    const t = performance.now();
    const out = errorResult(p, cmd, 'MALFORMED_INPUT', label);
    const ms = performance.now() - t;
    first ??= out;
    assert.equal(out, first, `${label}: every over-limit command gets the same result bytes`);
    assert.match(out, /command longer than 33554432 bytes/);
    // (the record comparison above is included; generous for a busy 2-core machine)
    assert.ok(ms < 2000, `${label}: ${ms.toFixed(0)} ms`);
    assert.equal(memBytes(), mem0, `${label}: linear memory grew to ${memBytes()} bytes`);
  }
  // The same through apply(object): the JSON text is over the limit.
  errorResult(p, { op: 'evaluate', cluster: 'C'.repeat(64 * MIB), resource: 'INFRASTRUCTURE', now: 0 }, 'MALFORMED_INPUT', 'object');
  assert.equal(memBytes(), mem0, 'apply(object) grew memory');
  stillWorks(p);
});

test('apply: just under the limit, deep nesting and long junk are refused by the parser, bounded memory', () => {
  const p = setup();
  const mem0 = memBytes();
  const cases = [
    ['31 MiB of [', '['.repeat(31 * MIB)],
    ['31 MiB of {"a":', '{"a":'.repeat((31 * MIB) / 5)],
    ['limit ASCII bytes exactly', `{"op":"${'x'.repeat(LIMIT - 9)}"}`, 'UNKNOWN_OP'],
    ['10 Mi é (20 MiB UTF-8)', `{"op":"${'é'.repeat(10 * MIB)}"}`, 'UNKNOWN_OP'],
    ['deep nesting in a field', `{"op":"evaluate","cluster":${'['.repeat(100000)}${']'.repeat(100000)}}`],
  ];
  for (const [label, cmd, code] of cases) {
    const t = performance.now();
    errorResult(p, cmd, code ?? 'MALFORMED_INPUT', label);
    const ms = performance.now() - t;
    assert.ok(ms < 3000, `${label}: ${ms.toFixed(0)} ms`);
  }
  // A command up to the limit is in memory once, with what the parser builds from it (a 32 MiB
  // string value here): bounded by a small multiple of the limit, whatever the input.
  const grown = memBytes() - mem0;
  assert.ok(grown <= 3 * LIMIT, `linear memory grew by ${(grown / MIB).toFixed(1)} MiB`);
  stillWorks(p);
});

test('64 MiB strings in every string argument of the typed API are typed errors', () => {
  const p = setup();
  const huge = 'C'.repeat(64 * MIB);
  const actor = (id) => ({ id, roles: [{ role: 'ORG_OWNER' }] });
  const calls = [
    ['new Policy orgId', () => new Policy({ orgId: huge })],
    ['setRestriction value', () => p.setRestriction(OWNER, huge, NOW)],
    ['addProject id', () => p.addProject(OWNER, huge, NOW)],
    ['addProject actor id', () => p.addProject(actor(huge), 'p2', NOW)],
    ['actor role', () => p.addProject({ id: 'a', roles: [{ role: huge }] }, 'p2', NOW)],
    ['actor role project', () => p.addProject({ id: 'a', roles: [{ role: 'PROJECT_OWNER', projectId: huge }] }, 'p2', NOW)],
    ['removeProject', () => p.removeProject(OWNER, huge, NOW)],
    ['addCluster project', () => p.addCluster(OWNER, huge, 'C9', {}, NOW)],
    ['addCluster name', () => p.addCluster(OWNER, 'p1', huge, {}, NOW)],
    ['addCluster kind', () => p.addCluster(OWNER, 'p1', 'C9', { kind: huge }, NOW)],
    ['removeCluster', () => p.removeCluster(OWNER, huge, NOW)],
    ['grant actor id', () => p.grant(actor(huge), 'Cluster0', INFRA, NOW)],
    ['grant cluster', () => p.grant(OWNER, huge, INFRA, NOW)],
    ['grant type', () => p.grant(OWNER, 'Cluster0', huge, NOW)],
    ['grant now', () => p.grant(OWNER, 'Cluster0', INFRA, huge)],
    ['grant expirationTime', () => p.grant(OWNER, 'Cluster0', INFRA, NOW, huge)],
    ['revoke cluster', () => p.revoke(OWNER, huge, NOW)],
    ['revoke now', () => p.revoke(OWNER, 'Cluster0', huge)],
    ['expireDue now', () => p.expireDue(huge)],
    ['evaluate cluster', () => p.evaluate(huge, 'DATABASE_LOGS', NOW)],
    ['evaluate resource', () => p.evaluate('Cluster0', huge, NOW)],
    ['evaluate now', () => p.evaluate('Cluster0', 'DATABASE_LOGS', huge)],
    ['evaluateAt cluster', () => p.evaluateAt(huge, 'DATABASE_LOGS', NOW)],
    ['evaluateAt at', () => p.evaluateAt('Cluster0', 'DATABASE_LOGS', huge)],
    ['evaluateMany resource', () => p.evaluateMany([{ cluster: 'Cluster0', resource: huge, now: NOW }])],
    ['evaluateMany now', () => p.evaluateMany([{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: huge }])],
    ['remaining cluster', () => p.remaining(huge, NOW)],
    ['beginLogDownload cluster', () => p.beginLogDownload(huge, 'DATABASE_LOGS', NOW)],
    ['beginLogDownload resource', () => p.beginLogDownload('Cluster0', huge, NOW)],
    ['continueLogDownload', () => p.continueLogDownload(huge, NOW)],
    ['finishLogDownload', () => p.finishLogDownload(huge, NOW)],
    ['describe now', () => p.describe(huge)],
    ['loadAtlas settings', () => p.loadAtlas({ restrictEmployeeAccess: huge }, [], NOW)],
    ['loadAtlas cluster name', () => p.loadAtlas({}, [{ name: huge, groupId: 'g1' }], NOW)],
    ['loadAtlas groupId', () => p.loadAtlas({}, [{ name: 'A0', groupId: huge }], NOW)],
    ['loadAtlas grant', () => p.loadAtlas({}, [{ name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: INFRA, expirationTime: huge } }], NOW)],
    ['Policy.replay', () => Policy.replay(huge)],
    ['verifyRecord', () => verifyRecord(huge)],
    ['record + 64 MiB line', () => verifyRecord(`${p.exportRecord()}${huge}\n`)],
  ];
  const mem0 = memBytes();
  const t = performance.now();
  for (const [label, fn] of calls) {
    const e = typed(p, fn, null, label);
    if (label.startsWith('record +')) assert.equal(e.code, 'RECORD_TAMPERED', label);
  }
  const ms = performance.now() - t;
  console.log(`# ${calls.length} calls with a 64 MiB string: ${ms.toFixed(0)} ms, linear memory +${((memBytes() - mem0) / MIB).toFixed(1)} MiB`);
  // A record must be read to be checked (it has no size limit), so verify/replay of 64 MiB
  // hold it once; nothing else needs the string in linear memory.
  assert.ok(memBytes() - mem0 <= 64 * MIB + 64 * MIB, `linear memory grew by ${(memBytes() - mem0) / MIB} MiB`);
  // In batch mode a bad name is a deny, as through apply; here the command is over the limit.
  const batch = () => p.evaluateMany([{ cluster: huge, resource: 'DATABASE_LOGS', now: NOW }]);
  try {
    const [d] = batch();
    assert.equal(d.reason, 'CLUSTER_NOT_FOUND');
  } catch (e) {
    assertTyped(e, ['MALFORMED_INPUT'], 'evaluateMany cluster');
  }
  stillWorks(p);
});

test('20 MiB strings (under the command limit) reach the core and get its field error, clipped', () => {
  const p = setup();
  const big = 'C'.repeat(20 * MIB);
  for (const [label, fn, code] of [
    ['evaluate cluster', () => p.evaluate(big, 'DATABASE_LOGS', NOW), 'INVALID_CLUSTER_NAME'],
    ['grant cluster', () => p.grant(OWNER, big, INFRA, NOW), 'INVALID_CLUSTER_NAME'],
    ['grant type', () => p.grant(OWNER, 'Cluster0', big, NOW), 'INVALID_ENUM_VALUE'],
    ['evaluate resource', () => p.evaluate('Cluster0', big, NOW), 'INVALID_ENUM_VALUE'],
    ['revoke now', () => p.revoke(OWNER, 'Cluster0', big), 'INVALID_TIMESTAMP'],
    ['addProject id', () => p.addProject(OWNER, big, NOW), 'MALFORMED_INPUT'],
    ['actor id', () => p.revoke({ id: big, roles: [{ role: 'ORG_OWNER' }] }, 'Cluster0', NOW), 'MALFORMED_INPUT'],
    ['orgId', () => new Policy({ orgId: big }), 'MALFORMED_INPUT'],
  ]) {
    const e = typed(p, fn, [code], label);
    assert.ok(e.message.length < 4096, `${label}: a ${e.message.length}-character message`);
  }
  stillWorks(p);
});

test('64 MiB of [ (and deep nesting) as typed arguments', () => {
  const p = setup();
  const brackets = '['.repeat(64 * MIB);
  for (const [label, fn] of [
    ['cluster', () => p.evaluate(brackets, 'INFRASTRUCTURE', NOW)],
    ['project', () => p.addProject(OWNER, brackets, NOW)],
    ['record', () => verifyRecord(brackets)],
    ['replay', () => Policy.replay(brackets)],
  ]) {
    typed(p, fn, null, label);
  }
  // Values nested deeper than JSON.stringify can go (a RangeError inside) are MALFORMED_INPUT.
  let deep = [];
  for (let i = 0; i < 1_000_000; i++) deep = [deep];
  let deepObj = {};
  for (let i = 0; i < 1_000_000; i++) deepObj = { a: deepObj };
  for (const [label, fn] of [
    ['actor', () => p.grant(deep, 'Cluster0', INFRA, NOW)],
    ['actor roles', () => p.grant({ id: 'a', roles: deep }, 'Cluster0', INFRA, NOW)],
    ['options', () => new Policy({ orgId: 'o', x: deepObj })],
    ['loadAtlas', () => p.loadAtlas(deepObj, [], NOW)],
    ['apply(object)', () => {
      const r = JSON.parse(p.apply({ op: 'evaluate', cluster: deepObj }));
      throw new SupportAccessError(r.error.code, r.error.message);
    }],
  ]) {
    typed(p, fn, ['MALFORMED_INPUT'], label);
  }
  // Nested just under what JSON.stringify manages: the core's parser refuses the depth.
  let nested = [];
  for (let i = 0; i < 5000; i++) nested = [nested];
  typed(p, () => p.grant({ id: 'a', roles: nested }, 'Cluster0', INFRA, NOW), ['MALFORMED_INPUT'], 'roles 5000 deep');
  typed(p, () => p.loadAtlas({}, [{ name: 'A0', groupId: 'g', x: nested }], NOW), ['MALFORMED_INPUT'], 'atlas 5000 deep');
  stillWorks(p);
});

/** Every method with `bad` in turn in each argument position. */
function argumentCalls(p, bad) {
  return [
    ['new Policy', () => new Policy(bad)],
    ['new Policy orgId', () => new Policy({ orgId: bad })],
    ['new Policy restrict', () => new Policy({ orgId: 'o', restrictEmployeeAccess: bad })],
    ['new Policy maxGrantDurationMs', () => new Policy({ orgId: 'o', maxGrantDurationMs: bad })],
    ['new Policy now', () => new Policy({ orgId: 'o', now: bad })],
    ['actor', () => p.grant(bad, 'Cluster0', INFRA, NOW)],
    ['actor id', () => p.grant({ id: bad, roles: [{ role: 'ORG_OWNER' }] }, 'Cluster0', INFRA, NOW)],
    ['actor roles', () => p.grant({ id: 'a', roles: bad }, 'Cluster0', INFRA, NOW)],
    ['actor role', () => p.grant({ id: 'a', roles: [bad] }, 'Cluster0', INFRA, NOW)],
    ['actor role name', () => p.grant({ id: 'a', roles: [{ role: bad }] }, 'Cluster0', INFRA, NOW)],
    ['setRestriction', () => p.setRestriction(OWNER, bad, NOW)],
    ['setRestriction now', () => p.setRestriction(OWNER, true, bad)],
    ['addProject', () => p.addProject(OWNER, bad, NOW)],
    ['addProject now', () => p.addProject(OWNER, 'p9', bad)],
    ['removeProject', () => p.removeProject(OWNER, bad, NOW)],
    ['addCluster project', () => p.addCluster(OWNER, bad, 'C9', {}, NOW)],
    ['addCluster name', () => p.addCluster(OWNER, 'p1', bad, {}, NOW)],
    ['addCluster options', () => p.addCluster(OWNER, 'p1', 'C9', bad, NOW)],
    ['addCluster kind', () => p.addCluster(OWNER, 'p1', 'C9', { kind: bad }, NOW)],
    ['addCluster sync', () => p.addCluster(OWNER, 'p1', 'C9', { appServicesSyncEnabled: bad }, NOW)],
    ['addCluster now', () => p.addCluster(OWNER, 'p1', 'C9', {}, bad)],
    ['removeCluster', () => p.removeCluster(OWNER, bad, NOW)],
    ['grant cluster', () => p.grant(OWNER, bad, INFRA, NOW)],
    ['grant type', () => p.grant(OWNER, 'Cluster0', bad, NOW)],
    ['grant now', () => p.grant(OWNER, 'Cluster0', INFRA, bad)],
    ['grant expirationTime', () => p.grant(OWNER, 'Cluster0', INFRA, NOW, bad)],
    ['revoke', () => p.revoke(OWNER, bad, NOW)],
    ['revoke now', () => p.revoke(OWNER, 'Cluster0', bad)],
    ['expireDue now', () => p.expireDue(bad)],
    ['evaluate cluster', () => p.evaluate(bad, 'DATABASE_LOGS', NOW)],
    ['evaluate resource', () => p.evaluate('Cluster0', bad, NOW)],
    ['evaluate now', () => p.evaluate('Cluster0', 'DATABASE_LOGS', bad)],
    ['evaluateAt cluster', () => p.evaluateAt(bad, 'DATABASE_LOGS', NOW)],
    ['evaluateAt at', () => p.evaluateAt('Cluster0', 'DATABASE_LOGS', bad)],
    ['evaluateMany', () => p.evaluateMany(bad)],
    ['evaluateMany request', () => p.evaluateMany([bad])],
    ['evaluateMany cluster', () => p.evaluateMany([{ cluster: bad, resource: 'DATABASE_LOGS', now: NOW }])],
    ['evaluateMany resource', () => p.evaluateMany([{ cluster: 'Cluster0', resource: bad, now: NOW }])],
    ['evaluateMany now', () => p.evaluateMany([{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: bad }])],
    ['remaining', () => p.remaining(bad, NOW)],
    ['remaining now', () => p.remaining('Cluster0', bad)],
    ['beginLogDownload cluster', () => p.beginLogDownload(bad, 'DATABASE_LOGS', NOW)],
    ['beginLogDownload resource', () => p.beginLogDownload('Cluster0', bad, NOW)],
    ['beginLogDownload now', () => p.beginLogDownload('Cluster0', 'DATABASE_LOGS', bad)],
    ['continueLogDownload', () => p.continueLogDownload(bad, NOW)],
    ['finishLogDownload', () => p.finishLogDownload(bad, NOW)],
    ['describe now', () => p.describe(bad)],
    ['loadAtlas settings', () => p.loadAtlas(bad, [], NOW)],
    ['loadAtlas clusters', () => p.loadAtlas({}, bad, NOW)],
    ['loadAtlas cluster', () => p.loadAtlas({}, [bad], NOW)],
    ['loadAtlas cluster name', () => p.loadAtlas({}, [{ name: bad, groupId: 'g1' }], NOW)],
    ['loadAtlas now', () => p.loadAtlas({}, [], bad)],
    ['Policy.replay', () => Policy.replay(bad)],
    ['Policy.verifyRecord', () => Policy.verifyRecord(bad)],
    ['verifyRecord', () => verifyRecord(bad)],
  ];
}

/** Calls that may succeed with `bad` (JSON/SPEC semantics), and how to undo them. */
function acceptable(name, kind, bad, result) {
  // JSON drops undefined, functions and symbols: an optional field is then absent (its default).
  const dropped = bad === undefined || typeof bad === 'symbol' || typeof bad === 'function';
  const absent = dropped || (bad === null && !['now', 'at'].some((w) => name.endsWith(w)));
  // A boxed string is written as its string by JSON: a plain string argument.
  if (bad instanceof String) return true;
  // A number or a Date is a time (the odd-times test below checks which ones are refused).
  if (/ (now|at|expirationTime)$/.test(name) && (typeof bad === 'number' || bad instanceof Date || bad === undefined)) return true;
  if (name === 'loadAtlas now' && bad === null) return true;
  // The creation time: undefined or null leave it unset (the epoch).
  if (name === 'new Policy now' && bad === null) return true;
  switch (name) {
    case 'new Policy': // a Date, a boxed string… have no orgId: refused; checked below anyway
      return false;
    case 'new Policy restrict':
      return absent || typeof bad === 'boolean';
    case 'new Policy maxGrantDurationMs':
      // null lifts the bound; never NaN or ±Infinity (JSON would write them as null)
      return absent || bad === 1;
    case 'addCluster options':
      // an object without the fields: the defaults (as in the Node package)
      return absent || (typeof bad === 'object' && kind !== 'Proxy that throws');
    case 'addCluster sync':
      if (typeof bad === 'boolean') return true;
    // falls through
    case 'addCluster kind':
      return absent;
    case 'grant expirationTime':
      return bad === null || bad === undefined;
    case 'setRestriction':
      return typeof bad === 'boolean';
    case 'evaluateMany cluster':
      // In a batch an unknown or malformed name is a deny (a string after JSON: a Date, a boxed
      // string, '', NUL…), as through apply.
      return result.length === 1 && (result[0].reason === 'CLUSTER_NOT_FOUND' || bad instanceof String);
    case 'loadAtlas settings':
      return true; // extra Admin API fields are ignored
    case 'actor id':
    case 'new Policy orgId':
    case 'addProject':
      // JSON semantics: a valid Date serializes to its ISO string, a fine free-form id
      return bad instanceof Date && !Number.isNaN(bad.getTime());
    default:
      return false;
  }
}

test('wrong types, null/undefined, NaN/Infinity, BigInt, Symbol, circular, surrogates, NUL: typed errors', () => {
  const template = setup();
  const record = template.exportRecord();
  const count = argumentCalls(template, null).length;
  let calls = 0;
  let accepted = 0;
  for (const [kind, bad] of WRONG) {
    for (let i = 0; i < count; i++) {
      // A fresh policy for each call, so that an accepted call changes nothing for the next.
      const p = Policy.replay(record);
      const [name, fn] = argumentCalls(p, bad)[i];
      calls++;
      let result;
      try {
        result = fn();
      } catch (e) {
        assertTyped(e, null, `${name} with ${kind}`);
        assert.equal(p.exportRecord(), record, `${name} with ${kind}: record changed by a failed call`);
        continue;
      }
      accepted++;
      assert.ok(acceptable(name, kind, bad, result), `${name} with ${kind}: accepted (${JSON.stringify(result)?.slice(0, 200)})`);
      if (name.startsWith('new Policy')) assert.equal(typeof result.exportRecord(), 'string');
      if (name === 'new Policy maxGrantDurationMs' && bad !== null) {
        assert.equal(result.maxGrantDurationMs, bad === 1 ? 1 : 86400000, `maxGrantDurationMs ${kind}`);
      }
      p.free();
    }
  }
  console.log(`# ${calls} calls with wrong values, ${accepted} accepted by JSON/SPEC semantics`);
  stillWorks(template);
});

test('odd times: NaN, ±Infinity, huge, fractional, invalid Date, BigInt, Symbol are INVALID_TIMESTAMP', () => {
  const p = setup();
  checkOddTimes(Policy, p, typed);
  // A lone surrogate cannot be written as UTF-8: the command's JSON is refused (JSON.stringify
  // escapes it as \ud800, which the core's parser rejects), a clean MALFORMED_INPUT.
  for (const bad of ['2026-11-28T10:00:00Z\ud800', '\udc00']) {
    typed(p, () => p.evaluate('Cluster0', 'DATABASE_LOGS', bad), ['MALFORMED_INPUT', 'INVALID_TIMESTAMP'], 'surrogate now');
    typed(p, () => p.revoke(OWNER, 'Cluster0', bad), ['MALFORMED_INPUT', 'INVALID_TIMESTAMP'], 'surrogate now');
  }
  stillWorks(p);
});

test('apply: wrong types, lone surrogates, NUL bytes and junk are error results', () => {
  const p = setup();
  for (const [kind, bad] of WRONG) {
    let out;
    try {
      out = p.apply(bad);
    } catch (e) {
      assertTyped(e, ['MALFORMED_INPUT'], `apply(${kind})`);
      continue;
    }
    const r = JSON.parse(out);
    assert.ok(r.error && ERROR_CODES.includes(r.error.code), `apply(${kind}): ${out}`);
  }
  const cmds = [
    '\ud800', '{"op":"\udfff"}', '\0', '{"op":"evaluate","cluster":"\\u0000"}', '{"op":"evaluate","cluster":"C\0"}',
    '{"op":"evaluate","cluster":"Cluster0\ud800","resource":"INFRASTRUCTURE","now":0}',
    '{"op":"evaluate","cluster":"\\ud800","resource":"INFRASTRUCTURE","now":0}',
    '{"op":"addProject","actor":{"id":"a\\u0000","roles":[{"role":"ORG_OWNER"}]},"projectId":"p9","now":"2026-11-28T12:00:00Z"}',
    '{"op":"addProject","actor":{"id":"\\udc00","roles":[{"role":"ORG_OWNER"}]},"projectId":"p9","now":"2026-11-28T12:00:00Z"}',
    '[]', '1e999', '"op"', 'null', '{"op":null}', '{"op":"evaluate","op":"grant"}', '\ufeff{"op":"exportRecord"}',
  ]; // prettier-ignore
  for (const cmd of cmds) errorResult(p, cmd, null, JSON.stringify(cmd));
  stillWorks(p);
});

test('200 failures in a row leave the policy working and the record identical', () => {
  const p = setup();
  const before = p.exportRecord();
  const failures = [
    [() => p.revoke(OWNER, 'Nope', NOW), 'CLUSTER_NOT_FOUND'],
    [() => p.evaluate(null, 'DATABASE_LOGS', NOW), 'MALFORMED_INPUT'],
    [() => p.grant(OWNER, 'Cluster0', 'BOGUS', NOW), 'INVALID_ENUM_VALUE'],
    [() => p.evaluate('Cluster0', 'DATABASE_LOGS', NaN), 'INVALID_TIMESTAMP'],
    [() => p.addProject(OWNER, 'p1', NOW), 'DUPLICATE_PROJECT'],
    [() => p.addProject(OWNER, 'p2', T0 - 1), 'CLOCK_WENT_BACKWARDS'],
    [() => p.grant({ id: 'r', roles: [{ role: 'PROJECT_READ_ONLY', projectId: 'p1' }] }, 'Cluster0', INFRA, NOW), 'FORBIDDEN'],
    [() => p.evaluate('bad name!', 'DATABASE_LOGS', NOW), 'INVALID_CLUSTER_NAME'],
    [() => Policy.replay('{}\n'), 'RECORD_TAMPERED'],
    [() => p.beginLogDownload('Cluster0', 'DATABASE_LOGS', NOW + 48 * HOUR), 'ACCESS_DENIED'], // expired by then
  ];
  for (let i = 0; i < 200; i++) {
    const [fn, code] = failures[i % failures.length];
    let thrown;
    try {
      fn();
    } catch (e) {
      thrown = e;
    }
    assertTyped(thrown, [code], `failure #${i}`);
    assert.equal(p.exportRecord(), before, `failure #${i}: record changed`);
  }
  for (let i = 0; i < 200; i++) {
    const r = JSON.parse(p.apply(i % 2 ? '{"op":"nope"}' : '['));
    assert.ok(r.error);
  }
  assert.equal(p.exportRecord(), before);
  assert.equal(p.evaluate('Cluster0', 'INFRASTRUCTURE', NOW).allowed, true);
  stillWorks(p);
});

test('after free(): typed errors, not a TypeError or a trap', () => {
  const q = setup();
  q.free();
  q.free(); // freeing twice is harmless
  for (const [label, fn] of [
    ['evaluate', () => q.evaluate('Cluster0', 'DATABASE_LOGS', NOW)],
    ['evaluateMany', () => q.evaluateMany([{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: NOW }])],
    ['evaluateAt', () => q.evaluateAt('Cluster0', 'DATABASE_LOGS', NOW)],
    ['grant', () => q.grant(OWNER, 'Cluster0', INFRA, NOW)],
    ['exportRecord', () => q.exportRecord()],
    ['events', () => q.events()],
    ['apply', () => q.apply('{"op":"evaluate"}')],
    ['describe', () => q.describe(NOW)],
    ['orgId', () => q.orgId],
    ['restrictEmployeeAccess', () => q.restrictEmployeeAccess],
    ['maxGrantDurationMs', () => q.maxGrantDurationMs],
  ]) {
    assert.throws(fn, (e) => {
      assertTyped(e, ['MALFORMED_INPUT'], label);
      return true;
    });
  }
  // and the module is fine
  stillWorks(setup());
});
