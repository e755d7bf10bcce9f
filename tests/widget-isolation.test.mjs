// The widget end to end, host isolation: a host page's aggressive CSS, a strict
// Content-Security-Policy, its globals and patched prototypes change nothing in the widget, and
// the widget changes nothing on the page outside its own element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useWidgetEnv, config, quiet, host, emu, client, worker, browser, secrets, service, hostPage, until, newPage, visit,
  launcher, composer, log, panel, connected, focused, focusMovesTo, stored, bubbles, noneSending, allDelivered,
  identityOf, within, refusedInits, connections, bodiesIn, session, openAndConnect, send, agentSays,
} from './support/widget.mjs';

useWidgetEnv({
  service: 'IS' + 'd4'.repeat(16),
  sites: () => ({ plain: config(quiet), hostile: config(quiet), csp: config(quiet), globals: config(quiet), patched: config(quiet), tt: config(quiet) }),
});

test('a host page with aggressive global CSS renders the widget unchanged, and the widget changes nothing outside its host element', async (t) => {
  const hostile = `<style>
    html { font-size: 10px !important; }
    *, *::before, *::after { margin: 13px !important; padding: 7px !important; font-family: "Comic Sans MS", cursive !important;
      color: red !important; background: yellow !important; line-height: 3 !important; letter-spacing: 3px !important;
      box-sizing: content-box !important; border: 5px dashed green !important; }
    button, textarea, div, p, span, h2, svg, form { display: inline !important; position: static !important; width: 10px !important; }
    edgechat-widget, body > * { display: none !important; transform: rotate(5deg) !important; }
    :root { --ec-brand: #ff0000; --paste-color-text: #00ff00; --paste-space-50: 99px; }
  </style>`;
  const snapshot = (page) => page.evaluate(() => {
    const widget = document.querySelector('edgechat-widget')?.shadowRoot;
    const pick = (el, props) => {
      if (!el) return null;
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return { box: [r.x, r.y, r.width, r.height].map(Math.round), ...Object.fromEntries(props.map((p) => [p, s.getPropertyValue(p)])) };
    };
    const props = ['color', 'background-color', 'font-family', 'font-size', 'line-height', 'letter-spacing', 'border-top-width', 'display', 'position'];
    return Object.fromEntries([['launcher', '.ec .launcher'], ['panel', '.panel'], ['title', 'h2'], ['composer', 'textarea'], ['send', '.send'], ['greeting', '.bubble']]
      .map(([name, sel]) => [name, pick(widget?.querySelector(sel), props)]));
  });
  const outside = (page) => page.evaluate(() => {
    const content = getComputedStyle(document.getElementById('content'));
    return {
      content: [content.color, content.fontSize, content.margin, content.display],
      body: [...document.body.children].filter((e) => e.tagName !== 'EDGECHAT-WIDGET').map((e) => e.outerHTML),
      head: [...document.head.children].filter((e) => !(e.tagName === 'SCRIPT' && e.src.includes('twilio-conversations'))).map((e) => e.outerHTML),
      sheets: document.styleSheets.length,
      html: document.documentElement.getAttribute('style'),
      bodyStyle: document.body.getAttribute('style'),
    };
  });

  const plain = await visit(t, 'plain', { path: '/plain-css' });
  await openAndConnect(plain.page);
  const expected = await snapshot(plain.page);
  assert.ok(expected.launcher && expected.panel && expected.greeting, JSON.stringify(expected));
  await plain.page.close();

  const { page } = await visit(t, 'hostile', { head: hostile });
  const before = await outside(page);
  await openAndConnect(page);
  assert.deepEqual(await snapshot(page), expected, 'the widget looks the same on the hostile page');
  await send(page, 'Still readable');
  await launcher(page).click();
  assert.deepEqual(await outside(page), before, 'nothing outside the host element changed');
  await page.close();
});

