// The Worker's HTTP API, through a real `wrangler dev`: every route and every error the token
// service promises, and tokens compared byte for byte with the official twilio library.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inOneWindow } from './support/wait.mjs';
import { startWorker, testSecrets, ROOT } from './support/worker.mjs';
import { decode, signatureValid, libraryToken } from './support/jwt.mjs';
import { builtFiles } from '../scripts/lib/files.mjs';

const secrets = testSecrets();
const ACME = 'https://www.acme.test';
const SITES = {
  acme: {
    allowed_origins: [ACME, 'http://localhost:3000'],
    service_sid: 'IS11111111111111111111111111111111',
    push_credential_sid: 'CR22222222222222222222222222222222',
    token_ttl_seconds: 600,
    appearance: { title: 'Acme help', brand_color: '#112233', position: 'bottom-left' },
    greeting: 'Hallo! Wie können wir helfen?',
    locale: 'de-DE',
    automation: { studio: { flow_sid: 'FW33333333333333333333333333333333' } },
  },
  plain: {
    allowed_origins: ['https://plain.test'],
    service_sid: 'IS44444444444444444444444444444444',
  },
  strict: {
    allowed_origins: ['https://strict.test'],
    service_sid: 'IS44444444444444444444444444444444',
    rate_limits: { new_visitors_per_minute: 10, renewals_per_minute: 20 },
  },
  broken: {
    allowed_origins: ['https://broken.test'],
    service_sid: 'IS55555555555555555555555555555555',
    appearance: { brand_color: 'blue' },
  },
};

let worker;
let ipCounter = 0;
/** A distinct client address per call site, so the rate limiter sees separate clients. */
const freshIp = () => { ipCounter += 1; return `198.51.${100 + Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`; };

before(async () => {
  const sites = Object.fromEntries(Object.entries(SITES).map(([id, c]) => [id, JSON.stringify(c)]));
  sites.garbled = '{"allowed_origins": ["https://garbled.test"], ';
  worker = await startWorker({ secrets, sites });
});

after(() => worker?.stop());

function token(site, { origin = ACME, body = '{}', ip = freshIp(), headers = {} } = {}) {
  return fetch(`${worker.url}/api/sites/${site}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip, ...(origin ? { Origin: origin } : {}), ...headers },
    body,
  });
}

async function expectError(res, status, code) {
  assert.equal(res.status, status, `status for ${code}`);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 10, 'the message says what to fix');
  assert.equal(body.token, undefined);
  return body.error;
}

test('GET /health answers ok', async () => {
  const res = await fetch(`${worker.url}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  assert.equal(res.headers.get('cache-control'), 'no-store');
});

