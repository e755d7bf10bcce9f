// The widget on a phone (Chromium's mobile emulation: 375 x 667 CSS px, touch, the page zoomable):
// the launcher and the full-screen panel sit in the visual viewport, where the visitor looks,
// even on a page wider than the screen (which stretches the layout viewport) and when the visible
// area shrinks (the on-screen keyboard); the composer is 16 px (iOS zooms into anything smaller),
// touch targets are 44 px. And the demo page does not overflow a phone's screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useWidgetEnv, config, quiet, host, worker, hostPage, until, launcher, panel, composer, connected } from './support/widget.mjs';
import { launchIsolatedBrowser } from './support/browser.mjs';

useWidgetEnv({ service: 'IS' + 'e5'.repeat(16), sites: () => ({ phone: config(quiet), 'phone-left': config({ ...quiet, appearance: { position: 'bottom-left' } }) }) });

let phones;
before(async () => { phones = await launchIsolatedBrowser(); });
after(() => phones?.close());

/** A page in a phone: 375 x 667, touch, device scale 2. */
async function phone(t, url) {
  const context = await phones.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(() => assert.deepEqual(errors, [], 'no uncaught error on the page'));
  await page.goto(url);
  return page;
}

const WIDE = '<main><h1>A wide page</h1><table style="width:1200px;border-collapse:collapse"><tr>' +
  Array.from({ length: 12 }, (_, i) => `<td style="border:1px solid #999;width:100px">Column ${i + 1}</td>`).join('') + '</tr></table></main>';

/** The visual viewport and `selector`'s box inside the widget, in layout-viewport (client) px. */
const boxes = (page, selector) => page.evaluate((sel) => {
  const vv = window.visualViewport;
  const el = document.querySelector('edgechat-widget').shadowRoot.querySelector(sel);
  const r = el.getBoundingClientRect();
  return {
    view: { left: vv.offsetLeft, top: vv.offsetTop, right: vv.offsetLeft + vv.width, bottom: vv.offsetTop + vv.height },
    box: { left: r.left, top: r.top, right: r.right, bottom: r.bottom },
    layoutWidth: window.innerWidth,
  };
}, selector);

const inside = ({ view, box }, what) => {
  for (const [a, b] of [['left', 'left'], ['top', 'top']]) assert.ok(box[a] >= view[b] - 1, `${what}: ${a} ${box[a]} inside ${JSON.stringify(view)}`);
  for (const [a, b] of [['right', 'right'], ['bottom', 'bottom']]) assert.ok(box[a] <= view[b] + 1, `${what}: ${a} ${box[a]} inside ${JSON.stringify(view)}`);
};

test('a page wider than the screen: the launcher is in view (also scrolled sideways), and the panel fills exactly what the visitor sees', async (t) => {
  const page = await phone(t, host.page('/phone', hostPage({ workerUrl: worker.url, site: 'phone', body: WIDE })));
  await launcher(page).waitFor();
  const first = await boxes(page, '.launcher');
  assert.ok(first.layoutWidth > 375, `the page stretches the layout viewport (${first.layoutWidth} px)`);
  inside(first, 'the launcher');
  assert.ok(first.view.right - first.box.right <= 24 && first.view.bottom - first.box.bottom <= 24, `at the bottom right corner: ${JSON.stringify(first)}`);
  // Scrolled sideways: the visual viewport pans over the stretched layout viewport (a wheel
  // here; a finger's swipe on a phone).
  await page.mouse.move(150, 300);
  await page.mouse.wheel(400, 0);
  await until(async () => (await page.evaluate(() => window.visualViewport.offsetLeft)) > 100, 'scrolled sideways');
  inside(await boxes(page, '.launcher'), 'the launcher, scrolled sideways');

  // Opened there (a click event: Playwright's taps miss once the visual viewport has panned).
  await launcher(page).dispatchEvent('click');
  await composer(page).waitFor();
  await connected(page);
  const open = await boxes(page, '.panel');
  assert.ok(open.view.left > 100, 'still panned');
  for (const side of ['left', 'top', 'right', 'bottom']) {
    assert.ok(Math.abs(open.box[side] - open.view[side]) <= 1, `the panel's ${side} ${open.box[side]} is the view's ${open.view[side]}`);
  }
  assert.equal(await composer(page).evaluate((e) => getComputedStyle(e).fontSize), '16px', 'no zoom on focus in iOS');
  const small = await panel(page).locator('button:visible').evaluateAll((els) => els
    .map((e) => ({ name: e.getAttribute('aria-label') || e.textContent, ...e.getBoundingClientRect().toJSON() }))
    .filter((b) => b.width < 44 || b.height < 44).map((b) => `${b.name} ${b.width}x${b.height}`));
  assert.deepEqual(small, [], 'touch targets of at least 44 x 44 px');

  // The visible area shrinks (as when the on-screen keyboard opens): the panel follows it.
  await page.setViewportSize({ width: 375, height: 400 });
  await until(async () => {
    const now = await boxes(page, '.panel');
    return Math.abs(now.box.bottom - now.view.bottom) <= 1 && now.view.bottom - now.view.top <= 401;
  }, 'the panel fits the smaller view');
});

test('bottom-left: the launcher sits at the view\'s start corner on a wide page', async (t) => {
  const page = await phone(t, host.page('/phone-left', hostPage({ workerUrl: worker.url, site: 'phone-left', body: WIDE })));
  await launcher(page).waitFor();
  await connectedLook(page);
  const at = await boxes(page, '.launcher');
  inside(at, 'the launcher');
  assert.ok(at.box.left - at.view.left <= 24, JSON.stringify(at));
});

/** The app has loaded the site's config (its launcher, bottom-left, replaces embed.js's). */
async function connectedLook(page) {
  await launcher(page).tap();
  await connected(page);
  await page.keyboard.press('Escape');
}

test('the demo page fits a phone\'s screen: nothing overflows, the launcher is in view', async (t) => {
  const page = await phone(t, `${worker.url}/`);
  await launcher(page).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'no sideways scrolling');
  inside(await boxes(page, '.launcher'), 'the launcher');
});
