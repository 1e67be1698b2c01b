// The browser package (the `--target web` build, loaded in Node): every conformance vector
// through `Policy#apply`, byte for byte, and the typed surface over it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';

import * as pkg from '../js/index.js';
import { Policy, SupportAccessError, ERROR_CODES, VERSION } from '../js/index.js';
import { parseVectors, runVector } from './vectors.mjs';

const vectorsPath = new URL('../../../tests/vectors/vectors.txt', import.meta.url);
const commonTypes = new URL('../../node/common.d.ts', import.meta.url);
const vectors = parseVectors(readFileSync(vectorsPath, 'utf8'));

test('vectors.txt holds vectors', () => {
  assert.ok(vectors.length > 0);
});

// The browser package does not sign (SIGNING is false): its `publicKey` and `checkpoint`
// commands must answer UNKNOWN_OP exactly, and are counted; everything else is byte for byte.
let unsignedTotal = 0;
for (const v of vectors) {
  test(`vector ${v.name}`, () => {
    const { failures, unsigned } = runVector(v, (options) => new Policy(JSON.parse(options)), { signs: pkg.SIGNING });
    unsignedTotal += unsigned;
    assert.deepEqual(failures, []);
  });
}

test('the browser package verifies but does not sign: its signing commands were checked as UNKNOWN_OP', () => {
  assert.equal(pkg.SIGNING, false);
  // Vectors 071-077 sign 21 checkpoints and derive 15 public keys (tests/vectors/*.json).
  assert.equal(unsignedTotal, vectors.flatMap((v) => v.steps).filter((s) => /"op":"(publicKey|checkpoint)"/.test(s.command ?? '')).length);
  assert.ok(unsignedTotal > 0);
  console.log(`# signing commands answered UNKNOWN_OP (verify-only build): ${unsignedTotal}`);
});

const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
const reader = { id: 'rita', roles: [{ role: 'PROJECT_READ_ONLY', projectId: 'p1' }] };
const T0 = '2026-11-28T10:00:00Z';

function setup(restrict = true) {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: restrict });
  p.addProject(owner, 'p1', T0);
  p.addCluster(owner, 'p1', 'Cluster0', {}, T0);
  p.addCluster(owner, 'p1', 'Synced', { appServicesSyncEnabled: true }, T0);
  return p;
}

test('typed API: grant, evaluate, remaining, revoke', () => {
  const p = setup();
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', T0).reason, 'NO_GRANT');
  const ev = p.grant(owner, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0);
  assert.equal(ev.type, 'EMPLOYEE_ACCESS_GRANTED');
  assert.equal(ev.expirationTime, '2026-11-29T10:00:00.000Z');
  const d = p.evaluate('Cluster0', 'DATABASE_LOGS', new Date('2026-11-28T12:00:00Z'));
  assert.deepEqual(d, {
    allowed: true, reason: 'GRANT_ACTIVE', grantType: 'CLUSTER_DATABASE_LOGS',
    expirationTime: '2026-11-29T10:00:00.000Z', remainingMs: 22 * 3600 * 1000,
  });
  assert.equal(p.remaining('Cluster0', Date.parse('2026-11-28T12:00:00Z')), 22 * 3600 * 1000);
  assert.equal(p.evaluate('Cluster0', 'AUDIT_LOGS', '2026-11-28T12:00:00Z').reason, 'NOT_COVERED_BY_GRANT');
  p.revoke(owner, 'Cluster0', '2026-11-28T13:00:00Z');
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', '2026-11-28T13:00:00Z').reason, 'GRANT_REVOKED');
  assert.equal(p.remaining('Cluster0', '2026-11-28T13:00:00Z'), null);
  // The past, from the record alone.
  assert.equal(p.evaluateAt('Cluster0', 'DATABASE_LOGS', '2026-11-28T12:30:00Z').allowed, true);
});

