// In Debian's Chromium: the real SDK's browser bundle against the emulator, chatting with an agent
// who answers from the emulator's console page by keyboard only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from './support/emulator.mjs';
import { join } from 'node:path';
import { testSecrets, ROOT } from './support/worker.mjs';
import { launchBrowser } from './support/browser.mjs';

const secrets = testSecrets();
const SERVICE = 'IS' + '7'.repeat(32);
let emu;
let browser;

const token = (identity) => emu.accessToken(identity, { ttl: 600 });

before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  emu?.stop();
});

// The real SDK's browser bundle (the file the Worker vendors into public/vendor), unmodified, in
// Chromium: it initializes against the emulator's realtime endpoint, chats with an agent on the
// console and with a second browser client, and reconnects after a dropped socket.
const BUNDLE = join(ROOT, 'node_modules', '@twilio', 'conversations', 'builds', 'twilio-conversations.min.js');

async function realSdkPage(identity) {
  const page = await browser.newPage();
  // A secure context (loopback counts): the SDK calls crypto.randomUUID, which only secure
  // contexts have.
  await page.goto(`${emu.url}/_emulator/health`);
  await page.setContent(`<!doctype html><title>${identity}</title><p>A host page</p>`);
  await page.addScriptTag({ path: BUNDLE });
  await page.evaluate(async ({ accessToken, uri }) => {
    const client = new window.Twilio.Conversations.Client(accessToken, { Twilsock: { uri }, logLevel: 'silent' });
    await new Promise((resolve, reject) => {
      client.on('initialized', resolve);
      client.on('initFailed', ({ error }) => reject(new Error(String(error?.message ?? error))));
    });
    window.client = client;
    window.received = [];
    window.states = [];
    client.on('connectionStateChanged', (s) => window.states.push(s));
    client.on('messageAdded', (m) => window.received.push({ author: m.author, body: m.body, index: m.index }));
  }, { accessToken: token(identity), uri: emu.realtimeUri });
  return page;
}

test('the real SDK bundle chats in Chromium: with the console agent, with another browser, across a dropped socket', async () => {
  await emu.reset();
  const visitor = await realSdkPage('visitor:acme:real');
  const sid = await visitor.evaluate(async () => {
    const c = await window.client.createConversation({ attributes: { site: 'acme' } });
    await c.join();
    await c.getMessages(30);
    await c.sendMessage('Hello from the real SDK');
    return c.sid;
  });
  assert.match(sid, /^CH[0-9a-f]{32}$/);

  // The agent answers from the console, by keyboard only.
  const agent = await browser.newPage();
  await agent.goto(`${emu.url}/_emulator/console`);
  const conversationButton = agent.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /visitor:acme:real/ });
  await conversationButton.waitFor();
  await conversationButton.focus();
  await agent.keyboard.press('Enter');
  const agentLog = agent.getByRole('log', { name: 'Messages' });
  await agentLog.getByText('Hello from the real SDK').waitFor();
  const reply = agent.getByRole('textbox', { name: 'Reply' });
  await reply.focus();
  await agent.keyboard.type('An agent here.');
  await agent.keyboard.press('Shift+Enter');
  await agent.keyboard.type('How can I help?');
  await agent.keyboard.press('Enter');
  await agentLog.getByText(/An agent here/).waitFor();
  assert.equal(await reply.inputValue(), '', 'the reply box is emptied after sending');
  await visitor.waitForFunction(() => window.received.some((m) => m.author === 'agent:console'), null, { timeout: 5000 });
  assert.deepEqual((await visitor.evaluate(() => window.received)).find((m) => m.author === 'agent:console')?.body,
    'An agent here.\nHow can I help?');

  // A second browser client joins, reads the history, and both hear each other live.
  const friend = await realSdkPage('visitor:acme:friend');
  await visitor.evaluate((s) => window.client.getConversationBySid(s).then((c) => c.add('visitor:acme:friend')), sid);
  await friend.evaluate(async (s) => {
    const c = await window.client.getConversationBySid(s);
    window.friendSaw = (await c.getMessages(30)).items.map((m) => m.body);
    await c.sendMessage('hi from the friend');
  }, sid);
  assert.deepEqual(await friend.evaluate(() => window.friendSaw), ['Hello from the real SDK', 'An agent here.\nHow can I help?']);
  await visitor.waitForFunction(() => window.received.some((m) => m.body === 'hi from the friend'), null, { timeout: 5000 });

  // The visitor's socket drops; what the friend writes meanwhile arrives once, after reconnecting.
  await emu.realtimeFault('refuse', { identity: 'visitor:acme:real', ms: 1000 });
  await emu.realtimeFault('drop', { identity: 'visitor:acme:real' });
  await visitor.waitForFunction(() => window.states.includes('connecting'), null, { timeout: 5000 });
  await friend.evaluate((s) => window.client.getConversationBySid(s).then((c) => c.sendMessage('while you were away')), sid);
  await visitor.waitForFunction(() => window.received.some((m) => m.body === 'while you were away'), null, { timeout: 15_000 });
  const received = await visitor.evaluate(() => window.received.map((m) => m.index));
  assert.deepEqual(received, [...new Set(received)], 'no message twice');
  assert.equal(await visitor.evaluate(() => window.client.connectionState), 'connected');
  assert.deepEqual((await emu.realtimeReport()).unknown, []);
  for (const page of [visitor, friend]) await page.evaluate(() => window.client.shutdown());
});
