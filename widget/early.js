// What the app needs first and the wasm does not: the site's config and the visitor's token,
// asked for as soon as the widget's module has arrived (embed.js calls `prefetch` before the wasm
// has arrived, beside the SDK's `preload`), so that they are in when the app starts. The app's own
// requests take the answer (`take_early`, in src/net.rs) when they are the same request (same URL,
// same body); anything else, or a second ask, goes to the network as before, and a failure here is
// the app's to show and retry, as if it had asked itself.
//
// A first visit's credential is minted under the same lock the app takes for it (tabs opened
// together become one visitor): under that lock, the credential this answer brings is stored as
// the app would store it, and the answer waits for the app's request for that credential. Where
// the browser has no Web Locks, a first visit's token is left to the app.

const early = new Map();
const json = { 'content-type': 'application/json' };

function ask(url, body) {
  // No deadline of its own: the app that takes it waits for it as long as it waits for its own
  // requests (`take_early`), and a deadline here would also cut a body the app had not read yet.
  const response = fetch(url, body === undefined ? {} : { method: 'POST', headers: json, body });
  response.catch(() => {}); // Judged by the app, when it takes it.
  early.set(url, [body, response]);
  return response;
}

const tokenBody = (visitor, userToken) =>
  JSON.stringify(Object.assign(visitor ? { visitor } : {}, userToken ? { user_token: userToken } : {}));

function storedVisitor(key) {
  try {
    const v = localStorage.getItem(key);
    // The app keeps its own credential here (`v2.…`), never a user's token.
    return v && !v.startsWith('eyJ') ? v : null;
  } catch {
    return null; // Storage blocked: the app asks itself.
  }
}

/** Starts the config and token requests for `site` (once). */
export function prefetch(base, site, userToken) {
  if (early.size) return;
  const api = `${base}api/sites/${site}/`;
  ask(api + 'config');
  const url = api + 'token';
  const key = `edgechat:${site}:visitor`;
  const visitor = storedVisitor(key);
  if (visitor || userToken) return void ask(url, tokenBody(visitor, userToken));
  if (!navigator.locks?.request) return;
  navigator.locks
    .request(key, async () => {
      // Another tab may have minted it meanwhile.
      const now = storedVisitor(key);
      if (now) return void ask(url, tokenBody(now));
      const response = await ask(url, tokenBody(null));
      if (!response.ok) return;
      const minted = (await response.clone().json())?.visitor;
      if (typeof minted !== 'string') return;
      // As the app stores it; the app's request with it takes this answer.
      localStorage.setItem(key, minted);
      early.set(url, [tokenBody(minted), Promise.resolve(response)]);
    })
    .catch(() => {});
}

/**
 * The answer already asked for `url` with `body` (undefined for a GET), once, given up when the
 * app's own request would be (`signal`, its deadline); else undefined.
 */
export function take_early(url, body, signal) {
  const entry = early.get(url);
  if (!entry) return undefined;
  early.delete(url);
  if (entry[0] !== body) return undefined;
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject(new Error('timed out')), { once: true });
    entry[1].then(resolve, reject);
  });
}
