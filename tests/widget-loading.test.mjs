// How the widget loads, in Debian's Chromium against `wrangler dev` and the local Twilio emulator:
// the panel's shell takes typing before the app is there and hands it over (nothing typed lost,
// each message sent once, in order); a visitor who only looks creates no conversation; the
// widget's files carry content hashes and a repeat view fetches none of them; a page holding an
// older embed.js after a deploy still gets a working widget; the config and the token are asked
// for once, while the wasm loads (a first visit's credential under the tabs' lock), and a refusal
// on that early path is the app's to show and retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  useWidgetEnv, config, quiet, client, emu, worker, service, until, visit, launcher, composer, log, connected, allDelivered,
  stored, bodiesIn, identityOf, openAndConnect, send, agentSays,
} from './support/widget.mjs';
import { builtFiles } from '../scripts/lib/files.mjs';

useWidgetEnv({
  service: 'IS' + 'f6'.repeat(16),
  sites: () => Object.fromEntries(['shell', 'looker', 'repeat', 'stale', 'early', 'earlyback', 'earlyfail', 'earlyresume', 'earlyrefused', 'earlyde'].map((s) => [s, config({
    ...quiet, appearance: { title: 'Loading test', brand_color: '#0263E0', position: 'bottom-right' },
  })])),
});

const focusedLabel = (page) => page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.getAttribute('aria-label') ?? null);
const conversationsOf = async (site) => (await client.conversations.v1.services(service).conversations.list({ pageSize: 100 }))
  .filter((c) => JSON.parse(c.attributes || '{}').site === site);

test('the shell: with the widget held back, the click opens a panel that takes typing and Enter; the app takes the draft and the messages over, each sent once, in order', async (t) => {
  const { page } = await visit(t, 'shell');
  await launcher(page).waitFor();
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/widget/edgechat_widget.*.js', async (route) => { await held; await route.continue(); });
  await launcher(page).click();
  await page.getByRole('dialog', { name: 'Chat' }).waitFor();
  assert.equal(await focusedLabel(page), 'Message', 'the shell focuses its composer');
  if (process.env.DEBUG_PAGE) await page.evaluate(() => { const r = document.querySelector('edgechat-widget').shadowRoot; r.addEventListener('focusout', (e) => console.log('focusout', e.target.outerHTML.slice(0, 80), new Error().stack)); r.querySelector('textarea').addEventListener('keydown', (e) => console.log('key', e.key)); });
  await page.keyboard.type('First from the shell');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Second');
  await page.keyboard.press('Enter');
  await page.keyboard.type('A draft in prog');
  if (process.env.DEBUG_PAGE) console.log(await page.evaluate(() => { const r = document.querySelector('edgechat-widget').shadowRoot; return [r.activeElement?.outerHTML, r.querySelector('textarea').value, document.activeElement.tagName]; }));
  assert.deepEqual(await page.locator('.sh .q').allInnerTexts(), ['First from the shell', 'Second']);
  assert.equal(await stored(page, 'shell', 'conversation'), null, 'nothing was created yet');

  release();
  await page.waitForFunction(() => !document.querySelector('edgechat-widget').shadowRoot.querySelector('.sh'));
  // Keys pressed as the app takes over land in its composer, after the draft.
  await page.keyboard.type('ress');
  await connected(page);
  await allDelivered(page);
  assert.equal(await composer(page).inputValue(), 'A draft in progress');
  assert.equal(await focusedLabel(page), 'Message', 'focus stays in the composer');
  const sid = await stored(page, 'shell', 'conversation');
  assert.match(sid ?? '', /^CH/);
  assert.deepEqual(await bodiesIn(sid), ['First from the shell', 'Second']);
  assert.equal((await conversationsOf('shell')).length, 1, 'one conversation');
  const shown = await log(page).locator('.msg.own .bubble').allInnerTexts();
  assert.deepEqual(shown, ['First from the shell', 'Second'], 'each shown once');
  // The panel is the app's now, with the site's title.
  await page.getByRole('dialog', { name: 'Loading test' }).waitFor();
});

test('a visitor who only looks leaves no conversation behind: it is created with their first message', async (t) => {
  const { page } = await visit(t, 'looker');
  await launcher(page).click();
  await connected(page);
  await page.getByRole('dialog').getByRole('button', { name: 'Close chat' }).click();
  await launcher(page).click();
  await connected(page);
  assert.equal(await stored(page, 'looker', 'conversation'), null);
  assert.deepEqual(await conversationsOf('looker'), []);
  await composer(page).fill('Now I ask');
  await composer(page).press('Enter');
  await log(page).locator('.msg.own .bubble', { hasText: 'Now I ask' }).waitFor();
  await allDelivered(page);
  const [conversation, ...more] = await conversationsOf('looker');
  assert.deepEqual(more, []);
  assert.deepEqual(await bodiesIn(conversation.sid), ['Now I ask']);
});

