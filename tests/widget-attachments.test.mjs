// Attachments both ways, in Chromium with the real SDK, the Worker and the emulator's media
// service: a visitor sends an image by the attach button, by drag and drop and by paste, and a
// PDF; the agent receives them (REST, with the bytes byte-equal) and sends an image back, shown
// inline and full size; the site's policy refuses a file too large, a type it does not take and a
// program renamed .png, saying why, with nothing uploaded; an SVG from an agent is a download,
// never an image; a failed upload goes again by itself or waits for Retry; a reload during an
// upload asks for the file again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import {
  useWidgetEnv, config, quiet, emu, client, service, secrets, until, visit, log, panel, composer,
  stored, allDelivered, openAndConnect, send,
} from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'c4'.repeat(16),
  sites: () => ({
    files: config(quiet),
    strict: config({ ...quiet, attachments: { max_size_mb: 1, types: ['png', 'pdf'] } }),
    off: config({ ...quiet, attachments: { enabled: false } }),
  }),
});

// A real 2x2 PNG (red), and a small PDF.
const crc32 = (bytes) => {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k += 1) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
};
const chunk = (type, data) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
};
const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a', 'hex'),
  chunk('IHDR', Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0])),
  chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 0]))),
  chunk('IEND', Buffer.alloc(0)),
]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const basic = () => `Basic ${Buffer.from(`${secrets.TWILIO_ACCOUNT_SID}:${secrets.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
const messagesOf = async (sid) => client.conversations.v1.services(service).conversations(sid).messages.list();
const bytesOf = async (mediaSid) => Buffer.from(await (await fetch(`${emu.url}/v1/Services/${service}/Media/${mediaSid}/Content`, { headers: { Authorization: basic() } })).arrayBuffer());
const picker = (page) => page.locator('input[type=file]');
const chosen = (page) => page.locator('ul.chosen li');
const sendButton = (page) => page.getByRole('button', { name: 'Send', exact: true });
const problem = (page) => panel(page).locator('p.error[role=alert]');

/** A file handed to the page by drag and drop (on the log) or by paste (into the composer). */
async function hand(page, how, { name, type, bytes }) {
  const target = how === 'drop' ? log(page) : composer(page);
  await target.evaluate((el, [how, name, type, data]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], name, { type }));
    if (how === 'drop') {
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
    } else {
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true }));
    }
  }, [how, name, type, [...bytes]]);
}

test('a visitor sends an image by the button, by drag and drop and by paste, and a PDF; the agent receives each, byte-equal', async (t) => {
  const { page } = await visit(t, 'files');
  await openAndConnect(page);
  await send(page, 'Here are my files');
  await allDelivered(page);
  // The button: the browser's picker.
  await picker(page).setInputFiles({ name: 'red dot.png', mimeType: 'image/png', buffer: PNG });
  await chosen(page).first().waitFor();
  assert.match(await chosen(page).first().innerText(), /red dot\.png · 1 KB/);
  assert.equal(await chosen(page).first().locator('img').count(), 1, 'a thumbnail');
  await sendButton(page).click();
  await until(async () => (await chosen(page).count()) === 0, 'the chosen file went');
  // Drag and drop, then paste (a screenshot has no useful name), then a PDF by the button.
  await hand(page, 'drop', { name: 'dropped.png', type: 'image/png', bytes: PNG });
  await chosen(page).first().waitFor();
  await sendButton(page).click();
  await hand(page, 'paste', { name: 'image.png', type: 'image/png', bytes: PNG });
  await chosen(page).first().waitFor();
  await composer(page).press('Enter');
  await picker(page).setInputFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF });
  await chosen(page).first().waitFor();
  await sendButton(page).click();
  await allDelivered(page);

  const sid = await stored(page, 'files', 'conversation');
  await until(async () => (await messagesOf(sid)).filter((m) => m.media).length === 4, 'four media messages at Twilio');
  const media = (await messagesOf(sid)).filter((m) => m.media).map((m) => m.media[0]);
  assert.deepEqual(media.map((m) => [m.filename, m.content_type, m.size]), [
    ['red dot.png', 'image/png', PNG.length], ['dropped.png', 'image/png', PNG.length],
    ['image.png', 'image/png', PNG.length], ['invoice.pdf', 'application/pdf', PDF.length],
  ]);
  assert.ok((await bytesOf(media[0].sid)).equals(PNG), 'the bytes the visitor chose');
  assert.ok((await bytesOf(media[3].sid)).equals(PDF));
  // The agent console lists them, with links to their bytes.
  const consoleView = await (await fetch(`${emu.url}/_emulator/console/conversations`)).json();
  const listed = consoleView.conversations.find((c) => c.sid === sid).messages.flatMap((m) => m.media);
  assert.deepEqual(listed.map((m) => m.filename), ['red dot.png', 'dropped.png', 'image.png', 'invoice.pdf']);
  assert.ok(Buffer.from(await (await fetch(`${emu.url}${listed[3].url}`)).arrayBuffer()).equals(PDF));
  // In the log: the images inline (loaded from the media service), the PDF a download.
  const images = log(page).locator('button.shot img');
  await until(async () => (await images.count()) === 3, 'three images');
  await until(() => images.first().evaluate((img) => img.complete && img.naturalWidth === 2), 'the image loaded');
  assert.equal(await images.first().getAttribute('alt'), 'red dot.png');
  const pdf = log(page).locator('a.file', { hasText: 'invoice.pdf' });
  await pdf.waitFor();
  assert.equal(await pdf.getAttribute('download'), 'invoice.pdf');
  assert.match(await pdf.getAttribute('href'), /^http:\/\/127\.0\.0\.1:\d+\/v1\/Services\/IS\w+\/Media\/ME\w+\/Content\?/);
});

