// The widget end to end in Debian's Chromium: host pages on their own origin paste the one script
// tag; the Worker runs under `wrangler dev`; the widget runs the real @twilio/conversations SDK
// (the Worker's vendored copy, in its own realm) against the local Twilio emulator's realtime
// endpoint, whose webhooks reach the Worker (the auto-responder answers); agents answer through
// the emulator's REST API with the official twilio client. Network faults are injected at the
// emulator (its realtime controls). One site id per test keeps their localStorage apart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, testSecrets, ROOT } from './support/worker.mjs';
import { startEmulator } from './support/emulator.mjs';
import { launchBrowser } from './support/browser.mjs';
import { startHost, hostPage } from './support/host.mjs';
import { builtFiles } from '../scripts/lib/files.mjs';

const secrets = testSecrets();
const SERVICE = 'IS' + 'a1'.repeat(16);
const SHOTS = join(ROOT, 'test-results');
let host;
let emu;
let client;
let worker;
let browser;
/** The same Worker after its VISITOR_SIGNING_SECRET was rotated (started by the test that needs it). */
let rotated;
const rotationSites = () => ({ rotated: config(quiet), rotating: config({ ...quiet, token_ttl_seconds: 30 }) });
const startRotated = async () => {
  rotated ??= await startWorker({
    secrets: { ...secrets, VISITOR_SIGNING_SECRET: testSecrets().VISITOR_SIGNING_SECRET, TWILIO_API_BASE: emu.url,
      TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: rotationSites(),
  });
  return rotated;
};

const config = (extra = {}) => JSON.stringify({
  allowed_origins: [host.origin],
  service_sid: SERVICE,
  automation: {
    auto_reply: {
      bot_name: 'Acme bot', greeting: 'Hello! How can we help?',
      rules: [{ keywords: ['price'], reply: 'It is free.' }],
      handoff_phrases: ['human'], handoff_reply: 'A person will answer.',
    },
  },
  appearance: { title: 'Acme support', brand_color: '#0263E0', position: 'bottom-right' },
  greeting: 'Hi! Ask us anything.',
  ...extra,
});
const quiet = { automation: 'none' };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  host = await startHost();
  emu = await startEmulator({ secrets, services: [SERVICE] });
  client = emu.client();
  worker = await startWorker({
    secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: {
      first: config(), back: config(), short: config({ ...quiet, token_ttl_seconds: 30 }), stale: config(quiet),
      long: config(quiet), plain: config(quiet), hostile: config(quiet), keys: config(quiet), shots: config(),
      nosdk: config(quiet), nostore: config(quiet), queue: config(quiet), csp: config(quiet), retry: config(quiet), ended: config(quiet),
      typing: config(quiet), drop: config(quiet), lost: config(quiet), globals: config(quiet), patched: config(quiet), left: config(quiet),
      branded: config({ ...quiet, appearance: { title: 'Branded', brand_color: '#E01E5A', position: 'bottom-left' } }), ...rotationSites(),
      skewed: config({ ...quiet, token_ttl_seconds: 30 }), busy: config(quiet), pages: config(quiet), query: config({ ...quiet, keep_page_query: true }), onload: config(quiet),
    },
  });
  // The Twilio console step: the service's post-event webhook to the Worker.
  await client.conversations.v1.services(SERVICE).configuration.webhooks().update({
    postWebhookUrl: `${worker.url}/webhooks/conversations`, filters: ['onConversationAdded', 'onMessageAdded'], method: 'POST',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  worker?.stop();
  rotated?.stop();
  emu?.stop();
  await host?.stop();
});

/** Opens a host page for `site`, recording requests and page errors from the start. */
async function visit(site, { head = '', body, before: beforeTag = '', width = 1280, height = 800, init, path = `/${site}`, headers } = {}) {
  const url = host.page(path, hostPage({ workerUrl: worker.url, site, head, body, before: beforeTag }), headers);
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  // No opening animation: positions are compared and screenshots taken right after opening.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  if (init) await page.addInitScript(init);
  await page.addInitScript(() => {
    window.__events = [];
    for (const name of ['ready', 'open', 'close', 'message']) {
      addEventListener(`edgechat:${name}`, (e) => window.__events.push({ name, detail: e.detail ?? null }));
    }
  });
  await page.goto(url);
  return { page, url, requests, errors };
}

// The app's launcher comes after embed.js's placeholder, which it replaces.
const launcher = (page) => page.locator('button.launcher').last();
const composer = (page) => page.getByRole('textbox', { name: 'Message' });
const log = (page) => page.getByRole('log', { name: 'Messages' });
const panel = (page) => page.getByRole('dialog');
/** The connection is up: the send button is enabled. On a timeout, says what the panel showed. */
const connected = async (page, timeout = 15_000) => {
  try {
    await page.locator('button[aria-label="Send"][aria-disabled="false"]').waitFor({ timeout });
  } catch (e) {
    const shown = await page.evaluate(() => {
      const root = document.querySelector('edgechat-widget')?.shadowRoot;
      const panel = root?.querySelector('.panel');
      return { launchers: root?.querySelectorAll('button.launcher').length, expanded: root?.querySelector('.ec .launcher')?.getAttribute('aria-expanded'),
        panelHidden: panel?.hidden, text: panel?.textContent };
    }).catch((err) => String(err));
    throw new Error(`not connected within ${timeout} ms; the widget shows: ${JSON.stringify(shown)}\n${e.message}`);
  }
};
/** What has focus inside the widget's shadow root (its aria-label or tag). */
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement?.shadowRoot?.activeElement;
  return el ? el.getAttribute('aria-label') || el.tagName.toLowerCase() : `page:${document.activeElement?.tagName.toLowerCase()}`;
});
/** Waits (at most 2 s: focus moves after the panel renders) until `label` has focus. */
async function focusMovesTo(page, label, message) {
  const deadline = Date.now() + 2000;
  while ((await focused(page)) !== label && Date.now() < deadline) await page.waitForTimeout(20);
  assert.equal(await focused(page), label, message);
}
const stored = (page, site, what) => page.evaluate(([s, w]) => localStorage.getItem(`edgechat:${s}:${w}`), [site, what]);
const bubbles = (page) => page.locator('.log .bubble').allInnerTexts();

