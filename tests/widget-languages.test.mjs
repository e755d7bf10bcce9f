// Every language: the widget speaks the language the page (data-locale), the site (locale) or the
// browser asks for, from its catalogue (core/i18n, fetched on demand under a hashed name), with
// the site's own wording over it; axe-core finds no violation in any language. Screenshots of
// Arabic and Japanese go to test-results/ for review. Catalogues are checked too: each has
// exactly English's keys, and each message uses exactly the arguments its English one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { useWidgetEnv, config, quiet, host, worker, newPage, launcher, panel, composer, log, connected, words, send, session, agentSays, until } from './support/widget.mjs';
import MessageFormat from '@messageformat/core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const LANGS = ['en', 'de', 'fr', 'es', 'pt-BR', 'ja', 'ar', 'he'];
const SHOTS = new URL('../test-results/', import.meta.url);

useWidgetEnv({
  service: 'IS' + 'b8'.repeat(16),
  sites: () => ({
    ...Object.fromEntries(LANGS.map((l) => [`lang${l.replace('-', '').toLowerCase()}`, config({ ...quiet, appearance: { title: 'Support' } })])),
    sitelocale: config({ ...quiet, locale: 'fr-CA' }),
    plural: config({ ...quiet, appearance: { title: 'Support' } }),
    override: config({ ...quiet, strings: { de: { 'composer.placeholder': 'Fragen Sie uns' }, en: { 'composer.send': 'Go' } } }),
  }),
});

async function page(t, site, script = '') {
  const { page } = await newPage(t);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(host.page(`/${site}`, `<!doctype html><html><head><meta charset="utf-8"><title>host</title></head>`
    + `<body><main><p>page</p></main><script src="${worker.url}/embed.js" data-site="${site}" ${script} async></script></body></html>`));
  return page;
}

const placeholder = (p, lang) => composer(p, lang).getAttribute('placeholder');

test('every catalogue has exactly the English keys, and each message the English arguments', () => {
  const files = readdirSync(new URL('../core/i18n/', import.meta.url)).map((f) => f.replace(/\.json$/, '')).sort();
  assert.deepEqual(files, [...LANGS].sort());
  const args = (m) => [...new Set([...m.matchAll(/\{\s*([A-Za-z_]\w*)\s*[,}]/g)].map((x) => x[1]))].sort();
  const en = words('en');
  for (const lang of LANGS) {
    const w = words(lang);
    assert.deepEqual(Object.keys(w).sort(), Object.keys(en).sort(), `${lang}: the keys`);
    for (const key of Object.keys(en)) assert.deepEqual(args(w[key]), args(en[key]), `${lang} ${key}: the arguments`);
  }
});

for (const lang of LANGS) {
  test(`${lang}: the panel speaks it (data-locale), and axe finds no violation`, async (t) => {
    const w = words(lang);
    const p = await page(t, `lang${lang.replace('-', '').toLowerCase()}`, `data-locale="${lang}"`);
    await launcher(p).click();
    await connected(p);
    assert.equal(await placeholder(p, lang), w['composer.placeholder']);
    await log(p, lang).waitFor();
    await panel(p).getByRole('button', { name: w.close, exact: true }).waitFor();
    assert.equal(await p.evaluate(() => document.querySelector('edgechat-widget').shadowRoot.querySelector('.ec').getAttribute('dir')),
      lang === 'ar' || lang === 'he' ? 'rtl' : 'ltr');
    await p.addScriptTag({ path: AXE });
    // (Under <body> and out of the top layer for axe, which judges contrast only there: see widget-themes.)
    const found = await p.evaluate(async () => {
      const host = document.querySelector('edgechat-widget');
      document.body.appendChild(host);
      for (const e of host.shadowRoot.querySelectorAll('[popover]')) { try { e.hidePopover(); } catch {} e.removeAttribute('popover'); }
      return (await window.axe.run({ include: [['edgechat-widget']] }, { resultTypes: ['violations'] }))
      .violations.map((v) => v.id);
    });
    assert.deepEqual(found, []);
    if (lang === 'ar' || lang === 'ja') {
      mkdirSync(SHOTS, { recursive: true });
      await p.screenshot({ path: new URL(`widget-${lang}.png`, SHOTS).pathname });
    }
  });
}

