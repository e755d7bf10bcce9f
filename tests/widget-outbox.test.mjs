// The widget end to end, nothing typed is lost: the outbox (a message typed before the first
// connection, while the connection is down, or before a reload goes out once, in order, when the
// connection is there) and one visitor per browser (tabs opened together share one credential and
// one conversation; a tab follows what another stored). On the real SDK against the local Twilio
// emulator and `wrangler dev`; faults at the emulator's realtime controls and on the page's routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useWidgetEnv, config, quiet, host, emu, worker, browser, hostPage, until, visit,
  launcher, composer, log, connected, stored, noneSending, allDelivered, identityOf, bodiesIn, session,
  openAndConnect, send, connections,
} from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'c3'.repeat(16),
  sites: () => ({
    early: config(quiet), offline: config(quiet), reload: config(quiet), tabs: config(quiet), nolocks: config(quiet),
    follow: config(quiet),
  }),
});

const waiting = (page, text) => log(page).locator('.msg.own', { hasText: text }).getByText('Waiting for the network…');
const outboxKeys = (page, site) => page.evaluate((s) => Object.keys(localStorage).filter((k) => k.startsWith(`edgechat:${s}:outbox:`)), site);

/** Types `text` and presses Enter, without waiting for it to go out. */
async function type(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await log(page).locator('.msg.own .bubble', { hasText: text }).last().waitFor();
}

test('typed before the first connection (the token request held): shown waiting, then sent once, in order', async (t) => {
  let release;
  const held = new Promise((r) => { release = r; });
  const { page } = await visit(t, 'early', {
    setup: (p) => p.route(`${worker.url}/api/sites/early/token`, async (route) => {
      if (route.request().method() === 'POST') await held;
      return route.continue();
    }),
  });
  await launcher(page).click();
  await composer(page).waitFor();
  await type(page, 'Typed at once');
  await type(page, 'And a second one');
  await waiting(page, 'Typed at once').waitFor();
  await waiting(page, 'And a second one').waitFor();
  assert.equal((await outboxKeys(page, 'early')).length, 2, 'both kept in the outbox');
  assert.equal(await page.getByRole('alert').count(), 0, 'no "not connected" alert');
  release();
  await connected(page);
  await allDelivered(page);
  const { conversation } = await session(page, 'early');
  assert.deepEqual(await bodiesIn(conversation), ['Typed at once', 'And a second one']);
  assert.deepEqual(await outboxKeys(page, 'early'), []);
  const started = await page.evaluate(() => window.__events.filter((e) => e.name === 'conversation-started'));
  assert.deepEqual(started, [{ name: 'conversation-started', detail: { conversation } }], 'announced once, to the host page');
});

test('typed while the connection is down: waiting, then sent once when it is back', async (t) => {
  const { page } = await visit(t, 'offline');
  await openAndConnect(page);
  await send(page, 'Before the drop');
  const identity = await identityOf(page, 'offline');
  await emu.realtimeFault('refuse', { identity, ms: 60_000 });
  await emu.realtimeFault('drop', { identity });
  await page.getByText(/Reconnecting/).first().waitFor();
  await type(page, 'While offline 1');
  await type(page, 'While offline 2');
  await waiting(page, 'While offline 2').waitFor();
  await emu.realtimeFault('refuse', { identity, ms: 0 });
  await until(async () => (await connections(identity)) === 1, 'the SDK reconnects');
  await allDelivered(page);
  const { conversation } = await session(page, 'offline');
  assert.deepEqual(await bodiesIn(conversation), ['Before the drop', 'While offline 1', 'While offline 2']);
});

test('the realtime connection refused, then a reload while it still is: sent once when it is back, without a click', async (t) => {
  const { page } = await visit(t, 'offline', { path: '/offline-refused' });
  await openAndConnect(page);
  const identity = await identityOf(page, 'offline');
  await emu.realtimeFault('refuse', { identity, ms: 60_000 });
  await emu.realtimeFault('drop', { identity });
  await page.getByText(/Reconnecting/).first().waitFor();
  await type(page, 'Typed while refused');
  await waiting(page, 'Typed while refused').waitFor();
  await page.reload();
  // Opened by the page's API: a click could land on embed.js's launcher just as the app (which
  // a returning visitor's page loads when idle) replaces it.
  await page.evaluate(() => window.edgechat('open'));
  await waiting(page, 'Typed while refused').waitFor();
  await emu.realtimeFault('refuse', { identity, ms: 0 });
  await allDelivered(page);
  const { conversation } = await session(page, 'offline');
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual((await bodiesIn(conversation)).filter((b) => b === 'Typed while refused'), ['Typed while refused'], 'once');
});

