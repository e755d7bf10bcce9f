// The widget end to end, conversations that end: the visitor ends theirs from the panel (with a
// confirmation; the Worker proves their credential and closes it over REST), an agent closes it
// from the emulator's console; either way the panel says so, the host page hears
// `edgechat:conversation-ended`, and the next message starts a new conversation, never one that
// is closed. The Worker's route refuses anyone but the conversation's visitor. The transcript
// download holds the whole conversation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  useWidgetEnv, config, quiet, host, emu, client, worker, browser, service, until, visit, identityOf,
  composer, log, panel, stored, allDelivered, bodiesIn, openAndConnect, send, focused,
} from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'd7'.repeat(16),
  sites: () => ({
    bye: config(quiet), agent: config(quiet), other: config(quiet), transcript: config(quiet),
    rated: config({ ...quiet, ask_rating: true }),
  }),
});

/** The emulator's agent console in a tab of its own. */
async function consolePage(t) {
  const page = await browser.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.goto(`${emu.url}/_emulator/console`);
  return page;
}

const state = async (sid) => (await client.conversations.v1.services(service).conversations(sid).fetch()).state;
const ended = (page) => page.evaluate(() => window.__events.filter((e) => e.name === 'conversation-ended'));

test('the visitor ends the conversation from the panel: confirmed, closed at Twilio, then a new one', async (t) => {
  const { page } = await visit(t, 'bye');
  await openAndConnect(page);
  const options = panel(page).getByRole('button', { name: 'Chat options' });
  const end = async () => {
    await options.click();
    await panel(page).getByRole('menuitem', { name: 'End conversation' }).click();
  };
  assert.equal(await options.count(), 0, 'nothing to end before the first message');
  await send(page, 'Thanks, that is all');
  const first = await stored(page, 'bye', 'conversation');
  // Asked first; Cancel keeps it.
  await end();
  await panel(page).getByText('End this conversation?').waitFor();
  await until(async () => (await focused(page)) === 'button', 'focus on the confirmation');
  await panel(page).getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await state(first), 'active');
  await end();
  await panel(page).getByRole('group', { name: 'End conversation' }).getByRole('button', { name: 'End conversation' }).click();
  await log(page).getByText('This conversation has ended').waitFor();
  assert.equal(await state(first), 'closed');
  assert.equal(await stored(page, 'bye', 'conversation'), null);
  assert.deepEqual(await ended(page), [{ name: 'conversation-ended', detail: { conversation: first } }], 'announced once');
  await log(page).getByRole('button', { name: 'Start a new conversation' }).click();
  await until(async () => (await focused(page)) === 'Message', 'the composer has focus');
  await send(page, 'A new question');
  await allDelivered(page);
  const second = await stored(page, 'bye', 'conversation');
  assert.notEqual(second, first);
  assert.deepEqual(await bodiesIn(second), ['A new question']);
  assert.deepEqual(await bodiesIn(first), ['Thanks, that is all']);
});

test('an agent closes the conversation from the console: the panel says so, and the next message starts a new one', async (t) => {
  const { page } = await visit(t, 'agent');
  await openAndConnect(page);
  await send(page, 'Hello');
  const first = await stored(page, 'agent', 'conversation');
  // The agent picks the visitor's conversation in the console and closes it.
  const agent = await consolePage(t);
  await agent.getByRole('navigation').getByRole('button').filter({ hasText: await identityOf(page, 'agent') }).click();
  await agent.getByText(`${first} (active)`).waitFor();
  await agent.getByRole('button', { name: 'Close conversation' }).click();
  await agent.getByText(`${first} (closed)`).waitFor();
  assert.equal(await agent.getByRole('button', { name: 'Close conversation' }).isHidden(), true);
  assert.equal(await agent.getByRole('textbox', { name: 'Reply' }).isHidden(), true, 'no replies to a closed conversation');
  await log(page).getByText('This conversation has ended').waitFor();
  assert.equal(await state(first), 'closed');
  await composer(page).fill('Typed after the end');
  await composer(page).press('Enter');
  await allDelivered(page);
  const second = await stored(page, 'agent', 'conversation');
  assert.notEqual(second, first);
  assert.deepEqual(await bodiesIn(second), ['Typed after the end']);
});

