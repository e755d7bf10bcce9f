//! The edgechat widget: a Dioxus app compiled to wasm that embed.js mounts inside its shadow root
//! (`mount`), driven afterwards by `command` (`window.edgechat('open' | 'close' | 'toggle')`).
//!
//! - [`session`]: connecting (token, SDK, client, conversation), sending, history, token refresh.
//! - [`ui`]: the launcher, the panel, the log and the composer.
//! - [`sdk`]: bindings to the Conversations SDK surface (widget/sdk-surface.ts).
//! - [`net`]: the Worker's API, the SDK script, timers and the `edgechat:*` window events.
//! - [`store`]: the visitor's session and the outbox in localStorage (in memory where blocked).
//! - [`tabs`]: a lock shared by the browser's tabs, and what other tabs store.
//!
//! Every decision that is not I/O (message ordering, duplicates, send states, stored-session
//! checks, resume, refresh timing) is in edgechat-core and tested natively.

mod i18n;
mod net;
mod realm;
mod sdk;
mod session;
mod store;
mod tabs;
mod ui;

use std::cell::RefCell;

/// talc instead of Rust's default dlmalloc: smaller and faster in wasm (size account, BENCHMARKS.md).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use edgechat_core::ids::site::SiteId;
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use wasm_bindgen::prelude::*;

/// What the app reacts to: commands from the page, and events from the SDK.
pub(crate) enum Event {
    Command(Command),
    /// `messageAdded` on the conversation with this SID.
    Message(String, JsValue),
    Typing(String, Option<String>),
    /// `connectionStateChanged`: the SDK's link to Twilio.
    ConnectionState(edgechat_core::chat::connection::Link),
    /// The token needs renewing: `true` when it has already expired (the SDK's `tokenExpired`).
    TokenExpiring(bool),
    /// `participantUpdated` on the conversation with this SID (someone's read horizon moved).
    Participants(String),
    /// `updated` or `removed` on the conversation with this SID (`true`: removed).
    ConversationChanged(String, bool),
    /// The wait a failure asked for is over (the Worker was busy): connect again if still failed.
    RetryConnect(session::Failure),
    /// Another tab set or removed this localStorage key.
    Stored(String),
    /// The page's tab became visible (`true`) or hidden.
    Visible(bool),
    /// The page removed the widget's element and embed.js put it back: the SDK's realm (an
    /// iframe) reloaded, and the session connects again, as the same visitor.
    Reattached,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Open,
    Close,
    Toggle,
    /// The launcher shown or hidden (`show` / `hide`).
    Launcher(bool),
    /// A signed-in user's token (`identify`), or `None`: forget them (`reset`).
    Identify(Option<String>),
    /// Open the panel and send this text as the visitor.
    Send(String),
    /// Speak this language (a tag as `Intl` takes it).
    SetLocale(String),
    /// Answers for the pre-chat form, by field name.
    Prefill(Vec<(String, String)>),
}

pub(crate) struct Start {
    pub site: SiteId,
    /// The Worker's base URL, ending in `/`.
    pub base: String,
    /// The vendored SDK's URL (content-hashed), unless the site's config names another.
    pub sdk_url: String,
    pub focus_launcher: bool,
    /// embed.js's shell, drawn when the visitor opened before the app was there: the app takes
    /// over what it shows (open or not, the draft, messages sent from it) and removes it.
    pub shell: Option<web_sys::Element>,
    pub events: UnboundedReceiver<Event>,
    /// The shadow root the widget is mounted in: the SDK's realm goes there too.
    pub realm_parent: web_sys::Node,
    /// A signed-in user's token the page gave before the app loaded.
    pub user_token: Option<String>,
}

#[wasm_bindgen(module = "/crash.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn crashed(root: &web_sys::Element, site: &str, why: &str) -> Result<(), JsValue>;
    /// Hands `crash.js` the words it shows, in the visitor's language.
    #[wasm_bindgen(catch, js_name = crashWords)]
    pub(crate) fn crash_words(text: &str, reload: &str) -> Result<(), JsValue>;
}

/// If the app panics (it can run nothing more: the wasm aborts), `crash.js` puts a panel in its
/// place that says so and offers to reload, keeps the composer's text in the outbox, and tells
/// the host page (`edgechat:error`, `widget_failed`). Nothing here may panic again: the root is
/// read with `try_` calls, and the message is the panic's own text, unformatted.
fn on_panic(root: web_sys::Element, site: String) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let why = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or_default();
        // Where, for the site owner's report (`edgechat:error`'s message).
        let why = match info.location() {
            Some(at) => format!("{why} (at {}:{})", at.file(), at.line()),
            None => why.to_owned(),
        };
        let _ = crashed(&root, &site, &why);
    }));
}

thread_local! {
    static START: RefCell<Option<Start>> = const { RefCell::new(None) };
    static EVENTS: RefCell<Option<UnboundedSender<Event>>> = const { RefCell::new(None) };
}

pub(crate) fn take_start() -> Option<Start> {
    START.with(|s| s.borrow_mut().take())
}

