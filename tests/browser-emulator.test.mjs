// In Debian's Chromium: the SDK stand-in loaded as a classic script from the emulator (as the
// widget will load it), chatting with an agent who answers from the emulator's console page by
// keyboard only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from './support/emulator.mjs';
import { testSecrets } from './support/worker.mjs';
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

test('a visitor chats through the stand-in in Chromium; the agent answers from the console by keyboard', async () => {
  const visitor = await browser.newPage();
  await visitor.setContent('<!doctype html><title>host page</title><p>A host page</p>');
  await visitor.addScriptTag({ url: `${emu.url}/sdk/twilio-conversations.js` });
  const sid = await visitor.evaluate(async (accessToken) => {
    const client = new window.Twilio.Conversations.Client(accessToken);
    await new Promise((resolve, reject) => { client.on('initialized', resolve); client.on('initFailed', reject); });
    const conversation = await client.createConversation({ attributes: { site: 'acme' } });
    await conversation.join();
    window.received = [];
    conversation.on('messageAdded', (m) => window.received.push({ author: m.author, body: m.body }));
    await conversation.sendMessage('Hello from Chromium');
    return conversation.sid;
  }, token('visitor:acme:browser'));
  assert.match(sid, /^CH[0-9a-f]{32}$/);

  const agent = await browser.newPage();
  await agent.goto(`${emu.url}/_emulator/console`);
  const conversationButton = agent.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /visitor:acme:browser/ });
  await conversationButton.waitFor();
  await conversationButton.focus();
  await agent.keyboard.press('Enter');
  const log = agent.getByRole('log', { name: 'Messages' });
  await log.getByText('Hello from Chromium').waitFor();
  const reply = agent.getByRole('textbox', { name: 'Reply' });
  await reply.focus();
  await agent.keyboard.type('Hi! An agent here.');
  await agent.keyboard.press('Shift+Enter');
  await agent.keyboard.type('How can I help?');
  await agent.keyboard.press('Enter');
  await log.getByText(/An agent here/).waitFor();
  assert.equal(await reply.inputValue(), '', 'the reply box is emptied after sending');

  await visitor.waitForFunction(() => window.received.some((m) => m.author === 'agent:console'), null, { timeout: 5000 });
  const received = await visitor.evaluate(() => window.received);
  assert.deepEqual(received.find((m) => m.author === 'agent:console'), { author: 'agent:console', body: 'Hi! An agent here.\nHow can I help?' });
});
