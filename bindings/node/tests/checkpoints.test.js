'use strict'
// Signed checkpoints (SPEC §9) through the typed API: keys, texts, signing, verification, every
// checkpoint error with its `.seq`, agreement with the JSON commands, and abuse of the new entry
// points (wrong types, wrong seed lengths, malformed texts): always a SupportAccessError.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Checkpoint, Policy, PublicKey, SigningKey, SupportAccessError, SIGNING, verifyCheckpoints } = require('../lib.js')

const OWNER = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] }
const T0 = '2026-11-28T10:00:00Z'
const KEY = SigningKey.fromSeed(new Uint8Array(32).fill(7))
const OTHER = SigningKey.fromSeed(Buffer.alloc(32, 8))

function setup() {
  const p = new Policy({ orgId: 'org-1', restrictEmployeeAccess: true })
  p.addProject(OWNER, 'p1', T0)
  p.addCluster(OWNER, 'p1', 'Cluster0', {}, T0)
  return p // 3 events
}

function throwsCode(fn, code, seq) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof SupportAccessError, `not a SupportAccessError: ${e}`)
    assert.equal(e.code, code, e.message)
    if (seq !== undefined) assert.equal(e.seq, seq)
    return true
  })
}

test('the native package signs', () => assert.equal(SIGNING, true))

test('keys: texts round-trip, agree with the publicKey command, and the secret stays hidden', () => {
  const text = KEY.toText()
  assert.match(text, /^sa-ed25519-key:[0-9a-f]{64}$/)
  assert.equal(SigningKey.parse(text).keyId, KEY.keyId)
  const pub = KEY.publicKey
  assert.ok(pub instanceof PublicKey)
  assert.equal(PublicKey.parse(String(pub)).toText(), pub.toText())
  assert.match(pub.keyId, /^[0-9a-f]{16}$/)
  assert.notEqual(OTHER.keyId, KEY.keyId)
  const r = JSON.parse(setup().apply({ op: 'publicKey', signingKey: text }))
  assert.deepEqual(r.ok, { publicKey: pub.toText(), keyId: pub.keyId })
  for (const shown of [String(KEY), JSON.stringify({ KEY })]) {
    assert.ok(!shown.includes(text.slice(15)), shown)
    assert.ok(shown.includes(KEY.keyId))
  }
  assert.ok(Object.isFrozen(KEY) && Object.isFrozen(pub))
  assert.throws(() => new PublicKey('x'), TypeError)
})

test('sign, parse and verify; the same bytes as the JSON commands', () => {
  const p = setup()
  const now = new Date('2026-11-28T11:00:00Z')
  const c = p.checkpoint(KEY, now)
  const head = p.events().at(-1)
  assert.deepEqual([c.orgId, c.seq, c.hash, c.at, c.keyId], ['org-1', head.seq, head.hash, '2026-11-28T11:00:00.000Z', KEY.keyId])
  const cmd = JSON.parse(p.apply({ op: 'checkpoint', signingKey: KEY.toText(), now: now.getTime() }))
  assert.equal(cmd.ok.checkpoint, c.toText())
  assert.equal(p.checkpoint(KEY.toText(), now).toText(), c.toText())
  assert.equal(Checkpoint.parse(String(c)).toText(), c.toText())
  assert.ok(c.verifySignature(KEY.publicKey) && c.verifySignature(KEY.publicKey.toText()))
  assert.equal(c.verifySignature(OTHER.publicKey), false)
  const v = p.verifyCheckpoints([c], [KEY.publicKey])
  assert.deepEqual(v, { events: 3, lastHash: head.hash, verifiedUpTo: 3, keyIds: [KEY.keyId] })
  const viaCommand = JSON.parse(
    p.apply({ op: 'verifyCheckpoints', record: p.exportRecord(), checkpoints: [c.toText()], trustedKeys: [KEY.publicKey.toText()] }),
  )
  assert.deepEqual(viaCommand.ok, v)
  assert.deepEqual(verifyCheckpoints(p.exportRecord(), new Set([c.toText()]), [String(KEY.publicKey)]), v)
  assert.deepEqual(Checkpoint.parseMany(c.toText() + c.toText()).map(String), [c.toText(), c.toText()])
  assert.deepEqual(Checkpoint.parseMany(''), [])
  assert.equal(JSON.stringify([c]), JSON.stringify([c.toText()]))
})

