// Token renewal in the widget, in Debian's Chromium against `wrangler dev` and the local Twilio
// emulator (the real SDK): a renewal the Worker answers 429 waits its Retry-After and then renews
// by itself (not at the SDK's next warning); a token request that never answers is abandoned
// after its attempt timeout and tried again. The token expires when the test says (the
// emulator's `expire` control), never by waiting out a lifetime.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostPage } from './support/host.mjs';
import { startWidgetEnv } from './support/widget-env.mjs';
import { until } from './support/wait.mjs';

const SERVICE = 'IS' + 'e5'.repeat(16);
let env;
let host;
let emu;
let client;
let worker;
let browser;

before(async () => {
  env = await startWidgetEnv({
    service: SERVICE,
    sites: (h) => {
      const config = JSON.stringify({ allowed_origins: [h.origin], service_sid: SERVICE, automation: 'none' });
      return { limited: config, hanging: config };
    },
  });
  ({ host, emu, client, worker, browser } = env);
});

after(() => env?.stop());

const launcher = (page) => page.locator('button.launcher').last();
const composer = (page) => page.getByRole('textbox', { name: 'Message' });
const connected = (page) => page.locator('button[aria-label="Send"][aria-disabled="false"]').waitFor({ timeout: 15_000 });
/** Waits until every own message went out: none waiting, sending or failed (all of them, however many). */
const allDelivered = (page, ms = 20_000) => until(
  async () => (await page.locator('.msg.own .meta', { hasText: /Waiting|Sending|Not sent/ }).count()) === 0, 'every own message delivered', ms);

/** Opens `site`'s page with the token route under the test's control: `answer(n, route)` for the n-th request (from 1). */
async function visit(site, answer) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const tokens = [];
  await page.route(`${worker.url}/api/sites/${site}/token`, (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    tokens.push(Date.now());
    return answer(tokens.length, route);
  });
  await page.goto(host.page(`/${site}`, hostPage({ workerUrl: worker.url, site })));
  await launcher(page).click();
  await connected(page);
  const credential = await page.evaluate((s) => localStorage.getItem(`edgechat:${s}:visitor`), site);
  const identity = `visitor:${site}:${credential.split('.')[2]}`;
  return { page, errors, tokens, identity };
}

const connections = async (identity) => (await emu.realtimeReport()).connections.filter((c) => c.identity === identity).length;

async function sendAndCheck(page, site, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await page.locator('.msg.own .bubble', { hasText: text }).waitFor();
  await allDelivered(page);
  const sid = await page.evaluate((s) => localStorage.getItem(`edgechat:${s}:conversation`), site);
  const bodies = (await client.conversations.v1.services(SERVICE).conversations(sid).messages.list()).map((m) => m.body);
  assert.ok(bodies.includes(text), JSON.stringify(bodies));
}

test('a renewal answered 429 waits its Retry-After, then renews by itself; the connection comes back and nothing typed is lost', async () => {
  const { page, errors, tokens, identity } = await visit('limited', (n, route) => {
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

test('a token request that never answers is abandoned after its 10 s and tried again', async () => {
  let hung;
  const { page, errors, tokens, identity } = await visit('hanging', (n, route) => {
    if (n !== 2) return route.continue();
    hung = route; // never answered: the widget must give up on it
    return undefined;
  });
  await emu.realtimeFault('expire', { identity });
  await until(() => tokens.length >= 3, 'a second renewal attempt after the hung one', 25_000);
  const waited = tokens[2] - tokens[1];
  assert.ok(waited >= 9_500, `abandoned after its attempt timeout (10 s), not ${waited} ms`);
  await until(async () => (await connections(identity)) === 1, 'the SDK reconnects with the renewed token');
  await sendAndCheck(page, 'hanging', 'after the hung renewal');
  assert.deepEqual(errors, []);
  await page.close();
  await hung?.abort().catch(() => {});
});
