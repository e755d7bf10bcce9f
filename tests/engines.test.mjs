// The visits that matter, in the two engines beside Chromium (Firefox ESR and WebKitGTK, Safari's
// engine; tests/support/engines.mjs), on one shared stack: the host site, the emulator with the
// roles `npm run deploy` sets, and a Worker under `wrangler dev`. In each engine: the launcher and
// typing in the shell before the wasm arrives (held back by the page), the first message stored
// once, the responder's and an agent's replies, the history after a reload; right to left; dark;
// a page enforcing Trusted Types and one with the README's strict CSP; a send failing 503 then a
// reload; ending with a rating; a POSIX language tag (and WebKit in a bare C locale); a Turbo-like
// body swap and a re-rendered body, with the chat open and closed. Chromium runs all of these and
// more in the widget-*.test.mjs files.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startWorker, testSecrets } from './support/worker.mjs';
import { startEmulator } from './support/emulator.mjs';
import { startHost } from './support/host.mjs';
import { launchEngine, inWidget, until, recorder, recorderHash, version } from './support/engines.mjs';

const SERVICE = 'IS' + 'e7'.repeat(16);
const secrets = testSecrets();
const words = (lang) => JSON.parse(readFileSync(new URL(`../core/i18n/${lang}.json`, import.meta.url), 'utf8'));
let host;
let emu;
let worker;
let client;

before(async () => {
  host = await startHost();
  emu = await startEmulator({ secrets, services: [SERVICE] });
  await emu.leastPrivilege();
  client = emu.client();
  const site = (extra = {}) => JSON.stringify({
    allowed_origins: [host.origin], service_sid: SERVICE, automation: 'none',
    rate_limits: { new_visitors_per_minute: 300, renewals_per_minute: 100 }, ...extra,
  });
  const responder = { auto_reply: { bot_name: 'Acme bot', greeting: 'Hello! How can we help?', rules: [] } };
  worker = await startWorker({
    secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: {
      visit: site({ automation: responder }), rtl: site(), dark: site({ appearance: { theme: 'dark' } }),
      tt: site(), csp: site(), failing: site(), rated: site({ ask_rating: true }),
      posix: site({ automation: responder }), swap: site(),
    },
  });
  await client.conversations.v1.services(SERVICE).configuration.webhooks().update({
    postWebhookUrl: `${worker.url}/webhooks/conversations`, filters: ['onConversationAdded', 'onMessageAdded'], method: 'POST',
  });
});
after(async () => {
  worker?.stop();
  await emu?.stop();
  await host?.stop();
});

/** Holds the widget's wasm back until the test calls `__openGate()`: the shell's time, made long. */
const gate = "window.__gate=new Promise(r=>window.__openGate=r);for(const k of ['instantiateStreaming','instantiate']){const f=WebAssembly[k];if(f)WebAssembly[k]=function(...a){return window.__gate.then(()=>f.apply(WebAssembly,a))}}";
let pages = 0;
/** A host page (recording its own errors first) for `site`; `attrs` go on the embed script. */
function hostUrl(site, { attrs = '', head = '', headers = {}, lang = 'en' } = {}) {
  pages += 1;
  return host.page(`/${site}/${pages}`, `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>host</title><link rel="icon" href="data:,"><script>${recorder}</script>${head}</head>`
    + `<body><main><h1>A host page</h1><p>Some content.</p></main><script src="${worker.url}/embed.js" data-site="${site}" ${attrs} async></script></body></html>`, headers);
}
const inLog = (text) => `[...(document.querySelector('edgechat-widget')?.shadowRoot?.querySelectorAll('.log .bubble') || [])].some((b) => b.textContent.includes(${JSON.stringify(text)}))`;
const stored = (site, what) => `localStorage.getItem('edgechat:${site}:${what}')`;
const visitorBodies = async (sid) => (await client.conversations.v1.services(SERVICE).conversations(sid).messages.list({ pageSize: 100 }))
  .filter((m) => m.author.startsWith('visitor:')).map((m) => m.body);
