// Known visitors and the host page, in Chromium with the real SDK, the Worker and the emulator:
// a signed-in user (a user token the site's backend signs, here with npm's `jsonwebtoken`) has
// one conversation on every browser; `reset` starts anonymous again; an anonymous visitor who
// signs in mid-chat keeps the conversation; a refused user token is an `error` event and the
// visitor chats anonymously; and the host API (window.edgechat) before and after the app loads:
// show/hide, send, setLocale, on/off, and warnings (never exceptions) for bad commands; and every
// command queued before load and called after it, every event heard through `on`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { launchBrowser } from './support/browser.mjs';
import {
  useWidgetEnv, config, quiet, agentSays, client, service, secrets, worker, until, visit, launcher, composer, log, panel, connected,
  stored, bubbles, allDelivered, openAndConnect, send, words,
} from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'c3'.repeat(16),
  sites: () => {
    const users = config({ ...quiet, identity_verification: { secret: 'DEMO_IDENTITY_SECRET' } });
    // Closed now: open only 09:00-10:00 UTC on the day after tomorrow; open: all week, all day.
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const later = days[(new Date().getUTCDay() + 2) % 7];
    const away = config({ ...quiet, office_hours: { time_zone: 'UTC', hours: { [later]: ['09:00-10:00'] }, away_message: 'We are away right now.', ask_email: 'required' } });
    const open = config({ ...quiet, office_hours: { time_zone: 'UTC', hours: Object.fromEntries(days.map((d) => [d, ['00:00-24:00']])), away_message: 'Never shown.' } });
    const form = {
      fields: [
        { name: 'name', type: 'text', label: { en: 'Your name', de: 'Ihr Name' }, required: true },
        { name: 'email', type: 'email', label: { en: 'Email' }, required: true },
        { name: 'topic', type: 'select', label: { en: 'Topic' }, options: [{ value: 'sales', label: { en: 'Sales' } }, { value: 'help', label: { en: 'Help' } }] },
        { name: 'order', type: 'text', label: { en: 'Order number' }, pattern: '[0-9]{6}' },
        { name: 'terms', type: 'checkbox', label: { en: 'I accept the terms' }, required: true },
      ],
    };
    const prechat = config({ ...quiet, pre_chat: form, identity_verification: { secret: 'DEMO_IDENTITY_SECRET' } });
    const every = config({ ...quiet, pre_chat: { fields: [{ name: 'name', type: 'text', label: { en: 'Your name', de: 'Ihr Name' }, required: true }] }, identity_verification: { secret: 'DEMO_IDENTITY_SECRET' } });
    return { users, midchat: users, refused: users, api: config(quiet), away, open, prechat, prefilled: prechat, known: prechat, shellform: prechat, every };
  },
});

const userToken = (site, sub, claims = {}) => jwt.sign(
  { sub, aud: site, name: `${sub} (test)`, exp: Math.floor(Date.now() / 1000) + 3600, ...claims },
  secrets.DEMO_IDENTITY_SECRET,
);
/** A page script that queues `edgechat(...args)` before embed.js runs, as the snippet does. */
const queued = (...calls) => `<script>window.edgechat=window.edgechat||function(){(edgechat.q=edgechat.q||[]).push(arguments)};${calls.map((c) => `edgechat(${c});`).join('')}</script>`;
const bodiesOf = async (sid) => (await client.conversations.v1.services(service).conversations(sid).messages.list()).map((m) => m.body);
const participants = async (sid) => (await client.conversations.v1.services(service).conversations(sid).participants.list()).map((p) => p.identity).sort();
const warnings = (page) => {
  const seen = [];
  page.on('console', (m) => m.type() === 'warning' && seen.push(m.text()));
  return seen;
};

