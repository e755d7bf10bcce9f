// The widget's tokens and limits, in Debian's Chromium against `wrangler dev` and the local Twilio
// emulator (the real SDK): a session outlives its token; a renewal the Worker answers 429 waits
// its Retry-After and then renews by itself (not at the SDK's next warning); a token request that
// never answers is abandoned after its attempt timeout and tried again; a rotated visitor secret
// (before a return visit and mid-session); a visitor whose clock is two hours fast; the Worker
// busy on a first visit. Tokens expire, or are about to, when the test says (the emulator's
// `expire` and `warn` controls) or the page's clock moves (Playwright's), never by waiting out a lifetime.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  useWidgetEnv, config, quiet, host, emu, client, worker, secrets, service, hostPage, until, newPage, visit,
  launcher, composer, log, panel, connected, bubbles, noneSending, allDelivered, identityOf, connections, bodiesIn,
  session, openAndConnect, send, stored,
} from './support/widget.mjs';
import { startWorker, testSecrets } from './support/worker.mjs';

/** The same Worker after its VISITOR_SIGNING_SECRET was rotated (started by the first test that needs it). */
let rotated;
const rotationSites = () => ({ rotated: config(quiet), rotating: config(quiet) });
const startRotated = async () => {
  rotated ??= await startWorker({
    secrets: { ...secrets, VISITOR_SIGNING_SECRET: testSecrets().VISITOR_SIGNING_SECRET, TWILIO_API_BASE: emu.url,
      TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: rotationSites(),
  });
  return rotated;
};

useWidgetEnv({
  service: 'IS' + 'e5'.repeat(16),
  sites: () => ({
    limited: config(quiet), hanging: config(quiet), short: config({ ...quiet, token_ttl_seconds: 30 }),
    skewed: config({ ...quiet, token_ttl_seconds: 30 }), busy: config(quiet), ...rotationSites(),
  }),
});

after(() => rotated?.stop());

/** Opens `site`'s page with the token route under the test's control: `answer(n, route)` for the n-th request (from 1). */
async function visitRenewing(t, site, answer, { clock = false } = {}) {
  const { page, errors } = await newPage(t);
  if (clock) await page.clock.install();
  const tokens = [];
  await page.route(`${worker.url}/api/sites/${site}/token`, (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    tokens.push(Date.now());
    return answer(tokens.length, route);
  });
  await page.goto(host.page(`/${site}`, hostPage({ workerUrl: worker.url, site })));
  await openAndConnect(page);
  const identity = await identityOf(page, site);
  return { page, errors, tokens, identity };
}

async function sendAndCheck(page, site, text) {
  await send(page, text);
  await allDelivered(page);
  const sid = await page.evaluate((s) => localStorage.getItem(`edgechat:${s}:conversation`), site);
  assert.ok((await bodiesIn(sid)).includes(text));
}

test('a renewal answered 429 waits its Retry-After, then renews by itself; the connection comes back and nothing typed is lost', async (t) => {
  const { page, errors, tokens, identity } = await visitRenewing(t, 'limited', (n, route) => {
    if (n !== 2) return route.continue();
    return route.fulfill({
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '2', 'access-control-allow-origin': host.origin, 'access-control-expose-headers': 'Retry-After' },
      body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many renewals for this visitor; try again in 2 s' } }),
    });
  });
  await composer(page).fill('a draft kept through the renewal');
  // The token expires now: the SDK says tokenExpired once; the widget renews.
  assert.equal((await emu.realtimeFault('expire', { identity })).connections, 1);
  await until(() => tokens.length >= 3, 'the renewal after the 429');
  const waited = tokens[2] - tokens[1];
  assert.ok(waited >= 1900, `the renewal waited the Worker's Retry-After (2 s), not ${waited} ms`);
  await until(async () => (await connections(identity)) === 1, 'the SDK reconnects with the renewed token');
  assert.equal(tokens.length, 3, 'first token, the 429, the renewal: nothing more');
  assert.equal(await composer(page).inputValue(), 'a draft kept through the renewal');
  await sendAndCheck(page, 'limited', 'after the limited renewal');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a token request that never answers is abandoned after its 10 s and tried again', async (t) => {
  let hung;
  // The page's clock is Playwright's, moved on by the test past the attempt's timeout.
  const { page, errors, tokens, identity } = await visitRenewing(t, 'hanging', (n, route) => {
    if (n !== 2) return route.continue();
    hung = route; // never answered: the widget must give up on it
    return undefined;
  }, { clock: true });
  const abandoned = [];
  page.on('requestfailed', (r) => { if (r.url().endsWith('/api/sites/hanging/token')) abandoned.push(r); });
  await emu.realtimeFault('expire', { identity });
  await until(() => tokens.length >= 2 && hung, 'the renewal that hangs');
  await page.clock.runFor(9_000);
  assert.deepEqual([tokens.length, abandoned.length], [2, 0], 'still waiting for it before its 10 s');
  await page.clock.runFor(1_500);
  await until(() => abandoned.length === 1, 'the hung request aborted at its 10 s');
  // The policy's backoff (1 s, jittered), then a second attempt.
  await page.clock.runFor(2_000);
  await until(() => tokens.length >= 3, 'a second renewal attempt after the hung one');
  await until(async () => (await connections(identity)) === 1, 'the SDK reconnects with the renewed token');
  await sendAndCheck(page, 'hanging', 'after the hung renewal');
  assert.deepEqual(errors, []);
  await hung?.abort().catch(() => {});
});

