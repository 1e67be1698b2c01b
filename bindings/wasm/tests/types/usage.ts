// Type-checks the package's public surface (js/index.d.ts) as a TypeScript user sees it:
// `tsc -p bindings/wasm/tests/types` must pass, and every `@ts-expect-error` must be an error.
import {
  Policy, SupportAccessError, verifyRecord, ERROR_CODES, REASONS, GRANT_TYPES, RESOURCES, CLUSTER_KINDS, VERSION,
  type Actor, type Decision, type Event, type GrantType, type Resource, type Time, type ErrorCode, type LoadSummary,
} from '../../js/index.js';

const owner: Actor = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
const manager: Actor = { id: 'sam', roles: [{ role: 'PROJECT_SUPPORT_ACCESS_MANAGER', projectId: 'p1' }] };
const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true, maxGrantDurationMs: null });
const times: Time[] = [new Date(), '2026-11-28T10:00:00Z', Date.now()];
p.addProject(owner, 'p1', times[0]);
p.addCluster(owner, 'p1', 'Cluster0', { kind: 'DEDICATED', appServicesSyncEnabled: true });
const granted: Event = p.grant(manager, 'Cluster0', 'CLUSTER_DATABASE_LOGS', undefined, new Date(Date.now() + 3600_000));
if (granted.type === 'EMPLOYEE_ACCESS_GRANTED') {
  const g: GrantType = granted.grantType;
  const exp: string = granted.expirationTime;
  void g; void exp;
}
const d: Decision = p.evaluate('Cluster0', 'DATABASE_LOGS');
const allowed: boolean = d.allowed;
const left: number | null = p.remaining('Cluster0');
const many: Decision[] = p.evaluateMany([{ cluster: 'Cluster0', resource: 'AUDIT_LOGS' }]);
const id: string = p.beginLogDownload('Cluster0', 'DATABASE_LOGS');
p.continueLogDownload(id);
p.finishLogDownload(id);
const n: number = Policy.verifyRecord(p.exportRecord()) + verifyRecord(p.exportRecord());
const again: Policy = Policy.replay(p.exportRecord());
const summary: LoadSummary = again.loadAtlas({ restrictEmployeeAccess: true }, [{ name: 'A0', groupId: 'g1' }]);
const paged: LoadSummary = again.loadAtlas({}, { results: [{ name: 'B0', groupId: 'g1' }], totalCount: 1, links: [] });
const created = new Policy({ orgId: 'org-2', now: times[0] });
void new Policy({ orgId: 'org-3', now: times[1] }); void new Policy({ orgId: 'org-4', now: times[2] });
const json: string = p.apply('{"op":"exportRecord"}') + p.apply({ op: 'exportRecord' });
const lists: readonly string[][] = [ERROR_CODES, REASONS, GRANT_TYPES, RESOURCES, CLUSTER_KINDS].map((l) => [...l]);
const org: string = p.orgId + VERSION;
try {
  p.revoke(owner, 'Cluster0');
} catch (e) {
  if (e instanceof SupportAccessError) {
    const code: ErrorCode = e.code;
    const seq: number | undefined = e.seq;
    void code; void seq;
  }
}
void allowed; void left; void many; void n; void summary; void paged; void json; void lists; void org;

// String-literal unions catch typos at compile time.
// @ts-expect-error not a resource
p.evaluate('Cluster0', 'DATABASE_LOG');
// @ts-expect-error not a grant type
p.grant(owner, 'Cluster0', 'CLUSTER_EVERYTHING');
// @ts-expect-error not a log resource
p.beginLogDownload('Cluster0', 'INFRASTRUCTURE');
// @ts-expect-error not a role
const bad: Actor = { id: 'x', roles: [{ role: 'ADMIN' }] };
// @ts-expect-error orgId is required
new Policy({ restrictEmployeeAccess: true });
// @ts-expect-error a creation time is a Time
new Policy({ orgId: 'o', now: true });
// @ts-expect-error a page holds its clusters in `results`
again.loadAtlas({}, { clusters: [] });
const r: Resource = 'SYNC_DATA';
void bad; void r;
p.free();
created.free();

// Signed checkpoints (SPEC §9): this package verifies but does not sign.
import { Checkpoint, PublicKey, SIGNING, verifyCheckpoints, type CheckpointsVerified } from '../../js/index.js';
{
  const trusted: PublicKey = PublicKey.parse('sa-ed25519-pub:' + '0'.repeat(64));
  const cs: Checkpoint[] = Checkpoint.parseMany('');
  const v: CheckpointsVerified = p.verifyCheckpoints(cs, [trusted, trusted.toText()]);
  const w: CheckpointsVerified = verifyCheckpoints(p.exportRecord(), cs.map(String), [trusted]);
  const ok: boolean = cs.every((c) => c.verifySignature(trusted));
  const signs: false = SIGNING;
  void v, w, ok, signs;
  // @ts-expect-error: the browser package does not sign
  p.checkpoint('sa-ed25519-key:' + '0'.repeat(64));
}
