// The emulator's REST API driven by the official `twilio` client: if Twilio's own library can
// send to it and parse what it answers (resources, paging, errors), its shapes are Twilio's.
// Its webhooks are checked with the library's own `validateRequest`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startEmulator, twilio } from './support/emulator.mjs';
import { testSecrets } from './support/worker.mjs';

const secrets = testSecrets();
const SERVICE = 'IS' + 'a'.repeat(32);
const OTHER_SERVICE = 'IS' + 'b'.repeat(32);
const FLOW = 'FW' + 'c'.repeat(32);
let emu;
let client;

before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE, OTHER_SERVICE] });
  client = emu.client();
});
after(() => emu?.stop());

async function rejects(promise, status, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status, e.message);
    assert.equal(e.code, code, e.message);
    assert.match(e.moreInfo, new RegExp(`/errors/${code}$`));
    return true;
  });
}

test('conversations: create, fetch, update state, list with paging, delete', async () => {
  await emu.reset();
  const conversations = client.conversations.v1.conversations;
  const created = await conversations.create({ friendlyName: 'Support', attributes: JSON.stringify({ site: 'acme' }) });
  assert.match(created.sid, /^CH[0-9a-f]{32}$/);
  assert.equal(created.chatServiceSid, SERVICE);
  assert.equal(created.accountSid, secrets.TWILIO_ACCOUNT_SID);
  assert.equal(created.state, 'active');
  assert.ok(created.dateCreated instanceof Date && !Number.isNaN(created.dateCreated.getTime()));
  assert.deepEqual(JSON.parse(created.attributes), { site: 'acme' });

  const fetched = await conversations(created.sid).fetch();
  assert.equal(fetched.friendlyName, 'Support');
  const closed = await conversations(created.sid).update({ state: 'closed' });
  assert.equal(closed.state, 'closed');

  for (let i = 0; i < 6; i++) await conversations.create({ friendlyName: `c${i}` });
  const firstPage = await conversations.page({ pageSize: 3 });
  assert.equal(firstPage.instances.length, 3);
  assert.ok(firstPage.nextPageUrl, 'a next page');
  const all = await conversations.list({ pageSize: 3 });
  assert.equal(all.length, 7);
  assert.equal(new Set(all.map((c) => c.sid)).size, 7, 'paging returns each conversation once');

  assert.equal(await conversations(created.sid).remove(), true);
  await rejects(conversations(created.sid).fetch(), 404, 20404);
  await rejects(conversations.create({ attributes: '{not json' }), 400, 20001);
});

test('participants: add, list, a duplicate identity is 409 (50433)', async () => {
  await emu.reset();
  const c = await client.conversations.v1.conversations.create({});
  const participants = client.conversations.v1.conversations(c.sid).participants;
  const p = await participants.create({ identity: 'agent:alice' });
  assert.match(p.sid, /^MB[0-9a-f]{32}$/);
  assert.equal(p.identity, 'agent:alice');
  await participants.create({ identity: 'visitor:acme:1' });
  assert.deepEqual((await participants.list()).map((x) => x.identity), ['agent:alice', 'visitor:acme:1']);
  await rejects(participants.create({ identity: 'agent:alice' }), 409, 50433);
});

test('messages: create with author, list in order, paging and Order=desc', async () => {
  await emu.reset();
  const c = await client.conversations.v1.conversations.create({});
  const messages = client.conversations.v1.conversations(c.sid).messages;
  for (let i = 0; i < 45; i++) await messages.create({ author: i % 2 ? 'bot' : 'visitor', body: `m${i}` });
  const all = await messages.list({ pageSize: 20 });
  assert.deepEqual(all.map((m) => m.index), [...Array(45).keys()]);
  assert.equal(all[3].author, 'bot');
  assert.equal(all[3].body, 'm3');
  const newest = await messages.page({ pageSize: 10, order: 'desc' });
  assert.deepEqual(newest.instances.map((m) => m.index), [44, 43, 42, 41, 40, 39, 38, 37, 36, 35]);
  const older = await newest.nextPage();
  assert.equal(older.instances[0].index, 34);
  await rejects(messages.create({ author: 'x' }), 400, 20001);
});

