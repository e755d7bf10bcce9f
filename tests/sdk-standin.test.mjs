// The browser SDK stand-in: its surface is checked against the real SDK's type declarations
// (tsc), and the built script is run against the emulator (Node's WebSocket; the browser tests
// of the widget run it in Chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { startEmulator } from './support/emulator.mjs';
import { testSecrets, ROOT } from './support/worker.mjs';

const secrets = testSecrets();
const SERVICE = 'IS' + '6'.repeat(32);
let emu;
let Client;
const clients = [];

const token = (identity, ttl = 3600) => emu.accessToken(identity, { ttl });

before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  // Load the script as a page would, from the emulator's origin (it finds the realtime channel there).
  const res = await fetch(`${emu.url}/sdk/twilio-conversations.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /javascript/);
  const context = vm.createContext({
    WebSocket, URL, setTimeout, clearTimeout, console, Promise, JSON, Date, Map, Set, Math,
    document: { currentScript: { src: `${emu.url}/sdk/twilio-conversations.js` } },
    location: { href: 'http://127.0.0.1:8787/' },
  });
  vm.runInContext(await res.text(), context);
  Client = context.Twilio.Conversations.Client;
});

after(async () => {
  for (const c of clients) await c.shutdown();
  emu?.stop();
});

function client(tokenValue) {
  const c = new Client(tokenValue);
  clients.push(c);
  return c;
}

const once = (emitter, event, ms = 5000) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
  emitter.on(event, (...args) => { clearTimeout(timer); resolve(args); });
});

test('its surface satisfies widget/sdk-surface.ts, as the real SDK\'s declarations do (tsc --noEmit)', () => {
  const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tests/sdk-types/tsconfig.json'],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});

test('initialized, then a visitor chats: create, join, send, live replies, history pages', async () => {
  await emu.reset();
  const visitor = client(token('visitor:acme:7'));
  const states = [];
  visitor.on('connectionStateChanged', (s) => states.push(s));
  await once(visitor, 'initialized');
  assert.equal(visitor.connectionState, 'connected');
  const conversation = await visitor.createConversation({ attributes: { site: 'acme' } });
  assert.deepEqual(conversation.attributes, { site: 'acme' });
  assert.equal(conversation.state.current, 'active');
  await conversation.join();
  assert.equal(await conversation.sendMessage('hello', { edgechat_local_id: 1 }), 0);

  const seen = [];
  conversation.on('messageAdded', (m) => seen.push(m));
  await emu.client().conversations.v1.conversations(conversation.sid).messages.create({ author: 'agent:bob', body: 'Hi!' });
  const deadline = Date.now() + 5000;
  while (!seen.some((m) => m.index === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const message = seen.find((m) => m.index === 1);
  assert.ok(message, `the agent's message arrived live: ${JSON.stringify(seen.map((m) => m.index))}`);
  assert.equal(message.body, 'Hi!');
  assert.equal(message.author, 'agent:bob');
  assert.ok(message.dateCreated instanceof Date);

  for (let i = 0; i < 40; i++) await emu.client().conversations.v1.conversations(conversation.sid).messages.create({ author: 'bot', body: `m${i}` });
  const newest = await conversation.getMessages(30);
  assert.deepEqual(newest.items.map((m) => m.index), [...Array(30).keys()].map((i) => i + 12));
  assert.equal(newest.hasPrevPage, true);
  const older = await newest.prevPage();
  assert.deepEqual(older.items.map((m) => m.index), [...Array(12).keys()]);
  assert.equal(older.hasPrevPage, false);

  assert.equal(await conversation.getUnreadMessagesCount(), null, 'no read horizon yet');
  assert.equal(await conversation.setAllMessagesRead(), 41);
  assert.equal(await conversation.getUnreadMessagesCount(), 0);

  const again = await visitor.getConversationBySid(conversation.sid);
  assert.equal(again, conversation, 'one object per conversation');
});

test('typing from another participant: typingStarted, then typingEnded when their message arrives', async () => {
  await emu.reset();
  const visitor = client(token('visitor:acme:8'));
  await once(visitor, 'initialized');
  const conversation = await visitor.createConversation();
  await conversation.join();
  await emu.client().conversations.v1.conversations(conversation.sid).participants.create({ identity: 'agent:bob' });
  const agent = client(token('agent:bob'));
  await once(agent, 'initialized');
  const agentView = await agent.getConversationBySid(conversation.sid);
  const started = once(conversation, 'typingStarted');
  await agentView.typing();
  const [participant] = await started;
  assert.equal(participant.identity, 'agent:bob');
  const ended = once(conversation, 'typingEnded');
  await agentView.sendMessage('here is the answer');
  assert.equal((await ended)[0].identity, 'agent:bob');
});

test('a stale conversation is rejected; a closed one says so', async () => {
  await emu.reset();
  const visitor = client(token('visitor:acme:9'));
  await once(visitor, 'initialized');
  await assert.rejects(visitor.getConversationBySid('CH' + '0'.repeat(32)), { status: 404 });
  const conversation = await visitor.createConversation();
  await conversation.join();
  const updated = once(conversation, 'updated');
  await emu.client().conversations.v1.conversations(conversation.sid).update({ state: 'closed' });
  await updated;
  assert.equal(conversation.state.current, 'closed');
});

test('token expiry: tokenAboutToExpire and tokenExpired, then updateToken keeps the session', async () => {
  await emu.reset();
  const visitor = client(token('visitor:acme:10', 3));
  await once(visitor, 'initialized');
  const conversation = await visitor.createConversation();
  await once(visitor, 'tokenAboutToExpire');
  await once(visitor, 'tokenExpired');
  await assert.rejects(conversation.join(), { status: 401 });
  await visitor.updateToken(token('visitor:acme:10'));
  await conversation.join();
  assert.equal(await conversation.sendMessage('still here'), 0);
});

test('a token the emulator refuses: initFailed and connectionState denied', async () => {
  const bad = client(token('visitor:acme:11', -10));
  const [{ error }] = await once(bad, 'initFailed');
  assert.equal(error.status, 401);
  assert.equal(bad.connectionState, 'denied');
});
