//! The chat session: one Client per page for the page's life, the conversation, sending, history
//! and token refresh. State the view shows lives in signals ([`View`]); the SDK objects and the
//! stored session live here, outside the view.

use std::cell::RefCell;
use std::rc::Rc;

use dioxus::prelude::*;
use edgechat_core::chat::message_log::{MessageLog, PAGE_SIZE};
use edgechat_core::chat::session::{
    launcher_look, parse_launcher_look, refresh_delay_ms, resume, ConversationState, Lookup, Resume,
};
use edgechat_core::ids::sid::ConversationSid;
use edgechat_core::ids::site::SiteId;
use futures_util::future::{select, Either};
use wasm_bindgen::prelude::*;

use crate::net::{self, ApiFailure};
use crate::realm::Realm;
use crate::sdk;
use crate::store::Store;
use crate::{post, Event};

/// How long `new Client(token)` may take to initialize before the visitor is told.
const INIT_TIMEOUT_MS: u32 = 8_000;
/// A conversation the visitor may not be in any more answers with one of these statuses.
const GONE_STATUSES: [f64; 3] = [403.0, 404.0, 410.0];
/// The Worker's error code for a visitor credential it does not accept (any more).
const INVALID_CREDENTIAL: &str = "invalid_visitor_credential";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The SDK's script did not load.
    Unavailable,
    /// The Worker or Twilio could not be reached, or refused the token.
    CantConnect,
    /// The site is not set up for this page (unknown site, origin not allowed, misconfigured).
    NotSetUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing loaded yet (a new visitor who has not opened the panel).
    Idle,
    Connecting,
    Ready,
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Look {
    pub title: String,
    pub brand_color: Option<String>,
    pub bottom_left: bool,
    pub greeting: Option<String>,
    pub locale: Option<String>,
}

/// What the view shows.
#[derive(Clone, Copy)]
pub struct View {
    pub open: Signal<bool>,
    pub phase: Signal<Phase>,
    pub log: Signal<MessageLog>,
    pub notice: Signal<Option<String>>,
    pub unread: Signal<usize>,
    pub typing: Signal<Option<String>>,
    pub reconnecting: Signal<bool>,
    pub look: Signal<Look>,
    pub draft: Signal<String>,
    pub draft_error: Signal<Option<String>>,
    pub loading_older: Signal<bool>,
    /// The log element, for scrolling.
    pub log_el: Signal<Option<web_sys::Element>>,
}

#[derive(Default)]
struct State {
    identity: Option<String>,
    credential: Option<String>,
    client: Option<sdk::Client>,
    conversation: Option<sdk::Conversation>,
    connecting: bool,
    refreshing: bool,
    refresh_generation: u32,
    last_typing_ms: u64,
    config_loaded: bool,
    /// The SDK said `tokenExpired`: the renewal waits until it is `disconnected`.
    token_expired: bool,
    /// The token the Client holds: a renewal must bring another (the SDK ignores the same one).
    token: Option<String>,
    sdk_url: Option<String>,
    realtime_url: Option<String>,
    /// The SDK's own realm (an iframe in the shadow root), once loaded.
    realm: Option<Realm>,
}

/// The session controller; cheap to clone into event handlers and tasks.
#[derive(Clone)]
pub struct Session {
    pub view: View,
    site: SiteId,
    base: Rc<str>,
    /// Where the SDK's realm goes: the widget's shadow root.
    realm_parent: web_sys::Node,
    store: Rc<Store>,
    state: Rc<RefCell<State>>,
}

impl Session {
    /// The session for `site`; the launcher starts with the look the site's last config gave
    /// it (as embed.js drew it), so that it does not change colour or side when the app loads.
    pub fn new(view: View, site: SiteId, base: String, realm_parent: web_sys::Node) -> Session {
        let store = Store::new(site.clone());
        if let Some(stored) = store.load_look() {
            let (brand, bottom_left) = parse_launcher_look(&stored);
            let mut look = view.look;
            let mut look = look.write();
            look.brand_color = brand.map(str::to_owned);
            look.bottom_left = bottom_left;
        }
        Session {
            view,
            store: Rc::new(store),
            site,
            base: base.into(),
            realm_parent,
            state: Rc::new(RefCell::new(State::default())),
        }
    }

