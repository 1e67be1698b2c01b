// The demo page in real Chromium: grant → countdown → ask (allowed) → reload (replayed from
// localStorage) → revoke → ask (denied) → verify, plus the owner-only toggle and a FORBIDDEN from
// the core. Saves screenshots in $SA_TEST_OUTPUT (default .cache/test-output/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { launch, ROOT } from '../../../bindings/wasm/tests/chromium.mjs';
import { serve } from '../server.mjs';

const OUT = process.env.SA_TEST_OUTPUT ?? join(ROOT, '.cache', 'test-output');
mkdirSync(OUT, { recursive: true });

let server;
let browser;
let page;
const pageErrors = [];

before(async () => {
  server = await serve(0);
  browser = await launch();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(`${server.url}/examples/web/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const tid = (id) => page.getByTestId(id);

async function ask(cluster, resource) {
  await tid('ask-cluster').selectOption(cluster);
  await tid('ask-resource').selectOption(resource);
  await tid('ask-button').click();
  const box = tid('answer');
  await box.waitFor({ state: 'visible' });
  return { allowed: await box.getAttribute('data-allowed'), reason: await box.getAttribute('data-reason'), text: await box.innerText() };
}

test('the demo loads with the seeded organization, support blocked', async () => {
  await assert.doesNotReject(tid('row-Cluster0').waitFor());
  assert.equal(await tid('restrict').isChecked(), true);
  assert.equal(await tid('restrict').isDisabled(), false);
  assert.match(await tid('row-Cluster0').innerText(), /blocked/i);
  assert.equal(await page.locator('#events li').count(), 7);
});

test('before any grant, support is denied with NO_GRANT', async () => {
  const a = await ask('Cluster0', 'DATABASE_LOGS');
  assert.equal(a.allowed, 'false');
  assert.equal(a.reason, 'NO_GRANT');
  assert.match(a.text, /Denied/);
});

test('the grant dialog offers what the SPEC allows for the cluster', async () => {
  await tid('menu-Cluster0').click();
  await tid('menu-grant').click();
  const dialog = tid('grant-dialog');
  await dialog.waitFor({ state: 'visible' });
  const visible = async (type) => page.locator(`#grant-options .option[data-grant="${type}"]`).isVisible();
  assert.equal(await visible('CLUSTER_INFRASTRUCTURE'), true);
  assert.equal(await visible('CLUSTER_DATABASE_LOGS'), true);
  assert.equal(await visible('CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA'), false, 'Cluster0 has no App Services sync');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await tid('menu-orders-prod').click();
  await tid('menu-grant').click();
  assert.equal(await visible('CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA'), true, 'orders-prod has App Services sync');
  await page.getByRole('button', { name: 'Cancel' }).click();
});

test('grant → live countdown → support allowed', async () => {
  await tid('menu-Cluster0').click();
  await tid('menu-grant').click();
  await page.locator('#grant-options input[value="CLUSTER_DATABASE_LOGS"]').check();
  await tid('grant-duration').selectOption('3600000');
  await page.screenshot({ path: join(OUT, 'demo-grant-dialog.png') });
  await tid('grant-submit').click();
  const countdown = tid('countdown-Cluster0');
  await countdown.waitFor();
  const first = await countdown.innerText();
  assert.match(first, /^00:(59|60):\d\d$|^01:00:00$/);
  await page.waitForFunction((v) => document.querySelector('[data-testid="countdown-Cluster0"]')?.textContent !== v, first, { timeout: 5000 });
  const second = await countdown.innerText();
  assert.notEqual(second, first, 'the countdown ticks');
  const a = await ask('Cluster0', 'DATABASE_LOGS');
  assert.deepEqual([a.allowed, a.reason], ['true', 'GRANT_ACTIVE']);
  const b = await ask('Cluster0', 'AUDIT_LOGS');
  assert.deepEqual([b.allowed, b.reason], ['false', 'NOT_COVERED_BY_GRANT']);
  await page.screenshot({ path: join(OUT, 'demo-granted.png'), fullPage: true });
});

test('the record persists: a reload replays it from localStorage', async () => {
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await tid('countdown-Cluster0').waitFor();
  assert.equal(await page.locator('#events li[data-type="EMPLOYEE_ACCESS_GRANTED"]').count(), 1);
  assert.equal(await page.locator('body').getAttribute('data-replayed'), '8');
});

test('a read-only actor cannot change the setting or grant: FORBIDDEN from the core', async () => {
  await tid('actor').selectOption('rita');
  assert.equal(await tid('restrict').isDisabled(), true);
  await tid('menu-Cluster0').click();
  await tid('menu-grant').click();
  await tid('grant-submit').click();
  await page.locator('#grant-error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#grant-error').innerText(), /^FORBIDDEN/);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await tid('actor').selectOption('sam');
  assert.equal(await tid('restrict').isDisabled(), true, 'owner only');
});

