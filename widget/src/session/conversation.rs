//! The conversation: resume the stored one or start one, listen to it, its history (newest page,
//! older pages, catch-up after a dropped connection) and the visitor's read horizon.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::PAGE_SIZE;
use edgechat_core::chat::session::{resume, ConversationState, Lookup, Resume};
use edgechat_core::ids::sid::ConversationSid;
use wasm_bindgen::JsValue;

use super::{Ending, Failure, Phase, Session, GONE_STATUSES};
use crate::i18n::{t, tf};
use crate::net;
use crate::sdk;
use crate::{post, Event};
use edgechat_core::i18n::Arg;

/// How long the Worker may take to start a conversation (it lists the visitor's conversations
/// and creates one over REST, each bounded by its own retry budget).
const START_TIMEOUT_MS: u32 = 12_000;

/// How long the SDK may take to find a conversation the visitor is in, once initialized. It
/// reads the visitor's conversations once, at its start, and a lookup waits for that read: when
/// the read failed (a status it does not retry), the lookup waits forever.
const LOOKUP_TIMEOUT_MS: u32 = 8_000;

impl Session {
    /// A Client whose start half failed (its lookups never answer): shut down and forgotten, so
    /// that the retry starts a new one.
    fn half_started(&self, client: &sdk::Client) -> Failure {
        let mut state = self.state.borrow_mut();
        let current = |c: &sdk::Client| JsValue::from(c.clone()) == JsValue::from(client.clone());
        if state.client.as_ref().is_some_and(current) {
            state.client = None;
            // Its conversation object and what early.js began with it are dead with it.
            state.conversation = None;
            state.early_resume = None;
        }
        let client = client.clone();
        wasm_bindgen_futures::spawn_local(async move { client.close().await });
        Failure::CantConnect
    }

