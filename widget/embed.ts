// embed.js: the only script a host page loads eagerly (budget: 2.5 KiB gzip).
//
//   <script src="https://<worker>/embed.js" data-site="acme" async></script>
//
// It does nothing before the page's `load` event and its largest paint; then, in an idle period,
// it creates one host element with an open shadow root and draws the launcher. The widget (wasm),
// the site's public config and the SDK load only on intent (hover, focus or touch, or the click)
// or, for a returning visitor with a conversation, in the next idle period. Until then nothing
// else is fetched and nothing takes focus.
//
// A click before the widget has loaded draws the panel's shell at once: the header with the
// site's title and colour as last seen, "Connecting…", and a composer that takes text and Enter.
// What is typed and sent there is the app's when it mounts (it reads the shell's DOM, then
// removes it): the draft, and each message sent, which waits for the connection and goes out once.
//
// The widget's files carry content hashes in their names (cached immutable); the build writes
// the current names into this file. A page holding an older embed.js after a deploy, whose files
// are gone, asks `widget-manifest.json` for the current names and tries once more.
//
// The host API (README, "The host page's API"; types in edgechat.d.ts): `window.edgechat(command,
// argument)` works at any time (calls made before the start are queued in `edgechat.q`, as the
// recommended snippet queues them): open, close, toggle, show, hide, identify, reset, prefill,
// send, setLocale, and on / off over the `edgechat:*` events dispatched on window. Before the
// app has loaded, what needs it waits for it. A bad command or argument is a console warning
// (before the app has loaded, once it has).
import { parseLook } from './look';

/** The build's content-hashed file names (replaced by scripts/build-widget.sh). */
declare const __FILES__: Files;
interface Files {
  module: string;
  wasm: string;
  sdk: string;
}

interface Widget {
  default(init: { module_or_path: Promise<Response> }): Promise<unknown>;
  preload(parent: ShadowRoot, sdk: string): void;
  prefetch(base: string, site: string, userToken: string | undefined, sdk: string): void;
  mount(root: Element, site: string, base: string, sdk: string, focusLauncher: boolean, shell: Element | null, userToken?: string): void;
  command(name: string, arg?: unknown): void;
}

type Queue = { q?: ArrayLike<unknown>[] };

