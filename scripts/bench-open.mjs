// `npm run bench` (the open on a slow network): what a visitor waits for after clicking the
// launcher, in Chromium throttled as Lighthouse's mobile default (slow 4G: 150 ms round trips,
// 1.6 Mbit/s down, 750 kbit/s up; a 4x slower CPU) against wrangler dev (gzip, as Cloudflare
// serves) and the local Twilio emulator, medians of N runs of:
//   - a first view (cold cache, a new visitor) clicking at once,
//   - a first view whose visitor hovered 300 ms before clicking (warm-up on intent),
//   - a repeat view (a new page in the same browser: warm cache, the same visitor, who has
//     written before) clicking at once; with the requests and bytes that page fetched,
// the times from the press to: typing possible (a composer has focus: embed.js's shell or the
// app's), the app's panel interactive (its composer has focus), ready to send (the SDK connected),
// and the first message stored (typed and sent the moment typing is possible).
// With --profile, the last run of each view also samples the main thread's JavaScript (the page,
// the widget and the SDK's realm share it) from the press to ready, and prints where it went.
// Usage: node scripts/bench-open.mjs [runs, default 5] [--profile]
import { startWorker, testSecrets } from '../tests/support/worker.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { launchIsolatedBrowser } from '../tests/support/browser.mjs';
import { startHost, hostPage } from '../tests/support/host.mjs';
import { builtFiles } from './lib/files.mjs';
import { markdownTable } from './lib/table.mjs';

const runs = Math.max(1, Math.min(20, Number(process.argv[2] ?? 5)));
const profiling = process.argv.includes('--profile');
const secrets = testSecrets();
const SERVICE = 'IS' + 'd4'.repeat(16);
const host = await startHost();
const emu = await startEmulator({ secrets, services: [SERVICE] });
const worker = await startWorker({
  secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
  sites: { open: JSON.stringify({ allowed_origins: [host.origin], service_sid: SERVICE, automation: 'none' }) },
});
const browser = await launchIsolatedBrowser();
const url = host.page('/open', hostPage({ workerUrl: worker.url, site: 'open' }));
const widgetFiles = Object.values(builtFiles()).filter((p) => !p.endsWith('embed.js')).map((p) => `${worker.url}/${p.replace(/^public\//, '')}`);

// In the page: the press's time, then each milestone, polled every frame.
const probe = () => {
  window.__open = {};
  addEventListener('pointerdown', () => {
    const o = window.__open;
    o.t0 = performance.now();
    let typed = false;
    const poll = () => {
      const root = document.querySelector('edgechat-widget')?.shadowRoot;
      const at = performance.now() - o.t0;
      const focused = root?.activeElement;
      if (focused?.tagName === 'TEXTAREA') {
        o.typing ??= at;
        if (!typed) {
          // The visitor types the moment they can, and presses Enter.
          typed = true;
          focused.value = 'Hello, I have a question';
          focused.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true }));
          focused.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true, composed: true, cancelable: true }));
        }
        if (focused.closest('.panel')) o.interactive ??= at;
      }
      if (root?.querySelector('button[aria-label="Send"][aria-disabled="false"]')) o.ready ??= at;
      const own = [...(root?.querySelectorAll('.msg.own .meta') ?? [])];
      if (own.length && own.every((m) => !/Waiting|Sending|Not sent/.test(m.textContent))) o.sent ??= at;
      if (o.sent === undefined || o.ready === undefined) {
        if (at < 30_000) requestAnimationFrame(poll);
      }
    };
    requestAnimationFrame(poll);
  }, { capture: true, once: true });
};

async function throttled(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  // What this page fetches over the network (not from a cache), and its bytes on the wire.
  const fetched = new Map();
  const cached = new Set();
  let clock = 0; // wall time minus CDP's monotonic timestamps, in seconds
  cdp.on('Network.requestWillBeSent', (e) => {
    clock = e.wallTime - e.timestamp;
    fetched.set(e.requestId, { url: e.request.url, bytes: 0, start: e.wallTime * 1000 });
  });
  cdp.on('Network.webSocketCreated', (e) => fetched.set(e.requestId, { url: e.url, bytes: 0, start: Date.now() }));
  cdp.on('Network.webSocketFrameReceived', (e) => { const f = fetched.get(e.requestId); if (f) f.end = (e.timestamp + clock) * 1000; });
  cdp.on('Network.requestServedFromCache', (e) => cached.add(e.requestId));
  cdp.on('Network.responseReceived', (e) => { if (e.response.fromDiskCache || e.response.fromPrefetchCache) cached.add(e.requestId); });
  cdp.on('Network.loadingFinished', (e) => {
    const f = fetched.get(e.requestId);
    if (f) Object.assign(f, { bytes: e.encodedDataLength, end: (e.timestamp + clock) * 1000 });
  });
  await page.addInitScript(probe);
  const network = () => [...fetched].filter(([id]) => !cached.has(id)).map(([, f]) => f);
  const all = () => [...fetched].map(([id, f]) => ({ ...f, cached: cached.has(id) }));
  return { page, network, all, cdp };
}

