// The real, unmodified @twilio/conversations 3.0.1 (its Node build) against the emulator's
// realtime endpoint (twilsock + the tunnelled client API + Sync): the SDK is the oracle for the
// protocol. Access tokens come from the official twilio library; agents write through its REST
// client; the auto-responder is the real Worker under `wrangler dev`. Every test ends with the
// emulator having seen no frame or route it does not know.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from './support/emulator.mjs';
import { startWorker, testSecrets } from './support/worker.mjs';

const secrets = testSecrets();
const SERVICE = 'IS' + '8'.repeat(32);
const ORIGIN = 'https://shop.example.com';
let emu;
let rest;

before(async () => {
  emu = await startEmulator({ secrets, services: [SERVICE] });
  rest = emu.client().conversations.v1.services(SERVICE);
});
after(() => emu?.stop());
afterEach(() => emu.shutdownClients());

/**
 * Waits until `identity`'s client has had its Sync subscriptions answered (the SDK sends them
 * about 100 ms after `initialized`). A test that cuts a client off first waits for this: a request
 * still in flight when the socket goes would be rejected inside the SDK 30 s later, with nobody
 * to catch it.
 */
async function settled(identity) {
  await until(async () => (await emu.realtimeReport()).requests
    .some((r) => r.identity === identity && r.path === '/v4/Subscriptions'), `${identity} subscribed`);
}

/** A real SDK client for `identity`, initialized (a token from the twilio library). */
async function connect(identity, options = {}) {
  const client = emu.sdkClient(emu.accessToken(identity, options));
  return within(client.ready, `${identity} initialized`);
}

