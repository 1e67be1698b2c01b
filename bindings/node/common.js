'use strict'
// What the two JavaScript packages share, written once, as common.d.ts is their one TypeScript
// surface: `support-access` (this package, over the native addon) loads it with `require`; the
// wasm build writes it into `support-access-wasm` as the ES module js/common.js (the last line,
// `module.exports = { common }`, becomes `export { common };`), and `cargo xtask dist` writes it
// into each of that package's entries. So it imports nothing and holds one function.
//
// Nothing here decides anything. The lists, the message prefix and every time text are the
// core's, handed in by the package; decisions arrive packed by the core (`ffi::pack`) with their
// grant's expiration and remainingMs as the core computed them; a typed call becomes the core's
// own SPEC §7 command, which the package runs.

/**
 * The shared half of a package, over `core`, the package's few calls into the Rust core:
 * - `strings`: the core's SPEC lists `[reasons, grantTypes, resources, clusterKinds, errorCodes]`;
 * - `malformedPrefix`: the core's MALFORMED_INPUT message prefix (no message here spells it);
 * - `timeText(ms)`: the core's RFC 3339 text of epoch ms;
 * - `parsePublicKey(text)` → `{publicKey, keyId}`, `parseCheckpoint(text)` → a checkpoint's
 *   fields, `parseCheckpoints(text)` → a list of them, `verifySignature(checkpoint, key)` → a
 *   boolean: the core's checkpoint calls on texts, throwing SupportAccessError.
 */
