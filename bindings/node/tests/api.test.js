'use strict'
// The typed API on every SPEC rule and every error code. Each error case also checks that the
// failed call left the policy (its record) exactly as it was.
const test = require('node:test')
const assert = require('node:assert/strict')
const {
  Policy,
  SupportAccessError,
  verifyRecord,
  ERROR_CODES,
  REASONS,
  GRANT_TYPES,
  RESOURCES,
  CLUSTER_KINDS,
} = require('../lib.js')

const OWNER = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] }
const P1_OWNER = { id: 'paula', roles: [{ role: 'PROJECT_OWNER', projectId: 'p1' }] }
const P1_MANAGER = { id: 'bob', roles: [{ role: 'PROJECT_SUPPORT_ACCESS_MANAGER', projectId: 'p1' }] }
const P2_MANAGER = { id: 'carol', roles: [{ role: 'PROJECT_SUPPORT_ACCESS_MANAGER', projectId: 'p2' }] }
const P1_READER = { id: 'dave', roles: [{ role: 'PROJECT_READ_ONLY', projectId: 'p1' }] }

const T0 = '2026-11-28T10:00:00Z'
const T0_MS = Date.parse(T0)
const HOUR = 3600 * 1000
const DAY = 24 * HOUR
const at = (ms) => new Date(ms).toISOString()

/** A restricted org with project p1 holding Cluster0 (sync enabled), Flex0 and Sls0, and p2. */
function setup(options = {}) {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true, ...options })
  p.addProject(OWNER, 'p1', T0)
  p.addProject(OWNER, 'p2', T0)
  p.addCluster(OWNER, 'p1', 'Cluster0', { appServicesSyncEnabled: true }, T0)
  p.addCluster(OWNER, 'p1', 'Plain0', {}, T0)
  p.addCluster(OWNER, 'p1', 'Flex0', { kind: 'FLEX' }, T0)
  p.addCluster(OWNER, 'p1', 'Sls0', { kind: 'SERVERLESS' }, T0)
  return p
}

/** Asserts `fn` throws a SupportAccessError with `code` and leaves `p`'s record unchanged. */
function throwsCode(p, code, fn) {
  const before = p ? p.exportRecord() : null
  let thrown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  assert.ok(thrown, `expected ${code}, nothing was thrown`)
  assert.ok(thrown instanceof SupportAccessError, `not a SupportAccessError: ${thrown}`)
  assert.ok(thrown instanceof Error)
  assert.equal(thrown.name, 'SupportAccessError')
  assert.equal(thrown.code, code, thrown.message)
  assert.ok(ERROR_CODES.includes(thrown.code))
  assert.equal(typeof thrown.message, 'string')
  assert.ok(thrown.message.length > 0)
  if (p) assert.equal(p.exportRecord(), before, 'a failed call must leave the record unchanged')
  return thrown
}