test('the real Conversations SDK is served from the assets, as pinned in package.json; the public config names no other', async () => {
  const res = await fetch(`${worker.url}/${builtFiles().sdk.replace(/^public\//, '')}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /javascript/);
  const served = await res.text();
  const pinned = readFileSync(join(ROOT, 'node_modules/@twilio/conversations/builds/twilio-conversations.min.js'), 'utf8');
  assert.equal(served, pinned);
  const config = await (await fetch(`${worker.url}/api/sites/acme/config`)).json();
  assert.equal(config.sdk_url, undefined, 'the widget loads the vendored copy embed.js names');
});

test('the widget\'s hashed files are cached a year, immutable; embed.js briefly, revalidated in the background; the manifest never without asking', async () => {
  const files = builtFiles();
  for (const path of [files.module, files.wasm, files.sdk]) {
    const res = await fetch(`${worker.url}/${path.replace(/^public\//, '')}`, { headers: { Origin: ACME } });
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
    await res.arrayBuffer();
  }
  const wasm = await fetch(`${worker.url}/${files.wasm.replace(/^public\//, '')}`, { headers: { Origin: ACME } });
  assert.equal(wasm.headers.get('content-type'), 'application/wasm', 'streaming compilation needs the wasm type');
  assert.equal(wasm.headers.get('access-control-allow-origin'), '*');
  await wasm.arrayBuffer();
  const embed = await fetch(`${worker.url}/embed.js`);
  assert.equal(embed.headers.get('cache-control'), 'public, max-age=300, stale-while-revalidate=86400');
  await embed.text();
  const manifest = await fetch(`${worker.url}/widget-manifest.json`);
  assert.equal(manifest.headers.get('cache-control'), 'no-cache');
  const names = await manifest.json();
  assert.deepEqual(Object.keys(names).sort(), ['module', 'sdk', 'wasm']);
  assert.equal(`public/widget/${names.wasm}`, files.wasm);
});

test('unknown routes and methods get the JSON error shape', async () => {
  await expectError(await fetch(`${worker.url}/api/nope`), 404, 'not_found');
  await expectError(await fetch(`${worker.url}/api/sites/acme/tokens`), 404, 'not_found');
  const get = await fetch(`${worker.url}/api/sites/acme/token`);
  await expectError(get, 405, 'method_not_allowed');
  assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
  const del = await fetch(`${worker.url}/health`, { method: 'DELETE' });
  await expectError(del, 405, 'method_not_allowed');
  assert.equal(del.headers.get('allow'), 'GET');
});

test('GET config returns only the public part', async () => {
  const res = await fetch(`${worker.url}/api/sites/acme/config`, { headers: { Origin: ACME } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ACME);
  assert.equal(res.headers.get('vary'), 'Origin');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), {
    site: 'acme',
    appearance: { title: 'Acme help', brand_color: '#112233', position: 'bottom-left', theme: 'auto' },
    greeting: 'Hallo! Wie können wir helfen?',
    keep_page_query: false,
    ask_rating: false,
    sound: false,
    locale: 'de-DE',
    // Flex Webchat's defaults: the site's config says nothing of attachments.
    attachments: { max_bytes: 16 * 1024 * 1024, max_files: 1, types: ['jpg', 'png', 'gif', 'heic', 'pdf', 'txt', 'mp3', 'mp4', 'amr'] },
  });
  for (const hidden of ['IS1111', 'CR2222', 'FW3333', 'acme.test', 'localhost', ...Object.values(secrets)]) {
    assert.ok(!text.includes(hidden), `public config leaks ${hidden}`);
  }
});

test('GET config applies defaults and works without Origin (same-origin GET)', async () => {
  const res = await fetch(`${worker.url}/api/sites/plain/config`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  const body = await res.json();
  assert.deepEqual(body.appearance, { title: 'Chat with us', brand_color: '#0263E0', theme: 'auto' });
  assert.equal(body.locale, undefined, 'no site locale: the visitor\'s browser decides');
  assert.equal(body.strings, undefined, 'no wording of its own');
  assert.equal(body.greeting, null);
});

test('GET config from a page of another origin is refused, and the refusal is not readable there', async () => {
  const res = await fetch(`${worker.url}/api/sites/acme/config`, { headers: { Origin: 'https://evil.test' } });
  assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS grant for a refused origin');
  const err = await expectError(res, 403, 'origin_not_allowed');
  assert.match(err.message, /allowed_origins/);
});

test('unknown and malformed site ids are 404', async () => {
  const err = await expectError(await fetch(`${worker.url}/api/sites/nosuchsite/config`), 404, 'unknown_site');
  assert.match(err.message, /nosuchsite/);
  await expectError(await fetch(`${worker.url}/api/sites/Bad.Site/config`), 404, 'unknown_site');
  await expectError(await token('nosuchsite'), 404, 'unknown_site');
});

test('a stored config that fails validation is a 503 naming the field and the rule, never the value', async () => {
  const err = await expectError(await fetch(`${worker.url}/api/sites/broken/config`), 503, 'invalid_site_config');
  assert.match(err.message, /appearance\.brand_color/);
  assert.match(err.message, /#rrggbb|colou?r/i);
  assert.ok(!/blue/.test(err.message), err.message);
  const garbled = await expectError(await fetch(`${worker.url}/api/sites/garbled/config`), 503, 'invalid_site_config');
  assert.match(garbled.message, /EOF|line 1/);
  await expectError(await token('broken', { origin: 'https://broken.test' }), 503, 'invalid_site_config');
});

test('a new visitor gets a minted identity, a credential and a valid token', async () => {
  const res = await token('acme');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ACME);
  assert.equal(res.headers.get('vary'), 'Origin');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), ['expires_at', 'expires_in', 'identity', 'token', 'visitor']);
  assert.match(body.identity, /^visitor:acme:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(body.visitor.startsWith('v2.acme.'));

  assert.ok(signatureValid(body.token, secrets.TWILIO_API_KEY_SECRET), 'HS256 under the API key secret');
  assert.ok(!signatureValid(body.token, secrets.VISITOR_SIGNING_SECRET));
  const { header, payload } = decode(body.token);
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
  assert.equal(payload.iss, secrets.TWILIO_API_KEY_SID);
  assert.equal(payload.sub, secrets.TWILIO_ACCOUNT_SID);
  assert.equal(payload.jti, `${secrets.TWILIO_API_KEY_SID}-${payload.iat}`);
  assert.equal(payload.exp - payload.iat, 600);
  assert.equal(body.expires_at, payload.exp);
  assert.equal(body.expires_in, 600, 'the lifetime in seconds, which the widget times its renewal by');
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120, 'issued now');
  assert.deepEqual(payload.grants, {
    identity: body.identity,
    chat: { service_sid: 'IS11111111111111111111111111111111', push_credential_sid: 'CR22222222222222222222222222222222' },
  });

  const second = await (await token('acme')).json();
  assert.notEqual(second.identity, body.identity, 'every new visitor is a new identity');
});

