'use strict'
// FFI abuse (issue 8): wrong types, undefined/null, huge strings, odd times and threads. Every
// bad call must throw a SupportAccessError with a SPEC `.code` (never abort the process, never a
// bare TypeError), and must leave the exported record exactly as it was.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const { Policy, SupportAccessError, verifyRecord, ERROR_CODES } = require('../lib.js')
const { WRONG, checkOddTimes } = require('./abuse-values.js')

const OWNER = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] }
const T0_MS = Date.parse('2026-11-28T10:00:00Z')
const HOUR = 3600 * 1000
const NOW = T0_MS + HOUR
const MIB = 1 << 20
const INFRA = 'CLUSTER_INFRASTRUCTURE'

function setup() {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  p.addProject(OWNER, 'p1', T0_MS)
  p.addCluster(OWNER, 'p1', 'Cluster0', {}, T0_MS)
  p.grant(OWNER, 'Cluster0', INFRA, T0_MS)
  return p
}

/** `fn` throws a SupportAccessError (with one of `codes`, if given); `p`'s record is unchanged. */
function typed(p, fn, codes, label = '') {
  const before = p.exportRecord()
  let thrown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  assert.ok(thrown !== undefined, `${label}: nothing was thrown`)
  assert.ok(thrown instanceof SupportAccessError, `${label}: not a SupportAccessError: ${thrown && thrown.stack}`)
  assert.ok(ERROR_CODES.includes(thrown.code), `${label}: code ${thrown.code}`)
  assert.equal(typeof thrown.message, 'string')
  if (codes) assert.ok(codes.includes(thrown.code), `${label}: ${thrown.code} not in ${codes}: ${thrown.message}`)
  assert.equal(p.exportRecord(), before, `${label}: a failed call must leave the record unchanged`)
  return thrown
}

/** Every main method with `bad` in turn in each string position. */
function stringCalls(p, bad) {
  return [
    ['addProject', () => p.addProject(OWNER, bad, NOW)],
    ['removeProject', () => p.removeProject(OWNER, bad, NOW)],
    ['addCluster project', () => p.addCluster(OWNER, bad, 'C9', {}, NOW)],
    ['addCluster name', () => p.addCluster(OWNER, 'p1', bad, {}, NOW)],
    ['addCluster kind', () => p.addCluster(OWNER, 'p1', 'C9', { kind: bad }, NOW)],
    ['removeCluster', () => p.removeCluster(OWNER, bad, NOW)],
    ['grant cluster', () => p.grant(OWNER, bad, INFRA, NOW)],
    ['grant type', () => p.grant(OWNER, 'Cluster0', bad, NOW)],
    ['revoke', () => p.revoke(OWNER, bad, NOW)],
    ['evaluate cluster', () => p.evaluate(bad, 'DATABASE_LOGS', NOW)],
    ['evaluate resource', () => p.evaluate('Cluster0', bad, NOW)],
    ['evaluateAt', () => p.evaluateAt(bad, 'DATABASE_LOGS', NOW)],
    ['evaluateMany cluster', () => p.evaluateMany([{ cluster: bad, resource: 'DATABASE_LOGS', now: NOW }])],
    ['evaluateMany resource', () => p.evaluateMany([{ cluster: 'Cluster0', resource: bad, now: NOW }])],
    ['remaining', () => p.remaining(bad, NOW)],
    ['beginLogDownload cluster', () => p.beginLogDownload(bad, 'DATABASE_LOGS', NOW)],
    ['beginLogDownload resource', () => p.beginLogDownload('Cluster0', bad, NOW)],
    ['continueLogDownload', () => p.continueLogDownload(bad, NOW)],
    ['finishLogDownload', () => p.finishLogDownload(bad, NOW)],
    ['Policy.replay', () => Policy.replay(bad)],
    ['verifyRecord', () => verifyRecord(bad)],
    ['actor', () => p.grant(bad, 'Cluster0', INFRA, NOW)],
    ['actor id', () => p.grant({ id: bad, roles: [{ role: 'ORG_OWNER' }] }, 'Cluster0', INFRA, NOW)],
    ['actor roles', () => p.grant({ id: 'a', roles: bad }, 'Cluster0', INFRA, NOW)],
    ['setRestriction', () => p.setRestriction(OWNER, bad, NOW)],
    ['loadAtlas settings', () => p.loadAtlas(bad, [], NOW)],
    ['loadAtlas clusters', () => p.loadAtlas({}, bad, NOW)],
    ['new Policy', () => new Policy(bad)],
    ['new Policy orgId', () => new Policy({ orgId: bad })],
  ]
}

