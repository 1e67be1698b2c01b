// `node16` / `nodenext` from a CommonJS module: `require` → the `node` → `require` entries' types,
// which must be CommonJS types (ES module types here are TS1471 under node16).
import wasm = require('support-access-wasm');
import native = require('support-access');

const p = new wasm.Policy({ orgId: 'org-1' });
const d: wasm.Decision = p.evaluate('Cluster0', 'DATABASE_LOGS');
const n = new native.Policy({ orgId: 'org-1' });
// @ts-expect-error
p.evaluate('Cluster0', 'NO_SUCH_RESOURCE');
// @ts-expect-error
n.evaluate('Cluster0', 'NO_SUCH_RESOURCE');
export = { d, v: wasm.VERSION };
