// The package works from an ES module: named and default imports, same classes as CommonJS.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import sa, { Policy, SupportAccessError, verifyRecord, ERROR_CODES } from '../lib.mjs'

const require = createRequire(import.meta.url)

test('ESM named and default exports are the CommonJS ones', () => {
  const cjs = require('../lib.js')
  assert.equal(Policy, cjs.Policy)
  assert.equal(SupportAccessError, cjs.SupportAccessError)
  assert.equal(sa.Policy, Policy)
  assert.equal(ERROR_CODES.length, 24)
})

test('ESM: evaluate, errors and verify', () => {
  const p = new Policy({ orgId: 'esm', restrictEmployeeAccess: true })
  const owner = { id: 'a', roles: [{ role: 'ORG_OWNER' }] }
  p.addProject(owner, 'p1', '2026-11-28T10:00:00Z')
  p.addCluster(owner, 'p1', 'C0', {}, '2026-11-28T10:00:00Z')
  assert.equal(p.evaluate('C0', 'INFRASTRUCTURE', '2026-11-28T10:00:00Z').reason, 'NO_GRANT')
  assert.throws(() => p.evaluate('C1', 'INFRASTRUCTURE'), (e) => e instanceof SupportAccessError && e.code === 'CLUSTER_NOT_FOUND')
  assert.equal(verifyRecord(p.exportRecord()), 3)
})

test('package.json exports map both entries', async () => {
  const pkg = require('../package.json')
  assert.equal(pkg.exports['.'].require, './lib.js')
  assert.equal(pkg.exports['.'].import, './lib.mjs')
  assert.equal(pkg.exports['.'].types, './types.d.ts')
})

test('the package resolves by name through its exports map (import and require)', async () => {
  const byName = await import('support-access')
  assert.equal(byName.Policy, Policy)
  assert.equal(require('support-access').Policy, Policy)
})
