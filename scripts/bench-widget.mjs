// `npm run bench` (widget part): bytes of embed.js, of what the widget fetches on open and of the
// SDKs, raw / gzip / brotli; then, in headless Chromium against wrangler dev + the local Twilio
// emulator on loopback, medians over N runs (cache disabled: a first visit) of:
//   navigation -> launcher visible, click -> panel interactive (composer focused),
//   click -> conversation ready (send enabled), and long tasks on the host page during load.
// Usage: node scripts/bench-widget.mjs [runs, default 10]
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join } from 'node:path';
import { startWorker, testSecrets, ROOT } from '../tests/support/worker.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { launchBrowser } from '../tests/support/browser.mjs';
import { startHost, hostPage } from '../tests/support/host.mjs';
import { builtFiles } from './lib/files.mjs';

const runs = Math.max(1, Math.min(100, Number(process.argv[2] ?? 10)));

const sizes = (path) => {
  const bytes = readFileSync(join(ROOT, path));
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
};
const built = builtFiles();
const files = [
  ['embed.js (eager)', built.embed],
  ['widget JS glue (on open)', built.module],
  ['widget wasm, CSS inside (on open)', built.wasm],
  ['SDK: @twilio/conversations 3.0.1 (on open, in its own realm)', built.sdk],
];
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log('\n| file | raw | gzip | brotli |\n|---|---|---|---|');
const measured = files.map(([name, path]) => [name, sizes(path)]);
for (const [name, s] of measured) console.log(`| ${name} | ${kb(s.raw)} | ${kb(s.gzip)} | ${kb(s.brotli)} |`);
const onOpen = measured.slice(1, 3).reduce((a, [, s]) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
console.log(`| widget on open, not counting the SDK | ${kb(onOpen.raw)} | ${kb(onOpen.gzip)} | ${kb(onOpen.brotli)} |`);
const withSdk = measured.slice(1, 4).reduce((a, [, s]) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
console.log(`| everything fetched on open, the SDK included | ${kb(withSdk.raw)} | ${kb(withSdk.gzip)} | ${kb(withSdk.brotli)} |`);

const secrets = testSecrets();
const SERVICE = 'IS' + 'b2'.repeat(16);
const host = await startHost();
const emu = await startEmulator({ secrets, services: [SERVICE] });
const worker = await startWorker({
  secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
  sites: { bench: JSON.stringify({ allowed_origins: [host.origin], service_sid: SERVICE, automation: 'none' }) },
});
const browser = await launchBrowser();
const url = host.page('/bench', hostPage({ workerUrl: worker.url, site: 'bench' }));

// In the page from its first script: when the launcher appears, and long tasks until then + 1 s.
const probe = () => {
  window.__bench = { longTasks: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__bench.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
  const poll = () => {
    const launcher = document.querySelector('edgechat-widget')?.shadowRoot?.querySelector('button.launcher');
    if (launcher && launcher.getBoundingClientRect().width > 0) window.__bench.launcher = performance.now();
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
};

// Click the launcher (no hover first: the widget loads on the click) and time, in the page, until
// the composer has focus (interactive) and until the send button is enabled (conversation ready).
const clickAndTime = () => new Promise((resolve) => {
  const root = document.querySelector('edgechat-widget').shadowRoot;
  const t0 = performance.now();
  root.querySelector('button.launcher').click();
  let interactive;
  const poll = () => {
    const textarea = root.querySelector('textarea');
    if (interactive === undefined && textarea && root.activeElement === textarea) interactive = performance.now() - t0;
    const send = root.querySelector('button[aria-label="Send"][aria-disabled="false"]');
    if (interactive !== undefined && send) resolve({ interactive, ready: performance.now() - t0 });
    else if (performance.now() - t0 > 15_000) resolve({ interactive, ready: NaN });
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
});

const samples = { launcher: [], interactive: [], ready: [], longTaskCount: [], longTaskMs: [] };
try {
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.addInitScript(probe);
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => window.__bench.launcher !== undefined, null, { timeout: 10_000 });
    await page.waitForTimeout(1000);
    const load = await page.evaluate(() => window.__bench);
    const timing = await page.evaluate(clickAndTime);
    samples.launcher.push(load.launcher);
    samples.longTaskCount.push(load.longTasks.length);
    samples.longTaskMs.push(load.longTasks.reduce((a, b) => a + b, 0));
    samples.interactive.push(timing.interactive);
    samples.ready.push(timing.ready);
    await page.evaluate(() => localStorage.clear()); // the next run is a new visitor again
    await page.close();
  }
} finally {
  await browser.close();
  worker.stop();
  emu.stop();
  await host.stop();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${x.toFixed(0)} ms`;
console.log(`\n| in Chromium, loopback, cache disabled (${runs} runs) | median | min | max |\n|---|---|---|---|`);
for (const [name, key, fmt] of [
  ['navigation -> launcher visible', 'launcher', ms],
  ['click -> a composer has focus: the shell\'s, then the app\'s (budget 150 ms)', 'interactive', ms],
  ['click -> ready to send (real SDK, emulator; the conversation comes with the first message)', 'ready', ms],
  ['long tasks on the host page during load (count)', 'longTaskCount', String],
  ['long tasks on the host page during load (total)', 'longTaskMs', ms],
]) {
  const xs = samples[key];
  console.log(`| ${name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} | ${fmt(Math.max(...xs))} |`);
}