test('constants list the SPEC strings', () => {
  assert.equal(ERROR_CODES.length, 24)
  assert.deepEqual([...GRANT_TYPES], [
    'CLUSTER_INFRASTRUCTURE',
    'CLUSTER_DATABASE_LOGS',
    'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA',
  ])
  assert.deepEqual([...RESOURCES], ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA', 'DATABASE_DATA'])
  assert.deepEqual([...CLUSTER_KINDS], ['DEDICATED', 'FLEX', 'SERVERLESS'])
  assert.equal(REASONS.length, 9)
})

test('policy options: defaults, getters, POLICY_CREATED first', () => {
  const p = new Policy({ orgId: 'org-1' })
  assert.equal(p.orgId, 'org-1')
  assert.equal(p.restrictEmployeeAccess, false)
  assert.equal(p.maxGrantDurationMs, DAY)
  const [first] = p.events()
  assert.equal(first.seq, 1)
  assert.equal(first.type, 'POLICY_CREATED')
  assert.equal(first.prev, '0'.repeat(64))
  assert.equal(new Policy({ orgId: 'o', maxGrantDurationMs: null }).maxGrantDurationMs, null)
  throwsCode(null, 'MALFORMED_INPUT', () => new Policy({ orgId: 'o', extra: 1 }))
  throwsCode(null, 'MALFORMED_INPUT', () => new Policy({ orgId: '' }))
  throwsCode(null, 'MALFORMED_INPUT', () => new Policy({ orgId: 'o', maxGrantDurationMs: 0 }))
  throwsCode(null, 'MALFORMED_INPUT', () => new Policy({ orgId: 'o', maxGrantDurationMs: NaN }))
  // Values JSON would write as null must not lift the limit.
  for (const v of [Infinity, -Infinity, new Date(NaN), new Date(0), { toJSON: () => null }, '3600000', 3600000n]) {
    throwsCode(null, 'MALFORMED_INPUT', () => new Policy({ orgId: 'o', maxGrantDurationMs: v }))
  }
  throwsCode(null, 'MALFORMED_INPUT', () => new Policy())
})

test('policy options: now is the creation time (POLICY_CREATED at), the clock floor, kept by replay', () => {
  for (const now of [new Date(T0_MS), T0, T0_MS]) {
    const p = new Policy({ orgId: 'org-1', now })
    assert.equal(p.events()[0].at, '2026-11-28T10:00:00.000Z')
    throwsCode(p, 'CLOCK_WENT_BACKWARDS', () => p.addProject(OWNER, 'p1', T0_MS - 1))
    p.addProject(OWNER, 'p1', T0)
    assert.equal(Policy.replay(p.exportRecord()).exportRecord(), p.exportRecord())
    // The typed constructor and the options JSON agree byte for byte.
    const q = new Policy({ orgId: 'org-1', now: T0 })
    assert.equal(p.exportRecord().split('\n')[0], q.exportRecord().split('\n')[0])
  }
  // Omitted or null, it is not Date.now(): the genesis stays at the epoch.
  for (const options of [{ orgId: 'o' }, { orgId: 'o', now: undefined }, { orgId: 'o', now: null }]) {
    assert.equal(new Policy(options).events()[0].at, '1970-01-01T00:00:00.000Z')
  }
  // Bad times are INVALID_TIMESTAMP, never read as "absent" (as JSON would write NaN or an invalid Date).
  for (const bad of ['later', -1, 1.5, NaN, Infinity, new Date(NaN), true, {}, 10n]) {
    throwsCode(null, 'INVALID_TIMESTAMP', () => new Policy({ orgId: 'o', now: bad }))
  }
})

test('rule 1: unknown cluster is CLUSTER_NOT_FOUND (error), or a deny in batch mode', () => {
  const p = setup()
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.evaluate('Nope', 'INFRASTRUCTURE', T0))
  throwsCode(p, 'INVALID_CLUSTER_NAME', () => p.evaluate('no_such', 'INFRASTRUCTURE', T0))
  throwsCode(p, 'INVALID_CLUSTER_NAME', () => p.evaluate('x'.repeat(65), 'INFRASTRUCTURE', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.evaluate(42, 'INFRASTRUCTURE', T0))
  const [d] = p.evaluateMany([{ cluster: 'Nope', resource: 'INFRASTRUCTURE', now: T0 }])
  assert.deepEqual(d, { allowed: false, reason: 'CLUSTER_NOT_FOUND', grantType: null, expirationTime: null, remainingMs: null })
})

test('rule 2: DATABASE_DATA is never accessible, whatever the grant', () => {
  const p = setup({ restrictEmployeeAccess: false })
  assert.equal(p.evaluate('Cluster0', 'DATABASE_DATA', T0).reason, 'DATABASE_DATA_NEVER_ACCESSIBLE')
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', T0)
  const d = p.evaluate('Cluster0', 'DATABASE_DATA', T0)
  assert.equal(d.allowed, false)
  assert.equal(d.reason, 'DATABASE_DATA_NEVER_ACCESSIBLE')
  assert.equal(d.grantType, 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA')
})

test('rule 3: SYNC_DATA needs an active sync-data grant, even when unrestricted', () => {
  const p = setup({ restrictEmployeeAccess: false })
  assert.equal(p.evaluate('Cluster0', 'SYNC_DATA', T0).reason, 'SYNC_DATA_REQUIRES_GRANT')
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  assert.equal(p.evaluate('Cluster0', 'SYNC_DATA', T0).reason, 'SYNC_DATA_REQUIRES_GRANT')
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', T0)
  const d = p.evaluate('Cluster0', 'SYNC_DATA', T0)
  assert.equal(d.allowed, true)
  assert.equal(d.reason, 'GRANT_ACTIVE')
})

test('rule 4: an unrestricted org allows infrastructure and logs', () => {
  const p = setup({ restrictEmployeeAccess: false })
  for (const r of ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS']) {
    assert.deepEqual(p.evaluate('Plain0', r, T0), {
      allowed: true,
      reason: 'ORG_UNRESTRICTED',
      grantType: null,
      expirationTime: null,
      remainingMs: null,
    })
  }
})

test('rules 5 and 6: grant coverage', () => {
  const p = setup()
  const coverage = {
    CLUSTER_INFRASTRUCTURE: ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS'],
    CLUSTER_DATABASE_LOGS: ['DATABASE_LOGS'],
    CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA: ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA'],
  }
  for (const [g, covered] of Object.entries(coverage)) {
    p.grant(OWNER, 'Cluster0', g, T0)
    for (const r of ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA']) {
      const d = p.evaluate('Cluster0', r, T0_MS + HOUR)
      assert.equal(d.allowed, covered.includes(r), `${g} / ${r}`)
      const expected = covered.includes(r) ? 'GRANT_ACTIVE' : r === 'SYNC_DATA' ? 'SYNC_DATA_REQUIRES_GRANT' : 'NOT_COVERED_BY_GRANT'
      assert.equal(d.reason, expected, `${g} / ${r}`)
      assert.equal(d.grantType, g)
      assert.equal(d.expirationTime, at(T0_MS + DAY))
      assert.equal(d.remainingMs, DAY - HOUR)
    }
  }
})

test('rule 7: NO_GRANT, GRANT_EXPIRED, GRANT_REVOKED', () => {
  const p = setup()
  assert.equal(p.evaluate('Plain0', 'INFRASTRUCTURE', T0).reason, 'NO_GRANT')
  p.grant(P1_MANAGER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0, T0_MS + HOUR)
  assert.equal(p.evaluate('Plain0', 'INFRASTRUCTURE', T0_MS + HOUR - 1).reason, 'GRANT_ACTIVE')
  // Strict: at expirationTime the grant is over, without any sweep.
  const d = p.evaluate('Plain0', 'INFRASTRUCTURE', T0_MS + HOUR)
  assert.deepEqual(d, { allowed: false, reason: 'GRANT_EXPIRED', grantType: null, expirationTime: null, remainingMs: null })
  p.grant(P1_MANAGER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0_MS + 2 * HOUR)
  p.revoke(P1_MANAGER, 'Plain0', T0_MS + 3 * HOUR)
  assert.equal(p.evaluate('Plain0', 'INFRASTRUCTURE', T0_MS + 3 * HOUR).reason, 'GRANT_REVOKED')
})

test('typed evaluate and evaluateMany agree with apply on a full grid', () => {
  for (const restricted of [true, false]) {
    for (const g of [null, ...GRANT_TYPES]) {
      const p = setup({ restrictEmployeeAccess: restricted })
      if (g) p.grant(OWNER, 'Cluster0', g, T0)
      const requests = []
      for (const cluster of ['Cluster0', 'Plain0', 'Nope']) {
        for (const resource of RESOURCES) {
          for (const now of [T0_MS, T0_MS + HOUR, T0_MS + DAY, T0_MS + DAY + 1]) {
            requests.push({ cluster, resource, now })
            const viaApply = JSON.parse(p.apply({ op: 'evaluate', cluster, resource, now }))
            if (viaApply.error) {
              throwsCode(p, viaApply.error.code, () => p.evaluate(cluster, resource, now))
            } else {
              assert.deepEqual(p.evaluate(cluster, resource, now), viaApply.ok)
            }
          }
        }
      }
      const many = JSON.parse(p.apply({ op: 'evaluateMany', requests }))
      assert.deepEqual(p.evaluateMany(requests), many.ok)
    }
  }
})

test('evaluateMany: cached cluster ids never outlive a change to the clusters', () => {
  const p = setup()
  const t = T0_MS + HOUR
  const ask = (...names) => p.evaluateMany(names.map((cluster) => ({ cluster, resource: 'INFRASTRUCTURE', now: t })))
  const viaApply = (...names) =>
    JSON.parse(p.apply({ op: 'evaluateMany', requests: names.map((cluster) => ({ cluster, resource: 'INFRASTRUCTURE', now: t })) })).ok
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  // Twice each: the second time every id (and every "unknown") comes from the cache.
  for (let i = 0; i < 2; i++) assert.deepEqual(ask('Cluster0', 'Later', 'Plain0'), viaApply('Cluster0', 'Later', 'Plain0'))
  assert.equal(ask('Later')[0].reason, 'CLUSTER_NOT_FOUND')
  // An unknown name that becomes a cluster; a cluster removed and added again (a new id).
  p.addCluster(OWNER, 'p1', 'Later', {}, T0)
  p.grant(OWNER, 'Later', 'CLUSTER_INFRASTRUCTURE', T0)
  assert.equal(ask('Later')[0].reason, 'GRANT_ACTIVE')
  p.removeCluster(OWNER, 'Cluster0', T0)
  assert.equal(ask('Cluster0')[0].reason, 'CLUSTER_NOT_FOUND')
  p.addCluster(OWNER, 'p1', 'Cluster0', {}, T0)
  assert.equal(ask('Cluster0')[0].reason, 'NO_GRANT')
  assert.deepEqual(ask('Cluster0', 'Later', 'Plain0'), viaApply('Cluster0', 'Later', 'Plain0'))
  // `apply` may replace the whole policy: replay a record where the same names have other ids.
  const q = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  q.addProject(OWNER, 'p1', T0)
  for (const name of ['Plain0', 'Later', 'Cluster0']) q.addCluster(OWNER, 'p1', name, {}, T0)
  q.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0)
  ask('Cluster0', 'Later', 'Plain0')
  assert.ok(p.apply({ op: 'replay', record: q.exportRecord() }).startsWith('{"ok"'))
  assert.deepEqual(ask('Cluster0', 'Later', 'Plain0'), q.evaluateMany(['Cluster0', 'Later', 'Plain0'].map((cluster) => ({ cluster, resource: 'INFRASTRUCTURE', now: t }))))
  assert.equal(ask('Plain0')[0].reason, 'GRANT_ACTIVE')
  // A freed policy refuses, cache or not.
  p.free()
  throwsCode(null, 'MALFORMED_INPUT', () => ask('Plain0'))
})

test('evaluate: a cluster id resolved once is used only while the clusters stay as they were', () => {
  const p = setup()
  const t = T0_MS + HOUR
  const one = (cluster) => p.evaluate(cluster, 'INFRASTRUCTURE', t)
  const viaApply = (cluster) => {
    const r = JSON.parse(p.apply({ op: 'evaluate', cluster, resource: 'INFRASTRUCTURE', now: t }))
    return r.ok ?? r.error.code
  }
  const same = (cluster) => {
    let got
    try {
      got = one(cluster)
    } catch (e) {
      got = e.code
    }
    assert.deepEqual(got, viaApply(cluster), cluster)
    return got
  }
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  // Twice each: the second time the id comes from the wrapper's cache.
  for (let i = 0; i < 2; i++) for (const name of ['Cluster0', 'Plain0', 'Later', 'bad name']) same(name)
  p.addCluster(OWNER, 'p1', 'Later', {}, T0)
  p.grant(OWNER, 'Later', 'CLUSTER_INFRASTRUCTURE', T0)
  assert.equal(same('Later').reason, 'GRANT_ACTIVE')
  p.removeCluster(OWNER, 'Cluster0', T0)
  assert.equal(same('Cluster0'), 'CLUSTER_NOT_FOUND')
  p.addCluster(OWNER, 'p1', 'Cluster0', {}, T0)
  assert.equal(same('Cluster0').reason, 'NO_GRANT')
  // Grants and revokes change no id: the cached one answers with the new grant.
  p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0)
  assert.equal(same('Cluster0').reason, 'NOT_COVERED_BY_GRANT')
  p.revoke(OWNER, 'Cluster0', T0)
  assert.equal(same('Cluster0').reason, 'GRANT_REVOKED')
  // A replay through apply puts other ids behind the same names.
  const q = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  q.addProject(OWNER, 'p1', T0)
  for (const name of ['Plain0', 'Later', 'Cluster0']) q.addCluster(OWNER, 'p1', name, {}, T0)
  q.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0)
  assert.ok(p.apply({ op: 'replay', record: q.exportRecord() }).startsWith('{"ok"'))
  for (const name of ['Cluster0', 'Later', 'Plain0']) assert.deepEqual(same(name), q.evaluate(name, 'INFRASTRUCTURE', t))
  // Bad times and resources are the core's errors on the cached path too.
  throwsCode(null, 'INVALID_TIMESTAMP', () => p.evaluate('Plain0', 'INFRASTRUCTURE', NaN))
  throwsCode(null, 'INVALID_TIMESTAMP', () => p.evaluate('Plain0', 'INFRASTRUCTURE', 1.5))
  throwsCode(null, 'INVALID_ENUM_VALUE', () => p.evaluate('Plain0', 'NOPE', t))
  p.free()
  throwsCode(null, 'MALFORMED_INPUT', () => one('Plain0'))
})

