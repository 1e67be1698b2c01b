'use strict'
// One worker of workers.test.js: builds its own policy and hammers it.
const { parentPort, workerData } = require('node:worker_threads')
const { Policy, SupportAccessError } = require('../lib.js')

const { id, rounds } = workerData
const OWNER = { id: `owner-${id}`, roles: [{ role: 'ORG_OWNER' }] }
const T0 = Date.parse('2026-11-28T10:00:00Z')
const HOUR = 3600 * 1000
let errors = 0
let firstError = ''
let decisions = 0
const fail = (msg) => {
  errors++
  firstError ||= msg
}

const p = new Policy({ orgId: `org-${id}`, restrictEmployeeAccess: true, maxGrantDurationMs: null })
p.addProject(OWNER, 'p1', T0)
for (let c = 0; c < 4; c++) p.addCluster(OWNER, 'p1', `C${c}`, {}, T0)
for (let i = 0; i < rounds; i++) {
  const now = T0 + i * HOUR
  const cluster = `C${i % 4}`
  p.grant(OWNER, cluster, i % 2 ? 'CLUSTER_DATABASE_LOGS' : 'CLUSTER_INFRASTRUCTURE', now, now + HOUR)
  const d = p.evaluate(cluster, 'DATABASE_LOGS', now + 1)
  decisions++
  if (!d.allowed || d.remainingMs !== HOUR - 1) fail(`round ${i}: ${JSON.stringify(d)}`)
  const audit = p.evaluate(cluster, 'AUDIT_LOGS', now + 1)
  decisions++
  if (audit.allowed !== (i % 2 === 0)) fail(`round ${i} audit: ${JSON.stringify(audit)}`)
  const many = p.evaluateMany([0, 1, 2, 3].map((c) => ({ cluster: `C${c}`, resource: 'INFRASTRUCTURE', now: now + 1 })))
  decisions += many.length
  if (many.filter((x) => x.allowed).length !== (i % 2 === 0 ? 1 : 0)) fail(`round ${i} batch`)
  try {
    p.revoke(OWNER, 'C0', now - 1) // clock went backwards
    fail(`round ${i}: no error`)
  } catch (e) {
    if (!(e instanceof SupportAccessError) || e.code !== 'CLOCK_WENT_BACKWARDS') fail(`round ${i}: ${e}`)
  }
}
parentPort.postMessage({ id, orgId: p.orgId, errors, firstError, decisions, record: p.exportRecord() })
