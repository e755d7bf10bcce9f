// `npm run deploy` on the local stack (--local: the secrets from an env file, the config in the
// local KV `wrangler dev` reads, Twilio's side on the emulator through the official `twilio`
// library): the dry run plans every change and makes none; the run makes them; a second run
// changes nothing and says so; a missing secret stops it with the line that sets it; an invalid
// config stops it before anything changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, testSecrets, ROOT } from './support/worker.mjs';
import { startEmulator } from './support/emulator.mjs';
import { runScript } from './support/script.mjs';

const SERVICE = 'IS' + 'd1'.repeat(16);
const secrets = testSecrets();
const dir = mkdtempSync(join(tmpdir(), 'edgechat-deploy-'));
const configFile = join(dir, 'shop.json');
writeFileSync(configFile, JSON.stringify({ allowed_origins: ['https://shop.test'], service_sid: SERVICE, greeting: 'Hello from the deploy' }, null, 2));
let emu;
let worker;

before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  worker = await startWorker({ secrets: { ...secrets, TWILIO_API_BASE: emu.url } });
});
after(() => {
  worker?.stop();
  emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const deploy = (extra = [], { envFile = worker.envFile, config = configFile } = {}) => runScript('deploy',
  ['--site', 'shop', '--config', config, '--base', worker.url, '--local', '--env-file', envFile, '--persist-to', worker.state, ...extra],
  { env: { TWILIO_ACCOUNT_SID: secrets.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: secrets.TWILIO_AUTH_TOKEN, TWILIO_API_BASE: emu.url }, ms: 300_000 });

const twilioSide = async () => {
  const client = emu.client();
  const hooks = await client.conversations.v1.services(SERVICE).configuration.webhooks().fetch();
  const chat = await client.chat.v2.services(SERVICE).fetch();
  return { url: hooks.postWebhookUrl, filters: hooks.filters, method: hooks.method, retries: chat.postWebhookRetryCount };
};
const storedConfig = () => {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['kv', 'key', 'get', 'site:shop', '--binding', 'CONFIG', '--local', '--persist-to', worker.state, '--text'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  try { return JSON.parse(r.stdout); } catch { return null; }
};

test('the dry run plans each change and makes none; the run makes them; a second run changes nothing', async () => {
  const before = await twilioSide();
  let { code, out } = await deploy(['--dry-run']);
  assert.equal(code, 0, out);
  assert.match(out, /^~ site config stored: site:shop would be stored$/m);
  assert.match(out, new RegExp(`^~ post-event webhook: would be ${worker.url}/webhooks/conversations, POST`, 'm'));
  assert.match(out, /^~ webhook retries: post-webhook retry count would be 1 \(was 0\)$/m);
  assert.match(out, /^~ visitor roles: would set role "edgechat visitor" \(service: editOwnMessage\)$/m);
  assert.match(out, /^~ visitor roles: would set role "edgechat visitor in a conversation" \(conversation: sendMessage, /m);
  assert.match(out, /^~ visitor roles: would set the visitor roles as the service's default roles/m);
  assert.match(out, /6 changes to make/);
  assert.deepEqual(await twilioSide(), before, 'Twilio unchanged');
  assert.equal(storedConfig(), null, 'nothing stored');

  ({ code, out } = await deploy());
  assert.equal(code, 0, out);
  assert.match(out, /6 changes made/);
  assert.match(out, /<script src="http:\/\/127\.0\.0\.1:\d+\/embed\.js" data-site="shop" async><\/script>/);
  const after = await twilioSide();
  assert.equal(after.url, `${worker.url}/webhooks/conversations`);
  assert.deepEqual([...after.filters].sort(), ['onConversationAdded', 'onMessageAdded']);
  assert.equal(after.retries, 1);
  const service = emu.client().conversations.v1.services(SERVICE);
  const defaults = await service.configuration().fetch();
  const role = await service.roles(defaults.defaultChatServiceRoleSid).fetch();
  assert.equal(role.friendlyName, 'edgechat visitor');
  assert.ok(!role.permissions.includes('createConversation') && !role.permissions.includes('joinConversation'));
  assert.equal((await service.roles(defaults.defaultConversationRoleSid).fetch()).friendlyName, 'edgechat visitor in a conversation');
  assert.equal(storedConfig().greeting, 'Hello from the deploy');
  const served = await (await fetch(`${worker.url}/api/sites/shop/config`)).json();
  assert.equal(served.greeting, 'Hello from the deploy', 'the Worker serves the stored config');

  ({ code, out } = await deploy());
  assert.equal(code, 0, out);
  assert.match(out, /Nothing to change: everything is as it should be/);
  assert.doesNotMatch(out, /^[~+] /m);
});

test('a missing secret stops it, naming the line that sets it; an invalid config stops it before anything changes', async () => {
  const envFile = join(dir, 'partial.env');
  writeFileSync(envFile, Object.entries(secrets).filter(([k]) => k !== 'VISITOR_SIGNING_SECRET').map(([k, v]) => `${k}=${v}\n`).join(''));
  let { code, out } = await deploy([], { envFile });
  assert.equal(code, 1, out);
  assert.match(out, /^✗ secrets: VISITOR_SIGNING_SECRET is not set$/m);
  assert.match(out, /fix: npx wrangler secret put VISITOR_SIGNING_SECRET/);
  for (const value of Object.values(secrets)) assert.ok(!out.includes(value));

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ allowed_origins: ['https://shop.test/'], service_sid: SERVICE }));
  ({ code, out } = await deploy([], { config: bad }));
  assert.equal(code, 1, out);
  assert.match(out, /^✗ site config: .*allowed_origins/m);
  assert.equal(storedConfig().greeting, 'Hello from the deploy', 'the stored config is left as it was');
});