test('the end route: only the conversation\'s own visitor may end it, and bad input is refused clearly', async (t) => {
  const { page } = await visit(t, 'other');
  await openAndConnect(page);
  await send(page, 'Mine');
  const mine = await stored(page, 'other', 'conversation');
  const credential = await stored(page, 'other', 'visitor');
  const end = (sid, body, origin = host.origin) => fetch(`${worker.url}/api/sites/other/conversations/${sid}/end`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body),
  });
  const expect = async (res, status, code) => {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    return body.error.message;
  };
  // Another visitor of the same site.
  const stranger = await (await fetch(`${worker.url}/api/sites/other/token`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: host.origin }, body: '{}',
  })).json();
  assert.match(await expect(await end(mine, { visitor: stranger.visitor }), 404, 'unknown_conversation'), /no conversation CH/);
  await expect(await end('CH' + '0'.repeat(32), { visitor: credential }), 404, 'unknown_conversation');
  await expect(await end('not-a-sid', { visitor: credential }), 404, 'unknown_conversation');
  await expect(await end(mine, { visitor: credential.slice(0, -2) + 'xx' }), 401, 'invalid_visitor_credential');
  await expect(await end(mine, {}), 400, 'invalid_json');
  await expect(await end(mine, { visitor: credential }, 'https://evil.test'), 403, 'origin_not_allowed');
  assert.equal((await fetch(`${worker.url}/api/sites/other/conversations/${mine}/end`)).status, 405);
  assert.equal(await state(mine), 'active', 'none of those ended it');
  const ok = await end(mine, { visitor: credential });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { state: 'closed' });
  assert.equal(await state(mine), 'closed');
  // Again: still ended, not an error.
  assert.equal((await end(mine, { visitor: credential })).status, 200);
  await log(page).getByText('This conversation has ended').waitFor();
});