test('wrong types, null and undefined in every string/object position are typed errors', () => {
  const p = setup()
  for (const [kind, bad] of WRONG) {
    for (const [name, fn] of stringCalls(p, bad)) {
      // `kind: null/undefined` means the default kind, a Date/boolean is a fine "now", etc.:
      // only check that whatever happens is either success or a typed error.
      const before = p.exportRecord()
      try {
        fn()
      } catch (e) {
        assert.ok(e instanceof SupportAccessError, `${name} with ${kind}: ${e && e.stack}`)
        assert.ok(ERROR_CODES.includes(e.code), `${name} with ${kind}: ${e.code}`)
        assert.equal(p.exportRecord(), before, `${name} with ${kind}: record changed by a failed call`)
        continue
      }
      assert.ok(
        (name === 'addCluster kind' && (bad === null || bad === undefined)) ||
          (name === 'new Policy') ||
          (name === 'setRestriction' && typeof bad === 'boolean') ||
          name === 'loadAtlas settings' || // extra Admin API fields are ignored
          // in a batch an unknown or malformed name is a deny, as through apply
          (name === 'evaluateMany cluster' && typeof bad === 'string') ||
          // JSON semantics: a Date or a boxed string serializes to a string id
          ((name === 'actor id' || name === 'new Policy orgId') && (bad instanceof Date || bad instanceof String)),
        `${name} with ${kind}: accepted`,
      )
      // undo accepted mutations so later checks start from the same state
      if (name === 'addCluster kind') p.removeCluster(OWNER, 'C9', NOW)
    }
  }
  assert.equal(verifyRecord(p.exportRecord()), p.events().length)
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', NOW).allowed, true)
})

test('apply: non-string and hostile commands give an error result or a typed error', () => {
  const p = setup()
  const before = p.exportRecord()
  for (const [kind, bad] of WRONG) {
    let out
    try {
      out = p.apply(bad)
    } catch (e) {
      assert.ok(e instanceof SupportAccessError, `apply(${kind}): ${e && e.stack}`)
      continue
    }
    const r = JSON.parse(out)
    assert.ok(r.error, `apply(${kind}): ${out}`)
    assert.ok(ERROR_CODES.includes(r.error.code))
  }
  for (const cmd of ['\ud800', '{"op":"\udfff"}', '\0', '{"op":"evaluate","cluster":"\\u0000"}', '[]', '1e999']) {
    const r = JSON.parse(p.apply(cmd))
    assert.ok(r.error && ERROR_CODES.includes(r.error.code), cmd)
  }
  assert.equal(p.exportRecord(), before)
})

test('odd times: NaN, ±Infinity, huge, fractional, invalid Date, BigInt, Symbol are INVALID_TIMESTAMP', () => {
  checkOddTimes(Policy, setup(), typed)
})

test('huge strings (64 MiB) are typed errors, not a crash or a hang', () => {
  const p = setup()
  const huge = 'C'.repeat(64 * MIB)
  const calls = [
    () => p.addCluster(OWNER, 'p1', huge, {}, NOW),
    () => p.addProject(OWNER, huge, NOW),
    () => p.evaluate(huge, 'DATABASE_LOGS', NOW),
    () => p.evaluateAt(huge, 'DATABASE_LOGS', NOW),
    () => p.grant(OWNER, huge, INFRA, NOW),
    () => p.grant(OWNER, 'Cluster0', huge, NOW),
    () => p.evaluate('Cluster0', huge, NOW),
    () => p.evaluate('Cluster0', 'DATABASE_LOGS', huge),
    () => p.grant({ id: huge, roles: [{ role: 'ORG_OWNER' }] }, 'Cluster0', INFRA, NOW),
    () => p.continueLogDownload(huge, NOW),
    () => verifyRecord(huge),
    () => Policy.replay(huge),
    () => new Policy({ orgId: huge }),
  ]
  calls.forEach((fn, i) => typed(p, fn, null, `huge #${i}`))
  // batch mode answers for an unknown (or malformed) name with a deny, as through apply
  const [d] = p.evaluateMany([{ cluster: huge, resource: 'DATABASE_LOGS', now: NOW }])
  assert.equal(d.allowed, false)
  assert.equal(d.reason, 'CLUSTER_NOT_FOUND')
  const before = p.exportRecord()
  const cmds = [
    JSON.stringify({ op: 'addCluster', actor: OWNER, projectId: 'p1', name: huge, now: '2026-11-28T11:00:00Z' }),
    JSON.stringify({ op: 'evaluate', cluster: huge, resource: 'DATABASE_LOGS', now: '2026-11-28T11:00:00Z' }),
    huge,
    '['.repeat(64 * MIB),
  ]
  for (const cmd of cmds) {
    const r = JSON.parse(p.apply(cmd))
    assert.ok(r.error && ERROR_CODES.includes(r.error.code), JSON.stringify(r).slice(0, 200))
  }
  assert.equal(p.exportRecord(), before)
  // and the policy still works
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', NOW).allowed, true)
})

test('calls after errors and after free() stay typed', () => {
  const p = setup()
  for (let i = 0; i < 200; i++) {
    typed(p, () => p.revoke(OWNER, 'Nope', NOW), ['CLUSTER_NOT_FOUND'])
    typed(p, () => p.evaluate(null, 'DATABASE_LOGS', NOW))
  }
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', NOW).allowed, true)
  const q = setup()
  q.free()
  q.free() // freeing twice is harmless
  for (const fn of [
    () => q.evaluate('Cluster0', 'DATABASE_LOGS', NOW),
    () => q.evaluateMany([{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: NOW }]),
    () => q.evaluateAt('Cluster0', 'DATABASE_LOGS', NOW),
    () => q.grant(OWNER, 'Cluster0', INFRA, NOW),
    () => q.exportRecord(),
    () => q.apply('{"op":"evaluate"}'),
    () => q.describe(NOW),
    () => q.orgId,
    () => q.restrictEmployeeAccess,
    () => q.maxGrantDurationMs,
  ]) {
    assert.throws(fn, (e) => e instanceof SupportAccessError && e.code === 'MALFORMED_INPUT')
  }
})

