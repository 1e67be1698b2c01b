// Every conformance vector through the ESM package in real Chromium (Debian's, headless, driven
// by playwright-core), from a page served on 127.0.0.1. Fails on any mismatch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { launch } from './chromium.mjs';
import { serve } from '../../../examples/web/server.mjs';

const server = await serve(0);
const browser = await launch();
after(async () => {
  await browser.close();
  await server.close();
});

const page = await browser.context.newPage();
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
await page.goto(`${server.url}/bindings/wasm/tests/browser/index.html`);
await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 60_000 });
const report = await page.evaluate(() => window.__results);

test('the page loaded the package and ran', () => {
  assert.equal(report.ok, true, report.error);
  assert.match(report.userAgent, /Chrome\//);
  assert.deepEqual(consoleErrors, []);
  console.log(`# browser: ${report.userAgent}`);
});

for (const r of report.results ?? []) {
  test(`chromium: ${r.name}`, () => assert.deepEqual(r.failures, []));
}
