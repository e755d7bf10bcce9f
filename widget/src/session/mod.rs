//! The chat session: one Client per page for the page's life, the conversation, sending, history
//! and token refresh. State the view shows lives in signals ([`View`]); the SDK objects and the
//! stored session live here, outside the view. By concern: [`connection`] (token, realm, Client,
//! renewal), [`conversation`] (resume or start, history, read horizon), [`sending`] (draft,
//! Retry, delivery, typing); this module connects them and reacts to the SDK's events.

mod connection;
mod conversation;
mod files;
mod sending;

pub use files::Chosen;

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use dioxus::prelude::*;
use edgechat_core::api::limits::RETRY_AFTER_SECONDS;
use edgechat_core::api::ErrorCode;
use edgechat_core::chat::connection::Connection;
use edgechat_core::chat::message_log::MessageLog;
use edgechat_core::chat::session::ConversationState;
use edgechat_core::chat::session::{launcher_look, parse_launcher_look, title_with_unread};
use edgechat_core::ids::site::SiteId;

use crate::net::{self, ApiFailure};
use crate::realm::Realm;
use crate::sdk;
use crate::store::Store;
use crate::tabs;
use crate::Event;

/// How long `new Client(token)` may take to initialize before the visitor is told.
const INIT_TIMEOUT_MS: u32 = 8_000;
/// A conversation the visitor may not be in any more answers with one of these statuses.
const GONE_STATUSES: [f64; 3] = [403.0, 404.0, 410.0];

use crate::i18n;
pub use edgechat_core::chat::connection::{Failure, Phase};
use edgechat_core::chat::locale;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Look {
    pub title: String,
    pub brand_color: Option<String>,
    pub bottom_left: bool,
    /// `auto` (the visitor's system decides), `light` or `dark`: the root's class.
    pub theme: String,
    /// The widget is written right to left (its language is Arabic or Hebrew, or the page is).
    pub rtl: bool,
    pub greeting: Option<String>,
    /// The tag dates and times are written in: the wanted tag (page, site or browser) that
    /// gave the widget its language (`en-GB` writes 14:05 where `en` writes 2:05 PM).
    pub locale: Option<String>,
    /// The site asks for a rating as the visitor ends a conversation.
    pub ask_rating: bool,
    /// The site plays a sound for messages that arrive while the tab is hidden.
    pub sound: bool,
    /// The site's office hours are closed: the away message, and when people are back.
    pub away: Option<(String, Option<u64>)>,
}

impl Look {
    /// The panel's title: the site's, else "Chat" in the visitor's language.
    pub fn shown_title(&self) -> String {
        if self.title.is_empty() {
            crate::i18n::t("title")
        } else {
            self.title.clone()
        }
    }
}

/// Where ending the conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Nothing asked.
    No,
    /// The visitor chose "End conversation": the panel asks them to confirm.
    Asking,
    /// Confirmed: the Worker is closing it.
    Working,
    /// It ended (the visitor, an agent or the site closed it): the panel says so.
    Ended,
}

/// What the view shows.
#[derive(Clone, Copy)]
pub struct View {
    pub open: Signal<bool>,
    /// The connection's phase, as the session's [`Connection`] last said.
    pub phase: Signal<Phase>,
    pub log: Signal<MessageLog>,
    /// A notice above the messages: its message key.
    pub notice: Signal<Option<&'static str>>,
    /// The highest message index an agent has read ("Seen" under the visitor's newest message).
    pub seen: Signal<Option<u64>>,
    /// A conversation is open (the visitor can end it).
    pub active: Signal<bool>,
    pub ending: Signal<Ending>,
    /// The newest message index the visitor has seen (what is unread is derived from it).
    pub read_horizon: Signal<Option<u64>>,
    pub typing: Signal<Option<String>>,
    /// Connected once, and the SDK's link is down now.
    pub reconnecting: Signal<bool>,
    pub look: Signal<Look>,
    pub draft: Signal<String>,
    pub draft_error: Signal<Option<String>>,
    pub loading_older: Signal<bool>,
    /// The log element, for scrolling.
    pub log_el: Signal<Option<web_sys::Element>>,
    /// The page's `show` / `hide` of the launcher.
    pub launcher_shown: Signal<bool>,
    /// The pre-chat form to fill before the first message (none once answered, or with a
    /// conversation going).
    pub pre_chat: Signal<Option<Rc<edgechat_core::site::pre_chat::PreChat>>>,
    /// What the page prefilled (`edgechat('prefill', {...})`), by field name.
    pub prefill: Signal<Vec<(String, String)>>,
    /// What the site lets visitors attach (none: attachments are off).
    pub attachments: Signal<Option<Rc<edgechat_core::site::attachments::Policy>>>,
    /// Files chosen (picked, dropped or pasted) and checked, waiting for Send.
    pub chosen: Signal<Vec<Chosen>>,
    /// An image shown full size: its link and its name.
    pub viewer: Signal<Option<(String, String)>>,
}

