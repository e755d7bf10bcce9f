// The emulator's realtime channel (the WebSocket the browser SDK stand-in uses), with access
// tokens made by the official twilio library's AccessToken + ChatGrant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from './support/emulator.mjs';
import { testSecrets } from './support/worker.mjs';

const secrets = testSecrets();
const SERVICE = 'IS' + '4'.repeat(32);
let emu;

before(async () => { emu = await startEmulator({ secrets, services: [SERVICE] }); });
after(() => emu?.stop());

const token = (identity, options) => emu.accessToken(identity, options);
const connect = (tokenValue) => emu.realtime(tokenValue);

test('tokens are checked as Twilio checks them', async () => {
  const c = await connect();
  await assert.rejects(c.request('getConversation', { sid: 'CH' + '0'.repeat(32) }), { status: 401, code: 20101 });
  await assert.rejects(c.request('auth', { token: token('v', { secret: 'wrong-secret' }) }), { status: 401 });
  await assert.rejects(c.request('auth', { token: token('v', { service: 'IS' + '5'.repeat(32) }) }), { status: 401 });
  await assert.rejects(c.request('auth', { token: token('v', { ttl: -10 }) }), { status: 401 });
  const ok = await c.request('auth', { token: token('visitor:acme:1') });
  assert.equal(ok.identity, 'visitor:acme:1');
});

test('a visitor and an agent chat live: messages, typing and read horizons are relayed', async () => {
  await emu.reset();
  const visitor = await connect(token('visitor:acme:1'));
  const conversation = await visitor.request('createConversation', { attributes: { site: 'acme' } });
  assert.match(conversation.sid, /^CH[0-9a-f]{32}$/);
  assert.deepEqual(conversation.attributes, { site: 'acme' });
  await visitor.request('join', { sid: conversation.sid });

  // The agent joins through the REST API (as Flex would), then connects.
  await emu.client().conversations.v1.conversations(conversation.sid).participants.create({ identity: 'agent:alice' });
  const agent = await connect(token('agent:alice'));

  assert.equal(await visitor.request('sendMessage', { sid: conversation.sid, body: 'hello', attributes: { edgechat_local_id: 1 } }), 0);
  const seen = await agent.waitFor((e) => e.event === 'messageAdded');
  assert.equal(seen.message.body, 'hello');
  assert.equal(seen.message.author, 'visitor:acme:1');
  assert.deepEqual(seen.message.attributes, { edgechat_local_id: 1 });
  await visitor.waitFor((e) => e.event === 'messageAdded' && e.message.index === 0);

  await agent.request('typing', { sid: conversation.sid });
  const typing = await visitor.waitFor((e) => e.event === 'typingStarted');
  assert.equal(typing.identity, 'agent:alice');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!agent.events.some((e) => e.event === 'typingStarted'), 'no echo of one\'s own typing');

  // A message written through the REST API (a bot, or Flex) reaches the visitor live.
  await emu.client().conversations.v1.conversations(conversation.sid).messages.create({ author: 'agent:alice', body: 'Hi, how can I help?' });
  const reply = await visitor.waitFor((e) => e.event === 'messageAdded' && e.message.index === 1);
  assert.equal(reply.message.body, 'Hi, how can I help?');

  assert.equal(await agent.request('setAllMessagesRead', { sid: conversation.sid }), 1);
  const horizon = await visitor.waitFor((e) => e.event === 'participantUpdated');
  assert.equal(horizon.participant.identity, 'agent:alice');
  assert.equal(horizon.participant.lastReadMessageIndex, 1);

  await emu.client().conversations.v1.conversations(conversation.sid).update({ state: 'closed' });
  const closed = await visitor.waitFor((e) => e.event === 'conversationUpdated');
  assert.equal(closed.state.state, 'closed');
  await assert.rejects(visitor.request('sendMessage', { sid: conversation.sid, body: 'still there?' }), { code: 50446 });
});

