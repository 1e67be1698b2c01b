// Serves the scratch npm project (argv[2]) on 127.0.0.1 and opens, in Debian's Chromium driven by
// playwright-core (from argv[4], the tools' node_modules), the esbuild-bundled page and the page
// that loads the browser ES module directly. Both must run the policy and report `version`
// (argv[3]). Prints `N passed, M failed`.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, extname, normalize } from 'node:path';
import { tmpdir } from 'node:os';

const [root, expected, tools] = process.argv.slice(2);
const { chromium } = createRequire(join(tools, 'x.js'))('playwright-core');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

const fetched = [];
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  fetched.push(path);
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const scratch = await mkdtemp(join(tmpdir(), 'sa-chromium-'));
const context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
  executablePath: process.env.SA_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  env: { ...process.env, HOME: scratch, XDG_CONFIG_HOME: join(scratch, 'config'), XDG_CACHE_HOME: join(scratch, 'cache') },
});
let passed = 0;
let failed = 0;
async function check(name, page, wasmFile) {
  const errors = [];
  const tab = await context.newPage();
  tab.on('pageerror', (e) => errors.push(String(e)));
  tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  fetched.length = 0;
  let ok = false;
  let detail = '';
  try {
    await tab.goto(`${base}/${page}`);
    await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 30_000 });
    const r = await tab.evaluate(() => window.__result);
    const wasm = fetched.filter((f) => f.endsWith('.wasm'));
    detail = `${JSON.stringify(r)}; .wasm fetched: ${JSON.stringify(wasm)}; errors: ${JSON.stringify(errors)}`;
    ok = r.ok && r.version === expected && r.allowed === true && r.reason === 'GRANT_ACTIVE'
      && errors.length === 0 && JSON.stringify(wasm) === JSON.stringify(wasmFile ? [wasmFile] : []);
  } catch (e) {
    detail = `${e}; errors: ${JSON.stringify(errors)}`;
  }
  console.log(`${ok ? 'ok' : 'FAILED'}: ${name}: ${detail}`);
  if (ok) passed += 1; else failed += 1;
  await tab.close();
}
try {
  // The bundle carries the module inline (the `module` entry): no .wasm request.
  await check('esbuild bundle in Chromium', 'bundled.html', null);
  // The browser ES module fetches the .wasm next to it.
  await check('browser ES module (import map) in Chromium', 'direct.html',
    '/node_modules/support-access-wasm/web/support_access_wasm_bg.wasm');
} finally {
  await context.close();
  server.close();
  await rm(scratch, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed === 2 ? 0 : 1);