    pub fn identity(&self) -> Option<String> {
        self.state.borrow().identity.clone()
    }

    /// Whether a returning visitor's browser holds a conversation (load on idle, show unread).
    pub fn has_stored_conversation(&self) -> bool {
        self.store.load().conversation.is_some()
    }

    /// Connects, unless connected or connecting; shows how it went.
    pub async fn connect(self) {
        {
            let mut state = self.state.borrow_mut();
            if state.connecting || (self.view.phase)() == Phase::Ready {
                return;
            }
            state.connecting = true;
        }
        let mut phase = self.view.phase;
        phase.set(Phase::Connecting);
        let result = self.try_connect().await;
        self.state.borrow_mut().connecting = false;
        match result {
            Ok(()) => {
                phase.set(Phase::Ready);
                if (self.view.open)() {
                    self.mark_read();
                }
                self.stick_to_bottom(true);
            }
            Err(failure) => phase.set(Phase::Failed(failure)),
        }
    }

    async fn try_connect(&self) -> Result<(), Failure> {
        let stored = self.store.load();
        let need_config = !self.state.borrow().config_loaded;
        let config = async {
            if need_config {
                Some(net::config(&self.base, self.site.as_str()).await)
            } else {
                None
            }
        };
        let token = self.fetch_token(stored.visitor_credential.clone());
        let (config, token) = futures_util::join!(config, token);
        if let Some(config) = config {
            let config = config.map_err(|f| self.failure(f))?;
            self.store.save_look(launcher_look(
                config.brand_color.as_deref(),
                config.bottom_left,
            ));
            let mut look = self.view.look;
            look.set(Look {
                title: config.title.unwrap_or_else(|| look.peek().title.clone()),
                brand_color: config.brand_color,
                bottom_left: config.bottom_left,
                greeting: config.greeting,
                locale: config.locale,
            });
            let mut state = self.state.borrow_mut();
            state.config_loaded = true;
            // The config may name the SDK relative to the Worker (its vendored copy).
            state.sdk_url = web_sys::Url::new_with_base(&config.sdk_url, &self.base)
                .map(|u| u.href())
                .ok();
            state.realtime_url = config.realtime_url;
        }
        let (token, replaced) = token?;
        let realm = self.realm().await?;
        let existing = self.state.borrow().client.clone();
        let client = match existing {
            Some(client) => client,
            None => {
                let client = self.start_client(&realm, &token.token).await?;
                self.state.borrow_mut().token = Some(token.token.clone());
                client
            }
        };
        self.schedule_refresh(token.expires_at);
        self.open_conversation(&client, stored.conversation, replaced)
            .await
    }

    fn failure(&self, failure: ApiFailure) -> Failure {
        match failure {
            ApiFailure::Network => Failure::CantConnect,
            ApiFailure::Refused {
                status,
                code,
                message,
            } => {
                if matches!(status, 403 | 404) || code.starts_with("invalid_site") {
                    // For the site's owner; visitors see a plain sentence.
                    web_sys::console::error_1(
                        &format!("edgechat: the Worker refused this page ({code}): {message}")
                            .into(),
                    );
                    Failure::NotSetUp
                } else {
                    Failure::CantConnect
                }
            }
        }
    }

