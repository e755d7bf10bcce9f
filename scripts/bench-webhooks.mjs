// `npm run bench` (second part): how long the Worker takes to handle Twilio's webhooks, measured
// by the local emulator as the time from sending a signed event to the Worker's answer (loopback,
// wrangler dev), and how many REST calls each event costs. Sequential, bounded in count.
// Usage: node scripts/bench-webhooks.mjs [events per kind, default 100]
import { startWorker, testSecrets } from '../tests/support/worker.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { markdownTable } from './lib/table.mjs';

const count = Math.min(Number(process.argv[2] ?? 100), 1000);
const SERVICE = 'IS' + '1'.repeat(32);
const ORIGIN = 'https://bench.test';
const site = (automation) => JSON.stringify({ allowed_origins: [ORIGIN], service_sid: SERVICE, automation });
const secrets = testSecrets();

const emu = await startEmulator({ secrets, services: [SERVICE] });
const worker = await startWorker({
  secrets: { ...secrets, TWILIO_API_BASE: emu.url },
  sites: {
    studio: site({ studio: { flow_sid: 'FW' + '3'.repeat(32) } }),
    bot: site({ webhook: { url: 'https://bot.example.com/hook' } }),
    none: site('none'),
    auto: site({ auto_reply: { greeting: 'Hello!', rules: [{ keywords: ['price'], reply: 'Free.' }] } }),
  },
});

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function token(siteId) {
  const res = await fetch(`${worker.url}/api/sites/${siteId}/token`, {
    method: 'POST', headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'CF-Connecting-IP': `10.0.${Math.random() * 255 | 0}.${Math.random() * 255 | 0}` }, body: '{}',
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

async function measure(label, siteId, eventType, act) {
  await emu.reset();
  const sdk = emu.sdk(await token(siteId));
  for (let i = 0; i < count; i++) {
    await act(sdk, i);
    await emu.settled({ ms: 30_000 });
  }
  const deliveries = (await emu.deliveries()).filter((d) => d.event_type === eventType && d.target === 'service');
  const failed = deliveries.filter((d) => d.status !== 'delivered').length;
  const visitorEvents = deliveries.filter((d) => Object.fromEntries(d.params).ClientIdentity);
  const ms = visitorEvents.map((d) => d.ms).sort((a, b) => a - b);
  const calls = (await emu.requests()).filter((r) => r.auth_user === secrets.TWILIO_API_KEY_SID).length;
  return {
    label, events: ms.length, failed,
    median_ms: quantile(ms, 0.5), p99_ms: quantile(ms, 0.99), max_ms: ms.at(-1),
    rest_calls_per_event: +(calls / ms.length).toFixed(2),
  };
}

const results = [];
let routeCost = [];
try {
  await emu.client().conversations.v1.services(SERVICE).configuration.webhooks()
    .update({ postWebhookUrl: `${worker.url}/webhooks/conversations`, filters: ['onConversationAdded', 'onMessageAdded'] });
  const newConversation = (sdk) => sdk.createConversation({});
  results.push(await measure('onConversationAdded, studio', 'studio', 'onConversationAdded', newConversation));
  results.push(await measure('onConversationAdded, bot webhook', 'bot', 'onConversationAdded', newConversation));
  results.push(await measure('onConversationAdded, none (no Durable Object)', 'none', 'onConversationAdded', newConversation));
  // What the conversation's Durable Object adds: a redelivery the object answers from its own
  // storage (already attached, no REST call), against 'none' above (answered without an object).
  {
    await emu.reset();
    const sdk = emu.sdk(await token('studio'));
    for (let i = 0; i < count; i++) await sdk.createConversation({});
    await emu.settled({ ms: 30_000 });
    const originals = (await emu.deliveries()).filter((d) => d.event_type === 'onConversationAdded' && d.target === 'service');
    const workerCalls = async () => (await emu.requests()).filter((r) => r.auth_user === secrets.TWILIO_API_KEY_SID).length;
    const callsBefore = await workerCalls();
    const ids = new Set();
    for (const d of originals) {
      ids.add(await emu.redeliver(d.id));
      await emu.settled({ ms: 30_000 });
    }
    const redelivered = (await emu.deliveries()).filter((d) => ids.has(d.id));
    const ms = redelivered.map((d) => d.ms).sort((a, b) => a - b);
    results.push({ label: 'onConversationAdded redelivered, studio (the object answers from its storage)', events: ms.length,
      failed: redelivered.filter((d) => d.status !== 'delivered').length,
      median_ms: quantile(ms, 0.5), p99_ms: quantile(ms, 0.99), max_ms: ms.at(-1),
      rest_calls_per_event: +(((await workerCalls()) - callsBefore) / ms.length).toFixed(2) });
  }
  let conversation;
  results.push(await measure('onMessageAdded, auto_reply', 'auto', 'onMessageAdded', async (sdk, i) => {
    if (i === 0) {
      conversation = await sdk.createConversation({});
      await sdk.join(conversation.sid);
    }
    await sdk.send(conversation.sid, i % 2 ? 'what is the price?' : 'hello');
  }));
  routeCost = await largestBodies();
} finally {
  worker.stop();
  emu.stop();
}

/**
 * What the route costs for the largest bodies it takes (300 parameters filling its 64 KiB, an
 * event type it ignores so that only the route's own work is timed), signed and with a bad
 * signature, and the 12,000-key body it refuses before any signing work: medians of 20.
 */
async function largestBodies() {
  const { createRequire } = await import('node:module');
  const twilio = createRequire(import.meta.url)('twilio');
  const url = `${worker.url}/webhooks/conversations`;
  const params = { EventType: 'onUserUpdated', AccountSid: secrets.TWILIO_ACCOUNT_SID };
  const value = 'x'.repeat(Math.floor((64 * 1024 - 400) / 298) - 8);
  for (let i = 0; params && Object.keys(params).length < 300; i++) params[`P${i}`] = value;
  const body = new URLSearchParams(params).toString();
  const signed = twilio.getExpectedTwilioSignature(secrets.TWILIO_AUTH_TOKEN, url, params);
  const huge = Array.from({ length: 12_000 }, (_, i) => `${i.toString(36)}=`).join('&');
  const time = async (text, signature, expect) => {
    const ms = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature }, body: text });
      await res.arrayBuffer();
      ms.push(performance.now() - t0);
      if (res.status !== expect) throw new Error(`webhook cost: ${res.status}, expected ${expect}`);
    }
    ms.sort((a, b) => a - b);
    return +quantile(ms, 0.5).toFixed(2);
  };
  return [
    { body: `300 parameters, ${(body.length / 1024).toFixed(1)} KiB, signed`, status: 200, median_ms: await time(body, signed, 200) },
    { body: `the same, bad signature`, status: 403, median_ms: await time(body, 'A'.repeat(27) + '=', 403) },
    { body: `12,000 keys, ${(huge.length / 1024).toFixed(1)} KiB, unsigned (refused before signing)`, status: 400, median_ms: await time(huge, 'A'.repeat(27) + '=', 400) },
  ];
}

console.log(`\nWebhook handling, ${count} events per kind, sequential (emulator -> wrangler dev -> emulator, loopback)`);
markdownTable(results);
console.log('\nThe webhook route\'s own cost for the largest bodies (wrangler dev, loopback; medians of 20 requests)');
markdownTable(routeCost);