test('tokens equal the official twilio library output byte for byte', async () => {
  const cases = [
    { site: 'acme', origin: ACME, ttl: 600, push: 'CR22222222222222222222222222222222', service: 'IS11111111111111111111111111111111' },
    { site: 'plain', origin: 'https://plain.test', ttl: 3600, push: undefined, service: 'IS44444444444444444444444444444444' },
  ];
  for (const c of cases) {
    const first = await (await token(c.site, { origin: c.origin })).json();
    const again = await (await token(c.site, { origin: c.origin, body: JSON.stringify({ visitor: first.visitor }) })).json();
    for (const issued of [first, again]) {
      const { payload } = decode(issued.token);
      const expected = libraryToken({
        accountSid: secrets.TWILIO_ACCOUNT_SID,
        apiKeySid: secrets.TWILIO_API_KEY_SID,
        apiKeySecret: secrets.TWILIO_API_KEY_SECRET,
        identity: issued.identity,
        serviceSid: c.service,
        pushCredentialSid: c.push,
        ttl: c.ttl,
        nowSeconds: payload.iat,
      });
      assert.equal(issued.token, expected, `${c.site}: token differs from twilio's AccessToken`);
    }
  }
});

test('a returning visitor keeps their identity', async () => {
  const first = await (await token('acme')).json();
  const res = await token('acme', { body: JSON.stringify({ visitor: first.visitor }), origin: 'http://localhost:3000' });
  assert.equal(res.status, 200);
  const again = await res.json();
  assert.equal(again.identity, first.identity);
  assert.equal(again.visitor, first.visitor);
  assert.equal(decode(again.token).payload.grants.identity, first.identity);
});

test('forged, altered, truncated and other-site credentials get 401 and no token', async () => {
  const acme = await (await token('acme')).json();
  const plain = await (await token('plain', { origin: 'https://plain.test' })).json();
  const [, , uuid, tag] = acme.visitor.split('.');
  const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const forgeries = [
    flip(acme.visitor, acme.visitor.length - 1),
    flip(acme.visitor, acme.visitor.length - 20),
    acme.visitor.replace(uuid, '00000000-0000-4000-8000-000000000000'),
    acme.visitor.slice(0, -1),
    acme.visitor.slice(0, acme.visitor.lastIndexOf('.')),
    `${acme.visitor}A`,
    `v2.acme.${uuid}.${tag}`,
    `v1.acme.${uuid}.${'A'.repeat(43)}`,
    plain.visitor,
    plain.visitor.replace('v2.plain.', 'v2.acme.'),
    acme.identity,
    '',
    'x'.repeat(3000),
  ];
  for (const visitor of forgeries) {
    const err = await expectError(await token('acme', { body: JSON.stringify({ visitor }) }), 401, 'invalid_visitor_credential');
    assert.match(err.message, /new visitor/);
  }
});

test('nobody can ask for an identity by name', async () => {
  for (const body of [
    { identity: 'agent@acme.test' },
    { visitor: null, identity: 'visitor:acme:00000000-0000-4000-8000-000000000000' },
  ]) {
    await expectError(await token('acme', { body: JSON.stringify(body) }), 400, 'invalid_json');
  }
});

