// support-access-wasm: the idiomatic ES module over the WebAssembly core.
//
// Every method turns its arguments into one SPEC §7 command, runs it in the core (`apply`) and
// turns the result back: `{"ok": …}` is returned, `{"error": …}` is thrown as a
// SupportAccessError whose `.code` is the SPEC code. `evaluate` and `evaluateMany` with
// epoch-ms/Date times take a hot path instead: the core's typed evaluate by cluster id (ids
// cached by name until the next command), the decision packed in an integer; anything it cannot
// answer exactly falls back to the command, so both paths answer and fail alike. No policy
// logic lives here.
//
// Loading: this module awaits the WebAssembly instance at import (top-level await), from
// `../pkg/web/support_access_wasm_bg.wasm` next to it: fetched in browsers (and by bundlers
// that understand `new URL(…, import.meta.url)`), read from disk in Node.
import init, {
  WasmPolicy,
  replay as wasmReplay,
  verifyRecord as wasmVerifyRecord,
  parseCheckpoint as wasmParseCheckpoint,
  parseCheckpoints as wasmParseCheckpoints,
  parsePublicKey as wasmParsePublicKey,
  verifySignature as wasmVerifySignature,
  coreVersion,
  specStrings,
  maxCommandLen,
  commandTooLong,
  timeText,
  malformedMessage,
} from '../pkg/web/support_access_wasm.js';

const wasmUrl = new URL('../pkg/web/support_access_wasm_bg.wasm', import.meta.url);
const inNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null
  && wasmUrl.protocol === 'file:';
// The module's exports (for `memory`: where `evaluateId` leaves a decision's grant).
let wasm;
if (inNode) {
  const { readFile } = await import('node:fs/promises');
  wasm = await init({ module_or_path: await readFile(wasmUrl) });
} else {
  wasm = await init({ module_or_path: wasmUrl });
}

/** The version of the Rust core inside the module. */
export const VERSION = coreVersion();
export { VERSION as coreVersion };

// (This import stands after the loading prologue, not before it, because `cargo xtask dist`
// writes common.js's body in its place in each of the package's entries; imports are hoisted.)
import { common } from './common.js';

// The half both JavaScript packages share (common.js: one source in bindings/node, written here
// as an ES module by the wasm build), over this package's calls into the core.
const shared = common({
  strings: specStrings().map((s) => s.split(',')),
  malformedPrefix: malformedMessage(''),
  timeText,
  parsePublicKey: (text) => unwrap(wasmParsePublicKey(text)),
  parseCheckpoint: (text) => unwrap(wasmParseCheckpoint(text)),
  parseCheckpoints: (text) => unwrap(wasmParseCheckpoints(text)),
  verifySignature: (checkpoint, key) => unwrap(wasmVerifySignature(checkpoint, key)),
});
const { REASONS, GRANT_TYPES, RESOURCES, CLUSTER_KINDS, ERROR_CODES, SupportAccessError } = shared;
const { malformed, typeName, field, time, decode, batchBuffers, resourceAt, toJson, finiteOnly, policyOptions, RUN, Commands, PublicKey, Checkpoint, texts } = shared;
export { ERROR_CODES, REASONS, GRANT_TYPES, RESOURCES, CLUSTER_KINDS, SupportAccessError, PublicKey, Checkpoint };

// Input size at the edge. Linear memory never shrinks, so a command over the core's limit
// (32 MiB of UTF-8) is answered with the core's own error result without being copied in: a
// string of more UTF-16 units than that is more UTF-8 bytes than that too. Long strings
// (commands over 64 KiB, every record) cross as `TextEncoder` bytes: one native pass, exactly
// their UTF-8 length in memory (wasm-bindgen's string copy loops in JavaScript and reserves
// three bytes per unit of non-ASCII text).
const MAX_COMMAND_LEN = maxCommandLen();
const COMMAND_TOO_LONG = commandTooLong();
const LONG = 1 << 16;
const utf8 = new TextEncoder();

/** A command's result from the core, for any string (see above). */
function applyText(inner, text) {
  if (text.length <= LONG) return inner.apply(text);
  if (text.length > MAX_COMMAND_LEN) return COMMAND_TOO_LONG;
  const bytes = utf8.encode(text);
  return bytes.length > MAX_COMMAND_LEN ? COMMAND_TOO_LONG : inner.applyBytes(bytes);
}

