// What the app needs first and the wasm does not: the site's config and the visitor's token
// (then the catalogue of the language the app will speak, unless English),
// asked for as soon as the widget's module has arrived (embed.js calls `prefetch` before the wasm
// has arrived, beside the SDK's `preload`), so that they are in when the app starts. The app's own
// requests take the answer (`take_early`, in src/net.rs) when they are the same request (same URL,
// same body); anything else, or a second ask, goes to the network as before, and a failure here is
// the app's to show and retry, as if it had asked itself.
//
// Then, once the SDK's realm, the config and the token are in, the SDK's `Client` starts here
// (`connect`), and a returning visitor's stored conversation is looked up and its newest page
// asked for as soon as it has initialized (`resume`); the app's `start_client` takes them over
// (`take_client`, src/sdk.rs) when it has the same token in the same realm frame.
//
// A first visit's credential is minted under the same lock the app takes for it (tabs opened
// together become one visitor): under that lock, the credential this answer brings is stored as
// the app would store it, and the answer waits for the app's request for that credential. Where
// the browser has no Web Locks, a first visit's token is left to the app.

import { preloaded } from './realm.js';

const early = new Map();
// The SDK's Client started here, for the app to take (`take_client`), and whether the app came
// for it already (then none is started here: one page, one connection).
let client;
let taken = false;
const json = { 'content-type': 'application/json' };

function ask(url, body) {
  // No deadline of its own: the app that takes it waits for it as long as it waits for its own
  // requests (`take_early`), and a deadline here would also cut a body the app had not read yet.
  const response = fetch(url, body === undefined ? {} : { method: 'POST', headers: json, body });
  response.catch(() => {}); // Judged by the app, when it takes it.
  early.set(url, [body, response]);
  return response;
}

/** An answer's JSON, read from a copy made before the app can read it (null if it failed). */
const parsed = (response) => response.then((r) => (r.ok ? r.clone().json() : null)).catch(() => null);

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

// The catalogues' file names, from the build (`de=de.<hash>.json;…`; English is built in).
const CATALOGUES = new Map((typeof __I18N__ === 'string' ? __I18N__ : '').split(';').filter(Boolean).map((entry) => entry.split('=')));

/** The app (src/i18n.rs): the catalogue's file name for `locale`; none for English. */
export function catalogue_file(locale) {
  return CATALOGUES.get(locale);
}

/**
 * The catalogue the app will fetch for the first of `wanted` that it speaks, as
 * `edgechat_core::chat::locale::negotiate` picks it (an exact tag, else the same language;
 * Hebrew's old `iw`); none for English. Asked for early only: a page's `setLocale` queued before
 * load may still choose another, which the app then fetches itself.
 */
function catalogue(wanted) {
  const locales = ['en', ...CATALOGUES.keys()];
  for (const raw of wanted) {
    const tag = typeof raw === 'string' ? raw.trim().replace(/_/g, '-').toLowerCase() : '';
    const language = tag.split('-')[0].replace(/^iw$/, 'he');
    if (!language) continue;
    const found = locales.find((l) => l.toLowerCase() === tag) ?? locales.find((l) => l.split('-')[0].toLowerCase() === language);
    if (found) return CATALOGUES.get(found);
  }
}

/** Starts the config and token requests for `site` (once), then the SDK's connection. */
export function prefetch(base, site, userToken, sdk) {
  if (early.size) return;
  const api = `${base}api/sites/${site}/`;
  const config = parsed(ask(api + 'config'));
  // The language's catalogue, once the config has said the site's language.
  config.then((c) => {
    const tag = document.querySelector('script[data-site][src*="embed.js"]')?.getAttribute('data-locale');
    const name = c && catalogue([tag, c.locale, ...(navigator.languages ?? [])]);
    if (name) ask(`${base}widget/i18n/${name}`);
  });
  const url = api + 'token';
  const key = `edgechat:${site}:visitor`;
  const visitor = storedVisitor(key);
  let token = Promise.resolve(null);
  if (visitor || userToken) {
    token = parsed(ask(url, tokenBody(visitor, userToken)));
  } else if (navigator.locks?.request) {
    token = navigator.locks
      .request(key, async () => {
        // Another tab may have minted it meanwhile.
        const now = storedVisitor(key);
        if (now) return parsed(ask(url, tokenBody(now)));
        const response = ask(url, tokenBody(null));
        const answer = await parsed(response);
        if (typeof answer?.visitor !== 'string') return null;
        // As the app stores it; the app's request with it takes this answer.
        localStorage.setItem(key, answer.visitor);
        early.set(url, [tokenBody(answer.visitor), response]);
        return answer;
      })
      .catch(() => null);
  }
  connect(config, token, sdk, stored(`edgechat:${site}:conversation`));
}

