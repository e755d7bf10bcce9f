// Webhook events are not lost when the Worker's own parts fail, each tried through a real
// `wrangler dev` with a fault switch (the Worker var EDGECHAT_TEST_FAULTS, set only here) and the
// emulator delivering as Twilio does, with the service's post-webhook retry count at 1 (as
// `npm run deploy` sets it): the conversation's Durable Object unreachable from the route (503,
// redelivered), the site's config unreadable in the route (503, redelivered) and in the object
// (kept, finished by its alarm), and the object dying after a reply went out and before it
// recorded it (503, redelivered; the reply is found, not sent again). Each ends with exactly one
// greeting and one answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, testSecrets } from './support/worker.mjs';
import { startEmulator } from './support/emulator.mjs';
import { until } from './support/wait.mjs';

const SERVICE = 'IS' + '5a'.repeat(16);
const ORIGIN = 'https://shop.test';
const secrets = testSecrets();
const SITE = JSON.stringify({
  allowed_origins: [ORIGIN], service_sid: SERVICE,
  automation: { auto_reply: { bot_name: 'Shop bot', greeting: 'Hello!', rules: [{ keywords: ['price'], reply: 'It is free.' }] } },
});
const emu = await startEmulator({ secrets, services: [SERVICE] });
const workers = [];
after(async () => {
  for (const w of workers) w.stop();
  await emu.stop();
});

/** A Worker whose `faults` fire (each as many times as it says), the service's webhook on it. */
async function faulty(faults) {
  const worker = await startWorker({ secrets: { ...secrets, TWILIO_API_BASE: emu.url, EDGECHAT_TEST_FAULTS: faults }, sites: { shop: SITE } });
  workers.push(worker);
  const service = emu.client().conversations.v1.services(SERVICE);
  await service.configuration.webhooks().update({ postWebhookUrl: `${worker.url}/webhooks/conversations`, filters: ['onConversationAdded', 'onMessageAdded'], method: 'POST' });
  await emu.client().chat.v2.services(SERVICE).update({ postWebhookRetryCount: 1 });
  return worker;
}

/** A visitor (the emulator's default roles: the SDK creates, joins and sends) says `body`. */
async function visitorSays(worker, body) {
  const res = await fetch(`${worker.url}/api/sites/shop/token`, { method: 'POST', headers: { Origin: ORIGIN, 'Content-Type': 'application/json' }, body: '{}' });
  const { token } = await res.json();
  const sdk = emu.sdk(token);
  const conversation = await sdk.createConversation({});
  await sdk.join(conversation.sid);
  await sdk.send(conversation.sid, body);
  return { sid: conversation.sid, sdk };
}
const botSaid = async (sid) => (await emu.client().conversations.v1.services(SERVICE).conversations(sid).messages.list())
  .filter((m) => m.author === 'Shop bot').map((m) => m.body);
/** What Twilio got for each service delivery of the visitor's events, by event, in order. */
const answers = async () => {
  const byEvent = {};
  for (const d of await emu.deliveries()) {
    if (d.target !== 'service' || !Object.fromEntries(d.params).ClientIdentity) continue;
    (byEvent[d.event_type] ||= []).push(d.http_status);
  }
  return byEvent;
};

// What Twilio gets: 503, then 200 for the redelivery, for the event the fault hit (the route's
// KV read fails on the first event it reads the config for, the new conversation's).
for (const [fault, what, expected] of [
  ['object_unreachable:1', "the conversation's Durable Object unreachable", { onConversationAdded: [200], onMessageAdded: [503, 200] }],
  ['kv_read_route:1', "the site's config unreadable in the route", { onConversationAdded: [503, 200], onMessageAdded: [200] }],
  ['crash_after_reply:1', 'the object dying after a reply, before recording it', { onConversationAdded: [200], onMessageAdded: [503, 200] }],
  ['kv_read_object:1', "the site's config unreadable in the object (its alarm finishes it)", { onConversationAdded: [200], onMessageAdded: [200] }],
]) {
  test(`${what}: 503 where a redelivery is needed, and exactly one greeting and one answer`, async () => {
    await emu.reset();
    const worker = await faulty(fault);
    const { sid } = await visitorSays(worker, 'what is the price?');
    await until(async () => (await botSaid(sid)).length >= 2, 'the greeting and the answer', 20_000);
    await emu.settled();
    // A moment more: a duplicate would come from the alarm (5 s after the event at most).
    await new Promise((r) => setTimeout(r, 6_000));
    assert.deepEqual(await botSaid(sid), ['Hello!', 'It is free.']);
    assert.deepEqual(await answers(), expected);
    if (fault.startsWith('kv_read_object')) await worker.waitForLog(/alarm try 1: finished/);
    const held = [...worker.logs().matchAll(/holds (\d+) events/g)].map((m) => Number(m[1]));
    console.log(`# ${fault}: the object held at most ${Math.max(1, ...held)} event(s)`);
  });
}