/** A record as UTF-8 bytes; anything but a string is MALFORMED_INPUT (as in the Node package). */
function recordBytes(record) {
  if (typeof record !== 'string') {
    throw malformed(`a record must be a string, not ${typeName(record)}`);
  }
  return utf8.encode(record);
}

function fromErrorBody(body) {
  return new SupportAccessError(body.code, body.message, body);
}

/** Parses a result JSON: returns `ok`, throws the error. */
function unwrap(resultJson) {
  const r = JSON.parse(resultJson);
  if (r !== null && typeof r === 'object' && 'error' in r) throw fromErrorBody(r.error);
  return r.ok;
}

/** Errors the core throws as error-result strings (constructor, replay) become SupportAccessErrors. */
function rethrow(e) {
  if (typeof e === 'string' && e.startsWith('{"error"')) throw fromErrorBody(JSON.parse(e).error);
  throw e;
}

/** The core's error for an over-long command, thrown. */
function tooLong() {
  return fromErrorBody(JSON.parse(COMMAND_TOO_LONG).error);
}

/** JSON.stringify's replacer for our own documents (`this` holds `key`; `v` is after toJSON):
 * - a string longer than a command may be is the core's over-long error at once (the command
 *   holding it would be refused anyway, after writing all of it out);
 * - JSON has no NaN or infinities, and writes them (and invalid Dates) as null, which reads as
 *   "absent" (for `maxGrantDurationMs`: no bound at all): refused instead. */
function ownDocument(key, v) {
  if (typeof v === 'string' && v.length > MAX_COMMAND_LEN) throw tooLong();
  return finiteOnly.call(this, key, v);
}

/** The replacer for foreign (Admin API) documents: written as JSON.stringify writes them, as in
 * the Node package; only over-long strings stop early. */
function foreignDocument(_key, v) {
  if (typeof v === 'string' && v.length > MAX_COMMAND_LEN) throw tooLong();
  return v;
}

const FROM_INNER = Symbol('support-access inner policy');

function freed() {
  return malformed('not a live policy (freed)');
}

/** One organization's support-access policy and its hash-chained record, in WebAssembly. */
export class Policy extends Commands {
  #inner;
  /** Cluster ids by name for the hot path, valid while the core's generation is `#gen`. */
  #ids = new Map();
  #gen = -1;
  /** `[expiration ms, remainingMs]` of the last `evaluateId`, a view over linear memory. */
  #grant = null;

  /**
   * @param {{orgId: string, restrictEmployeeAccess?: boolean, maxGrantDurationMs?: number | null, now?: Date | string | number | null}} options
   *   `now` is the creation time: its POLICY_CREATED event's, before which no change is
   *   accepted; omitted, the event is stamped 1970-01-01T00:00:00.000Z (not Date.now()).
   */
  constructor(options, inner) {
    super();
    if (options === FROM_INNER) {
      this.#inner = inner;
      return;
    }
    try {
      this.#inner = new WasmPolicy(utf8.encode(toJson(options, 'policy options', policyOptions(options))));
    } catch (e) {
      rethrow(e);
    }
  }

  /** The module's policy; after `free()`, MALFORMED_INPUT (as in the Node package). */
  get #p() {
    if (this.#inner === undefined) throw freed();
    return this.#inner;
  }