/** Waits until no own message is being sent (each is sent, or shows "Not sent."). */
const noneSending = (page) => until(
  async () => (await page.locator('.msg.own .meta', { hasText: /Sending|Waiting/ }).count()) === 0, 'no own message waiting or sending', 30_000);
/** Waits until every own message went out: none sending, none failed. */
const allDelivered = (page) => until(
  async () => (await page.locator('.msg.own .meta', { hasText: /Sending|Waiting|Not sent/ }).count()) === 0, 'every own message delivered', 30_000);
/** The bodies Twilio (the emulator) holds for a conversation, oldest first. */
/** The visitor's identity, from the credential the widget stored (`v1.<site>.<uuid>.<tag>`). */
async function identityOf(page, site) {
  const credential = await stored(page, site, 'visitor');
  const [, , uuid] = credential.split('.');
  return `visitor:${site}:${uuid}`;
}

function within(promise, what, ms = 10_000) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

async function until(predicate, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many times the emulator refused `identity`'s reconnection (a realtime fault). */
const refusedInits = async (identity) => (await emu.realtimeReport()).refused_inits.filter((i) => i === identity).length;

const bodiesIn = async (sid) => (await client.conversations.v1.services(SERVICE).conversations(sid).messages.list({ pageSize: 100 })).map((m) => m.body);
/** The visitor credential and conversation SID the page keeps for `site`. */
const session = async (page, site) => ({ visitor: await stored(page, site, 'visitor'), conversation: await stored(page, site, 'conversation') });

async function openAndConnect(page) {
  await launcher(page).click();
  await connected(page);
}

/** Sends `text` and waits until it went out (or failed): a first message creates the conversation. */
async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await log(page).locator('.msg.own .bubble', { hasText: text }).last().waitFor();
  await noneSending(page);
}

function agentSays(sid, body, author = 'agent:ana') {
  return client.conversations.v1.services(SERVICE).conversations(sid).messages.create({ author, body });
}

test('a new visitor: nothing loads before intent; open, chat, the auto-responder and an agent answer; events; unread badge', async () => {
  const { page, url, requests, errors } = await visit('first');
  await launcher(page).waitFor();
  await page.waitForLoadState('networkidle');
  assert.deepEqual(requests.filter((r) => r.startsWith(worker.url)), [`${worker.url}/embed.js`], 'only embed.js before intent');
  assert.equal(await focused(page), 'page:body', 'nothing takes focus on page load');
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');

  const wasm = page.waitForRequest((r) => r.url().endsWith('.wasm'));
  await launcher(page).hover();
  await wasm; // hover is intent: the widget loads before the click
  await openAndConnect(page);
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'true');
  await panel(page).and(page.getByRole('dialog', { name: 'Acme support' })).waitFor();
  await focusMovesTo(page, 'Message', 'opening moves focus to the composer');
  assert.ok(requests.some((r) => r === `${worker.url}/${builtFiles().sdk.replace(/^public\//, '')}`), 'the vendored SDK embed.js names');
  assert.equal(await page.evaluate(() => typeof window.Twilio), 'undefined', 'the SDK is not in the host page');

  await send(page, 'What is the price?');
  await log(page).getByText('It is free.').waitFor();
  await log(page).getByText('Hello! How can we help?').waitFor();
  const sid = await stored(page, 'first', 'conversation');
  assert.match(sid, /^CH[0-9a-f]{32}$/);
  const conversation = await client.conversations.v1.services(SERVICE).conversations(sid).fetch();
  const attributes = JSON.parse(conversation.attributes);
  assert.equal(attributes.site, 'first');
  assert.equal(attributes.page_url, url);

  await agentSays(sid, 'Ana here, glad to help.');
  await log(page).getByText('Ana here, glad to help.').waitFor();
  assert.ok(await log(page).getByText('ana', { exact: true }).count() >= 1, 'the agent is named');

  await panel(page).getByRole('button', { name: 'Close chat' }).click();
  await panel(page).waitFor({ state: 'hidden' });
  await focusMovesTo(page, 'Open chat', 'closing returns focus to the launcher');
  await agentSays(sid, 'Anything else?');
  await page.getByRole('button', { name: 'Open chat, 1 unread message' }).waitFor();
  assert.equal(await page.locator('.badge').innerText(), '1');
  await launcher(page).click();
  await panel(page).waitFor();
  assert.equal(await page.locator('.badge').count(), 0, 'opening reads everything');

  const events = await page.evaluate(() => window.__events);
  const names = events.map((e) => e.name);
  assert.equal(names.filter((n) => n === 'ready').length, 1);
  assert.deepEqual(names.filter((n) => n === 'open' || n === 'close'), ['open', 'close', 'open'], 'the shell\'s open is not announced again by the app');
  const messages = events.filter((e) => e.name === 'message').map((e) => e.detail.body);
  assert.ok(messages.includes('Anything else?') && messages.includes('It is free.'), JSON.stringify(messages));
  assert.ok(!messages.includes('What is the price?'), 'own messages are not announced');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a returning visitor: same identity and conversation after a reload, history shown, unread loaded when idle', async () => {
  const { page } = await visit('back');
  await openAndConnect(page);
  await send(page, 'First visit');
  await log(page).getByText('Hello! How can we help?').waitFor();
  const sid = await stored(page, 'back', 'conversation');
  const visitor = await stored(page, 'back', 'visitor');

  const wasm = page.waitForRequest((r) => r.url().endsWith('.wasm'));
  const token = page.waitForResponse((r) => r.url().endsWith('/token'));
  await page.reload();
  await wasm; // a returning visitor's widget loads when the browser is idle, without a click
  await token;
  // Connected in the background: the history is in the (closed) panel.
  await page.locator('edgechat-widget .log .bubble', { hasText: 'First visit' }).waitFor({ state: 'attached' });
  await agentSays(sid, 'Welcome back!');
  await page.getByRole('button', { name: 'Open chat, 1 unread message' }).waitFor();

  await launcher(page).click();
  await log(page).getByText('Welcome back!').waitFor();
  await log(page).getByText('First visit').waitFor();
  assert.equal(await stored(page, 'back', 'conversation'), sid, 'the same conversation');
  assert.equal(await stored(page, 'back', 'visitor'), visitor, 'the same visitor credential');
  const participants = await client.conversations.v1.services(SERVICE).conversations(sid).participants.list();
  assert.equal(participants.length, 1, 'the same identity: no second participant');
  await send(page, 'Second visit');
  await page.close();
});