/** The conversation the app stored for this site (`CH…`), if any. */
function stored(key) {
  try {
    const sid = localStorage.getItem(key);
    return /^CH[0-9a-f]{32}$/.test(sid ?? '') ? sid : null;
  } catch {
    return null;
  }
}

// The newest page the app shows first (edgechat_core::chat::message_log::PAGE_SIZE).
const PAGE_SIZE = 30;

/**
 * A returning visitor's stored conversation, looked up and its newest page asked for as soon as
 * the Client has initialized, when the app has not taken the Client yet (it would ask itself at
 * once): `{sid, conversation, page, stop}`. `stop(listener)` ends the listening here when the app
 * listens itself, and hands `listener` the messages heard meanwhile that the page does not hold.
 */
function resume(client, sid) {
  const added = [];
  const listen = (m) => added.push(m);
  let listening;
  const conversation = client.getConversationBySid(sid);
  const page = conversation.then((c) => {
    listening = c;
    c.on('messageAdded', listen);
    return c.getMessages(PAGE_SIZE);
  });
  conversation.catch(() => {});
  page.catch(() => {});
  const stop = (listener) => {
    listening?.removeListener('messageAdded', listen);
    listening = null;
    const heard = added.splice(0);
    if (listener && heard.length) {
      page.then((p) => {
        const newest = p.items.at(-1)?.index ?? -1;
        for (const m of heard) if (m.index > newest) listener(m);
      }, () => {});
    }
  };
  return { sid, conversation, page, stop };
}

/**
 * The realtime connection, as soon as the SDK's realm, the config and the token are in: the
 * SDK's own `new Client(token, options)`, in its realm, as the app would make it (src/sdk.rs),
 * with what it reports before the app takes it kept for the app (whether it initialized, its
 * connection's state). Not when the config names another SDK (the app loads that one), or when
 * anything is missing: the app then connects itself, as before.
 */
async function connect(configAnswer, tokenAnswer, sdk, sid) {
  try {
    const frame = sdk && preloaded(sdk);
    if (!frame) return;
    const [config, answer] = await Promise.all([configAnswer, tokenAnswer, frame[1]]);
    if (!config || config.sdk_url || !answer?.token || taken) return;
    const token = answer.token;
    const Client = frame[0].contentWindow?.Twilio?.Conversations?.Client;
    if (!Client || taken) return;
    const win = frame[0].contentWindow;
    const options = new win.Object();
    if (config.realtime_url) options.Twilsock = Object.assign(new win.Object(), { uri: config.realtime_url });
    const started = new Client(token, options);
    const state = { client: started, token, frame: frame[0], win, initialized: undefined, link: undefined, resume: undefined };
    started.on('initialized', () => {
      state.initialized ??= true;
      if (sid && !taken) state.resume = resume(started, sid);
    });
    started.on('initFailed', () => (state.initialized ??= false));
    started.on('connectionStateChanged', (s) => (state.link = s));
    client = state;
  } catch {
    // The app connects itself.
  }
}

/**
 * The app: the Client started here for `token` in its realm's `frame`, with what it reported so
 * far (`{client, initialized, link, resume}`), once; else undefined (the app starts its own, and none is
 * started here after this). One for another token, or in a frame that is not the app's realm any
 * more (moved in the DOM, which reloads it), is shut down.
 */
export function take_client(token, frame) {
  taken = true;
  const found = client;
  client = undefined;
  if (!found) return undefined;
  if (found.token === token && found.frame === frame && frame.isConnected && frame.contentWindow === found.win) return found;
  found.resume?.stop();
  try {
    found.client.shutdown().catch(() => {});
  } catch {
    // Its realm is gone, and the Client with it.
  }
  return undefined;
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
