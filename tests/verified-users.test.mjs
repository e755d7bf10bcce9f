// Verified users, through the real Worker (`wrangler dev`) and the emulator: a site's backend
// signs a user token (HS256, with npm's `jsonwebtoken`, as a site's backend would) and the Worker
// signs a Twilio token for `user:<site>:<sub>`. Every attack on the user token is a 401
// `invalid_user_token` that says which check failed; the previous secret still verifies during a
// rotation; a visitor who signs in mid-chat keeps the conversation (the user joins it, its
// attributes say so), and the real SDK, signed in as the user, reads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startWorker, testSecrets } from './support/worker.mjs';
import { startEmulator } from './support/emulator.mjs';

const SERVICE = 'IS12121212121212121212121212121212';
const ORIGIN = 'https://shop.test';
const SECRET = 'users-secret-of-the-shop-0123456789';
const OLD_SECRET = 'the-shops-previous-users-secret-987';
const base = { allowed_origins: [ORIGIN], service_sid: SERVICE, rate_limits: { new_visitors_per_minute: 300 } };
const SITES = {
  shop: { ...base, identity_verification: { secret: 'SHOP_USERS_SECRET', previous_secret: 'SHOP_USERS_OLD_SECRET' } },
  other: { ...base, identity_verification: { secret: 'SHOP_USERS_SECRET' } },
  plain: base,
  unset: { ...base, identity_verification: { secret: 'NOT_SET_SECRET' } },
};

const secrets = testSecrets();
let emu;
let worker;
before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  await emu.leastPrivilege();
  worker = await startWorker({
    secrets: {
      ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri,
      SHOP_USERS_SECRET: SECRET, SHOP_USERS_OLD_SECRET: OLD_SECRET,
    },
    sites: Object.fromEntries(Object.entries(SITES).map(([id, c]) => [id, JSON.stringify(c)])),
  });
});
after(async () => {
  await emu?.stop();
  worker?.stop();
});

let ip = 0;
const post = (path, body) => {
  ip += 1;
  return fetch(`${worker.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: ORIGIN, 'CF-Connecting-IP': `198.51.100.${(ip % 250) + 1}` },
    body: JSON.stringify(body),
  });
};
const now = () => Math.floor(Date.now() / 1000);
/** A user token as a site's backend signs it. */
const userToken = (claims = {}, { secret = SECRET, algorithm = 'HS256', site = 'shop' } = {}) => jwt.sign(
  { sub: 'ada@shop.test', aud: site, exp: now() + 3600, iat: now(), name: 'Ada Lovelace', email: 'ada@shop.test', ...claims },
  secret, { algorithm },
);
const rest = () => emu.client().conversations.v1.services(SERVICE);

test('a good user token gets a Twilio token for user:<site>:<sub>, and no visitor credential', async () => {
  const res = await post('/api/sites/shop/token', { user_token: userToken() });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  assert.equal(body.identity, 'user:shop:ada@shop.test');
  assert.equal(body.visitor, undefined, 'the user token proves them, each time');
  const twilioToken = jwt.verify(body.token, secrets.TWILIO_API_KEY_SECRET, { algorithms: ['HS256'] });
  assert.equal(twilioToken.grants.identity, 'user:shop:ada@shop.test');
  // The previous secret still verifies while the rotation lasts.
  const rotated = await post('/api/sites/shop/token', { user_token: userToken({}, { secret: OLD_SECRET }) });
  assert.equal(rotated.status, 200, await rotated.clone().text());
});

test('every attack on the user token is a 401 invalid_user_token that says which check failed', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'ada', aud: 'shop', exp: now() + 60 })).toString('base64url')}.`;
  const good = userToken();
  const [head, , sig] = good.split('.');
  const forged = `${head}.${Buffer.from(JSON.stringify({ sub: 'admin', aud: 'shop', exp: now() + 60 })).toString('base64url')}.${sig}`;
  const cases = [
    ['a wrong secret', userToken({}, { secret: 'not-the-shops-secret-at-all-000000' }), /signature/],
    ['claims changed after signing', forged, /signature/],
    ["alg none", unsigned, /signed with none/],
    ['HS512', userToken({}, { algorithm: 'HS512' }), /HS512/],
    ['RS256', jwt.sign({ sub: 'ada', aud: 'shop', exp: now() + 60 }, privateKey, { algorithm: 'RS256' }), /RS256/],
    ['ES256', jwt.sign({ sub: 'ada', aud: 'shop', exp: now() + 60 }, ec, { algorithm: 'ES256' }), /ES256/],
    ['expired', userToken({ exp: now() - 10 }), /expired/],
    ['not yet valid', userToken({ nbf: now() + 3600 }), /not valid yet/],
    ['issued in the future', userToken({ iat: now() + 3600 }), /not valid yet/],
    ['more than a day ahead', userToken({ exp: now() + 3 * 86_400 }), /more than 24 hours/],
    ['another site\'s token', userToken({}, { site: 'other' }), /aud/],
    ['no audience', jwt.sign({ sub: 'ada', exp: now() + 60 }, SECRET), /aud/],
    ['a sub out of shape', userToken({ sub: 'ada lovelace' }), /sub must be/],
    ['a sub too long', userToken({ sub: 'a'.repeat(129) }), /sub must be/],
    ['no sub', jwt.sign({ aud: 'shop', exp: now() + 60 }, SECRET), /sub/],
    ['not a JWT', 'eyJhbGciOi.not.a-jwt', /not a JWT/],
  ];
  for (const [what, token, says] of cases) {
    const res = await post('/api/sites/shop/token', { user_token: token });
    const body = await res.json();
    assert.equal(res.status, 401, `${what}: ${JSON.stringify(body)}`);
    assert.equal(body.error.code, 'invalid_user_token', what);
    assert.match(body.error.message, says, what);
    assert.ok(!body.error.message.includes(SECRET), 'never the secret');
  }
  const plain = await post('/api/sites/plain/token', { user_token: userToken({}, { site: 'plain' }) });
  assert.equal(plain.status, 401);
  assert.match((await plain.json()).error.message, /does not verify users: add identity_verification/);
  const unset = await post('/api/sites/unset/token', { user_token: userToken({}, { site: 'unset' }) });
  const unsetBody = await unset.json();
  assert.equal(unsetBody.error.code, 'missing_secret', JSON.stringify(unsetBody));
  assert.match(unsetBody.error.message, /NOT_SET_SECRET/);
});