test('the site\'s locale when the page says none (fr-CA is French); the browser\'s languages when neither does', async (t) => {
  const fr = await page(t, 'sitelocale');
  await launcher(fr).click();
  await connected(fr);
  assert.equal(await placeholder(fr, 'fr'), words('fr')['composer.placeholder']);
  const { page: es } = await newPage(t);
  await es.addInitScript(() => Object.defineProperty(Navigator.prototype, 'languages', { get: () => ['es-MX', 'es'] }));
  await es.goto(host.page('/langen', `<!doctype html><html><body><script src="${worker.url}/embed.js" data-site="langen" async></script></body></html>`));
  await launcher(es).click();
  await connected(es);
  assert.equal(await placeholder(es, 'es'), words('es')['composer.placeholder']);
});

test('a site\'s own wording replaces the catalogue\'s; English overrides fill in for other languages only where they have no message', async (t) => {
  const de = await page(t, 'override', 'data-locale="de"');
  await launcher(de).click();
  await connected(de);
  assert.equal(await placeholder(de, 'de'), 'Fragen Sie uns');
  await panel(de).getByRole('button', { name: words('de')['composer.send'], exact: true }).waitFor();
  const en = await page(t, 'override', 'data-locale="en"');
  await launcher(en).click();
  await connected(en);
  await panel(en).getByRole('button', { name: 'Go', exact: true }).waitFor();
});

test('the next page\'s launcher and shell speak the visitor\'s language before the app loads (the app stored their words)', async (t) => {
  const w = words('ar');
  const first = await page(t, 'langar', 'data-locale="ar"');
  await launcher(first).click();
  await connected(first);
  await first.close();
  const next = await page(t, 'langar', 'data-locale="ar"');
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  t.after(() => release());
  await next.route('**/widget/edgechat_widget.*.js', async (route) => { await held; await route.continue(); });
  const placeholderLauncher = next.getByRole('button', { name: w['launcher.open'], exact: true });
  await placeholderLauncher.click();
  const shell = next.getByRole('dialog', { name: 'Support' });
  await shell.waitFor();
  assert.equal(await shell.getAttribute('dir'), 'rtl');
  assert.equal(await shell.getByRole('textbox', { name: w.composer, exact: true }).getAttribute('placeholder'), w['composer.placeholder']);
  await shell.getByRole('log', { name: w.log, exact: true }).getByText(w.connecting).waitFor();
  await shell.getByRole('button', { name: w['composer.send'], exact: true }).waitFor();
  release();
  await connected(next);
});

// Plurals by the browser's Intl.PluralRules, against @messageformat/core (the messageformat
// project's ICU formatter) on the same catalogue message: Arabic's two, few and many forms.
test('Arabic plurals: the launcher counts unread messages as @messageformat/core formats them', async (t) => {
  const expected = new MessageFormat('ar').compile(words('ar')['launcher.unread']);
  const p = await page(t, 'plural', 'data-locale="ar"');
  await launcher(p).click();
  await connected(p);
  await send(p, 'سؤال', 'ar');
  const { conversation } = await session(p, 'plural');
  await panel(p).getByRole('button', { name: words('ar').close, exact: true }).click();
  let sent = 0;
  for (const count of [2, 5, 11]) {
    while (sent < count) await agentSays(conversation, `جواب ${++sent}`);
    await until(async () => (await launcher(p).getAttribute('aria-label')) === expected({ count }),
      `the launcher says ${expected({ count })}`, 10_000).catch(() => {});
    assert.equal(await launcher(p).getAttribute('aria-label'), expected({ count }));
  }
});