((w: Window & { edgechat?: ((command: string, arg?: unknown, more?: unknown) => void) & Queue; edgechatLoaded?: boolean }, d: Document) => {
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
  const read = (what: string) => {
    try {
      return localStorage.getItem(`edgechat:${site}:${what}`) || '';
    } catch {
      return ''; // Storage blocked: defaults until the app loads.
    }
  };

  // Nothing before the page's `load` event and its largest paint (where the browser reports
  // it; at most 5 s), and then only when the browser is idle: the page's load and LCP are its own.
  const idle = (f: () => void) => (w.requestIdleCallback ? w.requestIdleCallback(f, { timeout: 3000 }) : setTimeout(f, 1));
  let started = false;
  const start = () => {
    if (!started) idle(run);
    started = true;
  };
  const lcp = 'largest-contentful-paint';
  const afterPaint = () =>
    PerformanceObserver.supportedEntryTypes?.includes(lcp)
      ? (new PerformanceObserver(start).observe({ type: lcp, buffered: true }), setTimeout(start, 5000))
      : start();
  d.readyState === 'complete' ? afterPaint() : w.addEventListener('load', afterPaint, { once: true });

  function run() {

  // The host element: `all: initial !important` inline beats any page rule on it; custom
  // properties, which `all` leaves alone and which inherit into the shadow root, are set here.
  const host = d.createElement('edgechat-widget');
  // The launcher's look from the site's last config (written by the app): "<brand> <side>".
  const [brand, left] = parseLook(read('look'));
  // The visual viewport (what the visitor sees: on a phone, not the layout viewport that a page
  // wider than the screen stretches, nor what the on-screen keyboard covers) as --vl, --vt, --vw
  // and --vh: the launcher and the phone's full-screen panel are placed in it, kept current.
  const vv = w.visualViewport;
  const place = () =>
    (host.style.cssText = `all:initial!important;--ec-brand:${brand || '#0263e0'}!important;--vl:${vv?.offsetLeft || 0}px!important;--vt:${vv?.offsetTop || 0}px!important;--vw:${vv?.width || w.innerWidth}px!important;--vh:${vv?.height || w.innerHeight}px!important`);
  place();
  for (const e of ['resize', 'scroll']) (vv || w).addEventListener(e, place);
  // The shell's words in the visitor's language, as the app last stored them (English before it
  // has run once): its direction, then the title, the launcher's name, Close, the log's name,
  // "Connecting…", the composer's name and placeholder, Send. Escaped where they go into HTML.
  const words = (read('words') || 'ltr\nChat\nOpen chat\nClose chat\nMessages\nConnecting…\nMessage\nType a message…\nSend').split('\n');
  const word = (i: number) => (words[i] || '').replace(/[&<"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const title = read('title') || words[1];
  const root = host.attachShadow({ mode: 'open' });
  // Launcher styles (Paste: color-background-primary, shadow, border-radius-circle; the app's
  // launcher has the same class, its badge's and focus ring's rules are the app's; before, the
  // browser's own focus ring shows) and the shell's: the app's panel (widget/src/widget.css) in
  // short, which it replaces.
  // Trusted Types: on a page that enforces them, the two pieces of HTML this file writes (its own
  // constants, with the stored words escaped) go through a policy named `edgechat`, which the page's `trusted-types` must allow.
  // (Not allowed by the page's `trusted-types`: plain strings, refused where they are enforced.)
  let tt: any;
  try {
    tt = (w as any).trustedTypes?.createPolicy('edgechat', { createHTML: (s: string) => s });
  } catch {}
  const html = (s: string): string => tt?.createHTML(s) ?? s;
  root.innerHTML = html(
    '<style>[popover]{margin:0;padding:0;border:0;inset:auto;overflow:visible}button{margin:0;padding:0;border:0;color:#fff;background:var(--ec-brand);cursor:pointer}.launcher{position:fixed;z-index:2147483647;left:calc(var(--vl) + var(--vw) - 76px);top:calc(var(--vt) + var(--vh) - 76px - env(safe-area-inset-bottom,0px));width:56px;height:56px;border-radius:50%;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 16px rgba(18,28,45,.2)}svg{width:28px;height:28px;fill:currentColor}.sh{position:fixed;z-index:2147483647;bottom:88px;right:20px;width:376px;height:min(640px,calc(100vh - 108px));display:flex;flex-direction:column;background:#f4f4f6;border-radius:8px;box-shadow:0 16px 24px rgba(18,28,45,.2);overflow:hidden;font:14px/20px sans-serif}.sh[hidden]{display:none}.sh *{box-sizing:border-box;margin:0}.sh h2{flex:1;font-size:16px}.hd,form{display:flex;gap:8px;padding:12px 16px;background:var(--ec-brand);color:#fff}.lg{flex:1;overflow:auto;padding:16px;display:flex;flex-direction:column;gap:8px}.lg p{align-self:center;color:#606b85}.q.q{align-self:flex-end;padding:8px 12px;border-radius:8px;background:var(--ec-brand);color:#fff;white-space:pre-wrap}form{background:#fff}textarea{flex:1;resize:none;padding:8px 12px;font:16px sans-serif;border:1px solid #8891aa}.sh button{width:44px;height:44px}.sh button,textarea{border-radius:4px}.left{right:auto;left:20px}.left .launcher{left:calc(var(--vl) + 20px)}@media (max-width:599px){.sh.sh{left:var(--vl);top:var(--vt);width:var(--vw);height:var(--vh);border-radius:0}}</style>' +
    `<button class="launcher${left ? ' left' : ''}" aria-label="${word(2)}" aria-expanded="false" aria-haspopup="dialog"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg></button><div></div>`);
  const placeholder = root.querySelector('button')!;
  // The top layer (popover), where no transform, filter, zoom or overflow of the page's root or
  // body reaches: what the widget puts on screen stays in view. Where popovers are missing,
  // position: fixed as before.
  const top = (e: Element) => {
    e.setAttribute('popover', 'manual');
    try {
      (e as any).showPopover?.();
    } catch {}
  };
  const mountPoint = root.querySelector('div')!;

  let files = __FILES__;
  let widget: Widget | undefined;
  let loading: Promise<void> | undefined;
  let shell: HTMLElement | undefined;
  let opened = false;
  // A signed-in user (`data-user-token`, or `identify` before the app loaded), and what waits
  // for the app.
  let userToken = script.dataset.userToken;
  const later: any[][] = [];
  const handlers = new Map<Function, EventListener>();

  // The module and the wasm are fetched side by side; the module compiles the wasm as it streams,
  // and meanwhile the SDK loads into its realm and the config and token are asked for.
  const attempt = async () => {
    const wasm = fetch(base + 'widget/' + files.wasm);
    wasm.catch(warn); // Unhandled if the module fails first.
    const mod: Widget = await import(base + 'widget/' + files.module);
    const sdk = base + 'vendor/' + files.sdk;
    mod.preload(root, sdk);
    mod.prefetch(base, site, userToken, sdk);
    await mod.default({ module_or_path: wasm });
    return mod;
  };
  const load = (): Promise<void> =>
    (loading ||= attempt()
      .catch(async () => {
        // A deploy replaced the files this embed.js names (a cached copy): ask for today's.
        files = await (await fetch(base + 'widget-manifest.json', { cache: 'no-store' })).json();
        return attempt();
      })
      .then(
        (mod) => {
          w.addEventListener('edgechat:ready', () => placeholder.remove());
          mod.mount(mountPoint, site, base, files.sdk, !shell && root.activeElement === placeholder, shell || null, userToken);
          widget = mod;
          for (const [name, arg] of later.splice(0)) command(name, arg);
        },
        (e) => {
          // Offline, or the Worker is down: the next intent tries again.
          loading = undefined;
          warn('could not load: ' + e);
        },
      ));

  const command = (name: unknown, arg?: unknown, more?: unknown): void => {
    if (name === 'on' || name === 'off') {
      if (typeof arg !== 'string' || typeof more !== 'function') return warn(name + ' needs (event, function)');
      const type = 'edgechat:' + arg;
      if (name === 'on' && !handlers.has(more)) handlers.set(more, (e) => more((e as CustomEvent).detail));
      const listener = handlers.get(more);
      if (listener) name === 'on' ? w.addEventListener(type, listener) : (w.removeEventListener(type, listener), handlers.delete(more));
      return;
    }
    if (widget) {
      try {
        return widget.command(name as string, arg);
      } catch (e) {
        return warn('' + e);
      }
    }
    if (name === 'identify') return void (userToken = (arg as any)?.token ?? arg);
    if (name === 'reset') {
      userToken = undefined;
      for (const key of ['visitor', 'conversation']) try { localStorage.removeItem(`edgechat:${site}:${key}`); } catch {}
      return;
    }
    if (name === 'show' || name === 'hide') return void (later.push([name]), (placeholder.style.display = name === 'hide' ? 'none' : ''));
    // The rest waits for the app (which warns of what it does not know).
    if (!/^(open|close|toggle|fail)$/.test(name as string)) {
      later.push([name, arg]);
      if (name === 'send') command('open');
      return;
    }
    const open = name === 'toggle' ? !opened : name === 'open';
    if (open && !shell) {
      // The shell: the panel as the visitor will see it, taking typing until the app takes it over.
      mountPoint.insertAdjacentHTML('beforebegin', html(`<div class="sh${left ? ' left' : ''}" role="dialog" aria-labelledby="ec-sh" dir="${word(0)}"><div class="hd"><h2 id="ec-sh"></h2><button aria-label="${word(3)}">✕</button></div><div class="lg" role="log" aria-label="${word(4)}"><p>${word(5)}</p></div><form><textarea aria-label="${word(6)}" placeholder="${word(7)}" rows="1"></textarea><button aria-label="${word(8)}">➤</button></form></div>`));
      shell = mountPoint.previousSibling as HTMLElement;
      top(shell);
      const [h2, text, logEl, form, close] = ['h2', 'textarea', '.lg', 'form', 'button'].map((s) => shell!.querySelector(s)!) as [HTMLElement, HTMLTextAreaElement, HTMLElement, HTMLElement, HTMLElement];
      h2.textContent = title;
      const send = (e: Event) => {
        e.preventDefault();
        if (!text.value.trim()) return;
        const q = logEl.appendChild(d.createElement('p'));
        q.className = 'q';
        q.textContent = text.value.trim();
        text.value = '';
      };
      form.onsubmit = send;
      // (A handler property that returns false cancels the event: these return nothing.)
      text.onkeydown = (e) => void (e.key === 'Enter' && !e.shiftKey && !e.isComposing && send(e));
      shell.onkeydown = (e) => void (e.key === 'Escape' && command('close'));
      close.onclick = () => command('close');
    }
    if (!shell) return;
    if (open !== opened) {
      shell.hidden = !(opened = open);
      placeholder.setAttribute('aria-expanded', '' + open);
      w.dispatchEvent(new CustomEvent('edgechat:' + (open ? 'open' : 'close')));
      if (!open && root.activeElement) placeholder.focus();
    }
    // Again on the click after the press, which focused the launcher.
    if (open) shell.querySelector('textarea')!.focus(), load();
  };

  // A press opens at once: the app's launcher, drawn over this one when the app is ready, could
  // otherwise take the release, and a press and release on two elements make no click (the
  // visitor's click would be lost). `click` stays for the keyboard; opening twice is harmless.
  placeholder.onpointerdown = (e) => void (e.button || command('open'));
  placeholder.onclick = () => command('open');
  for (const intent of ['pointerenter', 'focus', 'touchstart']) placeholder.addEventListener(intent, load, { once: true, passive: true });


  // Into <html>, after <body>: a page that swaps or re-renders its body (Turbo Drive replaces the
  // element on every visit; frameworks that own <body> re-render its children) leaves the chat
  // where it is, open panel, history, draft and focus included. Should the page remove it anyway,
  // it goes back as it was (its SDK realm, an iframe, reloads then, and the app reconnects).
  const page = d.documentElement;
  page.appendChild(host);
  top(placeholder);
  new MutationObserver(() => host.isConnected || (page.appendChild(host), root.querySelectorAll('[popover]').forEach(top), widget?.command('reattached'))).observe(page, { childList: true });
  w.edgechat = command;
  for (const args of early) command(args[0], args[1], args[2]);
  // A returning visitor with a conversation: load in the next idle period, to show unread.
  if (read('conversation')) idle(() => load());
  }
})(window, document);