test('bad bodies get 400, large ones 413', async () => {
  for (const body of ['{', '[]', '"visitor"', 'null', '{"visitor": 5}']) {
    const err = await expectError(await token('acme', { body }), 400, 'invalid_json');
    assert.match(err.message, /JSON object/);
  }
  const big = JSON.stringify({ visitor: 'x'.repeat(5000) });
  const err = await expectError(await token('acme', { body: big }), 413, 'body_too_large');
  assert.match(err.message, /4096 bytes/);
  // Without Content-Length (chunked), the Worker stops reading past the limit.
  const chunks = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
      controller.close();
    },
  });
  const chunked = await fetch(`${worker.url}/api/sites/acme/token`, {
    method: 'POST', headers: { Origin: ACME, 'CF-Connecting-IP': freshIp() }, body: chunks, duplex: 'half',
  });
  await expectError(chunked, 413, 'body_too_large');
  // An empty body is a new visitor, like {}.
  const empty = await token('acme', { body: '' });
  assert.equal(empty.status, 200);
});

test('CORS: preflight for allowed origins only, Origin required for tokens', async () => {
  const preflight = await fetch(`${worker.url}/api/sites/acme/token`, {
    method: 'OPTIONS',
    headers: { Origin: ACME, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), ACME);
  assert.match(preflight.headers.get('access-control-allow-methods'), /POST/);
  assert.match(preflight.headers.get('access-control-allow-headers'), /Content-Type/i);
  assert.equal(preflight.headers.get('vary'), 'Origin');

  const refused = await fetch(`${worker.url}/api/sites/acme/token`, {
    method: 'OPTIONS', headers: { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('access-control-allow-methods'), null);

  const err = await expectError(await token('acme', { origin: 'https://evil.test' }), 403, 'origin_not_allowed');
  assert.match(err.message, /https:\/\/evil\.test/);
  // Near misses are not matches.
  for (const origin of ['https://www.acme.test:8443', 'http://www.acme.test', 'https://acme.test', 'https://www.acme.test.evil.test', 'null']) {
    await expectError(await token('acme', { origin }), 403, 'origin_not_allowed');
  }
  await expectError(await token('acme', { origin: null }), 403, 'origin_required');
});


/** Spends `ip`'s budget: 30 accepted token requests, then the 31st, refused. */
async function exhaust(ip) {
  await inOneWindow();
  const statuses = [];
  for (let i = 0; i < 30; i++) statuses.push((await token('plain', { origin: 'https://plain.test', ip })).status);
  return { statuses, limited: await token('plain', { origin: 'https://plain.test', ip }) };
}

test('rate limit: the 31st new visitor in a minute from one address gets 429, readable by the page', async () => {
  const { statuses, limited } = await exhaust(freshIp());
  assert.deepEqual(statuses, Array(30).fill(200));
  await expectError(limited.clone(), 429, 'rate_limited');
  assert.equal(limited.headers.get('retry-after'), '60');
  assert.equal(limited.headers.get('access-control-allow-origin'), 'https://plain.test', 'the widget can read why');
  assert.match(limited.headers.get('access-control-expose-headers') ?? '', /Retry-After/, 'and how long to wait');
  assert.equal((await token('plain', { origin: 'https://plain.test', ip: freshIp() })).status, 200, 'other clients unaffected');
});

test('rate limit: an IPv6 client counts by its /64, whichever address in it it uses', async () => {
  await inOneWindow();
  const prefix = `2001:db8:${(++ipCounter).toString(16)}:1`;
  const statuses = [];
  for (let i = 0; i < 30; i++) statuses.push((await token('plain', { origin: 'https://plain.test', ip: `${prefix}::${(i + 1).toString(16)}` })).status);
  assert.deepEqual(statuses, Array(30).fill(200));
  await expectError(await token('plain', { origin: 'https://plain.test', ip: `${prefix}:ffff:ffff:ffff:ffff` }), 429, 'rate_limited');
  const neighbour = `2001:db8:${ipCounter.toString(16)}:2::1`;
  assert.equal((await token('plain', { origin: 'https://plain.test', ip: neighbour })).status, 200, 'the next /64 is another client');
});

test('rate limit: renewals count per visitor, so visitors behind one address do not share a budget', async () => {
  await inOneWindow();
  const office = freshIp();
  const visitors = [];
  for (let i = 0; i < 3; i++) visitors.push((await (await token('plain', { origin: 'https://plain.test', ip: office })).json()).visitor);
  const renew = (visitor) => token('plain', { origin: 'https://plain.test', ip: office, body: JSON.stringify({ visitor }) });
  // 30 renewals from one address: 10 for each of three visitors, all served.
  const statuses = [];
  for (let round = 0; round < 10; round++) for (const v of visitors) statuses.push((await renew(v)).status);
  assert.deepEqual(statuses, Array(30).fill(200));
  // The 11th renewal of one visitor in the minute is refused; the others' and new visitors are not.
  await expectError(await renew(visitors[0]), 429, 'rate_limited');
  assert.equal((await token('plain', { origin: 'https://plain.test', ip: office })).status, 200);
});

test('rate limit: a site sets its own limits (in steps of 10 a minute)', async () => {
  await inOneWindow();
  const ip = freshIp();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await token('strict', { origin: 'https://strict.test', ip })).status);
  assert.deepEqual(statuses, Array(10).fill(200));
  await expectError(await token('strict', { origin: 'https://strict.test', ip }), 429, 'rate_limited');
  // The same address's budget on another site is its own.
  assert.equal((await token('plain', { origin: 'https://plain.test', ip })).status, 200);
});

test('rate limit: unknown site ids cost the address that asks (20 a minute), known sites stay served', async () => {
  await inOneWindow();
  const ip = freshIp();
  const config = (site) => fetch(`${worker.url}/api/sites/${site}/config`, { headers: { 'CF-Connecting-IP': ip } });
  const statuses = [];
  for (let i = 0; i < 20; i++) statuses.push((await config(`probe-${ipCounter}-${i}`)).status);
  assert.deepEqual(statuses, Array(20).fill(404));
  await expectError(await config(`probe-${ipCounter}-20`), 429, 'rate_limited');
  await expectError(await config(`probe-${ipCounter}-21`), 429, 'rate_limited');
  assert.equal((await config(`probe-${ipCounter}-0`)).status, 404, 'an id already answered is cached, not counted');
  assert.equal((await fetch(`${worker.url}/api/sites/nosuchsite/config`, { headers: { 'CF-Connecting-IP': freshIp() } })).status, 404, 'other addresses unaffected');
});

test('one log line per request, and no secret, token or credential in any log', async () => {
  // This test's own requests: a token, a forged credential, a client over its limit.
  const issued = await (await token('acme')).json();
  const forged = `${issued.visitor.slice(0, -4)}AAAA`;
  await expectError(await token('acme', { body: JSON.stringify({ visitor: forged }) }), 401, 'invalid_visitor_credential');
  const { limited } = await exhaust(freshIp());
  assert.equal(limited.status, 429);
  await worker.waitForLog(/"code":"rate_limited"/);
  await worker.waitForLog(/"code":"invalid_visitor_credential"/);
  const logs = worker.logs();
  const lines = logs.split('\n').filter((l) => l.startsWith('{"method"')).map((l) => JSON.parse(l));
  const tokenLine = lines.find((l) => l.route === '/api/sites/:site/token' && l.status === 200 && l.site === 'acme');
  assert.ok(tokenLine, 'token requests are logged');
  assert.equal(typeof tokenLine.ms, 'number');
  assert.ok(lines.some((l) => l.code === 'invalid_visitor_credential' && l.status === 401 && /tag|malformed|another site/.test(l.detail)));
  assert.ok(lines.some((l) => l.code === 'rate_limited' && l.status === 429));
  const [, payload, signature] = issued.token.split('.');
  for (const secret of [...Object.values(secrets), signature, payload, issued.visitor.split('.').at(-1)]) {
    assert.ok(!logs.includes(secret), 'a secret, token or credential reached the log');
  }
});

test('the demo page\'s test-user route does not exist on a Worker that is not on the local emulator', async () => {
  const site = Object.keys(SITES)[0];
  const res = await fetch(`${worker.url}/api/sites/${site}/demo/user-token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ACME, 'CF-Connecting-IP': freshIp() }, body: '{"sub":"tester"}',
  });
  await expectError(res, 404, 'not_found');
});