test('the session outlives its token: when it expires (the emulator expires it now), a new one is fetched and messages still go out', async () => {
  const { page, requests } = await visit('short');
  await openAndConnect(page);
  await send(page, 'Before expiry');
  await noneSending(page);
  const identity = await identityOf(page, 'short');
  const tokens = () => requests.filter((r) => r.endsWith('/api/sites/short/token')).length;
  const connectedAs = async () => (await emu.realtimeReport()).connections.filter((c) => c.identity === identity).length;
  assert.equal(tokens(), 1);
  // Twilio closes the connection with 410 when the token runs out; the SDK fires tokenExpired.
  assert.equal((await emu.realtimeFault('expire', { identity })).connections, 1);
  // Within the second the first token was issued, the Worker's token is the same bytes (its
  // claims count seconds), which the SDK would ignore: the widget fetches again until it differs.
  await until(() => tokens() >= 2, 'a new token is fetched');
  await until(async () => (await connectedAs()) === 1, 'the SDK reconnects with it');
  await send(page, 'After expiry');
  await page.locator('.msg.own .meta', { hasText: /Sending|Not sent/ }).waitFor({ state: 'detached', timeout: 10_000 });
  const sid = await stored(page, 'short', 'conversation');
  const bodies = await bodiesIn(sid);
  assert.deepEqual(bodies, ['Before expiry', 'After expiry']);
  assert.ok(tokens() <= 4, `a bounded number of token requests: ${tokens()}`);
  await page.close();
});

test('a stale conversation (deleted, then closed) is replaced by a new one with a notice, never a spinner', async () => {
  const conversations = client.conversations.v1.services(SERVICE).conversations;
  let { page } = await visit('stale');
  await openAndConnect(page);
  await send(page, 'Old conversation');
  const first = await stored(page, 'stale', 'conversation');
  await page.close();
  await conversations(first).remove();

  ({ page } = await visit('stale'));
  await openAndConnect(page);
  await log(page).getByText('Your previous conversation has ended. This is a new one.').waitFor();
  assert.equal(await stored(page, 'stale', 'conversation'), null, 'the next one starts with the next message');
  await send(page, 'New conversation');
  await allDelivered(page);
  const second = await stored(page, 'stale', 'conversation');
  assert.match(second ?? '', /^CH/);
  assert.notEqual(second, first);
  await page.close();

  await conversations(second).update({ state: 'closed' });
  ({ page } = await visit('stale'));
  await openAndConnect(page);
  await log(page).getByText('Your previous conversation has ended. This is a new one.').waitFor();
  assert.equal(await stored(page, 'stale', 'conversation'), null, 'the closed one is forgotten');
  assert.ok(!(await bubbles(page)).includes('New conversation'), 'the closed conversation is not shown');
  await send(page, 'Third conversation');
  await allDelivered(page);
  const third = await stored(page, 'stale', 'conversation');
  assert.ok(third && third !== second && third !== first);
  await page.close();
});

test('45 messages: the newest 30 on open; scrolling to the top loads older ones in order, no duplicates, in place', async () => {
  let { page } = await visit('long');
  await openAndConnect(page);
  await send(page, 'm00');
  const sid = await stored(page, 'long', 'conversation');
  await page.close();
  for (let i = 1; i <= 44; i++) await agentSays(sid, `m${String(i).padStart(2, '0')}`);

  ({ page } = await visit('long'));
  await openAndConnect(page);
  await log(page).getByText('m44', { exact: true }).waitFor();
  let shown = (await bubbles(page)).filter((b) => /^m\d\d$/.test(b));
  assert.deepEqual(shown, Array.from({ length: 30 }, (_, i) => `m${String(i + 15).padStart(2, '0')}`), 'the newest page only');

  const anchor = log(page).getByText('m15', { exact: true });
  const logBox = await log(page).boundingBox();
  await log(page).evaluate((el) => { el.scrollTop = 0; });
  await log(page).getByText('m00', { exact: true }).waitFor();
  // Racing live messages and pages: one more live message must not duplicate anything.
  await agentSays(sid, 'm45');
  await log(page).getByText('m45', { exact: true }).waitFor();
  shown = (await bubbles(page)).filter((b) => /^m\d\d$/.test(b));
  assert.deepEqual(shown, Array.from({ length: 46 }, (_, i) => `m${String(i).padStart(2, '0')}`));
  const box = await anchor.boundingBox();
  assert.ok(box.y > logBox.y && box.y < logBox.y + logBox.height, `the message that was on top stays in view (y=${box.y}, log ${logBox.y}..${logBox.y + logBox.height})`);
  await page.close();
});

