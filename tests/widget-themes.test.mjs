// The widget's themes: light, dark (Paste's dark tokens) when the visitor's system prefers it or
// the site forces it, and the site's brand colour with text that reads on it (black on a light
// brand). axe-core (Deque's accessibility engine, run in the page over the widget's open shadow
// root) finds no violation, contrast included (WCAG AA), in either theme, with a light brand, and
// on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { useWidgetEnv, config, quiet, visit, panel, log, openAndConnect, send, agentSays, session } from './support/widget.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

useWidgetEnv({
  service: 'IS' + 'f6'.repeat(16),
  sites: () => ({
    light: config(quiet), auto: config(quiet),
    forced: config({ ...quiet, appearance: { theme: 'dark' } }),
    pinned: config({ ...quiet, appearance: { theme: 'light' } }),
    yellow: config({ ...quiet, appearance: { brand_color: '#FFD700' } }),
    small: config(quiet),
  }),
});

/** axe-core's violations inside the widget (its shadow root, through the host element). */
async function violations(page) {
  await page.addScriptTag({ path: AXE });
  await page.evaluate(() => {
    // axe judges contrast only under <body> and outside the top layer: the widget lives beside
    // <body>, in the top layer (so that no page can remove or displace it), where axe reports
    // every colour pair as one it cannot judge. For the check it is moved in and taken out of
    // the top layer; it renders the same. (Its SDK realm reloads with the move; the app, not
    // told, shows what it showed.)
    const host = document.querySelector('edgechat-widget');
    document.body.appendChild(host);
    for (const e of host.shadowRoot.querySelectorAll('[popover]')) { try { e.hidePopover(); } catch {} e.removeAttribute('popover'); }
  });
  const found = await page.evaluate(async () => {
    const result = await window.axe.run({ include: [['edgechat-widget']] }, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' > ') + ' ' + (n.failureSummary || '').split('\n').slice(1, 2).join('')).join(' | ')}`);
  });
  return found;
}

/** The panel open with a conversation (the visitor's message, an agent's answer) and the menu. */
async function chatting(page, site) {
  await openAndConnect(page);
  await send(page, 'Is this readable?');
  await agentSays((await session(page, site)).conversation, 'It is, in both themes.');
  await log(page).getByText('It is, in both themes.').waitFor();
  await panel(page).getByRole('button', { name: 'Chat options' }).click();
}

const background = (page) => panel(page).evaluate((e) => getComputedStyle(e).backgroundColor);
const ownText = (page) => log(page).locator('.msg.own .bubble').first().evaluate((e) => getComputedStyle(e).color);

for (const [site, scheme, expected, why] of [
  ['light', 'light', 'rgb(255, 255, 255)', 'light by default'],
  ['auto', 'dark', 'rgb(13, 19, 28)', 'dark when the visitor\'s system prefers it'],
  ['forced', 'light', 'rgb(13, 19, 28)', 'dark when the site says so, whatever the system prefers'],
  ['pinned', 'dark', 'rgb(255, 255, 255)', 'light when the site says so, whatever the system prefers'],
]) {
  test(`themes: ${why}; axe finds no violation`, async (t) => {
    const { page } = await visit(t, site, { setup: (p) => p.emulateMedia({ colorScheme: scheme }) });
    await chatting(page, site);
    assert.equal(await background(page), expected);
    assert.deepEqual(await violations(page), []);
  });
}

test('a light brand colour gets black text on it (white would not read); axe finds no violation', async (t) => {
  const { page } = await visit(t, 'yellow');
  await chatting(page, 'yellow');
  assert.match(await ownText(page), /^(rgb\(0, 0, 0\)|lch\(0 0 0\)|oklch\(0 0 0\)|color\(srgb 0 0 0\))$/);
  assert.deepEqual(await violations(page), []);
  // The oracle sees what white on that yellow would be: a contrast violation.
  await page.evaluate(() => document.querySelector('edgechat-widget').shadowRoot.querySelector('.ec').style.setProperty('--ec-on-brand', '#fff'));
  assert.ok((await violations(page)).some((v) => v.startsWith('color-contrast')), 'axe flags white on #FFD700');
});

test('the default brand keeps white text; on a phone-sized screen axe finds no violation either', async (t) => {
  const { page } = await visit(t, 'small', { width: 375, height: 667 });
  await chatting(page, 'small');
  assert.match(await ownText(page), /^(rgb\(255, 255, 255\)|lch\(100 0 0\)|oklch\(1 0 0\)|color\(srgb 1 1 1\))$/);
  assert.deepEqual(await violations(page), []);
});