test('an agent sends an image (inline, full size, Escape closes it), the console a PDF, and an SVG (a download, never drawn)', async (t) => {
  const { page } = await visit(t, 'files');
  await openAndConnect(page);
  await send(page, 'Show me');
  await allDelivered(page);
  const sid = await stored(page, 'files', 'conversation');
  const upload = async (name, type, bytes) => (await (await fetch(`${emu.url}/v1/Services/${service}/Media?Category=media&Filename=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { Authorization: basic(), 'Content-Type': type }, body: bytes,
  })).json()).sid;
  const messages = client.conversations.v1.services(service).conversations(sid).messages;
  await messages.create({ author: 'agent:ana', mediaSid: await upload('photo.png', 'image/png', PNG) });
  const shot = log(page).getByRole('button', { name: 'Open photo.png full size' });
  await shot.waitFor();
  await until(() => shot.locator('img').evaluate((img) => img.complete && img.naturalWidth === 2), 'the agent\'s image loaded');
  await shot.click();
  const viewer = panel(page).getByRole('dialog', { name: 'photo.png' });
  await viewer.waitFor();
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  assert.ok(await panel(page).first().isVisible(), 'Escape closed the image, not the panel');

  // The agent console sends a file too (as agent:console).
  const sent = await fetch(`${emu.url}/_emulator/console/conversations/${sid}/media?filename=terms.pdf`, {
    method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: PDF,
  });
  assert.equal(sent.status, 201);
  const terms = log(page).locator('a.file', { hasText: 'terms.pdf' });
  await terms.waitFor();
  await until(async () => /^http:\/\/127\.0\.0\.1:\d+\//.test(await terms.getAttribute('href') ?? ''), 'its link');
  assert.ok(Buffer.from(await (await fetch(await terms.getAttribute('href'))).arrayBuffer()).equals(PDF), 'the link gives the bytes');

  const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="window.top.__pwned=1"><script>window.top.__pwned=1</script></svg>';
  await messages.create({ author: 'agent:ana', mediaSid: await upload('logo.svg', 'image/svg+xml', svg) });
  const link = log(page).locator('a.file', { hasText: 'logo.svg' });
  await link.waitFor();
  assert.equal(await log(page).locator('img[alt="logo.svg"]').count(), 0, 'an SVG is never drawn');
  assert.equal(await link.getAttribute('download'), 'logo.svg');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});

test('the policy refuses a file too large, a type the site does not take and a program renamed .png, saying why; nothing is uploaded', async (t) => {
  const { page } = await visit(t, 'strict');
  await openAndConnect(page);
  const before = (await emu.media()).count;
  await picker(page).setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]) });
  await until(async () => /big\.png is too large: files can be at most 1 MB\./.test(await problem(page).innerText().catch(() => '')), 'too large');
  await picker(page).setInputFiles({ name: 'anim.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1') });
  await until(async () => /anim\.gif can't be sent here\. You can send: png, pdf\./.test(await problem(page).innerText().catch(() => '')), 'a type the site does not take');
  await picker(page).setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1') });
  await until(async () => /photo\.png can't be sent here/.test(await problem(page).innerText().catch(() => '')), 'a renamed program');
  assert.equal(await chosen(page).count(), 0, 'nothing waits to be sent');
  // Two at once where the site takes one.
  await picker(page).setInputFiles({ name: 'ok.pdf', mimeType: 'application/pdf', buffer: PDF });
  await chosen(page).first().waitFor();
  assert.equal(await problem(page).count(), 0, 'the problem went with a good file');
  await hand(page, 'drop', { name: 'second.pdf', type: 'application/pdf', bytes: PDF });
  await until(async () => /You can send 1 files at a time\./.test(await problem(page).innerText().catch(() => '')), 'one at a time');
  await chosen(page).getByRole('button', { name: 'Remove ok.pdf' }).click();
  assert.equal(await chosen(page).count(), 0);
  assert.equal((await emu.media()).count, before, 'nothing reached the media service');

  // A site with attachments off offers no button, and a dropped file does nothing.
  const { page: off } = await visit(t, 'off');
  await openAndConnect(off);
  assert.equal(await picker(off).count(), 0);
  await hand(off, 'drop', { name: 'x.png', type: 'image/png', bytes: PNG });
  assert.equal(await chosen(off).count(), 0);
});

test('a failed upload goes again by itself; one the service refuses waits for Retry; a reload while uploading asks for the file again', async (t) => {
  const { page } = await visit(t, 'files');
  await openAndConnect(page);
  await send(page, 'Uploading next');
  await allDelivered(page);
  const sid = await stored(page, 'files', 'conversation');
  const uploads = '**/v1/Services/*/Media?*';
  // Twice a 503, then through: it goes by itself.
  let failures = 0;
  await page.route(uploads, (route) => (failures++ < 2 ? route.fulfill({ status: 503, contentType: 'application/json', body: '{"status":503}' }) : route.continue()));
  await picker(page).setInputFiles({ name: 'retry.png', mimeType: 'image/png', buffer: PNG });
  await sendButton(page).click();
  await until(async () => (await messagesOf(sid)).some((m) => m.media?.[0].filename === 'retry.png'), 'sent after two failures', 20_000);
  await page.unroute(uploads);
  // Refused (413): the file stays, with Retry.
  await page.route(uploads, (route) => route.fulfill({ status: 413, contentType: 'application/json', body: '{"status":413,"message":"too large"}' }));
  await picker(page).setInputFiles({ name: 'refused.png', mimeType: 'image/png', buffer: PNG });
  await sendButton(page).click();
  const failed = log(page).locator('.msg.failed', { hasText: 'refused.png' });
  await failed.waitFor();
  await page.unroute(uploads);
  await failed.getByRole('button', { name: 'Retry' }).click();
  await until(async () => (await messagesOf(sid)).some((m) => m.media?.[0].filename === 'refused.png'), 'sent on Retry');
  await allDelivered(page);

  // A reload while the upload hangs: the outbox keeps its name and asks for the file again. (The
  // hold stays through the reload: unrouting would let the held upload through first.)
  await page.route(uploads, () => {});
  await picker(page).setInputFiles({ name: 'lost.png', mimeType: 'image/png', buffer: PNG });
  await sendButton(page).click();
  await log(page).locator('.msg.out', { hasText: 'lost.png' }).waitFor();
  await page.reload();
  await openAndConnect(page);
  const again = log(page).locator('.msg.failed', { hasText: 'lost.png' });
  await again.getByText('Not sent: choose the file again').waitFor();
  await again.getByRole('button', { name: 'Remove' }).click();
  await again.waitFor({ state: 'detached' });
  assert.equal((await messagesOf(sid)).filter((m) => m.media?.[0].filename === 'lost.png').length, 0);
});
