//! The SDK's own JavaScript realm: a same-origin blank iframe inside the widget's shadow root,
//! whose window loads the Conversations SDK. Loading the SDK replaces the page's `URL`, `fetch`,
//! `Request`, `Function.prototype.toString` and more (core-js polyfills inside its bundle); in
//! its own window it changes nothing of the host page's, and the host page's patched prototypes
//! (old libraries, polyfills) do not reach it. Every object handed to the SDK (options,
//! attributes) is made in that realm from primitives, so no host prototype travels with it.
//!
//! An iframe that is moved or re-attached in the DOM reloads and loses what ran in it (pages that
//! swap `<body>` do this): [`Realm::alive`] tells, and the session starts again.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone)]
pub struct Realm {
    frame: web_sys::HtmlIFrameElement,
    window: JsValue,
    /// The SDK script it loaded.
    url: std::rc::Rc<str>,
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Why the SDK's realm could not be made (each shows the visitor "unavailable").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealmError {
    /// The iframe or its script element could not be made.
    Dom,
    /// The SDK's script did not load (network, CSP, a wrong URL).
    ScriptFailed,
    /// The script loaded but defined no `Twilio.Conversations.Client`.
    NoClient,
}

#[wasm_bindgen(module = "/realm.js")]
extern "C" {
    /// The frame embed.js preloaded for `url`, or a new one: `[frame, promise of the load]`.
    #[wasm_bindgen(catch)]
    fn realm_frame(parent: &web_sys::Node, url: &str) -> Result<js_sys::Array, JsValue>;
}

impl Realm {
    /// The iframe under `parent` (the shadow root) with the SDK script from `url` loaded as a
    /// classic script in its document: the one embed.js started on intent, or a new one.
    pub async fn load(parent: &web_sys::Node, url: &str) -> Result<Realm, RealmError> {
        let started = realm_frame(parent, url).map_err(|_| RealmError::Dom)?;
        let frame: web_sys::HtmlIFrameElement = started.get(0).unchecked_into();
        let done: Promise = started.get(1).unchecked_into();
        let window: JsValue = frame.content_window().ok_or(RealmError::Dom)?.into();
        let loaded = JsFuture::from(done).await.is_ok();
        let realm = Realm {
            frame,
            window,
            url: url.into(),
        };
        let failure = if !loaded {
            RealmError::ScriptFailed
        } else if realm.constructor().is_none() {
            RealmError::NoClient
        } else {
            return Ok(realm);
        };
        // A later "Try again" makes a fresh realm.
        realm.frame.remove();
        Err(failure)
    }

    /// `Twilio.Conversations.Client` in the realm, once the script has defined it.
    pub fn constructor(&self) -> Option<Function> {
        let ctor = get(
            &get(&get(&self.window, "Twilio"), "Conversations"),
            "Client",
        );
        ctor.dyn_into().ok()
    }

    pub fn frame(&self) -> &web_sys::HtmlIFrameElement {
        &self.frame
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the realm still holds what ran in it (not reloaded by a move in the DOM).
    pub fn alive(&self) -> bool {
        self.frame.is_connected()
            && self
                .frame
                .content_window()
                .is_some_and(|w| JsValue::from(w) == self.window)
            && self.constructor().is_some()
    }

    /// A plain object made in the realm, with string fields.
    pub fn object(&self, fields: &[(&str, &str)]) -> Result<JsValue, JsValue> {
        let object_ctor: Function = get(&self.window, "Object").dyn_into()?;
        let object = Reflect::construct(&object_ctor, &js_sys::Array::new())?;
        for (key, value) in fields {
            Reflect::set(&object, &(*key).into(), &(*value).into())?;
        }
        Ok(object)
    }

    /// `new <name>(...args)` with the realm's own constructor (its `instanceof` checks pass).
    pub fn construct(&self, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let ctor: Function = get(&self.window, name).dyn_into()?;
        Reflect::construct(&ctor, &args.iter().collect())
    }

    /// Removes the iframe (and the SDK with it).
    pub fn remove(&self) {
        self.frame.remove();
    }
}
