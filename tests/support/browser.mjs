// Debian's Chromium (apt package `chromium`, installed by scripts/test.sh), driven by
// playwright-core: headless, no sandbox (root in CI), and none of Chromium's background
// networking (these machines reach only the package registries).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const CHROMIUM = '/usr/bin/chromium';
const SWITCHES = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser whose every `newContext()` starts with empty storage and cache (for benchmarks). */
export function launchIsolatedBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: SWITCHES });
}

/** @param {{args?: string[]}} options  extra Chromium switches (e.g. --host-resolver-rules) */
export async function launchBrowser({ args = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'edgechat-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...SWITCHES, ...args],
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