function within(promise, what, ms = 8000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves with the first `event` from `emitter` whose arguments satisfy `predicate`. */
function next(emitter, event, predicate = () => true, ms = 8000) {
  return within(new Promise((resolve) => {
    const listener = (...args) => {
      if (predicate(...args)) {
        emitter.off(event, listener);
        resolve(args[0]);
      }
    };
    emitter.on(event, listener);
  }), `${event}`, ms);
}

/** Collects every `event` from `emitter` from now on. */
function collect(emitter, event) {
  const seen = [];
  emitter.on(event, (x) => seen.push(x));
  return seen;
}

async function until(predicate, what, ms = 8000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `identity` creates a conversation (with attributes) and joins it; `others` are added and
 * joined on their own clients, each having read the history first (the SDK fires
 * conversationJoined before it subscribes to the message list, so a client relies on
 * messageAdded only after a first read).
 */
async function chat(owner, others = []) {
  const conversation = await owner.createConversation({ friendlyName: 'chat', attributes: { site: 'acme' } });
  await conversation.join();
  await conversation.getMessages(30);
  const theirs = [];
  for (const other of others) {
    const joined = next(other, 'conversationJoined', (c) => c.sid === conversation.sid);
    await conversation.add(other.user.identity);
    const c = await joined;
    await c.getMessages(30);
    theirs.push(c);
  }
  return [conversation, ...theirs];
}

async function assertNothingUnknown() {
  const report = await emu.realtimeReport();
  assert.deepEqual(report.unknown, [], 'every frame and route the SDK used is served');
}

test('tokens are checked as Twilio checks them: a forged token is denied, an expired one too (tokenExpired)', async () => {
  await emu.reset();
  const forged = emu.sdkClient(emu.accessToken('visitor:forged', { secret: 'not-the-api-key-secret' }));
  const states = collect(forged, 'connectionStateChanged');
  await assert.rejects(within(forged.ready, 'forged initFailed'));
  assert.equal(forged.connectionState, 'denied');
  assert.ok(states.includes('denied'), JSON.stringify(states));

  const expired = emu.sdkClient(emu.accessToken('visitor:late', { ttl: -10 }));
  const tokenExpired = next(expired, 'tokenExpired');
  await assert.rejects(within(expired.ready, 'expired initFailed'));
  await tokenExpired;
  assert.equal(expired.connectionState, 'denied');

  const otherService = emu.sdkClient(emu.accessToken('visitor:x', { service: 'IS' + '9'.repeat(32) }));
  await assert.rejects(within(otherService.ready, 'other service initFailed'));
  await assertNothingUnknown();
});

test('two clients chat live: create with attributes, join, send with attributes, messageAdded both ways', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const bob = await connect('bob');
  assert.equal(alice.connectionState, 'connected');
  const [mine, theirs] = await chat(alice, [bob]);
  assert.deepEqual(mine.attributes, { site: 'acme' });
  assert.equal(mine.friendlyName, 'chat');
  assert.equal(mine.createdBy, 'alice');
  assert.equal(mine.status, 'joined');
  assert.equal(theirs.status, 'joined');
  assert.deepEqual(theirs.attributes, { site: 'acme' });

  const atBob = next(theirs, 'messageAdded');
  const atAlice = next(mine, 'messageAdded');
  assert.equal(await mine.sendMessage('hello', { edgechat_local_id: 7 }), 0);
  const [m, own] = await Promise.all([atBob, atAlice]);
  assert.equal(m.body, 'hello');
  assert.equal(m.author, 'alice');
  assert.equal(m.index, 0);
  assert.deepEqual(m.attributes, { edgechat_local_id: 7 });
  assert.ok(m.dateCreated instanceof Date && !Number.isNaN(m.dateCreated.getTime()));
  assert.equal(own.sid, m.sid);

  const back = next(mine, 'messageAdded');
  assert.equal(await theirs.sendMessage('hi alice'), 1);
  assert.equal((await back).author, 'bob');
  await until(() => mine.lastMessage?.index === 1, 'lastMessage follows');

  const participants = await mine.getParticipants();
  assert.deepEqual(participants.map((p) => p.identity).sort(), ['alice', 'bob']);
  // The same conversation, as a participant finds it again.
  assert.equal((await bob.getConversationBySid(mine.sid)).sid, mine.sid);
  assert.deepEqual((await bob.getSubscribedConversations()).items.map((c) => c.sid), [mine.sid]);
  await assertNothingUnknown();
});

test('history: the newest 30 first, then older pages, no duplicates; a join sees it all', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const [conversation] = await chat(alice);
  for (let i = 0; i < 45; i++) await rest.conversations(conversation.sid).messages.create({ author: 'agent:ana', body: `m${i}` });
  // A second client that joins later reads it from the start.
  const carol = await connect('carol');
  await rest.conversations(conversation.sid).participants.create({ identity: 'carol' });
  const c = await until(async () => (await carol.getSubscribedConversations()).items.find((x) => x.sid === conversation.sid), 'carol sees the conversation')
    .then(async () => carol.getConversationBySid(conversation.sid));
  for (const reader of [conversation, c]) {
    const newest = await reader.getMessages(30);
    assert.deepEqual(newest.items.map((m) => m.index), [...Array(30).keys()].map((i) => i + 15));
    assert.equal(newest.hasPrevPage, true);
    assert.equal(newest.hasNextPage, false);
    const older = await newest.prevPage();
    assert.deepEqual(older.items.map((m) => m.index), [...Array(15).keys()]);
    assert.equal(older.hasPrevPage, false);
    const again = await older.nextPage();
    assert.deepEqual(again.items.map((m) => m.index), newest.items.map((m) => m.index));
    assert.deepEqual(older.items.map((m) => m.body), [...Array(15).keys()].map((i) => `m${i}`));
  }
  // An anchor: the 10 at and before index 20.
  const anchored = await conversation.getMessages(10, 20);
  assert.deepEqual(anchored.items.map((m) => m.index), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  await assertNothingUnknown();
});

test('typing starts and ends (at the timeout, or when the typist\'s message arrives)', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const bob = await connect('bob');
  const [mine, theirs] = await chat(alice, [bob]);
  const started = next(mine, 'typingStarted');
  await theirs.typing();
  const typist = await started;
  assert.equal(typist.identity, 'bob');
  const ended = next(mine, 'typingEnded');
  await theirs.sendMessage('done typing');
  assert.equal((await ended).identity, 'bob');
  // Without a message, typing ends after the timeout the emulator gives (5 s). The SDK throttles
  // typing() to once per timeout per Conversation object, so bob types again from a second client
  // (his other tab) rather than waiting the throttle out.
  const again = next(mine, 'typingStarted');
  const bobElsewhere = await connect('bob');
  const hisOther = await bobElsewhere.getConversationBySid(mine.sid);
  await hisOther.typing();
  assert.equal((await again).identity, 'bob');
  await next(mine, 'typingEnded', () => true, 8000);
  // Nobody hears their own typing.
  const own = collect(theirs, 'typingStarted');
  await theirs.typing();
  // A barrier: the other's typing reaches bob after anything the emulator sent him before it.
  const heard = next(theirs, 'typingStarted');
  await mine.typing();
  assert.equal((await heard).identity, 'alice');
  assert.deepEqual(own.map((p) => p.identity), ['alice'], 'bob never hears his own typing');
  await assertNothingUnknown();
});