test('a signed-in user has one conversation on two browsers; reset forgets them and starts anonymous', async (t) => {
  const token = userToken('users', 'ada');
  const { page: laptop } = await visit(t, 'users', { attrs: ` data-user-token="${token}"` });
  await openAndConnect(laptop);
  await send(laptop, 'From the laptop');
  await allDelivered(laptop);
  const sid = await stored(laptop, 'users', 'conversation');
  assert.deepEqual(await participants(sid), ['user:users:ada']);
  assert.equal(await stored(laptop, 'users', 'visitor'), null, 'a user keeps no visitor credential');
  const named = await client.conversations.v1.services(service).users('user:users:ada').fetch();
  assert.equal(named.friendlyName, 'ada (test)', 'agents see the name the token carries');

  // Another browser (its own profile: nothing of the laptop's storage): the token given with
  // `identify`, queued before load.
  const other = await launchBrowser();
  t.after(() => other.close());
  const { page: phone } = await visit(t, 'users', { inBrowser: other, before: queued(`'identify', {token: ${JSON.stringify(token)}}`) });
  await openAndConnect(phone);
  await log(phone).getByText('From the laptop').waitFor();
  assert.equal(await stored(phone, 'users', 'conversation'), sid, 'the same conversation');
  await send(phone, 'From the phone');
  await log(laptop).getByText('From the phone').waitFor();

  await phone.evaluate(() => window.edgechat('reset'));
  await until(async () => (await stored(phone, 'users', 'visitor')) !== null, 'a new anonymous visitor');
  await connected(phone);
  assert.equal(await stored(phone, 'users', 'conversation'), null, 'the conversation is forgotten here');
  assert.ok(!(await bubbles(phone)).includes('From the laptop'), 'and no longer shown');
  await send(phone, 'Anonymous now');
  await allDelivered(phone);
  const anonymous = await stored(phone, 'users', 'conversation');
  assert.notEqual(anonymous, sid);
  assert.match((await participants(anonymous))[0], /^visitor:users:/);
});

test('an anonymous visitor who signs in mid-chat keeps the conversation, now as the user', async (t) => {
  const { page } = await visit(t, 'midchat');
  await openAndConnect(page);
  await send(page, 'Before signing in');
  await allDelivered(page);
  const sid = await stored(page, 'midchat', 'conversation');
  const visitor = (await participants(sid))[0];
  await page.evaluate((token) => window.edgechat('identify', { token }), userToken('midchat', 'bob'));
  await until(async () => (await participants(sid)).includes('user:midchat:bob'), 'the user joined the conversation');
  await until(async () => (await stored(page, 'midchat', 'visitor')) === null, 'the visitor credential is dropped');
  await connected(page);
  assert.ok((await bubbles(page)).includes('Before signing in'), 'the history stays');
  await send(page, 'After signing in');
  await allDelivered(page);
  assert.equal(await stored(page, 'midchat', 'conversation'), sid, 'the same conversation');
  const messages = await client.conversations.v1.services(service).conversations(sid).messages.list();
  assert.deepEqual(messages.map((m) => [m.author, m.body]), [[visitor, 'Before signing in'], ['user:midchat:bob', 'After signing in']]);
  const attributes = JSON.parse((await client.conversations.v1.services(service).conversations(sid).fetch()).attributes);
  assert.equal(attributes.user, 'user:midchat:bob');
});

test('a refused user token: an error event says why, and the visitor chats anonymously', async (t) => {
  const expired = userToken('refused', 'eve', { exp: Math.floor(Date.now() / 1000) - 60 });
  const { page } = await visit(t, 'refused', { attrs: ` data-user-token="${expired}"` });
  await openAndConnect(page);
  const errors = await page.evaluate(() => window.__events.filter((e) => e.name === 'error').map((e) => e.detail));
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0].code, 'user_token_refused');
  assert.match(errors[0].message, /expired/);
  await send(page, 'Still here');
  await allDelivered(page);
  assert.match((await participants(await stored(page, 'refused', 'conversation')))[0], /^visitor:refused:/);
});