test('reloaded while offline and while sending: each message goes out once after the reload', async (t) => {
  let { page } = await visit(t, 'reload');
  await openAndConnect(page);
  await send(page, 'First');
  const identity = await identityOf(page, 'reload');
  const { conversation } = await session(page, 'reload');
  // Offline: the realtime channel refused, so the message waits; then the page reloads, and
  // connects only when the test lets its token request through.
  await emu.realtimeFault('refuse', { identity, ms: 60_000 });
  await emu.realtimeFault('drop', { identity });
  await type(page, 'Offline before the reload');
  await waiting(page, 'Offline before the reload').waitFor();
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(`${worker.url}/api/sites/reload/token`, async (route) => {
    if (route.request().method() === 'POST') await held;
    return route.continue();
  });
  await page.reload();
  await emu.realtimeFault('refuse', { identity, ms: 0 });
  await launcher(page).click();
  await waiting(page, 'Offline before the reload').waitFor();
  release();
  await connected(page);
  await allDelivered(page);
  assert.deepEqual(await bodiesIn(conversation), ['First', 'Offline before the reload']);
  await page.unroute(`${worker.url}/api/sites/reload/token`);

  // Sending: its answer never comes (the emulator stores it and holds what it pushes), and the
  // page reloads meanwhile. The reloaded page finds it stored and does not send it again.
  await emu.realtimeFault('fail', { identity, method: 'POST', path_contains: '/Messages', status: 503, apply: true, times: 1 });
  await emu.realtimeFault('hold', { identity });
  await type(page, 'Sent as the page reloads');
  await until(async () => (await bodiesIn(conversation)).includes('Sent as the page reloads'), 'the emulator stored it');
  assert.equal((await outboxKeys(page, 'reload')).length, 1, 'still in the outbox: its answer was lost');
  await page.reload();
  await emu.realtimeFault('release', { identity });
  await launcher(page).click();
  await connected(page);
  await until(async () => (await outboxKeys(page, 'reload')).length === 0, 'the outbox empties');
  await allDelivered(page);
  assert.deepEqual(await bodiesIn(conversation), ['First', 'Offline before the reload', 'Sent as the page reloads']);
  assert.equal(await log(page).getByText('Sent as the page reloads').count(), 1, 'shown once');
});

/** A tab of the test browser (all share one storage), closed after the test. */
async function tab(t) {
  const page = await browser.newPage();
  t.after(() => page.close().catch(() => {}));
  return page;
}

/** Two tabs of one browser (one storage), opened at the same moment on `site`. */
async function twoTabs(t, site, { init } = {}) {
  const errors = [];
  const url = host.page(`/${site}`, hostPage({ workerUrl: worker.url, site }));
  const tabs = await Promise.all([tab(t), tab(t)]);
  for (const tab of tabs) {
    tab.on('pageerror', (e) => errors.push(e.message));
    if (init) await tab.addInitScript(init);
  }
  await Promise.all(tabs.map((tab) => tab.goto(url)));
  return { tabs, errors };
}

for (const [site, what, init] of [
  ['tabs', 'Web Locks', undefined],
  // Browsers without the Web Locks API: the lease in IndexedDB.
  ['nolocks', 'the IndexedDB lease', () => { Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }); }],
]) {
  test(`two tabs opened together (${what}): one visitor, one conversation, each message once`, async (t) => {
    const { tabs, errors } = await twoTabs(t, site, { init });
    await Promise.all(tabs.map((tab) => openAndConnect(tab)));
    const [a, b] = tabs;
    assert.equal(await stored(a, site, 'visitor'), await stored(b, site, 'visitor'), 'one credential');
    // Both type before any conversation exists: the first message creates it, and the other
    // tab's goes into the same one.
    await Promise.all([type(a, 'From tab A'), type(b, 'From tab B')]);
    await Promise.all([allDelivered(a), allDelivered(b)]);
    const sa = await session(a, site);
    const sb = await session(b, site);
    assert.equal(sa.conversation, sb.conversation, 'one conversation');
    assert.deepEqual((await bodiesIn(sa.conversation)).sort(), ['From tab A', 'From tab B']);
    // Each tab shows both, once.
    for (const tab of tabs) {
      await log(tab).getByText('From tab A').waitFor();
      await log(tab).getByText('From tab B').waitFor();
      assert.equal(await log(tab).getByText(/From tab [AB]/).count(), 2);
    }
    assert.deepEqual(errors, []);
  });
}

// Then the new tab sends: the other tab may take the outbox's lock first and send it (it is in the
// outbox); the new tab, having waited for the lock, looks for it before sending it again.
test('a message typed in a tab not connected yet goes out from the tab that is, once; the new tab follows the conversation', async (t) => {
  const url = host.page('/follow', hostPage({ workerUrl: worker.url, site: 'follow' }));
  const b = await tab(t);
  await b.goto(url);
  await openAndConnect(b);
  // Tab A opens while its token request is held: it cannot connect.
  const a = await tab(t);
  let release;
  const held = new Promise((r) => { release = r; });
  await a.route(`${worker.url}/api/sites/follow/token`, async (route) => {
    if (route.request().method() === 'POST') await held;
    return route.continue();
  });
  await a.goto(url);
  await launcher(a).click();
  await composer(a).waitFor();
  await type(a, 'Typed in A, sent by B');
  // Tab B sends it (it holds the outbox's lock), starting the conversation, and shows it.
  await log(b).getByText('Typed in A, sent by B').waitFor();
  await allDelivered(b);
  const { conversation } = await session(b, 'follow');
  assert.deepEqual(await bodiesIn(conversation), ['Typed in A, sent by B']);
  await until(async () => (await outboxKeys(a, 'follow')).length === 0, 'out of the outbox');
  // Tab A connects as the same visitor, into the same conversation, and shows it once.
  release();
  await connected(a);
  await allDelivered(a);
  assert.equal(await log(a).getByText('Typed in A, sent by B').count(), 1);
  await send(a, 'Now from A');
  await log(b).getByText('Now from A').waitFor();
  assert.deepEqual(await bodiesIn(conversation), ['Typed in A, sent by B', 'Now from A']);
});
