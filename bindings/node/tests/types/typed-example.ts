// A typed example: `tsc -p tests/types` must accept it with no errors. The `@ts-expect-error`
// lines check that the types reject what the API rejects.
import {
  Policy,
  SupportAccessError,
  verifyRecord,
  type Actor,
  type Decision,
  type ErrorCode,
  type Event,
  type GrantType,
  type Reason,
  type Resource,
} from 'support-access'

const owner: Actor = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] }
const manager: Actor = { id: 'bob', roles: [{ role: 'PROJECT_SUPPORT_ACCESS_MANAGER', projectId: 'p1' }] }

const policy = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true, maxGrantDurationMs: null })
policy.addProject(owner, 'p1', '2026-11-28T10:00:00Z')
policy.addCluster(owner, 'p1', 'Cluster0', { kind: 'DEDICATED', appServicesSyncEnabled: true }, new Date())
const granted: Event = policy.grant(manager, 'Cluster0', 'CLUSTER_DATABASE_LOGS', Date.now(), '2026-11-29T10:00:00Z')
if (granted.type === 'EMPLOYEE_ACCESS_GRANTED') {
  const type: GrantType = granted.grantType
  const replacedAt: string | undefined = granted.replaced?.grantedAt
  void type, replacedAt
}

const resource: Resource = 'DATABASE_LOGS'
const d: Decision = policy.evaluate('Cluster0', resource)
const reason: Reason = d.reason
const left: number | null = d.remainingMs
const many: Decision[] = policy.evaluateMany([{ cluster: 'Cluster0', resource: 'AUDIT_LOGS', now: new Date() }])
const remaining: number | null = policy.remaining('Cluster0')
const past: Decision = policy.evaluateAt('Cluster0', 'INFRASTRUCTURE', '2026-11-28T11:00:00Z')

try {
  const downloadId: string = policy.beginLogDownload('Cluster0', 'DATABASE_LOGS')
  const c: Decision = policy.continueLogDownload(downloadId)
  policy.finishLogDownload(downloadId)
  void c
} catch (e) {
  if (e instanceof SupportAccessError) {
    const code: ErrorCode = e.code
    const why: Reason | undefined = e.reason
    void code, why
  }
}

const expired: Event[] = policy.expireDue()
const record: string = policy.exportRecord()
const again: Policy = Policy.replay(record)
const checked: number = verifyRecord(record) + Policy.verifyRecord(record) + again.verifyRecord(record)
const summary = again.loadAtlas({ restrictEmployeeAccess: false }, [
  { name: 'A0', groupId: 'g1', mongoDBEmployeeAccessGrant: { grantType: 'CLUSTER_INFRASTRUCTURE', expirationTime: '2026-11-28T20:00:00Z' } },
])
const paged = again.loadAtlas({}, { results: [{ name: 'B0', groupId: 'g1' }], totalCount: 1, links: [] })
const loaded: number = summary.clusters + summary.expiredGrantsSkipped + paged.clusters
const created = new Policy({ orgId: 'org-2', now: new Date('2026-11-28T10:00:00Z') })
void new Policy({ orgId: 'org-3', now: '2026-11-28T10:00:00Z' }), new Policy({ orgId: 'org-4', now: 1795860000000 })
const out: string = policy.apply('{"op":"exportRecord"}')
const status = policy.describe()
const clusterNames: string[] = status.clusters.map((c) => c.name)

// @ts-expect-error: not a resource
policy.evaluate('Cluster0', 'BACKUPS')
// @ts-expect-error: not a grant type
policy.grant(owner, 'Cluster0', 'EVERYTHING')
// @ts-expect-error: project roles need a projectId
const bad: Actor = { id: 'x', roles: [{ role: 'PROJECT_OWNER' }] }
// @ts-expect-error: orgId is required
new Policy({ restrictEmployeeAccess: true })
// @ts-expect-error: downloads are for logs only
policy.beginLogDownload('Cluster0', 'INFRASTRUCTURE')
// @ts-expect-error: a creation time is a Time
new Policy({ orgId: 'org-5', now: true })
// @ts-expect-error: a page holds its clusters in `results`
again.loadAtlas({}, { clusters: [] })

again.free()
created.free()
void reason, left, many, remaining, past, expired, checked, loaded, out, clusterNames, bad

// Signed checkpoints (SPEC §9): the native package signs and verifies.
import { Checkpoint, PublicKey, SigningKey, SIGNING, verifyCheckpoints, type CheckpointsVerified } from 'support-access'
{
  const key: SigningKey = SigningKey.fromSeed(new Uint8Array(32))
  const trusted: PublicKey = PublicKey.parse(key.publicKey.toText())
  const c: Checkpoint = policy.checkpoint(key, new Date())
  const again: Checkpoint[] = Checkpoint.parseMany(c.toText() + String(c))
  const ok: boolean = c.verifySignature(trusted) && c.verifySignature(trusted.toText())
  const v: CheckpointsVerified = policy.verifyCheckpoints(again, [trusted, key.publicKey.toText()])
  const w: CheckpointsVerified = verifyCheckpoints(policy.exportRecord(), [c.toText()], new Set([trusted]))
  const signs: true = SIGNING
  const seq: number = c.seq + v.verifiedUpTo + w.events
  void ok, signs, seq
  // @ts-expect-error: keys come from fromSeed or parse
  void new PublicKey()
  // @ts-expect-error: a seed is bytes
  SigningKey.fromSeed('0'.repeat(32))
  // @ts-expect-error: a checkpoint is signed with a signing key, not a public key
  policy.checkpoint(trusted)
}