test('the host API before and after load: show/hide, send, setLocale, on/off, and warnings for bad calls', async (t) => {
  const before = queued(
    "'hide'",
    "'on', 'open', (d) => { window.__opened = (window.__opened || 0) + 1; }",
    "'frobnicate'",
    "'on', 'message'",
  );
  const { page, errors } = await visit(t, 'api', { before, init: () => { window.__warnings = []; } });
  const warned = warnings(page);
  await page.waitForFunction(() => typeof window.edgechat === 'function' && !window.edgechat.q);
  const placeholder = page.locator('button.launcher').first();
  await until(async () => (await placeholder.isHidden()), 'hidden before load');
  await page.evaluate(() => window.edgechat('show'));
  await placeholder.waitFor({ state: 'visible' });
  // `send` before the app is there opens the panel; the message goes out once connected.
  await page.evaluate(() => window.edgechat('send', 'Is this in stock?'));
  await panel(page).waitFor();
  await log(page).locator('.msg.own .bubble', { hasText: 'Is this in stock?' }).waitFor();
  await allDelivered(page);
  assert.equal(await page.evaluate(() => window.__opened), 1, 'on("open") heard the open');
  assert.ok(warned.some((w) => /unknown command "frobnicate"; use open, close, toggle/.test(w)), warned.join('\n'));
  assert.ok(warned.some((w) => /on needs \(event, function\)/.test(w)), warned.join('\n'));

  // After load: the app's launcher hides and shows; the language switches at once.
  await page.evaluate(() => window.edgechat('hide'));
  await until(async () => (await launcher(page).isHidden()), 'the app\'s launcher hidden');
  assert.ok(await panel(page).isVisible(), 'the open panel stays');
  await page.evaluate(() => window.edgechat('show'));
  await launcher(page).waitFor({ state: 'visible' });
  await page.evaluate(() => window.edgechat('setLocale', 'de'));
  await composer(page, 'de').waitFor();
  assert.notEqual(words('de').composer, words('en').composer);
  // off: the handler hears no more.
  await page.evaluate(() => {
    window.__closed = 0;
    window.__onClose = () => { window.__closed += 1; };
    window.edgechat('on', 'close', window.__onClose);
    window.edgechat('close');
  });
  await until(async () => (await page.evaluate(() => window.__closed)) === 1, 'on("close")');
  await page.evaluate(() => {
    window.edgechat('off', 'close', window.__onClose);
    window.edgechat('open');
    window.edgechat('close');
  });
  await page.waitForFunction(() => window.__events.filter((e) => e.name === 'close').length >= 2);
  assert.equal(await page.evaluate(() => window.__closed), 1, 'off stopped it');
  // Bad arguments after load: warnings, no exception on the page.
  await page.evaluate(() => {
    window.edgechat('identify', {});
    window.edgechat('setLocale', 42);
    window.edgechat('send', '   ');
    window.edgechat('nope');
  });
  await until(() => warned.filter((w) => /edgechat: (identify takes|setLocale takes|send takes|unknown command "nope")/.test(w)).length === 4, `4 warnings: ${warned.join('\n')}`);
  assert.deepEqual(errors, []);
});

test('away: outside office hours the panel says so, and when people are back, before the visitor types', async (t) => {
  const now = new Date();
  const opens = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 2, 9, 0);
  const config = await (await fetch(`${worker.url}/api/sites/away/config`)).json();
  assert.equal(config.away.message, 'We are away right now.');
  assert.equal(config.away.opens_at, opens, 'the day after tomorrow, 09:00 UTC');
  assert.equal((await (await fetch(`${worker.url}/api/sites/open/config`)).json()).away, undefined, 'open now: no away');
  assert.equal(config.office_hours, undefined, 'the hours themselves stay private');

  const { page } = await visit(t, 'away');
  await launcher(page).click();
  await panel(page).waitFor();
  const notice = page.locator('.away');
  await notice.getByText('We are away right now.').waitFor();
  const when = new Date(opens).toLocaleString('en-US', { weekday: 'long', hour: 'numeric', minute: '2-digit' });
  const spaces = (x) => x.replace(/[\s\u202f]+/g, ' ');
  assert.equal(spaces(await notice.locator('.back').innerText()), spaces(`Back ${when}.`));
  await connected(page);
  // Away, the site asks for an email (required): the form, with the email field, before the
  // first message; what was typed goes once it is answered.
  await composer(page).fill('Hello, anyone?');
  await composer(page).press('Enter');
  const form = page.locator('form.prechat');
  const email = form.getByLabel('Your email, so that we can answer you');
  await email.fill('not an email');
  await form.getByRole('button', { name: 'Start chat' }).click();
  await form.locator('#ec-pc-email-error').getByText('Enter an email address, like name@example.com.').waitFor();
  await email.fill('visitor@example.com');
  await form.getByRole('button', { name: 'Start chat' }).click();
  await form.waitFor({ state: 'detached' });
  await allDelivered(page);
  const sid = await stored(page, 'away', 'conversation');
  assert.deepEqual((await attributesOf(sid)).pre_chat, { email: 'visitor@example.com' });
  // The Worker asks for it too while away.
  const origin = new URL(page.url()).origin;
  const anonymous = await (await fetch(`${worker.url}/api/sites/away/token`, { method: 'POST', headers: { Origin: origin } })).json();
  const res = await fetch(`${worker.url}/api/sites/away/conversations`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: JSON.stringify({ visitor: anonymous.visitor, key: 'k1' }),
  });
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /email: prechat\.required/);
});