test('times: Date, RFC 3339 (with offsets), epoch ms are the same instant; now defaults to Date.now()', () => {
  const p = setup()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  const a = p.evaluate('Cluster0', 'INFRASTRUCTURE', new Date(T0_MS + HOUR))
  const b = p.evaluate('Cluster0', 'INFRASTRUCTURE', '2026-11-28T12:00:00+01:00')
  const c = p.evaluate('Cluster0', 'INFRASTRUCTURE', T0_MS + HOUR)
  assert.deepEqual(a, c)
  assert.deepEqual(b, c)
  assert.equal(c.remainingMs, DAY - HOUR)

  const q = new Policy({ orgId: 'o', restrictEmployeeAccess: true })
  q.addProject(OWNER, 'p1')
  q.addCluster(OWNER, 'p1', 'C0')
  const before = Date.now()
  const e = q.grant(OWNER, 'C0', 'CLUSTER_DATABASE_LOGS')
  const after = Date.now()
  const granted = Date.parse(e.at)
  assert.ok(granted >= before && granted <= after)
  assert.equal(Date.parse(e.expirationTime), granted + DAY)
  assert.equal(q.evaluate('C0', 'DATABASE_LOGS').allowed, true)
  const left = q.remaining('C0')
  assert.ok(left > DAY - 60000 && left <= DAY)
})

test('INVALID_TIMESTAMP for bad times', () => {
  const p = setup()
  for (const bad of ['yesterday', '2026-11-28', '2026-11-28T10:00:00', '2026-11-28T10:00:00.0001Z', '1969-12-31T23:59:59Z']) {
    throwsCode(p, 'INVALID_TIMESTAMP', () => p.evaluate('Cluster0', 'INFRASTRUCTURE', bad))
    throwsCode(p, 'INVALID_TIMESTAMP', () => p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', bad))
  }
  for (const bad of [-1, 1.5, NaN, Infinity, 253402300800000, new Date('nope'), null, {}, true]) {
    throwsCode(p, 'INVALID_TIMESTAMP', () => p.evaluate('Cluster0', 'INFRASTRUCTURE', bad))
    throwsCode(p, 'INVALID_TIMESTAMP', () => p.addProject(OWNER, 'p9', bad))
  }
  throwsCode(p, 'INVALID_TIMESTAMP', () => p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0, 'soon'))
  throwsCode(p, 'INVALID_TIMESTAMP', () => p.evaluateMany([{ cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: 'x' }]))
})