test('history pages: newest first page, older pages before an index', async () => {
  await emu.reset();
  const visitor = await connect(token('visitor:acme:2'));
  const { sid } = await visitor.request('createConversation');
  await visitor.request('join', { sid });
  for (let i = 0; i < 45; i++) await emu.client().conversations.v1.conversations(sid).messages.create({ author: 'bot', body: `m${i}` });
  const newest = await visitor.request('getMessages', { sid, pageSize: 30 });
  assert.deepEqual(newest.items.map((m) => m.index), [...Array(30).keys()].map((i) => i + 15));
  assert.equal(newest.hasPrevPage, true);
  const older = await visitor.request('getMessages', { sid, pageSize: 30, before: 15 });
  assert.deepEqual(older.items.map((m) => m.index), [...Array(15).keys()]);
  assert.equal(older.hasPrevPage, false);
});

test('a conversation the visitor is not in is not found, and nothing of it is pushed', async () => {
  await emu.reset();
  const owner = await connect(token('visitor:acme:3'));
  const { sid } = await owner.request('createConversation');
  await owner.request('join', { sid });
  const stranger = await connect(token('visitor:acme:4'));
  await assert.rejects(stranger.request('getConversation', { sid }), { status: 404, code: 50350 });
  await assert.rejects(stranger.request('sendMessage', { sid, body: 'hi' }), { code: 50350 });
  await owner.request('sendMessage', { sid, body: 'private' });
  await owner.waitFor((e) => e.event === 'messageAdded');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(stranger.events, []);
});

test('token expiry: tokenAboutToExpire, then tokenExpired; updateToken keeps the session going', async () => {
  await emu.reset();
  const c = await connect(token('visitor:acme:5', { ttl: 3 }));
  const { sid } = await c.request('createConversation');
  await c.waitFor((e) => e.event === 'tokenAboutToExpire', 5000);
  await c.waitFor((e) => e.event === 'tokenExpired', 5000);
  assert.deepEqual(c.events.map((e) => e.event), ['tokenAboutToExpire', 'tokenExpired']);
  await assert.rejects(c.request('getConversation', { sid }), { status: 401 });
  await assert.rejects(c.request('updateToken', { token: token('visitor:acme:other') }), { status: 401 });
  await c.request('updateToken', { token: token('visitor:acme:5') });
  await c.request('join', { sid });
  assert.equal((await c.request('getConversation', { sid })).sid, sid);
});

test('the agent console lists conversations and its replies reach the visitor live', async () => {
  await emu.reset();
  const visitor = await connect(token('visitor:acme:6'));
  const { sid } = await visitor.request('createConversation', { attributes: { site: 'acme' } });
  await visitor.request('join', { sid });
  await visitor.request('sendMessage', { sid, body: 'is anyone there?' });
  const page = await fetch(`${emu.url}/_emulator/console`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /role="log"/);
  const listed = await (await fetch(`${emu.url}/_emulator/console/conversations`)).json();
  assert.equal(listed.conversations.length, 1);
  assert.deepEqual(listed.conversations[0].messages.map((m) => m.body), ['is anyone there?']);
  const post = (body) => fetch(`${emu.url}/_emulator/console/conversations/${sid}/messages`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ body }),
  });
  assert.equal((await post('   ')).status, 400);
  const res = await post('Yes! How can I help?');
  assert.equal(res.status, 201);
  const reply = await visitor.waitFor((e) => e.event === 'messageAdded' && e.message.author === 'agent:console');
  assert.equal(reply.message.body, 'Yes! How can I help?');
  const participants = await visitor.request('getParticipants', { sid });
  assert.ok(participants.some((p) => p.identity === 'agent:console'), 'the console agent joined');
  assert.equal((await fetch(`${emu.url}/_emulator/console/conversations/CH${'0'.repeat(32)}/messages`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"body": "x"}',
  })).status, 404);
});