const attributesOf = async (sid) => JSON.parse((await client.conversations.v1.services(service).conversations(sid).fetch()).attributes);

test('the pre-chat form: checked as the visitor submits it (focus on the first wrong field), and what was typed before goes after it', async (t) => {
  const { page } = await visit(t, 'prechat');
  await openAndConnect(page);
  const form = page.locator('form.prechat');
  await form.waitFor();
  // Typed before the form is answered: it waits, and no conversation starts.
  await composer(page).fill('Where is my order?');
  await composer(page).press('Enter');
  await log(page).locator('.msg.own .bubble', { hasText: 'Where is my order?' }).waitFor();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await stored(page, 'prechat', 'conversation'), null, 'nothing starts before the form');

  const submit = form.getByRole('button', { name: 'Start chat' });
  await submit.click();
  await form.getByRole('alert').getByText('Please correct the fields marked below.').waitFor();
  const focusedId = () => page.evaluate(() => document.querySelector('edgechat-widget').shadowRoot.activeElement?.id);
  await until(async () => (await focusedId()) === 'ec-pc-name', 'focus on the first wrong field');
  assert.equal(await form.getByLabel('Your name').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.locator('#ec-pc-name-error').innerText(), 'This field is required.');

  await form.getByLabel('Your name').fill('Ada');
  await form.getByLabel('Email').fill('ada@example');
  await form.getByLabel('Order number').fill('12a456');
  await submit.click();
  await until(async () => (await focusedId()) === 'ec-pc-email', 'focus on the email');
  assert.equal(await form.locator('#ec-pc-email-error').innerText(), 'Enter an email address, like name@example.com.');
  assert.equal(await form.locator('#ec-pc-order-error').innerText(), 'This is not in the expected format.');
  assert.equal(await form.locator('#ec-pc-terms-error').innerText(), 'This field is required.');
  assert.equal(await form.locator('#ec-pc-name-error').count(), 0, 'a fixed field is no longer marked');

  await form.getByLabel('Email').fill('ada@example.com');
  await form.getByLabel('Order number').fill('123456');
  await form.getByLabel('Topic').selectOption('help');
  await form.getByLabel('I accept the terms').check();
  await submit.click();
  await form.waitFor({ state: 'detached' });
  await allDelivered(page);
  const sid = await stored(page, 'prechat', 'conversation');
  const attributes = await attributesOf(sid);
  assert.deepEqual(attributes.pre_chat, { name: 'Ada', email: 'ada@example.com', topic: 'help', order: '123456', terms: true });
  const messages = await client.conversations.v1.services(service).conversations(sid).messages.list();
  assert.deepEqual(messages.map((m) => m.body), ['Where is my order?'], 'what was typed went, once, after the form');
});

