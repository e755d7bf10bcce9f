// The two engines beside Chromium, from Debian's packages (installed by scripts/test.sh), each
// behind one small page interface so that the same visits run in both:
// - Firefox ESR through puppeteer-core (WebDriver BiDi; no geckodriver), headless, a fresh
//   browser context (storage and cache) per page;
// - WebKitGTK (Safari's engine): `WebKitWebDriver` (package webkit2gtk-driver) under `xvfb-run`,
//   in its own process group and stopped by its id, driving `MiniBrowser` through classic
//   WebDriver (selenium-webdriver); a new session (a fresh browser) per page. WebKit takes its
//   language from the process: `LANGUAGE=en_US` for an ordinary visitor, or a bare `C` locale,
//   as a Linux session without one reports it.
// Elements are found inside the widget's open shadow root by the page's own JavaScript and
// clicked and typed into with the driver's real input. WebKit's driver reports no page errors,
// so every host page records its own (`recorder`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort } from './worker.mjs';

const require = createRequire(import.meta.url);

export const FIREFOX = '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** The first script of every host page: it records the page's uncaught errors and rejections. */
export const recorder = "window.__pageErrors=[];addEventListener('error',e=>__pageErrors.push(String(e.message)));addEventListener('unhandledrejection',e=>__pageErrors.push(String(e.reason&&e.reason.message||e.reason)))";
/** The recorder's CSP source (`script-src`), for pages with a strict policy. */
export const recorderHash = `'sha256-${createHash('sha256').update(recorder).digest('base64')}'`;

/** An expression for the last element of the widget's shadow root that matches `selector` (and, with `text`, whose text or label includes it). */
export const inWidget = (selector, text) => `(() => { const r = document.querySelector('edgechat-widget')?.shadowRoot; if (!r) return null;
  const all = [...r.querySelectorAll(${JSON.stringify(selector)})].filter((e) => ${JSON.stringify(text ?? '')} === '' || (e.textContent + ' ' + (e.getAttribute('aria-label') || '')).includes(${JSON.stringify(text ?? '')}));
  return all[all.length - 1] || null; })()`;

/** The engine's version as its own binary reports it. */
export function version(name) {
  try {
    return name === 'firefox'
      ? execFileSync(FIREFOX, ['--version'], { encoding: 'utf8' }).trim()
      : `WebKitGTK ${execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8' }).trim()}`;
  } catch {
    return `${name} (version unknown)`;
  }
}

/** Starts `name` ('firefox' | 'webkit'); `{ lang: 'C' }` runs WebKit in a bare C locale. */
export async function launchEngine(name, { lang } = {}) {
  return name === 'firefox' ? launchFirefox() : launchWebKit({ lang });
}

async function launchFirefox() {
  const puppeteer = require('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    extraPrefsFirefox: { 'intl.accept_languages': 'en-US, en', 'network.proxy.type': 0 },
  });
  return {
    name: 'firefox',
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const js = (expr) => page.evaluate(expr);
      return {
        errors: async () => [...errors, ...((await js('window.__pageErrors || []').catch(() => [])))],
        clearErrors: async () => { errors.length = 0; await js('(window.__pageErrors = []) && true'); },
        goto: (url) => page.goto(url),
        // What the old page reports while it unloads (the SDK's requests cut short: 'SyncError:
        // disconnected') is not an error of the page; what it reported before still counts.
        reload: async () => {
          const before = errors.length;
          await page.reload();
          errors.splice(before);
        },
        js,
        click: (expr) => retried(async () => {
          const element = (await page.evaluateHandle(expr)).asElement();
          if (!element) throw new Error(`nothing to click: ${expr}`);
          await element.click();
        }),
        type: (text) => page.keyboard.type(text),
        press: (key) => page.keyboard.press(key === 'Enter' ? 'Enter' : key),
        close: () => context.close().catch(() => {}),
      };
    },
    close: () => browser.close(),
  };
}

async function launchWebKit({ lang } = {}) {
  const { Builder, Key } = require('selenium-webdriver');
  const port = await freePort();
  const env = { ...process.env };
  for (const v of ['LANG', 'LC_ALL', 'LC_MESSAGES', 'LANGUAGE']) delete env[v];
  Object.assign(env, lang === 'C' ? { LANG: 'C.UTF-8' } : { LANGUAGE: 'en_US' });
  const driver = spawn('xvfb-run', ['-a', WEBKIT_DRIVER, `--port=${port}`], { detached: true, stdio: 'ignore', env });
  let exited = false;
  driver.on('exit', () => { exited = true; });
  const server = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${server}/status`)).ok) break;
    } catch { /* not listening yet */ }
    if (exited || Date.now() > deadline) throw new Error('WebKitWebDriver did not start (scripts/test.sh installs webkit2gtk-driver and xvfb)');
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => { if (!exited) { try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* gone */ } } };
  return {
    name: 'webkit',
    async newPage() {
      const session = await new Builder().usingServer(server).withCapabilities({
        browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
      }).build();
      const js = (expr) => session.executeScript(`return ${expr}`);
      return {
        errors: async () => js('window.__pageErrors || []').catch(() => []),
        clearErrors: () => js('(window.__pageErrors = []) && true'),
        goto: (url) => session.get(url),
        reload: () => session.navigate().refresh(),
        js,
        click: (expr) => retried(async () => {
          const element = await js(expr);
          if (!element) throw new Error(`nothing to click: ${expr}`);
          await element.click();
        }),
        type: (text) => session.actions().sendKeys(text).perform(),
        press: (key) => session.actions().sendKeys(key === 'Enter' ? Key.ENTER : key === 'Escape' ? Key.ESCAPE : key).perform(),
        close: () => session.quit().catch(() => {}),
      };
    },
    async close() { stop(); },
  };
}

/**
 * A click, again when its element went (embed.js's launcher is replaced by the app's as the app
 * mounts: found, then detached before the click lands) or was covered for a moment (a panel
 * opening): at most 10 tries, 100 ms apart.
 */
async function retried(click) {
  for (let i = 0; ; i++) {
    try {
      return await click();
    } catch (e) {
      if (i >= 9 || !/detached|stale|intercepted|not interactable|not clickable|nothing to click/i.test(`${e.name} ${e.message}`)) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Waits until `expr` is truthy in `page` (polled; at most `ms`), saying what did not happen. */
export async function until(page, expr, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await page.js(expr);
      if (last) return last;
    } catch (e) { last = e.message; }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