test('a host page with aggressive global CSS renders the widget unchanged, and the widget changes nothing outside its host element', async () => {
  const hostile = `<style>
    html { font-size: 10px !important; }
    *, *::before, *::after { margin: 13px !important; padding: 7px !important; font-family: "Comic Sans MS", cursive !important;
      color: red !important; background: yellow !important; line-height: 3 !important; letter-spacing: 3px !important;
      box-sizing: content-box !important; border: 5px dashed green !important; }
    button, textarea, div, p, span, h2, svg, form { display: inline !important; position: static !important; width: 10px !important; }
    edgechat-widget, body > * { display: none !important; transform: rotate(5deg) !important; }
    :root { --ec-brand: #ff0000; --paste-color-text: #00ff00; --paste-space-50: 99px; }
  </style>`;
  const snapshot = (page) => page.evaluate(() => {
    const widget = document.querySelector('edgechat-widget')?.shadowRoot;
    const pick = (el, props) => {
      if (!el) return null;
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return { box: [r.x, r.y, r.width, r.height].map(Math.round), ...Object.fromEntries(props.map((p) => [p, s.getPropertyValue(p)])) };
    };
    const props = ['color', 'background-color', 'font-family', 'font-size', 'line-height', 'letter-spacing', 'border-top-width', 'display', 'position'];
    return Object.fromEntries([['launcher', '.ec .launcher'], ['panel', '.panel'], ['title', 'h2'], ['composer', 'textarea'], ['send', '.send'], ['greeting', '.bubble']]
      .map(([name, sel]) => [name, pick(widget?.querySelector(sel), props)]));
  });
  const outside = (page) => page.evaluate(() => {
    const content = getComputedStyle(document.getElementById('content'));
    return {
      content: [content.color, content.fontSize, content.margin, content.display],
      body: [...document.body.children].filter((e) => e.tagName !== 'EDGECHAT-WIDGET').map((e) => e.outerHTML),
      head: [...document.head.children].filter((e) => !(e.tagName === 'SCRIPT' && e.src.includes('twilio-conversations'))).map((e) => e.outerHTML),
      sheets: document.styleSheets.length,
      html: document.documentElement.getAttribute('style'),
      bodyStyle: document.body.getAttribute('style'),
    };
  });

  const plain = await visit('plain', { path: '/plain-css' });
  await openAndConnect(plain.page);
  const expected = await snapshot(plain.page);
  assert.ok(expected.launcher && expected.panel && expected.greeting, JSON.stringify(expected));
  await plain.page.close();

  const { page } = await visit('hostile', { head: hostile });
  const before = await outside(page);
  await openAndConnect(page);
  assert.deepEqual(await snapshot(page), expected, 'the widget looks the same on the hostile page');
  await send(page, 'Still readable');
  await launcher(page).click();
  assert.deepEqual(await outside(page), before, 'nothing outside the host element changed');
  await page.close();
});

test('keyboard only: Tab to the launcher, Enter opens, type, Shift+Enter for a new line, Enter sends, Escape closes', async () => {
  const { page } = await visit('keys');
  await launcher(page).waitFor();
  await page.keyboard.press('Tab');
  await focusMovesTo(page, 'Open chat');
  await page.keyboard.press('Enter');
  await connected(page);
  await focusMovesTo(page, 'Message');
  await page.keyboard.type('Line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('Line two');
  await page.keyboard.press('Enter');
  await log(page).locator('.msg.own .bubble', { hasText: 'Line two' }).waitFor();
  assert.deepEqual((await bubbles(page)).filter((b) => b.startsWith('Line')), ['Line one\nLine two']);
  assert.equal(await composer(page).inputValue(), '');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').getByText('Type a message first.').waitFor();
  await page.keyboard.press('Escape');
  await panel(page).waitFor({ state: 'hidden' });
  await focusMovesTo(page, 'Open chat');
  await page.keyboard.press('Enter');
  await panel(page).waitFor();
  await focusMovesTo(page, 'Message');
  await page.close();
});

test('screenshots of the open widget at desktop size and at 375 px wide (full screen)', async () => {
  for (const [name, width, height] of [['desktop', 1280, 800], ['375', 375, 740]]) {
    const { page } = await visit('shots', { width, height, path: `/shots-${name}` });
    await openAndConnect(page);
    await send(page, `What is the price? (${name})`);
    await log(page).getByText('It is free.').last().waitFor();
    await page.screenshot({ path: join(SHOTS, `widget-${name}.png`), animations: 'disabled' });
    const box = await panel(page).boundingBox();
    if (width < 600) assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, width, height], 'full screen below 600 px');
    else assert.ok(box.width < 400 && box.x + box.width <= width, JSON.stringify(box));
    await page.close();
  }
});

test('the SDK script fails to load: an "unavailable, try again" state that recovers, and the draft is kept', async () => {
  const { page } = await visit('nosdk');
  await page.route(`${worker.url}/vendor/**`, (route) => route.abort());
  await launcher(page).click();
  await composer(page).fill('Kept while offline');
  await page.getByRole('alert').getByText('Chat is unavailable right now.').waitFor();
  assert.equal(await composer(page).inputValue(), 'Kept while offline');
  await page.unroute(`${worker.url}/vendor/**`);
  await page.getByRole('button', { name: 'Try again' }).click();
  await connected(page);
  await composer(page).press('Enter');
  await log(page).locator('.msg.own .bubble', { hasText: 'Kept while offline' }).waitFor();
  await page.close();
});