test('the pre-chat form is prefilled by the page, skipped for a user whose token carries the answers, and checked again by the Worker', async (t) => {
  const { page } = await visit(t, 'prefilled', { before: queued("'prefill', {name: 'Grace', email: 'grace@example.com'}") });
  await openAndConnect(page);
  const form = page.locator('form.prechat');
  await form.waitFor();
  assert.equal(await form.getByLabel('Your name').inputValue(), 'Grace');
  assert.equal(await form.getByLabel('Email').inputValue(), 'grace@example.com');

  const token = userToken('known', 'linus', { name: 'Linus', email: 'linus@example.com', terms: true });
  const { page: known } = await visit(t, 'known', { attrs: ` data-user-token="${token}"` });
  await openAndConnect(known);
  await send(known, 'Hi, it is Linus');
  await allDelivered(known);
  assert.equal(await known.locator('form.prechat').count(), 0, 'no form for a user whose token answers it');
  const attributes = await attributesOf(await stored(known, 'known', 'conversation'));
  assert.deepEqual(attributes.pre_chat, { name: 'Linus', email: 'linus@example.com', terms: true });

  // The Worker checks the answers itself: a start without them is refused, saying which.
  const anonymous = await (await fetch(`${worker.url}/api/sites/prechat/token`, { method: 'POST', headers: { Origin: new URL(page.url()).origin } })).json();
  const res = await fetch(`${worker.url}/api/sites/prechat/conversations`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: new URL(page.url()).origin },
    body: JSON.stringify({ visitor: anonymous.visitor, key: 'k1', pre_chat: { name: 'Eve', email: 'not-an-email' } }),
  });
  assert.equal(res.status, 400);
  const error = (await res.json()).error;
  assert.equal(error.code, 'invalid_pre_chat');
  assert.match(error.message, /email: prechat\.email.*terms: prechat\.required/);
});

test('text typed in the shell before the app loads is kept when the pre-chat form appears, and goes after it', async (t) => {
  const { page } = await visit(t, 'shellform');
  await launcher(page).waitFor();
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/widget/edgechat_widget.*.js', async (route) => { await held; await route.continue(); });
  await launcher(page).click();
  await page.getByRole('dialog').waitFor();
  await page.keyboard.type('Typed in the shell');
  await page.keyboard.press('Enter');
  await page.keyboard.type('and a draft');
  release();
  await page.waitForFunction(() => !document.querySelector('edgechat-widget').shadowRoot.querySelector('.sh'));
  const form = page.locator('form.prechat');
  await form.waitFor();
  await connected(page);
  assert.equal(await composer(page).inputValue(), 'and a draft', 'the draft stays in the composer');
  assert.ok((await bubbles(page)).includes('Typed in the shell'), 'the shell\'s message shows, waiting');
  assert.equal(await stored(page, 'shellform', 'conversation'), null, 'nothing starts before the form');
  await form.getByLabel('Your name').fill('Sam');
  await form.getByLabel('Email').fill('sam@example.com');
  await form.getByLabel('I accept the terms').check();
  await form.getByRole('button', { name: 'Start chat' }).click();
  await form.waitFor({ state: 'detached' });
  await allDelivered(page);
  const sid = await stored(page, 'shellform', 'conversation');
  const messages = await client.conversations.v1.services(service).conversations(sid).messages.list();
  assert.deepEqual(messages.map((m) => m.body), ['Typed in the shell'], 'sent once, after the form');
  assert.equal((await attributesOf(sid)).pre_chat.name, 'Sam');
});

// Every command, queued before embed.js and the app load and called after, and every event heard
// through `on` (registered before load). Each command's effect is checked where it shows.
const EVENTS = ['ready', 'open', 'close', 'message', 'unread', 'conversation-started', 'conversation-ended', 'error'];
const heard = (page, name) => page.evaluate((n) => window.__heard.filter(([e]) => e === n).map(([, d]) => d), name);
const listening = `window.__heard=[];${EVENTS.map((e) => `edgechat('on', '${e}', (d) => window.__heard.push(['${e}', d ?? null]));`).join('')}`;

