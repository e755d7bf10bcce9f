// The widget end to end, first visit and return: a visitor opens, chats, comes back; keyboard,
// screenshots, the host API, the site's colours from the first paint, typing, the page's URL, the
// page's load event. In Debian's Chromium; host pages on their own origin paste the one script
// tag; the Worker under `wrangler dev`; the real @twilio/conversations SDK (the Worker's vendored
// copy, in its own realm) against the local Twilio emulator, whose webhooks reach the Worker (the
// auto-responder answers); agents answer through the emulator's REST API with the official twilio
// client. One site id per test keeps their localStorage apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useWidgetEnv, config, quiet, host, emu, client, worker, browser, secrets, service, hostPage, until, newPage, visit,
  launcher, composer, log, panel, connected, focused, focusMovesTo, stored, bubbles, noneSending, allDelivered,
  identityOf, within, refusedInits, connections, bodiesIn, session, openAndConnect, send, agentSays,
} from './support/widget.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support/worker.mjs';
import { builtFiles } from '../scripts/lib/files.mjs';

const SHOTS = join(ROOT, 'test-results');
mkdirSync(SHOTS, { recursive: true });

useWidgetEnv({
  service: 'IS' + 'a1'.repeat(16),
  sites: () => ({
    first: config(), back: config(), long: config(quiet), keys: config(quiet), shots: config(), queue: config(quiet),
    typing: config(quiet), pages: config(quiet), query: config({ ...quiet, keep_page_query: true }), onload: config(quiet),
    text: config(quiet), attention: config(quiet), seen: config(quiet), chime: config({ ...quiet, sound: true }),
    branded: config({ ...quiet, appearance: { title: 'Branded', brand_color: '#E01E5A', position: 'bottom-left' } }),
  }),
});