    /// Resumes the stored conversation; without one (or with a notice when the stored one
    /// ended, or belonged to the visitor this one `replaced`), the next message starts one.
    pub(super) async fn open_conversation(
        &self,
        client: &sdk::Client,
        stored: Option<ConversationSid>,
        replaced: bool,
    ) -> Result<(), Failure> {
        let mut found = None;
        let mut found_early = None;
        let mut lookup = None;
        // What early.js began with the Client the app took (for the conversation stored then).
        // (Dropped unused, it stops listening.)
        let mut early = self.state.borrow_mut().early_resume.take();
        let mut stored = stored;
        // A signed-in user with nothing stored here: their open conversation from another
        // device (or one carried over from their anonymous visit), if they have one.
        let user = self
            .identity()
            .is_some_and(|identity| identity.starts_with("user:"));
        if stored.is_none() && user && !replaced {
            let theirs = net::within(LOOKUP_TIMEOUT_MS, client.newest_open(self.site.as_str()))
                .await
                .ok_or_else(|| self.half_started(client))?;
            if let Some(theirs) = theirs {
                if let Ok(sid) = theirs.sid().parse::<ConversationSid>() {
                    self.store.save_conversation(Some(&sid));
                    stored = Some(sid);
                }
            }
        }
        if replaced {
            lookup = Some(Lookup::Rejected);
        } else if let Some(sid) = &stored {
            // Begun by early.js while the wasm loaded, or asked now.
            let early = early.take().filter(|e| e.sid() == sid.as_str());
            let asked = client.conversation(sid.as_str(), early.as_ref());
            let looked_up = net::within(LOOKUP_TIMEOUT_MS, asked)
                .await
                .ok_or_else(|| self.half_started(client))?;
            found_early = early;
            match looked_up {
                Ok(conversation) if !conversation.joined() => {
                    // The SDK peeked a conversation the visitor is no longer in: it is gone.
                    lookup = Some(Lookup::Rejected);
                }
                Ok(conversation) => {
                    let state = conversation
                        .current_state()
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
        drop(early);
        match resume(stored.as_ref(), lookup) {
            Resume::Continue(_) => {
                self.attach(found.expect("found when continuing"), found_early)
                    .await
            }
            Resume::StartNew { notice } => {
                // The conversation is created with the visitor's first message (`deliver`):
                // a visitor who only looks leaves nothing behind for agents, webhooks or the bot.
                self.store.save_conversation(None);
                // (The notice is core's English; the visitor reads it in their language.)
                self.view.notice.clone().set(notice.map(|_| "ended.notice"));
                self.state.borrow_mut().conversation = None;
                self.view.active.clone().set(false);
                self.view.log.clone().write().restart();
                Ok(())
            }
        }
    }

    /// Starts the visitor's conversation: the Worker creates it with the visitor in it (a
    /// visitor may neither create nor join one), keyed by the first message's local id so that
    /// a repeated request finds the same one; then the SDK opens it.
    pub(super) async fn start_conversation(
        &self,
        client: &sdk::Client,
        key: u64,
    ) -> Result<sdk::Conversation, net::ApiFailure> {
        let (credential, keep_query, pre_chat) = {
            let state = self.state.borrow();
            (
                state.credential.clone(),
                state.keep_page_query,
                state.pre_chat_answers.clone().unwrap_or_default(),
            )
        };
        let credential = credential.ok_or(net::ApiFailure::Network)?;
        let sid = net::start_conversation(
            &self.base,
            self.site.as_str(),
            &credential,
            &key.to_string(),
            keep_query,
            &pre_chat,
            START_TIMEOUT_MS,
        )
        .await?;
        let sid: ConversationSid = sid.parse().map_err(|_| net::ApiFailure::Network)?;
        self.store.save_conversation(Some(&sid));
        let conversation = client
            .conversation(sid.as_str(), None)
            .await
            .map_err(|_| net::ApiFailure::Network)?;
        Ok(conversation)
    }

    /// Listens to the conversation (before its first page loads, so nothing is missed), then
    /// loads the newest page.
    /// Attaching the conversation the page already follows only loads its newest page: two
    /// paths may find it at once (this tab's send, and another tab's stored sid), and its
    /// listeners must not be added twice.
    pub(super) async fn attach(
        &self,
        conversation: sdk::Conversation,
        early: Option<sdk::Resume>,
    ) -> Result<(), Failure> {
        let sid = conversation.sid();
        if self.conversation().is_some_and(|c| c.sid() == sid) {
            drop(early);
            self.load_newest().await;
            return Ok(());
        }
        let listen = |event: &str, handler: Box<dyn FnMut(JsValue)>| {
            conversation.on_conversation(event, &sdk::listener(handler));
        };
        let s = sid.clone();
        let added = sdk::listener(move |m| post(Event::Message(s.clone(), m)));
        conversation.on_conversation("messageAdded", &added);
        // Listening now: early.js stops, and hands what it heard meanwhile to the same listener
        // once its page is in (those the page does not hold).
        if let Some(early) = &early {
            early.hand_over(&added);
        }
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
        // Someone else's read horizon moved ("Seen"); the visitor's own moves with every message
        // they read, and changes nothing here.
        let s = sid.clone();
        let me = self.identity();
        listen(
            "participantUpdated",
            Box::new(move |update| {
                let participant = net::get(&update, "participant");
                if sdk::participant_identity(&participant) != me {
                    post(Event::Participants(s.clone()))
                }
            }),
        );
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
        let open = conversation.current_state() != Some(ConversationState::Closed);
        self.view.active.clone().set(open);
        if open {
            self.view.ending.clone().set(Ending::No);
        }
        let page = conversation
            .page(PAGE_SIZE as u32, None, early.as_ref())
            .await
            .map_err(|_| Failure::CantConnect)?;
        log.write().add_page(page.messages, page.has_older);
        let last_read = conversation.last_read_message_index().map(|i| i as u64);
        self.view.read_horizon.clone().set(last_read);
        self.update_seen().await;
        Ok(())
    }

    /// How far agents have read (the visitor's newest message up to it shows "Seen").
    pub(super) async fn update_seen(&self) {
        let (Some(c), Some(me)) = (self.conversation(), self.identity()) else {
            return;
        };
        let seen = c.others_read(&me).await;
        if self.conversation().is_some_and(|now| now.sid() == c.sid())
            && *self.view.seen.peek() != seen
        {
            self.view.seen.clone().set(seen);
        }
    }

    pub(super) fn conversation(&self) -> Option<sdk::Conversation> {
        self.state.borrow().conversation.clone()
    }

    /// After a dropped connection: the newest page, for what was written while it was down
    /// (whether or not the SDK replays it); `MessageLog::catch_up` decides what is new and
    /// keeps the log without a hole. Each new message is handled as if it had just arrived.
    pub(super) async fn catch_up(self) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let Ok(page) = conversation.page(PAGE_SIZE as u32, None, None).await else {
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

    /// Everything is read while the panel is open.
    pub fn mark_read(&self) {
        let newest = self.view.log.peek().newest_index();
        self.view.read_horizon.clone().set(newest);
        if *self.view.phase.peek() != Phase::Ready {
            return;
        }
        if let (Some(c), Some(newest)) = (self.conversation(), newest) {
            wasm_bindgen_futures::spawn_local(async move { c.read_up_to(newest).await });
        }
    }

    /// Saves the whole conversation (every page, not only what the log has loaded) as a text
    /// file, in the visitor's local time.
    pub async fn download_transcript(self) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let mut all: Vec<edgechat_core::chat::message_log::Message> = Vec::new();
        let mut before = None;
        // Bounded: 200 pages of 50 is more than any visitor's conversation.
        for _ in 0..200 {
            let Ok(page) = conversation.page(50, before, None).await else {
                self.view.notice.clone().set(Some("transcript.failed"));
                return;
            };
            let oldest = page.messages.first().map(|m| m.index);
            all.splice(0..0, page.messages);
            match oldest {
                Some(oldest) if page.has_older => before = Some(oldest),
                _ => break,
            }
        }
        let me = self.identity().unwrap_or_default();
        let look = self.view.look.peek().clone();
        let locale = look.locale.as_deref().unwrap_or("en");
        let rows: Vec<(String, String)> = all
            .iter()
            .map(|m| {
                let who = if m.author == me {
                    t("transcript.you")
                } else {
                    super::display_author(&m.author)
                };
                (net::date_time(m.created_ms, locale), who)
            })
            .collect();
        let text = edgechat_core::chat::text::transcript(
            &tf(
                "transcript.title",
                &[("title", Arg::Str(&look.shown_title()))],
            ),
            all.iter()
                .zip(&rows)
                .map(|(m, (when, who))| edgechat_core::chat::text::Said {
                    when,
                    who,
                    body: &m.body,
                }),
        );
        let day = net::date_time(net::now_ms(), "sv-SE");
        let name = format!("chat-transcript-{}.txt", day.get(..10).unwrap_or("today"));
        let _ = net::download_text(&self.realm_parent, &name, &text);
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
        if let Ok(page) = conversation
            .page(PAGE_SIZE as u32, Some(oldest), None)
            .await
        {
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
}
