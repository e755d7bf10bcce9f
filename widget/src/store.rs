//! The visitor's session in localStorage (gloo-storage; keys namespaced by site, from
//! edgechat-core), with a copy in memory: when a browser blocks storage, or it is full, the widget
//! still works for the page's life. Values are stored as plain strings through gloo's raw
//! `Storage`, not gloo's JSON accessors: those bring serde_json into the wasm (8 KB+) for values
//! that are single strings.

use std::cell::RefCell;
use std::collections::HashMap;

use edgechat_core::chat::session::{
    conversation_key, look_key, title_key, visitor_key, StoredSession,
};
use edgechat_core::ids::sid::ConversationSid;
use edgechat_core::ids::site::SiteId;
use gloo_storage::{LocalStorage, Storage};

pub struct Store {
    site: SiteId,
    memory: RefCell<HashMap<String, Option<String>>>,
}

/// Whether localStorage can be touched: gloo's accessors throw (not return an error) where a
/// browser blocks it, so this is asked first.
fn usable() -> bool {
    matches!(
        web_sys::window().map(|w| w.local_storage()),
        Some(Ok(Some(_)))
    )
}

impl Store {
    pub fn new(site: SiteId) -> Store {
        Store {
            site,
            memory: RefCell::new(HashMap::new()),
        }
    }

    fn get(&self, key: &str) -> Option<String> {
        if let Some(value) = self.memory.borrow().get(key) {
            return value.clone();
        }
        if usable() {
            LocalStorage::raw().get_item(key).ok().flatten()
        } else {
            None
        }
    }

    fn set(&self, key: String, value: Option<String>) {
        if usable() {
            // A full or refusing storage keeps the memory copy only.
            let storage = LocalStorage::raw();
            let _ = match &value {
                Some(v) => storage.set_item(&key, v),
                None => storage.remove_item(&key),
            };
        }
        self.memory.borrow_mut().insert(key, value);
    }

    /// What this browser holds for the site; malformed values are removed.
    pub fn load(&self) -> StoredSession {
        let (vk, ck) = (visitor_key(&self.site), conversation_key(&self.site));
        let (raw_visitor, raw_conversation) = (self.get(&vk), self.get(&ck));
        let stored = StoredSession::from_storage(
            &self.site,
            raw_visitor.as_deref(),
            raw_conversation.as_deref(),
        );
        if raw_visitor.is_some() && stored.visitor_credential.is_none() {
            self.set(vk, None);
        }
        if raw_conversation.is_some() && stored.conversation.is_none() {
            self.set(ck, None);
        }
        stored
    }

    /// The launcher's look from the last config (`chat_session::launcher_look`).
    pub fn load_look(&self) -> Option<String> {
        self.get(&look_key(&self.site))
    }

    /// The launcher's look (`chat_session::launcher_look`), for embed.js on the next page.
    pub fn save_look(&self, look: String) {
        self.set(look_key(&self.site), Some(look));
    }

    /// The panel's title, for embed.js's shell on the next page.
    pub fn save_title(&self, title: &str) {
        self.set(title_key(&self.site), Some(title.to_owned()));
    }

    pub fn save_visitor(&self, credential: Option<&str>) {
        self.set(visitor_key(&self.site), credential.map(str::to_owned));
    }

    pub fn save_conversation(&self, sid: Option<&ConversationSid>) {
        self.set(
            conversation_key(&self.site),
            sid.map(|s| s.as_str().to_owned()),
        );
    }
}
