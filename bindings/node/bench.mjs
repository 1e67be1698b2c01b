// Benchmark: nanoseconds per `evaluate` (typed API and the raw native call underneath), per
// decision in `evaluateMany`, and per `apply` evaluate (JSON), on a policy of 1,000 clusters.
// Run: node bench.mjs  (after `npx napi build --platform --release`)
import { createRequire } from 'node:module'
import os from 'node:os'
import { Policy, coreVersion } from './lib.mjs'
import { issue16Workload, timeIssue16Workload } from './workload.mjs'

const require = createRequire(import.meta.url)
const native = require('./index.js')

const OWNER = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] }
const T0 = Date.parse('2026-11-28T10:00:00Z')
const CLUSTERS = 1000
const GRANT_TYPES = ['CLUSTER_INFRASTRUCTURE', 'CLUSTER_DATABASE_LOGS', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA']
const RESOURCES = ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA', 'DATABASE_DATA']

const p = new Policy({ orgId: 'bench', restrictEmployeeAccess: true })
p.addProject(OWNER, 'p1', T0)
for (let i = 0; i < CLUSTERS; i++) {
  p.addCluster(OWNER, 'p1', `Cluster${i}`, { appServicesSyncEnabled: true }, T0)
  if (i % 2 === 0) p.grant(OWNER, `Cluster${i}`, GRANT_TYPES[i % 3], T0)
}
const names = Array.from({ length: CLUSTERS }, (_, i) => `Cluster${i}`)
const now = T0 + 3600 * 1000

/** Best of 6 timed rounds (after one warm-up round) of `fn(iterations)`, in ns per iteration
 * divided by `per` (the decisions one iteration makes). Reports the process's CPU time (user +
 * system, which a busy shared machine inflates far less than wall time) and the wall time. */
function measure(label, iterations, fn, per = 1) {
  let bestCpu = Infinity
  let bestWall = Infinity
  for (let round = 0; round < 7; round++) {
    const cpu0 = process.cpuUsage()
    const start = process.hrtime.bigint()
    fn(iterations)
    const wall = Number(process.hrtime.bigint() - start) / iterations / per
    const used = process.cpuUsage(cpu0)
    const cpu = ((used.user + used.system) * 1000) / iterations / per
    if (round > 0) {
      // round 0 warms up the JIT
      bestCpu = Math.min(bestCpu, cpu)
      bestWall = Math.min(bestWall, wall)
    }
  }
  console.log(`${label.padEnd(56)} ${bestCpu.toFixed(0).padStart(6)} ns cpu ${bestWall.toFixed(0).padStart(6)} ns wall`)
  return bestCpu
}

let sink = 0
const N = 1_000_000
console.log(`support-access ${coreVersion}, node ${process.version}, ${os.cpus().length} cpu(s) ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg()[0].toFixed(2)}`)
console.log(`policy: ${CLUSTERS} clusters, half with an active grant; best of 6 rounds`)

measure('evaluate(name, resource, epoch ms) -> Decision', N, (n) => {
  for (let i = 0; i < n; i++) sink += p.evaluate(names[i % CLUSTERS], RESOURCES[i % 5], now).remainingMs ?? 0
})
measure('evaluate, same question repeated', N, (n) => {
  for (let i = 0; i < n; i++) sink += p.evaluate('Cluster0', 'DATABASE_LOGS', now).remainingMs ?? 0
})
measure('evaluate with a Date', N / 2, (n) => {
  const d = new Date(now)
  for (let i = 0; i < n; i++) sink += p.evaluate(names[i % CLUSTERS], 'INFRASTRUCTURE', d).remainingMs ?? 0
})
measure('evaluate with an RFC 3339 string', N / 4, (n) => {
  for (let i = 0; i < n; i++) sink += p.evaluate(names[i % CLUSTERS], 'INFRASTRUCTURE', '2026-11-28T11:00:00Z').remainingMs ?? 0
})
const slot = (() => {
  // the raw native call under the typed API (internal; packed result)
  const q = new native.NativePolicy('{"orgId":"raw","restrictEmployeeAccess":true}')
  for (const c of [
    { op: 'addProject', actor: OWNER, projectId: 'p1', now: T0 },
    { op: 'addCluster', actor: OWNER, projectId: 'p1', name: 'Cluster0', now: T0 },
    { op: 'grant', actor: OWNER, cluster: 'Cluster0', grantType: 'CLUSTER_DATABASE_LOGS', now: T0 },
  ]) q.apply(JSON.stringify(c))
  globalThis.keep = q
  return q.slot
})()
measure('  raw native evaluateSlot by name (no object built)', N, (n) => {
  for (let i = 0; i < n; i++) sink += native.evaluateSlot(slot, 'Cluster0', 1, now)
})
for (const batch of [10, 100, 1000]) {
  const requests = Array.from({ length: batch }, (_, i) => ({ cluster: names[(i * 7) % CLUSTERS], resource: RESOURCES[i % 5], now }))
  measure(
    `evaluateMany, batch of ${batch}: per decision`,
    Math.max(1, Math.floor(N / 4 / batch)),
    (n) => {
      for (let i = 0; i < n; i++) sink += p.evaluateMany(requests).length
    },
    batch,
  )
}
const cmd = JSON.stringify({ op: 'evaluate', cluster: 'Cluster0', resource: 'DATABASE_LOGS', now })
measure('apply(\'{"op":"evaluate",...}\') (JSON in and out)', N / 10, (n) => {
  for (let i = 0; i < n; i++) sink += p.apply(cmd).length
})

timeIssue16Workload(issue16Workload(Policy, OWNER, T0))
{
  // The floor of a call: `evaluateIo` by id, no argument and no result crossing as JS values
  // (this array replaces the wrapper's own for the rest of this process: so it runs last).
  const io = new Float64Array(8)
  const generation = native.generationSlot(slot)
  const id = native.clusterIdSlot(slot, 'Cluster0')
  native.bindIo(io)
  measure('  raw native evaluateIo by id (no object built)', N, (n) => {
    for (let i = 0; i < n; i++) {
      io[0] = slot
      io[1] = generation
      io[2] = id
      io[3] = 1
      io[4] = now
      native.evaluateIo()
      sink += io[5]
    }
  })
}
if (sink === 42) console.log('')