test('read horizons: one\'s own, the unread count, and the other\'s (participantUpdated)', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const bob = await connect('bob');
  const [mine, theirs] = await chat(alice, [bob]);
  for (let i = 0; i < 3; i++) await mine.sendMessage(`m${i}`);
  assert.equal(await theirs.getUnreadMessagesCount(), null, 'no horizon yet');
  const seen = next(mine, 'participantUpdated', ({ participant, updateReasons }) =>
    participant.identity === 'bob' && updateReasons.includes('lastReadMessageIndex') && participant.lastReadMessageIndex === 2);
  assert.equal(await theirs.setAllMessagesRead(), 0);
  const { participant } = await seen;
  assert.equal(participant.lastReadMessageIndex, 2);
  assert.ok(participant.lastReadTimestamp instanceof Date);
  await until(() => theirs.lastReadMessageIndex === 2, 'bob\'s own horizon');
  assert.equal(await theirs.updateLastReadMessageIndex(0), 2);
  // The SDK caches GETs for a while (http_cache_interval), so ask until the answer is fresh.
  await until(async () => (await theirs.getUnreadMessagesCount()) === 2, 'unread count 2');
  await assertNothingUnknown();
});

test('a token is renewed on tokenAboutToExpire; after tokenExpired, updateToken reconnects', async () => {
  await emu.reset();
  // 5 s to live: warned a fifth of its life before expiry.
  const warned = emu.sdkClient(emu.accessToken('visitor:renew', { ttl: 5 }));
  const events = collect(warned, 'tokenExpired');
  await within(warned.ready, 'ready');
  await next(warned, 'tokenAboutToExpire', () => true, 8000);
  await warned.updateToken(emu.accessToken('visitor:renew', { ttl: 3600 }));
  const [conversation] = await chat(warned);
  await new Promise((r) => setTimeout(r, 2000)); // past the first token's expiry
  assert.deepEqual(events, [], 'no tokenExpired after a renewal');
  assert.equal(warned.connectionState, 'connected');
  assert.equal(await conversation.sendMessage('still here'), 0);

  // 3 s to live and not renewed: warned, then expired (close 410); a new token reconnects.
  const lapsed = emu.sdkClient(emu.accessToken('visitor:lapse', { ttl: 3 }));
  const order = [];
  lapsed.on('tokenAboutToExpire', () => order.push('tokenAboutToExpire'));
  lapsed.on('tokenExpired', () => order.push('tokenExpired'));
  await within(lapsed.ready, 'ready');
  await until(() => order.includes('tokenExpired'), 'tokenExpired', 8000);
  assert.deepEqual(order, ['tokenAboutToExpire', 'tokenExpired']);
  // The SDK surprise: after `close` 410 it reaches `disconnected` only by its own 3 s timer
  // (it detaches onclose before closing), and an updateToken before that is an invalid state
  // transition that never settles. An app renews once the state is `disconnected`.
  await until(() => lapsed.connectionState === 'disconnected', 'disconnected after expiry', 8000);
  const reconnected = next(lapsed, 'connectionStateChanged', (s) => s === 'connected');
  await within(lapsed.updateToken(emu.accessToken('visitor:lapse', { ttl: 3600 })), 'updateToken after expiry');
  await reconnected;
  const [again] = await chat(lapsed);
  assert.equal(await again.sendMessage('back'), 0);

  // The emulator's control: a token expires now.
  const now = await connect('visitor:now');
  await settled('visitor:now');
  const expiredNow = next(now, 'tokenExpired');
  assert.equal((await emu.realtimeFault('expire', { identity: 'visitor:now' })).connections, 1);
  await expiredNow;
  await until(() => now.connectionState === 'disconnected', 'disconnected after expire-now', 8000);
  await within(now.updateToken(emu.accessToken('visitor:now')), 'renewed after expire-now');
  await until(() => now.connectionState === 'connected', 'connected again');

  // A renewal may not change who the client is.
  const other = await connect('visitor:same');
  await settled('visitor:same');
  await assert.rejects(within(other.updateToken(emu.accessToken('visitor:someone-else')), 'identity change refused'));
  await until(() => other.connectionState === 'denied', 'denied after an identity change');
  await assertNothingUnknown();
});

