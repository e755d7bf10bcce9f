// The SDK's realm, started as early as possible: embed.js calls `preload` as soon as the widget's
// module has arrived (before its wasm has), so the SDK downloads and runs while the wasm still
// streams and compiles; the app's `Realm::load` (src/realm.rs) then takes the frame that is
// loading, or makes one for another URL. One definition of the realm's frame, used by both.
//
// A same-origin blank iframe inside the widget's shadow root, whose document loads the SDK as a
// classic script: the SDK's globals and polyfills stay in that window.

let pending;

/** Makes the frame under `parent` and starts loading `url` in it: [frame, a promise of the load]. */
function start(parent, url) {
  const frame = document.createElement('iframe');
  for (const [name, value] of [['hidden', ''], ['aria-hidden', 'true'], ['tabindex', '-1'], ['title', 'chat connection']]) {
    frame.setAttribute(name, value);
  }
  parent.appendChild(frame);
  // The SDK leaves some of its own promises unhandled when a start fails (its conversations list,
  // on a status it does not retry): the app's deadlines judge those failures and start again, so
  // they are not reported as the page's uncaught errors.
  frame.contentWindow.addEventListener('unhandledrejection', (e) => e.preventDefault());
  const inner = frame.contentDocument;
  const script = inner.createElement('script');
  const loaded = new Promise((resolve, reject) => {
    script.onload = resolve;
    script.onerror = () => reject(new Error('the SDK script did not load'));
  });
  loaded.catch(() => {}); // Judged by whoever takes the frame.
  // Trusted Types (inherited from the page, with its policy): this URL and no other, through the
  // frame's own `edgechat` policy.
  let trusted = url;
  try {
    trusted = frame.contentWindow.trustedTypes?.createPolicy('edgechat', {
      createScriptURL: (u) => { if (u !== url) throw new TypeError('edgechat: only the SDK loads here'); return u; },
    }).createScriptURL(url) ?? url;
  } catch {
    // Not allowed by the page's trusted-types: the plain URL (refused where they are enforced).
  }
  script.src = trusted;
  (inner.head || inner.documentElement).appendChild(script);
  return [frame, loaded];
}

/** embed.js, on intent: start the realm for `url` under `parent` (the shadow root), once. */
export function preload(parent, url) {
  pending ||= { url, started: start(parent, url) };
}

/** early.js: the frame preloaded for `url` and its load ([frame, promise]), if it is there. */
export function preloaded(url) {
  return pending?.url === url ? pending.started : undefined;
}

/** The app: the frame preloaded for `url`, or a new one ([frame, promise of the load]). */
export function realm_frame(parent, url) {
  const preloaded = pending;
  pending = undefined;
  if (preloaded?.url === url && preloaded.started[0].isConnected) return preloaded.started;
  preloaded?.started[0].remove();
  return start(parent, url);
}
