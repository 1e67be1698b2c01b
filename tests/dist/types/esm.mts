// `node16` / `nodenext` from an ES module: `import` → the `node` → `import` entries' types.
import { Policy, VERSION, type Decision } from 'support-access-wasm';
import * as web from 'support-access-wasm/web';
import { Policy as NativePolicy } from 'support-access';

const p: Policy = new Policy({ orgId: 'org-1' });
const d: Decision = p.evaluate('Cluster0', 'DATABASE_LOGS');
const v: string = VERSION + web.VERSION;
const n = new NativePolicy({ orgId: 'org-1' });
// The types are real, not `any`: a resource that does not exist must not type-check.
// @ts-expect-error
p.evaluate('Cluster0', 'NO_SUCH_RESOURCE');
// @ts-expect-error
n.evaluate('Cluster0', 'NO_SUCH_RESOURCE');
export { d, v };
