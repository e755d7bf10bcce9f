// X-Twilio-Signature: edgechat's signer and validator against the official twilio library
// (getExpectedTwilioSignature, validateRequest) on generated requests: repeated keys, non-ASCII
// keys and values, explicit and default ports, and tampered signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT } from './support/worker.mjs';
import { rng, oracleSeed } from './support/rng.mjs';

const twilio = createRequire(import.meta.url)('twilio');


const PIECES = ['a', 'B', 'z', '0', '9', '_', '-', '.', ' ', '+', '%', '&', '=', '"', '{', '}', ':', ',', '\n', 'é', 'ß', 'Ω', '中', '😀', '\ud7ff', '\ue000', '\uffff'];
const KEYS = ['AccountSid', 'EventType', 'Source', 'RetryCount', 'ClientIdentity', 'ConversationSid', 'Attributes', 'Body', 'Author', 'Index', 'a', 'B', 'b', 'Ä', '😀', '\ue000'];

function generate(random, n) {
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const text = (max) => Array.from({ length: Math.floor(random() * max) }, () => pick(PIECES)).join('');
  const hosts = ['edgechat.example.workers.dev', 'chat.acme.com', '127.0.0.1', 'localhost'];
  return Array.from({ length: n }, () => {
    const scheme = pick(['https', 'http']);
    const port = pick(['', '', `:${scheme === 'https' ? 443 : 80}`, ':8787']);
    const query = random() < 0.4 ? `?site=${pick(['acme', 'demo'])}&n=${Math.floor(random() * 100)}` : '';
    const url = `${scheme}://${pick(hosts)}${port}/webhooks/conversations${query}`;
    const params = Array.from({ length: Math.floor(random() * 8) }, () => [pick(KEYS), text(12)]);
    return { auth_token: text(10) || 'token', url, params };
  });
}

function asObject(params) {
  const object = {};
  for (const [k, v] of params) {
    if (k in object) object[k] = [].concat(object[k], v);
    else object[k] = v;
  }
  return object;
}

function addDefaultPort(url) {
  return url.replace(/^(https?):\/\/([^/:]+)(\/)/, (m, s, h, slash) => `${s}://${h}:${s === 'https' ? 443 : 80}${slash}`);
}

test('signatures and validation agree with twilio@6 on 400 generated requests', () => {
  const seed = oracleSeed();
  const random = rng(seed);
  const inputs = generate(random, 400).map((input, i) => {
    const params = asObject(input.params);
    // Headers: the library's own signature (for this URL, or its default-port form), or a tampered one.
    const signed = i % 4 === 1 ? addDefaultPort(input.url) : input.url;
    let header = twilio.getExpectedTwilioSignature(input.auth_token, signed, params);
    if (i % 4 === 3) header = header.slice(0, 5) + (header[5] === 'A' ? 'B' : 'A') + header.slice(6);
    return { ...input, header, libraryValid: twilio.validateRequest(input.auth_token, header, input.url, params), libraryExpected: twilio.getExpectedTwilioSignature(input.auth_token, input.url, params) };
  });
  const run = spawnSync('cargo', ['run', '--quiet', '--release', '-p', 'edgechat-core', '--example', 'twilio-signature'], {
    cwd: ROOT, input: inputs.map(({ auth_token, url, params, header }) => JSON.stringify({ auth_token, url, params, header })).join('\n') + '\n',
    encoding: 'utf8', timeout: 600_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines.length, inputs.length);
  let valid = 0;
  inputs.forEach((input, i) => {
    const [expected, ok] = lines[i].split(' ');
    const where = `seed ${seed}, input ${i}: ${JSON.stringify(input)}`;
    assert.equal(expected, input.libraryExpected, where);
    assert.equal(ok === '1', input.libraryValid, where);
    if (ok === '1') valid++;
  });
  assert.ok(valid >= 250 && valid <= 320, `expected about 3/4 valid, got ${valid}`);
});