test('a dropped socket reconnects and replays what was written meanwhile, once each', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const bob = await connect('bob');
  const [mine, theirs] = await chat(alice, [bob]);
  const added = collect(theirs, 'messageAdded');
  const states = collect(bob, 'connectionStateChanged');
  await emu.realtimeFault('refuse', { identity: 'bob', ms: 1500 });
  assert.equal((await emu.realtimeFault('drop', { identity: 'bob' })).connections, 1);
  await until(() => bob.connectionState !== 'connected', 'bob notices the drop');
  for (const body of ['while', 'you', 'were away']) await mine.sendMessage(body);
  await rest.conversations(mine.sid).messages.create({ author: 'agent:ana', body: 'and an agent' });
  await until(() => added.length >= 4, 'replayed messages', 15_000);
  assert.ok(states.includes('connecting') && states.at(-1) === 'connected', JSON.stringify(states));
  // Live again; pushes keep their order, so a replayed copy would arrive before this one.
  const live = next(theirs, 'messageAdded');
  await mine.sendMessage('live');
  assert.equal((await live).index, 4);
  assert.deepEqual(added.map((m) => m.body), ['while', 'you', 'were away', 'and an agent', 'live']);
  assert.deepEqual(added.map((m) => m.index), [0, 1, 2, 3, 4]);
  await assertNothingUnknown();
});

test('held pushes arrive late but in order; delayed ones too', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const bob = await connect('bob');
  const [mine, theirs] = await chat(alice, [bob]);
  const added = collect(theirs, 'messageAdded');
  await emu.realtimeFault('hold', { identity: 'bob' });
  await mine.sendMessage('one');
  await mine.sendMessage('two');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(added, [], 'nothing while held');
  await emu.realtimeFault('release', { identity: 'bob' });
  await until(() => added.length === 2, 'released');
  assert.deepEqual(added.map((m) => m.body), ['one', 'two']);
  await emu.realtimeFault('delay', { identity: 'bob', ms: 150 });
  const started = Date.now();
  await mine.sendMessage('three');
  await until(() => added.length === 3, 'delayed');
  assert.ok(Date.now() - started >= 150);
  await emu.realtimeFault('delay', { identity: 'bob', ms: 0 });
  await assertNothingUnknown();
});