test('revoke → support denied with GRANT_REVOKED', async () => {
  await tid('menu-Cluster0').click();
  await tid('menu-revoke').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="countdown-Cluster0"]'));
  assert.match(await tid('row-Cluster0').innerText(), /grant revoked/);
  const a = await ask('Cluster0', 'DATABASE_LOGS');
  assert.deepEqual([a.allowed, a.reason], ['false', 'GRANT_REVOKED']);
  const d = await ask('Cluster0', 'DATABASE_DATA');
  assert.deepEqual([d.allowed, d.reason], ['false', 'DATABASE_DATA_NEVER_ACCESSIBLE']);
  assert.equal(await page.locator('#events li[data-type="EMPLOYEE_ACCESS_REVOKED"]').count(), 1);
});

test('the activity record verifies, and a tampered copy is caught with its seq', async () => {
  await tid('verify').click();
  assert.match(await tid('verify-result').innerText(), /Record verified: 9 events, hash chain intact/);
  await tid('tamper').click();
  assert.match(await tid('verify-result').innerText(), /RECORD_TAMPERED at event #8/);
  await tid('verify').click();
  await tid('actor').selectOption('alice');
  await ask('Cluster0', 'DATABASE_LOGS');
  await page.screenshot({ path: join(OUT, 'demo.png'), fullPage: true });
});

test('the owner unblocks support: infrastructure allowed by the org setting, sync data still needs a grant', async () => {
  await tid('restrict').evaluate((e) => e.click());
  await page.waitForFunction(() => !document.querySelector('[data-testid="restrict"]').checked);
  const a = await ask('Cluster0', 'INFRASTRUCTURE');
  assert.deepEqual([a.allowed, a.reason], ['true', 'ORG_UNRESTRICTED']);
  const s = await ask('orders-prod', 'SYNC_DATA');
  assert.deepEqual([s.allowed, s.reason], ['false', 'SYNC_DATA_REQUIRES_GRANT']);
  await tid('menu-orders-prod').click();
  await tid('menu-grant').click();
  const visible = async (type) => page.locator(`#grant-options .option[data-grant="${type}"]`).isVisible();
  assert.equal(await visible('CLUSTER_INFRASTRUCTURE'), false);
  assert.equal(await visible('CLUSTER_INFRASTRUCTURE_AND_APP_SERVICES_SYNC_DATA'), true);
  await tid('grant-submit').click();
  await tid('countdown-orders-prod').waitFor();
  const g = await ask('orders-prod', 'SYNC_DATA');
  assert.deepEqual([g.allowed, g.reason], ['true', 'GRANT_ACTIVE']);
});

test('a tampered saved record is rejected on reload (RECORD_TAMPERED with its seq) and the demo starts fresh', async () => {
  await page.evaluate(() => {
    const key = 'support-access-demo/record';
    const lines = localStorage.getItem(key).trimEnd().split('\n');
    const e = JSON.parse(lines[7]); // seq 8: the first grant
    e.grantType = 'CLUSTER_INFRASTRUCTURE';
    lines[7] = JSON.stringify(e);
    localStorage.setItem(key, `${lines.join('\n')}\n`);
  });
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.locator('body').getAttribute('data-rejected'), 'RECORD_TAMPERED 8');
  assert.match(await page.locator('#toast').innerText(), /rejected/);
  assert.equal(await page.locator('#events li').count(), 7, 'a fresh seeded organization');
});

test('no errors on the page', () => {
  assert.deepEqual(pageErrors, []);
});