test('a user starts and ends conversations with their token; agents see their name', async () => {
  const token = userToken({ sub: 'grace', name: 'Grace Hopper' });
  const res = await post('/api/sites/shop/conversations', { visitor: token, key: 'g1' });
  assert.equal(res.status, 201, await res.clone().text());
  const { conversation } = await res.json();
  const attributes = JSON.parse((await rest().conversations(conversation).fetch()).attributes);
  assert.equal(attributes.visitor, 'user:shop:grace');
  const participants = await rest().conversations(conversation).participants.list();
  assert.deepEqual(participants.map((p) => p.identity), ['user:shop:grace']);
  const user = await rest().users('user:shop:grace').fetch();
  assert.equal(user.friendlyName, 'Grace Hopper');
  const stranger = await post(`/api/sites/shop/conversations/${conversation}/end`, { visitor: userToken({ sub: 'mallory' }) });
  assert.equal(stranger.status, 404, 'another user cannot end it');
  const end = await post(`/api/sites/shop/conversations/${conversation}/end`, { visitor: token });
  assert.equal(end.status, 200, await end.clone().text());
  const bad = await post('/api/sites/shop/conversations', { visitor: userToken({ exp: now() - 1 }), key: 'g2' });
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error.code, 'invalid_user_token');
});

test('a visitor who signs in mid-chat keeps the conversation: the user joins it and reads its history with the SDK', async () => {
  const anonymous = await (await post('/api/sites/shop/token', {})).json();
  const started = await post('/api/sites/shop/conversations', { visitor: anonymous.visitor, key: 'mid' });
  const { conversation } = await started.json();
  const client = emu.sdkClient(anonymous.token);
  await client.ready;
  await (await client.getConversationBySid(conversation)).sendMessage('before signing in');

  const token = userToken({ sub: 'linus', name: 'Linus' });
  const signedIn = await post('/api/sites/shop/token', { user_token: token, visitor: anonymous.visitor });
  assert.equal(signedIn.status, 200, await signedIn.clone().text());
  const user = await signedIn.json();
  assert.equal(user.identity, 'user:shop:linus');
  const attributes = JSON.parse((await rest().conversations(conversation).fetch()).attributes);
  assert.equal(attributes.visitor, anonymous.identity, 'who started it stays');
  assert.equal(attributes.user, 'user:shop:linus');
  const who = (await rest().conversations(conversation).participants.list()).map((p) => p.identity).sort();
  assert.deepEqual(who, [anonymous.identity, 'user:shop:linus'].sort());
  // Again (a second tab signing in): nothing changes, nothing fails.
  const again = await post('/api/sites/shop/token', { user_token: token, visitor: anonymous.visitor });
  assert.equal(again.status, 200, await again.clone().text());

  // Another device: only the user token. The SDK sees the conversation and its history.
  const elsewhere = emu.sdkClient(user.token);
  await elsewhere.ready;
  const theirs = await elsewhere.getSubscribedConversations();
  const found = theirs.items.find((c) => c.sid === conversation);
  assert.ok(found, 'the user is in it');
  const page = await found.getMessages(30);
  assert.deepEqual(page.items.map((m) => m.body), ['before signing in']);
  const end = await post(`/api/sites/shop/conversations/${conversation}/end`, { visitor: token });
  assert.equal(end.status, 200, 'the user may end it');
});

test('against the local emulator, the demo page\'s test user gets a user token the site\'s secret signed', async () => {
  const res = await post('/api/sites/shop/demo/user-token', { sub: 'tester', name: 'Test User' });
  assert.equal(res.status, 200, await res.clone().text());
  const { user_token: token } = await res.json();
  const claims = jwt.verify(token, SECRET, { algorithms: ['HS256'], audience: 'shop' });
  assert.equal(claims.sub, 'tester');
  assert.ok(claims.exp - claims.iat <= 3600);
  const signedIn = await post('/api/sites/shop/token', { user_token: token });
  assert.equal((await signedIn.json()).identity, 'user:shop:tester');
  const bad = await post('/api/sites/shop/demo/user-token', { sub: 'not ok' });
  assert.equal(bad.status, 400);
  const plain = await post('/api/sites/plain/demo/user-token', { sub: 'tester' });
  assert.equal((await plain.json()).error.code, 'invalid_user_token');
});