/** Which of `urls` this page fetched over the network (not from the browser's caches). */
async function networkFetches(page, urls) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const byId = new Map();
  const cached = new Set();
  cdp.on('Network.requestWillBeSent', (e) => byId.set(e.requestId, e.request.url));
  cdp.on('Network.requestServedFromCache', (e) => cached.add(e.requestId));
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker) cached.add(e.requestId);
  });
  return () => [...byId].filter(([id, url]) => urls.includes(url) && !cached.has(id)).map(([, url]) => url);
}

test('a repeat view in a warm browser fetches none of the widget\'s files: hashed names, cached immutable', async (t) => {
  const files = builtFiles();
  const urls = [files.module, files.wasm, files.sdk].map((p) => `${worker.url}/${p.replace(/^public\//, '')}`);
  const first = await visit(t, 'repeat');
  await launcher(first.page).click();
  await connected(first.page);
  await first.page.close();

  const { page } = await visit(t, 'repeat');
  const fetched = await networkFetches(page, urls);
  await launcher(page).click();
  await connected(page);
  assert.deepEqual(fetched(), [], 'the module, the wasm and the SDK all came from the cache');
});

test('a page holding an older embed.js (its files gone after a deploy) asks for the current names and works', async (t) => {
  const { page } = await visit(t, 'stale');
  let manifestAsked = false;
  page.on('request', (r) => { if (r.url().endsWith('/widget-manifest.json')) manifestAsked = true; });
  await page.route(`${worker.url}/embed.js`, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/\.[0-9a-f]{12}\./g, '.0123456789ab.');
    await route.fulfill({ response, body });
  });
  await page.reload();
  await launcher(page).click();
  await connected(page);
  assert.ok(manifestAsked, 'the loader asked for the current names');
  await composer(page).fill('Still works');
  await composer(page).press('Enter');
  await page.locator('.msg.own .bubble', { hasText: 'Still works' }).waitFor();
  await allDelivered(page);
});

/** The config and token requests a page makes (each with whether the wasm had arrived yet). */
function apiRequests(page, site) {
  const seen = [];
  let wasm = false;
  page.on('requestfinished', (r) => { if (/\.wasm$/.test(r.url())) wasm = true; });
  page.on('request', (r) => {
    const m = r.url().match(new RegExp(`/api/sites/${site}/(config|token)$`));
    if (m) seen.push({ what: m[1], beforeWasm: !wasm });
  });
  return seen;
}

test('the config and the token are asked for once, while the wasm still loads: a first visit and a returning one', async (t) => {
  for (const site of ['early', 'earlyback']) {
    const { page } = await visit(t, site);
    if (site === 'earlyback') {
      // A returning visitor: their credential is stored.
      await launcher(page).click();
      await connected(page);
      await page.reload();
    }
    const seen = apiRequests(page, site);
    // Slow the wasm down, so that it arrives after the two answers.
    await page.route('**/widget/edgechat_widget_bg.*.wasm', async (route) => { await new Promise((r) => setTimeout(r, 700)); await route.continue(); });
    await launcher(page).click();
    await connected(page);
    assert.deepEqual(seen, [{ what: 'config', beforeWasm: true }, { what: 'token', beforeWasm: true }], `${site}: one each, before the wasm`);
    const visitor = await stored(page, site, 'visitor');
    assert.match(visitor, /^v2\./, 'the credential is stored as the app stores it');
  }
});