function common(core) {
  // The lists decode reads from are plain arrays, as they were in each package before this
  // file; callers get frozen copies.
  const [REASONS, GRANT_TYPES, RESOURCES, CLUSTER_KINDS, ERROR_CODES] = core.strings.map((list) => list.slice())
  // Keyed by the strings as property keys make them (internalized): a caller's string literal
  // then matches by identity, not by comparing characters (the core's strings, read across the
  // boundary, are not internalized).
  const RESOURCE_INDEX = new Map(RESOURCES.map((r, i) => [Object.keys({ [r]: 0 })[0], i]))
  const MALFORMED = core.malformedPrefix
  // A resource's index, or undefined: compared by identity with each of the core's resources
  // first (a caller's literal is the internalized key), which costs less than the Map lookup
  // (docs/benchmarks.md, fifth round: per call and per batch, both packages, 0.75-0.94x the
  // ratio to the Map rule they had with the lookup); the Map for any other string.
  const NONE = Symbol('no resource')
  const [R0 = NONE, R1 = NONE, R2 = NONE, R3 = NONE, R4 = NONE] = RESOURCE_INDEX.keys()
  function resourceAt(r) {
    return r === R0 ? 0 : r === R1 ? 1 : r === R2 ? 2 : r === R3 ? 3 : r === R4 ? 4 : RESOURCE_INDEX.get(r)
  }

  /** An error of the support-access core: `.code` is the SPEC code; `.seq` (RECORD_TAMPERED and
   * the checkpoint codes) and `.reason` (ACCESS_DENIED) are set when the core gives them. */
  class SupportAccessError extends Error {
    constructor(code, message, details) {
      super(message)
      this.name = 'SupportAccessError'
      this.code = code
      if (details && details.seq !== undefined) this.seq = details.seq
      if (details && details.reason !== undefined) this.reason = details.reason
    }
  }

  function malformed(detail) {
    return new SupportAccessError('MALFORMED_INPUT', MALFORMED + detail)
  }

  function typeName(v) {
    return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v
  }

  /** Reads a field of a caller's object; a throwing getter or Proxy is MALFORMED_INPUT. */
  function field(obj, key, what) {
    try {
      return obj?.[key]
    } catch (e) {
      throw malformed(`${what} cannot be read (${e?.message ?? e})`)
    }
  }

  /** A string argument; anything else is MALFORMED_INPUT. */
  function str(v, what) {
    if (typeof v !== 'string') throw malformed(`${what} must be a string, not ${typeName(v)}`)
    return v
  }

  // ----- times: Date, RFC 3339 string or epoch ms; `now` defaults to Date.now() -----

  /** A time inside a command: epoch ms and RFC 3339 text as given (the core reads and checks
   * them), a Date as its epoch ms, absent as Date.now(). JSON has no NaN or infinities (it would
   * write null, which reads as "missing"): the core is given their name instead and refuses it
   * as INVALID_TIMESTAMP, like any other bad time. */
  function time(t, name = 'now') {
    if (typeof t === 'number') return Number.isFinite(t) ? t : String(t)
    if (t === undefined) return Date.now()
    if (typeof t === 'string') return t
    if (t instanceof Date) {
      const ms = t.getTime()
      return Number.isNaN(ms) ? 'Invalid Date' : ms
    }
    throw new SupportAccessError(
      'INVALID_TIMESTAMP',
      `invalid timestamp for \`${name}\`: expected a Date, an RFC 3339 string or epoch milliseconds, not ${t === null ? 'null' : typeof t}`,
    )
  }

  /** Like `time`, but absent (undefined or null) stays absent: an optional time. */
  function optTime(t, name) {
    return t === undefined || t === null ? undefined : time(t, name)
  }

  // A grant's expiration text, written by the core once per expiration and kept: every decision
  // about the same grant reuses it, whichever cluster it is (bounded; starts over when full).
  const timeTexts = new Map()
  function textOf(ms) {
    let text = timeTexts.get(ms)
    if (text === undefined) {
      if (timeTexts.size >= 4096) timeTexts.clear()
      text = core.timeText(ms)
      timeTexts.set(ms, text)
    }
    return text
  }

  // The same, remembered by cluster id as well: an array read instead of a Map lookup keyed by
  // a double (~5 ns against ~30 ns). An entry is a pair (ms, text of ms), right for any policy
  // whatever the id means now, so nothing ever clears it.
  const TEXT_MS = []
  const TEXTS = []
  function expirationText(ms, id) {
    if (id >= 0 && id < 65536) {
      if (TEXT_MS[id] === ms) return TEXTS[id]
      const text = textOf(ms)
      TEXT_MS[id] = ms
      TEXTS[id] = text
      return text
    }
    return textOf(ms)
  }

  /** A decision packed by the core (bit 0 allowed, bits 1-4 reason, bits 5-6 grant type) as
   * the SPEC's decision object, with its grant's expiration and remainingMs as the core gave
   * them; `id`: the cluster's id when known (-1 otherwise), for the expiration's text. */
  function decode(packed, exp, remaining, id) {
    const grant = packed >> 5
    if (grant === 0) {
      return { allowed: (packed & 1) === 1, reason: REASONS[(packed >> 1) & 15], grantType: null, expirationTime: null, remainingMs: null }
    }
    return {
      allowed: (packed & 1) === 1,
      reason: REASONS[(packed >> 1) & 15],
      grantType: GRANT_TYPES[grant - 1],
      expirationTime: expirationText(exp, id),
      remainingMs: remaining,
    }
  }

  // evaluateMany's typed arrays, reused from call to call (grown as needed); every call fills
  // and reads them synchronously, and each thread has its own copy of this module.
  let batch = null
  function batchBuffers(n) {
    if (batch === null || batch.ids.length < n) {
      const size = Math.max(n, 64)
      batch = {
        ids: new Uint32Array(size),
        res: new Uint8Array(size),
        nows: new Float64Array(size),
        codes: new Int32Array(size),
        exps: new Float64Array(size),
        rems: new Float64Array(size),
      }
    }
    return batch
  }

  /** JSON text of a value (`replacer` as JSON.stringify takes it): '' when JSON has no text for
   * it (undefined, a function), which the core refuses as MALFORMED_INPUT; what JSON cannot
   * write (BigInt, cycles, nesting too deep, a throwing toJSON or Proxy) is MALFORMED_INPUT. */
  function toJson(value, what, replacer) {
    try {
      return JSON.stringify(value, replacer) ?? ''
    } catch (e) {
      if (e instanceof SupportAccessError) throw e
      let detail
      try {
        detail = String(e?.message ?? e)
      } catch {
        detail = 'an exception'
      }
      throw malformed(`${what} cannot be written as JSON (${detail})`)
    }
  }

  /** JSON.stringify's replacer for values the core must see as written: JSON has no NaN or
   * infinities, and writes them, an invalid Date and anything else whose toJSON gives null as
   * null, which reads as "absent" (for `maxGrantDurationMs`: no bound at all): refused instead.
   * Only a null given as null stays null. */
  function finiteOnly(key, v) {
    if ((typeof v === 'number' && !Number.isFinite(v)) || (v === null && this[key] !== null)) {
      throw malformed(`\`${key}\` is ${String(this[key])}, not a JSON value`)
    }
    return v
  }

  /** The replacer for the policy options `root`: `finiteOnly`, except for their `now`, the
   * creation time, which is a time like every other `now` (written by `time`, so that NaN or an
   * invalid Date reaches the core as INVALID_TIMESTAMP instead of becoming null) but stays absent
   * when undefined or null: an untimed creation, where elsewhere `now` defaults to Date.now(). */
  function policyOptions(root) {
    return function (key, v) {
      if (this === root && key === 'now') return optTime(this[key], 'now')
      return finiteOnly.call(this, key, v)
    }
  }

  // ----- typed calls as commands -----

  /** The method each package's Policy runs a command with: `this[RUN](command, foreign)`, where
   * `foreign` marks Admin API documents, to be written as JSON.stringify writes them. */
  const RUN = Symbol('support-access run')

  /** The typed calls that are one SPEC §7 command each, in both packages: the core reads and
   * checks every field, in its order, exactly as for every other front end. */
  class Commands {
    evaluateAt(cluster, resource, at) {
      return this[RUN]({ op: 'evaluateAt', cluster, resource, at: time(at, 'at') })
    }

    /** Milliseconds left on the active grant, or null without one. */
    remaining(cluster, now) {
      return this[RUN]({ op: 'remaining', cluster, now: time(now) }).remainingMs
    }

    setRestriction(actor, restrictEmployeeAccess, now) {
      return this[RUN]({ op: 'setRestriction', actor, restrictEmployeeAccess, now: time(now) })
    }

    addProject(actor, projectId, now) {
      return this[RUN]({ op: 'addProject', actor, projectId, now: time(now) })
    }

    removeProject(actor, projectId, now) {
      return this[RUN]({ op: 'removeProject', actor, projectId, now: time(now) })
    }

    addCluster(actor, projectId, name, options, now) {
      const o = options ?? {}
      if (typeof o !== 'object') {
        throw malformed('addCluster options must be an object `{kind?, appServicesSyncEnabled?}`')
      }
      const kind = field(o, 'kind', 'addCluster options') ?? undefined
      const appServicesSyncEnabled = field(o, 'appServicesSyncEnabled', 'addCluster options') ?? undefined
      return this[RUN]({ op: 'addCluster', actor, projectId, name, kind, appServicesSyncEnabled, now: time(now) })
    }

    removeCluster(actor, name, now) {
      return this[RUN]({ op: 'removeCluster', actor, name, now: time(now) })
    }

    grant(actor, cluster, grantType, now, expirationTime) {
      return this[RUN]({ op: 'grant', actor, cluster, grantType, now: time(now), expirationTime: optTime(expirationTime, 'expirationTime') })
    }

    revoke(actor, cluster, now) {
      return this[RUN]({ op: 'revoke', actor, cluster, now: time(now) })
    }

    expireDue(now) {
      return this[RUN]({ op: 'expireDue', now: time(now) })
    }

    /** Starts a log download: its id, or throws ACCESS_DENIED with `.reason`. */
    beginLogDownload(cluster, resource, now) {
      return this[RUN]({ op: 'beginLogDownload', cluster, resource, now: time(now) }).downloadId
    }

    continueLogDownload(downloadId, now) {
      return this[RUN]({ op: 'continueLogDownload', downloadId, now: time(now) })
    }

    finishLogDownload(downloadId, now) {
      return this[RUN]({ op: 'finishLogDownload', downloadId, now: time(now) })
    }

    /** Loads Admin API JSON: org settings and cluster descriptions, as a list or as the
     * listClusters page (`{results, totalCount, links}`, read by the core). With `now` it is a
     * mutation like any other, stamped `now`; without, it is stamped with the record's current
     * time (the core's default). A null `now` is refused, as everywhere but `expirationTime`. */
    loadAtlas(orgSettings, clusters, now) {
      return this[RUN]({ op: 'loadAtlas', orgSettings, clusters, now: now === undefined ? undefined : time(now) }, true)
    }

    /** The org, projects, clusters (with their active grant) and downloads in progress at `now`. */
    describe(now) {
      return this[RUN]({ op: 'describe', now: time(now) })
    }

    /** The record's events, parsed. */
    events() {
      return this.exportRecord()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l))
    }

    /** Same as the static `Policy.verifyRecord` (checks any record, not this policy's). */
    verifyRecord(record) {
      return this.constructor.verifyRecord(record)
    }
  }

  // ----- signed checkpoints (SPEC §9): keys and checkpoints are their text forms, read by the core -----

  const KEY = Symbol('support-access key')

  /** A value whose text form is what it is (keys, checkpoints): `toText`, `String(x)` and
   * `JSON.stringify(x)` all give that text. */
  class TextForm {
    #text
    constructor(text) {
      this.#text = text
    }

    toText() {
      return this.#text
    }

    toString() {
      return this.#text
    }

    toJSON() {
      return this.#text
    }
  }

  /** An Ed25519 public key that checkpoints are verified with (`sa-ed25519-pub:` + 64 hex). */
  class PublicKey extends TextForm {
    constructor(token, fields) {
      if (token !== KEY) throw new TypeError('use PublicKey.parse(text)')
      super(fields.publicKey)
      /** The 16 hex digits checkpoints signed with the matching signing key carry. */
      this.keyId = fields.keyId
      Object.freeze(this)
    }

    /** Reads the text form (MALFORMED_INPUT otherwise; small-order keys are refused). */
    static parse(text) {
      return new PublicKey(KEY, core.parsePublicKey(str(text, 'a public key')))
    }
  }

  /** A signed statement that an organization's record had `seq` events, the last with `hash`;
   * its text form is seven lines, each ending with `\n`. */
  class Checkpoint extends TextForm {
    constructor(token, fields) {
      if (token !== KEY) throw new TypeError('use Checkpoint.parse(text)')
      super(fields.checkpoint)
      this.orgId = fields.orgId
      this.seq = fields.seq
      this.hash = fields.hash
      /** When it was signed: RFC 3339 UTC with milliseconds. */
      this.at = fields.at
      this.keyId = fields.keyId
      Object.freeze(this)
    }

    /** Reads exactly the text form (MALFORMED_INPUT otherwise). The signature is not checked. */
    static parse(text) {
      return new Checkpoint(KEY, core.parseCheckpoint(str(text, 'a checkpoint')))
    }

    /** Reads a checkpoints file: checkpoints one after another (an empty text holds none). */
    static parseMany(text) {
      return core.parseCheckpoints(str(text, 'a checkpoints text')).map((f) => new Checkpoint(KEY, f))
    }

    /** Whether the signature verifies with `key` (a PublicKey or its text): only the signature. */
    verifySignature(key) {
      return core.verifySignature(this.toText(), str(key instanceof PublicKey ? key.toText() : key, 'a public key'))
    }
  }

  /** The texts of checkpoints or keys given as objects of `cls` or their texts. */
  function texts(items, what, cls) {
    if (items === null || typeof items !== 'object' || typeof field(items, Symbol.iterator, `\`${what}\``) !== 'function') {
      throw malformed(`\`${what}\` must be an array (or iterable)`)
    }
    return Array.from(items, (x, i) => {
      const t = x instanceof cls ? x.toText() : x
      if (typeof t !== 'string') {
        throw malformed(`\`${what}[${i}]\` must be a ${cls.name} or its text`)
      }
      return t
    })
  }

  // Each package takes what it uses of these.
  const frozen = (list) => Object.freeze(list.slice())
  const lists = { REASONS: frozen(REASONS), GRANT_TYPES: frozen(GRANT_TYPES), RESOURCES: frozen(RESOURCES) }
  Object.assign(lists, { CLUSTER_KINDS: frozen(CLUSTER_KINDS), ERROR_CODES: frozen(ERROR_CODES) })
  const errors = { SupportAccessError, malformed, typeName, field, toJson, finiteOnly, policyOptions }
  const values = { time, decode, batchBuffers, resourceAt }
  const classes = { RUN, Commands, KEY, PublicKey, Checkpoint, texts }
  return { ...lists, ...errors, ...values, ...classes }
}

module.exports = { common }
