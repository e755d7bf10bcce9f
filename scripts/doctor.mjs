// `npm run doctor -- [--base <worker url>] --site <id> --origin <page origin>`: checks a running
// Worker (local or deployed) end to end, as a visitor's browser and Twilio would use it, and
// prints one line per check, with what to do for each that fails. Exit status 1 when one fails.
//
// The Twilio checks use the account's credentials from the environment (TWILIO_ACCOUNT_SID and
// TWILIO_AUTH_TOKEN; TWILIO_API_BASE for the local emulator), or from .dev.vars when the Worker
// is local. The service is the one the Worker's token for this site names; nothing secret is
// printed.
import { readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { checkVisitorRoles, SERVICE_ROLE, CONVERSATION_ROLE } from './lib/visitor-roles.mjs';
import { accountClient } from './lib/twilio-account.mjs';

const WEBHOOK_PATH = 'webhooks/conversations';
const FILTERS = ['onConversationAdded', 'onMessageAdded'];

function usage(message) {
  console.error(`doctor: ${message}\nusage: npm run doctor -- [--base <worker url>] --site <id> --origin <page origin>`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { base: { type: 'string' }, site: { type: 'string' }, origin: { type: 'string' } } }).values;
} catch (e) {
  usage(e.message);
}
if (!args.site) usage('--site is required (the site id the snippet names in data-site)');
if (!args.origin) usage('--origin is required (a page origin that embeds the widget, such as https://www.acme.com)');
const base = new URL(args.base || 'http://127.0.0.1:8787').href;
const local = /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(base);