test('the language\'s catalogue is asked for once, while the wasm still loads, and the app speaks it', async (t) => {
  const { page } = await visit(t, 'earlyde', { attrs: 'data-locale="de_DE"' });
  const catalogues = [];
  let wasm = false;
  page.on('requestfinished', (r) => { if (/\.wasm$/.test(r.url())) wasm = true; });
  page.on('request', (r) => { if (r.url().includes('/widget/i18n/')) catalogues.push({ file: r.url().replace(/^.*\/i18n\//, '').replace(/\.[0-9a-f]+\.json$/, ''), beforeWasm: !wasm }); });
  await page.route('**/widget/edgechat_widget_bg.*.wasm', async (route) => { await new Promise((r) => setTimeout(r, 700)); await route.continue(); });
  await launcher(page).click();
  const german = JSON.parse(readFileSync(new URL('../core/i18n/de.json', import.meta.url), 'utf8'));
  await page.getByPlaceholder(german['composer.placeholder']).waitFor();
  assert.deepEqual(catalogues, [{ file: 'de', beforeWasm: true }], 'one request, before the wasm');
});

test('a token refused on the early path is the app\'s to show and retry, as before', async (t) => {
  const { page } = await visit(t, 'earlyfail');
  let refused = 0;
  await page.route('**/api/sites/earlyfail/token', async (route) => {
    if (refused++ === 0) return route.fulfill({ status: 503, contentType: 'application/json', headers: { 'Retry-After': '1' }, body: JSON.stringify({ error: { code: 'twilio_unavailable', message: 'down for a moment' } }) });
    return route.continue();
  });
  await launcher(page).click();
  await connected(page, 30_000);
  assert.equal(refused, 2, 'the early answer was refused; the app asked again itself');
});

/** Holds the widget's wasm back (its compile and start) until the page calls `__openGate()`. */
const holdWasm = () => {
  window.__gate = new Promise((r) => { window.__openGate = r; });
  for (const k of ['instantiateStreaming', 'instantiate']) {
    const f = WebAssembly[k];
    if (f) WebAssembly[k] = function (...a) { return window.__gate.then(() => f.apply(WebAssembly, a)); };
  }
};
const appMounted = (page) => page.evaluate(() => !!document.querySelector('edgechat-widget')?.shadowRoot?.querySelector('.panel, .ec'));
/** The realtime connections `identity` has at the emulator, and the requests each made. */
async function realtimeOf(identity) {
  const report = await emu.realtimeReport();
  return report.connections.filter((c) => c.identity === identity).map((c) => ({
    id: c.id, requests: report.requests.filter((r) => r.connection === c.id).map((r) => `${r.method} ${r.path}`),
  }));
}

test('a returning visitor: the realtime connection and the stored conversation\'s newest page start while the wasm is held back; the app takes them over (one connection), and a message that came meanwhile shows once', async (t) => {
  const { page } = await visit(t, 'earlyresume', { init: holdWasm });
  await page.evaluate(() => window.__openGate());
  await openAndConnect(page);
  await send(page, 'Before the reload');
  const identity = await identityOf(page, 'earlyresume');
  const sid = await stored(page, 'earlyresume', 'conversation');
  const [before] = await realtimeOf(identity);
  await page.reload(); // (held again; the widget loads when idle, for a visitor with a conversation)
  let early;
  await until(async () => {
    [early] = (await realtimeOf(identity)).filter((c) => c.id !== before.id);
    return early?.requests.some((r) => /^GET .*Lists\/.*\/Items/.test(r));
  }, 'a connection that asked for the newest page, before the wasm');
  assert.equal(await appMounted(page), false, 'the app is not there yet');
  await agentSays(sid, 'While the wasm was held');
  await new Promise((r) => setTimeout(r, 500)); // (pushed to the early Client meanwhile)
  await page.evaluate(() => window.__openGate());
  await launcher(page).click();
  await connected(page);
  for (const text of ['Before the reload', 'While the wasm was held']) {
    await log(page).locator('.bubble', { hasText: text }).first().waitFor();
    assert.equal(await log(page).locator('.bubble', { hasText: text }).count(), 1, `"${text}" shows once`);
  }
  const messages = await page.evaluate(() => window.__events.filter((e) => e.name === 'message').map((e) => e.detail.body));
  assert.deepEqual(messages, ['While the wasm was held'], 'announced to the host page once');
  const after = (await realtimeOf(identity)).filter((c) => c.id !== before.id);
  assert.deepEqual(after.map((c) => c.id), [early.id], 'one connection: the one started before the wasm');
  assert.equal(after[0].requests.filter((r) => /^GET .*Lists\/.*\/Items/.test(r)).length, 1, 'the newest page asked for once');
});

test('the realtime connection refused on the early path: the app shows "can\'t connect" and connects by itself once it is allowed', async (t) => {
  const { page } = await visit(t, 'earlyrefused', { init: holdWasm });
  await page.evaluate(() => window.__openGate());
  await openAndConnect(page);
  const identity = await identityOf(page, 'earlyrefused');
  await emu.realtimeFault('refuse', { identity, ms: 60_000 });
  await page.reload();
  await launcher(page).hover(); // intent: the module, then the early path, while the wasm is held
  await until(async () => (await emu.realtimeReport()).refused_inits.includes(identity), 'the early connection refused');
  assert.equal(await appMounted(page), false, 'the app is not there yet');
  await page.evaluate(() => window.__openGate());
  await launcher(page).click();
  await composer(page).fill('Kept while refused');
  await page.getByText(/Can't connect|Reconnecting|Connecting/).first().waitFor();
  await emu.realtimeFault('refuse', { identity, ms: 0 });
  await connected(page, 30_000);
  assert.equal(await composer(page).inputValue(), 'Kept while refused');
});