    /// A token for the stored visitor; a credential the Worker no longer accepts (its secret
    /// was rotated) is dropped and a new visitor starts. Also says whether the visitor is not
    /// the one before (their conversation, if any, is not this visitor's).
    async fn fetch_token(&self, credential: Option<String>) -> Result<(net::Token, bool), Failure> {
        let mut credential = credential;
        let mut dropped = false;
        loop {
            match net::token(&self.base, self.site.as_str(), credential.as_deref()).await {
                Ok(token) => {
                    self.store.save_visitor(Some(&token.visitor));
                    let mut state = self.state.borrow_mut();
                    let replaced = match state.identity.as_deref() {
                        Some(identity) => identity != token.identity,
                        None => dropped,
                    };
                    if state.identity.as_deref() != Some(token.identity.as_str()) {
                        self.view.log.clone().set(new_log(token.identity.clone()));
                    }
                    state.identity = Some(token.identity.clone());
                    state.credential = Some(token.visitor.clone());
                    return Ok((token, replaced));
                }
                Err(ApiFailure::Refused { code, .. })
                    if code == INVALID_CREDENTIAL && credential.is_some() =>
                {
                    self.store.save_visitor(None);
                    credential = None;
                    dropped = true;
                }
                Err(failure) => return Err(self.failure(failure)),
            }
        }
    }

    /// The SDK's realm, loading it (again, if the page reloaded its iframe) when needed; a
    /// reloaded realm lost its Client, so the session starts over with a new one.
    async fn realm(&self) -> Result<Realm, Failure> {
        let current = self.state.borrow().realm.clone();
        if let Some(realm) = current {
            if realm.alive() {
                return Ok(realm);
            }
            realm.remove();
            let mut state = self.state.borrow_mut();
            state.realm = None;
            state.client = None;
            state.conversation = None;
        }
        let sdk_url = self.state.borrow().sdk_url.clone().unwrap_or_default();
        let realm = Realm::load(&self.realm_parent, &sdk_url)
            .await
            .map_err(|()| Failure::Unavailable)?;
        self.state.borrow_mut().realm = Some(realm.clone());
        Ok(realm)
    }

    /// `new Client(token)` in the SDK's realm, then wait for `initialized` (or a refusal, or
    /// the timeout).
    async fn start_client(&self, realm: &Realm, token: &str) -> Result<sdk::Client, Failure> {
        let realtime_url = self.state.borrow().realtime_url.clone();
        let client = realm
            .client(token, realtime_url.as_deref())
            .map_err(|_| Failure::CantConnect)?;
        let (done, outcome) = futures_channel::oneshot::channel::<bool>();
        let done = Rc::new(RefCell::new(Some(done)));
        let finish = move |ok: bool| {
            if let Some(done) = done.borrow_mut().take() {
                let _ = done.send(ok);
            }
        };
        for (event, ok) in [("initialized", true), ("initFailed", false)] {
            let finish = finish.clone();
            client.on(event, &sdk::listener(move |_| finish(ok)));
        }
        client.on(
            "connectionStateChanged",
            &sdk::listener(move |state| {
                let state = state.as_string().unwrap_or_default();
                if state == "denied" || state == "error" {
                    finish(false);
                }
                post(Event::ConnectionState(state));
            }),
        );
        for (event, expired) in [("tokenAboutToExpire", false), ("tokenExpired", true)] {
            client.on(
                event,
                &sdk::listener(move |_| post(Event::TokenExpiring(expired))),
            );
        }
        let timeout = Box::pin(net::sleep(INIT_TIMEOUT_MS));
        let initialized = match select(outcome, timeout).await {
            Either::Left((Ok(ok), _)) => ok,
            _ => false,
        };
        if !initialized {
            client.close().await;
            return Err(Failure::CantConnect);
        }
        self.state.borrow_mut().client = Some(client.clone());
        Ok(client)
    }