test('REST and console writes reach clients live; a closed conversation says so; a deleted one is gone', async () => {
  await emu.reset();
  const alice = await connect('visitor:acme:1');
  const [conversation] = await chat(alice);
  const viaRest = next(conversation, 'messageAdded');
  await rest.conversations(conversation.sid).messages.create({ author: 'agent:ana', body: 'from REST', attributes: '{"a":1}' });
  const m = await viaRest;
  assert.equal(m.author, 'agent:ana');
  assert.deepEqual(m.attributes, { a: 1 });

  const viaConsole = next(conversation, 'messageAdded');
  const res = await fetch(`${emu.url}/_emulator/console/conversations/${conversation.sid}/messages`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ body: 'from the console' }),
  });
  assert.equal(res.status, 201);
  assert.equal((await viaConsole).author, 'agent:console');
  const joined = await conversation.getParticipants();
  assert.ok(joined.some((p) => p.identity === 'agent:console'));

  const updated = next(conversation, 'updated', ({ updateReasons }) => updateReasons.includes('state'));
  await rest.conversations(conversation.sid).update({ state: 'closed' });
  await updated;
  assert.equal(conversation.state.current, 'closed');
  await assert.rejects(conversation.sendMessage('still there?'));

  const [other] = await chat(alice);
  const removed = next(alice, 'conversationRemoved', (c) => c.sid === other.sid);
  await rest.conversations(other.sid).remove();
  await removed;
  await assert.rejects(alice.getConversationBySid(other.sid));
  await assertNothingUnknown();
});

test('a conversation one is not in can be peeked, not read; conversation attributes and names update live', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const eve = await connect('eve');
  const [conversation] = await chat(alice);
  await conversation.sendMessage('private');
  const peeked = await eve.getConversationBySid(conversation.sid);
  assert.equal(peeked.status, 'notParticipating');
  assert.deepEqual(peeked.attributes, { site: 'acme' });
  await assert.rejects(within(peeked.getMessages(30), 'a stranger reads messages'));
  const updated = next(conversation, 'updated', ({ updateReasons }) => updateReasons.includes('attributes'));
  await conversation.updateAttributes({ site: 'acme', topic: 'billing' });
  await updated;
  assert.deepEqual(conversation.attributes, { site: 'acme', topic: 'billing' });
  await conversation.updateFriendlyName('renamed');
  await until(() => conversation.friendlyName === 'renamed', 'renamed');
  const me = await alice.getUser('alice');
  await me.updateFriendlyName('Alice A.');
  await until(() => me.friendlyName === 'Alice A.', 'user renamed');
  await conversation.leave();
  await until(() => conversation.status === 'notParticipating', 'left');
  await assertNothingUnknown();
});

test('the auto-responder (the real Worker) answers a real SDK visitor, live', async () => {
  await emu.reset();
  const worker = await startWorker({
    secrets: { ...secrets, TWILIO_API_BASE: emu.url },
    sites: {
      auto: JSON.stringify({
        allowed_origins: [ORIGIN], service_sid: SERVICE,
        automation: { auto_reply: { bot_name: 'Acme bot', greeting: 'Hello from the bot!' } },
      }),
    },
  });
  try {
    await rest.configuration.webhooks().update({
      postWebhookUrl: `${worker.url}/webhooks/conversations`, filters: ['onConversationAdded', 'onMessageAdded'], method: 'POST',
    });
    const res = await fetch(`${worker.url}/api/sites/auto/token`, {
      method: 'POST', headers: { Origin: ORIGIN, 'Content-Type': 'application/json' }, body: '{}',
    });
    assert.equal(res.status, 200);
    const { token, identity } = await res.json();
    const visitor = await within(emu.sdkClient(token).ready, 'visitor initialized');
    assert.equal(visitor.user.identity, identity);
    const [conversation] = await chat(visitor);
    const answer = next(conversation, 'messageAdded', (m) => m.author === 'Acme bot', 15_000);
    await conversation.sendMessage('hi there');
    assert.equal((await answer).body, 'Hello from the bot!');
    const deliveries = await emu.settled({ count: 2 });
    const sdkEvent = deliveries.find((d) => d.event_type === 'onMessageAdded' && d.params.some(([k, v]) => k === 'Source' && v === 'SDK'));
    assert.ok(sdkEvent, 'the SDK send fired onMessageAdded with Source=SDK');
    assert.ok(sdkEvent.params.some(([k, v]) => k === 'ClientIdentity' && v === identity));
  } finally {
    await rest.configuration.webhooks().update({ postWebhookUrl: '' });
    worker.stop();
  }
  await assertNothingUnknown();
});

