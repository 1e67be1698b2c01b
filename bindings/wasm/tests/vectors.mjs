// The conformance-vector format (tests/vectors/README.md), shared by the Node, plugin and
// browser runners. Works in browsers too: it only parses text.

/** Parses vectors.txt into [{name, policy, steps: [{command, expect}]}]. */
export function parseVectors(text) {
  const vectors = [];
  let cur = null;
  let pending = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    const where = `vectors.txt line ${i + 1}`;
    switch (key) {
      case 'vector':
        if (cur) throw new Error(`${where}: vector ${rest} starts before ${cur.name} ends`);
        cur = { name: rest, policy: null, steps: [] };
        break;
      case 'policy':
        if (!cur) throw new Error(`${where}: policy outside a vector`);
        cur.steps.push({ policy: rest });
        break;
      case 'command':
        if (!cur || pending !== null) throw new Error(`${where}: command without expect`);
        pending = rest;
        break;
      case 'expect':
        if (!cur || pending === null) throw new Error(`${where}: expect without command`);
        cur.steps.push({ command: pending, expect: rest });
        pending = null;
        break;
      case 'end':
        if (!cur || pending !== null) throw new Error(`${where}: bad end`);
        vectors.push(cur);
        cur = null;
        break;
      default:
        throw new Error(`${where}: unknown item ${key}`);
    }
  }
  if (cur) throw new Error(`vectors.txt: vector ${cur.name} never ends`);
  return vectors;
}

/** The commands that sign (SPEC §9), which a front end without signing answers with the
 * core's UNKNOWN_OP result (the browser package: docs/spec.md §9). */
export const SIGNING_OPS = Object.freeze(['publicKey', 'checkpoint']);

/** What a front end that does not sign answers to a signing command, byte for byte. */
export function notSigned(op) {
  return `{"error":{"code":"UNKNOWN_OP","message":"unknown op \`${op}\`"}}`;
}

function signingOp(command) {
  try {
    const op = JSON.parse(command)?.op;
    return SIGNING_OPS.includes(op) ? op : null;
  } catch {
    return null;
  }
}

/**
 * Runs one vector: `newPolicy(optionsJson)` returns an object with `apply(text) -> text`.
 * Returns the list of mismatches (empty = pass), every result in order, and `unsigned`: how many
 * signing commands were checked against `notSigned` instead of `expect`. That happens only with
 * `{ signs: false }` (a front end without signing, named by its caller), and only for the
 * commands of SIGNING_OPS; every other command must give `expect` exactly, and a signing
 * command must give exactly `notSigned(op)`.
 */
export function runVector(vector, newPolicy, { signs = true } = {}) {
  const failures = [];
  const results = [];
  let unsigned = 0;
  let policy = null;
  let step = 0;
  for (const s of vector.steps) {
    step++;
    if (s.policy !== undefined) {
      policy = newPolicy(s.policy);
      continue;
    }
    if (!policy) {
      failures.push(`step ${step}: command before any policy`);
      continue;
    }
    const got = policy.apply(s.command);
    results.push(got);
    const op = signs ? null : signingOp(s.command);
    const want = op === null ? s.expect : notSigned(op);
    if (op !== null) unsigned++;
    if (got !== want) {
      failures.push(`step ${step}: ${s.command}\n  expected ${want}\n  got      ${got}`);
    }
  }
  return { failures, results, unsigned };
}