    /// Resumes the stored conversation, or starts one (with a notice when the stored one ended,
    /// or belonged to the visitor this one `replaced`).
    async fn open_conversation(
        &self,
        client: &sdk::Client,
        stored: Option<ConversationSid>,
        replaced: bool,
    ) -> Result<(), Failure> {
        let mut found = None;
        let mut lookup = None;
        if replaced {
            lookup = Some(Lookup::Rejected);
        } else if let Some(sid) = &stored {
            match client.conversation(sid.as_str()).await {
                Ok(conversation) if !conversation.joined() => {
                    // The SDK peeked a conversation the visitor is no longer in: it is gone.
                    lookup = Some(Lookup::Rejected);
                }
                Ok(conversation) => {
                    let state = conversation
                        .current_state()
                        .and_then(|s| ConversationState::parse(&s))
                        .unwrap_or(ConversationState::Active);
                    lookup = Some(Lookup::Found(state));
                    found = Some(conversation);
                }
                Err(error) => {
                    let status = net::get(&error, "status").as_f64().unwrap_or(0.0);
                    if GONE_STATUSES.contains(&status) {
                        lookup = Some(Lookup::Rejected);
                    } else {
                        // Not an answer about the conversation: keep it for the next try.
                        return Err(Failure::CantConnect);
                    }
                }
            }
        }
        let conversation = match resume(stored.as_ref(), lookup) {
            Resume::Continue(_) => found.expect("found when continuing"),
            Resume::StartNew { notice } => {
                self.store.save_conversation(None);
                self.view.notice.clone().set(notice.map(str::to_owned));
                self.start_conversation(client).await?
            }
        };
        self.attach(conversation).await
    }

    async fn start_conversation(&self, client: &sdk::Client) -> Result<sdk::Conversation, Failure> {
        let attributes = net::page_attributes(self.site.as_str());
        let attributes: Vec<(&str, &str)> =
            attributes.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let realm = self
            .state
            .borrow()
            .realm
            .clone()
            .ok_or(Failure::CantConnect)?;
        let conversation = client
            .create(&realm, &attributes)
            .await
            .map_err(|_| Failure::CantConnect)?;
        conversation
            .join_now()
            .await
            .map_err(|_| Failure::CantConnect)?;
        if let Ok(sid) = conversation.sid().parse::<ConversationSid>() {
            self.store.save_conversation(Some(&sid));
        }
        Ok(conversation)
    }

    /// Listens to the conversation (before its first page loads, so nothing is missed), then
    /// loads the newest page.
    async fn attach(&self, conversation: sdk::Conversation) -> Result<(), Failure> {
        let sid = conversation.sid();
        let listen = |event: &str, handler: Box<dyn FnMut(JsValue)>| {
            conversation.on_conversation(event, &sdk::listener(handler));
        };
        let s = sid.clone();
        listen(
            "messageAdded",
            Box::new(move |m| post(Event::Message(s.clone(), m))),
        );
        for (event, starts) in [("typingStarted", true), ("typingEnded", false)] {
            let s = sid.clone();
            listen(
                event,
                Box::new(move |p| {
                    let who = sdk::participant_identity(&p).unwrap_or_default();
                    post(Event::Typing(s.clone(), starts.then_some(who)))
                }),
            );
        }
        for (event, removed) in [("updated", false), ("removed", true)] {
            let s = sid.clone();
            listen(
                event,
                Box::new(move |_| post(Event::ConversationChanged(s.clone(), removed))),
            );
        }
        // Another conversation's messages go; what the visitor has not delivered stays.
        let mut log = self.view.log;
        log.write().restart();
        self.state.borrow_mut().conversation = Some(conversation.clone());
        let page = conversation
            .page(PAGE_SIZE as u32, None)
            .await
            .map_err(|_| Failure::CantConnect)?;
        log.write().add_page(page.messages, page.has_older);
        if !(self.view.open)() {
            let last_read = conversation.last_read_message_index().map(|i| i as u64);
            let unread = log.peek().unread_after(last_read);
            self.view.unread.clone().set(unread);
        }
        Ok(())
    }

    fn conversation(&self) -> Option<sdk::Conversation> {
        self.state.borrow().conversation.clone()
    }