test('INVALID_ENUM_VALUE for grant types, resources, roles and kinds', () => {
  const p = setup()
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.grant(OWNER, 'Cluster0', 'CLUSTER_EVERYTHING', T0))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.evaluate('Cluster0', 'BACKUPS', T0))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.evaluateMany([{ cluster: 'Cluster0', resource: 'BACKUPS', now: T0 }]))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.addProject({ id: 'x', roles: [{ role: 'ADMIN' }] }, 'p3', T0))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.addCluster(OWNER, 'p1', 'C9', { kind: 'SHARED' }, T0))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.beginLogDownload('Cluster0', 'INFRASTRUCTURE', T0))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.evaluateAt('Cluster0', 'NOPE', T0))
})

test('INVALID_CLUSTER_NAME and MALFORMED_INPUT', () => {
  const p = setup()
  for (const bad of ['', '-a', 'a_b', 'a b', 'ä', 'x'.repeat(65)]) {
    throwsCode(p, 'INVALID_CLUSTER_NAME', () => p.addCluster(OWNER, 'p1', bad, {}, T0))
    throwsCode(p, 'INVALID_CLUSTER_NAME', () => p.grant(OWNER, bad, 'CLUSTER_INFRASTRUCTURE', T0))
  }
  assert.equal(p.addCluster(OWNER, 'p1', 'a'.repeat(64), {}, T0).cluster, 'a'.repeat(64))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addProject({ id: 'x', roles: [], extra: true }, 'p3', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addProject({ roles: [] }, 'p3', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addProject({ id: 'x', roles: [{ role: 'PROJECT_OWNER' }] }, 'p3', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addProject(undefined, 'p3', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addProject(OWNER, '', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addProject(OWNER, 42, T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.evaluateMany('nope'))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addCluster(OWNER, 'p1', 'C8', 'FLEX', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.addCluster(OWNER, 'p1', 'C8', { appServicesSyncEnabled: 'yes' }, T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.setRestriction(OWNER, 'yes', T0))
  throwsCode(p, 'MALFORMED_INPUT', () => p.loadAtlas({}, 'nope'))
})

test('section 2: who may change what (FORBIDDEN)', () => {
  const p = setup()
  throwsCode(p, 'FORBIDDEN', () => p.setRestriction(P1_OWNER, false, T0))
  assert.equal(p.setRestriction(OWNER, false, T0).type, 'ORG_EMPLOYEE_ACCESS_UNRESTRICTED')
  assert.equal(p.restrictEmployeeAccess, false)
  assert.equal(p.setRestriction(OWNER, true, T0).type, 'ORG_EMPLOYEE_ACCESS_RESTRICTED')

  assert.equal(p.grant(P1_MANAGER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0).actor.id, 'bob')
  assert.equal(p.grant(P1_OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0).actor.id, 'paula')
  throwsCode(p, 'FORBIDDEN', () => p.grant(P2_MANAGER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0))
  throwsCode(p, 'FORBIDDEN', () => p.grant(P1_READER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0))
  throwsCode(p, 'FORBIDDEN', () => p.revoke(P1_READER, 'Cluster0', T0))

  assert.equal(p.addCluster(P1_OWNER, 'p1', 'Owned0', {}, T0).type, 'CLUSTER_ADDED')
  throwsCode(p, 'FORBIDDEN', () => p.addCluster(P1_MANAGER, 'p1', 'Nope0', {}, T0))
  throwsCode(p, 'FORBIDDEN', () => p.removeCluster(P1_MANAGER, 'Owned0', T0))
  throwsCode(p, 'FORBIDDEN', () => p.addProject(P1_OWNER, 'p3', T0))
  throwsCode(p, 'FORBIDDEN', () => p.removeProject(P1_MANAGER, 'p1', T0))
  assert.equal(p.removeCluster(P1_OWNER, 'Owned0', T0).type, 'CLUSTER_REMOVED')
  const multi = { id: 'erin', roles: [{ role: 'PROJECT_READ_ONLY', projectId: 'p1' }, { role: 'PROJECT_OWNER', projectId: 'p1' }] }
  assert.equal(p.revoke(multi, 'Cluster0', T0).type, 'EMPLOYEE_ACCESS_REVOKED')
})

test('order of checks: well-formed, clock, existence, role, state, bounds', () => {
  const p = setup()
  p.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0_MS + HOUR)
  // bad grant type beats the clock
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.grant(P1_READER, 'Nope', 'X', T0))
  // clock beats existence
  throwsCode(p, 'CLOCK_WENT_BACKWARDS', () => p.grant(P1_READER, 'Nope', 'CLUSTER_INFRASTRUCTURE', T0))
  // existence beats role
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.grant(P1_READER, 'Nope', 'CLUSTER_INFRASTRUCTURE', T0_MS + HOUR))
  // role beats state
  throwsCode(p, 'FORBIDDEN', () => p.grant(P1_READER, 'Flex0', 'CLUSTER_INFRASTRUCTURE', T0_MS + HOUR))
  // state beats bounds
  throwsCode(p, 'UNSUPPORTED_CLUSTER_KIND', () => p.grant(OWNER, 'Flex0', 'CLUSTER_INFRASTRUCTURE', T0_MS + HOUR, T0))
})

test('section 3: expiration bounds, maxGrantDurationMs, kinds, sync', () => {
  const p = setup()
  const now = T0_MS + HOUR
  throwsCode(p, 'EXPIRATION_NOT_IN_FUTURE', () => p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', now, now))
  throwsCode(p, 'EXPIRATION_NOT_IN_FUTURE', () => p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', now, now - 1))
  throwsCode(p, 'EXPIRATION_TOO_FAR', () => p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', now, now + DAY + 1))
  assert.equal(p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', now, now + DAY).expirationTime, at(now + DAY))
  assert.equal(p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', now, new Date(now + 1)).expirationTime, at(now + 1))
  throwsCode(p, 'UNSUPPORTED_CLUSTER_KIND', () => p.grant(OWNER, 'Flex0', 'CLUSTER_INFRASTRUCTURE', now))
  throwsCode(p, 'UNSUPPORTED_CLUSTER_KIND', () => p.grant(OWNER, 'Sls0', 'CLUSTER_DATABASE_LOGS', now))
  throwsCode(p, 'SYNC_NOT_ENABLED', () =>
    p.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', now),
  )

  const unbounded = setup({ maxGrantDurationMs: null })
  const far = '2030-01-01T00:00:00.000Z'
  assert.equal(unbounded.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0, far).expirationTime, far)
  assert.equal(unbounded.remaining('Cluster0', T0), Date.parse(far) - T0_MS)

  const short = setup({ maxGrantDurationMs: HOUR })
  throwsCode(short, 'EXPIRATION_TOO_FAR', () => short.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0))
  assert.equal(short.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0, T0_MS + HOUR).type, 'EMPLOYEE_ACCESS_GRANTED')
})

test('section 3: re-grant replaces (and says what it replaced); grants while unrestricted', () => {
  const p = setup({ restrictEmployeeAccess: false })
  const first = p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0)
  assert.equal(first.replaced, null)
  const second = p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0_MS + HOUR)
  assert.deepEqual(second.replaced, {
    grantType: 'CLUSTER_DATABASE_LOGS',
    expirationTime: at(T0_MS + DAY),
    grantedAt: at(T0_MS),
  })
  assert.equal(p.remaining('Cluster0', T0_MS + HOUR), DAY)
  p.setRestriction(OWNER, true, T0_MS + HOUR)
  assert.equal(p.evaluate('Cluster0', 'AUDIT_LOGS', T0_MS + HOUR).reason, 'GRANT_ACTIVE')
})

test('section 3: revoke and NO_ACTIVE_GRANT (never, revoked, expired)', () => {
  const p = setup()
  throwsCode(p, 'NO_ACTIVE_GRANT', () => p.revoke(OWNER, 'Plain0', T0))
  p.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0, T0_MS + HOUR)
  const e = p.revoke(OWNER, 'Plain0', T0_MS + 1)
  assert.equal(e.type, 'EMPLOYEE_ACCESS_REVOKED')
  assert.equal(e.grantType, 'CLUSTER_INFRASTRUCTURE')
  throwsCode(p, 'NO_ACTIVE_GRANT', () => p.revoke(OWNER, 'Plain0', T0_MS + 2))
  p.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0_MS + 2, T0_MS + HOUR)
  throwsCode(p, 'NO_ACTIVE_GRANT', () => p.revoke(OWNER, 'Plain0', T0_MS + HOUR))
  assert.equal(p.remaining('Plain0', T0_MS + HOUR), null)
})

test('section 3: expiry events, stamped with expirationTime, in order; failed mutations record nothing', () => {
  const p = setup()
  p.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0, T0_MS + 2 * HOUR)
  p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0, T0_MS + HOUR)
  const n = p.events().length
  // A failed mutation does not even record the sweep.
  throwsCode(p, 'DUPLICATE_PROJECT', () => p.addProject(OWNER, 'p1', T0_MS + 3 * HOUR))
  assert.equal(p.events().length, n)
  const swept = p.expireDue(T0_MS + 3 * HOUR)
  assert.deepEqual(
    swept.map((e) => [e.type, e.cluster, e.at]),
    [
      ['EMPLOYEE_ACCESS_EXPIRED', 'Cluster0', at(T0_MS + HOUR)],
      ['EMPLOYEE_ACCESS_EXPIRED', 'Plain0', at(T0_MS + 2 * HOUR)],
    ],
  )
  assert.deepEqual(p.expireDue(T0_MS + 3 * HOUR), [])
  // A successful mutation sweeps first.
  p.grant(OWNER, 'Plain0', 'CLUSTER_INFRASTRUCTURE', T0_MS + 3 * HOUR, T0_MS + 4 * HOUR)
  const e = p.addProject(OWNER, 'p5', T0_MS + 5 * HOUR)
  const events = p.events()
  assert.equal(events[events.length - 2].type, 'EMPLOYEE_ACCESS_EXPIRED')
  assert.equal(events[events.length - 2].at, at(T0_MS + 4 * HOUR))
  assert.equal(e.seq, events.length)
})

