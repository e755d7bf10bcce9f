// What every widget test file shares: its world (a host site, the emulator, a Worker, Chromium;
// started once per file by `useWidgetEnv`), a page fixture that always closes its page and fails
// the test on an uncaught page error, and the widget's parts found as a visitor finds them (by
// role and label), with waits on conditions, never on the clock alone.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostPage } from './host.mjs';
import { startWidgetEnv } from './widget-env.mjs';
import { until } from './wait.mjs';
import { readFileSync } from 'node:fs';

/** A language's catalogue (core/i18n/<lang>.json): the words the widget shows in it. */
const catalogues = new Map();
export function words(lang) {
  if (!catalogues.has(lang)) {
    catalogues.set(lang, JSON.parse(readFileSync(new URL(`../../core/i18n/${lang}.json`, import.meta.url), 'utf8')));
  }
  return catalogues.get(lang);
}

export { until, hostPage };

/** The file's world, set by `useWidgetEnv` before its first test (live bindings). */
export let host;
export let emu;
export let client;
export let worker;
export let browser;
export let secrets;
export let service;

export const quiet = { automation: 'none' };

/** A site's config JSON: the host's origin allowed, the file's service, the auto-responder (unless `extra` says otherwise). */
export const config = (extra = {}) => JSON.stringify({
  allowed_origins: [host.origin],
  service_sid: service,
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

/**
 * Starts the file's world before its tests and stops it after them. `sites()` gives the Worker's
 * sites ({id: config JSON}); it runs once the host's origin is known, so it may call `config`.
 * The service's post-event webhook goes to the Worker, as the Twilio console step sets it.
 */
export function useWidgetEnv({ service: sid, sites }) {
  let env;
  service = sid;
  before(async () => {
    env = await startWidgetEnv({ service: sid, sites: (h) => { host = h; return sites(); } });
    ({ host, emu, client, worker, browser, secrets } = env);
    await client.conversations.v1.services(sid).configuration.webhooks().update({
      postWebhookUrl: `${worker.url}/webhooks/conversations`, filters: ['onConversationAdded', 'onMessageAdded'], method: 'POST',
    });
  });
  after(() => env?.stop());
}

/**
 * A new page for test `t` (in `inBrowser`, default the file's), closed when the test ends; an
 * uncaught error on it fails the test. Returns the page, its requests and its errors so far.
 */
export async function newPage(t, inBrowser = browser) {
  const page = await inBrowser.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => { errors.push(e.message); if (process.env.EDGECHAT_DEBUG_ERRORS) console.error('pageerror', e.stack); });
  t.after(async () => {
    await page.close().catch(() => {});
    assert.deepEqual(errors, [], 'no uncaught error on the page');
  });
  return { page, requests, errors };
}

/** Opens a host page for `site` in test `t`, recording requests, page errors and the widget's events from the start. */
export async function visit(t, site, { head = '', body, before: beforeTag = '', attrs = '', width = 1280, height = 800, init, setup, path = `/${site}`, headers, workerUrl = worker.url, inBrowser = browser } = {}) {
  const url = host.page(path, hostPage({ workerUrl, site, head, body, before: beforeTag, attrs }), headers);
  const { page, requests, errors } = await newPage(t, inBrowser);
  await page.setViewportSize({ width, height });
  // No opening animation: positions are compared and screenshots taken right after opening.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  if (init) await page.addInitScript(init);
  if (setup) await setup(page);
  await page.addInitScript(() => {
    window.__events = [];
    for (const name of ['ready', 'open', 'close', 'message', 'conversation-started', 'conversation-ended', 'unread', 'error']) {
      addEventListener(`edgechat:${name}`, (e) => window.__events.push({ name, detail: e.detail ?? null }));
    }
  });
  await page.goto(url);
  return { page, url, requests, errors };
}

// The app's launcher comes after embed.js's placeholder, which it replaces.
export const launcher = (page) => page.locator('button.launcher').last();
// By role and English name; `lang` for a widget in another language (core/i18n's catalogues).
export const composer = (page, lang = 'en') => page.getByRole('textbox', { name: words(lang).composer, exact: true });
export const log = (page, lang = 'en') => page.getByRole('log', { name: words(lang).log, exact: true });
export const panel = (page) => page.getByRole('dialog');

/** The connection is up: the send button is enabled. On a timeout, says what the panel showed. */
export async function connected(page, timeout = 15_000) {
  try {
    await page.locator('button.send[aria-disabled="false"]').waitFor({ timeout });
  } catch (e) {
    const shown = await page.evaluate(() => {
      const root = document.querySelector('edgechat-widget')?.shadowRoot;
      const p = root?.querySelector('.panel');
      return { launchers: root?.querySelectorAll('button.launcher').length, expanded: root?.querySelector('.ec .launcher')?.getAttribute('aria-expanded'),
        panelHidden: p?.hidden, text: p?.textContent };
    }).catch((err) => String(err));
    throw new Error(`not connected within ${timeout} ms; the widget shows: ${JSON.stringify(shown)}\n${e.message}`);
  }
}

/** What has focus inside the widget's shadow root (its aria-label or tag). */
export const focused = (page) => page.evaluate(() => {
  const el = document.activeElement?.shadowRoot?.activeElement;
  return el ? el.getAttribute('aria-label') || el.tagName.toLowerCase() : `page:${document.activeElement?.tagName.toLowerCase()}`;
});

/** Waits (at most 2 s: focus moves after the panel renders) until `label` has focus. */
export async function focusMovesTo(page, label, message) {
  await until(async () => (await focused(page)) === label, `focus on ${label}`, 2000).catch(() => {});
  assert.equal(await focused(page), label, message);
}

export const stored = (page, site, what) => page.evaluate(([s, w]) => localStorage.getItem(`edgechat:${s}:${w}`), [site, what]);
export const bubbles = (page) => page.locator('.log .bubble').allInnerTexts();

/** Waits until no own message is being sent (each is sent, or shows "Not sent."). */
export const noneSending = (page) => until(
  async () => (await page.locator('.msg.own.out').count()) === 0, 'no own message waiting or sending', 30_000);
/** Waits until every own message went out: none sending, none failed. */
export const allDelivered = (page) => until(
  async () => (await page.locator('.msg.own.out, .msg.own.failed').count()) === 0, 'every own message delivered', 30_000);

/** The visitor's identity, from the credential the widget stored (`v1.<site>.<uuid>.<tag>`). */
export async function identityOf(page, site) {
  const credential = await stored(page, site, 'visitor');
  const [, , uuid] = credential.split('.');
  return `visitor:${site}:${uuid}`;
}

/** `promise`, or a failure that says what did not happen within `ms`. */
export function within(promise, what, ms = 10_000) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

/** How many times the emulator refused `identity`'s reconnection (a realtime fault). */
export const refusedInits = async (identity) => (await emu.realtimeReport()).refused_inits.filter((i) => i === identity).length;
/** How many realtime connections `identity` has open at the emulator. */
export const connections = async (identity) => (await emu.realtimeReport()).connections.filter((c) => c.identity === identity).length;

/** The bodies Twilio (the emulator) holds for a conversation, oldest first. */
export const bodiesIn = async (sid) => (await client.conversations.v1.services(service).conversations(sid).messages.list({ pageSize: 100 })).map((m) => m.body);
/** The visitor credential and conversation SID the page keeps for `site`. */
export const session = async (page, site) => ({ visitor: await stored(page, site, 'visitor'), conversation: await stored(page, site, 'conversation') });

export async function openAndConnect(page) {
  await launcher(page).click();
  await connected(page);
}

/** Sends `text` and waits until it went out (or failed): a first message creates the conversation. */
export async function send(page, text, lang = 'en') {
  await composer(page, lang).fill(text);
  await composer(page, lang).press('Enter');
  await log(page, lang).locator('.msg.own .bubble', { hasText: text }).last().waitFor();
  await noneSending(page);
}

export function agentSays(sid, body, author = 'agent:ana') {
  return client.conversations.v1.services(service).conversations(sid).messages.create({ author, body });
}
