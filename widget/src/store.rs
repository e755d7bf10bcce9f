//! The visitor's session in localStorage (gloo-storage; keys namespaced by site, from
//! edgechat-core), with a copy in memory: when a browser blocks storage, or it is full, the widget
//! still works for the page's life. Values are stored as plain strings through gloo's raw
//! `Storage`, not gloo's JSON accessors: those bring serde_json into the wasm (8 KB+) for values
//! that are single strings.

use std::cell::RefCell;
use std::collections::HashMap;

use edgechat_core::chat::outbox::{in_order, local_id_of, outbox_key, Pending};
use edgechat_core::chat::session::{
    conversation_key, look_key, muted_key, title_key, visitor_key, StoredSession,
};
use edgechat_core::ids::sid::ConversationSid;
use edgechat_core::ids::site::SiteId;
use gloo_storage::{LocalStorage, Storage};

pub struct Store {
    site: SiteId,
    memory: RefCell<HashMap<String, Option<String>>>,
    /// The page signed a user in: their conversation is kept without a visitor credential.
    pub signed_in: std::cell::Cell<bool>,
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
            signed_in: std::cell::Cell::new(false),
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

    /// Writes `key` to localStorage; only what it could not take (blocked, or full) is kept in
    /// memory, so that what another tab writes is read from localStorage, never from a stale copy.
    fn set(&self, key: String, value: Option<String>) {
        let written = usable() && {
            let storage = LocalStorage::raw();
            match &value {
                Some(v) => storage.set_item(&key, v).is_ok(),
                None => storage.remove_item(&key).is_ok(),
            }
        };
        if written {
            self.memory.borrow_mut().remove(&key);
        } else {
            self.memory.borrow_mut().insert(key, value);
        }
    }

    /// What this browser holds for the site; malformed values are removed.
    pub fn load(&self) -> StoredSession {
        let (vk, ck) = (visitor_key(&self.site), conversation_key(&self.site));
        let (raw_visitor, raw_conversation) = (self.get(&vk), self.get(&ck));
        let stored = StoredSession::from_storage(
            &self.site,
            raw_visitor.as_deref(),
            raw_conversation.as_deref(),
            self.signed_in.get(),
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

    /// The shell's words in the visitor's language, for embed.js on the next page.
    pub fn save_words(&self, words: String) {
        self.set(
            edgechat_core::chat::session::words_key(&self.site),
            Some(words),
        );
    }

    /// The visitor muted the sound of messages arriving while the tab is hidden.
    pub fn muted(&self) -> bool {
        self.get(&muted_key(&self.site)).is_some()
    }

    pub fn set_muted(&self, muted: bool) {
        self.set(muted_key(&self.site), muted.then(|| "1".into()));
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

    /// The outbox as stored (this tab's messages and other tabs'), in the order it goes out;
    /// malformed entries are removed.
    pub fn load_pending(&self) -> Vec<Pending> {
        let mut keys: Vec<String> = self.memory.borrow().keys().cloned().collect();
        if usable() {
            let storage = LocalStorage::raw();
            let len = storage.length().unwrap_or(0);
            keys.extend((0..len).filter_map(|i| storage.key(i).ok().flatten()));
        }
        let mut pending = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                continue;
            }
            let Some(local_id) = local_id_of(&self.site, key) else {
                continue;
            };
            if let Some(value) = self.get(key) {
                match Pending::decode(local_id, &value) {
                    Some(p) => pending.push(p),
                    None => self.set(key.clone(), None),
                }
            }
        }
        in_order(pending)
    }

    /// Keeps a message in the outbox (or rewrites it: refused, or its Retry).
    pub fn save_pending(&self, pending: &Pending) {
        self.set(
            outbox_key(&self.site, pending.local_id),
            Some(pending.encode()),
        );
    }

    /// The message went out (or is stored already): out of the outbox.
    pub fn remove_pending(&self, local_id: u64) {
        self.set(outbox_key(&self.site, local_id), None);
    }
}
