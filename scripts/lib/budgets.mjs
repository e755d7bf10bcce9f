// The byte budgets, in one place: CI's size tests (tests/widget-size.test.mjs,
// tests/size-budget.test.mjs) and `npm run bench` read them from here. README (Budgets) says what
// each protects, and ARCHITECTURE.md (Decisions) why each is where it is.

/**
 * embed.js, the only eager download (it draws the launcher, and the panel's shell on a click):
 * 2560 bytes until placing the launcher and the phone's panel in the visual viewport cost 157
 * (2539 -> 2696), so that they are in view on a page wider than a phone's screen, and its
 * Trusted Types policy 61 (2757), then the launcher's and the shell's words in the visitor's
 * language (stored by the app, escaped into the HTML) and the shell's direction 104 (2861), then
 * its host element in <html> beside <body>, put back if a page removes it (and the app told, to
 * reconnect), 60 (2921), so that no body swap (Turbo Drive) or re-render silences the chat;
 * then the launcher and the shell in the top layer (popover), out of reach of a transformed,
 * filtered or zoomed root, 79 (3000); then the host API 377 (3377): show/hide, identify/reset,
 * send and setLocale before the app loads, on/off over the edgechat:* events, a user token from
 * data-user-token, warnings naming the valid commands. The maximum, 3.3 KiB (3379 bytes).
 */
export const EMBED_GZIP_BYTES = 3379;

/**
 * The widget fetched on open (wasm with its CSS, and its JS glue; not the SDK): CI's ceiling,
 * in KiB gzip -9, each file compressed on its own. What the size account's round reached
 * (178.3 KiB: the shell's handover and the outbox +3.3, wasm-opt -2.4, talc -0.7, from 178.0)
 * plus 2 KiB (180.3); each feature issue may raise it by what it measured, up to WIDGET_MAX_KIB.
 * Raised since, each by what it measured: the stored outbox and the tabs' lock +7.7 KiB (177.5 ->
 * 185.2 KiB), links and dir=auto +1.4 (186.6), ending a conversation (its menu, confirmation and
 * banner) +2.8 (189.4), the title's unread count while hidden +1.0 (190.4), "Seen" +1.4 (191.8),
 * the panel's menu and the transcript download +3.6 (195.4), the IndexedDB lease +0.4 (195.8), the
 * rating as a conversation ends, the chime while hidden and its mute item +3.0 (198.8); then,
 * within it, phones' touch targets and the dark theme +0.6 (199.4), right to left (the language
 * negotiated from the page, the site and the browser) +1.4 (200.8); every visitor-facing string
 * from a language's catalogue (the English one built in, with its keys; the ICU MessageFormat
 * formatter; the catalogue's fetch; Intl.PluralRules) +7.9 (200.9 -> 208.8; a global signal to
 * re-render on a language change cost 2.2 more and was cut: components read the look instead),
 * the shell's words stored for embed.js +0.4 (209.2); conversations started by the Worker (the
 * start request, the credential kept at each renewal) +0.1 (209.8, with the SDK's create and
 * join bindings gone); no page, locale or quirk that silences it +2.6 (212.4: the panic's
 * panel, words and event 0.9 of it, std's panic hook most of that; language tags read leniently
 * and canonicalized by Intl, and every Intl call caught; reconnecting after a page removed the
 * element); sends that go again by themselves for two minutes, and the top layer, +1.7 (214.1);
 * connecting again by itself after a failure that can pass +0.3 (214.4); filling in a message the
 * SDK never announced, from the conversation's lastMessage, +0.3 (214.7); the root put in the top
 * layer before the shell's focus is handed over, +0.3 (215.0); verified users and the host API
 * (identify, reset, a user's conversation from another device, show/hide, send, setLocale, the
 * commands' checks) +3.9 (218.9); away hours (the notice, when people are back in the visitor's
 * time) +1.1 (220.0); the pre-chat form +12.0 (232.0): its component 7.0 (inputs the browser
 * holds, read once on submit), the form's model, reading it from the config as the browser
 * parsed it, and its checks 5.0 (a first version cost 22.7 more: serde_json to read the form
 * 8.5 and a BTreeMap per kind of list 9.2; both replaced by lists and the browser's JSON);
 * the email asked for while away (its label in eight languages) +1.5 (233.5); the page's
 * language choice kept over the config's, and overlapping switches ordered +0.3 (233.8).
 * Attachments (issue 39) +21.3 (255.1): the attach button, drop and paste, the checks by bytes,
 * chosen files, media messages through the outbox, attachments drawn, eight languages' words (the
 * `url` crate, first used to check media links, was 69.7 more: links are now read by hand). Paid
 * with two patched releases (vendor/README.md): anyhow without backtrace printing on wasm -15.1
 * (240.0; std's demangler and backtrace formatter went with it), dioxus-web naming only the keys
 * the widget reads -6.5 (233.4); Unicode tables avoided in the byte checks -0.1. The config and
 * token asked for while the wasm loads, and the SDK's connection started then too (issue 40;
 * early.js, in the module's JS) +1.1 (234.5). A deadline on the SDK's conversation lookups,
 * which wait forever when its start half failed, and a new Client then +0.4 (234.9). A returning
 * visitor's stored conversation looked up and its newest page asked for before the wasm (early.js
 * +0.3 in the glue, the app's take-over +0.5) and a panic's message and place in `edgechat:error`
 * (+0.2) (236.1). Messages the SDK replays below a hole after a catch-up kept as history, not
 * shown as news (+0.2) (236.3). The language's catalogue asked for before the wasm (its
 * negotiation in early.js; the catalogues' names moved from the wasm to the module) +0.3 (236.6).
 */
