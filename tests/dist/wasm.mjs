// Run in a fresh npm project that installed the `support-access-wasm` tarball: as an ES module.
// argv[2] is the version. Node must get the package's Node entry (`exports` → node → import).
import { Policy, VERSION } from 'support-access-wasm';

const expected = process.argv[2];
const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
p.addProject(owner, 'p1', '2026-11-28T12:00:00Z');
p.addCluster(owner, 'p1', 'Cluster0', undefined, '2026-11-28T12:00:00Z');
p.grant(owner, 'Cluster0', 'CLUSTER_DATABASE_LOGS', '2026-11-28T12:00:00Z');
const d = p.evaluate('Cluster0', 'DATABASE_LOGS', '2026-11-28T13:00:00Z');
// The typed hot path (epoch ms: the first call resolves the cluster, the second uses its id)
// answers exactly as the command did.
for (let i = 0; i < 2; i++) {
  const fast = p.evaluate('Cluster0', 'DATABASE_LOGS', Date.parse('2026-11-28T13:00:00Z'));
  if (JSON.stringify(fast) !== JSON.stringify(d)) throw new Error(`hot path ${JSON.stringify(fast)} != ${JSON.stringify(d)}`);
}
if (VERSION !== expected) throw new Error(`VERSION ${VERSION}, expected ${expected}`);
if (!d.allowed || d.reason !== 'GRANT_ACTIVE') throw new Error(`decision ${JSON.stringify(d)}`);
console.log(`support-access-wasm ${VERSION} (ESM), entry ${import.meta.resolve("support-access-wasm")}: ${JSON.stringify(d)}`);
if (!import.meta.resolve('support-access-wasm').endsWith('/node/index.mjs')) throw new Error('not the Node ESM entry');