test('section 3: CLOCK_WENT_BACKWARDS for mutations; evaluation at any time is allowed', () => {
  const p = setup()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0_MS + HOUR)
  throwsCode(p, 'CLOCK_WENT_BACKWARDS', () => p.addProject(OWNER, 'p7', T0))
  throwsCode(p, 'CLOCK_WENT_BACKWARDS', () => p.expireDue(T0))
  throwsCode(p, 'CLOCK_WENT_BACKWARDS', () => p.setRestriction(OWNER, false, T0))
  // evaluate judges the current state at any time; the past as it was is evaluateAt's.
  assert.equal(p.evaluate('Cluster0', 'INFRASTRUCTURE', T0).reason, 'GRANT_ACTIVE')
  assert.equal(p.evaluate('Cluster0', 'INFRASTRUCTURE', '1970-01-01T00:00:00Z').allowed, true)
  assert.equal(p.evaluateAt('Cluster0', 'INFRASTRUCTURE', T0).reason, 'NO_GRANT')
})

test('section 3: log downloads survive a revoke; new ones are denied (ACCESS_DENIED with reason)', () => {
  const p = setup()
  throwsCode(p, 'ACCESS_DENIED', () => p.beginLogDownload('Cluster0', 'DATABASE_LOGS', T0))
  p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0, T0_MS + HOUR)
  const denied = throwsCode(p, 'ACCESS_DENIED', () => p.beginLogDownload('Cluster0', 'AUDIT_LOGS', T0))
  assert.equal(denied.reason, 'NOT_COVERED_BY_GRANT')
  const downloadId = p.beginLogDownload('Cluster0', 'DATABASE_LOGS', T0_MS + 1)
  assert.match(downloadId, /^dl-\d+$/)
  const began = p.events().at(-1)
  assert.equal(began.type, 'EMPLOYEE_DOWNLOADED_CLUSTER_LOGS')
  assert.equal(began.downloadId, downloadId)
  const dl = { downloadId }
  p.revoke(OWNER, 'Cluster0', T0_MS + 2)
  const again = throwsCode(p, 'ACCESS_DENIED', () => p.beginLogDownload('Cluster0', 'DATABASE_LOGS', T0_MS + 3))
  assert.equal(again.reason, 'GRANT_REVOKED')
  const c = p.continueLogDownload(dl.downloadId, T0_MS + 10)
  assert.equal(c.allowed, true)
  assert.equal(c.grantType, 'CLUSTER_DATABASE_LOGS')
  assert.deepEqual(c, JSON.parse(p.apply({ op: 'continueLogDownload', downloadId: dl.downloadId, now: T0_MS + 10 })).ok)
  // Still allowed after the grant would have expired.
  assert.equal(p.continueLogDownload(dl.downloadId, T0_MS + 2 * HOUR).allowed, true)
  assert.equal(p.finishLogDownload(dl.downloadId, T0_MS + 2 * HOUR).type, 'EMPLOYEE_LOG_DOWNLOAD_FINISHED')
  throwsCode(p, 'DOWNLOAD_NOT_FOUND', () => p.continueLogDownload(dl.downloadId, T0_MS + 2 * HOUR))
  throwsCode(p, 'DOWNLOAD_NOT_FOUND', () => p.finishLogDownload(dl.downloadId, T0_MS + 2 * HOUR))
  throwsCode(p, 'DOWNLOAD_NOT_FOUND', () => p.finishLogDownload('dl-999', T0_MS + 2 * HOUR))
})

