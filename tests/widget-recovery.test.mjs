// The widget end to end, failures and recovery: what a visitor sees when the SDK does not load,
// storage is blocked, Twilio is unreachable or refuses the token, a send fails or its answer is
// lost, the conversation is gone, closed or left, the connection drops; and that nothing typed is
// lost on the way. Faults are injected at the emulator (REST and realtime controls) or on the
// page's routes; the rest as in widget-visits.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useWidgetEnv, config, quiet, host, emu, client, worker, browser, secrets, service, hostPage, until, newPage, visit,
  launcher, composer, log, panel, connected, focused, focusMovesTo, stored, bubbles, noneSending, allDelivered,
  identityOf, within, refusedInits, connections, bodiesIn, session, openAndConnect, send, agentSays,
} from './support/widget.mjs';
import { startWorker } from './support/worker.mjs';
import { launchBrowser } from './support/browser.mjs';

useWidgetEnv({
  service: 'IS' + 'b2'.repeat(16),
  sites: () => ({
    stale: config(quiet), nosdk: config(quiet), nostore: config(quiet), retry: config(quiet), retrylong: config(quiet), lost: config(quiet),
    ended: config(quiet), drop: config(quiet), left: config(quiet), unannounced: config(quiet), halfstart: config(quiet),
  }),
});

