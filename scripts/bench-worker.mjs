// `npm run bench`: the Worker's request rate on /api/sites/demo/token against /health (a trivial
// route) under the same load, and the Worker's upload size. Loopback only, bounded in time.
// Routes are measured in alternating rounds and compared by their median rate, because wrangler
// dev's local proxy and a shared 2-core machine make any single run noisy.
// Usage: node scripts/bench-worker.mjs [seconds per run, default 5] [rounds, default 5] [connections, default 16]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startWorker, testSecrets, ROOT } from '../tests/support/worker.mjs';
import { WORKER_GZIP_KIB } from './lib/budgets.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 5);
const connections = Number(process.argv[4] ?? 16);
const ORIGIN = 'https://bench.test';
const demo = JSON.parse(readFileSync(`${ROOT}/sites/demo.json`, 'utf8'));
demo.allowed_origins = [ORIGIN];

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections, duration: seconds, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// Each request from another client address, as from many visitors: the new-visitor limit (30 a
// minute per address) is exercised on every call but does not turn the run into 429s.
let n = 0;
const nextIp = () => { n++; return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`; };

const worker = await startWorker({ secrets: testSecrets(), sites: { demo: JSON.stringify(demo) } });
try {
  const health = { url: `${worker.url}/health` };
  const token = {
    url: `${worker.url}/api/sites/demo/token`,
    method: 'POST',
    headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
    body: '{}',
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'CF-Connecting-IP': nextIp() } }) }],
  };
  // Warm-up: JIT, wasm instantiation, KV cache.
  await new Promise((r) => autocannon({ ...health, connections, duration: 2 }, r));
  await new Promise((r) => autocannon({ ...token, connections, duration: 2 }, r));
  const rates = { health: [], token: [] };
  const latency = { health: [], token: [] };
  let notOk = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [name, opts] of [['health', health], ['token', token]]) {
      const r = await run(opts);
      rates[name].push(r.requests.average);
      latency[name].push(r.latency.p50);
      notOk += r.non2xx + r.errors + r.timeouts;
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const name of ['health', 'token']) {
    console.log(`${name.padEnd(6)} median ${median(rates[name]).toFixed(0).padStart(5)} req/s (runs: ${rates[name].map((x) => x.toFixed(0)).join(', ')}), median p50 latency ${median(latency[name])} ms`);
  }
  if (notOk > 0) console.log(`warning: ${notOk} responses were not 2xx`);
  const ratio = median(rates.token) / median(rates.health);
  console.log(`token/health rate ratio: ${(ratio * 100).toFixed(1)}% (budget >= 90%); ${rounds} alternating rounds of ${seconds} s, ${connections} connections`);
} finally {
  worker.stop();
}

const dry = spawnSync(`${ROOT}/node_modules/.bin/wrangler`, ['deploy', '--dry-run', '--outdir', `${ROOT}/dist`], {
  cwd: ROOT, encoding: 'utf8', timeout: 300_000,
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
});
const upload = `${dry.stdout}${dry.stderr}`.match(/Total Upload:.*$/m);
console.log(upload ? `Worker ${upload[0]} (budget <= ${WORKER_GZIP_KIB} KiB gzip)` : `wrangler deploy --dry-run failed:\n${dry.stdout}${dry.stderr}`);