test('inventory: PROJECT_NOT_FOUND, DUPLICATE_*, CLUSTER_NOT_FOUND; removing a project removes its clusters', () => {
  const p = setup()
  throwsCode(p, 'PROJECT_NOT_FOUND', () => p.addCluster(OWNER, 'p9', 'C9', {}, T0))
  throwsCode(p, 'PROJECT_NOT_FOUND', () => p.removeProject(OWNER, 'p9', T0))
  throwsCode(p, 'DUPLICATE_PROJECT', () => p.addProject(OWNER, 'p1', T0))
  throwsCode(p, 'DUPLICATE_CLUSTER', () => p.addCluster(OWNER, 'p2', 'Cluster0', {}, T0))
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.removeCluster(OWNER, 'Nope', T0))
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.grant(OWNER, 'Nope', 'CLUSTER_INFRASTRUCTURE', T0))
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.remaining('Nope', T0))
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  const e = p.removeProject(OWNER, 'p1', T0)
  assert.deepEqual(e.clustersRemoved, ['Cluster0', 'Flex0', 'Plain0', 'Sls0'])
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.evaluate('Cluster0', 'INFRASTRUCTURE', T0))
  // A cluster of the same name added again starts without a grant.
  p.addProject(OWNER, 'p1', T0)
  p.addCluster(OWNER, 'p1', 'Cluster0', {}, T0)
  assert.equal(p.evaluate('Cluster0', 'INFRASTRUCTURE', T0).reason, 'NO_GRANT')
})

test('evaluateAt answers for past times from the record alone', () => {
  const p = setup()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0_MS + HOUR, T0_MS + 3 * HOUR)
  p.revoke(OWNER, 'Cluster0', T0_MS + 2 * HOUR)
  assert.equal(p.evaluateAt('Cluster0', 'DATABASE_LOGS', T0).reason, 'NO_GRANT')
  const during = p.evaluateAt('Cluster0', 'DATABASE_LOGS', new Date(T0_MS + 90 * 60000))
  assert.equal(during.allowed, true)
  assert.equal(during.remainingMs, 90 * 60000)
  assert.equal(p.evaluateAt('Cluster0', 'DATABASE_LOGS', at(T0_MS + 2 * HOUR)).reason, 'GRANT_REVOKED')
  throwsCode(p, 'CLUSTER_NOT_FOUND', () => p.evaluateAt('Later0', 'DATABASE_LOGS', T0))
})

test('section 5: the record verifies, replays, and continues byte for byte', () => {
  const p = setup()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0, T0_MS + HOUR)
  const dl = { downloadId: p.beginLogDownload('Cluster0', 'AUDIT_LOGS', T0_MS + 1) }
  const record = p.exportRecord()
  assert.ok(record.endsWith('\n'))
  const lines = record.trimEnd().split('\n')
  assert.equal(verifyRecord(record), lines.length)
  assert.equal(Policy.verifyRecord(record), lines.length)
  assert.equal(new Policy({ orgId: 'x' }).verifyRecord(record), lines.length)
  assert.equal(JSON.parse(p.apply({ op: 'verifyRecord', record })).ok.lastHash, JSON.parse(lines.at(-1)).hash)

  const q = Policy.replay(record)
  assert.equal(q.exportRecord(), record)
  assert.equal(q.continueLogDownload(dl.downloadId, T0_MS + 2).allowed, true)
  for (const x of [p, q]) {
    x.revoke(OWNER, 'Cluster0', T0_MS + 5)
    x.expireDue(T0_MS + 2 * HOUR)
    x.addProject(OWNER, 'p3', T0_MS + 2 * HOUR)
  }
  assert.equal(q.exportRecord(), p.exportRecord())

  // apply's replay replaces the policy in place.
  const r = new Policy({ orgId: 'other' })
  const out = JSON.parse(r.apply({ op: 'replay', record }))
  assert.equal(out.ok.events, lines.length)
  assert.equal(r.exportRecord(), record)
  assert.equal(r.orgId, 'org-1')
})

test('section 5: RECORD_TAMPERED names the first bad event; replay of a bad record changes nothing', () => {
  const p = setup()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  const lines = p.exportRecord().trimEnd().split('\n')
  const edited = lines.slice()
  edited[2] = edited[2].replace('"p2"', '"p3"')
  assert.equal(throwsCode(null, 'RECORD_TAMPERED', () => verifyRecord(edited.join('\n') + '\n')).seq, 3)
  const dropped = lines.filter((_, i) => i !== 3)
  assert.equal(throwsCode(null, 'RECORD_TAMPERED', () => Policy.replay(dropped.join('\n') + '\n')).seq, 4)
  const swapped = lines.slice()
  ;[swapped[4], swapped[5]] = [swapped[5], swapped[4]]
  assert.equal(throwsCode(null, 'RECORD_TAMPERED', () => verifyRecord(swapped.join('\n') + '\n')).seq, 5)
  assert.equal(throwsCode(null, 'RECORD_TAMPERED', () => verifyRecord('')).seq, 1)
  const before = p.exportRecord()
  const res = JSON.parse(p.apply({ op: 'replay', record: edited.join('\n') + '\n' }))
  assert.equal(res.error.code, 'RECORD_TAMPERED')
  assert.equal(res.error.seq, 3)
  assert.equal(p.exportRecord(), before)
})

