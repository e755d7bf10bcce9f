// Right to left: on a page written right to left, or when the widget's language is Arabic or
// Hebrew (the page's data-locale, the site's locale, the browser's languages), the panel is
// mirrored and the launcher moves to the bottom left, unless the site pinned it to a corner;
// bubbles keep dir="auto", so each message runs in its own direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWidgetEnv, config, quiet, host, worker, newPage, until, launcher, panel, log, openAndConnect, send, words } from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'a7'.repeat(16),
  // Not pinned: the launcher follows the direction (the tests' usual config pins bottom right).
  sites: () => {
    const free = { ...quiet, appearance: { title: 'Support' } };
    return {
      rtlpage: config(free), pinned: config({ ...quiet, appearance: { position: 'bottom-right' } }),
      hebrew: config(free), sitelocale: config({ ...free, locale: 'ar-EG' }), ltr: config(free),
    };
  },
});

/** A host page for `site`: `html` attributes on its root, `script` ones on the embed tag. */
async function page(t, site, { html = '', script = '' } = {}) {
  const { page } = await newPage(t);
  await page.setViewportSize({ width: 1280, height: 800 });
  const url = host.page(`/${site}`, `<!doctype html><html ${html}><head><meta charset="utf-8"><title>host</title></head>`
    + `<body><main><p>محتوى الصفحة</p></main><script src="${worker.url}/embed.js" data-site="${site}" ${script} async></script></body></html>`);
  await page.goto(url);
  return page;
}

const layout = (p) => p.evaluate(() => {
  const root = document.querySelector('edgechat-widget').shadowRoot;
  const box = (sel) => root.querySelector(sel)?.getBoundingClientRect().toJSON();
  return { dir: root.querySelector('.ec')?.getAttribute('dir'), launcher: box('.launcher'), panel: box('.panel'), width: innerWidth };
});

async function mirrored(p, site, lang) {
  await openAndConnect(p);
  await send(p, 'مرحبا، لدي سؤال', lang);
  await send(p, 'Hello in English', lang);
  const at = await layout(p);
  assert.equal(at.dir, 'rtl');
  assert.ok(at.panel.left < 40, `the panel on the left: ${JSON.stringify(at.panel)}`);
  await panel(p).getByRole('button', { name: words(lang).close }).click();
  const closed = await layout(p);
  assert.ok(closed.launcher.left < 40, `the launcher bottom left: ${JSON.stringify(closed.launcher)}`);
  // The visitor's own bubbles are at the end side (left); each keeps its own direction.
  await launcher(p).click();
  const bubbles = await log(p, lang).locator('.msg.own').evaluateAll((els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    const panelBox = e.closest('.panel').getBoundingClientRect();
    return { left: Math.round(r.left - panelBox.left), dir: e.querySelector('.bubble').getAttribute('dir') };
  }));
  assert.ok(bubbles.length === 2 && bubbles.every((b) => b.left < 40 && b.dir === 'auto'), JSON.stringify(bubbles));
}

test('a page written right to left: the panel is mirrored, the launcher bottom left', async (t) => {
  // The page's lang is not the widget's language: the browser's (English) decides.
  await mirrored(await page(t, 'rtlpage', { html: 'lang="ar" dir="rtl"' }), 'rtlpage', 'en');
});

test('Hebrew from the page\'s data-locale on a left-to-right page: mirrored too', async (t) => {
  await mirrored(await page(t, 'hebrew', { script: 'data-locale="he"' }), 'hebrew', 'he');
});

test('Arabic from the site\'s locale: mirrored', async (t) => {
  await mirrored(await page(t, 'sitelocale'), 'sitelocale', 'ar');
});

test('a site that pins the launcher bottom right keeps it there on a right-to-left page; a left-to-right page is not mirrored', async (t) => {
  const p = await page(t, 'pinned', { html: 'dir="rtl"' });
  await openAndConnect(p);
  await panel(p).getByRole('button', { name: 'Close chat' }).click();
  const at = await layout(p);
  assert.equal(at.dir, 'rtl', 'the panel still reads right to left');
  assert.ok(at.launcher.right > at.width - 100, `pinned bottom right: ${JSON.stringify(at.launcher)}`);
  const plain = await page(t, 'ltr');
  await openAndConnect(plain);
  const ltr = await layout(plain);
  assert.equal(ltr.dir, 'ltr');
  assert.ok(ltr.panel.right > ltr.width - 100, JSON.stringify(ltr.panel));
});
