'use strict'
// Several worker_threads, each with its own policies, working concurrently with the main
// thread: every thread loads the addon into its own Node-API environment and gets the same
// answers; ending a worker does not disturb the others.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const path = require('node:path')
const { Policy } = require('../lib.js')

const WORKERS = 4
const script = path.join(__dirname, 'worker.js')

function runWorker(id, rounds) {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: { id, rounds } })
    let result
    w.on('message', (m) => {
      result = m
    })
    w.on('error', reject)
    w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker ${id} exited with ${code}`))))
  })
}

test(`${WORKERS} workers each using their own policy concurrently`, async () => {
  const main = new Policy({ orgId: 'main', restrictEmployeeAccess: true })
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => runWorker(i, 300)))
  assert.equal(main.orgId, 'main')
  for (let i = 0; i < WORKERS; i++) {
    const r = results[i]
    assert.equal(r.id, i)
    assert.equal(r.orgId, `org-${i}`)
    assert.equal(r.errors, 0, r.firstError)
    assert.ok(r.decisions > 1000)
    // The same operations give the same record in every thread (bar the org id).
    assert.equal(r.record.replaceAll(`org-${i}`, 'org-X').length, results[0].record.replaceAll('org-0', 'org-X').length)
    assert.equal(Policy.replay(r.record).exportRecord(), r.record)
  }
})

test('a worker that ends does not disturb the main thread policy', async () => {
  const p = new Policy({ orgId: 'still-here', restrictEmployeeAccess: false })
  p.addProject({ id: 'a', roles: [{ role: 'ORG_OWNER' }] }, 'p1', 0)
  p.addCluster({ id: 'a', roles: [{ role: 'ORG_OWNER' }] }, 'p1', 'C0', {}, 0)
  await runWorker(99, 10)
  assert.equal(p.evaluate('C0', 'INFRASTRUCTURE', 1).reason, 'ORG_UNRESTRICTED')
})