// The SDK's Sync list drops an item's added event when a page it asked for already held that
// item (same event id): a server must push a write's events before any reply that shows the
// write. A visitor who reads every message as it arrives (setAllMessagesRead asks for the newest
// page) while agents write quickly lost 1 message in 20 rounds before the emulator did.
// todo: on this machine it fails about 1 run in 2 (always at round 1: the three messages that
// come while round 0's three setAllMessagesRead page queries are in flight are not heard within
// 8 s). A trace of the socket shows their list_item_added pushes written in order, after the
// list's subscription_established and before the replies to those queries, so the emulator's
// ordering is what Twilio's is; the SDK still drops them. Not found yet; the widget does not
// query a page per message (it advances its read horizon by index).
// Why a client must not read with setAllMessagesRead while messages arrive: the SDK's own race,
// found by tracing its sources. Twilsock hands notifications on a timer (setTimeout 0) but
// settles replies at once, and a Sync list page caches an item it has not heard of without an
// event; its push, handled after, is then "already known" and messageAdded never fires. Twilio's
// pushes travel apart from replies (their fan-out is its own pipeline), so a page can show a
// message before its push on Twilio too. Held pushes make that order certain here.
test('a message a page showed before its push is never announced by the SDK; lastMessage still names it', async () => {
  await emu.reset();
  const alice = await connect('visitor:acme:pager');
  const [conversation] = await chat(alice);
  const heard = collect(conversation, 'messageAdded');
  const updates = collect(conversation, 'updated');
  await emu.realtimeFault('hold', { identity: 'visitor:acme:pager' });
  await rest.conversations(conversation.sid).messages.create({ author: 'agent:ana', body: 'paged first' });
  const page = await conversation.getMessages(1);
  assert.deepEqual(page.items.map((m) => m.body), ['paged first'], 'the page shows it before its push');
  await emu.realtimeFault('release', { identity: 'visitor:acme:pager' });
  await rest.conversations(conversation.sid).messages.create({ author: 'agent:ana', body: 'pushed first' });
  // Pushes keep their order: had the first been announced, it would be heard before this one.
  await until(() => heard.length >= 1, 'the second message announced');
  assert.deepEqual(heard.map((m) => m.body), ['pushed first'], 'the paged message is dropped by the SDK');
  // What a client fills the gap from: the conversation's lastMessage moves with every message.
  await until(() => conversation.lastMessage?.index === 1, 'lastMessage names the newest');
  assert.ok(updates.some((u) => u.updateReasons.includes('lastMessage')), 'an updated event says so');
  await assertNothingUnknown();
});

test('a client that reads each message as it arrives (advancing its read horizon, no page) hears every one of a burst', async () => {
  await emu.reset();
  const alice = await connect('visitor:acme:reader');
  const [conversation] = await chat(alice);
  const heard = [];
  conversation.on('messageAdded', (m) => {
    heard.push(m.body);
    conversation.advanceLastReadMessageIndex(m.index).catch(() => {});
  });
  const sent = [];
  for (let round = 0; round < 25; round++) {
    const bodies = [0, 1, 2].map((i) => `r${round}m${i}`);
    await Promise.all(bodies.map((body) => rest.conversations(conversation.sid).messages.create({ author: 'agent:ana', body })));
    sent.push(...bodies);
    await until(() => heard.length >= sent.length, `round ${round}: ${sent.length} messageAdded (heard ${heard.length})`);
  }
  assert.deepEqual([...heard].sort(), [...sent].sort(), 'each once');
  await until(() => conversation.lastReadMessageIndex === sent.length - 1,
    'read horizon at the newest');
  await assertNothingUnknown();
});

