// A short FFI-abuse pass for the browser page (the full suite, tests/abuse.test.mjs, runs in
// Node): the same hostile input in Chromium's V8 and its WebAssembly memory. Returns a list of
// failures (empty: all good).
export function runAbuse({ Policy, SupportAccessError, ERROR_CODES, verifyRecord }, memory) {
  const failures = [];
  const check = (ok, what) => {
    if (!ok) failures.push(what);
  };
  const MIB = 1 << 20;
  const owner = { id: 'alice', roles: [{ role: 'ORG_OWNER' }] };
  const T0 = Date.parse('2026-11-28T10:00:00Z');
  const NOW = T0 + 3600_000;
  const p = new Policy({ orgId: 'o', restrictEmployeeAccess: true });
  p.addProject(owner, 'p1', T0);
  p.addCluster(owner, 'p1', 'C0', {}, T0);
  p.grant(owner, 'C0', 'CLUSTER_INFRASTRUCTURE', T0);
  const before = p.exportRecord();

  // Commands over the core's 32 MiB limit: one error result, and linear memory does not grow.
  const mem0 = memory.buffer.byteLength;
  for (const [label, cmd] of [
    ['64 MiB of x', 'x'.repeat(64 * MIB)],
    ['64 MiB of [', '['.repeat(64 * MIB)],
    ['64 Mi lone surrogates', '\ud800'.repeat(64 * MIB)],
  ]) {
    const t = performance.now();
    let r;
    try {
      r = JSON.parse(p.apply(cmd));
    } catch (e) {
      failures.push(`${label}: apply threw ${e}`);
      continue;
    }
    check(r.error?.code === 'MALFORMED_INPUT', `${label}: ${JSON.stringify(r).slice(0, 200)}`);
    check(performance.now() - t < 2000, `${label}: ${(performance.now() - t).toFixed(0)} ms`);
  }
  check(memory.buffer.byteLength === mem0, `linear memory grew from ${mem0} to ${memory.buffer.byteLength}`);

  // Typed calls with hostile values: SupportAccessError with a SPEC code, record unchanged.
  const huge = 'C'.repeat(64 * MIB);
  const circular = {};
  circular.self = circular;
  const calls = [
    ['huge cluster', () => p.evaluate(huge, 'DATABASE_LOGS', NOW)],
    ['huge project', () => p.addProject(owner, huge, NOW)],
    ['huge record', () => verifyRecord(huge)],
    ['huge replay', () => Policy.replay(huge)],
    ['NaN time', () => p.evaluate('C0', 'DATABASE_LOGS', NaN), 'INVALID_TIMESTAMP'],
    ['Infinity time', () => p.revoke(owner, 'C0', Infinity), 'INVALID_TIMESTAMP'],
    ['invalid Date', () => p.grant(owner, 'C0', 'CLUSTER_INFRASTRUCTURE', new Date(NaN)), 'INVALID_TIMESTAMP'],
    ['BigInt time', () => p.describe(10n), 'INVALID_TIMESTAMP'],
    ['BigInt actor', () => p.grant({ id: 1n, roles: [] }, 'C0', 'CLUSTER_INFRASTRUCTURE', NOW), 'MALFORMED_INPUT'],
    ['circular actor', () => p.grant(circular, 'C0', 'CLUSTER_INFRASTRUCTURE', NOW), 'MALFORMED_INPUT'],
    ['Symbol cluster', () => p.revoke(owner, Symbol('x'), NOW), 'MALFORMED_INPUT'],
    ['null cluster', () => p.evaluate(null, 'DATABASE_LOGS', NOW), 'MALFORMED_INPUT'],
    ['NaN maxGrantDurationMs', () => new Policy({ orgId: 'o', maxGrantDurationMs: NaN }), 'MALFORMED_INPUT'],
    ['lone surrogate', () => p.addProject(owner, 'p\ud800', NOW)],
    ['NUL', () => p.addProject(owner, 'p\0', NOW), 'MALFORMED_INPUT'],
  ];
  for (let i = 0; i < 200; i++) calls.push([`failure #${i}`, () => p.revoke(owner, 'Nope', NOW), 'CLUSTER_NOT_FOUND']);
  for (const [label, fn, code] of calls) {
    try {
      fn();
      failures.push(`${label}: nothing thrown`);
    } catch (e) {
      check(e instanceof SupportAccessError && e instanceof Error && ERROR_CODES.includes(e.code), `${label}: ${e}`);
      if (code) check(e.code === code, `${label}: ${e.code}, expected ${code}`);
    }
    check(p.exportRecord() === before, `${label}: record changed`);
  }

  // And it all still works.
  p.grant(owner, 'C0', 'CLUSTER_DATABASE_LOGS', NOW);
  check(p.evaluate('C0', 'DATABASE_LOGS', NOW + 1).allowed === true, 'grant did not allow');
  check(verifyRecord(p.exportRecord()) === p.events().length, 'record does not verify');
  return failures;
}