/// Whether embed.js's shell is open (the app's panel starts open then).
pub(crate) fn shell_open() -> bool {
    START.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|s| s.shell.as_ref())
            .is_some_and(|shell| !shell.has_attribute("hidden"))
    })
}

/// Queues an event for the app (from a JS callback, outside Dioxus' runtime).
pub(crate) fn post(event: Event) {
    EVENTS.with(|e| {
        if let Some(tx) = &*e.borrow() {
            let _ = tx.unbounded_send(event);
        }
    });
}

/// Mounts the app into `root` (an element inside embed.js's shadow root) and starts connecting.
/// `sdk`: the vendored SDK's file name (under `vendor/`); `focus_launcher`: the loader's launcher had focus; `shell`:
/// the panel's shell embed.js drew (the visitor opened before the app was there).
#[wasm_bindgen]
pub fn mount(
    root: web_sys::Element,
    site: &str,
    base: &str,
    sdk: &str,
    focus_launcher: bool,
    shell: Option<web_sys::Element>,
    user_token: Option<String>,
) -> Result<(), JsValue> {
    let site: SiteId = site
        .parse()
        .map_err(|e| JsValue::from_str(&format!("edgechat: data-site: {e}")))?;
    let already = EVENTS.with(|e| e.borrow().is_some());
    if already {
        return Err(JsValue::from_str("edgechat: the widget is already mounted"));
    }
    on_panic(root.clone(), site.to_string());
    let (tx, rx) = unbounded();
    EVENTS.with(|e| *e.borrow_mut() = Some(tx));
    tabs::on_storage_change(|key| post(Event::Stored(key)));
    net::on_visibility_change(|visible| post(Event::Visible(visible)));
    START.with(|s| {
        *s.borrow_mut() = Some(Start {
            site,
            base: base.to_owned(),
            sdk_url: format!("{base}vendor/{sdk}"),
            focus_launcher,
            shell,
            events: rx,
            realm_parent: root.get_root_node(),
            user_token: user_token.filter(|t| !t.is_empty()),
        })
    });
    dioxus::web::launch::launch_cfg(ui::App, dioxus::web::Config::new().rootelement(root));
    Ok(())
}

/// `window.edgechat(name, argument)` once the app is loaded. A bad name or argument is an error
/// naming what is valid (embed.js shows it as a console warning, never an exception).
#[wasm_bindgen]
pub fn command(name: &str, arg: JsValue) -> Result<(), JsValue> {
    let text = |what: &str| {
        arg.as_string()
            .or_else(|| net::get(&arg, what).as_string())
            .filter(|s| !s.trim().is_empty())
    };
    let bad = |message: String| Err(JsValue::from_str(&message));
    let command = match name {
        "open" => Command::Open,
        "close" => Command::Close,
        "toggle" => Command::Toggle,
        "show" => Command::Launcher(true),
        "hide" => Command::Launcher(false),
        "identify" => match text("token") {
            Some(token) => Command::Identify(Some(token)),
            None => {
                return bad("identify takes {token: '<the user token your backend signed>'}".into())
            }
        },
        "reset" => Command::Identify(None),
        "prefill" => {
            // `Object.entries` throws on what is not an object.
            let entries = match arg.dyn_ref::<js_sys::Object>() {
                Some(object) => js_sys::Object::entries(object),
                None => js_sys::Array::new(),
            };
            let answers: Vec<(String, String)> = entries
                .iter()
                .filter_map(|pair| {
                    let pair = js_sys::Array::from(&pair);
                    let value = pair.get(1);
                    let text = value
                        .as_string()
                        .or_else(|| value.as_bool().map(|b| b.to_string()))?;
                    Some((pair.get(0).as_string()?, text))
                })
                .collect();
            if answers.is_empty() {
                return bad("prefill takes the form's answers, e.g. edgechat('prefill', {email: 'ada@example.com'})".into());
            }
            Command::Prefill(answers)
        }
        "send" => match text("text") {
            Some(body) => Command::Send(body),
            None => {
                return bad(
                    "send takes the message's text, e.g. edgechat('send', 'Is this in stock?')"
                        .into(),
                )
            }
        },
        "setLocale" => match text("locale").and_then(|t| net::intl_tag(&t)) {
            Some(tag) => Command::SetLocale(tag),
            None => {
                return bad(
                    "setLocale takes a language tag, e.g. edgechat('setLocale', 'de')".into(),
                )
            }
        },
        // Tests only: a page whose storage says so can make its own widget fail, so that what
        // a visitor sees then is tested (no visitor can reach another's widget through it).
        "fail" if net::test_faults() => panic!("a failure the test asked for"),
        // embed.js, after putting back the element a page removed.
        "reattached" => {
            post(Event::Reattached);
            return Ok(());
        }
        other => {
            return bad(format!(
                "unknown command {other:?}; use open, close, toggle, show, hide, identify, reset, \
                 prefill, send, setLocale, on or off"
            ))
        }
    };
    post(Event::Command(command));
    Ok(())
}
