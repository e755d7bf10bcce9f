// Pages, locales and failures that must not silence the widget (in Chromium; tests/engines.test.mjs
// runs the same visits in Firefox and WebKit): a POSIX or broken language tag, a body swapped
// the way Turbo Drive swaps it or re-rendered by a framework, while the chat is open and while it
// is closed, and a widget that fails for good (a forced panic): the visitor is told, can reload,
// and loses nothing typed; the host page hears `edgechat:error`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useWidgetEnv, config, quiet, visit, launcher, composer, log, connected, openAndConnect, send,
  session, until, words, bubbles, stored, worker, host, newPage, bodiesIn, focused,
} from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'c4'.repeat(16),
  sites: () => ({
    posix: config(), garbled: config(quiet), empty: config(quiet), toplayer: config(quiet), swapped: config(quiet), rerendered: config(quiet), failing: config(quiet),
  }),
});

/** The page's `edgechat:error` events, recorded from the start. */
const recordErrors = () => {
  window.__errorEvents = [];
  addEventListener('edgechat:error', (e) => window.__errorEvents.push(e.detail));
};

for (const [site, tag, lang] of [['posix', 'de_DE', 'de'], ['garbled', '<&>', 'en'], ['empty', '', 'en']]) {
  test(`data-locale="${tag}": the widget speaks ${lang}, draws the replies' times, and a reload still works`, async (t) => {
    const { page } = await newPage(t);
    await page.addInitScript(recordErrors);
    const attr = tag.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    await page.goto(host.page(`/${site}`, '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>host</title></head>'
      + `<body><main>Seite</main><script src="${worker.url}/embed.js" data-site="${site}" data-locale="${attr}" async></script></body></html>`));
    await launcher(page).click();
    await connected(page);
    await send(page, 'Hallo', lang);
    if (site === 'posix') {
      // The auto-responder's greeting: a reply whose time is drawn in the visitor's format.
      await log(page, lang).getByText('Hello! How can we help?').waitFor();
      const times = await page.locator('.log .meta').allInnerTexts();
      assert.ok(times.some((x) => /\d/.test(x)), `times drawn: ${times}`);
    }
    assert.equal(await composer(page, lang).getAttribute('placeholder'), words(lang)['composer.placeholder']);
    await page.reload();
    await launcher(page).click();
    await connected(page);
    await log(page, lang).getByText('Hallo').waitFor();
    assert.deepEqual(await page.evaluate(() => window.__errorEvents), []);
  });
}

/** The way Turbo Drive visits: a new <body> replaces the old one, and its scripts run again. */
const turboVisit = (workerUrl, site) => {
  const body = document.createElement('body');
  body.innerHTML = '<main><h1>Another page</h1><p id="content">Swapped in.</p></main>';
  document.body.replaceWith(body);
  // Turbo makes the new body's scripts run: a fresh element runs, an innerHTML one would not.
  const script = document.createElement('script');
  script.src = `${workerUrl}/embed.js`;
  script.dataset.site = site;
  script.async = true;
  body.appendChild(script);
  history.pushState({}, '', '/another-page');
};
/** A framework that owns <body> and renders its children anew. */
const rerender = () => { document.body.innerHTML = '<main><h1>Rendered again</h1></main>'; };

for (const [site, what, change] of [['swapped', 'a Turbo-like body swap', turboVisit], ['rerendered', 'a re-rendered body', rerender]]) {
  test(`${what}, with the chat open and then closed: the same chat stays, panel, history, draft and focus`, async (t) => {
    const { page } = await visit(t, site);
    await openAndConnect(page);
    await send(page, 'Before the page changed');
    await composer(page).fill('A draft in progress');
    const before = await session(page, site);
    await page.evaluate(change, [worker.url, site]);
    assert.equal(await page.locator('edgechat-widget').count(), 1, 'one widget, not two');
    assert.equal(await page.evaluate(() => document.querySelector('edgechat-widget').parentElement === document.documentElement), true);
    assert.equal(await composer(page).inputValue(), 'A draft in progress');
    assert.equal(await focused(page), words('en').composer, 'focus stays in the composer');
    await log(page).getByText('Before the page changed').waitFor();
    await composer(page).fill('');
    await send(page, 'After the page changed');
    assert.deepEqual(await bodiesIn(before.conversation), ['Before the page changed', 'After the page changed']);

    // Closed, then the page changes again: the launcher is there and opens the same chat.
    await page.keyboard.press('Escape');
    await page.evaluate(change, [worker.url, site]);
    await launcher(page).click();
    await connected(page);
    await log(page).getByText('After the page changed').waitFor();
    assert.equal((await session(page, site)).conversation, before.conversation);
  });
}

