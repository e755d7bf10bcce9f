// `npm run bench` (media part): the real @twilio/conversations 3.0.1 (Node build) sends a 5 MB
// file through the local emulator's media service on loopback, and another client downloads it
// from the temporary link it is given. Times the send (upload + the message: `send()` resolving),
// the other client's `messageAdded`, and the download; medians of N runs (default 5). Each
// download is checked byte-equal.
// Usage: node scripts/bench-media.mjs [runs, default 5] [MB, default 5]
import { startEmulator } from '../tests/support/emulator.mjs';
import { testSecrets } from '../tests/support/worker.mjs';

const runs = Math.max(1, Math.min(Number(process.argv[2] ?? 5), 20));
const mb = Math.max(1, Math.min(Number(process.argv[3] ?? 5), 16));
const SERVICE = 'IS' + '6'.repeat(32);
const emu = await startEmulator({ secrets: testSecrets(), services: [SERVICE] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function within(promise, what, ms = 60_000) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

try {
  const alice = await within(emu.sdkClient(emu.accessToken('alice')).ready, 'alice');
  const bob = await within(emu.sdkClient(emu.accessToken('bob')).ready, 'bob');
  const mine = await alice.createConversation();
  await mine.join();
  await mine.getMessages(30);
  const joined = new Promise((resolve) => bob.on('conversationJoined', resolve));
  await mine.add('bob');
  const theirs = await within(joined, 'bob joined');
  await theirs.getMessages(30);
  const bytes = Buffer.alloc(mb * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 0xff;
  const send = [];
  const arrive = [];
  const download = [];
  for (let i = 0; i < runs; i += 1) {
    const added = new Promise((resolve) => theirs.once('messageAdded', resolve));
    const t0 = performance.now();
    await within(mine.sendMessage({ contentType: 'application/pdf', filename: `run ${i}.pdf`, media: bytes }), 'send');
    send.push(performance.now() - t0);
    const message = await within(added, 'messageAdded');
    arrive.push(performance.now() - t0);
    const t1 = performance.now();
    const got = Buffer.from(await (await fetch(await message.attachedMedia[0].getContentTemporaryUrl())).arrayBuffer());
    download.push(performance.now() - t1);
    if (!got.equals(bytes)) throw new Error('the download differs from the upload');
  }
  console.log(`\nThe real SDK (Node) and the emulator's media service on loopback, a ${mb} MB file, medians of ${runs}:`);
  console.log('| step | ms |');
  console.log('|---|---|');
  console.log(`| send (upload + message) | ${median(send).toFixed(0)} |`);
  console.log(`| the other client's messageAdded, from the send | ${median(arrive).toFixed(0)} |`);
  console.log(`| download from the temporary link (byte-equal) | ${median(download).toFixed(0)} |`);
  await alice.shutdown();
  await bob.shutdown();
} finally {
  emu.stop();
}