/**
 * Where the main thread's time went in a CPU profile (CDP's Profiler): self time by script (the
 * widget's glue and wasm, the SDK, embed.js, V8's own: GC, compiling, idle) and the 12 costliest
 * functions.
 */
function profileSummary({ nodes, samples, timeDeltas }) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const self = new Map();
  samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (timeDeltas[i] ?? 0) / 1000));
  const short = (u) => (u ? u.replace(/^.*\//, '').replace(/\?.*/, '') : '');
  const scripts = new Map();
  const functions = new Map();
  for (const [id, ms] of self) {
    const f = byId.get(id).callFrame;
    const script = short(f.url) || f.functionName || '(anonymous)';
    scripts.set(script, (scripts.get(script) ?? 0) + ms);
    const fn = `${f.functionName || '(anonymous)'} ${short(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { scripts: top(scripts, 10), functions: top(functions, 12) };
}

async function visit(context, { hoverMs = 0, profile = false } = {}) {
  const { page, network, all, cdp } = await throttled(context);
  await page.goto(url, { waitUntil: 'load' });
  const launcher = page.locator('button.launcher').last();
  await launcher.waitFor();
  await page.waitForTimeout(1000); // the page settles; nothing of the widget loads before intent
  const box = await launcher.boundingBox();
  if (profile) {
    // Before the pointer moves (its hover starts the loading): the press follows it as in the
    // other runs.
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
    await cdp.send('Profiler.start');
  }
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  if (hoverMs) await page.waitForTimeout(hoverMs);
  const pressed = Date.now();
  await page.mouse.down();
  await page.mouse.up();
  try {
    await page.waitForFunction(() => window.__open.sent !== undefined && window.__open.ready !== undefined, null, { timeout: 60_000, polling: 200 });
  } catch {
    // Counted and described, not fatal: the other runs still measure. (Until the app put its
    // root in the top layer before focusing, about 1 throttled visit in 25 ended here: the panel
    // open and connected, and focus on no element of it.)
    const state = await page.evaluate(() => {
      const root = document.querySelector('edgechat-widget')?.shadowRoot;
      const active = root?.activeElement;
      return {
        milestones: window.__open,
        focus: active ? `${active.tagName} ${active.getAttribute('aria-label') || ''}` : document.activeElement?.tagName,
        panel: root?.querySelector('.panel') ? (root.querySelector('.panel').hidden ? 'hidden' : 'open') : 'none',
        shell: !!root?.querySelector('.sh'),
      };
    });
    hung.push(state);
    console.error(`a visit did not finish in 60 s: ${JSON.stringify(state)}`);
  }
  const times = await page.evaluate(() => window.__open);
  const cpu = profile ? profileSummary((await cdp.send('Profiler.stop')).profile) : undefined;
  // Each request after the press: when it started and ended, from the press (the last run's
  // are printed, to show where the wait goes).
  const waterfall = all().filter((f) => f.start >= pressed - 50).map((f) => ({
    request: f.url.replace(worker.url, '').replace(emu.url, 'emulator').replace(/^ws:\/\/[^/]+/, 'emulator ws').replace(/\?.*/, '').slice(0, 60),
    'start ms': Math.round(f.start - pressed),
    'end ms': f.end ? Math.round(f.end - pressed) : '',
    cache: f.cached ? 'yes' : '',
  }));
  return { page, times, network, waterfall, pressed, cpu };
}

/**
 * The critical path of one visit, as one line: from the request that ended last before the panel
 * was ready to send, back through what each one waited for (the request that ended last before it
 * started), with the gaps between them (the browser's work: compiling, starting the app). Which
 * request or step ends last, and why.
 */
function criticalPath(rows, readyMs) {
  const done = rows.filter((r) => r['end ms'] !== '' && r['end ms'] <= readyMs + 50).sort((a, b) => a['end ms'] - b['end ms']);
  const chain = [];
  let at = done.at(-1);
  while (at && chain.length < 8) {
    chain.unshift(at);
    const start = at['start ms'];
    at = done.filter((r) => r !== at && r['end ms'] <= start + 20 && !chain.includes(r)).at(-1);
  }
  const parts = [];
  let previousEnd = 0;
  for (const r of chain) {
    const gap = r['start ms'] - previousEnd;
    if (gap > 40) parts.push(`${gap} ms of the page's own work`);
    parts.push(`${r.request} (${r['start ms']} -> ${r['end ms']} ms)`);
    previousEnd = r['end ms'];
  }
  if (Number.isFinite(readyMs) && readyMs - previousEnd > 40) parts.push(`${Math.round(readyMs - previousEnd)} ms of the page's own work`);
  return `${parts.join(' -> ')} -> ready to send at ${Math.round(readyMs)} ms`;
}

const samples = { first: [], hovered: [], repeat: [] };
const hung = [];
const waterfalls = {};
const paths = {};
const repeatFetches = [];
const profiles = {};
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const last = profiling && i === runs - 1;
    const first = await visit(context, { profile: last });
    if (last) profiles.first = first.cpu;
    samples.first.push(first.times);
    waterfalls.first = first.waterfall;
    paths.first = criticalPath(first.waterfall, first.times.ready);
    await first.page.close();
    // The same visitor comes back: a new page, the browser's cache warm. Their conversation is
    // forgotten here, so that the widget does not load before the click (it would, when idle,
    // for a visitor with a conversation: that case is faster still).
    const { page: clean } = await throttled(context);
    await clean.goto(url);
    await clean.evaluate(() => localStorage.removeItem('edgechat:open:conversation'));
    await clean.close();
    const repeat = await visit(context, { profile: last });
    if (last) profiles.repeat = repeat.cpu;
    samples.repeat.push(repeat.times);
    waterfalls.repeat = repeat.waterfall;
    paths.repeat = criticalPath(repeat.waterfall, repeat.times.ready);
    repeatFetches.push(repeat.network());
    await repeat.page.close();
    await context.close();

    const cold = await browser.newContext();
    const hovered = await visit(cold, { hoverMs: 300 });
    samples.hovered.push(hovered.times);
    await cold.close();
  }
} finally {
  await browser.close();
  worker.stop();
  emu.stop();
  await host.stop();
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => (Number.isFinite(x) ? `${Math.round(x).toLocaleString('en-US')} ms` : 'n/a');
const row = (what, key, before) => ({
  'from the press to': what,
  'first view': ms(median(samples.first.map((t) => t[key]))),
  'repeat view': ms(median(samples.repeat.map((t) => t[key]))),
  'hovered 300 ms first': ms(median(samples.hovered.map((t) => t[key]))),
  'before this round (first / repeat / hovered)': before,
});
console.log(`\nSlow 4G (150 ms, 1.6 Mbit/s) and 4x CPU, Chromium, medians of ${runs} runs; "before" as measured the same way on main before the shell, the hashed files and the lazy conversation:`);
markdownTable([
  row('typing possible (target 100 ms)', 'typing', '1,359 / 355 / 973 ms'),
  row('the app\'s panel interactive', 'interactive', ''),
  row('ready to send: the SDK connected (target 1.5 s first, 0.8 s repeat)', 'ready', '3,076 / 1,449 / 2,716 ms (conversation created on open)'),
  row('first message stored (typed at once)', 'sent', ''),
]);
const unfocused = hung.filter((h) => h.panel === 'open' && !/^TEXTAREA/.test(h.focus ?? '')).length;
console.log(`\nVisits that ended with the panel open and focus on no element of it: ${unfocused} of ${runs * 3}.`);
if (hung.length) {
  console.log(`\n${hung.length} of ${runs * 3} visits did not finish within 60 s (left out of the medians): ${hung.map((h) => JSON.stringify(h)).join('; ')}`);
}
const widget = repeatFetches.map((f) => f.filter((r) => widgetFiles.includes(r.url)).length);
const all = repeatFetches.map((f) => f.length);
const bytes = repeatFetches.map((f) => f.reduce((n, r) => n + r.bytes, 0));
console.log(`\nRepeat view over the network (median of ${runs}): ${median(widget)} requests for the widget's and the SDK's files (before: 3, each revalidated); ${median(all)} requests in all, ${(median(bytes) / 1024).toFixed(1)} KiB on the wire (the page, the config, the token; the realtime connection's frames are not counted).`);
for (const [name, rows] of Object.entries(waterfalls)) {
  console.log(`\nWhere the wait goes, ${name} view (the last run; times from the press, the realtime socket until its last frame):`);
  markdownTable(rows);
  console.log(`\nCritical path, ${name} view: ${paths[name]}.`);
}
for (const [name, cpu] of Object.entries(profiles)) {
  const total = cpu.scripts.reduce((n, [, ms]) => n + ms, 0);
  console.log(`\nThe main thread from the press until the first message was stored, ${name} view (the last run, sampled; self time, ${Math.round(total)} ms in the 10 costliest scripts):`);
  markdownTable(cpu.scripts.map(([script, ms]) => ({ script, 'self ms': Math.round(ms) })));
  markdownTable(cpu.functions.map(([fn, ms]) => ({ function: fn.slice(0, 90), 'self ms': Math.round(ms) })));
}