test('media both ways over the media service: the SDK uploads and downloads byte-equal; REST sees it and sends it; others cannot read it', async () => {
  await emu.reset();
  const alice = await connect('alice');
  const bob = await connect('bob');
  const [mine, theirs] = await chat(alice, [bob]);
  // Every byte value, and more than one read's worth.
  const bytes = Buffer.alloc(300_000);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  const atBob = next(theirs, 'messageAdded');
  const index = await mine.prepareMessage().setBody('the invoice').addMedia({ contentType: 'application/pdf', filename: 'invoice 7.pdf', media: bytes }).build().send();
  const got = await atBob;
  assert.equal(got.index, index);
  assert.equal(got.type, 'media');
  assert.equal(got.body, 'the invoice');
  assert.equal(got.attachedMedia.length, 1);
  const [media] = got.attachedMedia;
  assert.deepEqual([media.contentType, media.filename, media.size, media.category], ['application/pdf', 'invoice 7.pdf', bytes.length, 'media']);
  const url = await media.getContentTemporaryUrl();
  const downloaded = Buffer.from(await (await fetch(url)).arrayBuffer());
  assert.ok(downloaded.equals(bytes), 'byte-equal');
  // A legacy single-media send too.
  const atAlice = next(mine, 'messageAdded');
  await theirs.sendMessage({ contentType: 'image/png', filename: 'dot.png', media: Buffer.from('89504e470d0a1a0a', 'hex') });
  const png = await atAlice;
  assert.equal(png.attachedMedia[0].contentType, 'image/png');
  assert.equal(png.body, null);

  // REST (the official client) sees the media; an agent sends an uploaded item back by MediaSid.
  const messages = await rest.conversations(mine.sid).messages.list();
  assert.deepEqual(messages[0].media, [{ sid: media.sid, content_type: 'application/pdf', filename: 'invoice 7.pdf', size: bytes.length }]);
  const upload = await fetch(`${emu.url}/v1/Services/${SERVICE}/Media?Category=media&Filename=reply.txt`, {
    method: 'POST', body: 'agent text',
    headers: { 'Content-Type': 'text/plain', Authorization: `Basic ${Buffer.from(`${secrets.TWILIO_ACCOUNT_SID}:${secrets.TWILIO_AUTH_TOKEN}`).toString('base64')}` },
  });
  assert.equal(upload.status, 201);
  const uploaded = await upload.json();
  const fromAgent = next(mine, 'messageAdded');
  await rest.conversations(mine.sid).messages.create({ author: 'agent:ana', mediaSid: uploaded.sid });
  const reply = await fromAgent;
  assert.equal(await (await fetch(await reply.attachedMedia[0].getContentTemporaryUrl())).text(), 'agent text');
  // The same item cannot go on a second message.
  await assert.rejects(rest.conversations(mine.sid).messages.create({ author: 'agent:ana', mediaSid: uploaded.sid }), /on a message already/);

  // Someone outside the conversation cannot read it, with a token of their own.
  const eve = emu.accessToken('eve');
  const denied = await fetch(`${emu.url}/v1/Services/${SERVICE}/Media/${media.sid}`, { headers: { 'X-Twilio-Token': eve } });
  assert.equal(denied.status, 403);
  // A tampered temporary link is refused; a preflight from a page is answered.
  assert.equal((await fetch(url.replace(/Signature=./, 'Signature=0'))).status, 401);
  const preflight = await fetch(`${emu.url}/v1/Services/${SERVICE}/Media`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Headers': 'x-twilio-token,content-type' } });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get('access-control-allow-headers'), /X-Twilio-Token/);
  await assertNothingUnknown();
});