async function eventually(check, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function open(p) {
  await until(p, `!!${inWidget('button.launcher')}`, 'the launcher');
  await p.click(inWidget('button.launcher'));
  await until(p, `!!${inWidget('button.send[aria-disabled="false"]')}`, 'connected').catch(async (e) => {
    const shown = await p.js("document.querySelector('edgechat-widget')?.shadowRoot?.textContent").catch(() => '?');
    const realtime = await emu.realtimeReport().catch(() => ({}));
    throw new Error(`${e.message}; the widget shows: ${shown}; the emulator's connections: ${JSON.stringify(realtime.connections)}`);
  });
}
async function send(p, text) {
  await p.js(`${inWidget('.panel textarea')}.focus() || true`);
  await p.type(text);
  await p.press('Enter');
  await until(p, `[...document.querySelector('edgechat-widget').shadowRoot.querySelectorAll('.msg.own:not(.out):not(.failed) .bubble')].some((b) => b.textContent === ${JSON.stringify(text)})`, `"${text}" delivered`);
}
const noErrors = async (p) => assert.deepEqual(await p.errors(), [], 'no uncaught error on the page');

/** The way Turbo Drive visits (a new <body>, its scripts run again), and a framework re-rendering <body>. */
const turbo = `((workerUrl, site) => { const body = document.createElement('body'); body.innerHTML = '<main><h1>Another page</h1></main>';
  document.body.replaceWith(body); const s = document.createElement('script'); s.src = workerUrl + '/embed.js'; s.dataset.site = site; s.async = true;
  body.appendChild(s); history.pushState({}, '', '/another-page'); })`;
const rerender = "(() => { document.body.innerHTML = '<main><h1>Rendered again</h1></main>'; })";

for (const name of ['firefox', 'webkit']) {
  describe(`${name} (${version(name)})`, () => {
    let engine;
    before(async () => { engine = await launchEngine(name); });
    after(async () => { await engine?.close(); });
    const page = async (t) => {
      const p = await engine.newPage();
      t.after(() => p.close());
      return p;
    };

    test('typed in the shell before the widget arrives, stored once; the responder and an agent answer; the history after a reload', async (t) => {
      const p = await page(t);
      await p.goto(hostUrl('visit', { head: `<script>${gate}</script>` }));
      await until(p, `!!${inWidget('button.launcher')}`, 'the launcher');
      await p.click(inWidget('button.launcher'));
      await until(p, `!!${inWidget('.sh textarea')}`, 'the shell');
      await p.type('Typed before the widget');
      await p.press('Enter');
      await until(p, `${inWidget('.sh .q')}?.textContent === 'Typed before the widget'`, 'the shell shows it');
      assert.equal(await p.js(`!!${inWidget('.panel')}`), false, 'the app is not there yet');
      await p.js('window.__openGate() || true');
      await until(p, `!!${inWidget('button.send[aria-disabled="false"]')}`, 'connected').catch(async (e) => {
        throw new Error(`${e.message}; the widget shows: ${await p.js("document.querySelector('edgechat-widget').shadowRoot.textContent")}`);
      });
      const sid = await until(p, stored('visit', 'conversation'), 'a conversation');
      await until(p, inLog('Hello! How can we help?'), 'the responder');
      assert.deepEqual(await visitorBodies(sid), ['Typed before the widget'], 'stored once');
      await client.conversations.v1.services(SERVICE).conversations(sid).messages.create({ author: 'agent:ana', body: 'An agent answers' });
      await until(p, inLog('An agent answers'), "the agent's reply");
      await p.reload();
      await p.js('window.__openGate() || true'); // (this page holds the wasm back on every load)
      await open(p);
      await until(p, `${inLog('Typed before the widget')} && ${inLog('An agent answers')}`, 'the history after a reload');
      assert.deepEqual(await visitorBodies(sid), ['Typed before the widget'], 'still once');
      await noErrors(p);
    });

    test('right to left (data-locale="he"): mirrored, in Hebrew', async (t) => {
      const p = await page(t);
      await p.goto(hostUrl('rtl', { attrs: 'data-locale="he"', lang: 'he' }));
      await open(p);
      assert.equal(await p.js(`${inWidget('.ec')}.getAttribute('dir')`), 'rtl');
      assert.equal(await p.js(`${inWidget('.panel textarea')}.placeholder`), words('he')['composer.placeholder']);
      await send(p, 'שלום');
      await noErrors(p);
    });

    test('dark (the site\'s theme): the panel is dark', async (t) => {
      const p = await page(t);
      await p.goto(hostUrl('dark'));
      await open(p);
      const rgb = await p.js(`getComputedStyle(${inWidget('.panel')}).backgroundColor`);
      const [r, g, b] = rgb.match(/\d+/g).map(Number);
      assert.ok((0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.25, `a dark panel: ${rgb}`);
      await noErrors(p);
    });

    for (const [site, what, tt] of [['csp', "the README's strict CSP", false], ['tt', 'a page enforcing Trusted Types', true]]) {
      test(`${what}: the widget works`, async (t) => {
        const ws = emu.url.replace('http://', 'ws://');
        const csp = `default-src 'none'; script-src ${recorderHash} ${worker.url} ${emu.url} 'wasm-unsafe-eval'; `
          + `connect-src ${worker.url} ${emu.url} ${ws}; style-src 'unsafe-inline'; img-src data:`
          + (tt ? "; require-trusted-types-for 'script'; trusted-types edgechat" : '');
        const p = await page(t);
        await p.goto(hostUrl(site, { headers: { 'Content-Security-Policy': csp } }));
        await open(p);
        await send(p, `Under ${what}`);
        await noErrors(p);
        if (tt) {
          // Last, since the engine reports this refusal as the page's error.
          const enforced = await p.js("(() => { if (!window.trustedTypes) return 'unsupported'; try { document.createElement('div').innerHTML = '<b>x</b>'; return 'accepted'; } catch { return 'refused'; } })()");
          assert.ok(['refused', 'unsupported'].includes(enforced), `Trusted Types enforced where the engine has them: ${enforced}`);
        }
      });
    }

    test('a send that fails (503, three times), and a reload meanwhile: stored once, without a click', async (t) => {
      const p = await page(t);
      await p.goto(hostUrl('failing'));
      await open(p);
      const [, , uuid] = (await p.js(stored('failing', 'visitor'))).split('.');
      await emu.realtimeFault('fail', { identity: `visitor:failing:${uuid}`, method: 'POST', path_contains: '/Messages', status: 503, times: 3 });
      await p.js(`${inWidget('.panel textarea')}.focus() || true`);
      await p.type('Do not lose me');
      await p.press('Enter');
      await until(p, `${inWidget('.msg.own.out')}?.textContent.includes('Sending')`, 'going again by itself');
      await p.reload();
      await open(p);
      const sid = await until(p, stored('failing', 'conversation'), 'the conversation');
      await eventually(async () => (await visitorBodies(sid)).length === 1, 'sent after the reload');
      await until(p, `!document.querySelector('edgechat-widget').shadowRoot.querySelector('.msg.own.out, .msg.own.failed')`, 'delivered');
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(await visitorBodies(sid), ['Do not lose me'], 'once');
      await noErrors(p);
    });

    test('ending with a rating: closed, the rating in the conversation\'s attributes', async (t) => {
      const p = await page(t);
      await p.goto(hostUrl('rated'));
      await open(p);
      await send(p, 'Thanks, that is all');
      const sid = await p.js(stored('rated', 'conversation'));
      await p.click(inWidget('button', 'Chat options'));
      await until(p, `!!${inWidget('[role=menuitem]', 'End conversation')}`, 'the menu');
      await p.click(inWidget('[role=menuitem]', 'End conversation'));
      await until(p, `!!${inWidget('.rate button', 'Not good')}`, 'the rating');
      await p.click(`(() => [...document.querySelector('edgechat-widget').shadowRoot.querySelectorAll('.rate button')].find((b) => /^(👍\\s*)?Good$/.test((b.getAttribute('aria-label') || b.textContent).trim())))()`);
      await p.click(inWidget('.confirm button', 'End conversation'));
      await until(p, inLog('') + ` && document.querySelector('edgechat-widget').shadowRoot.textContent.includes('This conversation has ended')`, 'ended');
      const conversation = await client.conversations.v1.services(SERVICE).conversations(sid).fetch();
      assert.equal(conversation.state, 'closed');
      assert.equal(JSON.parse(conversation.attributes).edgechat_rating.score, 'up');
      await noErrors(p);
    });

    test('data-locale="de_DE" (POSIX): German, the reply\'s time drawn, and a reload still works', async (t) => {
      const p = await page(t);
      await p.goto(hostUrl('posix', { attrs: 'data-locale="de_DE"', lang: 'de' }));
      await open(p);
      assert.equal(await p.js(`${inWidget('.panel textarea')}.placeholder`), words('de')['composer.placeholder']);
      await send(p, 'Hallo');
      await until(p, inLog('Hello! How can we help?'), 'the reply');
      assert.ok((await p.js(`[...document.querySelector('edgechat-widget').shadowRoot.querySelectorAll('.log .meta')].map((m) => m.textContent).join(' ')`)).match(/\d/), 'times drawn');
      await p.reload();
      await open(p);
      await until(p, inLog('Hallo'), 'the history');
      await noErrors(p);
    });

    for (const [what, change] of [['a Turbo-like body swap', turbo], ['a re-rendered body', rerender]]) {
      test(`${what}, with the chat open and then closed: the same chat stays`, async (t) => {
        const p = await page(t);
        await p.goto(hostUrl('swap'));
        await open(p);
        await send(p, `Before ${what}`);
        await p.js(`${inWidget('.panel textarea')}.focus() || true`);
        await p.type('A draft');
        await p.js(`(${change})(${JSON.stringify(worker.url)}, 'swap') || true`);
        assert.equal(await p.js("document.querySelectorAll('edgechat-widget').length"), 1);
        assert.equal(await p.js(`${inWidget('.panel textarea')}.value`), 'A draft');
        assert.equal(await p.js(`${inWidget('.panel')}.hidden`), false, 'still open');
        await p.js(`${inWidget('.panel textarea')}.value = '' || true`);
        const sid = await p.js(stored('swap', 'conversation'));
        await p.click(inWidget('button', 'Close'));
        await p.js(`(${change})(${JSON.stringify(worker.url)}, 'swap') || true`);
        await open(p);
        await until(p, inLog(`Before ${what}`), 'the history');
        assert.equal(await p.js(stored('swap', 'conversation')), sid);
        await noErrors(p);
      });
    }
  });
}

describe('webkit in a bare C locale (navigator.language "C")', () => {
  let engine;
  before(async () => { engine = await launchEngine('webkit', { lang: 'C' }); });
  after(async () => { await engine?.close(); });
  test('the widget speaks English and draws the reply\'s time', async (t) => {
    const p = await engine.newPage();
    t.after(() => p.close());
    await p.goto(hostUrl('posix'));
    assert.equal(await p.js('navigator.language'), 'C');
    await open(p);
    assert.equal(await p.js(`${inWidget('.panel textarea')}.placeholder`), words('en')['composer.placeholder']);
    await send(p, 'Hello from C');
    await until(p, inLog('Hello! How can we help?'), 'the reply');
    await p.reload();
    await open(p);
    await until(p, inLog('Hello from C'), 'the history');
    await noErrors(p);
  });
});