// ----- concurrency -----

const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads')
const { Policy, SupportAccessError } = require(workerData.lib)
const OWNER = { id: 'o', roles: [{ role: 'ORG_OWNER' }] }
const T0 = ${T0_MS}
const p = new Policy({ orgId: 'w' + workerData.id, restrictEmployeeAccess: true })
p.addProject(OWNER, 'p1', T0)
p.addCluster(OWNER, 'p1', 'C0', {}, T0)
let ok = 0, typedErrors = 0, untyped = ''
const bads = [null, 'nope', 1, NaN, {}, [], 10n, Symbol('s'), 'x'.repeat(100000)]
for (let i = 0; i < workerData.rounds; i++) {
  const bad = bads[i % bads.length]
  for (const fn of [
    () => p.grant(OWNER, 'C0', 'CLUSTER_INFRASTRUCTURE', T0 + i),
    () => p.evaluate('C0', 'DATABASE_LOGS', T0 + i),
    () => p.evaluate(bad, 'DATABASE_LOGS', T0 + i),
    () => p.grant(OWNER, bad, 'CLUSTER_INFRASTRUCTURE', T0 + i),
    () => p.revoke(OWNER, 'C0', bad),
    () => p.revoke(OWNER, 'C0', T0 + i),
  ]) {
    try { fn(); ok++ } catch (e) {
      if (e instanceof SupportAccessError && typeof e.code === 'string') typedErrors++
      else untyped ||= String(e && e.stack)
    }
  }
}
parentPort.postMessage({ ok, typedErrors, untyped, record: p.exportRecord(), events: p.events().length })
`

test('worker_threads each hammering their own policy with good and bad calls', async () => {
  const lib = require.resolve('../lib.js')
  const rounds = 300
  const results = await Promise.all(
    Array.from(
      { length: 4 },
      (_, id) =>
        new Promise((resolve, reject) => {
          const w = new Worker(WORKER_SRC, { eval: true, workerData: { id, lib, rounds } })
          let msg
          w.on('message', (m) => (msg = m))
          w.on('error', reject)
          w.on('exit', (code) => (code === 0 ? resolve(msg) : reject(new Error(`worker ${id} exited ${code}`))))
        }),
    ),
  )
  for (const r of results) {
    assert.equal(r.untyped, '')
    assert.equal(r.ok + r.typedErrors, rounds * 6)
    assert.equal(verifyRecord(r.record), r.events)
    // 3 setup events, then one grant and one revoke per round
    assert.equal(r.events, 3 + 2 * rounds)
    assert.equal(Policy.replay(r.record).exportRecord(), r.record)
  }
})

/** `typed` without the record comparison. */
function lightTyped(_p, fn, codes) {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof SupportAccessError && codes.includes(e.code), String(e && e.stack))
    return e
  }
  assert.fail(`nothing was thrown, expected ${codes}`)
}

test('one policy used from many async tasks, mixing mutations, evaluations and bad calls', async () => {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  p.addProject(OWNER, 'p1', T0_MS)
  const TASKS = 16
  for (let k = 0; k < TASKS; k++) p.addCluster(OWNER, 'p1', `C${k}`, {}, T0_MS)
  const start = p.events().length
  let mutations = 0
  const task = async (k) => {
    const name = `C${k}`
    for (let i = 0; i < 100; i++) {
      await null
      p.grant(OWNER, name, INFRA, NOW)
      mutations++
      await new Promise((r) => setImmediate(r))
      assert.equal(p.evaluate(name, 'DATABASE_LOGS', NOW).allowed, true)
      // (comparing the whole record is O(record): do it on every 10th round only)
      const check = i % 10 === 0 ? typed : lightTyped
      check(p, () => p.grant(OWNER, name, 'BOGUS', NOW), ['INVALID_ENUM_VALUE'])
      check(p, () => p.evaluate(name, 'DATABASE_LOGS', NaN), ['INVALID_TIMESTAMP'])
      await null
      const many = p.evaluateMany(Array.from({ length: TASKS }, (_, j) => ({ cluster: `C${j}`, resource: 'INFRASTRUCTURE', now: NOW })))
      assert.equal(many.length, TASKS)
      p.revoke(OWNER, name, NOW)
      mutations++
      check(p, () => p.revoke(OWNER, name, NOW), ['NO_ACTIVE_GRANT'])
    }
  }
  await Promise.all(Array.from({ length: TASKS }, (_, k) => task(k)))
  const record = p.exportRecord()
  assert.equal(verifyRecord(record), start + mutations)
  assert.equal(mutations, TASKS * 200)
  assert.equal(Policy.replay(record).exportRecord(), record)
})
