// `npm run deploy -- --site <id> --config <file> --base <worker url> [--dry-run]`: from a Twilio
// account to a live widget in one command. In order, stopping at the first step that cannot go on:
//   1. every Worker secret the Worker needs is set (each missing one named, with its
//      `wrangler secret put` line);
//   2. the site config passes the Worker's own validation (`npm run site-config -- check`);
//   3. `wrangler deploy` (its own `--dry-run` with --dry-run);
//   4. the site config is stored as site:<id> unless it is already exactly that;
//   5. Twilio, through the official `twilio` library: the config's service is in the account, its
//      post-event webhook is the Worker's URL with the filters the Worker needs (POST), its
//      post-webhook retry count is 1, and visitors get least privilege (two roles of ours, the
//      service's defaults for new users and participants: scripts/lib/visitor-roles.mjs);
// then prints the snippet to paste. The Worker's URL is the one `wrangler deploy` reports (or
// --base, which wins; --local: http://127.0.0.1:8787/). Idempotent: what is already as it should be is left alone and
// reported as unchanged. --dry-run prints the plan and changes nothing.
//
// The account's credentials come from the environment (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN;
// TWILIO_API_BASE for the local emulator). --local works on the local stack instead of
// Cloudflare: the secrets are read from --env-file (default .dev.vars), the config is stored in
// local KV (--persist-to, as `wrangler dev` was given), and there is nothing to deploy.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accountClient } from './lib/twilio-account.mjs';
import { planVisitorRoles, applyVisitorRoles } from './lib/visitor-roles.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
const SECRETS = ['TWILIO_ACCOUNT_SID', 'TWILIO_API_KEY_SID', 'TWILIO_API_KEY_SECRET', 'TWILIO_AUTH_TOKEN', 'VISITOR_SIGNING_SECRET'];
const FILTERS = ['onConversationAdded', 'onMessageAdded'];
const RETRY_COUNT = 1;

