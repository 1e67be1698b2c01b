// Issue 16's benchmark workload, shared by bindings/node/bench.mjs and bindings/wasm/bench.mjs
// (each passes its own package's Policy).
// ----- issue 16's workload: 1,000 clusters, 100,000 requests with varying names, ~40 % of the
// decisions carrying an active grant, against a plain-JS Map rule measured in the same run -----
export function issue16Workload(PolicyClass, owner, t0) {
  const CL = 1000
  const REQ = 100_000
  const TYPES = ['CLUSTER_INFRASTRUCTURE', 'CLUSTER_DATABASE_LOGS', 'CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA']
  const RES = ['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA', 'DATABASE_DATA']
  const COVERS = [
    new Set(['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS']),
    new Set(['DATABASE_LOGS']),
    new Set(['INFRASTRUCTURE', 'DATABASE_LOGS', 'AUDIT_LOGS', 'SYNC_DATA']),
  ]
  const policy = new PolicyClass({ orgId: 'w16', restrictEmployeeAccess: true })
  policy.addProject(owner, 'p1', t0)
  const rule = new Map() // the plain-JS rule's state: name -> {type, exp, text}
  for (let i = 0; i < CL; i++) {
    const name = `cluster-${i}`
    policy.addCluster(owner, 'p1', name, { appServicesSyncEnabled: true }, t0)
    if (i % 5 < 2) {
      // 40 % of clusters, each grant its own expiration (the text cache must not be one entry)
      const exp = t0 + 3_600_000 + i * 1000
      policy.grant(owner, name, TYPES[i % 3], t0, exp)
      rule.set(name, { type: i % 3, grantType: TYPES[i % 3], exp, text: new Date(exp).toISOString() })
    } else {
      rule.set(name, null)
    }
  }
  let seed = 16
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
  const now = t0 + 1_800_000
  const requests = Array.from({ length: REQ }, () => ({
    cluster: `cluster-${Math.floor(rand() * CL)}`,
    resource: RES[Math.floor(rand() * 5)],
    now,
  }))
  // The same answers, by hand: SPEC §4 rules 2-7 over a Map (unknown names aside).
  function mapRule(q) {
    const g = rule.get(q.cluster)
    const grant = g === null || g === undefined ? null : g
    let allowed = false
    let reason
    if (q.resource === 'DATABASE_DATA') reason = 'DATABASE_DATA_NEVER_ACCESSIBLE'
    else if (q.resource === 'SYNC_DATA') {
      allowed = grant !== null && grant.type === 2
      reason = allowed ? 'GRANT_ACTIVE' : 'SYNC_DATA_REQUIRES_GRANT'
    } else if (grant === null) reason = 'NO_GRANT'
    else if (COVERS[grant.type].has(q.resource)) {
      allowed = true
      reason = 'GRANT_ACTIVE'
    } else reason = 'NOT_COVERED_BY_GRANT'
    if (grant === null) return { allowed, reason, grantType: null, expirationTime: null, remainingMs: null }
    return { allowed, reason, grantType: grant.grantType, expirationTime: grant.text, remainingMs: grant.exp - q.now }
  }
  // Same answers first (a benchmark of wrong answers is worth nothing).
  const got = policy.evaluateMany(requests.slice(0, 2000))
  for (let i = 0; i < 2000; i++) {
    const a = JSON.stringify(got[i])
    const b = JSON.stringify(mapRule(requests[i]))
    if (a !== b) throw new Error(`workload: request ${i}: ${a} != ${b}`)
  }
  const withGrant = got.filter((d) => d.grantType !== null).length / got.length
  return { policy, requests, mapRule, withGrant }
}


/** Times the workload: the Map rule (per request, and into one array like a batch) against
 * `Policy#evaluate` per call, `evaluateMany` over all 100,000 requests and in batches of 1,000,
 * interleaved round by round (so a noisy moment hits every figure alike), best of `rounds`
 * after one warm-up round; CPU time of the process. Prints one line per figure, with its ratio
 * to the Map rule. */
export function timeIssue16Workload(w, rounds = 15) {
  const reqs = w.requests
  const batches = Array.from({ length: reqs.length / 1000 }, (_, i) => reqs.slice(i * 1000, (i + 1) * 1000))
  let sink = 0
  const figures = [
    ['plain-JS Map rule, per request (baseline)', () => { for (let i = 0; i < reqs.length; i++) sink += w.mapRule(reqs[i]).allowed ? 1 : 0 }],
    ['plain-JS Map rule, into one array (a batch)', () => { sink += reqs.map(w.mapRule).length }],
    ['Policy#evaluate, per call', () => { for (let i = 0; i < reqs.length; i++) { const q = reqs[i]; sink += w.policy.evaluate(q.cluster, q.resource, q.now).allowed ? 1 : 0 } }],
    ['Policy#evaluateMany(100,000), per decision', () => { sink += w.policy.evaluateMany(reqs).length }],
    ['Policy#evaluateMany, batches of 1,000, per decision', () => { for (const b of batches) sink += w.policy.evaluateMany(b).length }],
  ]
  const best = figures.map(() => Infinity)
  for (let round = 0; round <= rounds; round++) {
    figures.forEach(([, f], i) => {
      const cpu0 = process.cpuUsage()
      f()
      const used = process.cpuUsage(cpu0)
      if (round > 0) best[i] = Math.min(best[i], ((used.user + used.system) * 1000) / reqs.length)
    })
  }
  console.log(`issue 16 workload: 1,000 clusters, ${reqs.length.toLocaleString('en')} requests, ${(w.withGrant * 100).toFixed(0)} % with an active grant; best of ${rounds} interleaved rounds, CPU time`)
  figures.forEach(([label], i) => {
    console.log(`  ${label.padEnd(54)} ${best[i].toFixed(0).padStart(5)} ns  ${(best[i] / best[0]).toFixed(2)}x`)
  })
  if (sink === 42) console.log('')
  return best
}
