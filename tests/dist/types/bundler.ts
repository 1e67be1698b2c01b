// `bundler` resolution (what Vite, esbuild and webpack users' tsconfig says).
import { Policy, type Decision } from 'support-access-wasm';
import { VERSION } from 'support-access-wasm/web';

const p = new Policy({ orgId: 'org-1' });
const d: Decision = p.evaluate('Cluster0', 'DATABASE_LOGS');
// @ts-expect-error
p.evaluate('Cluster0', 'NO_SUCH_RESOURCE');
export { d, VERSION };