function usage(message) {
  console.error(`deploy: ${message}\nusage: npm run deploy -- --site <id> --config <file> [--base <worker url>] [--dry-run] [--local [--env-file F] [--persist-to DIR]]`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      site: { type: 'string' }, config: { type: 'string' }, base: { type: 'string' }, 'dry-run': { type: 'boolean' },
      local: { type: 'boolean' }, 'env-file': { type: 'string' }, 'persist-to': { type: 'string' },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
for (const name of ['site', 'config']) if (!args[name]) usage(`--${name} is required`);
const dry = !!args['dry-run'];
let base;
try {
  base = args.base ? new URL(args.base).href : args.local ? 'http://127.0.0.1:8787/' : undefined;
} catch {
  usage(`--base ${args.base} is not a URL`);
}
/** The Worker's URL in `wrangler deploy`'s report: its workers.dev address, or a route's. */
const reportedUrl = (text) => /https:\/\/[a-z0-9.-]+\.workers\.dev\b/i.exec(text)?.[0]
  ?? /^\s+(https:\/\/\S+)\s*$/m.exec(text)?.[1];
const wrangler = (argv, opts = {}) => spawnSync(WRANGLER, argv, {
  cwd: ROOT, encoding: 'utf8', timeout: 300_000,
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_UPDATE_NOTIFIER: '1', FORCE_COLOR: '0' }, ...opts,
});
const where = args.local ? ['--local', ...(args['persist-to'] ? ['--persist-to', args['persist-to']] : [])] : ['--remote'];

let changes = 0;
const step = (ok, name, detail) => console.log(`${ok === 'change' ? (dry ? '~' : '+') : ok ? '✓' : '✗'} ${name}: ${detail}`);
const fail = (name, detail, fix) => {
  step(false, name, detail);
  if (fix) console.log(`    fix: ${fix}`);
  process.exit(1);
};
console.log(dry ? 'Plan (--dry-run: nothing changes)\n' : 'Deploy\n');

// 1. Secrets.
let names;
if (args.local) {
  const file = args['env-file'] || join(ROOT, '.dev.vars');
  if (!existsSync(file)) fail('secrets', `${file} does not exist`, 'npm start generates a local one');
  names = readFileSync(file, 'utf8').split('\n').map((l) => /^([A-Z_]+)=./.exec(l.trim())?.[1]).filter(Boolean);
} else {
  const listed = wrangler(['secret', 'list', '--format', 'json']);
  if (listed.status !== 0) fail('secrets', `wrangler secret list failed: ${(listed.stderr || listed.stdout).trim().split('\n').pop()}`, 'npx wrangler login');
  names = JSON.parse(listed.stdout).map((s) => s.name);
}
const missing = SECRETS.filter((s) => !names.includes(s));
if (missing.length) {
  step(false, 'secrets', `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set`);
  for (const name of missing) console.log(`    fix: npx wrangler secret put ${name}${args.local ? ' (locally: add it to the env file)' : ''}`);
  process.exit(1);
}
step(true, 'secrets', `all ${SECRETS.length} set`);

// 2. The site config, with the Worker's own validation.
const check = spawnSync('bash', [join(ROOT, 'scripts', 'site-config.sh'), 'check', args.config], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
if (check.status !== 0) fail('site config', (check.stderr || check.stdout).trim().split('\n').pop(), `fix ${args.config}, then run this again`);
const text = readFileSync(args.config, 'utf8');
const config = JSON.parse(text);
step(true, 'site config', `${args.config} is valid`);

// 3. The Worker.
if (args.local) {
  step(true, 'Worker', 'local: wrangler dev serves the build (nothing to deploy)');
} else {
  const deployed = wrangler(dry ? ['deploy', '--dry-run'] : ['deploy'], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (deployed.status !== 0) fail('Worker', `wrangler deploy failed: ${(deployed.stderr || deployed.stdout).trim().split('\n').pop()}`);
  if (!base && !dry) {
    const reported = reportedUrl(deployed.stdout);
    if (!reported) fail('Worker', 'deployed, but wrangler deploy reported no URL', 'pass the Worker\'s URL as --base https://…');
    base = new URL(reported).href;
  }
  step(dry ? 'change' : true, 'Worker', dry ? 'wrangler deploy --dry-run built it; it would be uploaded' : 'deployed');
  if (!dry) changes++;
}

// 4. The site config in KV, unless it is already that.
const stored = wrangler(['kv', 'key', 'get', `site:${args.site}`, '--binding', 'CONFIG', ...where, '--text']);
let current;
try { current = JSON.parse(stored.stdout); } catch { current = undefined; }
if (current !== undefined && JSON.stringify(current) === JSON.stringify(config)) {
  step(true, 'site config stored', `site:${args.site} is already this config`);
} else {
  changes++;
  if (!dry) {
    const put = wrangler(['kv', 'key', 'put', `site:${args.site}`, '--path', args.config, '--binding', 'CONFIG', ...where]);
    if (put.status !== 0) fail('site config stored', `wrangler kv key put failed: ${(put.stderr || put.stdout).trim().split('\n').pop()}`);
  }
  step('change', 'site config stored', `site:${args.site} ${dry ? 'would be' : 'is'} ${current === undefined ? 'stored' : 'replaced'}`);
}

// 5. Twilio.
const webhookUrl = base ? new URL('webhooks/conversations', base).href : '<the URL wrangler deploy reports>/webhooks/conversations';
const { TWILIO_ACCOUNT_SID: account, TWILIO_AUTH_TOKEN: token } = process.env;
if (!account || !token) fail('Twilio', 'no account credentials', 'set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in the environment (the account\'s, as in the Twilio console)');
const client = accountClient(process.env);
const service = config.service_sid;
try {
  await client.conversations.v1.services(service).fetch();
  step(true, 'Twilio service', `${service} is in account ${account}`);
} catch (e) {
  fail('Twilio service', `${e.status || ''} ${e.message}`.trim(),
    e.status === 404 ? `service_sid ${service} is not in this account: use one of its Conversations services` : 'check the credentials');
}
const hooks = client.conversations.v1.services(service).configuration.webhooks();
const now = await hooks.fetch();
const filtersOk = FILTERS.every((f) => (now.filters || []).includes(f));
if (now.postWebhookUrl === webhookUrl && filtersOk && (now.method || '').toUpperCase() === 'POST') {
  step(true, 'post-event webhook', `${webhookUrl}, POST, ${FILTERS.join(' and ')}`);
} else {
  changes++;
  const filters = [...new Set([...(now.filters || []), ...FILTERS])];
  if (!dry) await hooks.update({ postWebhookUrl: webhookUrl, method: 'POST', filters });
  // (A dry run without --base names the URL it does not know yet.)
  step('change', 'post-event webhook', `${dry ? 'would be' : 'is now'} ${webhookUrl}, POST, filters ${filters.join(', ')} (was ${now.postWebhookUrl || 'none'}, ${JSON.stringify(now.filters || [])})`);
}
const chat = client.chat.v2.services(service);
const retries = (await chat.fetch()).postWebhookRetryCount;
if (retries === RETRY_COUNT) {
  step(true, 'webhook retries', `Twilio retries a failed post-event webhook ${RETRY_COUNT} time`);
} else {
  changes++;
  if (!dry) await chat.update({ postWebhookRetryCount: RETRY_COUNT });
  step('change', 'webhook retries', `post-webhook retry count ${dry ? 'would be' : 'is now'} ${RETRY_COUNT} (was ${retries ?? 0})`);
}

const roleChanges = await planVisitorRoles(client, service);
if (!roleChanges.length) {
  step(true, 'visitor roles', 'new users and participants get the visitor roles (no creating or joining conversations)');
} else {
  changes += roleChanges.length;
  if (!dry) await applyVisitorRoles(roleChanges);
  for (const change of roleChanges) step('change', change.name, `${dry ? 'would set' : 'set'} ${change.detail}`);
}

console.log(changes === 0
  ? '\nNothing to change: everything is as it should be.'
  : dry ? `\n${changes} change${changes > 1 ? 's' : ''} to make; run again without --dry-run to make them.` : `\n${changes} change${changes > 1 ? 's' : ''} made.`);
const embedUrl = base ? new URL('embed.js', base).href : '<the Worker\'s URL>/embed.js';
console.log(`\nPaste this on the site's pages:\n  <script src="${embedUrl}" data-site="${args.site}" async></script>`);
if (!dry) console.log(`\nThen check it end to end: npm run doctor -- --base ${base} --site ${args.site} --origin ${config.allowed_origins?.[0] ?? '<page origin>'}`);
