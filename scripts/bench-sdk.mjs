// `npm run bench` (SDK part): the real @twilio/conversations 3.0.1 (Node build) against the local
// emulator's realtime endpoint, on loopback. Times `new Client` -> initialized, create + join, and
// send -> messageAdded on another client (medians over at least 20 runs), then how many clients
// one emulator holds with messages flowing: steps of paired clients, each sending a few messages,
// bounded in clients (MAX_CLIENTS) and time (STEP_BUDGET_MS per step).
// Usage: node scripts/bench-sdk.mjs [runs, default 20] [max clients, default 200]
import { startEmulator } from '../tests/support/emulator.mjs';
import { testSecrets } from '../tests/support/worker.mjs';

const runs = Math.max(20, Math.min(Number(process.argv[2] ?? 20), 200));
const MAX_CLIENTS = Math.min(Number(process.argv[3] ?? 200), 400);
const STEP_BUDGET_MS = 60_000;
const MESSAGES_PER_CLIENT = 5;
const SERVICE = 'IS' + '5'.repeat(32);

const emu = await startEmulator({ secrets: testSecrets(), services: [SERVICE] });
const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function within(promise, what, ms = 15_000) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

async function client(identity) {
  return within(emu.sdkClient(emu.accessToken(identity)).ready, `${identity} initialized`);
}

/** `a` opens a conversation and adds `b`; both have read its history (see the tests' note). */
async function pair(a, b) {
  const mine = await a.createConversation({ attributes: { bench: true } });
  await mine.join();
  await mine.getMessages(30);
  const joined = new Promise((resolve) => {
    const on = (c) => { if (c.sid === mine.sid) { b.off('conversationJoined', on); resolve(c); } };
    b.on('conversationJoined', on);
  });
  await mine.add(b.user.identity);
  const theirs = await within(joined, 'joined');
  await theirs.getMessages(30);
  return [mine, theirs];
}

const init = [];
const createJoin = [];
const firstDelivery = [];
const delivery = [];
const bob = await client('bench:bob');
for (let i = 0; i < runs; i++) {
  const t0 = now();
  const alice = await client(`bench:alice:${i}`);
  init.push(now() - t0);
  const t1 = now();
  const c = await alice.createConversation({ attributes: { bench: true } });
  await c.join();
  createJoin.push(now() - t1);
  await c.getMessages(30);
  const joined = new Promise((resolve) => {
    const on = (x) => { if (x.sid === c.sid) { bob.off('conversationJoined', on); resolve(x); } };
    bob.on('conversationJoined', on);
  });
  await c.add('bench:bob');
  const theirs = await within(joined, 'bob joined');
  await theirs.getMessages(30);
  // The first message reaches a client that has just joined by replay, once the SDK's batched
  // subscription (about 100 ms after it reads the list) is established; later ones live.
  for (const samples of [firstDelivery, delivery]) {
    const heard = new Promise((resolve) => theirs.once('messageAdded', () => resolve(now())));
    const t2 = now();
    await c.sendMessage(`ping ${i}`);
    samples.push((await within(heard, 'messageAdded')) - t2);
  }
  await alice.shutdown();
}
await emu.shutdownClients();

console.log(`\nReal SDK (@twilio/conversations 3.0.1, Node ${process.version}) against the emulator, loopback, ${runs} runs`);
console.log('| step | median | min | max |');
console.log('|---|---|---|---|');
for (const [label, xs] of [['new Client -> initialized', init], ['createConversation + join', createJoin], ['first message -> messageAdded on a client that just joined', firstDelivery], ['sendMessage -> messageAdded on another client', delivery]]) {
  console.log(`| ${label} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} | ${fmt(Math.max(...xs))} |`);
}

// Capacity: paired clients, every client sends MESSAGES_PER_CLIENT messages; each must arrive at
// its partner. Steps double until MAX_CLIENTS, a failure, or the step's time budget.
console.log(`\nClients one emulator holds with messages flowing (pairs; ${MESSAGES_PER_CLIENT} messages each way per pair member; at most ${MAX_CLIENTS} clients, ${STEP_BUDGET_MS / 1000} s a step)`);
console.log('| clients | set up | messages | all delivered in | delivery p50 | p95 | emulator RSS |');
console.log('|---|---|---|---|---|---|---|');
for (let n = 10; n <= MAX_CLIENTS; n *= 2) {
  await emu.reset();
  const started = now();
  try {
    const clients = [];
    for (let i = 0; i < n; i += 10) {
      clients.push(...await Promise.all([...Array(Math.min(10, n - i)).keys()].map((k) => client(`load:${n}:${i + k}`))));
    }
    const pairs = [];
    for (let i = 0; i + 1 < clients.length; i += 2) pairs.push(await pair(clients[i], clients[i + 1]));
    // One message each way first, so that every subscription is established (see above).
    for (const [a, b] of pairs) {
      const heard = Promise.all([b, a].map((c) => new Promise((resolve) => c.once('messageAdded', resolve))));
      await a.sendMessage('warm-up');
      await within(heard, 'warm-up');
    }
    const setUp = now() - started;
    const latencies = [];
    let expected = 0;
    const arrivals = [];
    const t0 = now();
    for (const [a, b] of pairs) {
      for (const [from, to] of [[a, b], [b, a]]) {
        const sentAt = new Map();
        let count = 0;
        expected += MESSAGES_PER_CLIENT;
        arrivals.push(new Promise((resolve) => {
          to.on('messageAdded', (m) => {
            const at = sentAt.get(m.body);
            if (at === undefined) return;
            latencies.push(now() - at);
            if (++count === MESSAGES_PER_CLIENT) resolve();
          });
        }));
        for (let k = 0; k < MESSAGES_PER_CLIENT; k++) {
          const body = `${from.sid}:${k}:${Math.random()}`;
          sentAt.set(body, now());
          from.sendMessage(body).catch(() => {});
        }
      }
    }
    await within(Promise.all(arrivals), `${expected} messages`, Math.max(1000, STEP_BUDGET_MS - setUp));
    const elapsed = now() - t0;
    const rss = await emulatorRss();
    console.log(`| ${n} | ${(setUp / 1000).toFixed(1)} s | ${expected} | ${fmt(elapsed)} | ${fmt(quantile(latencies, 0.5))} | ${fmt(quantile(latencies, 0.95))} | ${rss} |`);
  } catch (e) {
    console.log(`| ${n} | stopped: ${e.message} | | | | | |`);
    break;
  } finally {
    await emu.shutdownClients();
  }
  if (now() - started > STEP_BUDGET_MS) break;
}

async function emulatorRss() {
  try {
    const { readFileSync } = await import('node:fs');
    const pid = emu.pid;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return `${(kb / 1024).toFixed(0)} MiB`;
  } catch {
    return 'n/a';
  }
}

await emu.stop();
process.exit(0);
