// Starts the real Worker under `wrangler dev` (workerd, local KV) on 127.0.0.1 for a test file,
// with the project's own wrangler.toml, its own secrets (--env-file), its own KV state and sites,
// and stops it by its process group id. The Worker must already be built (scripts/test.sh does).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
const QUIET = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  NO_UPDATE_NOTIFIER: '1',
  FORCE_COLOR: '0',
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {object} options
 * @param {Record<string, string>} options.secrets  the Worker's secrets (written to an env file)
 * @param {Record<string, string>} options.sites    site id -> raw config text stored in KV
 */
export async function startWorker({ secrets, sites = {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgechat-worker-'));
  const envFile = join(dir, 'test.env');
  writeFileSync(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join(''));
  const state = join(dir, 'state');
  const entries = Object.entries(sites).map(([id, text]) => ({ key: `site:${id}`, value: text }));
  if (entries.length) {
    const bulk = join(dir, 'sites.json');
    writeFileSync(bulk, JSON.stringify(entries));
    const put = spawnSync(WRANGLER, ['kv', 'bulk', 'put', bulk, '--binding', 'CONFIG', '--local', '--persist-to', state],
      { cwd: ROOT, env: { ...process.env, ...QUIET }, encoding: 'utf8', timeout: 60_000 });
    if (put.status !== 0) throw new Error(`seeding KV failed: ${put.stderr}${put.stdout}`);
  }

  const port = await freePort();
  const child = spawn(WRANGLER, ['dev', '--ip', '127.0.0.1', '--port', String(port), '--env-file', envFile,
    '--persist-to', state, '--inspector-port', '0', '--show-interactive-dev-session=false', '--log-level', 'log'],
  { cwd: ROOT, env: { ...process.env, ...QUIET }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      stop();
      throw new Error(`wrangler dev was not ready within 90 s:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }

  function stop() {
    if (!exited) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }

  /** Waits (at most `ms`) for a log line matching `pattern`: wrangler prints after it answers. */
  async function waitForLog(pattern, ms = 10_000) {
    const deadline = Date.now() + ms;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${ms} ms:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return { url, port, stop, logs: () => output, waitForLog, state, envFile };
}

/** Secrets in the shapes Twilio uses, random for each call. */
export function testSecrets() {
  const hex = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return {
    TWILIO_ACCOUNT_SID: `AC${hex(16)}`,
    TWILIO_API_KEY_SID: `SK${hex(16)}`,
    TWILIO_API_KEY_SECRET: hex(16),
    TWILIO_AUTH_TOKEN: hex(16),
    VISITOR_SIGNING_SECRET: hex(32),
    // What a site's backend signs user tokens with (sites that name it in identity_verification).
    DEMO_IDENTITY_SECRET: hex(32),
  };
}