test('every command queued before load and called after it; every event heard through on()', async (t) => {
  // Before load (listening first, as a page would): listen to everything, German, an answer for the form, no launcher, the panel
  // opened by toggle, a message to send.
  const before = queued("'setLocale', 'de'", "'prefill', {name: 'Queued'}", "'hide'", "'toggle'", "'send', 'Queued hello'")
    .replace('};', `};${listening}`);
  const { page, errors } = await visit(t, 'every', { before });
  const warned = warnings(page);
  const form = page.locator('form.prechat');
  await form.waitFor();
  await connected(page);
  assert.ok(await panel(page).isVisible(), 'toggle opened the panel');
  assert.ok(await launcher(page).isHidden(), 'hide hid the launcher');
  await composer(page, 'de').waitFor();
  assert.equal(await form.getByLabel('Ihr Name').inputValue(), 'Queued', 'prefill filled the form, in German');
  await form.locator('button[type=submit]').click();
  await form.waitFor({ state: 'detached' });
  await allDelivered(page);
  const first = await stored(page, 'every', 'conversation');
  assert.deepEqual(await bodiesOf(first), ['Queued hello'], 'send went once, after the form');
  assert.deepEqual(await heard(page, 'ready'), [null]);
  assert.deepEqual(await heard(page, 'open'), [null]);
  assert.deepEqual(await heard(page, 'conversation-started'), [{ conversation: first }]);

  // After load.
  await agentSays(first, 'Hallo!');
  await until(async () => (await heard(page, 'message')).length === 1, 'message');
  assert.deepEqual((await heard(page, 'message'))[0], { author: 'agent:ana', body: 'Hallo!', index: 1 });
  await page.evaluate(() => window.edgechat('toggle'));
  await panel(page).waitFor({ state: 'hidden' });
  assert.deepEqual(await heard(page, 'close'), [null]);
  await page.evaluate(() => window.edgechat('show'));
  await launcher(page).waitFor({ state: 'visible' });
  await agentSays(first, 'Noch da?');
  await until(async () => (await heard(page, 'unread')).some((d) => d.count === 1), 'unread');
  await page.evaluate(() => window.edgechat('open'));
  await panel(page).waitFor();
  await until(async () => (await heard(page, 'unread')).at(-1).count === 0, 'read once open');
  await page.evaluate(() => window.edgechat('setLocale', 'en'));
  await composer(page).waitFor();
  await page.evaluate(() => window.edgechat('send', 'Sent by the page'));
  await until(async () => (await bodiesOf(first)).includes('Sent by the page'), 'send after load');
  await page.evaluate(() => window.edgechat('identify', { token: 'not.a.token' }));
  await until(async () => (await heard(page, 'error')).length === 1, 'error');
  assert.equal((await heard(page, 'error'))[0].code, 'user_token_refused');
  await client.conversations.v1.services(service).conversations(first).update({ state: 'closed' });
  await until(async () => (await heard(page, 'conversation-ended')).length === 1, 'conversation-ended');
  assert.deepEqual(await heard(page, 'conversation-ended'), [{ conversation: first }]);
  await page.evaluate(() => window.edgechat('close'));
  await until(async () => (await heard(page, 'close')).length === 2, 'close after load');
  const visitor = await stored(page, 'every', 'visitor');

  // A second visit: reset, show, open and close queued before load; then prefill, toggle and
  // identify after it, and reset again.
  const { page: again } = await visit(t, 'every', { before: queued("'reset'", "'hide'", "'show'", "'open'", "'close'", "'open'").replace('};', `};${listening}`) });
  await again.locator('form.prechat').waitFor();
  await connected(again);
  const renewed = await stored(again, 'every', 'visitor');
  assert.ok(renewed && renewed !== visitor, 'reset before load: a new anonymous visitor');
  assert.ok(await launcher(again).isVisible(), 'shown again');
  assert.deepEqual((await again.evaluate(() => window.__heard)).map(([e]) => e).filter((e) => e !== 'unread'), ['open', 'close', 'open', 'ready']);
  await again.evaluate(() => window.edgechat('prefill', { name: 'Later' }));
  await until(async () => (await again.locator('form.prechat').getByLabel('Your name').inputValue()) === 'Later', 'prefill after load');
  await again.evaluate(() => window.edgechat('toggle'));
  await panel(again).waitFor({ state: 'hidden' });
  await again.evaluate(() => window.edgechat('toggle'));
  await panel(again).waitFor();
  await again.evaluate((token) => window.edgechat('identify', { token }), userToken('every', 'grace', { name: 'Grace' }));
  await until(async () => (await stored(again, 'every', 'visitor')) === null, 'identify after load: the user, no visitor credential');
  await again.evaluate(() => window.edgechat('reset'));
  await until(async () => (await stored(again, 'every', 'visitor')) !== null, 'reset after load: anonymous again');
  assert.deepEqual(warned, []);
  assert.deepEqual(errors, []);
});
