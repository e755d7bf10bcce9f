// Tried as an attacker would, through the real Worker (`wrangler dev`), the emulator with the
// roles `npm run deploy` sets, and the real @twilio/conversations SDK (Node build): visitor A,
// holding a token and a credential of their own and visitor B's conversation SID, can neither
// peek, open, join, read, post in, re-attribute nor end B's conversation, nor create one with the
// SDK; the Worker's caps on conversations and visitors; idle and revoked credentials; webhooks
// refused before any signing work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startWorker, testSecrets } from './support/worker.mjs';
import { inOneWindow } from './support/wait.mjs';
import { startEmulator } from './support/emulator.mjs';

const SERVICE = 'IS77777777777777777777777777777777';
const ORIGIN = 'https://shop.test';
const base = { allowed_origins: [ORIGIN], service_sid: SERVICE };
const SITES = {
  shop: { ...base, rate_limits: { new_visitors_per_minute: 300 } },
  capped: { ...base, rate_limits: { new_visitors_per_minute: 300, open_conversations_per_visitor: 2 } },
  busy: { ...base, rate_limits: { new_visitors_per_minute: 300, site_new_visitors_per_minute: 100 } },
  convs: {
    ...base,
    rate_limits: { new_visitors_per_minute: 300, site_new_conversations_per_minute: 100, open_conversations_per_visitor: 10 },
  },
  revoked: { ...base, visitor_epoch: 1 },
  idle: { ...base, visitor_idle_days: 1 },
};

const secrets = testSecrets();
let emu;
let worker;
before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  await emu.leastPrivilege();
  worker = await startWorker({
    secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: Object.fromEntries(Object.entries(SITES).map(([id, c]) => [id, JSON.stringify(c)])),
  });
});
after(async () => {
  await emu?.stop();
  worker?.stop();
});