test('every checkpoint error is a SupportAccessError with the refused checkpoint\'s seq', () => {
  const p = setup()
  const c3 = p.checkpoint(KEY, T0)
  const record3 = p.exportRecord()
  p.grant(OWNER, 'Cluster0', 'CLUSTER_DATABASE_LOGS', T0)
  const c4 = p.checkpoint(KEY, T0)
  throwsCode(() => p.verifyCheckpoints([c4], [OTHER.publicKey]), 'UNTRUSTED_KEY', 4)
  const forged = Checkpoint.parse(c4.toText().replace('org org-1', 'org org-2'))
  throwsCode(() => p.verifyCheckpoints([forged], [KEY.publicKey]), 'BAD_SIGNATURE', 4)
  throwsCode(() => verifyCheckpoints(record3, [c3, c4], [KEY.publicKey]), 'RECORD_TRUNCATED', 4)
  const other = new Policy({ orgId: 'org-2' })
  throwsCode(() => p.verifyCheckpoints([other.checkpoint(KEY, T0)], [KEY.publicKey]), 'CHECKPOINT_MISMATCH', 1)
  const fork = Policy.replay(record3)
  fork.grant(OWNER, 'Cluster0', 'CLUSTER_INFRASTRUCTURE', T0)
  throwsCode(() => p.verifyCheckpoints([c4, fork.checkpoint(KEY, T0)], [KEY.publicKey]), 'CHECKPOINTS_DISAGREE', 4)
  throwsCode(() => verifyCheckpoints(record3.replace('"p1"', '"p2"'), [c3], [KEY.publicKey]), 'RECORD_TAMPERED')
  throwsCode(() => p.verifyCheckpoints([], [KEY.publicKey]), 'MALFORMED_INPUT')
  throwsCode(() => p.checkpoint(KEY, Date.parse(T0) - 1), 'CLOCK_WENT_BACKWARDS')
  // A later checkpoint covers more.
  const v = p.verifyCheckpoints([c3, p.checkpoint(OTHER, T0)], [KEY.publicKey, OTHER.publicKey])
  assert.equal(v.verifiedUpTo, 4)
  assert.deepEqual(v.keyIds, [KEY.keyId, OTHER.keyId].sort())
})

test('abuse: seeds, key and checkpoint texts, wrong types', () => {
  const p = setup()
  const c = p.checkpoint(KEY, T0)
  for (const n of [0, 1, 31, 33, 64]) throwsCode(() => SigningKey.fromSeed(new Uint8Array(n)), 'MALFORMED_INPUT')
  for (const bad of [undefined, null, 'x'.repeat(32), 32, [1, 2], {}, new ArrayBuffer(32)]) {
    throwsCode(() => SigningKey.fromSeed(bad), 'MALFORMED_INPUT')
  }
  const secret = 'sa-ed25519-key:' + 'f'.repeat(63) + 'X'
  assert.throws(() => SigningKey.parse(secret), (e) => e.code === 'MALFORMED_INPUT' && !e.message.includes('f'.repeat(63)))
  for (const bad of ['', 'sa-ed25519-key:', KEY.publicKey.toText(), KEY.toText().toUpperCase(), undefined, null, 7, {}]) {
    throwsCode(() => SigningKey.parse(bad), 'MALFORMED_INPUT')
    throwsCode(() => p.checkpoint(bad, T0), 'MALFORMED_INPUT')
  }
  for (const bad of ['', KEY.toText(), 'sa-ed25519-pub:01' + '00'.repeat(31), KEY.publicKey.toText() + '\n', undefined, 7, {}]) {
    throwsCode(() => PublicKey.parse(bad), 'MALFORMED_INPUT')
    throwsCode(() => c.verifySignature(bad), 'MALFORMED_INPUT')
    throwsCode(() => p.verifyCheckpoints([c], [bad]), 'MALFORMED_INPUT')
  }
  const text = c.toText()
  for (const bad of [text.slice(0, -1), text + '\n', text.replace('\nseq ', '\nseq 0'), text.replace('.000Z', 'Z'), '', 'x\0y', undefined, 7]) {
    throwsCode(() => Checkpoint.parse(bad), 'MALFORMED_INPUT')
    throwsCode(() => p.verifyCheckpoints([bad], [KEY.publicKey]), 'MALFORMED_INPUT')
  }
  throwsCode(() => Checkpoint.parseMany(text + text.slice(0, 20)), 'MALFORMED_INPUT')
  for (const bad of [undefined, null, text, 7, {}]) {
    throwsCode(() => p.verifyCheckpoints(bad, [KEY.publicKey]), 'MALFORMED_INPUT')
    throwsCode(() => verifyCheckpoints(p.exportRecord(), [c], bad), 'MALFORMED_INPUT')
  }
  throwsCode(() => verifyCheckpoints(undefined, [c], [KEY.publicKey]), 'MALFORMED_INPUT')
  const before = p.exportRecord()
  throwsCode(() => p.checkpoint(KEY, 'not a time'), 'INVALID_TIMESTAMP')
  assert.equal(p.exportRecord(), before)
})