  /** Runs a typed call's command. `foreign`: for Admin API documents, which are written as
   * JSON.stringify writes them (as in the Node package). */
  [RUN](command, foreign = false) {
    return unwrap(applyText(this.#p, toJson(command, 'command', foreign ? foreignDocument : ownDocument)));
  }

  /** Runs one SPEC §7 command (JSON text, or an object to be written as JSON) and returns the
   * result JSON text: identical bytes in every binding. Errors are results, not exceptions. */
  apply(command) {
    const inner = this.#p;
    return applyText(inner, typeof command === 'string' ? command : toJson(command, 'command'));
  }

  /** The organization. */
  get orgId() {
    return this.#p.orgId;
  }

  /** Whether support access is blocked (Atlas `restrictEmployeeAccess`). */
  get restrictEmployeeAccess() {
    return this.#p.restrictEmployeeAccess;
  }

  /** The longest grant allowed, in ms, or null for no bound. */
  get maxGrantDurationMs() {
    return this.#p.maxGrantDurationMs ?? null;
  }

  /** Drops the cached ids if the core's generation moved on since they were resolved. */
  #sync(inner) {
    const gen = inner.generation;
    if (gen !== this.#gen) {
      this.#ids.clear();
      this.#gen = gen;
    }
  }

  /** The cluster's id (cached by name; call `#sync` first), or -1 when there is none. */
  #id(inner, cluster) {
    let id = this.#ids.get(cluster);
    if (id === undefined) {
      id = inner.clusterId(cluster);
      if (id < 0) return -1;
      if (this.#ids.size >= 4096) this.#ids.clear();
      this.#ids.set(cluster, id);
    }
    return id;
  }

  /** The decision `evaluateId` packed for cluster `id`, its grant read where the core wrote it. */
  #decision(inner, packed, id) {
    if (packed >> 5 === 0) return decode(packed);
    let out = this.#grant;
    // A view over linear memory is emptied when the memory grows: make it again then.
    if (out === null || out.length === 0) out = this.#grant = new Float64Array(wasm.memory.buffer, inner.grantOut(), 2);
    return decode(packed, out[0], out[1], id);
  }