#[derive(Default)]
struct State {
    identity: Option<String>,
    credential: Option<String>,
    client: Option<sdk::Client>,
    /// The stored conversation early.js began to resume with the Client the app took over
    /// (taken by the conversation's lookup).
    early_resume: Option<sdk::Resume>,
    conversation: Option<sdk::Conversation>,
    /// Connecting, ready (the SDK's link, the token's renewal), failed or not started.
    connection: Connection<connection::Timer>,
    last_typing_ms: u64,
    config_loaded: bool,
    /// The token the Client holds: a renewal must bring another (the SDK ignores the same one).
    token: Option<String>,
    /// The signed-in user's token the page gave (`identify`, `data-user-token`); never stored.
    user_token: Option<String>,
    /// The site's own wording (its config's `strings`), for a language switched to later.
    strings: wasm_bindgen::JsValue,
    /// The files this page is sending, by local id (a page cannot keep a file across a
    /// reload: the outbox keeps its name, and asks for it again).
    files: std::collections::HashMap<u64, web_sys::File>,
    /// The language the page chose with `setLocale`, over the page's, the site's and the
    /// browser's.
    chosen_locale: Option<String>,
    /// The site's pre-chat form, and the visitor's checked answers once given (they go with
    /// the start of each conversation of this page).
    pre_chat_form: Option<Rc<edgechat_core::site::pre_chat::PreChat>>,
    pre_chat_answers: Option<edgechat_core::site::pre_chat::Answers>,
    sdk_url: Option<String>,
    realtime_url: Option<String>,
    /// Keep the page address's query in a new conversation's attributes (the site's choice).
    keep_page_query: bool,
    /// The SDK's own realm (an iframe in the shadow root), once loaded.
    realm: Option<Realm>,
    /// Local ids this page typed (they need no check that they went out before).
    typed_here: HashSet<u64>,
    /// Local ids whose send failed on this page for two minutes of retries: not sent again
    /// until the next connection, reload or Retry.
    failed_here: HashSet<u64>,
    /// Local ids whose send failed for a reason that can pass, going again by themselves: their
    /// retry loop, when it started, and not before when they go next (`RetryPolicy::SEND`).
    retrying: std::collections::HashMap<u64, Retrying>,
    /// Connecting again by itself after a failure that can pass (the Worker, Twilio or the SDK's
    /// file unreachable): on `RetryPolicy::SEND`, as sends are; "Try again" meanwhile too.
    reconnecting: Option<edgechat_core::retry::Retried>,
    /// Messages that came while the page's tab was hidden (the title counts them).
    hidden_unread: u32,
    /// A task is sending the outbox; `flush_again`: asked again meanwhile.
    delivering: bool,
    flush_again: bool,
}

/// A message going again by itself after a send that failed for a reason that can pass.
pub(super) struct Retrying {
    pub retried: edgechat_core::retry::Retried,
    pub since_ms: u64,
    pub not_before_ms: u64,
}

