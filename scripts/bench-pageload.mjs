// `npm run bench` (host page part): what the widget does to its host page's own numbers. A bare
// host page and the same page with the widget (the plain script tag, and the recommended snippet),
// served from a local server and interleaved, each run in a fresh browser context with a cold
// cache, under Lighthouse's slow-4G network (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up) and 4x
// CPU throttling through CDP: bytes and requests until network idle, the `load` event, network
// idle, total blocking time from long tasks, CLS, JS heap after load. Then Lighthouse itself (npm
// `lighthouse`, offline, Debian's Chromium, mobile defaults) on the bare page and the page with
// the snippet: performance score, LCP, TBT, CLS. Medians and deltas against the bare page.
// Usage: node scripts/bench-pageload.mjs [runs per page, default 7] [lighthouse runs, default 3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startWorker, testSecrets, ROOT } from '../tests/support/worker.mjs';
import { launchIsolatedBrowser, CHROMIUM } from '../tests/support/browser.mjs';
import { startHost } from '../tests/support/host.mjs';

const runs = Math.max(1, Math.min(30, Number(process.argv[2] ?? 7)));
const lighthouseRuns = Math.max(0, Math.min(10, Number(process.argv[3] ?? 3)));

const host = await startHost();
const demo = JSON.parse(readFileSync(join(ROOT, 'sites/demo.json'), 'utf8'));
demo.allowed_origins = [host.origin];
const worker = await startWorker({ secrets: testSecrets(), sites: { demo: JSON.stringify(demo) } });

// A content page of a realistic shape: a heading, text, an image-like block (the LCP element).
const content = `<main><h1>Acme</h1><p>${'Some content of the host page. '.repeat(40)}</p>
  <div style="width:100%;height:240px;background:linear-gradient(#48a,#136)"></div><p>${'More text. '.repeat(60)}</p></main>`;
