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

/**
 * Runs one vector: `newPolicy(optionsJson)` returns an object with `apply(text) -> text`.
 * Returns the list of mismatches (empty = pass) and every result, in order.
 */
export function runVector(vector, newPolicy) {
  const failures = [];
  const results = [];
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
    if (got !== s.expect) {
      failures.push(`step ${step}: ${s.command}\n  expected ${s.expect}\n  got      ${got}`);
    }
  }
  return { failures, results };
}