test('a new visitor: nothing loads before intent; open, chat, the auto-responder and an agent answer; events; unread badge', async (t) => {
  const { page, url, requests, errors } = await visit(t, 'first');
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
  const conversation = await client.conversations.v1.services(service).conversations(sid).fetch();
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

test('a returning visitor: same identity and conversation after a reload, history shown, unread loaded when idle', async (t) => {
  const { page } = await visit(t, 'back');
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
  // The same visitor: the credential is issued anew with each token (its issue time and tag
  // change), its version, site and id stay.
  const visitorOf = (credential) => credential.split('.').slice(0, 3).join('.');
  assert.equal(visitorOf(await stored(page, 'back', 'visitor')), visitorOf(visitor), 'the same visitor');
  const participants = await client.conversations.v1.services(service).conversations(sid).participants.list();
  assert.equal(participants.length, 1, 'the same identity: no second participant');
  await send(page, 'Second visit');
  await page.close();
});

test('45 messages: the newest 30 on open; scrolling to the top loads older ones in order, no duplicates, in place', async (t) => {
  let { page } = await visit(t, 'long');
  await openAndConnect(page);
  await send(page, 'm00');
  const sid = await stored(page, 'long', 'conversation');
  await page.close();
  for (let i = 1; i <= 44; i++) await agentSays(sid, `m${String(i).padStart(2, '0')}`);

  ({ page } = await visit(t, 'long'));
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

test('keyboard only: Tab to the launcher, Enter opens, type, Shift+Enter for a new line, Enter sends, Escape closes', async (t) => {
  const { page } = await visit(t, 'keys');
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

test('screenshots of the open widget at desktop size and at 375 px wide (full screen)', async (t) => {
  for (const [name, width, height] of [['desktop', 1280, 800], ['375', 375, 740]]) {
    const { page } = await visit(t, 'shots', { width, height, path: `/shots-${name}` });
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

test('window.edgechat: commands queued before embed.js loads run, then open/close/toggle, with their events', async (t) => {
  const queue = '<script>window.edgechat=window.edgechat||function(){(edgechat.q=edgechat.q||[]).push(arguments)};edgechat("open")</script>';
  const { page } = await visit(t, 'queue', { before: queue });
  await panel(page).waitFor();
  await connected(page);
  await page.evaluate(() => window.edgechat('close'));
  await panel(page).waitFor({ state: 'hidden' });
  await page.evaluate(() => window.edgechat('toggle'));
  await panel(page).waitFor();
  await page.evaluate(() => window.edgechat('nonsense'));
  const names = (await page.evaluate(() => window.__events)).map((e) => e.name).filter((n) => ['open', 'ready', 'close'].includes(n));
  // Opened by the queued command before the app was there: the shell opened first.
  assert.deepEqual(names, ['open', 'ready', 'close', 'open']);
  await page.close();
});

test("a returning visitor's launcher has the site's colour and side from the first paint, before the app loads", async (t) => {
  const { page, errors } = await visit(t, 'branded');
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

test('typing: an agent typing shows "ana is typing…" until their message arrives; the visitor typing reaches the agent', async (t) => {
  const { page, errors } = await visit(t, 'typing');
  await openAndConnect(page);
  await send(page, 'Anyone there?');
  const sid = await stored(page, 'typing', 'conversation');
  // The agent joins through the REST API, as Flex would, and connects as an SDK client.
  await client.conversations.v1.services(service).conversations(sid).participants.create({ identity: 'agent:ana' });
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

test('a new conversation keeps only scheme, host and path of the page, unless the site keeps the query', async (t) => {
  for (const [site, keep] of [['pages', false], ['query', true]]) {
    const { page } = await visit(t, site, { path: `/${site}-pages/order?token=secret&email=a%40b.c#pay` });
    await openAndConnect(page);
    await send(page, 'Where is my order?');
    await noneSending(page);
    const sid = await stored(page, site, 'conversation');
    const attributes = JSON.parse((await client.conversations.v1.services(service).conversations(sid).fetch()).attributes);
    const expected = `${host.origin}/${site}-pages/order${keep ? '?token=secret&email=a%40b.c' : ''}`;
    assert.equal(attributes.page_url, expected);
    assert.ok(!JSON.stringify(attributes).includes('#pay'), 'never the fragment');
    await page.close();
  }
});

test('nothing starts before the page\'s load event: no element, no request but embed.js; queued and early commands still run', async (t) => {
  let release;
  const held = new Promise((r) => { release = r; });
  const page = (await newPage(t)).page;
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


test('links open in a new tab, nothing else is markup, and right-to-left text runs right to left', async (t) => {
  const { page } = await visit(t, 'text');
  await openAndConnect(page);
  await send(page, 'Where is the price list?');
  const { conversation } = await session(page, 'text');
  // One at a time, each waited for: three REST messages in a row can lose one push at the
  // emulator (a known race, under investigation; the next message still arrives).
  await agentSays(conversation, 'It is at https://acme.test/prices?x=1&y=2. Or mail mailto:sales@acme.test, or see (https://en.wikipedia.org/wiki/Rust_(programming_language)).');
  await log(page).getByText('It is at').waitFor();
  await agentSays(conversation, '<b>not bold</b> <img src=x onerror="window.__pwned=1"> javascript:alert(1) data:text/html,hi');
  await log(page).getByText('not bold').waitFor();
  await agentSays(conversation, 'مرحبا! كيف يمكنني مساعدتك؟');
  await log(page).getByText('مرحبا!').waitFor();
  const links = await log(page).locator('.bubble a').evaluateAll((as) => as.map((a) => ({
    href: a.getAttribute('href'), text: a.textContent, target: a.target, rel: a.rel,
  })));
  const rel = 'noopener noreferrer nofollow';
  assert.deepEqual(links, [
    { href: 'https://acme.test/prices?x=1&y=2', text: 'https://acme.test/prices?x=1&y=2', target: '_blank', rel },
    { href: 'mailto:sales@acme.test', text: 'mailto:sales@acme.test', target: '_blank', rel },
    { href: 'https://en.wikipedia.org/wiki/Rust_(programming_language)', text: 'https://en.wikipedia.org/wiki/Rust_(programming_language)', target: '_blank', rel },
  ]);
  const markup = log(page).locator('.bubble', { hasText: 'not bold' });
  assert.equal(await markup.locator('b, img').count(), 0, 'markup stays text');
  assert.equal(await markup.innerText(), '<b>not bold</b> <img src=x onerror="window.__pwned=1"> javascript:alert(1) data:text/html,hi');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  const dirs = await log(page).locator('.bubble').evaluateAll((ps) => ps.map((p) => [p.getAttribute('dir'), p.matches(':dir(rtl)')]));
  assert.ok(dirs.every(([dir]) => dir === 'auto'), 'every bubble is dir=auto');
  assert.deepEqual(dirs.at(-1), ['auto', true], 'the Arabic message runs right to left');
  assert.deepEqual(dirs.at(-2), ['auto', false]);
});

test('while the tab is hidden, new messages count in the page title and stay unread; shown again, the title comes back and they are read', async (t) => {
  // Headless Chromium never hides a tab, so the page's visibility is set by the test: the
  // document's own hidden/visibilityState, and the visibilitychange event a browser fires.
  const { page } = await visit(t, 'attention', {
    init: () => {
      let hidden = false;
      Object.defineProperty(document, 'hidden', { get: () => hidden });
      Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
      window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
    },
  });
  await openAndConnect(page);
  await send(page, 'Anyone there?');
  const { conversation } = await session(page, 'attention');
  const identity = await identityOf(page, 'attention');
  const visitorRead = async () => (await client.conversations.v1.services(service).conversations(conversation).participants.list())
    .find((p) => p.identity === identity)?.lastReadMessageIndex ?? null;
  await page.evaluate(() => window.__setHidden(true));
  await agentSays(conversation, 'Yes, one moment');
  await until(async () => (await page.title()) === '(1) host', 'the title counts one');
  await agentSays(conversation, 'Here is the answer');
  await until(async () => (await page.title()) === '(2) host', 'the title counts two');
  const unread = async () => (await page.evaluate(() => window.__events.filter((e) => e.name === 'unread'))).map((e) => e.detail.count);
  assert.deepEqual(await unread(), [1, 2], 'the host page hears the count');
  const whileHidden = await visitorRead();
  assert.ok(whileHidden === null || whileHidden < 2, `not read while hidden (${whileHidden})`);
  await page.evaluate(() => window.__setHidden(false));
  await until(async () => (await page.title()) === 'host', 'the title comes back');
  await until(async () => (await visitorRead()) === 2, 'read once seen (the visitor\'s read horizon at Twilio)');
  await until(async () => (await unread()).at(-1) === 0, 'the count goes back to 0');
});

test('a site with sound: a message arriving while the tab is hidden chimes, unless the visitor muted it (kept across reloads); never while shown', async (t) => {
  // Headless Chromium never hides a tab (see above); the chime is counted where Web Audio
  // starts a tone.
  const init = () => {
    let hidden = false;
    Object.defineProperty(document, 'hidden', { get: () => hidden });
    Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
    window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
    window.__chimes = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) { window.__chimes += 1; return start.apply(this, args); };
  };
  const { page } = await visit(t, 'chime', { init });
  const chimes = () => page.evaluate(() => window.__chimes);
  await openAndConnect(page);
  await send(page, 'Ring me');
  const { conversation } = await session(page, 'chime');
  await agentSays(conversation, 'Shown: no sound');
  await log(page).getByText('Shown: no sound').waitFor();
  assert.equal(await chimes(), 0, 'no sound while the tab is shown');
  await page.evaluate(() => window.__setHidden(true));
  await agentSays(conversation, 'Hidden: a chime');
  await until(async () => (await page.title()) === '(1) host', 'counted in the title');
  await until(async () => (await chimes()) === 1, 'one chime');
  // Muted from the panel's menu: a checkbox item, kept in storage.
  await page.evaluate(() => window.__setHidden(false));
  const options = panel(page).getByRole('button', { name: 'Chat options' });
  const item = panel(page).getByRole('menuitemcheckbox', { name: 'Sound for new messages' });
  await options.click();
  assert.equal(await item.getAttribute('aria-checked'), 'true');
  await item.click();
  assert.equal(await item.getAttribute('aria-checked'), 'false');
  assert.equal(await stored(page, 'chime', 'muted'), '1');
  await page.reload();
  await openAndConnect(page);
  await page.evaluate(() => window.__setHidden(true));
  await agentSays(conversation, 'Hidden but muted');
  await until(async () => (await page.title()) === '(1) host', 'still counted in the title');
  await log(page).getByText('Hidden but muted').waitFor();
  assert.equal(await chimes(), 0, 'muted: no chime after the reload');
  await page.evaluate(() => window.__setHidden(false));
  await options.click();
  assert.equal(await item.getAttribute('aria-checked'), 'false', 'the menu remembers');
  await item.click();
  assert.equal(await stored(page, 'chime', 'muted'), null);
});

test('"Seen" under the visitor\'s newest message once an agent has read it', async (t) => {
  const { page } = await visit(t, 'seen');
  await openAndConnect(page);
  await send(page, 'First question');
  await send(page, 'Second question');
  await allDelivered(page);
  const { conversation } = await session(page, 'seen');
  const c = client.conversations.v1.services(service).conversations(conversation);
  const agent = await c.participants.create({ identity: 'agent:ana' });
  const meta = (text) => log(page).locator('.msg.own', { hasText: text }).locator('.meta');
  // Read up to the first message only: the newest is not seen yet.
  await c.participants(agent.sid).update({ lastReadMessageIndex: 0 });
  await agentSays(conversation, 'Looking at it');
  await log(page).getByText('Looking at it').waitFor();
  assert.doesNotMatch(await meta('Second question').innerText(), /Seen/);
  await c.participants(agent.sid).update({ lastReadMessageIndex: 2 });
  await until(async () => /Seen/.test(await meta('Second question').innerText()), '"Seen" under the newest message');
  assert.doesNotMatch(await meta('First question').innerText(), /Seen/, 'only the newest says it');
});