test('loadAtlas reads Admin API JSON; expired grants are skipped', () => {
  const p = new Policy({ orgId: 'org-1' })
  p.addProject(OWNER, 'p0', T0)
  const summary = p.loadAtlas({ restrictEmployeeAccess: true, id: 'ignored' }, [
    { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_DATABASE_LOGS', expirationTime: '2026-11-28T20:00:00Z', links: [] } },
    { name: 'B0', groupId: 'g1', clusterType: 'REPLICASET' },
    { name: 'C0', groupId: 'g2', clusterType: 'FLEX' },
    { name: 'D0', groupId: 'g2', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_INFRASTRUCTURE', expirationTime: '2026-11-28T09:00:00Z' } },
  ])
  assert.deepEqual(summary, { projects: 2, clusters: 4, grants: 1, expiredGrantsSkipped: 1 })
  assert.equal(p.restrictEmployeeAccess, true)
  const d = p.evaluate('A0', 'DATABASE_LOGS', T0)
  assert.equal(d.allowed, true)
  assert.equal(d.expirationTime, '2026-11-28T20:00:00.000Z')
  assert.equal(p.evaluate('D0', 'INFRASTRUCTURE', T0).reason, 'NO_GRANT')
  assert.equal(p.events().at(-1).type, 'ATLAS_LOADED')
  throwsCode(p, 'DUPLICATE_CLUSTER', () => p.loadAtlas({}, [{ name: 'A0', groupId: 'g1' }]))
  throwsCode(p, 'INVALID_ENUM_VALUE', () => p.loadAtlas({}, [{ name: 'Z0', groupId: 'g1', clusterType: 'WEIRD' }]))
  throwsCode(p, 'INVALID_CLUSTER_NAME', () => p.loadAtlas({}, [{ name: 'bad name', groupId: 'g1' }]))
  throwsCode(p, 'SYNC_NOT_ENABLED', () =>
    p.loadAtlas({}, [
      {
        name: 'S0',
        groupId: 'g1',
        appServicesSyncEnabled: false,
        mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA', expirationTime: '2026-11-28T20:00:00Z' },
      },
    ]),
  )
})

test('apply: JSON in, JSON out, never throws for bad commands (UNKNOWN_OP, MALFORMED_INPUT)', () => {
  const p = setup()
  const before = p.exportRecord()
  assert.equal(JSON.parse(p.apply('{"op":"frobnicate"}')).error.code, 'UNKNOWN_OP')
  assert.equal(JSON.parse(p.apply('{"op":')).error.code, 'MALFORMED_INPUT')
  assert.equal(JSON.parse(p.apply('')).error.code, 'MALFORMED_INPUT')
  assert.equal(JSON.parse(p.apply(undefined)).error.code, 'MALFORMED_INPUT')
  assert.equal(JSON.parse(p.apply({ op: 'evaluate', cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: 0 })).ok.reason, 'NO_GRANT')
  assert.equal(p.exportRecord(), before)
  const d = p.describe(T0)
  assert.equal(d.orgId, 'org-1')
  assert.deepEqual(d.projects, ['p1', 'p2'])
  assert.equal(d.clusters.length, 4)
})

test('every SPEC error code is reachable and carries its code', () => {
  // The cases above throw each of these; this guards against a code going unexercised.
  const seen = new Set([
    'FORBIDDEN', 'INVALID_ENUM_VALUE', 'INVALID_TIMESTAMP', 'INVALID_CLUSTER_NAME', 'MALFORMED_INPUT', 'UNKNOWN_OP',
    'PROJECT_NOT_FOUND', 'CLUSTER_NOT_FOUND', 'DUPLICATE_PROJECT', 'DUPLICATE_CLUSTER', 'UNSUPPORTED_CLUSTER_KIND',
    'SYNC_NOT_ENABLED', 'EXPIRATION_NOT_IN_FUTURE', 'EXPIRATION_TOO_FAR', 'NO_ACTIVE_GRANT', 'CLOCK_WENT_BACKWARDS',
    'ACCESS_DENIED', 'DOWNLOAD_NOT_FOUND', 'RECORD_TAMPERED',
    // Through apply (below): the checkpoint codes of SPEC §9.
    'RECORD_TRUNCATED', 'CHECKPOINT_MISMATCH', 'CHECKPOINTS_DISAGREE', 'BAD_SIGNATURE', 'UNTRUSTED_KEY',
  ])
  assert.deepEqual([...seen].sort(), [...ERROR_CODES].sort())
  const e = new SupportAccessError('FORBIDDEN', 'no')
  assert.ok(e instanceof Error)
  assert.equal(e.code, 'FORBIDDEN')
  assert.match(e.stack, /SupportAccessError/)
})

test('many policies in one thread are independent and are freed', () => {
  const policies = []
  for (let i = 0; i < 200; i++) {
    const p = new Policy({ orgId: `org-${i}`, restrictEmployeeAccess: i % 2 === 0 })
    p.addProject(OWNER, 'p1', T0)
    p.addCluster(OWNER, 'p1', 'C0', {}, T0)
    policies.push(p)
  }
  policies.forEach((p, i) => {
    assert.equal(p.orgId, `org-${i}`)
    assert.equal(p.evaluate('C0', 'INFRASTRUCTURE', T0).reason, i % 2 === 0 ? 'NO_GRANT' : 'ORG_UNRESTRICTED')
  })
})

test('evaluateMany takes any iterable; free() releases the policy and later calls throw', () => {
  const p = setup()
  const gen = function* () {
    yield { cluster: 'Cluster0', resource: 'INFRASTRUCTURE', now: T0 }
    yield { cluster: 'Plain0', resource: 'AUDIT_LOGS', now: T0 }
  }
  assert.deepEqual(p.evaluateMany(gen()).map((d) => d.reason), ['NO_GRANT', 'NO_GRANT'])
  p.free()
  throwsCode(null, 'MALFORMED_INPUT', () => p.evaluate('Cluster0', 'INFRASTRUCTURE', T0))
  throwsCode(null, 'MALFORMED_INPUT', () => p.exportRecord())
  p.free() // twice is fine
  // Its slot is reused by the next policy, which the freed one cannot reach.
  const q = setup()
  throwsCode(null, 'MALFORMED_INPUT', () => p.evaluate('Cluster0', 'INFRASTRUCTURE', T0))
  assert.equal(q.evaluate('Cluster0', 'INFRASTRUCTURE', T0).reason, 'NO_GRANT')
})

test('evaluateMany: odd names are unknown clusters, as through apply; non-strings are MALFORMED_INPUT', () => {
  const p = setup()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  const names = ['Cluster0', 'ä', '', 'a\nb', 'Cluster0\n', 'x'.repeat(100), '\ud800', 'Plain0', 'Cluster0']
  const requests = names.map((cluster, i) => ({ cluster, resource: RESOURCES[i % 5], now: T0_MS + i }))
  const viaApply = JSON.parse(p.apply({ op: 'evaluateMany', requests: requests.filter((r) => r.cluster !== '\ud800') })).ok
  const typed = p.evaluateMany(requests)
  assert.deepEqual(typed.filter((_, i) => names[i] !== '\ud800'), viaApply)
  assert.equal(typed[6].reason, 'CLUSTER_NOT_FOUND')
  assert.equal(typed[0].grantType, 'CLUSTER_INFRASTRUCTURE')
  assert.deepEqual(p.evaluateMany([]), [])
  throwsCode(p, 'MALFORMED_INPUT', () => p.evaluateMany([{ cluster: 5, resource: 'INFRASTRUCTURE', now: T0 }]))
  throwsCode(p, 'MALFORMED_INPUT', () => p.evaluateMany([null]))
  // A large batch (grows the reused buffers) still matches apply.
  const big = Array.from({ length: 5000 }, (_, i) => ({ cluster: i % 3 ? 'Cluster0' : 'Plain0', resource: RESOURCES[i % 5], now: T0_MS + i }))
  assert.deepEqual(p.evaluateMany(big), JSON.parse(p.apply({ op: 'evaluateMany', requests: big })).ok)
})

test('loadAtlas reads a listClusters page as its results; other page fields are MALFORMED_INPUT', () => {
  const docs = [
    { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_DATABASE_LOGS', expirationTime: '2026-11-28T20:00:00Z' } },
    { name: 'B0', groupId: 'g2', clusterType: 'SHARDED' },
  ]
  const listed = new Policy({ orgId: 'org-1' })
  const paged = new Policy({ orgId: 'org-1' })
  const page = { results: docs, totalCount: 2, links: [{ rel: 'self', href: 'https://example.invalid' }] }
  assert.deepEqual(paged.loadAtlas({}, page, T0), listed.loadAtlas({}, docs, T0))
  assert.equal(paged.exportRecord(), listed.exportRecord())
  const q = new Policy({ orgId: 'org-1' })
  assert.equal(q.apply({ op: 'loadAtlas', orgSettings: {}, clusters: page, now: T0 }), '{"ok":{"projects":2,"clusters":2,"grants":1,"expiredGrantsSkipped":0}}')
  for (const [bad, says] of [
    [{ results: docs, pageNum: 1 }, 'unexpected field `pageNum` in listClusters page'],
    [{ results: {} }, 'field `results` in listClusters page must be an array'],
    [{ totalCount: 0 }, 'missing field `results` in listClusters page'],
    ['nope', '`clusters` must be an array of cluster descriptions or a listClusters page'],
  ]) {
    const e = throwsCode(paged, 'MALFORMED_INPUT', () => paged.loadAtlas({}, bad, T0))
    assert.ok(e.message.includes(says), e.message)
  }
})

test('loadAtlas with now: stamped now, skips grants expired by now, clock checked; matches apply', () => {
  const docs = [
    { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_DATABASE_LOGS', expirationTime: '2026-11-28T20:00:00Z' } },
    { name: 'B0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_INFRASTRUCTURE', expirationTime: '2026-11-28T12:00:00Z' } },
  ]
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  const q = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  const summary = p.loadAtlas({}, docs, '2026-11-28T13:00:00Z')
  assert.deepEqual(summary, JSON.parse(q.apply({ op: 'loadAtlas', orgSettings: {}, clusters: docs, now: '2026-11-28T13:00:00Z' })).ok)
  assert.equal(summary.expiredGrantsSkipped, 1)
  assert.equal(p.exportRecord(), q.exportRecord())
  assert.equal(p.events().at(-1).at, '2026-11-28T13:00:00.000Z')
  throwsCode(p, 'CLOCK_WENT_BACKWARDS', () => p.loadAtlas({}, [{ name: 'C0', groupId: 'g1' }], T0))
  throwsCode(p, 'INVALID_TIMESTAMP', () => p.loadAtlas({}, [{ name: 'C0', groupId: 'g1' }], 'later'))
})

test('checkpoints through apply: signed, verified, and each checkpoint code carries its seq', () => {
  const hex = (from) => Buffer.from(Array.from({ length: 32 }, (_, i) => from + i)).toString('hex')
  const [keyA, keyB] = [`sa-ed25519-key:${hex(0)}`, `sa-ed25519-key:${hex(32)}`]
  const run = (p, command) => JSON.parse(p.apply(JSON.stringify(command)))
  const p = setup()
  const pubA = run(p, { op: 'publicKey', signingKey: keyA }).ok.publicKey
  const pubB = run(p, { op: 'publicKey', signingKey: keyB }).ok.publicKey
  const head = run(p, { op: 'checkpoint', signingKey: keyA, now: T0 }).ok
  assert.equal(head.seq, p.events().length)
  const record = p.exportRecord()
  const verify = (rec, checkpoints, trustedKeys) =>
    run(p, { op: 'verifyCheckpoints', record: rec, checkpoints, trustedKeys })
  assert.deepEqual(verify(record, [head.checkpoint], [pubA]).ok.verifiedUpTo, head.seq)
  const shorter = record.split('\n').slice(0, -2).join('\n') + '\n'
  const other = new Policy({ orgId: 'other' })
  const forks = [Policy.replay(record), Policy.replay(record)]
  forks.forEach((f, i) => f.addProject(OWNER, `fork-${i}`, T0))
  const [forkA, forkB] = forks.map((f) => run(f, { op: 'checkpoint', signingKey: keyA, now: T0 }).ok.checkpoint)
  const cases = [
    ['RECORD_TRUNCATED', verify(shorter, [head.checkpoint], [pubA]), head.seq],
    ['CHECKPOINT_MISMATCH', verify(record, [run(other, { op: 'checkpoint', signingKey: keyA, now: T0 }).ok.checkpoint], [pubA]), 1],
    ['BAD_SIGNATURE', verify(record, [head.checkpoint.replace(`hash ${head.hash}`, `hash ${'0'.repeat(64)}`)], [pubA]), head.seq],
    ['UNTRUSTED_KEY', verify(record, [head.checkpoint], [pubB]), head.seq],
    ['CHECKPOINTS_DISAGREE', verify(forks[0].exportRecord(), [forkA, forkB], [pubA]), head.seq + 1],
  ]
  for (const [code, result, seq] of cases) {
    assert.equal(result.error.code, code)
    assert.equal(result.error.seq, seq, code)
    assert.ok(ERROR_CODES.includes(code))
  }
})
