// embed.js: the only script a host page loads eagerly (budget: 2 KB gzip).
//
//   <script src="https://<worker>/embed.js" data-site="acme" async></script>
//
// It does nothing before the page's `load` event; then, in an idle period, it creates one host
// element with an open shadow root and draws the launcher. The widget (wasm), the site's public
// config and the SDK load only on intent (hover, focus or click) or, for a returning visitor with a
// conversation, in the next idle period. Until then nothing else is fetched and nothing takes
// focus. `window.edgechat('open' | 'close' | 'toggle')` works at any time (calls made before the
// start are queued in `edgechat.q`, as the recommended snippet queues them); the widget dispatches
// `edgechat:ready`, `edgechat:open`, `edgechat:close` and `edgechat:message` on window.
import { parseLook } from './look';

interface Widget {
  default(): Promise<unknown>;
  mount(root: Element, site: string, base: string, open: boolean, focusLauncher: boolean): void;
  command(name: string): void;
}

type Queue = { q?: ArrayLike<unknown>[] };

((w: Window & { edgechat?: ((command: string) => void) & Queue; edgechatLoaded?: boolean }, d: Document) => {
  const script = (d.currentScript || d.querySelector('script[data-site][src*="embed.js"]')) as HTMLScriptElement | null;
  const site = script?.dataset.site;
  if (!script || !site || w.edgechatLoaded) return;
  w.edgechatLoaded = true;
  const base = new URL('./', script.src).href;
  const warn = (m: string) => console.warn('edgechat: ' + m);
  // Commands before the start are kept in the page's own queue (`edgechat.q`, which the
  // recommended snippet also fills) and run at the start.
  const early: ArrayLike<unknown>[] = w.edgechat?.q ? [...w.edgechat.q] : [];
  w.edgechat = Object.assign((...args: unknown[]) => void early.push(args), { q: early });

  // Nothing before the page's `load` event, and then only when the browser is idle: the host
  // page's load, first paint and LCP are its own.
  const idle = (f: () => void) => (w.requestIdleCallback ? w.requestIdleCallback(f, { timeout: 3000 }) : setTimeout(f, 1));
  const start = () => idle(run);
  d.readyState === 'complete' ? start() : w.addEventListener('load', start, { once: true });

  function run() {

  // The host element: `all: initial !important` inline beats any page rule on it; custom
  // properties, which `all` leaves alone and which inherit into the shadow root, are set here.
  const host = d.createElement('edgechat-widget');
  host.style.cssText = 'all:initial!important;--ec-brand:#0263e0!important';
  // The launcher's look from the site's last config (written by the app): "<brand> <side>".
  let stored = '';
  try {
    stored = localStorage.getItem(`edgechat:${site}:look`) || '';
  } catch {
    // Storage blocked: the default look until the app loads.
  }
  const [brand, left] = parseLook(stored);
  if (brand) host.style.setProperty('--ec-brand', brand, 'important');
  const root = host.attachShadow({ mode: 'open' });
  // Launcher styles (Paste: color-background-primary, shadow, border-radius-circle, notification);
  // the widget's own CSS (widget/src/widget.css) covers the panel.
  root.innerHTML =
    '<style>.launcher{position:fixed;z-index:2147483647;bottom:20px;right:20px;width:56px;height:56px;margin:0;padding:0;border:0;border-radius:50%;display:flex;align-items:center;justify-content:center;background:var(--ec-brand,#0263e0);color:#fff;cursor:pointer;box-shadow:0 4px 16px 0 rgba(18,28,45,.2)}.left .launcher,.launcher.left{right:auto;left:20px}.launcher svg{width:28px;height:28px;fill:currentColor}.launcher:focus-visible{outline:none;box-shadow:0 0 0 4px rgba(2,99,224,.7)}.launcher[aria-busy=true]{opacity:.8;cursor:progress}.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#db132a;color:#fff;font:600 12px/20px sans-serif;text-align:center}@media (max-width:599px){.ec:has(.panel:not([hidden])) .launcher{display:none}}</style>' +
    '<button class="launcher" type="button" aria-label="Open chat" aria-expanded="false" aria-haspopup="dialog"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg></button><div></div>';
  const placeholder = root.querySelector('button')!;
  if (left) placeholder.classList.add('left');
  const mountPoint = root.querySelector('div')!;

  let widget: Widget | undefined;
  let loading: Promise<void> | undefined;
  let openOnLoad = false;

  const load = (): Promise<void> =>
    (loading ||= (async () => {
      try {
        const mod: Widget = await import(base + 'widget/edgechat_widget.js');
        await mod.default();
        w.addEventListener('edgechat:ready', () => placeholder.remove(), { once: true });
        const hadFocus = root.activeElement === placeholder;
        mod.mount(mountPoint, site, base, openOnLoad, hadFocus && !openOnLoad);
        widget = mod;
      } catch (e) {
        // Offline, or the Worker is down: the next intent tries again.
        loading = undefined;
        placeholder.removeAttribute('aria-busy');
        warn('the widget could not load: ' + e);
      }
    })());

  const command = (name: unknown) => {
    if (name !== 'open' && name !== 'close' && name !== 'toggle') return warn(`unknown command ${String(name)}; use 'open', 'close' or 'toggle'`);
    if (widget) return widget.command(name);
    if (name === 'close') return void (openOnLoad = false);
    openOnLoad = true;
    placeholder.setAttribute('aria-busy', 'true');
    load();
  };

  // A press opens at once: the app's launcher, drawn over this one when the app is ready, could
  // otherwise take the release, and a press and release on two elements make no click (the
  // visitor's click would be lost). `click` stays for the keyboard (and is harmless twice).
  placeholder.addEventListener('pointerdown', (e) => e.button === 0 && command('open'));
  placeholder.addEventListener('click', () => command('open'));
  for (const intent of ['pointerenter', 'focus', 'touchstart']) placeholder.addEventListener(intent, load, { once: true, passive: true });

  w.edgechat = command;
  for (const args of early) command(args[0]);

  d.body.appendChild(host);
  // A returning visitor with a conversation: load in the next idle period, to show unread.
  let returning = false;
  try {
    returning = !!localStorage.getItem(`edgechat:${site}:conversation`);
  } catch {
    // Storage blocked: nothing to resume.
  }
  if (returning) idle(() => load());
  }
})(window, document);
