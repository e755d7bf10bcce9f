// Reading and checking JWTs with node's own crypto, independent of the code under test, and
// making the same token with the official twilio library (the oracle) with its clock fixed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const twilio = require('twilio');
const { AccessToken } = twilio.jwt;
const { ChatGrant } = AccessToken;

export function decode(jwt) {
  const [header, payload] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

export function signatureValid(jwt, secret) {
  const [header, payload, signature] = jwt.split('.');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const actual = Buffer.from(signature, 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The token twilio@6's AccessToken + ChatGrant produce for these inputs at `nowSeconds`. */
export function libraryToken({ accountSid, apiKeySid, apiKeySecret, identity, serviceSid, pushCredentialSid, ttl, nowSeconds }) {
  const realNow = Date.now;
  Date.now = () => nowSeconds * 1000;
  try {
    const token = new AccessToken(accountSid, apiKeySid, apiKeySecret, { identity, ttl });
    const grant = new ChatGrant({ serviceSid, ...(pushCredentialSid ? { pushCredentialSid } : {}) });
    token.addGrant(grant);
    return token.toJwt();
  } finally {
    Date.now = realNow;
  }
}
