// The demo as a live client of the service, in real Chromium: two replicas of
// `support-access serve` on one store (the test PostgreSQL server when $SUPPORT_ACCESS_TEST_PG is
// set, else one record file), one page following each. A grant made in the page on replica 1
// appears, with its countdown, in the page on replica 2; a revoke there ends it in the first; both
// pages verify the record against the checkpoints the replicas sign. Needs $SA_BIN (the CLI).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { launch, ROOT } from '../../../bindings/wasm/tests/chromium.mjs';
import { serve } from '../server.mjs';

const OUT = process.env.SA_TEST_OUTPUT ?? join(ROOT, '.cache', 'test-output');
mkdirSync(OUT, { recursive: true });
const BIN = process.env.SA_BIN;
const TOKEN = 'live-demo-token';
// One organization per run, so runs on a shared database never meet.
const ORG = `live-${process.pid}-${Date.now()}`;

let dir;
let site;
let browser;
const replicas = [];
const urls = [];
const pages = [];
const pageErrors = [];

function cli(...args) {
  return execFileSync(BIN, [...store(), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

function store() {
  const pg = process.env.SUPPORT_ACCESS_TEST_PG;
  return pg ? ['--store', pg, '--org', ORG] : ['--store', join(dir, 'record.jsonl')];
}

/** A replica on a free loopback port; resolves to its URL once it listens. */
function replica(key, origin) {
  const child = spawn(BIN, [...store(), 'serve', '--listen', '127.0.0.1:0', '--tokens', join(dir, 'tokens.json'), '--key', key, '--allow-origin', origin],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  replicas.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stderr });
    lines.on('line', (line) => {
      const m = line.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)));
  });
}

before(async () => {
  assert.ok(BIN, 'SA_BIN names the support-access binary');
  dir = mkdtempSync(join(tmpdir(), 'sa-live-'));
  const hash = createHash('sha256').update(TOKEN).digest('hex');
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ sha256: hash, id: 'alice', orgs: { [ORG]: [{ role: 'ORG_OWNER' }] } }] }));
  const owner = ['--actor', 'alice', '--role', 'ORG_OWNER'];
  cli('init', '--org', ORG, '--restrict');
  cli(...owner, 'project', 'add', 'payments');
  cli(...owner, 'cluster', 'add', 'Cluster0', '--project', 'payments');
  cli(...owner, 'cluster', 'add', 'orders-prod', '--project', 'payments', '--sync');
  const key = join(dir, 'replica.key');
  const pub = execFileSync(BIN, ['key', 'new', '--out', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  site = await serve(0);
  const [r1, r2] = await Promise.all([replica(key, site.url), replica(key, site.url)]);
  urls.push(r1, r2);
  browser = await launch();
  for (const r of [r1, r2]) {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const q = new URLSearchParams({ service: r, org: ORG, token: TOKEN, trust: pub });
    await page.goto(`${site.url}/examples/web/?${q}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    pages.push(page);
  }
});

after(async () => {
  await browser?.close();
  await site?.close();
  for (const r of replicas) r.kill('SIGTERM');
  await Promise.all(replicas.map((r) => (r.exitCode === null ? new Promise((res) => r.once('exit', res)) : null)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('both pages load the organization through the API, support blocked', async () => {
  for (const page of pages) {
    assert.equal(await page.getByTestId('live-status').isVisible(), true);
    assert.match(await page.getByTestId('row-Cluster0').innerText(), /blocked/i);
    assert.equal(await page.locator('body').getAttribute('data-events'), '4');
    assert.equal(await page.getByTestId('actor').isVisible(), false, 'who is asking is the token');
  }
});

test('a grant in the page on replica 1 appears, with its countdown, in the page on replica 2', async () => {
  const [one, two] = pages;
  // A page in the background gets no animation frames, which clicks wait for.
  await one.bringToFront();
  await one.getByTestId('menu-Cluster0').click();
  await one.getByTestId('menu-grant').click();
  await one.locator('#grant-options input[value="CLUSTER_DATABASE_LOGS"]').check();
  await one.getByTestId('grant-duration').selectOption('3600000');
  await one.getByTestId('grant-submit').click();
  const countdown = two.getByTestId('countdown-Cluster0');
  await countdown.waitFor({ timeout: 5000 });
  const first = await countdown.innerText();
  assert.match(first, /^00:(59|60):\d\d$|^01:00:00$/);
  await two.waitForFunction((v) => document.querySelector('[data-testid="countdown-Cluster0"]')?.textContent !== v, first, { timeout: 5000 });
  assert.equal(await two.locator('#events li[data-type="EMPLOYEE_ACCESS_GRANTED"]').count(), 1);
  // "Ask as support" is answered by the page's own core, now in step with the service.
  await two.bringToFront();
  await two.getByTestId('ask-cluster').selectOption('Cluster0');
  await two.getByTestId('ask-resource').selectOption('DATABASE_LOGS');
  await two.getByTestId('ask-button').click();
  assert.equal(await two.getByTestId('answer').getAttribute('data-reason'), 'GRANT_ACTIVE');
  await one.getByTestId('countdown-Cluster0').waitFor({ timeout: 5000 });
  await two.bringToFront();
  await two.screenshot({ path: join(OUT, 'demo-live-replica2.png'), fullPage: true });
});

test('each page verifies the record against the checkpoints the replicas sign', async () => {
  for (const page of pages) {
    await page.waitForFunction(() => document.body.dataset.verifiedUpTo === '5', null, { timeout: 5000 });
    assert.match(await page.getByTestId('checkpoint-status').innerText(), /verified up to #5, signed by [0-9a-f]{16}/);
  }
});

test('a revoke in the page on replica 2 ends the grant in the page on replica 1', async () => {
  const [one, two] = pages;
  await two.bringToFront();
  await two.getByTestId('menu-Cluster0').click();
  await two.getByTestId('menu-revoke').click();
  await one.waitForFunction(() => !document.querySelector('[data-testid="countdown-Cluster0"]'), null, { timeout: 5000 });
  assert.match(await one.getByTestId('row-Cluster0').innerText(), /grant revoked/);
});

test('a refusal from the service reaches the page with its code; both pages hold its record', async () => {
  const [one] = pages;
  await one.bringToFront();
  // No grant is active, so the page greys out "revoke"; send one anyway, as a stale page would.
  await one.getByTestId('menu-Cluster0').click();
  await one.evaluate(() => { document.querySelector('[data-testid="menu-revoke"]').disabled = false; });
  await one.getByTestId('menu-revoke').click();
  await one.waitForFunction(() => /NO_ACTIVE_GRANT/.test(document.getElementById('toast').textContent), null, { timeout: 5000 });
  assert.deepEqual(pageErrors, []);
  const res = await fetch(`${urls[0]}/v1/orgs/${ORG}/record`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.equal((await res.text()).trimEnd().split('\n').length, 6, 'the refusal stored nothing');
  for (const page of pages) assert.equal(await page.locator('body').getAttribute('data-events'), '6');
});