test('a page that removes the widget\'s element gets it back, and the chat goes on', async (t) => {
  const { page } = await visit(t, 'rerendered', { path: '/rerendered-removed' });
  await openAndConnect(page);
  await send(page, 'Before it was removed');
  await page.evaluate(() => document.querySelector('edgechat-widget').remove());
  await until(() => page.evaluate(() => !!document.querySelector('edgechat-widget')), 'put back');
  await connected(page);
  await send(page, 'After it came back');
  const { conversation } = await session(page, 'rerendered');
  assert.deepEqual((await bodiesIn(conversation)).slice(-2), ['Before it was removed', 'After it came back']);
});

test('a widget that fails for good: the visitor is told and can reload, nothing typed is lost, the page hears edgechat:error', async (t) => {
  const { page, errors } = await visit(t, 'failing', { init: recordErrors });
  await page.evaluate(() => localStorage.setItem('edgechat:test-faults', '1'));
  await openAndConnect(page);
  await send(page, 'Sent before the failure');
  await composer(page).fill('Typed when it failed');
  await page.evaluate(() => window.edgechat('fail')).catch(() => {});
  const failed = page.getByRole('alertdialog');
  await failed.waitFor();
  assert.match(await failed.innerText(), /stopped working/);
  const [event] = await page.evaluate(() => window.__errorEvents);
  assert.equal(event.code, 'widget_failed');
  assert.ok(event.message.length > 0);
  // The launcher still answers: it hides and shows the notice.
  await launcher(page).click();
  await failed.waitFor({ state: 'hidden' });
  await launcher(page).click();
  await failed.waitFor();
  // The panic is the page's only uncaught error (the wasm aborts): not asserted by the fixture.
  errors.length = 0;
  await Promise.all([page.waitForEvent('load'), failed.getByRole('button', { name: 'Reload' }).click()]);
  await page.evaluate(() => localStorage.removeItem('edgechat:test-faults'));
  await launcher(page).click();
  await connected(page);
  await log(page).locator('.msg.own .bubble', { hasText: 'Typed when it failed' }).waitFor();
  await until(async () => (await bodiesIn((await session(page, 'failing')).conversation)).length === 2, 'the kept text sent');
  assert.deepEqual(await bodiesIn((await session(page, 'failing')).conversation), ['Sent before the failure', 'Typed when it failed']);
  assert.ok(!(await bubbles(page)).includes(undefined));
  assert.equal(await stored(page, 'failing', 'test-faults'), null);
});

// Pages whose root or body would capture position: fixed (page-transition libraries transform
// them; dark-mode extensions filter the root): the launcher and the panel are in the top layer,
// in view, at desktop and phone sizes, on a tall page scrolled down.
for (const [what, css] of [
  ['a transformed root', 'html{transform:translateY(0)}'],
  ['a filtered root', 'html{filter:invert(1)}'],
  ['a zoomed body', 'body{zoom:1.5}'],
  ['a transformed body that clips', 'html,body{overflow:hidden;height:100%}body{transform:scale(1)}main{overflow:auto;height:100%}'],
  ['contain: paint on the root', 'html{contain:paint}'],
]) {
  for (const [width, height] of [[1280, 720], [375, 667]]) {
    test(`${what}, ${width} x ${height}: the launcher and the panel are in view`, async (t) => {
      const { page } = await visit(t, 'toplayer', {
        path: `/toplayer-${what.replace(/\W+/g, '-')}-${width}`, width, height,
        head: `<style>${css}</style>`, body: '<main><div style="height:4000px">A tall page</div></main>',
      });
      await page.evaluate(() => { scrollTo(0, 2000); document.querySelector('main').scrollTop = 2000; });
      const inView = async (locator) => {
        const box = await locator.boundingBox();
        assert.ok(box, 'laid out');
        assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= width + 1 && box.y + box.height <= height + 1,
          `in the ${width} x ${height} view: ${JSON.stringify(box)}`);
      };
      await launcher(page).waitFor();
      await inView(launcher(page));
      await launcher(page).click();
      await connected(page);
      await inView(page.locator('.panel'));
      // (On a phone the open panel fills the screen, the launcher under it.)
      if (width > 600) await inView(launcher(page));
    });
  }
}
