// Starts the local Twilio emulator (target/debug/twilio-emulator, built by scripts/test.sh) on a
// free 127.0.0.1 port for a test file, and gives the official `twilio` client pointed at it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './worker.mjs';
import { planVisitorRoles, applyVisitorRoles } from '../../scripts/lib/visitor-roles.mjs';

const require = createRequire(import.meta.url);
const twilio = require('twilio');
/** The real, unmodified Conversations SDK (its Node build), pinned in package.json. */
const { Client: ConversationsClient } = require('@twilio/conversations');

const BINARY = join(ROOT, 'target', 'debug', 'twilio-emulator');

/**
 * @param {object} options
 * @param {Record<string, string>} options.secrets  the same shapes as testSecrets()
 * @param {string[]} options.services               IS... SIDs; the first is the default service
 */
export async function startEmulator({ secrets, services }) {
  const args = ['--port', '0', '--account-sid', secrets.TWILIO_ACCOUNT_SID,
    '--auth-token', secrets.TWILIO_AUTH_TOKEN, '--api-key-sid', secrets.TWILIO_API_KEY_SID,
    '--api-key-secret', secrets.TWILIO_API_KEY_SECRET];
  for (const s of services) args.push('--service', s);
  const child = spawn(BINARY, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => { output += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the emulator did not start within 20 s:\n${output}`)), 20_000);
    let line = '';
    child.stdout.on('data', (d) => {
      line += d;
      if (line.includes('\n')) {
        clearTimeout(timer);
        try { resolve(JSON.parse(line.split('\n')[0]).listening); } catch (e) { reject(e); }
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the emulator exited (${code}):\n${output}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`the emulator could not start (${e.message}); scripts/test.sh builds it`)); });
  });

  const control = async (path, init = {}) => {
    const res = await fetch(`${url}/_emulator/${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  const sdkClients = [];
  const realtimeUri = `${url.replace('http', 'ws')}/v3/wsconnect`;
  return {
    url,
    pid: child.pid,
    realtimeUri,
    logs: () => output,
    /** Shuts the real SDK clients down (their timers keep a process alive), then the emulator. */
    async stop() {
      await Promise.race([
        Promise.allSettled(sdkClients.map((c) => c.shutdown())),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
      if (!exited) child.kill('SIGTERM');
    },
    /**
     * A real @twilio/conversations Client for `token`, aimed at this emulator's realtime endpoint
     * (the SDK's own `Twilsock.uri` option). `client.ready` settles with `initialized` or
     * `initFailed` (listened to from construction, so neither is missed). Shut down by stop().
     */
    sdkClient(token, options = {}) {
      const client = new ConversationsClient(token, { Twilsock: { uri: realtimeUri }, logLevel: 'silent', ...options });
      sdkClients.push(client);
      client.ready = new Promise((resolve, reject) => {
        client.on('initialized', () => resolve(client));
        client.on('initFailed', ({ error }) => reject(error ?? new Error('initFailed')));
      });
      client.ready.catch(() => {});
      return client;
    },
    /** Shuts down every real SDK client made so far (a test's own, before the next test). */
    async shutdownClients() {
      const clients = sdkClients.splice(0);
      await Promise.race([
        Promise.allSettled(clients.map((c) => c.shutdown())),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
    },
    /** Connections, tunnelled requests and unknown frames or routes (GET /_emulator/realtime). */
    realtimeReport: () => control('realtime'),
    /** What the media service holds: {count, bytes, items}. */
    media: () => control('media'),
    /** A realtime fault: drop | expire | hold | release | delay | refuse, for `identity` (or all). */
    realtimeFault: (action, body = {}) => control(`realtime/${action}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }),
    /**
     * An access token from the official library's AccessToken + ChatGrant, signed with the
     * account's API key (or `secret`), for `service` (default: the first).
     */
    accessToken(identity, { ttl = 3600, secret = secrets.TWILIO_API_KEY_SECRET, service = services[0] } = {}) {
      const t = new twilio.jwt.AccessToken(secrets.TWILIO_ACCOUNT_SID, secrets.TWILIO_API_KEY_SID, secret, { identity, ttl });
      t.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: service }));
      return t.toJwt();
    },
    /** The official client, with the account's auth token or the API key, aimed at the emulator. */
    client({ apiKey = false } = {}) {
      const c = apiKey
        ? twilio(secrets.TWILIO_API_KEY_SID, secrets.TWILIO_API_KEY_SECRET, { accountSid: secrets.TWILIO_ACCOUNT_SID })
        : twilio(secrets.TWILIO_ACCOUNT_SID, secrets.TWILIO_AUTH_TOKEN);
      c.conversations.baseUrl = url;
      c.chat.baseUrl = url;
      return c;
    },
    /** Least privilege for visitors on `service` (default: the first), as `npm run deploy` sets it. */
    async leastPrivilege(service = services[0]) {
      const c = twilio(secrets.TWILIO_ACCOUNT_SID, secrets.TWILIO_AUTH_TOKEN);
      c.conversations.baseUrl = url;
      await applyVisitorRoles(await planVisitorRoles(c, service));
    },
    reset: () => control('reset', { method: 'POST' }),
    requests: async () => (await control('requests')).requests,
    deliveries: async () => (await control('deliveries')).deliveries,
    redeliver: async (id) => (await control(`deliveries/${id}/redeliver`, { method: 'POST' })).id,
    fault: (fault) => control('faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(fault) }),
    clearFaults: () => control('faults', { method: 'DELETE' }),
    /** Waits (at most `ms`) until no delivery is pending and at least `count` exist. */
    async settled({ count = 0, ms = 15_000 } = {}) {
      const deadline = Date.now() + ms;
      for (;;) {
        const { pending, deliveries } = await control('deliveries');
        if (pending === 0 && deliveries.length >= count) return deliveries;
        if (Date.now() > deadline) throw new Error(`deliveries not settled in ${ms} ms: ${JSON.stringify(deliveries)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** A visitor's SDK actions, with the access token the Worker issued. */
    sdk(token) {
      const call = async (method, path, body) => {
        const res = await fetch(`${url}/_sdk/${path}`, {
          method,
          headers: { 'X-Twilio-Token': token, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const json = await res.json();
        if (!res.ok) throw Object.assign(new Error(`sdk ${method} ${path}: ${res.status} ${JSON.stringify(json)}`), { status: res.status, body: json });
        return json;
      };
      return {
        createConversation: (attributes = {}) => call('POST', 'Conversations', { attributes }),
        join: (sid) => call('POST', `Conversations/${sid}/Participants`),
        send: (sid, body) => call('POST', `Conversations/${sid}/Messages`, { body }),
        /** Uploads `bytes` to the media service as this client, then sends them (with `body`). */
        sendMedia: async (sid, bytes, { contentType = 'image/png', filename = 'photo.png', body = '' } = {}) => {
          const service = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).grants.chat.service_sid;
          const res = await fetch(`${url}/v1/Services/${service}/Media?Category=media&Filename=${encodeURIComponent(filename)}`, {
            method: 'POST', headers: { 'X-Twilio-Token': token, 'Content-Type': contentType }, body: bytes,
          });
          if (!res.ok) throw new Error(`upload: ${res.status} ${await res.text()}`);
          return call('POST', `Conversations/${sid}/Messages`, { body, media_sids: [(await res.json()).sid] });
        },
        messages: async (sid) => (await call('GET', `Conversations/${sid}/Messages`)).messages,
      };
    },
  };
}

export { twilio, ConversationsClient };
