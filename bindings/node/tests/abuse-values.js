'use strict'
// The hostile values both JavaScript packages must refuse alike: they share one TypeScript surface
// and one edge (`common.js`), so one list of wrong values, one list of odd times and one check of
// every time argument serve Node's abuse tests and the browser package's
// (bindings/wasm/tests/abuse.test.mjs imports this file).

const assert = require('node:assert/strict')

const OWNER = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] }
const INFRA = 'CLUSTER_INFRASTRUCTURE'
const NOW = Date.parse('2026-11-28T11:00:00Z')

const circular = {}
circular.self = circular
const circularArray = []
circularArray.push(circularArray)
// Values of every wrong kind for a string, object or number argument.
const WRONG = [
  ['number', 1],
  ['float', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['bigint', 10n],
  ['boolean', true],
  ['null', null],
  ['undefined', undefined],
  ['symbol', Symbol('x')],
  ['object', { a: 1 }],
  ['array', ['Cluster0']],
  ['function', () => 'Cluster0'],
  ['Buffer', Buffer.from('Cluster0')],
  ['Uint8Array', new Uint8Array(3)],
  ['Date', new Date(NOW)],
  ['invalid Date', new Date(NaN)],
  ['circular', circular],
  ['circular array', circularArray],
  ['boxed string', new String('Cluster0')], // eslint-disable-line no-new-wrappers
  ['toString throws', { toString() { throw new Error('boom') } }],
  ['toJSON throws', { toJSON() { throw new Error('boom') } }],
  ['toJSON bigint', { toJSON() { return 1n } }],
  ['Proxy that throws', new Proxy({}, { get() { throw new Error('trap') }, ownKeys() { throw new Error('trap') } })],
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', 'Cluster\udfff'],
  ['NUL', 'Cluster\0'],
  ['NUL only', '\0'],
  ['empty', ''],
]

// NaN, ±Infinity, huge and fractional numbers, invalid Dates, a BigInt, a Symbol, values of
// other types, texts that are not times (with NUL bytes too).
const BAD_TIMES = [
  NaN, Infinity, -Infinity, 1e300, -1e300, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, -1, 0.5, 2 ** 64,
  253402300800000, new Date(NaN), new Date(8.64e15), new Date(-8.64e15), 10n, null, true, Symbol('t'),
  {}, [], '', 'NaN', 'Infinity', '-0', 'x'.repeat(4096), '2026-11-28T10:00:00\0Z', '\u00002026-11-28T10:00:00Z',
] // prettier-ignore

/** A short label for a value (a Symbol or BigInt cannot be concatenated). */
function describeValue(v) {
  if (typeof v === 'symbol') return 'symbol'
  if (typeof v === 'bigint') return `${v}n`
  try {
    return String(v).slice(0, 24)
  } catch {
    return typeof v
  }
}

/**
 * Every time argument of `Policy` given each of BAD_TIMES: `typed(p, fn, codes, label)` must
 * see INVALID_TIMESTAMP (and the record unchanged). `p` holds project `p1` and a granted
 * `Cluster0` (created at 2026-11-28T10:00:00Z), restricted.
 */
function checkOddTimes(Policy, p, typed) {
  for (const bad of BAD_TIMES) {
    const calls = [
      () => p.evaluate('Cluster0', 'DATABASE_LOGS', bad),
      () => p.evaluateAt('Cluster0', 'DATABASE_LOGS', bad),
      () => p.evaluateMany([{ cluster: 'Cluster0', resource: 'DATABASE_LOGS', now: bad }]),
      () => p.remaining('Cluster0', bad),
      () => p.revoke(OWNER, 'Cluster0', bad),
      () => p.grant(OWNER, 'Cluster0', INFRA, bad),
      () => p.grant(OWNER, 'Cluster0', INFRA, NOW, bad),
      () => p.addProject(OWNER, 'p9', bad),
      () => p.expireDue(bad),
      () => p.beginLogDownload('Cluster0', 'DATABASE_LOGS', bad),
      () => p.loadAtlas({}, [], bad),
      () => p.describe(bad),
      () => p.continueLogDownload('dl-1', bad),
      () => p.setRestriction(OWNER, false, bad),
      () => new Policy({ orgId: 'o', now: bad }),
    ]
    calls.forEach((fn, i) => {
      // `null` expiration means the default, as do loadAtlas' null `now` (the record's time)
      // and the options' null `now` (an untimed creation); elsewhere null `now` is refused.
      if (bad === null && (i === 6 || i === 10 || i === 14)) return
      typed(p, fn, ['INVALID_TIMESTAMP'], `${describeValue(bad)} #${i}`)
    })
  }
  // -0 is the epoch: a valid time (a mutation then is CLOCK_WENT_BACKWARDS, not a crash).
  assert.deepEqual(p.evaluate('Cluster0', 'DATABASE_LOGS', -0), p.evaluate('Cluster0', 'DATABASE_LOGS', 0))
  assert.equal(p.remaining('Cluster0', -0), p.remaining('Cluster0', 0))
  typed(p, () => p.revoke(OWNER, 'Cluster0', -0), ['CLOCK_WENT_BACKWARDS'])
  typed(p, () => p.grant(OWNER, 'Cluster0', INFRA, NOW, -0), ['EXPIRATION_NOT_IN_FUTURE', 'INVALID_TIMESTAMP'])
  // The last valid millisecond is fine.
  assert.equal(p.evaluate('Cluster0', 'DATABASE_LOGS', 253402300799999).allowed, false)
}

module.exports = { WRONG, BAD_TIMES, checkOddTimes, describeValue }