test('the session outlives its token: when it expires (the emulator expires it now), a new one is fetched and messages still go out', async (t) => {
  const { page, requests } = await visit(t, 'short');
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

test('the visitor secret rotated before a return visit: the old credential is refused, a new visitor starts with the notice', async (t) => {
  const { page, errors } = await visit(t, 'rotated');
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

test('the visitor secret rotated mid-session: the renewal on the token\'s expiry warning is refused, and the page goes on as a new visitor', async (t) => {
  const { page, errors } = await visit(t, 'rotating');
  await openAndConnect(page);
  await send(page, 'Before the rotation');
  const before = await session(page, 'rotating');
  // From now on the Worker this page talks to is the rotated one (its answers, unchanged).
  const b = await startRotated();
  // Every visitor route (the token, the conversation's start): a rotation is the whole Worker's.
  await page.route(`${worker.url}/api/sites/rotating/**`, async (route) => {
    const response = await route.fetch({ url: route.request().url().replace(worker.url, b.url) });
    await route.fulfill({ response });
  });
  // Twilio warns that the token is about to expire (now, by the emulator's control, rather than a
  // fifth of a lifetime early): the widget renews, and the rotated Worker refuses the old credential.
  assert.equal((await emu.realtimeFault('warn', { identity: await identityOf(page, 'rotating') })).connections, 1);
  await log(page).getByText('Your previous conversation has ended. This is a new one.').waitFor();
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

test('a visitor whose clock runs two hours fast renews once per token lifetime, not every second', async (t) => {
  // The page's clock is Playwright's: two hours ahead of the Worker's and the emulator's, and
  // moved on by the test, so the widget's own renewal schedule is tested without waiting it out.
  const { page, requests } = await visit(t, 'skewed', {
    setup: (p) => p.clock.install({ time: Date.now() + 2 * 3600 * 1000 }),
  });
  const tokens = () => requests.filter((r) => r.endsWith('/api/sites/skewed/token')).length;
  await openAndConnect(page);
  const issuedBy = Date.now();
  assert.equal(tokens(), 1);
  // The token lives 30 s; its renewal is due after 24 s of the visitor's own clock, wherever
  // that clock stands. Nothing is due before it...
  await page.clock.runFor(20_000);
  await send(page, 'Before the renewal');
  await noneSending(page);
  assert.equal(tokens(), 1, `token requests before 80% of the lifetime: ${tokens()}`);
  // ...then one renewal. (Tokens are issued to the second; one issued in the first token's second
  // would be the same bytes, which the widget asks again for. Real time passes that second first.)
  await until(() => Date.now() - issuedBy > 1000, 'the first token\'s second past');
  await page.clock.runFor(5_000);
  await until(() => tokens() >= 2, 'the renewal after 80% of the lifetime');
  await send(page, 'Still connected');
  await noneSending(page);
  // None in the seconds after it: a schedule that compared the visitor's clock with the token's
  // expiry would find it long past, and renew at once, again and again.
  await page.clock.runFor(3_000);
  await send(page, 'Three seconds later');
  await noneSending(page);
  assert.equal(tokens(), 2, `token requests: ${tokens()}`);
  assert.deepEqual(await bodiesIn((await session(page, 'skewed')).conversation), ['Before the renewal', 'Still connected', 'Three seconds later']);
});

test('the Worker says busy (429): "busy, retrying in N s", then it connects on its own after Retry-After', async (t) => {
  const { page } = await visit(t, 'busy');
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
  await panel(page).getByText('Chat is busy right now. Retrying in 2 seconds…').waitFor();
  assert.equal(await panel(page).getByRole('button', { name: 'Try again' }).count(), 0, 'no button that would be refused too');
  await composer(page).fill('typed while busy');
  await connected(page);
  assert.equal(await composer(page).inputValue(), 'typed while busy', 'the draft is kept');
  assert.equal(refused, 2, 'refused once, then served');
  await page.close();
});