test('localStorage blocked: the widget still works for the page\'s life', async () => {
  const { page, errors } = await visit('nostore', {
    init: () => Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); } }),
  });
  await openAndConnect(page);
  await send(page, 'No storage here');
  await noneSending(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('window.edgechat: commands queued before embed.js loads run, then open/close/toggle, with their events', async () => {
  const queue = '<script>window.edgechat=window.edgechat||function(){(edgechat.q=edgechat.q||[]).push(arguments)};edgechat("open")</script>';
  const { page } = await visit('queue', { before: queue });
  await panel(page).waitFor();
  await connected(page);
  await page.evaluate(() => window.edgechat('close'));
  await panel(page).waitFor({ state: 'hidden' });
  await page.evaluate(() => window.edgechat('toggle'));
  await panel(page).waitFor();
  await page.evaluate(() => window.edgechat('nonsense'));
  const names = (await page.evaluate(() => window.__events)).map((e) => e.name).filter((n) => n !== 'message');
  // Opened by the queued command before the app was there: the shell opened first.
  assert.deepEqual(names, ['open', 'ready', 'close', 'open']);
  await page.close();
});

test('with the real SDK and Twilio unreachable: a clear "can\'t connect" state, and what was typed is kept', async () => {
  // A second Worker with its default config: the vendored @twilio/conversations from its assets.
  const real = await startWorker({ secrets: { ...secrets, TWILIO_API_BASE: emu.url }, sites: { offline: config(quiet) } });
  const unreachable = await launchBrowser({ args: ['--host-resolver-rules=MAP *.twilio.com ~NOTFOUND'] });
  try {
    const page = await unreachable.newPage();
    const url = host.page('/offline', hostPage({ workerUrl: real.url, site: 'offline' }));
    await page.goto(url);
    await launcher(page).click();
    await composer(page).fill('Please keep this text');
    await page.getByRole('alert').getByText("Can't connect to chat. Check your connection, then try again.").waitFor({ timeout: 30_000 });
    const versions = await Promise.all(page.frames().map((f) => f.evaluate(() => window.Twilio?.Conversations?.Client?.version).catch(() => undefined)));
    assert.deepEqual(versions.filter(Boolean), ['3.0.1'], 'the real SDK was loaded, in its own realm only');
    // Sent while not connected: it waits in the log for the connection, with its text.
    await composer(page).press('Enter');
    const waiting = log(page).locator('.msg.own', { hasText: 'Please keep this text' });
    await waiting.getByText('Waiting for connection').waitFor();
    assert.equal(await composer(page).inputValue(), '');
    await page.getByRole('button', { name: 'Try again' }).waitFor();
  } finally {
    await unreachable.close();
    real.stop();
  }
});

test('a strict Content-Security-Policy (the README\'s lines): no eval, no inline script; the widget works', async () => {
  const ws = emu.url.replace('http://', 'ws://');
  const csp = `default-src 'none'; script-src ${worker.url} ${emu.url} 'wasm-unsafe-eval'; `
    + `connect-src ${worker.url} ${emu.url} ${ws}; style-src 'unsafe-inline'; img-src 'none'`;
  const { page, errors } = await visit('csp', { headers: { 'Content-Security-Policy': csp } });
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await openAndConnect(page);
  await send(page, 'Under a strict CSP');
  await noneSending(page);
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a send that fails keeps its text, marked "Not sent." with Retry; Retry sends it once', async () => {
  const { page } = await visit('retry');
  await openAndConnect(page);
  // The emulator answers the next message the visitor sends with an error (nothing stored).
  await emu.realtimeFault('fail', { identity: await identityOf(page, 'retry'), method: 'POST', path_contains: '/Messages', status: 503 });
  await composer(page).fill('Please do not lose me');
  await composer(page).press('Enter');
  const failed = page.locator('.msg.own.failed');
  await failed.getByText('Not sent.').waitFor();
  assert.equal(await failed.locator('.bubble').innerText(), 'Please do not lose me');
  await failed.getByRole('button', { name: 'Retry' }).click();
  await failed.waitFor({ state: 'detached' });
  await noneSending(page);
  const sid = await stored(page, 'retry', 'conversation');
  const bodies = await bodiesIn(sid);
  assert.deepEqual(bodies, ['Please do not lose me']);
  assert.deepEqual((await bubbles(page)).filter((b) => b.startsWith('Please')), ['Please do not lose me'], 'shown once');
  await page.close();
});

test('a send whose answer is lost: "Not sent." with Retry, and Retry finds it stored instead of sending it twice', async () => {
  const { page, errors } = await visit('lost');
  // The first message the visitor sends is stored, but its answer is lost (the emulator answers
  // with an error after storing it) and its push is held back: only Retry can find out that it
  // was stored.
  const body = 'Stored but unconfirmed';
  await openAndConnect(page);
  const identity = await identityOf(page, 'lost');
  await emu.realtimeFault('fail', { identity, method: 'POST', path_contains: '/Messages', status: 503, apply: true });
  await emu.realtimeFault('hold', { identity });
  await composer(page).fill(body);
  await composer(page).press('Enter');
  const failed = page.locator('.msg.own.failed');
  await failed.getByText('Not sent.').waitFor();
  // From the keyboard, pressed on the page: the placeholder goes as soon as the stored copy is
  // found, which can be before an element-bound click or press finishes its own checks.
  await failed.getByRole('button', { name: 'Retry' }).focus();
  await page.keyboard.press('Enter');
  await failed.waitFor({ state: 'detached' });
  await noneSending(page);
  await emu.realtimeFault('release', { identity });
  const sid = await stored(page, 'lost', 'conversation');
  const bodies = await bodiesIn(sid);
  assert.deepEqual(bodies, [body], 'sent once');
  assert.deepEqual((await bubbles(page)).filter((b) => b === body), [body], 'shown once');
  assert.deepEqual(errors, []);
  await page.close();
});

test("a returning visitor's launcher has the site's colour and side from the first paint, before the app loads", async () => {
  const { page, errors } = await visit('branded');
  const look = () => page.evaluate(() => {
    const button = [...document.querySelector('edgechat-widget').shadowRoot.querySelectorAll('button.launcher')].pop();
    return { background: getComputedStyle(button).backgroundColor, left: Math.round(button.getBoundingClientRect().left) };
  });
  const expected = { background: 'rgb(224, 30, 90)', left: 20 };
  await openAndConnect(page); // the app keeps the launcher's look from the site's config
  assert.deepEqual(await look(), expected, "the app's launcher");
  await send(page, 'Now a returning visitor'); // whose widget loads when idle

  // The next page view with the app held back: embed.js's own launcher.
  const app = '**/widget/edgechat_widget.*.js';
  await page.route(app, (route) => route.abort());
  await page.reload();
  await launcher(page).waitFor();
  assert.deepEqual(await look(), expected, "embed.js's launcher, before the app");

  // And when the app does load (a returning visitor: when idle), its launcher looks the same.
  await page.unroute(app);
  await page.reload();
  await page.waitForFunction(() => window.__events.some((e) => e.name === 'ready'));
  assert.deepEqual(await look(), expected, "the app's launcher, as it replaces embed.js's");
  assert.deepEqual(errors, []);
  await page.close();
});

test('a conversation closed while the panel is open: a notice, and the next message starts a new one', async () => {
  const { page, errors } = await visit('ended');
  await openAndConnect(page);
  await send(page, 'Before the close');
  const first = await stored(page, 'ended', 'conversation');
  await client.conversations.v1.services(SERVICE).conversations(first).update({ state: 'closed' });
  await log(page).getByText('This conversation has ended. Send a message to start a new one.').waitFor();
  await send(page, 'After the close');
  await allDelivered(page);
  const second = await stored(page, 'ended', 'conversation');
  assert.match(second ?? '', /^CH/);
  assert.notEqual(second, first);
  const bodies = await bodiesIn(second);
  assert.deepEqual(bodies, ['After the close']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('typing: an agent typing shows "ana is typing…" until their message arrives; the visitor typing reaches the agent', async () => {
  const { page, errors } = await visit('typing');
  await openAndConnect(page);
  await send(page, 'Anyone there?');
  const sid = await stored(page, 'typing', 'conversation');
  // The agent joins through the REST API, as Flex would, and connects as an SDK client.
  await client.conversations.v1.services(SERVICE).conversations(sid).participants.create({ identity: 'agent:ana' });
  const agent = await within(emu.sdkClient(emu.accessToken('agent:ana')).ready, 'the agent connects');
  const agentConversation = await agent.getConversationBySid(sid);
  await agentConversation.getMessages(30);
  const visitorTyping = new Promise((resolve) => agentConversation.on('typingStarted', resolve));
  // The conversation was created with the visitor's first message a moment ago: their client
  // may not be subscribed to it yet, and a typing signal is not replayed. The agent keeps typing
  // (the SDK sends at most one signal per 5 s) until the visitor sees it.
  const typing = page.locator('.typing', { hasText: 'ana is typing…' });
  await until(async () => {
    await agentConversation.typing();
    return typing.isVisible();
  }, 'the agent\'s typing shows', 20_000);
  await agentSays(sid, 'Here, how can I help?');
  await log(page).getByText('Here, how can I help?').waitFor();
  await typing.waitFor({ state: 'detached' });

  // The SDK tells the others at most once per typing timeout (5 s from the emulator), and the
  // visitor's last typing was for the first message: keep typing until the agent hears it.
  let heard = false;
  visitorTyping.then(() => { heard = true; });
  await until(async () => {
    await composer(page).pressSequentially('I have a question ');
    return heard;
  }, "the visitor's typing reaches the agent", 15_000);
  const typist = await visitorTyping;
  assert.match(typist.identity, /^visitor:typing:/, "the visitor's typing, with their identity");
  await agent.shutdown();
  assert.deepEqual(errors, []);
  await page.close();
});

test('a dropped connection: "Reconnecting…" while it is down; after it, what was written meanwhile (over a page) shows without a hole, and sending works', async () => {
  const { page, errors } = await visit('drop');
  await openAndConnect(page);
  await send(page, 'Before the drop');
  // Sent (its stored copy may still be on its way when the channel drops: the log knows it).
  await noneSending(page);
  const sid = await stored(page, 'drop', 'conversation');
  const banner = page.getByRole('status').getByText('Connection lost. Reconnecting…');

  // The emulator drops the visitor's socket and refuses reconnections for a while.
  const identity = await identityOf(page, 'drop');
  await emu.realtimeFault('refuse', { identity, ms: 60_000 });
  assert.equal((await emu.realtimeFault('drop', { identity })).connections, 1);
  await banner.waitFor();
  // More than a page (30) is written while the visitor is offline.
  const offline = Array.from({ length: 34 }, (_, i) => `Offline ${String(i + 1).padStart(2, '0')}`);
  for (const body of offline) await agentSays(sid, body);
  await until(async () => (await refusedInits(identity)) >= 1, 'a reconnection attempt is refused');
  assert.ok(await banner.isVisible(), 'still reconnecting while the channel is refused');

  await emu.realtimeFault('refuse', { identity, ms: 0 });
  await banner.waitFor({ state: 'detached', timeout: 20_000 });
  await log(page).getByText('Offline 34').waitFor();
  const shown = async () => (await bubbles(page)).filter((b) => b.startsWith('Offline') || b.endsWith('the drop'));
  // The widget fetches the newest page itself and the SDK replays what it missed: whichever
  // comes first, what shows is a run up to the newest message with no hole, each once.
  const all = ['Before the drop', ...offline];
  const now = await shown();
  assert.ok(now.length >= 30, `at least the newest page: ${now.length}`);
  assert.deepEqual(now, all.slice(all.length - now.length), 'a run up to the newest, no hole');
  if (now[0] !== 'Before the drop') {
    await page.getByRole('button', { name: 'Show earlier messages' }).click();
    await log(page).getByText('Before the drop').waitFor();
  }
  assert.deepEqual(await shown(), all, 'the older ones, in order, once');
  await send(page, 'After the drop');
  await allDelivered(page);
  const bodies = await bodiesIn(sid);
  assert.deepEqual(bodies, ['Before the drop', ...offline, 'After the drop']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the visitor secret rotated before a return visit: the old credential is refused, a new visitor starts with the notice', async () => {
  const { page, errors } = await visit('rotated');
  await openAndConnect(page);
  await send(page, 'Before the rotation');
  await noneSending(page);
  const before = await session(page, 'rotated');

  const b = await startRotated();
  await page.goto(host.page('/rotated-again', hostPage({ workerUrl: b.url, site: 'rotated' })));
  await openAndConnect(page);
  await log(page).getByText('Your previous conversation has ended. This is a new one.').waitFor();
  assert.deepEqual(await bubbles(page), ['Hi! Ask us anything.'], "nothing of the old visitor's conversation");
  assert.equal((await session(page, 'rotated')).conversation, null, 'the next message starts one');
  await send(page, 'After the rotation');
  await allDelivered(page);
  const after = await session(page, 'rotated');
  assert.notEqual(after.visitor, before.visitor, 'a new visitor credential');
  assert.match(after.conversation ?? '', /^CH/);
  assert.notEqual(after.conversation, before.conversation, 'a new conversation');
  const bodies = await bodiesIn(after.conversation);
  assert.deepEqual(bodies, ['After the rotation']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the visitor secret rotated mid-session: the token refresh is refused, and the page goes on as a new visitor', async () => {
  const { page, errors } = await visit('rotating');
  await openAndConnect(page);
  await send(page, 'Before the rotation');
  const before = await session(page, 'rotating');
  // From now on the Worker this page talks to is the rotated one (its answers, unchanged).
  const b = await startRotated();
  const path = '/api/sites/rotating/token';
  await page.route(`${worker.url}${path}`, async (route) => {
    const response = await route.fetch({ url: `${b.url}${path}` });
    await route.fulfill({ response });
  });
  // The 30 s token is refreshed after ~24 s; the rotated Worker refuses the old credential.
  await log(page).getByText('Your previous conversation has ended. This is a new one.').waitFor({ timeout: 45_000 });
  await connected(page);
  await send(page, 'After the rotation');
  await allDelivered(page);
  const after = await session(page, 'rotating');
  assert.notEqual(after.visitor, before.visitor);
  assert.notEqual(after.conversation, before.conversation);
  const bodies = await bodiesIn(after.conversation);
  assert.deepEqual(bodies, ['After the rotation']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the SDK runs in a realm of its own: the host page\'s globals are the same before and after a chat', async () => {
  const { page, errors } = await visit('globals', {
    init: () => {
      if (window.top !== window) return;
      const names = {
        URL: () => window.URL, 'URL.parse': () => URL.parse, 'URL.canParse': () => URL.canParse,
        URLSearchParams: () => window.URLSearchParams,
        'URLSearchParams.prototype.size': () => Object.getOwnPropertyDescriptor(URLSearchParams.prototype, 'size')?.get,
        fetch: () => window.fetch, Request: () => window.Request, Promise: () => window.Promise,
        'Function.prototype.toString': () => Function.prototype.toString,
        'NodeList.prototype.forEach': () => NodeList.prototype.forEach,
        'HTMLCollection.prototype.forEach': () => HTMLCollection.prototype.forEach,
        'DOMTokenList.prototype.forEach': () => DOMTokenList.prototype.forEach,
        'Symbol.useSetter': () => Symbol.useSetter, 'Symbol.useSimple': () => Symbol.useSimple,
        Twilio: () => window.Twilio,
      };
      const before = Object.fromEntries(Object.entries(names).map(([k, get]) => [k, get()]));
      window.__changedGlobals = () => Object.entries(names).filter(([k, get]) => get() !== before[k]).map(([k]) => k);
      window.__globalKeys = Object.keys(window).length;
    },
  });
  await openAndConnect(page);
  await send(page, 'Does the SDK touch my page?');
  await noneSending(page);
  assert.deepEqual(await page.evaluate(() => window.__changedGlobals()), [], 'nothing the SDK bundle patches changed');
  assert.equal(await page.evaluate(() => typeof URL.parse), 'function', 'URL.parse is still there');
  assert.equal(await page.evaluate(() => new URL('https://a.test/x?y=1').searchParams.get('y')), '1');
  // The SDK is in an iframe inside the widget's shadow root, not in the page's DOM.
  assert.equal(await page.evaluate(() => document.querySelectorAll('iframe').length), 0);
  assert.equal(await page.evaluate(() => document.querySelector('edgechat-widget').shadowRoot.querySelectorAll('iframe[hidden]').length), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a host page with patched prototypes (old libraries) chats normally, and what it patched never reaches Twilio', async () => {
  const { page, errors } = await visit('patched', {
    init: () => {
      // The host page's own scripts run in its document only (init scripts run in every frame).
      if (window.top !== window) return;
      // As Prototype.js 1.6 and similar polyfills did.
      Array.prototype.toJSON = function () { return 'patched array'; };
      Object.defineProperty(Object.prototype, 'polluted', { value: 'yes', enumerable: true, writable: true, configurable: true });
      const bind = Function.prototype.bind;
      Function.prototype.bind = function (...args) { window.__binds = (window.__binds || 0) + 1; return bind.apply(this, args); };
      JSON.stringify = ((stringify) => function (value, ...rest) { return stringify.call(JSON, value, ...rest); })(JSON.stringify);
    },
  });
  await openAndConnect(page);
  await send(page, 'Hello from an old page');
  await noneSending(page);
  const sid = await stored(page, 'patched', 'conversation');
  const conversation = await client.conversations.v1.services(SERVICE).conversations(sid).fetch();
  const attributes = JSON.parse(conversation.attributes);
  assert.equal(attributes.site, 'patched');
  assert.ok(!('polluted' in attributes), JSON.stringify(attributes));
  const [message] = await client.conversations.v1.services(SERVICE).conversations(sid).messages.list();
  const messageAttributes = JSON.parse(message.attributes);
  assert.equal(typeof messageAttributes.edgechat_local_id, 'number');
  assert.ok(!('polluted' in messageAttributes), message.attributes);
  assert.equal(message.body, 'Hello from an old page');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a stored conversation the visitor was removed from while away (the SDK only peeks it) counts as gone: a new one, with the notice', async () => {
  const { page, url, errors } = await visit('left');
  await openAndConnect(page);
  await send(page, 'Before I was removed');
  await noneSending(page);
  const before = await stored(page, 'left', 'conversation');
  const identity = await identityOf(page, 'left');
  // Removed while no page of the site is open (an open page hears it live).
  await page.goto('about:blank');
  await client.conversations.v1.services(SERVICE).conversations(before).participants(identity).remove();
  await page.goto(url);
  await openAndConnect(page);
  await log(page).getByText('Your previous conversation has ended. This is a new one.').waitFor();
  assert.ok(!(await bubbles(page)).includes('Before I was removed'), 'nothing of the conversation the visitor left');
  await send(page, 'In the new one');
  await allDelivered(page);
  const after = await stored(page, 'left', 'conversation');
  assert.match(after ?? '', /^CH/);
  assert.notEqual(after, before);
  assert.deepEqual(await bodiesIn(after), ['In the new one']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a token Twilio refuses (the SDK goes denied): "can\'t connect", and the draft is kept', async () => {
  // A Worker that signs with an API key secret the service does not know.
  const wrongKey = await startWorker({
    secrets: { ...secrets, TWILIO_API_KEY_SECRET: 'not-the-secret-twilio-knows-for-this-key', TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: { denied: config(quiet) },
  });
  try {
    const page = await browser.newPage();
    await page.goto(host.page('/denied', hostPage({ workerUrl: wrongKey.url, site: 'denied' })));
    await launcher(page).click();
    await composer(page).fill('Keep this');
    await page.getByRole('alert').getByText("Can't connect to chat. Check your connection, then try again.").waitFor();
    assert.equal(await composer(page).inputValue(), 'Keep this');
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await page.close();
  } finally {
    wrongKey.stop();
  }
});

test('a visitor whose clock runs two hours fast renews once per token lifetime, not every second', async () => {
  const { page, requests } = await visit('skewed', {
    init: () => {
      const skew = 2 * 3600 * 1000;
      const RealDate = Date;
      // eslint-disable-next-line no-global-assign
      Date = class extends RealDate {
        constructor(...args) { super(...(args.length ? args : [RealDate.now() + skew])); }
        static now() { return RealDate.now() + skew; }
      };
    },
  });
  await openAndConnect(page);
  const tokens = () => requests.filter((r) => r.endsWith('/api/sites/skewed/token')).length;
  assert.equal(tokens(), 1);
  // The token lives 30 s; its renewal is due after 24 s of the visitor's own clock, wherever
  // that clock stands. Past the renewal, and before the next one could be due: two requests.
  await until(() => tokens() >= 2, 'the renewal after 80% of the lifetime', 40_000);
  const renewedAt = Date.now();
  await send(page, 'Still connected');
  await noneSending(page);
  await until(() => Date.now() - renewedAt > 3000, 'three seconds past the renewal');
  assert.equal(tokens(), 2, `token requests: ${tokens()}`);
  await page.close();
});

test('the Worker says busy (429): "busy, retrying in N s", then it connects on its own after Retry-After', async () => {
  const { page } = await visit('busy');
  let refused = 0;
  await page.route(`${worker.url}/api/sites/busy/token`, async (route) => {
    if (refused++ > 0 || route.request().method() !== 'POST') return route.continue();
    await route.fulfill({
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '2', 'access-control-allow-origin': host.origin, 'access-control-expose-headers': 'Retry-After' },
      body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many new visitors from this address; try again in 2 s' } }),
    });
  });
  await launcher(page).click();
  await panel(page).getByText('Chat is busy right now. Retrying in 2 s…').waitFor();
  assert.equal(await panel(page).getByRole('button', { name: 'Try again' }).count(), 0, 'no button that would be refused too');
  await composer(page).fill('typed while busy');
  await connected(page);
  assert.equal(await composer(page).inputValue(), 'typed while busy', 'the draft is kept');
  assert.equal(refused, 2, 'refused once, then served');
  await page.close();
});

test('a new conversation keeps only scheme, host and path of the page, unless the site keeps the query', async () => {
  for (const [site, keep] of [['pages', false], ['query', true]]) {
    const { page } = await visit(site, { path: `/${site}-pages/order?token=secret&email=a%40b.c#pay` });
    await openAndConnect(page);
    await send(page, 'Where is my order?');
    await noneSending(page);
    const sid = await stored(page, site, 'conversation');
    const attributes = JSON.parse((await client.conversations.v1.services(SERVICE).conversations(sid).fetch()).attributes);
    const expected = `${host.origin}/${site}-pages/order${keep ? '?token=secret&email=a%40b.c' : ''}`;
    assert.equal(attributes.page_url, expected);
    assert.ok(!JSON.stringify(attributes).includes('#pay'), 'never the fragment');
    await page.close();
  }
});

test('nothing starts before the page\'s load event: no element, no request but embed.js; queued and early commands still run', async () => {
  let release;
  const held = new Promise((r) => { release = r; });
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  // The page's own image holds its load event until the test lets it go.
  await page.route('**/held.png', async (route) => {
    await held;
    await route.fulfill({ status: 200, contentType: 'image/gif', body: Buffer.from('R0lGODlhAQABAAAAACw=', 'base64') });
  });
  const queue = '<script>window.edgechat=window.edgechat||function(){(edgechat.q=edgechat.q||[]).push(arguments)};edgechat("open")</script>';
  const url = host.page('/onload', hostPage({ workerUrl: worker.url, site: 'onload', body: `<main><img src="/held.png" alt=""></main>${queue}` }));
  const navigated = page.goto(url, { waitUntil: 'load' });
  await page.waitForRequest((r) => r.url().endsWith('/held.png'));
  await page.waitForFunction(() => window.edgechatLoaded === true);
  await page.evaluate(() => window.edgechat('toggle')); // a command before the start: queued too (open, then toggle: closed)
  assert.equal(await page.evaluate(() => document.querySelector('edgechat-widget')), null, 'no element before load');
  assert.deepEqual(requests.filter((r) => r.startsWith(worker.url)), [`${worker.url}/embed.js`], 'nothing fetched but embed.js');
  release();
  await navigated;
  // After load, in an idle period: the launcher, then the queued commands in order: open, then
  // toggle, which closes what the open opened.
  await launcher(page).waitFor();
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');
  await page.evaluate(() => window.edgechat('toggle'));
  await connected(page);
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'true');
  assert.ok(requests.some((r) => r.endsWith('.wasm')));
  await page.close();
});
