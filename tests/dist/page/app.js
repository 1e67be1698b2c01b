// Bundled with esbuild (`esbuild app.js --bundle --format=esm`): resolves `support-access-wasm`
// through its `exports` map as a bundler does, and runs in Chromium.
import { Policy, VERSION } from 'support-access-wasm';

const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
try {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true });
  p.addProject(owner, 'p1');
  p.addCluster(owner, 'p1', 'Cluster0');
  p.grant(owner, 'Cluster0', 'CLUSTER_DATABASE_LOGS');
  const d = p.evaluate('Cluster0', 'DATABASE_LOGS');
  window.__result = { ok: true, version: VERSION, allowed: d.allowed, reason: d.reason };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack ? e.stack : e) };
}
