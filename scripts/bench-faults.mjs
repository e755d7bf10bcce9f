// `npm run bench` (load and fault part), against wrangler dev (with its Durable Objects) and the
// local Twilio emulator on loopback, every loop bounded in count and time:
//  1. sustained token requests from many addresses under their limits, then one address over its
//     limit: every 429 is a designed one (counted against what the limits allow);
//  2. N conversations, each message event delivered 5 times at once: bot replies counted (zero
//     duplicates expected);
//  3. a chat between two real SDK clients while one client's socket is dropped 100 times: every
//     message arrives once (replay after each reconnect), none lost, none doubled.
// Usage: node scripts/bench-faults.mjs [conversations, default 20] [drops, default 100]
import { startWorker, testSecrets } from '../tests/support/worker.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import twilio from 'twilio';
import { markdownTable } from './lib/table.mjs';

const conversations = Math.max(1, Math.min(200, Number(process.argv[2] ?? 20)));
const drops = Math.max(1, Math.min(500, Number(process.argv[3] ?? 100)));
const SERVICE = 'IS' + '4'.repeat(32);
const ORIGIN = 'https://bench.test';
const secrets = testSecrets();
const deadline = Date.now() + 10 * 60_000;
const inTime = () => Date.now() < deadline;

const emu = await startEmulator({ secrets, services: [SERVICE] });
const worker = await startWorker({
  secrets: { ...secrets, TWILIO_API_BASE: emu.url },
  sites: {
    // The site-wide limit on new visitors raised to its maximum: this run mints over a thousand
    // in a minute from many addresses, and measures the per-address limit.
    auto: JSON.stringify({ allowed_origins: [ORIGIN], service_sid: SERVICE, rate_limits: { site_new_visitors_per_minute: 3000 },
      automation: { auto_reply: { bot_name: 'Bot', greeting: 'Hello!', rules: [{ keywords: ['price'], reply: 'Free.' }] } } }),
  },
});
const hook = `${worker.url}/webhooks/conversations`;
const rows = [];

function token(ip, body = '{}') {
  return fetch(`${worker.url}/api/sites/auto/token`, {
    method: 'POST', headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'CF-Connecting-IP': ip }, body,
  });
}

function post(params) {
  const signature = twilio.getExpectedTwilioSignature(secrets.TWILIO_AUTH_TOKEN, hook, params);
  return fetch(hook, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
    body: new URLSearchParams(params).toString(),
  });
}

try {
  // 1. Tokens: 40 addresses x 25 new visitors (under 30 a minute each), interleaved, 10 at a time;
  // then one more address asks 40 times: 30 served, 10 refused.
  {
    const started = Date.now();
    const jobs = [];
    for (let round = 0; round < 25; round++) for (let a = 0; a < 40; a++) jobs.push(`203.0.113.${a + 1}`);
    const statuses = new Map();
    let next = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (next < jobs.length && inTime()) {
        const res = await token(jobs[next++]);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await res.arrayBuffer();
      }
    }));
    const seconds = (Date.now() - started) / 1000;
    const over = [];
    for (let i = 0; i < 40; i++) over.push((await token('198.51.100.250')).status);
    rows.push({ run: 'token requests under the limits', requests: jobs.length, ok: statuses.get(200) ?? 0,
      refused_429: statuses.get(429) ?? 0, designed_429: 0, per_second: Math.round(jobs.length / seconds) });
    rows.push({ run: 'one address asking 40 times (limit 30 a minute)', requests: 40, ok: over.filter((s) => s === 200).length,
      refused_429: over.filter((s) => s === 429).length, designed_429: 10 });
  }

  // 2. Concurrent deliveries: each conversation's message event 5 times at once.
  {
    const rest = emu.client().conversations.v1.services(SERVICE);
    const answers = [];
    const started = Date.now();
    let duplicates = 0;
    let missing = 0;
    for (let c = 0; c < conversations && inTime(); c++) {
      const minted = await token(`192.0.2.${(c % 250) + 1}`);
      if (!minted.ok) throw new Error(`a token for a new visitor: ${minted.status} ${await minted.text()}`);
      const { identity, token: t } = await minted.json();
      const sdk = emu.sdk(t);
      const conversation = await sdk.createConversation({});
      await sdk.join(conversation.sid);
      await sdk.send(conversation.sid, 'what is the price?');
      const params = {
        AccountSid: secrets.TWILIO_ACCOUNT_SID, EventType: 'onMessageAdded', Source: 'SDK', RetryCount: '0',
        ClientIdentity: identity, Author: identity, ConversationSid: conversation.sid, ChatServiceSid: SERVICE,
        Index: '0', Body: 'what is the price?',
      };
      const t0 = Date.now();
      const statuses = await Promise.all(Array.from({ length: 5 }, () => post(params).then((r) => r.status)));
      answers.push(Date.now() - t0);
      if (statuses.some((s) => s !== 200)) missing++;
      const bot = (await rest.conversations(conversation.sid).messages.list({ limit: 50 })).filter((m) => m.author === 'Bot');
      if (bot.length > 2) duplicates += bot.length - 2;
      if (bot.length < 2) missing += 2 - bot.length;
    }
    answers.sort((a, b) => a - b);
    rows.push({ run: `${answers.length} conversations x 5 concurrent deliveries of one message event`, requests: answers.length * 5,
      ok: answers.length * 5, refused_429: 0, bot_replies_expected: answers.length * 2, duplicates, missing,
      batch_median_ms: answers[Math.floor(answers.length / 2)], seconds: (Date.now() - started) / 1000 });
  }

  // 3. A chat through 100 dropped connections (the emulator's drop fault), with the real SDK.
  {
    await emu.reset();
    const alice = emu.sdkClient(emu.accessToken('alice'));
    const bob = emu.sdkClient(emu.accessToken('bob'));
    await Promise.all([alice.ready, bob.ready]);
    const conversation = await alice.createConversation({ friendlyName: 'drops' });
    await conversation.join();
    const joined = new Promise((resolve) => bob.on('conversationJoined', (c) => c.sid === conversation.sid && resolve(c)));
    await conversation.add('bob');
    const theirs = await joined;
    await theirs.getMessages(30);
    const received = [];
    theirs.on('messageAdded', (m) => received.push(m.index));
    const started = Date.now();
    let sent = 0;
    for (let i = 0; i < drops && inTime(); i++) {
      await emu.realtimeFault('drop', { identity: 'bob' });
      await conversation.sendMessage(`message ${i}`);
      sent++;
      const wait = Date.now() + 15_000;
      while (bob.connectionState !== 'connected' && Date.now() < wait) await new Promise((r) => setTimeout(r, 10));
    }
    const wait = Date.now() + 20_000;
    while (new Set(received).size < sent && Date.now() < wait) await new Promise((r) => setTimeout(r, 20));
    const unique = new Set(received);
    const page = await theirs.getMessages(100);
    rows.push({ run: `a chat through ${sent} dropped connections (real SDK, replay)`, requests: sent, ok: unique.size,
      refused_429: 0, lost: sent - unique.size, duplicates: received.length - unique.size,
      stored: page.items.length, seconds: (Date.now() - started) / 1000 });
  }
} finally {
  await emu.stop();
  worker.stop();
}

console.log('\nLoad and faults (wrangler dev with its Durable Objects, the emulator, loopback)');
markdownTable(rows);