test('conversation webhooks: studio and webhook targets, list, remove, at most 5 (50361)', async () => {
  await emu.reset();
  const c = await client.conversations.v1.conversations.create({});
  const webhooks = client.conversations.v1.conversations(c.sid).webhooks;
  const studio = await webhooks.create({ target: 'studio', 'configuration.flowSid': FLOW, 'configuration.filters': ['onMessageAdded'] });
  assert.match(studio.sid, /^WH[0-9a-f]{32}$/);
  assert.equal(studio.target, 'studio');
  assert.equal(studio.configuration.flow_sid, FLOW);
  assert.deepEqual(studio.configuration.filters, ['onMessageAdded']);
  const hook = await webhooks.create({
    target: 'webhook', 'configuration.url': 'https://bot.example.com/hook', 'configuration.method': 'POST',
    'configuration.filters': ['onMessageAdded', 'onConversationUpdated'],
  });
  assert.equal(hook.configuration.url, 'https://bot.example.com/hook');
  assert.deepEqual(hook.configuration.filters, ['onMessageAdded', 'onConversationUpdated']);
  await rejects(webhooks.create({ target: 'studio' }), 400, 20001);
  for (let i = 0; i < 3; i++) await webhooks.create({ target: 'webhook', 'configuration.url': `https://h${i}.example.com/` });
  await rejects(webhooks.create({ target: 'webhook', 'configuration.url': 'https://sixth.example.com/' }), 400, 50361);
  assert.equal((await webhooks.list()).length, 5);
  assert.equal(await webhooks(hook.sid).remove(), true);
  assert.deepEqual((await webhooks.list()).map((w) => w.sid).includes(hook.sid), false);
  assert.equal((await webhooks(studio.sid).fetch()).target, 'studio');
});

test('service-scoped API: its own conversations; an unknown service is 404', async () => {
  await emu.reset();
  const scoped = client.conversations.v1.services(OTHER_SERVICE).conversations;
  const c = await scoped.create({ friendlyName: 'scoped' });
  assert.equal(c.chatServiceSid, OTHER_SERVICE);
  await scoped(c.sid).messages.create({ author: 'a', body: 'hello' });
  assert.equal((await scoped(c.sid).messages.list()).length, 1);
  await scoped(c.sid).webhooks.create({ target: 'studio', 'configuration.flowSid': FLOW });
  assert.equal((await scoped(c.sid).webhooks.list()).length, 1);
  assert.equal((await client.conversations.v1.conversations.list()).length, 0, 'not in the default service');
  await rejects(client.conversations.v1.services('IS' + 'd'.repeat(32)).conversations.list(), 404, 20404);
});

test('auth: the API key works, a wrong secret is 401 (20003)', async () => {
  await emu.reset();
  const viaKey = emu.client({ apiKey: true }).conversations.v1.conversations;
  const created = await viaKey.create({});
  assert.match(created.sid, /^CH[0-9a-f]{32}$/);
  assert.deepEqual((await viaKey.list()).map((c) => c.sid), [created.sid], 'the key reads what it wrote');
  const wrong = twilio(secrets.TWILIO_ACCOUNT_SID, 'not-the-token');
  wrong.conversations.baseUrl = emu.url;
  await rejects(wrong.conversations.v1.conversations.list(), 401, 20003);
  const log = await emu.requests();
  assert.ok(log.every((r) => !JSON.stringify(r).includes(secrets.TWILIO_AUTH_TOKEN)), 'no password in the log');
});

