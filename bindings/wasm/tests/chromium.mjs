// Launches Debian's Chromium headless through playwright-core: fresh profile, XDG dirs in a
// scratch folder under .cache/, nothing written to $HOME, no network beyond 127.0.0.1.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXECUTABLE = process.env.SA_CHROMIUM ?? '/usr/bin/chromium';

export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A persistent context on a fresh --user-data-dir; `close()` also removes the scratch dir. */
export async function launch() {
  const base = join(ROOT, '.cache', 'chromium-scratch');
  mkdirSync(base, { recursive: true });
  const scratch = mkdtempSync(join(base, 'run-'));
  const env = {
    ...process.env,
    HOME: scratch,
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
  };
  const context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: EXECUTABLE,
    headless: true,
    args: FLAGS,
    env,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
