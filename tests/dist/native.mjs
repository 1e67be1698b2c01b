// Run in a fresh npm project that installed the `support-access` tarballs: as an ES module.
// argv[2] is the version; the addon must come from the platform package npm chose.
import { Policy, VERSION } from 'support-access';
import { createRequire } from 'node:module';

const expected = process.argv[2];
const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
p.addProject(owner, 'p1', '2026-11-28T12:00:00Z');
p.addCluster(owner, 'p1', 'Cluster0', undefined, '2026-11-28T12:00:00Z');
p.grant(owner, 'Cluster0', 'CLUSTER_DATABASE_LOGS', '2026-11-28T12:00:00Z');
const d = p.evaluate('Cluster0', 'DATABASE_LOGS', '2026-11-28T13:00:00Z');
if (VERSION !== expected) throw new Error(`VERSION ${VERSION}, expected ${expected}`);
if (!d.allowed || d.reason !== 'GRANT_ACTIVE') throw new Error(`decision ${JSON.stringify(d)}`);
const addon = createRequire(import.meta.url).resolve('support-access-linux-x64-gnu');
console.log(`support-access ${VERSION} (ESM), addon ${addon}: ${JSON.stringify(d)}`);