    /// Reacts to an event from the SDK.
    pub fn handle(&self, event: Event) {
        let view = self.view;
        let current = self.conversation().map(|c| c.sid());
        match event {
            Event::Message(sid, message) if Some(&sid) == current.as_ref() => {
                self.receive(sdk::read_message(message));
            }
            Event::Typing(sid, who) if Some(&sid) == current.as_ref() => {
                let who = who.filter(|w| Some(w) != self.identity().as_ref());
                view.typing.clone().set(who.map(|w| display_author(&w)));
            }
            Event::ConnectionState(state) => {
                let ready = *view.phase.peek() == Phase::Ready;
                let was_down = *view.reconnecting.peek();
                view.reconnecting.clone().set(ready && state != "connected");
                if was_down && state == "connected" {
                    spawn(self.clone().catch_up());
                }
            }
            Event::TokenExpiring(expired) => {
                if expired {
                    self.state.borrow_mut().token_expired = true;
                }
                spawn(self.clone().refresh_token());
            }
            Event::ConversationChanged(sid, removed) if Some(&sid) == current.as_ref() => {
                let closed = removed
                    || self
                        .conversation()
                        .and_then(|c| c.current_state())
                        .is_some_and(|s| s == "closed");
                if closed {
                    self.state.borrow_mut().conversation = None;
                    self.store.save_conversation(None);
                    view.typing.clone().set(None);
                    view.notice.clone().set(Some(
                        "This conversation has ended. Send a message to start a new one.".into(),
                    ));
                }
            }
            _ => {}
        }
    }

    /// A message that arrived: into the log, announced (`edgechat:message`) and counted unread
    /// while the panel is closed when someone else wrote it.
    fn receive(&self, message: edgechat_core::chat::message_log::Message) {
        let view = self.view;
        let own = Some(&message.author) == self.identity().as_ref();
        let stick = own || self.near_bottom();
        if !own {
            let detail = js_sys::Object::new();
            let _ =
                js_sys::Reflect::set(&detail, &"author".into(), &message.author.as_str().into());
            let _ = js_sys::Reflect::set(&detail, &"body".into(), &message.body.as_str().into());
            let _ = js_sys::Reflect::set(&detail, &"index".into(), &(message.index as f64).into());
            net::dispatch("message", &detail);
        }
        view.log.clone().write().add(message);
        if !own {
            view.typing.clone().set(None);
            if (view.open)() {
                self.mark_read();
            } else {
                *view.unread.clone().write() += 1;
            }
        }
        self.stick_to_bottom(stick);
    }

