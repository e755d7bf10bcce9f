// A Worker deployed with a secret missing or malformed answers 503 naming the variable (never its
// value) and signs nothing (a webhook: 500, which Twilio does not retry); routes that need no
// secret keep working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startWorker, testSecrets } from './support/worker.mjs';

const twilio = createRequire(import.meta.url)('twilio');

const SITE = JSON.stringify({ allowed_origins: ['https://shop.test'], service_sid: 'IS66666666666666666666666666666666' });
const missing = testSecrets();
delete missing.VISITOR_SIGNING_SECRET;
const malformed = { ...testSecrets(), TWILIO_ACCOUNT_SID: 'SK-this-is-not-an-account', VISITOR_SIGNING_SECRET: 'tooShort-7f3a9c' };

let workers;
before(async () => {
  workers = await Promise.all([startWorker({ secrets: missing, sites: { shop: SITE } }), startWorker({ secrets: malformed, sites: { shop: SITE } })]);
});
after(() => workers?.forEach((w) => w.stop()));

const requestToken = (worker) => fetch(`${worker.url}/api/sites/shop/token`, {
  method: 'POST', headers: { Origin: 'https://shop.test', 'Content-Type': 'application/json' }, body: '{}',
});

test('a missing secret is a 503 naming it', async () => {
  const res = await requestToken(workers[0]);
  assert.equal(res.status, 503);
  const { error } = await res.json();
  assert.equal(error.code, 'missing_secret');
  assert.match(error.message, /VISITOR_SIGNING_SECRET/);
  assert.match(error.message, /wrangler secret put VISITOR_SIGNING_SECRET/);
  for (const value of Object.values(missing)) assert.ok(!error.message.includes(value));
});

test('a malformed secret is a 503 naming it, not its value', async () => {
  const res = await requestToken(workers[1]);
  assert.equal(res.status, 503);
  const text = await res.text();
  const { error } = JSON.parse(text);
  assert.equal(error.code, 'invalid_secret');
  assert.match(error.message, /TWILIO_ACCOUNT_SID/);
  assert.ok(!text.includes('SK-this-is-not-an-account'));
  assert.ok(!text.includes(malformed.TWILIO_API_KEY_SECRET));
});

test('routes without secrets still work', async () => {
  for (const worker of workers) {
    assert.equal((await fetch(`${worker.url}/health`)).status, 200);
    assert.equal((await fetch(`${worker.url}/api/sites/shop/config`)).status, 200);
  }
});

test('the logs never carry the secrets that are set', () => {
  for (const [worker, secrets] of [[workers[0], missing], [workers[1], malformed]]) {
    for (const value of Object.values(secrets)) assert.ok(!worker.logs().includes(value));
  }
});

test('a webhook to a Worker set up wrong: an unsigned caller learns nothing; a signed one is told what to fix', async () => {
  const url = `${workers[1].url}/webhooks/conversations`;
  const body = 'EventType=onMessageAdded';
  const send = (signature) => fetch(url, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature }, body,
  });
  const unsigned = await send('A'.repeat(27) + '=');
  assert.equal(unsigned.status, 403);
  const said = await unsigned.text();
  assert.equal(JSON.parse(said).error.code, 'invalid_signature');
  // The same words as any bad signature's: nothing about this Worker's secrets.
  assert.ok(!/ACCOUNT_SID|VISITOR_|API_KEY|unusable|not set|missing|invalid_secret/i.test(said), said);
  const signed = twilio.getExpectedTwilioSignature(malformed.TWILIO_AUTH_TOKEN, url, { EventType: 'onMessageAdded' });
  const res = await send(signed);
  assert.equal(res.status, 500);
  const text = await res.text();
  const { error } = JSON.parse(text);
  assert.equal(error.code, 'webhook_misconfigured');
  assert.match(error.message, /^invalid_secret: .*TWILIO_ACCOUNT_SID/);
  assert.ok(!text.includes('SK-this-is-not-an-account'));
});

test('without an auth token, a webhook is refused without naming it (the log does)', async () => {
  const noToken = await startWorker({ secrets: { ...testSecrets(), TWILIO_AUTH_TOKEN: '' }, sites: { shop: SITE } });
  try {
    const res = await fetch(`${noToken.url}/webhooks/conversations`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': 'A'.repeat(27) + '=' },
      body: 'EventType=onMessageAdded',
    });
    const text = await res.text();
    assert.equal(res.status, 500);
    assert.equal(JSON.parse(text).error.code, 'webhook_misconfigured');
    assert.ok(!/TWILIO_AUTH_TOKEN/.test(text), text);
    await noToken.waitForLog(/TWILIO_AUTH_TOKEN/);
  } finally {
    noToken.stop();
  }
});
