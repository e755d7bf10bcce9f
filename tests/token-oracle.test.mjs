// The access token encoder against the official twilio library on many generated inputs:
// identities with non-ASCII, quotes, backslashes, control characters and line separators; secrets
// with non-ASCII; every TTL edge; with and without a push credential. Byte-for-byte equality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ROOT } from './support/worker.mjs';
import { rng, oracleSeed } from './support/rng.mjs';
import { libraryToken } from './support/jwt.mjs';


const PIECES = ['a', 'Z', '0', '-', ':', '@', '.', ' ', '"', '\\', '/', '<', '>', '&', "'", '\n', '\t', '\u0000', '\u0001', '\u001f', '\u007f',
  '\u2028', '\u2029', 'é', 'ß', 'ñ', 'Ω', 'Ж', 'ع', 'עב', '中文', '日本語', '한', '😀', '👩‍💻', '🇺🇸', '\ufeff', '\u00a0', '\ud83d\ude00'];

function generate(random, n) {
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const hex = (len) => Array.from({ length: len }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('');
  const text = (max) => Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(PIECES)).join('');
  return Array.from({ length: n }, (_, i) => ({
    account_sid: `AC${hex(32)}`,
    api_key_sid: `SK${hex(32)}`,
    api_key_secret: i % 3 === 0 ? text(40) : hex(32),
    identity: i % 5 === 0 ? `visitor:site-${hex(4)}:${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}` : text(30),
    service_sid: `IS${hex(32)}`,
    push_credential_sid: random() < 0.5 ? `CR${hex(32)}` : null,
    now: pick([0, 1, 1_700_000_000, 4_102_444_800, Math.floor(random() * 2_000_000_000)]),
    ttl: pick([30, 60, 3600, 86_400, 1 + Math.floor(random() * 86_400)]),
  }));
}

test('tokens equal twilio@6 AccessToken + ChatGrant output for 500 generated inputs', () => {
  const seed = oracleSeed();
  const inputs = generate(rng(seed), 500);
  const run = spawnSync('cargo', ['run', '--quiet', '--release', '-p', 'edgechat-core', '--example', 'sign-token'], {
    cwd: ROOT, input: inputs.map((i) => JSON.stringify(i)).join('\n') + '\n', encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20,
  });
  assert.equal(run.status, 0, run.stderr);
  const ours = run.stdout.trimEnd().split('\n');
  assert.equal(ours.length, inputs.length);
  inputs.forEach((input, i) => {
    const theirs = libraryToken({
      accountSid: input.account_sid,
      apiKeySid: input.api_key_sid,
      apiKeySecret: input.api_key_secret,
      identity: input.identity,
      serviceSid: input.service_sid,
      pushCredentialSid: input.push_credential_sid,
      ttl: input.ttl,
      nowSeconds: input.now,
    });
    assert.equal(ours[i], theirs, `seed ${seed}, input ${i}: ${JSON.stringify(input)}`);
  });
});
