//! The browser's other tabs: work only one tab may do at a time (a first token, a first
//! conversation, sending the outbox) runs under a lock shared by all of them (widget/locks.js:
//! Web Locks, or a lease in localStorage where they are missing), and what another tab stores
//! (a new credential, a new conversation, an outbox message) arrives as a storage event.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/locks.js")]
extern "C" {
    /// Resolves, once this tab holds the lock `name`, with the function that releases it.
    fn acquire(name: &str) -> js_sys::Promise;
}

/// The lock `name`, held until this is dropped (no other tab holds it meanwhile).
pub struct Held {
    release: Option<js_sys::Function>,
    /// Someone else (another tab, or an earlier task of this one) held it when it was asked for:
    /// what they did meanwhile is to be looked at again.
    pub waited: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Waits until this tab holds the lock `name`.
pub async fn lock(name: &str) -> Held {
    let release = JsFuture::from(acquire(name)).await.ok();
    // Not known (the lock could not be had): as if it had waited.
    let waited = release.as_ref().is_none_or(|r| {
        js_sys::Reflect::get(r, &"waited".into()).map_or(true, |w| w.as_bool() != Some(false))
    });
    Held {
        release: release.and_then(|r| r.dyn_into().ok()),
        waited,
    }
}

/// Calls `changed(key)` for every localStorage key another tab sets or removes.
pub fn on_storage_change(changed: impl Fn(String) + 'static) {
    let listener =
        Closure::<dyn FnMut(web_sys::StorageEvent)>::new(move |e: web_sys::StorageEvent| {
            if let Some(key) = e.key() {
                changed(key);
            }
        });
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
    }
    // The widget listens for the page's life.
    listener.forget();
}