test('post-event webhooks are signed as Twilio signs them, and only announced REST actions fire', async () => {
  await emu.reset();
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { received.push({ headers: req.headers, body, url: req.url }); res.end('ok'); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${server.address().port}/events?x=1`;
  try {
    const config = await client.conversations.v1.services(SERVICE).configuration.webhooks()
      .update({ postWebhookUrl: hookUrl, filters: ['onConversationAdded', 'onMessageAdded'], method: 'POST' });
    assert.equal(config.postWebhookUrl, hookUrl);
    assert.deepEqual(config.filters, ['onConversationAdded', 'onMessageAdded']);

    const quiet = await client.conversations.v1.conversations.create({});
    await client.conversations.v1.conversations(quiet.sid).messages.create({ author: 'a', body: 'not announced' });
    const c = await client.conversations.v1.conversations.create({ xTwilioWebhookEnabled: 'true', friendlyName: 'loud' });
    await client.conversations.v1.conversations(c.sid).messages.create({ xTwilioWebhookEnabled: 'true', author: 'bot', body: 'héllo & bye' });
    const deliveries = await emu.settled({ count: 2 });
    assert.deepEqual(deliveries.map((d) => [d.event_type, d.status]), [['onConversationAdded', 'delivered'], ['onMessageAdded', 'delivered']]);
    assert.equal(received.length, 2);
    for (const r of received) {
      const params = Object.fromEntries(new URLSearchParams(r.body));
      assert.equal(r.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.ok(twilio.validateRequest(secrets.TWILIO_AUTH_TOKEN, r.headers['x-twilio-signature'], hookUrl, params),
        `twilio.validateRequest accepts ${r.body}`);
      assert.ok(!twilio.validateRequest('another-token', r.headers['x-twilio-signature'], hookUrl, params));
      assert.equal(params.AccountSid, secrets.TWILIO_ACCOUNT_SID);
      assert.equal(params.Source, 'API');
      assert.equal(params.ConversationSid, c.sid);
    }
    const message = Object.fromEntries(new URLSearchParams(received[1].body));
    assert.equal(message.Body, 'héllo & bye');
    assert.equal(message.Author, 'bot');
    assert.equal(message.Index, '0');
  } finally {
    server.close();
    await client.conversations.v1.services(SERVICE).configuration.webhooks().update({ postWebhookUrl: '' });
  }
});

test('post-event retries: the service\'s PostWebhookRetryCount, on 429/503/504 only, RetryCount counted up', async () => {
  await emu.reset();
  // The hook answers each event's attempts from a script: `${Body}` -> statuses in order.
  const script = { 'busy twice': [503, 429, 200], broken: [500], 'always busy': [504, 504, 504, 504] };
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      received.push(params);
      const answers = script[params.Body];
      res.statusCode = answers.shift();
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${server.address().port}/events`;
  const chat = client.chat.v2.services(SERVICE);
  try {
    assert.equal((await chat.fetch()).postWebhookRetryCount, 0, "Twilio's default: never retried");
    await rejects(chat.update({ postWebhookRetryCount: 4 }), 400, 20001);
    const updated = await chat.update({ postWebhookRetryCount: 2 });
    assert.equal(updated.postWebhookRetryCount, 2);
    assert.equal((await chat.fetch()).postWebhookRetryCount, 2);
    await client.conversations.v1.services(SERVICE).configuration.webhooks()
      .update({ postWebhookUrl: hookUrl, filters: ['onMessageAdded'], method: 'POST' });

    const c = await client.conversations.v1.conversations.create({});
    for (const body of ['busy twice', 'broken', 'always busy']) {
      await client.conversations.v1.conversations(c.sid).messages.create({ xTwilioWebhookEnabled: 'true', author: 'a', body });
    }
    const deliveries = await emu.settled({ count: 7 });
    const attempts = (body) => received.filter((p) => p.Body === body).map((p) => p.RetryCount);
    assert.deepEqual(attempts('busy twice'), ['0', '1', '2'], 'retried after 503 and 429, then delivered');
    assert.deepEqual(attempts('broken'), ['0'], 'a 500 is not retried');
    assert.deepEqual(attempts('always busy'), ['0', '1', '2'], 'at most PostWebhookRetryCount retries');
    // Each event's attempts in order (events interleave as their retries queue up).
    const outcomes = (body) => deliveries.filter((d) => d.params.some(([k, v]) => k === 'Body' && v === body))
      .map((d) => [Object.fromEntries(d.params).RetryCount, d.http_status, d.status]);
    assert.deepEqual(outcomes('busy twice'), [['0', 503, 'failed'], ['1', 429, 'failed'], ['2', 200, 'delivered']]);
    assert.deepEqual(outcomes('broken'), [['0', 500, 'failed']]);
    assert.deepEqual(outcomes('always busy'), [['0', 504, 'failed'], ['1', 504, 'failed'], ['2', 504, 'failed']]);
    assert.equal(deliveries.length, 7);
    for (const d of deliveries) {
      const params = Object.fromEntries(d.params);
      assert.ok(received.some((r) => r.Body === params.Body && r.RetryCount === params.RetryCount));
    }

    await chat.update({ postWebhookRetryCount: 0 });
    script['busy twice'] = [503, 200];
    await client.conversations.v1.conversations(c.sid).messages.create({ xTwilioWebhookEnabled: 'true', author: 'a', body: 'busy twice' });
    await emu.settled({ count: 8 });
    assert.deepEqual(attempts('busy twice'), ['0', '1', '2', '0'], 'with the count at 0, a 503 is final');
  } finally {
    server.close();
    await chat.update({ postWebhookRetryCount: 0 });
    await client.conversations.v1.services(SERVICE).configuration.webhooks().update({ postWebhookUrl: '' });
  }
});

test('fault injection: status, Retry-After and dropped connections, each used up once', async () => {
  await emu.reset();
  await emu.fault({ method: 'GET', path_contains: '/Conversations', status: 429, retry_after: 2 });
  const first = await fetch(`${emu.url}/v1/Conversations`, { headers: { Authorization: `Basic ${btoa(`${secrets.TWILIO_ACCOUNT_SID}:${secrets.TWILIO_AUTH_TOKEN}`)}` } });
  assert.equal(first.status, 429);
  assert.equal(first.headers.get('retry-after'), '2');
  assert.equal((await first.json()).code, 20429);
  assert.equal((await client.conversations.v1.conversations.list()).length, 0, 'the fault was used up');
  await emu.fault({ status: 500, times: 1 });
  await rejects(client.conversations.v1.conversations.list(), 500, 20500);
  await emu.fault({ drop: true });
  await assert.rejects(client.conversations.v1.conversations.list(), /socket hang up|ECONNRESET|closed/i);
  assert.equal((await client.conversations.v1.conversations.list()).length, 0, 'the emulator still serves');
  const log = await emu.requests();
  assert.deepEqual(log.map((r) => r.fault ?? null), ['status 429', null, 'status 500', 'drop', null]);
});