    /// After a dropped connection: the newest page, for what was written while it was down
    /// (whether or not the SDK replays it); `MessageLog::catch_up` decides what is new and
    /// keeps the log without a hole. Each new message is handled as if it had just arrived.
    async fn catch_up(self) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let Ok(page) = conversation.page(PAGE_SIZE as u32, None).await else {
            return;
        };
        let fresh = self
            .view
            .log
            .clone()
            .write()
            .catch_up(page.messages, page.has_older);
        for message in fresh {
            self.receive(message);
        }
    }

    /// The Worker refused the visitor's credential mid-session (its secret was rotated): no new
    /// token will come for this identity, so the page connects again, as a new visitor
    /// (`fetch_token` drops the stored credential) in a new conversation, with the "ended" notice.
    async fn start_over(self) {
        let client = {
            let mut state = self.state.borrow_mut();
            state.conversation = None;
            state.credential = None;
            state.client.take()
        };
        if let Some(client) = client {
            client.close().await;
        }
        let view = self.view;
        view.reconnecting.clone().set(false);
        view.typing.clone().set(None);
        view.phase.clone().set(Phase::Idle);
        self.connect().await;
    }

    /// Fetches a new token with the same credential and hands it to the client.
    async fn refresh_token(self) {
        {
            let mut state = self.state.borrow_mut();
            if state.refreshing || state.client.is_none() {
                return;
            }
            state.refreshing = true;
        }
        let credential = self.state.borrow().credential.clone();
        let mut delay = 1_000;
        let mut refused = false;
        for _ in 0..5 {
            match net::token(&self.base, self.site.as_str(), credential.as_deref()).await {
                Ok(token) if self.state.borrow().token.as_deref() == Some(token.token.as_str()) => {
                    // Issued within the same second as the one the Client holds: the same bytes,
                    // which the SDK would ignore. Ask again a second later.
                    net::sleep(1_000).await;
                    continue;
                }
                Ok(token) => {
                    let (client, expired) = {
                        let mut state = self.state.borrow_mut();
                        (
                            state.client.clone(),
                            std::mem::take(&mut state.token_expired),
                        )
                    };
                    if let Some(client) = client {
                        if client.refresh(&token.token, expired).await.is_ok() {
                            self.state.borrow_mut().token = Some(token.token.clone());
                            self.schedule_refresh(token.expires_at);
                            break;
                        }
                    }
                }
                Err(ApiFailure::Refused { code, .. }) if code == INVALID_CREDENTIAL => {
                    refused = true;
                    break;
                }
                Err(_) => {}
            }
            net::sleep(delay).await;
            delay *= 2;
        }
        self.state.borrow_mut().refreshing = false;
        if refused {
            self.start_over().await;
        }
    }

    /// A timer that refreshes the token before it expires, in case the SDK's warning is late
    /// (a sleeping tab); the newest timer wins.
    fn schedule_refresh(&self, expires_at: u64) {
        let now = net::now_ms();
        let ttl = expires_at.saturating_sub(now / 1000);
        let delay = refresh_delay_ms(now, expires_at, ttl).min(i32::MAX as u64) as u32;
        let generation = {
            let mut state = self.state.borrow_mut();
            state.refresh_generation += 1;
            state.refresh_generation
        };
        let state = self.state.clone();
        wasm_bindgen_futures::spawn_local(async move {
            net::sleep(delay.max(1_000)).await;
            if state.borrow().refresh_generation == generation {
                post(Event::TokenExpiring(false));
            }
        });
    }

    /// Sends the draft: refused drafts stay with a reason; accepted ones show as sending.
    pub fn send_draft(&self) {
        let view = self.view;
        if *view.phase.peek() != Phase::Ready {
            view.draft_error
                .clone()
                .set(Some("Not connected yet: your message is kept here.".into()));
            return;
        }
        let text = view.draft.peek().clone();
        let started = view.log.clone().write().start_send(&text);
        match started {
            Err(error) => view.draft_error.clone().set(Some(error.to_string())),
            Ok((local_id, body)) => {
                view.draft.clone().set(String::new());
                view.draft_error.clone().set(None);
                self.stick_to_bottom(true);
                spawn(self.clone().deliver(local_id, body));
            }
        }
    }

    /// Retry: first looks for the message in the newest page (a send whose answer was lost with
    /// the connection may have been stored), so that it is never sent twice.
    pub fn retry(&self, local_id: u64) {
        let body = self.view.log.clone().write().retry(local_id);
        let Some(body) = body else {
            return;
        };
        let session = self.clone();
        spawn(async move {
            if let Some(c) = session.conversation() {
                if let Ok(page) = c.page(PAGE_SIZE as u32, None).await {
                    let identity = session.identity();
                    let stored = page.messages.into_iter().find(|m| {
                        m.local_id == Some(local_id) && Some(&m.author) == identity.as_ref()
                    });
                    if let Some(message) = stored {
                        session.view.log.clone().write().add(message);
                        return;
                    }
                }
            }
            session.deliver(local_id, body).await;
        });
    }

    async fn deliver(self, local_id: u64, body: String) {
        let conversation = self.conversation();
        let client = self.state.borrow().client.clone();
        let conversation = match (conversation, client) {
            (Some(c), _) => Some(c),
            // The conversation ended: this message starts a new one.
            (None, client) => match client {
                Some(client) => match self.start_conversation(&client).await {
                    Ok(c) => self.attach(c.clone()).await.ok().map(|()| c),
                    Err(_) => None,
                },
                None => None,
            },
        };
        let mut log = self.view.log;
        let outcome = match conversation {
            Some(c) => {
                // No RefCell borrow may live across the await (an SDK event borrows mutably).
                let realm = self.state.borrow().realm.clone();
                match realm {
                    Some(realm) => c.send(&realm, &body, local_id).await.map_err(|_| ()),
                    None => Err(()),
                }
            }
            None => Err(()),
        };
        match outcome {
            Ok(index) => {
                self.view.notice.clone().set(None);
                log.write().send_succeeded(local_id, index);
            }
            Err(()) => log.write().send_failed(local_id, "Not sent."),
        }
    }

    /// The visitor typed: tell the others, at most every 2 s.
    pub fn typed(&self) {
        let now = net::now_ms();
        let conversation = {
            let mut state = self.state.borrow_mut();
            if now.saturating_sub(state.last_typing_ms) < 2_000 {
                return;
            }
            state.last_typing_ms = now;
            state.conversation.clone()
        };
        if let Some(c) = conversation {
            wasm_bindgen_futures::spawn_local(async move { c.notify_typing().await });
        }
    }

    /// Everything is read while the panel is open.
    pub fn mark_read(&self) {
        self.view.unread.clone().set(0);
        if *self.view.phase.peek() != Phase::Ready {
            return;
        }
        if let Some(c) = self.conversation() {
            wasm_bindgen_futures::spawn_local(async move { c.read_all().await });
        }
    }

    /// Loads the page before the oldest message shown, keeping what the visitor sees in place.
    pub async fn load_older(self) {
        let view = self.view;
        let (Some(conversation), Some(oldest)) =
            (self.conversation(), view.log.peek().oldest_index())
        else {
            return;
        };
        if *view.loading_older.peek() || !view.log.peek().has_older() {
            return;
        }
        view.loading_older.clone().set(true);
        let el = view.log_el.peek().clone();
        let before = el.as_ref().map(|e| (e.scroll_height(), e.scroll_top()));
        if let Ok(page) = conversation.page(PAGE_SIZE as u32, Some(oldest)).await {
            view.log
                .clone()
                .write()
                .add_page(page.messages, page.has_older);
            net::next_frame().await;
            if let (Some(el), Some((height, top))) = (el, before) {
                el.set_scroll_top(top + el.scroll_height() - height);
            }
        }
        view.loading_older.clone().set(false);
    }

    fn near_bottom(&self) -> bool {
        self.view
            .log_el
            .peek()
            .as_ref()
            .is_none_or(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 80)
    }

    /// After the next paint, scrolls the log to its end (when `stick`).
    pub fn stick_to_bottom(&self, stick: bool) {
        if !stick {
            return;
        }
        let el = self.view.log_el.peek().clone();
        if let Some(el) = el {
            wasm_bindgen_futures::spawn_local(async move {
                net::next_frame().await;
                el.set_scroll_top(el.scroll_height());
            });
        }
    }

    /// "Try again" after a failure.
    pub fn retry_connect(&self) {
        self.view.phase.clone().set(Phase::Idle);
        spawn(self.clone().connect());
    }
}

/// An empty log for `identity`, its local ids numbered from the clock (unique across page loads).
pub fn new_log(identity: String) -> MessageLog {
    MessageLog::new(identity).with_first_local_id(net::now_ms().saturating_mul(1000))
}

/// How an author is shown: `agent:ana` as `ana`; Twilio identities otherwise as they are.
pub fn display_author(author: &str) -> String {
    if author.starts_with("visitor:") {
        return "Visitor".into();
    }
    author.strip_prefix("agent:").unwrap_or(author).to_owned()
}
