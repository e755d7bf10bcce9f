// `npm run doctor`: against real `wrangler dev` Workers and the local Twilio emulator (whose
// service, webhook configuration and signature checks the official `twilio` library drives), a
// healthy stack passes every check, and each planted fault is found with its fix: a missing
// secret, an origin the site does not allow, a service posting its events elsewhere, and a Worker
// whose auth token is not the account's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, testSecrets } from './support/worker.mjs';
import { startEmulator } from './support/emulator.mjs';
import { runScript } from './support/script.mjs';

const SERVICE = 'IS' + 'd0'.repeat(16);
const SITE = JSON.stringify({ allowed_origins: ['https://shop.test'], service_sid: SERVICE });
// A site whose service is not in the account.
const STRAY = JSON.stringify({ allowed_origins: ['https://shop.test'], service_sid: 'IS' + 'ee'.repeat(16) });
const secrets = testSecrets();
let emu;
let healthy;
let wrongToken;
let missingSecret;

before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  const api = { ...secrets, TWILIO_API_BASE: emu.url };
  const noSigning = { ...api };
  delete noSigning.VISITOR_SIGNING_SECRET;
  [healthy, wrongToken, missingSecret] = await Promise.all([
    startWorker({ secrets: api, sites: { shop: SITE, stray: STRAY } }),
    startWorker({ secrets: { ...api, TWILIO_AUTH_TOKEN: 'f'.repeat(32) }, sites: { shop: SITE } }),
    startWorker({ secrets: noSigning, sites: { shop: SITE } }),
  ]);
});
after(() => {
  for (const w of [healthy, wrongToken, missingSecret]) w?.stop();
  emu?.stop();
});

/** Points the service's post-event webhook at `url` (as the deploy step or the console would). */
const pointWebhook = (url, filters = ['onConversationAdded', 'onMessageAdded']) => emu.client().conversations.v1
  .services(SERVICE).configuration.webhooks().update({ postWebhookUrl: url, method: 'POST', filters });

/** Runs the doctor (its own process, the account's credentials in its environment only). */
const doctor = (worker, { origin = 'https://shop.test', site = 'shop' } = {}) => runScript('doctor',
  ['--base', worker.url, '--site', site, '--origin', origin],
  // Run from / (no .dev.vars there): the environment is all it has.
  { cwd: '/', env: { TWILIO_ACCOUNT_SID: secrets.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: secrets.TWILIO_AUTH_TOKEN, TWILIO_API_BASE: emu.url } });

const line = (out, name) => out.split('\n').find((l) => l.slice(2).startsWith(`${name}:`)) || '';

test('a service whose defaults let visitors create and join is found, with its fix', async () => {
  await pointWebhook(`${healthy.url}/webhooks/conversations`);
  const { code, out } = await doctor(healthy);
  assert.equal(code, 1, out);
  const roles = line(out, 'visitor roles');
  assert.ok(roles.startsWith('✗'), out);
  assert.match(roles, /createConversation/);
  assert.match(roles, /joinConversation/);
  assert.match(out, /fix: npm run deploy/);
});

test('a healthy stack passes every check, and the report carries no secret', async () => {
  await pointWebhook(`${healthy.url}/webhooks/conversations`);
  await emu.leastPrivilege();
  const { code, out } = await doctor(healthy);
  assert.equal(code, 0, out);
  for (const name of ['health', 'site config', 'token', 'Twilio service', 'post-event webhook', 'visitor roles', 'signed webhook', 'widget files']) {
    assert.ok(line(out, name).startsWith('✓'), `${name}:\n${out}`);
  }
  assert.match(out, /All checks passed/);
  for (const value of Object.values(secrets)) {
    if (value !== secrets.TWILIO_ACCOUNT_SID) assert.ok(!out.includes(value), 'no secret printed');
  }
});

test('an origin the site does not allow: found, with the line to add', async () => {
  await pointWebhook(`${healthy.url}/webhooks/conversations`);
  const { code, out } = await doctor(healthy, { origin: 'https://elsewhere.test' });
  assert.equal(code, 1, out);
  assert.ok(line(out, 'site config').startsWith('✗'), out);
  assert.match(out, /add "https:\/\/elsewhere\.test" to the site config's allowed_origins/);
});

test('a service that posts its events elsewhere, or without the message filter: found, with the update that fixes it', async () => {
  await pointWebhook('https://old-worker.example.com/webhooks/conversations');
  let { code, out } = await doctor(healthy);
  assert.equal(code, 1, out);
  assert.match(line(out, 'post-event webhook'), /^✗ .*old-worker\.example\.com/);
  assert.match(out, new RegExp(`fix: client\\.conversations\\.v1\\.services\\('${SERVICE}'\\)\\.configuration\\.webhooks\\(\\)\\.update\\(\\{ postWebhookUrl: '${healthy.url}/webhooks/conversations'`));
  await pointWebhook(`${healthy.url}/webhooks/conversations`, ['onConversationAdded']);
  ({ code, out } = await doctor(healthy));
  assert.equal(code, 1, out);
  assert.match(line(out, 'post-event webhook'), /^✗ .*missing onMessageAdded/);
  await pointWebhook(`${healthy.url}/webhooks/conversations`);
});

test('a Worker whose TWILIO_AUTH_TOKEN is not the account\'s: the signed webhook is refused, and the doctor says which secret', async () => {
  await pointWebhook(`${wrongToken.url}/webhooks/conversations`);
  const { code, out } = await doctor(wrongToken);
  assert.equal(code, 1, out);
  assert.match(line(out, 'signed webhook'), /^✗ signed webhook: 403 invalid_signature/);
  assert.match(out, /fix: the Worker's TWILIO_AUTH_TOKEN is not this account's auth token: npx wrangler secret put TWILIO_AUTH_TOKEN/);
  assert.ok(line(out, 'token').startsWith('✓'), 'the rest works');
});

test('a Worker missing a secret: the token check names it and the command that sets it', async () => {
  const { code, out } = await doctor(missingSecret);
  assert.equal(code, 1, out);
  assert.match(line(out, 'token'), /^✗ token: 503 missing_secret/);
  assert.match(out, /fix: npx wrangler secret put VISITOR_SIGNING_SECRET/);
  assert.match(line(out, 'Twilio service'), /^- Twilio service: skipped/);
});

test('a site id that is not set up, and a Worker that does not answer', async () => {
  let { code, out } = await doctor(healthy, { site: 'nosuchsite' });
  assert.equal(code, 1, out);
  assert.match(out, /fix: store it: npm run site-config -- put nosuchsite <config\.json>/);
  ({ code, out } = await doctor({ url: 'http://127.0.0.1:9' }));
  assert.equal(code, 1, out);
  assert.match(line(out, 'health'), /^✗ health: no answer from http:\/\/127\.0\.0\.1:9\//);
});

test('a site whose service is not in the account: found, naming the service', async () => {
  const { code, out } = await doctor(healthy, { site: 'stray' });
  assert.equal(code, 1, out);
  assert.match(line(out, 'Twilio service'), /^✗ Twilio service: 404/);
  assert.match(out, /fix: the site config's service_sid ISe{32} is not in this account/);
});