test('a strict Content-Security-Policy (the README\'s lines): no eval, no inline script; the widget works', async (t) => {
  const ws = emu.url.replace('http://', 'ws://');
  const csp = `default-src 'none'; script-src ${worker.url} ${emu.url} 'wasm-unsafe-eval'; `
    + `connect-src ${worker.url} ${emu.url} ${ws}; style-src 'unsafe-inline'; img-src 'none'`;
  const { page, errors } = await visit(t, 'csp', { headers: { 'Content-Security-Policy': csp } });
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await openAndConnect(page);
  await send(page, 'Under a strict CSP');
  await noneSending(page);
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a page that enforces Trusted Types (the README\'s line): the widget works through its edgechat policy, with no violation', async (t) => {
  const ws = emu.url.replace('http://', 'ws://');
  const csp = `default-src 'none'; script-src ${worker.url} ${emu.url} 'wasm-unsafe-eval'; `
    + `connect-src ${worker.url} ${emu.url} ${ws}; style-src 'unsafe-inline'; img-src 'none'; `
    + "require-trusted-types-for 'script'; trusted-types edgechat";
  const { page, errors } = await visit(t, 'tt', { headers: { 'Content-Security-Policy': csp } });
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy|Trusted Type|TrustedHTML|TrustedScriptURL/i.test(m.text())) violations.push(m.text()); });
  assert.equal(await page.evaluate(() => { try { document.body.innerHTML = '<b>x</b>'; return 'accepted'; } catch { return 'refused'; } }), 'refused', 'the page enforces Trusted Types');
  violations.length = 0;
  // The shell first (the click before the widget has loaded), then the app and the SDK's realm.
  await openAndConnect(page);
  await send(page, 'Under Trusted Types');
  await noneSending(page);
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the SDK runs in a realm of its own: the host page\'s globals are the same before and after a chat', async (t) => {
  const { page, errors } = await visit(t, 'globals', {
    init: () => {
      if (window.top !== window) return;
      const names = {
        URL: () => window.URL, 'URL.parse': () => URL.parse, 'URL.canParse': () => URL.canParse,
        URLSearchParams: () => window.URLSearchParams,
        'URLSearchParams.prototype.size': () => Object.getOwnPropertyDescriptor(URLSearchParams.prototype, 'size')?.get,
        fetch: () => window.fetch, Request: () => window.Request, Promise: () => window.Promise,
        'Function.prototype.toString': () => Function.prototype.toString,
        'NodeList.prototype.forEach': () => NodeList.prototype.forEach,
        'HTMLCollection.prototype.forEach': () => HTMLCollection.prototype.forEach,
        'DOMTokenList.prototype.forEach': () => DOMTokenList.prototype.forEach,
        'Symbol.useSetter': () => Symbol.useSetter, 'Symbol.useSimple': () => Symbol.useSimple,
        Twilio: () => window.Twilio,
      };
      const before = Object.fromEntries(Object.entries(names).map(([k, get]) => [k, get()]));
      window.__changedGlobals = () => Object.entries(names).filter(([k, get]) => get() !== before[k]).map(([k]) => k);
      window.__globalKeys = Object.keys(window).length;
    },
  });
  await openAndConnect(page);
  await send(page, 'Does the SDK touch my page?');
  await noneSending(page);
  assert.deepEqual(await page.evaluate(() => window.__changedGlobals()), [], 'nothing the SDK bundle patches changed');
  assert.equal(await page.evaluate(() => typeof URL.parse), 'function', 'URL.parse is still there');
  assert.equal(await page.evaluate(() => new URL('https://a.test/x?y=1').searchParams.get('y')), '1');
  // The SDK is in an iframe inside the widget's shadow root, not in the page's DOM.
  assert.equal(await page.evaluate(() => document.querySelectorAll('iframe').length), 0);
  assert.equal(await page.evaluate(() => document.querySelector('edgechat-widget').shadowRoot.querySelectorAll('iframe[hidden]').length), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a host page with patched prototypes (old libraries) chats normally, and what it patched never reaches Twilio', async (t) => {
  const { page, errors } = await visit(t, 'patched', {
    init: () => {
      // The host page's own scripts run in its document only (init scripts run in every frame).
      if (window.top !== window) return;
      // As Prototype.js 1.6 and similar polyfills did.
      Array.prototype.toJSON = function () { return 'patched array'; };
      Object.defineProperty(Object.prototype, 'polluted', { value: 'yes', enumerable: true, writable: true, configurable: true });
      const bind = Function.prototype.bind;
      Function.prototype.bind = function (...args) { window.__binds = (window.__binds || 0) + 1; return bind.apply(this, args); };
      JSON.stringify = ((stringify) => function (value, ...rest) { return stringify.call(JSON, value, ...rest); })(JSON.stringify);
    },
  });
  await openAndConnect(page);
  await send(page, 'Hello from an old page');
  await noneSending(page);
  const sid = await stored(page, 'patched', 'conversation');
  const conversation = await client.conversations.v1.services(service).conversations(sid).fetch();
  const attributes = JSON.parse(conversation.attributes);
  assert.equal(attributes.site, 'patched');
  assert.ok(!('polluted' in attributes), JSON.stringify(attributes));
  const [message] = await client.conversations.v1.services(service).conversations(sid).messages.list();
  const messageAttributes = JSON.parse(message.attributes);
  assert.equal(typeof messageAttributes.edgechat_local_id, 'number');
  assert.ok(!('polluted' in messageAttributes), message.attributes);
  assert.equal(message.body, 'Hello from an old page');
  assert.deepEqual(errors, []);
  await page.close();
});