test('now defaults to Date.now()', () => {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
  p.addProject(owner, 'p1');
  p.addCluster(owner, 'p1', 'C1');
  const ev = p.grant(owner, 'C1', 'CLUSTER_INFRASTRUCTURE');
  const left = p.remaining('C1');
  assert.ok(left > 24 * 3600 * 1000 - 60_000 && left <= 24 * 3600 * 1000, `remaining ${left}`);
  assert.ok(Math.abs(Date.parse(ev.at) - Date.now()) < 60_000);
  assert.equal(p.evaluate('C1', 'INFRASTRUCTURE').allowed, true);
});

test('errors are SupportAccessError with the SPEC code', () => {
  const p = setup();
  const cases = [
    [() => p.grant(reader, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0), 'FORBIDDEN'],
    [() => p.grant(owner, 'Cluster0', 'NOPE', T0), 'INVALID_ENUM_VALUE'],
    [() => p.evaluate('Cluster0', 'DATABASE_LOGS', 'yesterday'), 'INVALID_TIMESTAMP'],
    [() => p.evaluate('Cluster0', 'DATABASE_LOGS', new Date(NaN)), 'INVALID_TIMESTAMP'],
    [() => p.evaluate('bad name!', 'DATABASE_LOGS', T0), 'INVALID_CLUSTER_NAME'],
    [() => p.evaluate('Missing', 'DATABASE_LOGS', T0), 'CLUSTER_NOT_FOUND'],
    [() => p.grant(owner, 'Cluster0', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', T0), 'SYNC_NOT_ENABLED'],
    [() => p.revoke(owner, 'Cluster0', T0), 'NO_ACTIVE_GRANT'],
    [() => p.addProject(owner, 'p1', T0), 'DUPLICATE_PROJECT'],
    [() => p.addProject(owner, 'p2', '2026-11-27T00:00:00Z'), 'CLOCK_WENT_BACKWARDS'],
    [() => p.grant(owner, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0, T0), 'EXPIRATION_NOT_IN_FUTURE'],
    [() => p.grant(owner, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0, '2026-12-28T10:00:00Z'), 'EXPIRATION_TOO_FAR'],
    [() => p.continueLogDownload('dl-9', T0), 'DOWNLOAD_NOT_FOUND'],
    [() => new Policy({ orgId: 'o', extra: 1 }), 'MALFORMED_INPUT'],
    [() => new Policy({ orgId: 'o', big: 1n }), 'MALFORMED_INPUT'],
  ];
  for (const [f, code] of cases) {
    assert.throws(f, (e) => {
      assert.ok(e instanceof SupportAccessError, `${e}`);
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'SupportAccessError');
      assert.equal(e.code, code, e.message);
      assert.ok(ERROR_CODES.includes(e.code));
      return true;
    });
  }
  // A failed call changes nothing.
  assert.equal(Policy.verifyRecord(p.exportRecord()), 4);
});

test('log downloads: ACCESS_DENIED carries the reason; in-progress downloads survive a revoke', () => {
  const p = setup();
  assert.throws(() => p.beginLogDownload('Cluster0', 'DATABASE_LOGS', T0), (e) => {
    assert.equal(e.code, 'ACCESS_DENIED');
    assert.equal(e.reason, 'NO_GRANT');
    return true;
  });
  p.grant(owner, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0);
  const id = p.beginLogDownload('Cluster0', 'AUDIT_LOGS', '2026-11-28T10:05:00Z');
  assert.equal(typeof id, 'string');
  p.revoke(owner, 'Cluster0', '2026-11-28T10:06:00Z');
  assert.equal(p.continueLogDownload(id, '2026-11-28T10:07:00Z').allowed, true);
  assert.equal(p.finishLogDownload(id, '2026-11-28T10:08:00Z').type, 'EMPLOYEE_LOG_DOWNLOAD_FINISHED');
  assert.throws(() => p.beginLogDownload('Cluster0', 'AUDIT_LOGS', '2026-11-28T10:09:00Z'), { code: 'ACCESS_DENIED' });
});

test('evaluateMany, expireDue, describe, loadAtlas', () => {
  const p = setup();
  p.grant(owner, 'Synced', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', T0, '2026-11-28T11:00:00Z');
  const ds = p.evaluateMany([
    { cluster: 'Synced', resource: 'SYNC_DATA', now: T0 },
    { cluster: 'Missing', resource: 'INFRASTRUCTURE', now: T0 },
    { cluster: 'Cluster0', resource: 'DATABASE_DATA', now: new Date(T0) },
  ]);
  assert.deepEqual(ds.map((d) => d.reason), ['GRANT_ACTIVE', 'CLUSTER_NOT_FOUND', 'DATABASE_DATA_NEVER_ACCESSIBLE']);
  const expired = p.expireDue('2026-11-28T12:00:00Z');
  assert.equal(expired.length, 1);
  assert.equal(expired[0].type, 'EMPLOYEE_ACCESS_EXPIRED');
  assert.equal(expired[0].at, '2026-11-28T11:00:00.000Z');
  const desc = p.describe('2026-11-28T12:00:00Z');
  assert.deepEqual(desc.clusters.map((c) => c.name), ['Cluster0', 'Synced']);
  const q = new Policy({ orgId: 'org-2' });
  const s = q.loadAtlas({ restrictEmployeeAccess: true }, [
    { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_INFRASTRUCTURE', expirationTime: '2999-01-01T00:00:00Z' } },
    { name: 'A1', groupId: 'g1' },
  ]);
  assert.equal(s.clusters, 2);
  assert.equal(s.grants, 1);
});

test('record: replay rebuilds, continuing gives the same bytes; tampering is found with its seq', () => {
  const p = setup();
  p.grant(owner, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0);
  const text = p.exportRecord();
  const again = Policy.replay(text);
  assert.equal(again.exportRecord(), text);
  const next = '2026-11-28T11:00:00Z';
  assert.deepEqual(again.revoke(owner, 'Cluster0', next), p.revoke(owner, 'Cluster0', next));
  assert.equal(again.exportRecord(), p.exportRecord());
  assert.equal(Policy.verifyRecord(text), 5);
  assert.equal(p.verifyRecord(text), 5);
  const lines = text.trimEnd().split('\n');
  lines[2] = lines[2].replace('Cluster0', 'Cluster9');
  const bad = lines.join('\n') + '\n';
  for (const f of [() => Policy.verifyRecord(bad), () => Policy.replay(bad)]) {
    assert.throws(f, (e) => {
      assert.ok(e instanceof SupportAccessError);
      assert.equal(e.code, 'RECORD_TAMPERED');
      assert.equal(e.seq, 3);
      return true;
    });
  }
});

test('apply never throws and matches the typed call', () => {
  const p = setup();
  assert.equal(p.apply('{"op":"nope"}').startsWith('{"error":{"code":"UNKNOWN_OP"'), true);
  assert.equal(p.apply('not json').startsWith('{"error":{"code":"MALFORMED_INPUT"'), true);
  assert.equal(p.apply(''), p.apply(''));
  const r = JSON.parse(p.apply('{"op":"evaluate","cluster":"Cluster0","resource":"INFRASTRUCTURE","now":"2026-11-28T10:00:00Z"}'));
  assert.deepEqual(r.ok, p.evaluate('Cluster0', 'INFRASTRUCTURE', T0));
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
  p.free();
});

test('the same surface as the Node package: exports, getters, events(), apply(object)', () => {
  const exported = Object.keys(pkg).sort();
  assert.deepEqual(exported, ['CLUSTER_KINDS', 'Checkpoint', 'ERROR_CODES', 'GRANT_TYPES', 'Policy', 'PublicKey', 'REASONS', 'RESOURCES',
    'SIGNING', 'SupportAccessError', 'VERSION', 'coreVersion', 'verifyCheckpoints', 'verifyRecord']);
  assert.equal(pkg.coreVersion, VERSION);
  assert.equal(ERROR_CODES.length, 24);
  const p = new Policy({ orgId: 'org-9', restrictEmployeeAccess: true, maxGrantDurationMs: null });
  assert.equal(p.orgId, 'org-9');
  assert.equal(p.restrictEmployeeAccess, true);
  assert.equal(p.maxGrantDurationMs, null);
  assert.equal(new Policy({ orgId: 'o' }).maxGrantDurationMs, 86400000);
  // Values JSON would write as null (or that are no number) must not lift the limit.
  for (const v of [NaN, Infinity, new Date(NaN), new Date(0), { toJSON: () => null }, '3600000', 3600000n]) {
    assert.throws(() => new Policy({ orgId: 'o', maxGrantDurationMs: v }), (e) => e instanceof SupportAccessError && e.code === 'MALFORMED_INPUT');
  }
  p.setRestriction(owner, false, T0);
  assert.equal(p.restrictEmployeeAccess, false);
  assert.deepEqual(p.events().map((e) => e.type), ['POLICY_CREATED', 'ORG_EMPLOYEE_ACCESS_UNRESTRICTED']);
  assert.equal(p.apply({ op: 'exportRecord' }), p.apply('{"op":"exportRecord"}'));
  assert.equal(JSON.parse(p.apply(undefined)).error.code, 'MALFORMED_INPUT');
  assert.equal(pkg.verifyRecord(p.exportRecord()), 2);
  for (const bad of [null, true, {}]) {
    assert.throws(() => p.evaluate('C', 'INFRASTRUCTURE', bad), { code: 'INVALID_TIMESTAMP' });
  }
});

test('the TypeScript surface is the Node package\'s common.d.ts, which the build copied in', () => {
  assert.ok(existsSync(commonTypes), 'bindings/node/common.d.ts');
  assert.equal(readFileSync(new URL('../js/common.d.ts', import.meta.url), 'utf8'), readFileSync(commonTypes, 'utf8'));
  assert.match(readFileSync(new URL('../js/index.d.ts', import.meta.url), 'utf8'), /^export \* from '\.\/common'$/m);
});

test('the JavaScript both packages share is the Node package\'s common.js, as an ES module', () => {
  const source = readFileSync(new URL('../../node/common.js', import.meta.url), 'utf8');
  const written = readFileSync(new URL('../js/common.js', import.meta.url), 'utf8');
  const body = source.replace(/^'use strict'\n/, '').replace(/module\.exports = \{ common \}\n$/, 'export { common };\n');
  assert.notEqual(body, source);
  assert.equal(written.slice(written.indexOf('\n') + 1), body);
  assert.match(readFileSync(new URL('../js/index.js', import.meta.url), 'utf8'), /^import \{ common \} from '\.\/common\.js';$/m);
});

test('evaluate (packed hot path) agrees with the JSON command for every case, errors included', () => {
  const p = setup();
  p.grant(owner, 'Synced', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', T0, '2026-11-28T11:00:00Z');
  p.grant(owner, 'Cluster0', 'CLUSTER_DATABASE_LOGS', '2026-11-28T10:30:00Z');
  p.revoke(owner, 'Cluster0', '2026-11-28T10:45:00Z');
  p.grant(owner, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', '2026-11-28T10:50:00Z', '2026-11-28T10:55:00Z');
  const clusters = ['Cluster0', 'Synced', 'Missing', 'bad name!', ''];
  const resources = ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA', 'DATABASE_DATA', 'NOPE'];
  const times = [0, Date.parse(T0), Date.parse('2026-11-28T10:52:00Z'), Date.parse('2026-11-28T10:55:00Z'),
    Date.parse('2026-11-28T10:59:59.999Z'), Date.parse('2026-11-28T11:00:00Z'), 253402300799999, 253402300800000,
    -1, 1.5, Number.NaN, new Date('2026-11-28T10:52:00Z'), '2026-11-28T10:52:00Z', 'nope'];
  let n = 0;
  for (const c of clusters) {
    for (const r of resources) {
      for (const t of times) {
        // (JSON has no NaN: the package hands the core a non-finite time by name.)
        const now = t instanceof Date ? t.getTime() : Number.isNaN(t) ? 'NaN' : t;
        const expected = JSON.parse(p.apply(JSON.stringify({ op: 'evaluate', cluster: c, resource: r, now })));
        let got;
        try {
          got = { ok: p.evaluate(c, r, t) };
        } catch (e) {
          assert.ok(e instanceof SupportAccessError);
          got = { error: { code: e.code, message: e.message } };
        }
        assert.deepEqual(got, expected, `${c} ${r} ${String(t)}`);
        n++;
      }
    }
  }
  assert.equal(n, clusters.length * resources.length * times.length);
});

test('evaluateMany (packed hot path) agrees with the JSON command, and cached ids follow changes', () => {
  const p = setup();
  p.grant(owner, 'Synced', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', T0, '2026-11-28T11:00:00Z');
  p.grant(owner, 'Cluster0', 'CLUSTER_DATABASE_LOGS', '2026-11-28T10:30:00Z');
  const viaJson = (requests) => {
    const r = JSON.parse(p.apply(JSON.stringify({ op: 'evaluateMany', requests: requests.map((q) => ({ ...q, now: q.now instanceof Date ? q.now.getTime() : q.now })) })));
    return r.ok ?? r;
  };
  const viaTyped = (requests) => {
    try {
      return p.evaluateMany(requests);
    } catch (e) {
      assert.ok(e instanceof SupportAccessError);
      return { error: { code: e.code, message: e.message } };
    }
  };
  const times = [Date.parse(T0), Date.parse('2026-11-28T10:59:59.999Z'), Date.parse('2026-11-28T11:00:00Z'), 253402300799999];
  const ok = [];
  for (const cluster of ['Cluster0', 'Synced', 'Missing', 'bad name!']) {
    for (const resource of ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA', 'DATABASE_DATA']) {
      for (const now of times) ok.push({ cluster, resource, now });
    }
  }
  // Twice: the second time every id comes from the cache.
  for (let round = 0; round < 2; round++) {
    const typed = viaTyped(ok);
    assert.deepEqual(typed, viaJson(ok));
    assert.ok(typed.some((d) => d.reason === 'GRANT_ACTIVE') && typed.some((d) => d.reason === 'CLUSTER_NOT_FOUND'));
  }
  // Requests the hot path cannot answer exactly send the batch through the command.
  for (const odd of [
    { cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: '2026-11-28T10:52:00Z' },
    { cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: new Date('2026-11-28T10:52:00Z') },
    { cluster: 'Cluster0', resource: 'NOPE', now: Date.parse(T0) },
    { cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: -1 },
    { cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: 1.5 },
    { cluster: 'x'.repeat(300), resource: 'INFRASTRUCTURE', now: Date.parse(T0) },
    { cluster: 'bad\ud800', resource: 'INFRASTRUCTURE', now: Date.parse(T0) },
    { cluster: 42, resource: 'INFRASTRUCTURE', now: Date.parse(T0) },
  ]) {
    const batch = [ok[0], odd, ok[1]];
    assert.deepEqual(viaTyped(batch), viaJson(batch), JSON.stringify(odd));
  }
  assert.deepEqual(p.evaluateMany([]), []);
  // A cached id is never used across a change to the clusters: remove Cluster0, add two more,
  // add Cluster0 again (now with another id), grant it differently.
  const at = Date.parse('2026-11-28T10:40:00Z');
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', at).reason, 'GRANT_ACTIVE');
  p.removeCluster(owner, 'Cluster0', at);
  assert.equal(p.evaluateMany([{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: at }])[0].reason, 'CLUSTER_NOT_FOUND');
  assert.throws(() => p.evaluate('Cluster0', 'DATABASE_LOGS', at), { code: 'CLUSTER_NOT_FOUND' });
  p.addCluster(owner, 'p1', 'Other1', {}, at);
  p.addCluster(owner, 'p1', 'Cluster0', {}, at);
  p.grant(owner, 'Other1', 'CLUSTER_INFRASTRUCTURE', at);
  const again = [{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: at }, { cluster: 'Other1', resource: 'INFRASTRUCTURE', now: at }];
  assert.deepEqual(viaTyped(again), viaJson(again));
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', at).reason, 'NO_GRANT');
  assert.equal(p.evaluate('Other1', 'INFRASTRUCTURE', at).reason, 'GRANT_ACTIVE');
  // Within one policy ids are never reused, but `apply` may replace the whole policy: replay
  // another record in which the same names have other ids.
  const q = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
  q.addProject(owner, 'p1', T0);
  for (const name of ['Synced', 'Other1', 'Cluster0']) q.addCluster(owner, 'p1', name, {}, T0);
  q.grant(owner, 'Synced', 'CLUSTER_INFRASTRUCTURE', T0);
  for (const name of ['Cluster0', 'Other1', 'Synced']) p.evaluate(name, 'INFRASTRUCTURE', at); // cache them
  assert.ok(p.apply(JSON.stringify({ op: 'replay', record: q.exportRecord() })).startsWith('{"ok"'));
  for (const name of ['Cluster0', 'Other1', 'Synced']) {
    assert.deepEqual(p.evaluate(name, 'INFRASTRUCTURE', at), q.evaluate(name, 'INFRASTRUCTURE', at), name);
  }
  assert.deepEqual(p.evaluateMany(again), q.evaluateMany(again));
});

test('loadAtlas with now: a mutation stamped now', () => {
  const q = new Policy({ orgId: 'org-3', restrictEmployeeAccess: true });
  const now = new Date('2026-11-28T10:00:00Z');
  const s = q.loadAtlas({ restrictEmployeeAccess: true }, [
    { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_INFRASTRUCTURE', expirationTime: '2026-11-28T12:00:00Z' } },
  ], now);
  assert.equal(s.grants, 1);
  const last = q.events().at(-1);
  assert.equal(last.type, 'ATLAS_LOADED');
  assert.equal(last.at, '2026-11-28T10:00:00.000Z');
  assert.equal(q.remaining('A0', now), 2 * 3600 * 1000);
});

test('creation time: options now stamps POLICY_CREATED, is the clock floor, survives replay', () => {
  const T0 = '2026-11-28T10:00:00Z';
  const T0_MS = Date.parse(T0);
  const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
  for (const now of [new Date(T0_MS), T0, T0_MS]) {
    const p = new Policy({ orgId: 'org-1', now });
    assert.equal(p.events()[0].at, '2026-11-28T10:00:00.000Z');
    assert.throws(() => p.addProject(owner, 'p1', T0_MS - 1), (e) => e instanceof SupportAccessError && e.code === 'CLOCK_WENT_BACKWARDS');
    p.addProject(owner, 'p1', T0);
    assert.equal(Policy.replay(p.exportRecord()).exportRecord(), p.exportRecord());
  }
  for (const options of [{ orgId: 'o' }, { orgId: 'o', now: undefined }, { orgId: 'o', now: null }]) {
    assert.equal(new Policy(options).events()[0].at, '1970-01-01T00:00:00.000Z');
  }
  for (const bad of ['later', -1, 1.5, NaN, Infinity, new Date(NaN), true, {}, 10n]) {
    assert.throws(() => new Policy({ orgId: 'o', now: bad }), (e) => e instanceof SupportAccessError && e.code === 'INVALID_TIMESTAMP', String(bad));
  }
});

test('loadAtlas reads a listClusters page as its results; other page fields are MALFORMED_INPUT', () => {
  const docs = [
    { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_DATABASE_LOGS', expirationTime: '2026-11-28T20:00:00Z' } },
    { name: 'B0', groupId: 'g2', clusterType: 'SHARDED' },
  ];
  const now = '2026-11-28T10:00:00Z';
  const listed = new Policy({ orgId: 'org-1' });
  const paged = new Policy({ orgId: 'org-1' });
  const page = { results: docs, totalCount: 2, links: [{ rel: 'self', href: 'https://example.invalid' }] };
  assert.deepEqual(paged.loadAtlas({}, page, now), listed.loadAtlas({}, docs, now));
  assert.equal(paged.exportRecord(), listed.exportRecord());
  for (const [bad, says] of [
    [{ results: docs, pageNum: 1 }, 'unexpected field `pageNum` in listClusters page'],
    [{ results: {} }, 'field `results` in listClusters page must be an array'],
    [{ totalCount: 0 }, 'missing field `results` in listClusters page'],
    ['nope', '`clusters` must be an array of cluster descriptions or a listClusters page'],
  ]) {
    assert.throws(() => paged.loadAtlas({}, bad, now), (e) => e instanceof SupportAccessError && e.code === 'MALFORMED_INPUT' && e.message.includes(says), says);
  }
  assert.equal(paged.exportRecord(), listed.exportRecord());
});

test('every member index.d.ts (with the common.d.ts it re-exports) declares is implemented', () => {
  const dts = ['../js/common.d.ts', '../js/index.d.ts'].map((f) => readFileSync(new URL(f, import.meta.url), 'utf8')).join('\n');
  const body = dts.slice(dts.indexOf('export declare class Policy'));
  const cls = body.slice(0, body.indexOf('\n}'));
  const members = [...cls.matchAll(/^ {2}(static |readonly )?([A-Za-z]+)[(:]/gm)].map((m) => [m[1]?.trim(), m[2]]);
  assert.ok(members.length > 25, `found ${members.length} members`);
  const p = new Policy({ orgId: 'o' });
  for (const [kind, name] of members) {
    if (kind === 'static') assert.equal(typeof Policy[name], 'function', `static ${name}`);
    else if (kind === 'readonly') assert.notEqual(p[name], undefined, `getter ${name}`);
    else assert.equal(typeof p[name], 'function', `method ${name}`);
  }
  const exportsDeclared = [...dts.matchAll(/^export declare (?:const|function|class) ([A-Za-z_]+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(exportsDeclared, Object.keys(pkg).sort());
});

// ----- signed checkpoints (SPEC §9): verified here, signed by the native packages -----

/** The first `verifyCheckpoints` command of a vector (its record, checkpoints, keys) and its expect. */
function verifyStep(name, nth = 0) {
  const v = vectors.find((x) => x.name === name);
  const steps = v.steps.filter((s) => s.command && JSON.parse(s.command).op === 'verifyCheckpoints');
  return { cmd: JSON.parse(steps[nth].command), expect: JSON.parse(steps[nth].expect) };
}

test('checkpoints: parse, verify and the same answers as the verifyCheckpoints command', () => {
  const { cmd, expect } = verifyStep('071-checkpoint-sign-verify');
  const cps = cmd.checkpoints.map((t) => pkg.Checkpoint.parse(t));
  const keys = cmd.trustedKeys.map((t) => pkg.PublicKey.parse(t));
  assert.deepEqual(pkg.verifyCheckpoints(cmd.record, cps, keys), expect.ok);
  assert.deepEqual(pkg.verifyCheckpoints(cmd.record, cmd.checkpoints, cmd.trustedKeys), expect.ok);
  const p = Policy.replay(cmd.record);
  assert.deepEqual(p.verifyCheckpoints(new Set(cps), keys), expect.ok);
  const c = cps[0];
  assert.equal(c.toText(), cmd.checkpoints[0]);
  assert.equal(String(c), c.toText());
  assert.match(c.keyId, /^[0-9a-f]{16}$/);
  assert.equal(c.orgId, p.orgId);
  assert.match(c.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(typeof c.seq, 'number');
  assert.equal(c.verifySignature(keys.find((k) => k.keyId === c.keyId)), true);
  assert.deepEqual(pkg.Checkpoint.parseMany(cmd.checkpoints.join('')).map(String), cmd.checkpoints);
  assert.deepEqual(pkg.Checkpoint.parseMany(''), []);
  assert.equal(pkg.PublicKey.parse(String(keys[0])).keyId, keys[0].keyId);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(keys[0]));
  assert.throws(() => new pkg.Checkpoint('x'), TypeError);
  // The signing commands answer UNKNOWN_OP here (and there is no SigningKey).
  const key = 'sa-ed25519-key:' + '07'.repeat(32);
  assert.equal(p.apply({ op: 'checkpoint', signingKey: key, now: 0 }), '{"error":{"code":"UNKNOWN_OP","message":"unknown op `checkpoint`"}}');
  assert.equal(pkg.SigningKey, undefined);
  assert.equal(p.checkpoint, undefined);
});

test('checkpoints: every checkpoint error is a SupportAccessError with its seq, as in the vectors', () => {
  let n = 0;
  for (const v of vectors.filter((x) => /^07[1-7]-checkpoint/.test(x.name))) {
    for (const s of v.steps) {
      const cmd = s.command && JSON.parse(s.command);
      if (cmd?.op !== 'verifyCheckpoints' || !Array.isArray(cmd.checkpoints) || !Array.isArray(cmd.trustedKeys)) continue;
      const want = JSON.parse(s.expect);
      let got;
      try {
        got = { ok: pkg.verifyCheckpoints(cmd.record, cmd.checkpoints, cmd.trustedKeys) };
      } catch (e) {
        assert.ok(e instanceof SupportAccessError, String(e));
        got = { error: { code: e.code, message: e.message, ...(e.seq === undefined ? {} : { seq: e.seq }) } };
      }
      if (want.error && want.error.code === 'MALFORMED_INPUT') {
        // The command names the field (`checkpoints[1]` in verifyCheckpoints …); the typed call
        // gives the core's own message for the text.
        assert.equal(got.error?.code, 'MALFORMED_INPUT', s.command);
      } else {
        assert.deepEqual(got, want, s.command);
      }
      n++;
    }
  }
  assert.ok(n >= 20, `${n} verifyCheckpoints commands`);
});

test('checkpoints abuse: wrong types and malformed texts are MALFORMED_INPUT', () => {
  const { cmd } = verifyStep('071-checkpoint-sign-verify');
  const text = cmd.checkpoints[0];
  const code = (fn) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SupportAccessError, String(e));
      return e.code;
    }
    return 'no error';
  };
  for (const bad of [text.slice(0, -1), text + '\n', text.replace('\nseq ', '\nseq 0'), '', '\u0000', undefined, null, 7, {}]) {
    assert.equal(code(() => pkg.Checkpoint.parse(bad)), 'MALFORMED_INPUT');
    assert.equal(code(() => pkg.verifyCheckpoints(cmd.record, [bad], cmd.trustedKeys)), 'MALFORMED_INPUT');
  }
  for (const bad of ['', 'sa-ed25519-key:' + '07'.repeat(32), 'sa-ed25519-pub:01' + '00'.repeat(31), undefined, 7, {}]) {
    assert.equal(code(() => pkg.PublicKey.parse(bad)), 'MALFORMED_INPUT');
    assert.equal(code(() => pkg.Checkpoint.parse(text).verifySignature(bad)), 'MALFORMED_INPUT');
  }
  for (const bad of [undefined, null, text, 7, {}]) {
    assert.equal(code(() => pkg.verifyCheckpoints(cmd.record, bad, cmd.trustedKeys)), 'MALFORMED_INPUT');
    assert.equal(code(() => pkg.verifyCheckpoints(cmd.record, cmd.checkpoints, bad)), 'MALFORMED_INPUT');
  }
  assert.equal(code(() => pkg.verifyCheckpoints(undefined, cmd.checkpoints, cmd.trustedKeys)), 'MALFORMED_INPUT');
  assert.equal(code(() => pkg.verifyCheckpoints(cmd.record, [], cmd.trustedKeys)), 'MALFORMED_INPUT');
  assert.equal(code(() => pkg.Checkpoint.parseMany(text + text.slice(0, 9))), 'MALFORMED_INPUT');
});