impl State {
    /// A connection (back): what failed goes again now, those that gave up too.
    fn go_again_now(&mut self) {
        self.failed_here.clear();
        for retrying in self.retrying.values_mut() {
            retrying.not_before_ms = 0;
        }
    }
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
    pub fn new(
        view: View,
        site: SiteId,
        base: String,
        sdk_url: String,
        realm_parent: web_sys::Node,
        user_token: Option<String>,
    ) -> Session {
        let store = Store::new(site.clone());
        store.signed_in.set(user_token.is_some());
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
            state: Rc::new(RefCell::new(State {
                sdk_url: Some(sdk_url),
                user_token,
                ..State::default()
            })),
        }
    }

    pub fn identity(&self) -> Option<String> {
        self.state.borrow().identity.clone()
    }

    /// Shows the connection as it now is.
    fn show(&self) {
        let (phase, reconnecting) = {
            let state = self.state.borrow();
            (state.connection.phase(), state.connection.reconnecting())
        };
        let view = self.view;
        if *view.phase.peek() != phase {
            view.phase.clone().set(phase);
        }
        if *view.reconnecting.peek() != reconnecting {
            view.reconnecting.clone().set(reconnecting);
        }
    }

    /// Connects, unless connected or connecting; shows how it went.
    pub async fn connect(self) {
        if !self.state.borrow_mut().connection.begin() {
            return;
        }
        self.show();
        // What the outbox holds (typed before a reload, or in another tab) shows at once.
        for p in self.store.load_pending() {
            self.restore_pending(&p);
        }
        let result = self.try_connect().await;
        match result {
            Ok(expires_in) => {
                self.state.borrow_mut().reconnecting = None;
                let timer = self.renewal_timer(expires_in);
                if !self.state.borrow_mut().connection.ready(timer) {
                    // Overtaken (the session started over meanwhile): that attempt shows.
                    return;
                }
                self.show();
                if *self.view.open.peek() {
                    self.mark_read();
                }
                self.stick_to_bottom(true);
                self.state.borrow_mut().go_again_now();
                spawn(self.clone().flush());
            }
            Err(failure) => {
                self.state.borrow_mut().connection.fail(failure);
                self.show();
                if let Failure::Busy(seconds) = failure {
                    // Retried when the Worker said; "Try again" before then would be refused too.
                    wasm_bindgen_futures::spawn_local(async move {
                        net::sleep(seconds.saturating_mul(1000)).await;
                        crate::post(Event::RetryConnect(failure));
                    });
                } else if matches!(failure, Failure::CantConnect | Failure::Unavailable) {
                    // A failure that can pass: connect again by itself, with backoff, for two
                    // minutes (what waits in the outbox goes then), as a messaging app does.
                    let now = net::now_ms();
                    let wait = {
                        let mut state = self.state.borrow_mut();
                        let retried = state.reconnecting.get_or_insert_with(|| {
                            edgechat_core::retry::Retried::new(
                                edgechat_core::retry::RetryPolicy::SEND,
                                now,
                            )
                        });
                        retried.after(
                            edgechat_core::retry::AttemptFailure::Failed,
                            now,
                            js_sys::Math::random(),
                        )
                    };
                    if let Some(wait) = wait {
                        wasm_bindgen_futures::spawn_local(async move {
                            net::sleep(wait.min(u64::from(u32::MAX)) as u32).await;
                            crate::post(Event::RetryConnect(failure));
                        });
                    } else {
                        self.state.borrow_mut().reconnecting = None;
                    }
                }
            }
        }
    }

    /// Config, token, realm and Client; the conversation resumed or ready to start. Says how
    /// many seconds the token lives.
    async fn try_connect(&self) -> Result<u64, Failure> {
        let stored = self.store.load();
        let need_config = !self.state.borrow().config_loaded;
        // The config, then the language it decides (its catalogue fetched meanwhile).
        let config = async {
            if !need_config {
                return None;
            }
            let config = net::config(&self.base, self.site.as_str()).await;
            Some(match config {
                Ok(c) => {
                    // A language the page chose (`setLocale`, perhaps queued before load) wins.
                    let chosen = self.state.borrow().chosen_locale.clone();
                    let spoken = match chosen {
                        Some(tag) => (locale::negotiate([tag.as_str()]), tag),
                        None => language(c.locale.as_deref()),
                    };
                    self.state.borrow_mut().strings = c.strings.clone();
                    i18n::speak(spoken.0, c.strings.clone(), &self.base).await;
                    Ok((c, spoken))
                }
                Err(e) => Err(e),
            })
        };
        // A first visit takes its credential under the browser's lock: tabs opened together
        // become one visitor (the first to hold it asks; the others find it stored).
        let token = async {
            let credential = stored.visitor_credential.clone();
            if credential.is_some() {
                return self.fetch_token(credential).await;
            }
            let _held = tabs::lock(&format!("edgechat:{}:visitor", self.site)).await;
            self.fetch_token(self.store.load().visitor_credential).await
        };
        // The SDK loads meanwhile, from the vendored copy embed.js named (unless the config
        // names another: then it loads again below).
        let realm = self.realm();
        let (config, token, realm) = futures_util::join!(config, token, realm);
        if let Some(config) = config {
            let (config, (language, tag)) = config.map_err(|f| self.failure(f))?;
            // The language: the page's `data-locale`, the site's, the browser's; right to left
            // for Arabic and Hebrew, or on a right-to-left page. The launcher sits at the end
            // side of that direction unless the site pinned it.
            let rtl = net::page_language().1 || locale::is_rtl(language);
            let bottom_left = if config.pinned {
                config.bottom_left
            } else {
                rtl
            };
            self.store
                .save_look(launcher_look(config.brand_color.as_deref(), bottom_left));
            if let Some(title) = &config.title {
                self.store.save_title(title);
            }
            self.store
                .save_words(edgechat_core::chat::session::shell_words(rtl, i18n::t));
            let mut look = self.view.look;
            look.set(Look {
                title: config.title.unwrap_or_else(|| look.peek().title.clone()),
                brand_color: config.brand_color,
                bottom_left,
                theme: config.theme,
                rtl,
                greeting: config.greeting,
                locale: Some(tag),
                ask_rating: config.ask_rating,
                sound: config.sound,
                away: config.away,
            });
            self.view
                .attachments
                .clone()
                .set(config.attachments.map(Rc::new));
            let mut state = self.state.borrow_mut();
            state.config_loaded = true;
            // The config may name another SDK, relative to the Worker or not.
            if let Some(url) = config.sdk_url {
                state.sdk_url = web_sys::Url::new_with_base(&url, &self.base)
                    .map(|u| u.href())
                    .ok();
            }
            state.realtime_url = config.realtime_url;
            state.keep_page_query = config.keep_page_query;
            // While away, the site may ask for an email: the form gets (or requires) one.
            state.pre_chat_form = match config.away_email {
                Some(ask) => Some(edgechat_core::site::pre_chat::PreChat::with_away_email(
                    config.pre_chat.as_ref(),
                    ask,
                )),
                None => config.pre_chat,
            }
            .map(Rc::new);
        }
        let (token, replaced) = token?;
        let realm = match realm {
            Ok(realm) if Some(realm.url()) == self.state.borrow().sdk_url.as_deref() => realm,
            _ => self.realm().await?,
        };
        let existing = self.state.borrow().client.clone();
        let client = match existing {
            Some(client) => client,
            None => {
                let client = self.start_client(&realm, &token.token).await?;
                self.state.borrow_mut().token = Some(token.token.clone());
                client
            }
        };
        // Read again now: another tab may have started one while this one connected.
        let conversation = self.store.load().conversation;
        self.open_conversation(&client, conversation, replaced)
            .await?;
        self.update_pre_chat();
        Ok(token.expires_in)
    }

    fn failure(&self, failure: ApiFailure) -> Failure {
        match failure {
            ApiFailure::Network => Failure::CantConnect,
            ApiFailure::Refused {
                code: Some(ErrorCode::RateLimited),
                retry_after,
                ..
            } => Failure::Busy(retry_after.unwrap_or(RETRY_AFTER_SECONDS).clamp(1, 600)),
            ApiFailure::Refused {
                status,
                code,
                message,
                ..
            } => {
                let site_problem = matches!(
                    code,
                    Some(ErrorCode::UnknownSite | ErrorCode::InvalidSiteConfig)
                );
                if matches!(status, 403 | 404) || site_problem {
                    // For the site's owner; visitors see a plain sentence.
                    let code = code.map_or("unknown", ErrorCode::as_str);
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
            Event::ConnectionState(link) => {
                let came_back = self.state.borrow_mut().connection.link_changed(link);
                self.show();
                if came_back {
                    spawn(self.clone().catch_up());
                    // What waited for the link goes now (and what failed with it, again).
                    self.state.borrow_mut().go_again_now();
                    spawn(self.clone().flush());
                }
            }
            Event::RetryConnect(failure) if *view.phase.peek() == Phase::Failed(failure) => {
                self.retry_connect();
            }
            Event::TokenExpiring(expired) => self.renewal_due(expired),
            Event::Reattached => {
                spawn(self.clone().reconnect());
            }
            Event::Stored(key) => self.stored_elsewhere(&key),
            Event::Participants(sid) if Some(&sid) == current.as_ref() => {
                let session = self.clone();
                spawn(async move { session.update_seen().await });
            }
            Event::Visible(true) => {
                let counted = std::mem::take(&mut self.state.borrow_mut().hidden_unread);
                if counted > 0 {
                    net::set_page_title(&title_with_unread(&net::page_title(), 0));
                }
                if *view.open.peek() {
                    self.mark_read();
                }
            }
            Event::Visible(false) => {}
            Event::ConversationChanged(sid, removed) if Some(&sid) == current.as_ref() => {
                let closed = removed
                    || self
                        .conversation()
                        .and_then(|c| c.current_state())
                        .is_some_and(|s| s == ConversationState::Closed);
                if closed {
                    self.ended(&sid);
                    return;
                }
                // The SDK drops the messageAdded of a message a page query brought before its
                // push (its own race); the conversation's lastMessage still names it.
                let missing = self.conversation().and_then(|c| c.last_message_index());
                if missing.is_some_and(|i| !view.log.peek().has_stored(i)) {
                    spawn(self.clone().catch_up());
                }
            }
            _ => {}
        }
    }

    /// The conversation `sid` ended: the next message starts a new one; the panel says so.
    fn ended(&self, sid: &str) {
        self.state.borrow_mut().conversation = None;
        self.store.save_conversation(None);
        let view = self.view;
        view.typing.clone().set(None);
        view.notice.clone().set(None);
        view.active.clone().set(false);
        view.ending.clone().set(Ending::Ended);
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"conversation".into(), &sid.into());
        net::dispatch("conversation-ended", &detail);
        self.stick_to_bottom(true);
    }

    /// The visitor confirmed "End conversation": the Worker closes it (their SDK role may not).
    /// The visitor muted the sound of messages arriving while the tab is hidden.
    pub fn muted(&self) -> bool {
        self.store.muted()
    }

    pub fn set_muted(&self, muted: bool) {
        self.store.set_muted(muted);
    }

    pub fn end_conversation(&self, rating: Option<net::Rating>) {
        let (conversation, credential) = {
            let state = self.state.borrow();
            (state.conversation.clone(), state.credential.clone())
        };
        let (Some(conversation), Some(credential)) = (conversation, credential) else {
            return;
        };
        self.view.ending.clone().set(Ending::Working);
        let session = self.clone();
        spawn(async move {
            let sid = conversation.sid();
            let result = net::end_conversation(
                &session.base,
                session.site.as_str(),
                &sid,
                &credential,
                rating,
                10_000,
            )
            .await;
            match result {
                // The SDK's `updated` may come before or after: the first one ends it here.
                Ok(()) if session.conversation().is_some_and(|c| c.sid() == sid) => {
                    session.ended(&sid)
                }
                Ok(()) => {}
                Err(_) => {
                    session.view.ending.clone().set(Ending::No);
                    session.view.notice.clone().set(Some("end.failed"));
                }
            }
        });
    }

    /// Another tab changed `key`: its outbox messages show here and go from whichever tab
    /// holds the lock; a conversation it started is followed; a visitor it became (its
    /// credential was refused) is this tab's too.
    fn stored_elsewhere(&self, key: &str) {
        use edgechat_core::chat::outbox::local_id_of;
        use edgechat_core::chat::session::{conversation_key, visitor_key};
        if local_id_of(&self.site, key).is_some() {
            spawn(self.clone().flush());
        } else if key == conversation_key(&self.site) {
            let stored = self.store.load().conversation;
            let current = self.conversation().map(|c| c.sid());
            let client = self.state.borrow().client.clone();
            if let (Some(sid), Some(client)) = (stored, client) {
                if current.as_deref() != Some(sid.as_str()) {
                    let session = self.clone();
                    spawn(async move {
                        if let Ok(c) = client.conversation(sid.as_str(), None).await {
                            if c.joined() && session.attach(c, None).await.is_ok() {
                                session.view.notice.clone().set(None);
                                session.stick_to_bottom(true);
                            }
                        }
                    });
                }
            }
        } else if key == visitor_key(&self.site) {
            use edgechat_core::chat::session::same_visitor;
            let stored = self.store.load().visitor_credential;
            let mine = self.state.borrow().credential.clone();
            match (stored, mine) {
                // Another tab renewed the same visitor's credential: the newer one is kept.
                (Some(stored), Some(mine)) if same_visitor(&stored, &mine) => {
                    self.state.borrow_mut().credential = Some(stored);
                }
                (Some(_), Some(_)) => {
                    spawn(self.clone().start_over());
                }
                _ => {}
            }
        }
    }

    /// A message that arrived: into the log, announced (`edgechat:message`) and counted unread
    /// while the panel is closed when someone else wrote it.
    fn receive(&self, message: edgechat_core::chat::message_log::Message) {
        let view = self.view;
        let own = Some(&message.author) == self.identity().as_ref();
        let stick = own || self.near_bottom();
        let (author, body, index) = (message.author.clone(), message.body.clone(), message.index);
        // (History the SDK replays below a hole is not news: it loads with the older pages.)
        if !view.log.clone().write().arrived(message) {
            return;
        }
        if !own {
            let detail = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&detail, &"author".into(), &author.as_str().into());
            let _ = js_sys::Reflect::set(&detail, &"body".into(), &body.as_str().into());
            let _ = js_sys::Reflect::set(&detail, &"index".into(), &(index as f64).into());
            net::dispatch("message", &detail);
        }
        if !own {
            view.typing.clone().set(None);
            if !net::page_visible() {
                // Read only once seen: the title counts it until the tab is shown.
                let unread = {
                    let mut state = self.state.borrow_mut();
                    state.hidden_unread += 1;
                    state.hidden_unread
                };
                net::set_page_title(&title_with_unread(&net::page_title(), unread));
                if view.look.peek().sound && !self.store.muted() {
                    let _ = net::chime();
                }
            } else if (view.open)() {
                self.mark_read();
            }
        }
        self.stick_to_bottom(stick);
    }

    /// The Worker refused the visitor's credential mid-session (its secret was rotated): no new
    /// token will come for this identity, so the page connects again, as a new visitor
    /// (`fetch_token` drops the stored credential) in a new conversation, with the "ended" notice.
    /// Connects again as the same visitor, to the same conversation, when the SDK's realm was
    /// lost (the page moved or removed the widget's element, and its iframe reloaded).
    async fn reconnect(self) {
        let alive = self
            .state
            .borrow()
            .realm
            .as_ref()
            .is_some_and(|r| r.alive());
        if alive {
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            state.connection.reset();
            state.conversation = None;
            state.client = None;
        }
        self.show();
        self.connect().await;
    }

    /// The page signed the visitor in (`identify`: `Some` user token) or out (`reset`: `None`).
    /// Signing in keeps the conversation (the Worker carries it over to the user); signing out
    /// forgets the user, the visitor and the conversation in this browser, and starts anonymous.
    /// Either way the session connects again with a new Client (its identity changes).
    pub async fn identify(self, user_token: Option<String>) {
        let reset = user_token.is_none();
        let client = {
            let mut state = self.state.borrow_mut();
            if !reset && state.user_token == user_token {
                return;
            }
            self.store.signed_in.set(user_token.is_some());
            state.user_token = user_token;
            state.connection.reset();
            state.conversation = None;
            if reset {
                state.credential = None;
                state.identity = None;
                state.pre_chat_answers = None;
            }
            state.client.take()
        };
        if reset {
            self.store.save_visitor(None);
            self.store.save_conversation(None);
            self.view.log.clone().write().restart();
            self.view.notice.clone().set(None);
            self.view.active.clone().set(false);
            self.view.ending.clone().set(Ending::No);
        }
        if let Some(client) = client {
            client.close().await;
        }
        self.view.typing.clone().set(None);
        self.show();
        self.connect().await;
    }

    /// Shows the pre-chat form when the site has one, no conversation is going and the visitor
    /// has not answered it (a signed-in user whose token carries every answer never sees it).
    pub(super) fn update_pre_chat(&self) {
        let form = {
            let mut state = self.state.borrow_mut();
            let Some(form) = state.pre_chat_form.clone() else {
                return;
            };
            if state.pre_chat_answers.is_none() {
                if let Some(token) = &state.user_token {
                    let claims = net::jwt_claims(token);
                    if form
                        .check(&net::answers_in(&form, &claims), &net::pattern_matches)
                        .is_ok()
                    {
                        // The Worker takes them from the token.
                        state.pre_chat_answers = Some(Vec::new());
                    }
                }
            }
            (state.conversation.is_none() && state.pre_chat_answers.is_none()).then_some(form)
        };
        if self.view.pre_chat.peek().is_some() != form.is_some() {
            self.view.pre_chat.clone().set(form);
        }
    }

    /// The visitor filled the pre-chat form (answers checked): what waits in the outbox (typed
    /// before, in the shell or the composer) goes now, the first message starting the
    /// conversation with these answers.
    pub fn pre_chat_answered(&self, answers: edgechat_core::site::pre_chat::Answers) {
        self.state.borrow_mut().pre_chat_answers = Some(answers);
        // Not Dioxus' `spawn`: that task would belong to the form, which this very change
        // removes (and its tasks with it).
        wasm_bindgen_futures::spawn_local(self.clone().flush());
        self.view.pre_chat.clone().set(None);
    }

    /// `setLocale`: the widget speaks `tag`'s language from now on (its catalogue fetched);
    /// `tag` as `Intl` takes it.
    pub async fn set_locale(self, tag: String) {
        self.state.borrow_mut().chosen_locale = Some(tag.clone());
        let language = locale::negotiate([tag.as_str()]);
        let strings = self.state.borrow().strings.clone();
        i18n::speak(language, strings, &self.base).await;
        let mut look = self.view.look;
        let rtl = locale::is_rtl(language);
        look.write().rtl = rtl;
        look.write().locale = Some(tag);
        self.store
            .save_words(edgechat_core::chat::session::shell_words(rtl, i18n::t));
    }

    async fn start_over(self) {
        let client = {
            let mut state = self.state.borrow_mut();
            state.connection.reset();
            state.conversation = None;
            state.credential = None;
            state.client.take()
        };
        if let Some(client) = client {
            client.close().await;
        }
        self.view.typing.clone().set(None);
        self.show();
        self.connect().await;
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
        self.state.borrow_mut().connection.reset();
        self.show();
        spawn(self.clone().connect());
    }
}

