// `npm run bench` (the widget, every engine): click to typing possible and click to ready (the
// send button enabled: token, SDK and Client done) on the loopback, for a first-time visitor, in
// Chromium, Firefox ESR and WebKitGTK side by side, so that a regression in one engine shows.
// Measured in the page itself (performance.now() at the launcher's pointerdown, then each frame
// until the state is reached), not through the driver's round trips. Medians of N fresh visits.
// Usage: node --experimental-websocket scripts/bench-engines.mjs [visits per engine, default 5]
import { startWorker, testSecrets } from '../tests/support/worker.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { startHost } from '../tests/support/host.mjs';
import { launchIsolatedBrowser } from '../tests/support/browser.mjs';
import { launchEngine, inWidget, until, version } from '../tests/support/engines.mjs';
import { markdownTable } from './lib/table.mjs';

const runs = Math.min(Number(process.argv[2] ?? 5), 20);
const SERVICE = 'IS' + 'b7'.repeat(16);
const secrets = testSecrets();
const probe = "window.__t={};addEventListener('pointerdown',()=>{window.__t.click??=performance.now()},true);"
  + "(function f(){const r=document.querySelector('edgechat-widget')?.shadowRoot;if(r&&window.__t.click!=null){"
  + "if(r.activeElement&&r.activeElement.tagName==='TEXTAREA')window.__t.typing??=performance.now();"
  + "if(r.querySelector('button.send[aria-disabled=\"false\"]'))window.__t.ready??=performance.now()}"
  + "if(window.__t.ready==null)requestAnimationFrame(f)})()";

const host = await startHost();
const emu = await startEmulator({ secrets, services: [SERVICE] });
await emu.leastPrivilege();
const worker = await startWorker({
  secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
  sites: { bench: JSON.stringify({ allowed_origins: [host.origin], service_sid: SERVICE, automation: 'none', rate_limits: { new_visitors_per_minute: 300 } }) },
});
let n = 0;
const url = () => host.page(`/bench/${++n}`, `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><script>${probe}</script></head>`
  + `<body><main><h1>Bench</h1></main><script src="${worker.url}/embed.js" data-site="bench" async></script></body></html>`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** One engine's visits through a page interface: goto, click the launcher, wait for the probe. */
async function measure(label, newPage) {
  const typing = [];
  const ready = [];
  for (let i = 0; i < runs; i++) {
    const p = await newPage();
    try {
      await p.goto(url());
      await until(p, `!!${inWidget('button.launcher')}`, 'the launcher');
      await p.click(inWidget('button.launcher'));
      const t = await until(p, 'window.__t.ready != null && window.__t', 'ready', 30_000);
      typing.push(t.typing - t.click);
      ready.push(t.ready - t.click);
    } finally {
      await p.close();
    }
  }
  return { engine: label, visits: runs, 'click to typing, ms': +median(typing).toFixed(1), 'click to ready, ms': +median(ready).toFixed(1) };
}

const rows = [];
try {
  const chromium = await launchIsolatedBrowser();
  try {
    rows.push(await measure(`Chromium ${chromium.version()}`, async () => {
      const context = await chromium.newContext();
      const page = await context.newPage();
      return {
        goto: (u) => page.goto(u),
        js: (expr) => page.evaluate(expr),
        click: async (expr) => (await page.evaluateHandle(expr)).asElement().click(),
        close: () => context.close(),
      };
    }));
  } finally {
    await chromium.close();
  }
  for (const name of ['firefox', 'webkit']) {
    const engine = await launchEngine(name);
    try {
      rows.push(await measure(version(name), () => engine.newPage()));
    } finally {
      await engine.close();
    }
  }
} finally {
  worker.stop();
  await emu.stop();
  await host.stop();
}
console.log(`\nClick to typing possible and to ready, first-time visitor, loopback (no throttling), medians of ${runs} fresh visits per engine:`);
markdownTable(rows);