export const WIDGET_CEILING_KIB = 236.7;
/** The most the ceiling may reach (decided 12-07: the shell made typing independent of the wasm's weight, so features every peer has outrank kilobytes; the aim is under 225). */
export const WIDGET_MAX_KIB = 240;

/**
 * The Worker's upload, as `wrangler deploy --dry-run` reports it, KiB gzip: 270 until the
 * visitor's end route (the participant list's reader, a REST client from the token service's
 * key) cost 4.3 KiB (269.3 -> 273.6), then its rating 2.5 (273.6 -> 276.0: the conversation's
 * fetch and the attributes' merge, read through the webhook route's raw-value map; derived
 * readers cost 8.3), then the theme and an optional launcher corner 0.6 (276.6), then a site's `strings`, passed
 * through as the JSON they are 1.1 (277.7; checking them against the English catalogue, as the
 * site-config tool does, cost 8.5, and decoding them into maps 4.4: both left out of the Worker),
 * then least privilege 7.3 (277.7 -> 285.0): the start route (the visitor's conversations listed,
 * one created with the visitor in it, keyed so that a repeat finds it), credentials with their
 * issue time and epoch, the whole-site limits, and the webhook route's checks before signing.
 * Then nothing lost 4.7 (285.0 -> 289.7): every webhook event kept before any work with its own
 * try count, 503s where Twilio's redelivery is what saves an event, Twilio's refusals as 422,
 * WEBHOOK_PUBLIC_URL, the capped caches and the test fault switches. Then one JWT library 3.9
 * (289.7 -> 293.6): jsonwebtoken signing the access tokens on an HS256-only provider of ours
 * (its rust_crypto provider would link RSA and EC), visitor ids and jitter from getrandom.
 * Then verified users 11.7 (293.6 -> 305.3): user tokens checked (jsonwebtoken's signature check;
 * its `decode` cost 41.7 because its header type carries a whole JWK parser, and serde_json's
 * Value 6.7 more, so both are read as raw fields instead), a user's start and end, a visitor's
 * conversations carried over to the user they sign in as, the user's name for agents. Then
 * away hours and the demo's test user 3.1 (305.3 -> 308.4): the public config's `away` (the next
 * opening from the runtime's Intl), the local-only route that signs the demo page's user token.
 * Then the pre-chat form 14.3 (308.4 -> 322.7): the form in the site config (its serde
 * derives), the answers checked with the runtime's RegExp and written into the attributes;
 * the email asked for while away 1.3 (324.0); the review's mends +0.5 (324.5). Attachments
 * +3.4 (327.9): the site's policy read and checked (its errors name each limit) and written
 * into the public config, the responder's media line.
 * Cloudflare's own limit is 3 MiB on the free plan; this round's maximum is 330.
 */
export const WORKER_GZIP_KIB = 328;