test('"Download transcript" saves the whole conversation (every page, not only what is shown) as text', async (t) => {
  const { page } = await visit(t, 'transcript');
  await openAndConnect(page);
  await send(page, 'Question one');
  const sid = await stored(page, 'transcript', 'conversation');
  const conversation = client.conversations.v1.services(service).conversations(sid);
  // More than the log's first page (30): the transcript pages back through all of them.
  for (let i = 1; i <= 35; i++) await conversation.messages.create({ author: 'agent:ana', body: `Answer ${String(i).padStart(2, '0')}` });
  await conversation.messages.create({ author: 'agent:ana', body: 'Two\nlines' });
  // The transcript reads every page from the service, whatever the log shows live.
  await panel(page).getByRole('button', { name: 'Chat options' }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel(page).getByRole('menuitem', { name: 'Download transcript' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^chat-transcript-\d{4}-\d{2}-\d{2}\.txt$/);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.split('\r\n');
  assert.equal(lines[0], 'Chat transcript: Acme support', 'the site\'s title');
  assert.match(lines[2], /^\[.+\] You: Question one$/);
  assert.match(lines[3], /^\[.+\] ana: Answer 01$/);
  assert.match(lines[37], /^\[.+\] ana: Answer 35$/);
  assert.match(lines[38], /^\[.+\] ana: Two$/);
  assert.equal(lines[39], '    lines');
  assert.equal(lines.length, 41, 'every message, once');
});

test('a site that asks for ratings: the visitor rates as they end; the rating is in the conversation\'s attributes and the console shows it', async (t) => {
  const { page } = await visit(t, 'rated');
  await openAndConnect(page);
  await send(page, 'It took a while');
  const sid = await stored(page, 'rated', 'conversation');
  const credential = await stored(page, 'rated', 'visitor');
  await panel(page).getByRole('button', { name: 'Chat options' }).click();
  await panel(page).getByRole('menuitem', { name: 'End conversation' }).click();
  const confirm = panel(page).getByRole('group', { name: 'End conversation' });
  const rate = confirm.getByRole('group', { name: 'Rate this conversation (optional)' });
  const down = rate.getByRole('button', { name: 'Not good' });
  assert.equal(await rate.getByRole('textbox').count(), 0, 'the comment comes with a score');
  await down.click();
  assert.equal(await down.getAttribute('aria-pressed'), 'true');
  assert.equal(await rate.getByRole('button', { name: 'Good', exact: true }).getAttribute('aria-pressed'), 'false');
  await rate.getByRole('textbox', { name: 'Comment (optional)' }).fill('Slow, but solved');
  await confirm.getByRole('button', { name: 'End conversation' }).click();
  await log(page).getByText('This conversation has ended').waitFor();
  const conversation = await client.conversations.v1.services(service).conversations(sid).fetch();
  assert.equal(conversation.state, 'closed');
  const attributes = JSON.parse(conversation.attributes);
  assert.equal(attributes.edgechat_rating.score, 'down');
  assert.equal(attributes.edgechat_rating.comment, 'Slow, but solved');
  assert.ok(Math.abs(Date.parse(attributes.edgechat_rating.rated_at) - Date.now()) < 60_000, attributes.edgechat_rating.rated_at);
  assert.ok(attributes.page_url, 'the attributes the widget set when it started the conversation are kept');

  const agent = await consolePage(t);
  await agent.getByRole('navigation').getByRole('button').filter({ hasText: await identityOf(page, 'rated') }).click();
  await agent.getByText("Visitor's rating: 👎 not good: “Slow, but solved”").waitFor();

  // The route: a rating only with the end, only where the site asks, and well formed.
  const end = (site, body) => fetch(`${worker.url}/api/sites/${site}/conversations/${sid}/end`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: host.origin }, body: JSON.stringify(body),
  });
  const refused = async (res, status, code, message) => {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
  };
  await refused(await end('rated', { visitor: credential, rating: { score: 'up' } }), 409, 'conversation_ended', /ended already/);
  assert.equal((await end('rated', { visitor: credential })).status, 200, 'ending an ended one without a rating is fine');
  await refused(await end('rated', { visitor: credential, rating: { score: 'meh' } }), 400, 'invalid_json', /"up" or "down"/);
  await refused(await end('rated', { visitor: credential, rating: { score: 'up', comment: 'x'.repeat(1001) } }), 400, 'invalid_json', /at most 1000 characters/);
  await refused(await end('rated', { visitor: credential, rating: { score: 'up', stars: 5 } }), 400, 'invalid_json', /unknown field stars/);
  await refused(await end('other', { visitor: credential, rating: { score: 'up' } }), 400, 'invalid_json', /does not ask for ratings/);
  const still = JSON.parse((await client.conversations.v1.services(service).conversations(sid).fetch()).attributes);
  assert.deepEqual(still.edgechat_rating, attributes.edgechat_rating, 'nothing refused changed the rating');
});

test('a closed conversation is final at the emulator, as at Twilio: no messages (50446), no updates (50377)', async () => {
  const c = await client.conversations.v1.services(service).conversations.create({ friendlyName: 'final' });
  await client.conversations.v1.services(service).conversations(c.sid).update({ state: 'closed' });
  await assert.rejects(
    client.conversations.v1.services(service).conversations(c.sid).messages.create({ author: 'agent:ana', body: 'late' }),
    (e) => e.status === 400 && e.code === 50446,
  );
  await assert.rejects(
    client.conversations.v1.services(service).conversations(c.sid).update({ attributes: '{}' }),
    (e) => e.status === 400 && e.code === 50377,
  );
});