/** The account's credentials: the environment first, then .dev.vars for a local Worker. */
function credentials() {
  const vars = { ...process.env };
  if (local && existsSync('.dev.vars')) {
    for (const line of readFileSync('.dev.vars', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m && vars[m[1]] === undefined) vars[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    }
  }
  return vars;
}

let failed = 0;
const results = [];
function report(ok, name, detail, fix) {
  if (!ok) failed++;
  const line = `${ok === null ? '-' : ok ? '✓' : '✗'} ${name}: ${detail}${fix ? `\n    fix: ${fix}` : ''}`;
  results.push(line);
  console.log(line);
}

async function request(path, init = {}) {
  try {
    const res = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { res, text, json };
  } catch (e) {
    return { error: e };
  }
}

const errorOf = (r) => r.json?.error ? `${r.res.status} ${r.json.error.code}: ${r.json.error.message}` : `${r.res.status}`;

// 1. The Worker answers.
const health = await request('health');
if (health.error) {
  report(false, 'health', `no answer from ${base} (${health.error.cause?.code || health.error.message})`,
    local ? 'start it: npm start' : 'check the URL, and that `npx wrangler deploy` succeeded');
  process.exit(1);
}
report(health.res.ok, 'health', health.res.ok ? `${base} answers` : `GET /health is ${health.res.status}`,
  health.res.ok ? '' : 'see `npx wrangler tail` for what the Worker logs');

// 2. The site's public config, as a page of that origin asks for it.
const siteUrl = `api/sites/${encodeURIComponent(args.site)}/`;
const config = await request(`${siteUrl}config`, { headers: { Origin: args.origin } });
if (config.res.ok) {
  report(true, 'site config', `${args.site} is set up, and ${args.origin} may use it`);
} else {
  const code = config.json?.error?.code;
  report(false, 'site config', errorOf(config),
    code === 'unknown_site' ? `store it: npm run site-config -- put ${args.site} <config.json>${local ? '' : ' --remote'}`
      : code === 'origin_not_allowed' ? `add "${args.origin}" to the site config's allowed_origins, then npm run site-config -- put ${args.site} <config.json>${local ? '' : ' --remote'}`
        : 'see the message above');
}

// 3. A token for a new visitor on that origin.
const token = await request(`${siteUrl}token`, {
  method: 'POST', headers: { Origin: args.origin, 'Content-Type': 'application/json' }, body: '{}',
});
let service;
if (token.res.ok && token.json?.token) {
  const claims = JSON.parse(Buffer.from(token.json.token.split('.')[1], 'base64url').toString());
  service = claims.grants?.chat?.service_sid;
  report(true, 'token', `a visitor on ${args.origin} gets a Twilio token for ${claims.grants?.identity} (service ${service})`);
} else {
  const code = token.json?.error?.code;
  const name = /([A-Z][A-Z_]{3,})/.exec(token.json?.error?.message || '')?.[1];
  report(false, 'token', errorOf(token),
    code === 'missing_secret' || code === 'invalid_secret' ? `npx wrangler secret put ${name || '<the secret named above>'}${local ? ' (locally: set it in .dev.vars)' : ''}`
      : code === 'rate_limited' ? 'wait a minute, or raise rate_limits in the site config'
        : code === 'origin_not_allowed' ? `add "${args.origin}" to the site config's allowed_origins`
          : 'see the message above');
}

// 4-6. Twilio: the service, its post-event webhook, and a signed webhook the Worker accepts.
const vars = credentials();
const webhookUrl = new URL(WEBHOOK_PATH, base).href;
if (!vars.TWILIO_ACCOUNT_SID || !vars.TWILIO_AUTH_TOKEN) {
  report(false, 'Twilio', 'no account credentials to check with',
    'set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in the environment (the account\'s, as in the Twilio console)');
} else if (!service) {
  report(null, 'Twilio service', 'skipped: no token named the service');
} else {
  const client = accountClient(vars);
  const conversations = client.conversations.v1.services(service);
  let reachable = false;
  try {
    await conversations.fetch();
    reachable = true;
    report(true, 'Twilio service', `${service} is in account ${vars.TWILIO_ACCOUNT_SID}`);
  } catch (e) {
    report(false, 'Twilio service', `${e.status || ''} ${e.code || ''} ${e.message}`.trim(),
      e.status === 401 ? 'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN here are not a valid pair'
        : e.status === 404 ? `the site config's service_sid ${service} is not in this account: use one of the account's Conversations services`
          : 'check the network and the credentials');
  }
  if (reachable) {
    const hooks = await conversations.configuration.webhooks().fetch();
    const missing = FILTERS.filter((f) => !(hooks.filters || []).includes(f));
    const fix = `client.conversations.v1.services('${service}').configuration.webhooks().update({ postWebhookUrl: '${webhookUrl}', method: 'POST', filters: ${JSON.stringify(FILTERS)} })`;
    if (hooks.postWebhookUrl !== webhookUrl) {
      report(false, 'post-event webhook', `the service posts events to ${hooks.postWebhookUrl || 'nowhere'}, not ${webhookUrl}`, fix);
    } else if (missing.length || (hooks.method || 'POST').toUpperCase() !== 'POST') {
      report(false, 'post-event webhook', `filters ${JSON.stringify(hooks.filters)}, method ${hooks.method}: ${missing.length ? `missing ${missing.join(', ')}` : 'not POST'}`, fix);
    } else {
      report(true, 'post-event webhook', `${webhookUrl}, POST, ${FILTERS.join(' and ')}`);
    }
    const roles = await checkVisitorRoles(client, service);
    report(roles.ok, 'visitor roles', roles.detail,
      roles.ok ? '' : `npm run deploy${local ? ' -- --local' : ''} sets them (it creates the roles "${SERVICE_ROLE.friendlyName}" and "${CONVERSATION_ROLE.friendlyName}" and makes them the service's defaults)`);
  }
  // An event the Worker ignores (it changes nothing), signed as Twilio signs it.
  const params = { EventType: 'onUserUpdated', ChatServiceSid: service, AccountSid: vars.TWILIO_ACCOUNT_SID, Identity: 'edgechat-doctor' };
  const signature = twilio.getExpectedTwilioSignature(vars.TWILIO_AUTH_TOKEN, webhookUrl, params);
  const hook = await request(WEBHOOK_PATH, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  if (hook.error) {
    report(false, 'signed webhook', `no answer (${hook.error.message})`, 'see `npx wrangler tail`');
  } else if (hook.res.ok) {
    report(true, 'signed webhook', 'the Worker accepts what the account signs');
  } else {
    report(false, 'signed webhook', errorOf(hook),
      hook.res.status === 403 ? `the Worker's TWILIO_AUTH_TOKEN is not this account's auth token: npx wrangler secret put TWILIO_AUTH_TOKEN${local ? ' (locally: .dev.vars)' : ''}`
        : 'see the message above');
  }
}

// 7. What the page loads: embed.js, then the files it names, with their types and caching.
const embed = await request('embed.js');
const header = (r, name) => r.res?.headers.get(name) || '';
const files = await request('widget-manifest.json');
const problems = [];
if (embed.error || !embed.res.ok) problems.push(`embed.js: ${embed.error?.message || embed.res.status}`);
else {
  if (!/javascript/.test(header(embed, 'content-type'))) problems.push(`embed.js is served as ${header(embed, 'content-type')}`);
}
if (files.res?.ok && files.json) {
  for (const [path, type] of [[`widget/${files.json.module}`, /javascript/], [`widget/${files.json.wasm}`, /application\/wasm/]]) {
    const r = await request(path, { headers: { Origin: args.origin } });
    if (r.error || !r.res.ok) problems.push(`${path}: ${r.error?.message || r.res.status}`);
    else {
      if (!type.test(header(r, 'content-type'))) problems.push(`${path} is served as ${header(r, 'content-type')}`);
      if (!/immutable/.test(header(r, 'cache-control'))) problems.push(`${path} is not cached immutable (${header(r, 'cache-control') || 'no Cache-Control'})`);
      if (header(r, 'access-control-allow-origin') !== '*') problems.push(`${path} has no Access-Control-Allow-Origin: *`);
    }
  }
} else problems.push(`widget-manifest.json: ${files.error?.message || files.res.status}`);
report(!problems.length, 'widget files', problems.length ? problems.join('; ') : 'embed.js and the files it names are served with their types, CORS and immutable caching',
  problems.length ? 'rebuild and redeploy (scripts/build.sh runs as wrangler\'s build step; public/_headers sets the headers)' : '');

console.log(failed ? `\n${failed} check${failed > 1 ? 's' : ''} failed.` : '\nAll checks passed.');
process.exit(failed ? 1 : 0);