  evaluate(cluster, resource, now) {
    const t = time(now);
    const r = resourceAt(resource);
    const inner = this.#inner;
    if (inner === undefined) throw freed(); // (`#p`, written out: a getter call costs here)
    // Hot path: a cluster resolved before, numbers only across the boundary (-1: the clusters
    // changed since, or an error of some kind).
    const known = this.#ids.get(cluster);
    if (known !== undefined && typeof t === 'number' && r !== undefined) {
      const packed = inner.evaluateId(this.#gen, known, r, t);
      if (packed >= 0) return this.#decision(inner, packed, known);
    }
    // Resolve the name (names longer than any valid one skip it: no need to copy them into
    // linear memory), then the same call.
    if (typeof t === 'number' && typeof cluster === 'string' && cluster.length <= 256 && r !== undefined) {
      this.#sync(inner);
      const id = this.#id(inner, cluster);
      const packed = id < 0 ? -1 : inner.evaluateId(this.#gen, id, r, t);
      if (packed >= 0) return this.#decision(inner, packed, id);
      // An error of some kind: the command below names it exactly.
    }
    return this[RUN]({ op: 'evaluate', cluster, resource, now: t });
  }

  evaluateMany(requests) {
    if (requests === null || typeof requests !== 'object' || typeof field(requests, Symbol.iterator, '`requests`') !== 'function') {
      throw malformed('`requests` must be an array (or iterable)');
    }
    let list;
    try {
      list = Array.from(requests);
    } catch (e) {
      if (e instanceof SupportAccessError) throw e;
      throw malformed(`\`requests\` cannot be iterated (${e?.message ?? e})`);
    }
    const what = '`requests` item';
    const inner = this.#p;
    // Hot path: every request read once (fields, then its time), ids resolved here (cached),
    // then the whole batch in one call to the core, whose batch rule denies an unknown cluster
    // CLUSTER_NOT_FOUND. Any request it cannot answer exactly (a string time, an error, a name
    // JSON cannot carry) sends the whole batch through the command, which answers or names the
    // error.
    const n = list.length;
    const b = batchBuffers(n);
    this.#sync(inner);
    const ids = this.#ids;
    // The clusters as read, for the command if the batch falls back; the resources and times
    // of the requests answered so far are in `b` (exactly as read), the rest in `resources`
    // and `nows` once a request falls back.
    const clusters = new Array(n);
    let resources = null;
    let nows = null;
    for (let i = 0; i < n; i++) {
      const q = list[i];
      let cluster, resource, t;
      try {
        cluster = q?.cluster;
        resource = q?.resource;
        t = q?.now;
      } catch (e) {
        throw malformed(`${what} cannot be read (${e?.message ?? e})`);
      }
      const now = time(t);
      clusters[i] = cluster;
      if (resources === null) {
        const r = resourceAt(resource);
        let id = ids.get(cluster); // only names are ever keys
        if (id === undefined && typeof cluster === 'string' && cluster.length <= 256) id = this.#id(inner, cluster);
        if (typeof now === 'number' && r !== undefined && id !== undefined && (id >= 0 || cluster.isWellFormed())) {
          b.ids[i] = id < 0 ? 0xffffffff : id;
          b.res[i] = r;
          b.nows[i] = now;
          continue;
        }
        resources = new Array(n);
        nows = new Array(n);
        for (let j = 0; j < i; j++) {
          resources[j] = RESOURCES[b.res[j]];
          nows[j] = b.nows[j];
        }
      }
      resources[i] = resource;
      nows[i] = now;
    }
    if (resources === null && inner.evaluateManyIds(b.ids.subarray(0, n), b.res.subarray(0, n), b.nows.subarray(0, n), b.codes.subarray(0, n), b.exps.subarray(0, n), b.rems.subarray(0, n))) {
      const out = new Array(n);
      for (let j = 0; j < n; j++) out[j] = decode(b.codes[j], b.exps[j], b.rems[j], b.ids[j]);
      return out;
    }
    const items = resources === null
      ? clusters.map((cluster, i) => ({ cluster, resource: RESOURCES[b.res[i]], now: b.nows[i] }))
      : clusters.map((cluster, i) => ({ cluster, resource: resources[i], now: nows[i] }));
    return this[RUN]({ op: 'evaluateMany', requests: items });
  }

  exportRecord() {
    return this.#p.exportRecord();
  }

  /** Checks this policy's record against checkpoints signed by trusted keys (UNTRUSTED_KEY,
   * BAD_SIGNATURE, CHECKPOINT_MISMATCH, RECORD_TRUNCATED, CHECKPOINTS_DISAGREE, with `.seq`). */
  verifyCheckpoints(checkpoints, trustedKeys) {
    // The `verifyCheckpoints` command over this policy's own record: the core's one code path
    // (a typed export of the same check would cost the .wasm 4 KB, docs/benchmarks.md).
    const record = this.exportRecord();
    return this[RUN]({ op: 'verifyCheckpoints', record, checkpoints: texts(checkpoints, 'checkpoints', Checkpoint), trustedKeys: texts(trustedKeys, 'trustedKeys', PublicKey) });
  }

  /** Rebuilds a policy from its record (JSON Lines). */
  static replay(text) {
    try {
      return new Policy(FROM_INNER, wasmReplay(recordBytes(text)));
    } catch (e) {
      return rethrow(e);
    }
  }

  /** Checks a record; the number of events, or throws RECORD_TAMPERED with `.seq`. */
  static verifyRecord(text) {
    return unwrap(wasmVerifyRecord(recordBytes(text))).events;
  }

  /** Frees the WebAssembly memory now (otherwise the garbage collector does it). */
  free() {
    this.#inner?.free();
    this.#inner = undefined;
    this.#grant = null;
  }
}

/** Checks a JSON Lines record: how many events it holds, or throws RECORD_TAMPERED with `.seq`. */
export function verifyRecord(record) {
  return Policy.verifyRecord(record);
}

// ----- signed checkpoints (SPEC §9): read and verified by the core; this package does not sign -----

/** This package verifies checkpoints but cannot sign them (the native packages can): its core
 * is built without signing, and the `publicKey` and `checkpoint` commands answer UNKNOWN_OP. */
export const SIGNING = false;

/** Verifies a JSON Lines record, then checks it against checkpoints signed by trusted keys. */
export function verifyCheckpoints(record, checkpoints, trustedKeys) {
  const c = texts(checkpoints, 'checkpoints', Checkpoint);
  const k = texts(trustedKeys, 'trustedKeys', PublicKey);
  if (typeof record !== 'string') recordBytes(record); // MALFORMED_INPUT, as for verifyRecord
  scratch ??= new Policy({ orgId: 'verifyCheckpoints' });
  // The command reads only its fields, never the policy it runs on.
  return unwrap(scratch.apply({ op: 'verifyCheckpoints', record, checkpoints: c, trustedKeys: k }));
}

/** The policy `verifyCheckpoints` runs its command on (it reads nothing of it). */
let scratch;