test('a stale conversation (deleted, then closed) is replaced by a new one with a notice, never a spinner', async (t) => {
  const conversations = client.conversations.v1.services(service).conversations;
  let { page } = await visit(t, 'stale');
  await openAndConnect(page);
  await send(page, 'Old conversation');
  const first = await stored(page, 'stale', 'conversation');
  await page.close();
  await conversations(first).remove();

  ({ page } = await visit(t, 'stale'));
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
  ({ page } = await visit(t, 'stale'));
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

test('the SDK script fails to load: an "unavailable, try again" state that recovers, and the draft is kept', async (t) => {
  const { page } = await visit(t, 'nosdk');
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

test('localStorage blocked: the widget still works for the page\'s life', async (t) => {
  const { page, errors } = await visit(t, 'nostore', {
    init: () => Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); } }),
  });
  await openAndConnect(page);
  await send(page, 'No storage here');
  await noneSending(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('with the real SDK and Twilio unreachable: a clear "can\'t connect" state, and what was typed is kept', async (t) => {
  // A second Worker with its default config: the vendored @twilio/conversations from its assets.
  const real = await startWorker({ secrets: { ...secrets, TWILIO_API_BASE: emu.url }, sites: { offline: config(quiet) } });
  const unreachable = await launchBrowser({ args: ['--host-resolver-rules=MAP *.twilio.com ~NOTFOUND'] });
  try {
    const page = (await newPage(t, unreachable)).page;
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
    await waiting.getByText('Waiting for the network…').waitFor();
    assert.equal(await composer(page).inputValue(), '');
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    // Closed and opened again while failed: opening tries again (it once stopped the widget).
    await page.keyboard.press('Escape');
    await launcher(page).click();
    await page.getByRole('alert').getByText("Can't connect to chat. Check your connection, then try again.").waitFor({ timeout: 30_000 });
    await waiting.getByText('Waiting for the network…').waitFor();
    assert.equal(await page.locator('.panel.failed').count(), 0, 'the widget did not stop');
  } finally {
    await unreachable.close();
    real.stop();
  }
});

test('a send that fails (503, three times) goes again by itself: "Sending…" meanwhile, stored once, no click', async (t) => {
  const { page } = await visit(t, 'retry');
  await openAndConnect(page);
  // The emulator answers the visitor's next three sends with an error (nothing stored).
  await emu.realtimeFault('fail', { identity: await identityOf(page, 'retry'), method: 'POST', path_contains: '/Messages', status: 503, times: 3 });
  await composer(page).fill('Please do not lose me');
  await composer(page).press('Enter');
  const mine = log(page).locator('.msg.own', { hasText: 'Please do not lose me' });
  await mine.getByText('Sending…').waitFor();
  await allDelivered(page);
  const sid = await stored(page, 'retry', 'conversation');
  assert.deepEqual(await bodiesIn(sid), ['Please do not lose me']);
  assert.deepEqual((await bubbles(page)).filter((b) => b.startsWith('Please')), ['Please do not lose me'], 'shown once');
  assert.equal(await page.locator('.msg.own.failed').count(), 0, 'never "Not sent."');
});

test('a send that keeps failing goes again for two minutes ("Waiting for the network…" after a while), then "Not sent." with Retry; Retry sends it once', async (t) => {
  // The page's clock is Playwright's, moved on by the test: the retries' waits pass at once.
  const { page } = await visit(t, 'retrylong', { setup: (p) => p.clock.install() });
  await openAndConnect(page);
  const identity = await identityOf(page, 'retrylong');
  await emu.realtimeFault('fail', { identity, method: 'POST', path_contains: '/Messages', status: 503, times: 1000 });
  await composer(page).fill('Still here');
  await composer(page).press('Enter');
  const mine = log(page).locator('.msg.own', { hasText: 'Still here' });
  await mine.getByText('Sending…').waitFor();
  let waited = false;
  for (let i = 0; i < 40 && !(await mine.getByText('Not sent.').count()); i++) {
    await page.clock.runFor(10_000);
    await new Promise((r) => setTimeout(r, 150));
    waited ||= (await mine.getByText('Waiting for the network…').count()) > 0;
  }
  assert.ok(waited, '"Waiting for the network…" was shown while it went again');
  await mine.getByText('Not sent.').waitFor();
  const tries = (await emu.realtimeReport()).requests?.filter?.((r) => r.identity === identity && /Messages/.test(r.path)).length;
  await emu.realtimeFault('unfail', { identity });
  await mine.getByRole('button', { name: 'Retry' }).click();
  await allDelivered(page);
  assert.deepEqual(await bodiesIn(await stored(page, 'retrylong', 'conversation')), ['Still here'], `sent once (after ${tries ?? 'many'} tries)`);
});

test('a send whose answer is lost goes again by itself, finds it stored, and does not send it twice', async (t) => {
  const { page, errors } = await visit(t, 'lost');
  // The first message the visitor sends is stored, but its answer is lost (the emulator answers
  // with an error after storing it) and its push is held back: only the newest page shows it.
  const body = 'Stored but unconfirmed';
  await openAndConnect(page);
  const identity = await identityOf(page, 'lost');
  await emu.realtimeFault('fail', { identity, method: 'POST', path_contains: '/Messages', status: 503, apply: true });
  await emu.realtimeFault('hold', { identity });
  await composer(page).fill(body);
  await composer(page).press('Enter');
  await allDelivered(page);
  await emu.realtimeFault('release', { identity });
  const sid = await stored(page, 'lost', 'conversation');
  assert.deepEqual(await bodiesIn(sid), [body], 'sent once');
  await until(async () => (await bubbles(page)).filter((b) => b === body).length === 1, 'shown once');
  assert.deepEqual(errors, []);
});

test('a message the SDK never announces (a page showed it before its push) still shows, from the conversation\'s lastMessage', async (t) => {
  const { page, errors } = await visit(t, 'unannounced');
  await openAndConnect(page);
  await send(page, 'Hello');
  await allDelivered(page);
  const sid = await stored(page, 'unannounced', 'conversation');
  const identity = await identityOf(page, 'unannounced');
  const conversation = client.conversations.v1.services(service).conversations(sid);
  // The push held back, a page query (the transcript reads every page) shows the agent's answer
  // first: the SDK then takes its push for one it already knows, and messageAdded never fires.
  await emu.realtimeFault('hold', { identity });
  await conversation.messages.create({ author: 'agent:ana', body: 'Paged before pushed' });
  await panel(page).getByRole('button', { name: 'Chat options' }).click();
  await Promise.all([
    page.waitForEvent('download'),
    panel(page).getByRole('menuitem', { name: 'Download transcript' }).click(),
  ]);
  await emu.realtimeFault('release', { identity });
  await log(page).getByText('Paged before pushed').waitFor();
  await conversation.messages.create({ author: 'agent:ana', body: 'And the next' });
  await log(page).getByText('And the next').waitFor();
  const shown = await bubbles(page);
  assert.deepEqual(shown.slice(shown.indexOf('Hello') + 1), ['Paged before pushed', 'And the next'], `each once, in order: ${JSON.stringify(shown)}`);
  assert.deepEqual(errors, []);
});

test('a conversation closed over REST while the panel is open: "This conversation has ended", and the next message starts a new one', async (t) => {
  const { page, errors } = await visit(t, 'ended');
  await openAndConnect(page);
  await send(page, 'Before the close');
  const first = await stored(page, 'ended', 'conversation');
  await client.conversations.v1.services(service).conversations(first).update({ state: 'closed' });
  await log(page).getByText('This conversation has ended').waitFor();
  assert.equal(await page.getByRole('button', { name: 'End conversation' }).count(), 0, 'nothing left to end');
  await log(page).getByRole('button', { name: 'Start a new conversation' }).click();
  assert.equal(await log(page).getByText('Before the close').count(), 0, 'a fresh log');
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

test('a dropped connection: "Reconnecting…" while it is down; after it, what was written meanwhile (over a page) shows without a hole, and sending works', async (t) => {
  const { page, errors } = await visit(t, 'drop');
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

test('a stored conversation the visitor was removed from while away (the SDK only peeks it) counts as gone: a new one, with the notice', async (t) => {
  const { page, url, errors } = await visit(t, 'left');
  await openAndConnect(page);
  await send(page, 'Before I was removed');
  await noneSending(page);
  const before = await stored(page, 'left', 'conversation');
  const identity = await identityOf(page, 'left');
  // Removed while no page of the site is open (an open page hears it live).
  await page.goto('about:blank');
  await client.conversations.v1.services(service).conversations(before).participants(identity).remove();
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

test('a token Twilio refuses (the SDK goes denied): "can\'t connect", and the draft is kept', async (t) => {
  // A Worker that signs with an API key secret the service does not know.
  const wrongKey = await startWorker({
    secrets: { ...secrets, TWILIO_API_KEY_SECRET: 'not-the-secret-twilio-knows-for-this-key', TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: { denied: config(quiet) },
  });
  try {
    const page = (await newPage(t)).page;
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


test("the SDK starts but its list of the visitor's conversations fails (a 500 it never retries): the widget starts over with a new connection, and the stored conversation shows", async (t) => {
  let { page } = await visit(t, 'halfstart');
  await openAndConnect(page);
  await send(page, 'Before the broken start');
  const sid = await stored(page, 'halfstart', 'conversation');
  const identity = await identityOf(page, 'halfstart');
  await page.close();
  // The SDK treats a 500 as fatal: its conversations list is never read, and without a deadline
  // of the widget's own, the stored conversation's lookup waits forever.
  await emu.realtimeFault('fail', { identity, method: 'GET', path_contains: 'Users/Me/Conversations', status: 500, times: 1 });
  ({ page } = await visit(t, 'halfstart'));
  await launcher(page).click();
  await connected(page, 30_000);
  await log(page).locator('.msg.own .bubble', { hasText: 'Before the broken start' }).waitFor();
  assert.equal(await stored(page, 'halfstart', 'conversation'), sid, 'the same conversation');
  await send(page, 'After the broken start');
  assert.deepEqual(await bodiesIn(sid), ['Before the broken start', 'After the broken start']);
  await page.close();
});