let ip = 0;
const post = (path, body, { origin = ORIGIN } = {}) => {
  ip += 1;
  return fetch(`${worker.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin, 'CF-Connecting-IP': `203.0.${113 + Math.floor(ip / 250)}.${(ip % 250) + 1}` },
    body: JSON.stringify(body),
  });
};
const visitor = async (site = 'shop', credential) => {
  const res = await post(`/api/sites/${site}/token`, credential ? { visitor: credential } : {});
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
};
const start = (site, credential, key, extra = {}) => post(`/api/sites/${site}/conversations`, { visitor: credential, key, ...extra });
const started = async (site, credential, key, extra) => {
  const res = await start(site, credential, key, extra);
  assert.ok(res.status === 201 || res.status === 200, await res.clone().text());
  return (await res.json()).conversation;
};

test('a visitor cannot reach another visitor\'s conversation, by SDK or by the Worker', async () => {
  const b = await visitor();
  const sidB = await started('shop', b.visitor, 'b1', { page_url: `${ORIGIN}/cart?email=b@x.test`, referrer: 'https://search.test/?q=shoes' });
  const clientB = emu.sdkClient(b.token);
  await clientB.ready;
  const conversationB = await clientB.getConversationBySid(sidB);
  await conversationB.sendMessage('my address is 1 Main St');
  // The attributes are the Worker's: the page without its query, and nothing B can change.
  const attributes = conversationB.attributes;
  assert.deepEqual(attributes, { site: 'shop', visitor: b.identity, page_url: `${ORIGIN}/cart`, referrer: 'https://search.test/' });
  await assert.rejects(conversationB.updateAttributes({ site: 'other' }), 'attributes');
  await assert.rejects(conversationB.updateFriendlyName('Support'), 'name');

  const a = await visitor();
  const clientA = emu.sdkClient(a.token);
  await clientA.ready;
  await assert.rejects(clientA.peekConversationBySid(sidB), 'peek');
  await assert.rejects(clientA.getConversationBySid(sidB), 'open');
  await assert.rejects(clientA.createConversation({ attributes: { site: 'shop' } }), 'create');
  const sdkA = emu.sdk(a.token);
  await assert.rejects(sdkA.join(sidB), (e) => e.status === 403, 'join');
  await assert.rejects(sdkA.messages(sidB), (e) => e.status === 403, 'read');
  await assert.rejects(sdkA.send(sidB, 'hi from A'), (e) => e.status === 403, 'post');
  await assert.rejects(sdkA.createConversation({ site: 'shop' }), (e) => e.status === 403, 'create over /_sdk');

  const end = await post(`/api/sites/shop/conversations/${sidB}/end`, { visitor: a.visitor });
  assert.equal(end.status, 404);
  assert.equal((await end.json()).error.code, 'unknown_conversation');
  const victim = await emu.client().conversations.v1.services(SERVICE).conversations(sidB).fetch();
  assert.equal(victim.state, 'active');
  const messages = await emu.client().conversations.v1.services(SERVICE).conversations(sidB).messages.list();
  assert.deepEqual(messages.map((m) => m.author), [b.identity]);
  // B's own end still works.
  const own = await post(`/api/sites/shop/conversations/${sidB}/end`, { visitor: b.visitor });
  assert.equal(own.status, 200);
});

test('a repeated start (lost answer, second tab) finds the same conversation, even all at once', async () => {
  const v = await visitor();
  const first = await started('shop', v.visitor, 'k-1');
  assert.equal(await started('shop', v.visitor, 'k-1'), first);
  const racing = await Promise.all(Array.from({ length: 5 }, () => started('shop', v.visitor, 'k-2')));
  assert.equal(new Set(racing).size, 1);
  const mine = await emu.client().conversations.v1.services(SERVICE).participantConversations.list({ identity: v.identity });
  assert.equal(mine.length, 2, 'one conversation per key');
});

/** `credential` with one character of its tag changed (never to itself). */
const altered = (credential) => {
  const at = credential.length - 5;
  return credential.slice(0, at) + (credential[at] === 'B' ? 'C' : 'B') + credential.slice(at + 1);
};

test('start refusals are clear: no credential, a bad key, another origin\'s page', async () => {
  const v = await visitor();
  for (const [body, status, code] of [
    [{ key: 'k' }, 400, 'invalid_json'],
    [{ visitor: v.visitor, key: 'no spaces' }, 400, 'invalid_json'],
    [{ visitor: altered(v.visitor), key: 'k' }, 401, 'invalid_visitor_credential'],
  ]) {
    const res = await post('/api/sites/shop/conversations', body);
    assert.equal(res.status, status);
    const { error } = await res.json();
    assert.equal(error.code, code);
    assert.ok(error.message.length > 10);
  }
  const sid = await started('shop', v.visitor, 'elsewhere', { page_url: 'https://evil.test/phish' });
  const c = await emu.client().conversations.v1.services(SERVICE).conversations(sid).fetch();
  assert.equal(JSON.parse(c.attributes).page_url, undefined, 'a page of another origin is not kept');
});

test('a visitor has at most the site\'s open conversations; ending one makes room', async () => {
  const v = await visitor('capped');
  const one = await started('capped', v.visitor, 'c1');
  await started('capped', v.visitor, 'c2');
  const third = await start('capped', v.visitor, 'c3');
  assert.equal(third.status, 429);
  assert.equal(third.headers.get('retry-after'), '60');
  const { error } = await third.json();
  assert.equal(error.code, 'too_many_conversations');
  assert.match(error.message, /2 open conversations/);
  assert.equal((await post(`/api/sites/capped/conversations/${one}/end`, { visitor: v.visitor })).status, 200);
  await started('capped', v.visitor, 'c3');
});

test('a site\'s new visitors and new conversations a minute are capped whatever the addresses', async () => {
  // (Each burst counted in one window of the local limiter: it resets on the minute.)
  await inOneWindow();
  const statuses = [];
  for (let i = 0; i < 101; i += 1) statuses.push((await post('/api/sites/busy/token', {})).status);
  assert.equal(statuses.filter((s) => s === 200).length, 100);
  assert.equal(statuses.at(-1), 429);

  await inOneWindow(25_000);
  const visitors = [];
  for (let i = 0; i < 11; i += 1) visitors.push(await visitor('convs'));
  const results = [];
  for (let i = 0; i < 101; i += 1) {
    const res = await start('convs', visitors[i % 11].visitor, `n${i}`);
    results.push(res.status);
    if (res.status === 429) {
      assert.equal(res.headers.get('retry-after'), '60');
      assert.match((await res.json()).error.message, /this site/);
    }
  }
  assert.equal(results.filter((s) => s === 201).length, 100);
  assert.equal(results.at(-1), 429);
});

/** A credential as the Worker makes it (core::visitor), for times the test picks. */
function credential(site, epoch, issued, uuid = crypto.randomUUID()) {
  const tag = createHmac('sha256', secrets.VISITOR_SIGNING_SECRET)
    .update(`edgechat visitor v2\n${site}\n${uuid}\n${epoch}\n${issued}`).digest('base64url');
  return `v2.${site}.${uuid}.${epoch}.${issued}.${tag}`;
}
const now = () => Math.floor(Date.now() / 1000);

test('credentials expire when idle, renew with every token, and a site\'s epoch revokes only its own', async () => {
  const fresh = credential('idle', 0, now() - 3600);
  const renewed = await visitor('idle', fresh);
  const [, , , , issued] = renewed.visitor.split('.');
  assert.ok(Number(issued) >= now() - 5, 'the renewal carries a new issue time');
  assert.equal(renewed.identity, `visitor:idle:${fresh.split('.')[2]}`);
  const stale = await post('/api/sites/idle/token', { visitor: credential('idle', 0, now() - 2 * 86_400) });
  assert.equal(stale.status, 401);
  assert.equal((await stale.json()).error.code, 'invalid_visitor_credential');
  assert.equal((await post('/api/sites/shop/token', { visitor: credential('shop', 0, now() - 89 * 86_400) })).status, 200,
    'the default idle time is 90 days');
  assert.equal((await post('/api/sites/shop/token', { visitor: credential('shop', 0, now() - 91 * 86_400) })).status, 401);

  assert.equal((await post('/api/sites/revoked/token', { visitor: credential('revoked', 0, now()) })).status, 401);
  assert.equal((await post('/api/sites/revoked/token', { visitor: credential('revoked', 1, now()) })).status, 200);
  assert.equal((await post('/api/sites/shop/token', { visitor: credential('shop', 0, now()) })).status, 200, 'other sites keep theirs');
  // The same refusal at the start and end routes.
  assert.equal((await start('revoked', credential('revoked', 0, now()), 'k')).status, 401);
  const first = `v1.shop.${crypto.randomUUID()}.${'A'.repeat(43)}`;
  assert.equal((await post('/api/sites/shop/token', { visitor: first })).status, 401, 'first-format credentials');
});

test('webhooks Twilio never sends are refused before any signing work, saying nothing of the Worker', async () => {
  const hook = (body, signature = 'A'.repeat(27) + '=') => fetch(`${worker.url}/webhooks/conversations`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature }, body,
  });
  // As measured against the quadratic pass: 12,000 keys in under 64 KiB.
  const huge = Array.from({ length: 12_000 }, (_, i) => `${i.toString(36)}=`).join('&');
  assert.ok(huge.length < 64 * 1024);
  const t0 = performance.now();
  const refused = await hook(huge);
  const ms = performance.now() - t0;
  assert.equal(refused.status, 400);
  assert.match((await refused.json()).error.message, /at most 300 parameters/);
  const near = Array.from({ length: 300 }, (_, i) => `k${i}=v`).join('&');
  const bad = await hook(near);
  assert.equal(bad.status, 403);
  const text = await bad.text();
  assert.equal(JSON.parse(text).error.code, 'invalid_signature');
  for (const name of Object.keys(secrets)) assert.ok(!text.includes(name), `names ${name}`);
  for (const signature of ['unchecked', 'A'.repeat(28), `${'A'.repeat(26)}==`]) {
    assert.equal((await hook('EventType=onMessageAdded', signature)).status, 403, signature);
  }
  console.log(`# a 12,000-key unsigned webhook answered in ${ms.toFixed(0)} ms`);
});