/// The widget's language (the page's `data-locale`, the site's `locale`, the browser's
/// languages, English), and the wanted tag that gave it, for dates and times.
fn language(site: Option<&str>) -> (&'static str, String) {
    // Every tag read leniently and written as `Intl` takes it, or dropped: the one chosen
    // formats dates and numbers, and `Intl` throws on one it refuses (`de_DE`, `C`).
    let wanted: Vec<String> = net::page_language()
        .0
        .into_iter()
        .chain(site.map(str::to_owned))
        .chain(net::browser_languages())
        .filter_map(|tag| net::intl_tag(&tag))
        .collect();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let language = locale::negotiate(wanted.iter().copied());
    let tag = wanted
        .into_iter()
        .find(|tag| locale::negotiate([*tag]) == language)
        .unwrap_or(language);
    (language, tag.to_owned())
}

/// An empty log for `identity`, its local ids numbered from the clock (unique across page loads)
/// plus a random offset within the millisecond: two tabs opened in the same millisecond would
/// otherwise number their messages alike, and one tab's outbox entry would overwrite the
/// other's (the outbox keys messages by local id). Ids stay below 2^53, exact in JavaScript.
pub fn new_log(identity: String) -> MessageLog {
    let offset = (js_sys::Math::random() * 1000.0) as u64;
    MessageLog::new(identity).with_first_local_id(net::now_ms().saturating_mul(1000) + offset)
}

/// How an author is shown: `agent:ana` as `ana`; Twilio identities otherwise as they are.
pub fn display_author(author: &str) -> String {
    if author.starts_with("visitor:") {
        return crate::i18n::t("visitor");
    }
    author.strip_prefix("agent:").unwrap_or(author).to_owned()
}

#[cfg(test)]
mod tests {
    use super::display_author;

    #[test]
    fn authors_are_shown_without_their_prefix_and_visitors_without_their_id() {
        assert_eq!(display_author("agent:ana"), "ana");
        assert_eq!(
            display_author("visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11"),
            "Visitor"
        );
        assert_eq!(display_author("Acme bot"), "Acme bot");
    }
}
