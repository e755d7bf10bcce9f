// `npm run bench` (keystroke part): what one keystroke in the composer costs when the log holds
// 500 messages. In headless Chromium against wrangler dev + the local Twilio emulator: a visitor's
// conversation gets 500 agent messages over REST, the page loads every older page, then each
// keystroke is timed in the page from the `input` event to the end of the next frame (the
// widget's render and the browser's layout and paint), medians over 60 keystrokes.
// Usage: node scripts/bench-keystroke.mjs [messages, default 500]
import { startWorker, testSecrets } from '../tests/support/worker.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { launchBrowser } from '../tests/support/browser.mjs';
import { startHost, hostPage } from '../tests/support/host.mjs';

const count = Math.max(30, Math.min(2000, Number(process.argv[2] ?? 500)));
const KEYSTROKES = 60;
const secrets = testSecrets();
const SERVICE = 'IS' + 'b3'.repeat(16);
const host = await startHost();
const emu = await startEmulator({ secrets, services: [SERVICE] });
const client = emu.client();
const worker = await startWorker({
  secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
  sites: { keys: JSON.stringify({ allowed_origins: [host.origin], service_sid: SERVICE, automation: 'none' }) },
});
const browser = await launchBrowser();
const url = host.page('/keys', hostPage({ workerUrl: worker.url, site: 'keys' }));
const root = (page) => page.locator('edgechat-widget');

let result;
try {
  const page = await browser.newPage();
  await page.goto(url);
  await root(page).getByRole('button', { name: /Open chat/ }).click();
  await root(page).locator('button[aria-label="Send"][aria-disabled="false"]').waitFor({ timeout: 20_000 });
  // The conversation is created with the visitor's first message.
  const composer = root(page).getByRole('textbox', { name: 'Message' });
  await composer.fill('Hello');
  await composer.press('Enter');
  await page.waitForFunction(() => localStorage.getItem('edgechat:keys:conversation'), null, { timeout: 20_000 });
  const sid = await page.evaluate(() => localStorage.getItem('edgechat:keys:conversation'));
  const messages = client.conversations.v1.services(SERVICE).conversations(sid).messages;
  for (let i = 0; i < count; i++) await messages.create({ author: 'agent:ana', body: `Message ${i + 1} of ${count}` });
  await page.reload();
  await root(page).getByRole('button', { name: /Open chat/ }).click();
  await root(page).locator('button[aria-label="Send"][aria-disabled="false"]').waitFor({ timeout: 20_000 });
  const older = root(page).getByRole('button', { name: 'Show earlier messages' });
  const deadline = Date.now() + 60_000;
  while ((await root(page).locator('.log .msg').count()) < count && Date.now() < deadline) {
    if (await older.isVisible()) await older.click();
    await page.waitForTimeout(50);
  }
  const shown = await root(page).locator('.log .msg').count();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const scriptSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ScriptDuration').value;
  const scriptBefore = await scriptSeconds();
  result = await page.evaluate(async (n) => {
    const textarea = document.querySelector('edgechat-widget').shadowRoot.querySelector('textarea');
    textarea.focus();
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const times = [];
    for (let i = 0; i < n; i++) {
      await frame();
      const t0 = performance.now();
      textarea.value += 'a';
      textarea.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, data: 'a', inputType: 'insertText' }));
      await frame();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(n / 2)], p90: times[Math.floor(n * 0.9)], min: times[0], max: times[n - 1] };
  }, KEYSTROKES);
  result.shown = shown;
  result.script = ((await scriptSeconds()) - scriptBefore) * 1000 / KEYSTROKES;
} finally {
  await browser.close();
  worker.stop();
  emu.stop();
  await host.stop();
}
const ms = (x) => `${x.toFixed(1)} ms`;
console.log(`\n| keystroke with ${result.shown} rows in the log (${KEYSTROKES} keystrokes) | median | p90 | min | max |\n|---|---|---|---|---|`);
console.log(`| input -> next frame painted | ${ms(result.median)} | ${ms(result.p90)} | ${ms(result.min)} | ${ms(result.max)} |`);
console.log(`| script time per keystroke (CDP ScriptDuration, mean) | ${ms(result.script)} | | | |`);