const page = (extra) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme</title></head>
  <body>${content}${extra}</body></html>`;
const tag = `<script src="${worker.url}/embed.js" data-site="demo" async></script>`;
// The README's recommended snippet, read from README.md (what site owners paste is what is
// measured), for this Worker and site.
const snippet = readFileSync(join(ROOT, 'README.md'), 'utf8')
  .match(/<script>window\.edgechat=window\.edgechat[\s\S]*?<\/script>/)[0]
  .replace('https://chat.example.com', worker.url).replace("dataset.site='acme'", "dataset.site='demo'");
const pages = {
  bare: host.page('/bare', page('')),
  tag: host.page('/tag', page(tag)),
  snippet: host.page('/snippet', page(snippet)),
};

/** The deltas of `name` against the bare page, run by run (the runs are interleaved): "median (min to max)". */
const deltas = (runs, name, key, fmt) => {
  const ds = runs[name].map((s, i) => s[key] - runs.bare[i][key]);
  const f = (x) => (key === 'cls' ? x.toFixed(3) : fmt(x));
  return `${f(median(ds))} (${f(Math.min(...ds))} to ${f(Math.max(...ds))})`;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(browser, url) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  let bytes = 0;
  let requests = 0;
  let lastNetwork = 0;
  cdp.on('Network.requestWillBeSent', () => { requests++; lastNetwork = Date.now(); });
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; lastNetwork = Date.now(); });
  await tab.addInitScript(() => {
    window.__perf = { longTasks: [], cls: 0 };
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__perf.longTasks.push(e.duration); })
      .observe({ type: 'longtask', buffered: true });
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__perf.cls += e.value; })
      .observe({ type: 'layout-shift', buffered: true });
  });
  const started = Date.now();
  await tab.goto(url, { waitUntil: 'load', timeout: 60_000 });
  // Network idle: 1 s without a request starting or finishing (bounded at 20 s).
  while (Date.now() - lastNetwork < 1000 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 100));
  const idleMs = lastNetwork - started;
  const perf = await tab.evaluate(() => ({
    load: performance.getEntriesByType('navigation')[0].loadEventStart,
    tbt: window.__perf.longTasks.reduce((a, d) => a + Math.max(0, d - 50), 0),
    cls: window.__perf.cls,
  }));
  const heap = (await cdp.send('Performance.enable'), (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize').value);
  await context.close();
  return { bytes, requests, load: perf.load, idle: idleMs, tbt: perf.tbt, cls: perf.cls, heap };
}

const samples = { bare: [], tag: [], snippet: [] };
const browser = await launchIsolatedBrowser();
try {
  for (let i = 0; i < runs; i++) for (const name of Object.keys(pages)) samples[name].push(await measure(browser, pages[name]));
} finally {
  await browser.close();
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n) => `${n.toFixed(0)} ms`;
const columns = [
  ['bytes until network idle', 'bytes', kib], ['requests', 'requests', String], ['`load` event', 'load', ms],
  ['network idle', 'idle', ms], ['total blocking time (long tasks)', 'tbt', ms], ['CLS', 'cls', (x) => x.toFixed(3)],
  ['JS heap after load', 'heap', (n) => `${(n / 1024 / 1024).toFixed(2)} MiB`],
];
console.log(`\nHost page with and without the widget: slow 4G (150 ms, 1.6 Mbit/s) and 4x CPU through CDP, cold cache, ${runs} interleaved runs each; medians (bare page's min-max), deltas against the bare page`);
console.log('| | bare page | + script tag | delta, run by run: median (min to max) | + recommended snippet | delta, run by run: median (min to max) |\n|---|---|---|---|---|---|');
for (const [label, key, fmt] of columns) {
  const m = Object.fromEntries(Object.keys(samples).map((n) => [n, median(samples[n].map((s) => s[key]))]));
  const bare = samples.bare.map((s) => s[key]);
  const spread = `${fmt(Math.min(...bare))}-${fmt(Math.max(...bare))}`;
  console.log(`| ${label} | ${fmt(m.bare)} (${spread}) | ${fmt(m.tag)} | ${deltas(samples, 'tag', key, fmt)} | ${fmt(m.snippet)} | ${deltas(samples, 'snippet', key, fmt)} |`);
}

// Lighthouse, mobile defaults (its own simulated slow 4G and 4x CPU), offline, Debian's Chromium.
if (lighthouseRuns > 0) {
  const out = mkdtempSync(join(tmpdir(), 'edgechat-lighthouse-'));
  const scores = { bare: [], snippet: [], tag: [] };
  try {
    for (let i = 0; i < lighthouseRuns; i++) {
      for (const name of Object.keys(scores)) {
        const file = join(out, `${name}-${i}.json`);
        // Not spawnSync: the host page is served by this very process, which must keep running.
        await promisify(execFile)(join(ROOT, 'node_modules/.bin/lighthouse'), [pages[name], '--quiet', '--only-categories=performance',
          '--output=json', `--output-path=${file}`, '--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync'],
        { env: { ...process.env, CHROME_PATH: CHROMIUM }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
        const r = JSON.parse(readFileSync(file, 'utf8'));
        scores[name].push({
          score: r.categories.performance.score * 100, lcp: r.audits['largest-contentful-paint'].numericValue,
          tbt: r.audits['total-blocking-time'].numericValue, cls: r.audits['cumulative-layout-shift'].numericValue,
        });
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  console.log(`\nLighthouse ${JSON.parse(readFileSync(join(ROOT, 'node_modules/lighthouse/package.json'), 'utf8')).version} (mobile defaults, simulated throttling), ${lighthouseRuns} runs per page; medians (bare page's min-max), deltas`);
  console.log('| | bare page | + script tag | delta, run by run: median (min to max) | + recommended snippet | delta, run by run: median (min to max) |\n|---|---|---|---|---|---|');
  for (const [label, key, fmt] of [['performance score', 'score', (x) => x.toFixed(0)], ['LCP', 'lcp', ms], ['TBT', 'tbt', ms], ['CLS', 'cls', (x) => x.toFixed(3)]]) {
    const m = Object.fromEntries(Object.keys(scores).map((n) => [n, median(scores[n].map((s) => s[key]))]));
    const bare = scores.bare.map((s) => s[key]);
    console.log(`| ${label} | ${fmt(m.bare)} (${fmt(Math.min(...bare))}-${fmt(Math.max(...bare))}) | ${fmt(m.tag)} | ${deltas(scores, 'tag', key, fmt)} | ${fmt(m.snippet)} | ${deltas(scores, 'snippet', key, fmt)} |`);
  }
}
worker.stop();
await host.stop();
