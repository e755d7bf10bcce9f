//! Sending: the draft, the outbox (kept in localStorage, one key per message, with the
//! conversation it was typed in: it waits while not connected, survives a reload and goes out
//! once, in order, one at a time, from whichever tab holds the outbox's lock; a first message
//! creates the conversation), Retry (never twice: the newest page is checked first), delivery,
//! and the typing signal.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::{SendError, MAX_BODY_CHARS, PAGE_SIZE};
use edgechat_core::chat::outbox::Pending;
use edgechat_core::i18n::Arg;
use edgechat_core::ids::sid::ConversationSid;

use super::{Phase, Retrying, Session};
use crate::i18n::{t, tf};
use crate::{net, tabs};
use edgechat_core::retry::{AttemptFailure, Retried, RetryPolicy, SEND_PATIENT_MS};

/// How a send went.
enum Sent {
    Stored(u64),
    /// The service refused it (a 4xx answer): it waits for the visitor's Retry.
    Refused,
    /// No answer (the connection went, or the service failed): it goes again.
    Failed,
}

impl Session {
    /// Sends the draft: refused drafts stay with a reason; accepted ones join the outbox.
    pub fn send_draft(&self) {
        let view = self.view;
        let text = view.draft.peek().clone();
        if !view.chosen.peek().is_empty() {
            // Files: what was typed goes first (if anything), then each file.
            if !text.trim().is_empty() {
                if let Err(error) = self.send_text(&text) {
                    view.draft_error.clone().set(Some(error));
                    return;
                }
                view.draft.clone().set(String::new());
            }
            view.draft_error.clone().set(None);
            self.send_chosen();
            self.stick_to_bottom(true);
            return;
        }
        match self.send_text(&text) {
            Err(error) => view.draft_error.clone().set(Some(error)),
            Ok(()) => {
                view.draft.clone().set(String::new());
                view.draft_error.clone().set(None);
                self.stick_to_bottom(true);
            }
        }
    }

    /// Shows `text` as the visitor's message at once and puts it in the outbox (stored before
    /// anything else happens): it goes out now when connected, else it waits for the
    /// connection. A text that cannot be sent (empty, too long) is refused with the reason.
    pub fn send_text(&self, text: &str) -> Result<(), String> {
        let started = self.view.log.clone().write().start_send(text);
        let (local_id, body) = started.map_err(|e| match e {
            SendError::Empty => t("composer.empty"),
            SendError::TooLong { chars } => tf(
                "composer.long",
                &[
                    ("max", Arg::Num(MAX_BODY_CHARS as f64)),
                    ("count", Arg::Num(chars as f64)),
                ],
            ),
        })?;
        self.store.save_pending(&Pending {
            local_id,
            typed_ms: net::now_ms(),
            conversation: self.conversation_sid(),
            refused: false,
            body,
            file: None,
        });
        self.queued(local_id);
        Ok(())
    }

    /// A message just put in the outbox: it goes now when it can, else it waits.
    pub(super) fn queued(&self, local_id: u64) {
        self.state.borrow_mut().typed_here.insert(local_id);
        if self.can_send() {
            spawn(self.clone().flush());
        } else {
            self.view.log.clone().write().waiting(local_id);
        }
    }

    /// Connected, and the SDK's link is up: a message can go now.
    fn can_send(&self) -> bool {
        let state = self.state.borrow();
        // A first message waits for the pre-chat form's answers.
        let form_pending = state.pre_chat_form.is_some()
            && state.pre_chat_answers.is_none()
            && state.conversation.is_none();
        state.connection.phase() == Phase::Ready
            && !state.connection.reconnecting()
            && !form_pending
    }

    fn conversation_sid(&self) -> Option<ConversationSid> {
        self.conversation().and_then(|c| c.sid().parse().ok())
    }

    /// Sends the outbox while connected, holding its lock (so that two tabs never send one
    /// message twice, and a first message creates one conversation however many tabs wait).
    /// One task per tab does it; asked again meanwhile, it goes round once more.
    pub(super) async fn flush(self) {
        {
            let mut state = self.state.borrow_mut();
            if state.delivering {
                state.flush_again = true;
                return;
            }
            state.delivering = true;
        }
        loop {
            let held = tabs::lock(&format!("edgechat:{}:outbox", self.site)).await;
            self.send_outbox(held.waited).await;
            drop(held);
            let mut state = self.state.borrow_mut();
            if !std::mem::take(&mut state.flush_again) {
                state.delivering = false;
                break;
            }
        }
    }

    /// Holding the outbox's lock: every stored message in order, each shown, checked and sent.
    /// `waited`: another tab held the lock first, and may have sent what this tab typed.
    async fn send_outbox(&self, waited: bool) {
        let mut checked = false;
        let mut log = self.view.log;
        loop {
            let pending = self.store.load_pending();
            for p in &pending {
                self.restore_pending(p);
            }
            let ready = self.can_send();
            let skip = |p: &&Pending| {
                let state = self.state.borrow();
                p.refused
                    || state.failed_here.contains(&p.local_id)
                    || (p.file.is_some() && !state.files.contains_key(&p.local_id))
            };
            let Some(next) = pending.iter().find(|p| !skip(p)).cloned() else {
                // Shown here as waiting but gone from the outbox: another tab sent it, and the
                // newest page has it.
                let gone = log
                    .peek()
                    .waiting_ids()
                    .any(|id| !pending.iter().any(|p| p.local_id == id));
                if gone && ready && !checked {
                    self.check_newest().await;
                }
                break;
            };
            if !ready {
                for p in pending.iter().filter(|p| !skip(p)) {
                    log.write().waiting(p.local_id);
                }
                break;
            }
            // Going again by itself, but not yet: it waits (and what came after it, in order).
            let not_before = self
                .state
                .borrow()
                .retrying
                .get(&next.local_id)
                .map(|r| r.not_before_ms);
            if not_before.is_some_and(|t| t > net::now_ms()) {
                break;
            }
            // A message this page did not type (typed before a reload, or in another tab) may
            // have gone out already, its answer lost with its page; one typed here, when another
            // tab held the lock first, may have gone out from there (this tab's storage can
            // still show it, late); one whose last send failed may have been stored anyway:
            // the newest page says.
            let unsure = waited
                || not_before.is_some()
                || !self.state.borrow().typed_here.contains(&next.local_id);
            if !checked && unsure {
                checked = true;
                self.check_newest().await;
            }
            if log.peek().holds_own(next.local_id) {
                self.store.remove_pending(next.local_id);
                continue;
            }
            if not_before.is_none() {
                log.write().sending(next.local_id);
            }
            match self.deliver(next.local_id, &next.body).await {
                Sent::Stored(index) => {
                    self.state.borrow_mut().retrying.remove(&next.local_id);
                    self.state.borrow_mut().files.remove(&next.local_id);
                    self.store.remove_pending(next.local_id);
                    self.view.notice.clone().set(None);
                    log.write().send_succeeded(next.local_id, index);
                }
                Sent::Refused => {
                    self.state.borrow_mut().retrying.remove(&next.local_id);
                    self.store.save_pending(&Pending {
                        refused: true,
                        ..next.clone()
                    });
                    log.write().send_failed(next.local_id, "Not sent.");
                }
                Sent::Failed if !self.can_send() => {
                    // The connection went: it waits for it (the loop marks it).
                }
                Sent::Failed => {
                    // It goes again by itself, with backoff, for two minutes; then on the next
                    // connection, the next reload, or Retry.
                    if !self.go_again(next.local_id) {
                        self.state.borrow_mut().failed_here.insert(next.local_id);
                        log.write().send_failed(next.local_id, "Not sent.");
                        continue;
                    }
                    break;
                }
            }
        }
    }

    /// A send of `local_id` failed for a reason that can pass: schedules its next try (the
    /// bubble says "Sending…", and after a while "Waiting for the network…"), or says it gave
    /// up (`false`: it shows "Not sent." with Retry).
    fn go_again(&self, local_id: u64) -> bool {
        let now = net::now_ms();
        let scheduled = {
            let mut state = self.state.borrow_mut();
            let retrying = state.retrying.entry(local_id).or_insert_with(|| Retrying {
                retried: Retried::new(RetryPolicy::SEND, now),
                since_ms: now,
                not_before_ms: 0,
            });
            let wait = retrying
                .retried
                .after(AttemptFailure::Failed, now, js_sys::Math::random());
            match wait {
                Some(wait) => {
                    retrying.not_before_ms = now + wait;
                    Some((
                        wait,
                        now.saturating_sub(retrying.since_ms) >= SEND_PATIENT_MS,
                    ))
                }
                None => None,
            }
        };
        let Some((wait, patient)) = scheduled else {
            self.state.borrow_mut().retrying.remove(&local_id);
            return false;
        };
        let mut log = self.view.log;
        if patient {
            log.write().waiting(local_id);
        } else {
            log.write().sending(local_id);
        }
        let session = self.clone();
        spawn(async move {
            net::sleep(wait.min(u64::from(u32::MAX)) as u32).await;
            session.flush().await;
        });
        true
    }

    /// Before sending what another tab may have sent: the newest page of this page's
    /// conversation, or, when this page has none yet, of the one another tab started (the
    /// message went there), joined now.
    async fn check_newest(&self) {
        if self.conversation().is_some() {
            return self.load_newest().await;
        }
        let client = self.state.borrow().client.clone();
        if let Some(client) = client {
            self.join_stored(&client).await;
        }
    }

    /// The newest page of the current conversation into the log (what other tabs sent).
    pub(super) async fn load_newest(&self) {
        if let Some(c) = self.conversation() {
            if let Ok(page) = c.page(PAGE_SIZE as u32, None, None).await {
                self.view
                    .log
                    .clone()
                    .write()
                    .add_page(page.messages, page.has_older);
            }
        }
    }

    /// Retry: first looks for the message in the newest page (a send whose answer was lost with
    /// the connection may have been stored), so that it is never sent twice; then it is back
    /// in the outbox.
    pub fn retry(&self, local_id: u64) {
        // A file whose bytes this page does not hold (chosen before a reload): Remove.
        let gone = self.view.log.peek().file_of(local_id).is_some()
            && !self.state.borrow().files.contains_key(&local_id);
        if gone {
            self.view.log.clone().write().discard(local_id);
            self.store.remove_pending(local_id);
            return;
        }
        let file = self.view.log.peek().file_of(local_id).cloned();
        let body = self.view.log.clone().write().retry(local_id);
        let Some(body) = body else {
            return;
        };
        let session = self.clone();
        spawn(async move {
            session.load_newest().await;
            if session.view.log.peek().holds_own(local_id) {
                session.store.remove_pending(local_id);
                return;
            }
            let stored = session
                .store
                .load_pending()
                .into_iter()
                .find(|p| p.local_id == local_id);
            session.store.save_pending(&Pending {
                refused: false,
                ..stored.unwrap_or(Pending {
                    local_id,
                    typed_ms: net::now_ms(),
                    conversation: session.conversation_sid(),
                    refused: false,
                    body,
                    file,
                })
            });
            session.state.borrow_mut().failed_here.remove(&local_id);
            session.state.borrow_mut().retrying.remove(&local_id);
            session.flush().await;
        });
    }

    /// Hands one message to the service: into the current conversation, or the one another tab
    /// started meanwhile, or a new one (its first message).
    async fn deliver(&self, local_id: u64, body: &str) -> Sent {
        let Some(client) = self.state.borrow().client.clone() else {
            return Sent::Failed;
        };
        let conversation = match self.conversation() {
            Some(c) => c,
            None => match self.join_or_start(&client, local_id).await {
                Ok(c) => c,
                Err(sent) => return sent,
            },
        };
        // No RefCell borrow may live across the await (an SDK event borrows mutably).
        let realm = self.state.borrow().realm.clone();
        let Some(realm) = realm else {
            return Sent::Failed;
        };
        let file = self.view.log.peek().file_of(local_id).cloned();
        let sent = match file {
            Some(info) => {
                let Some(blob) = self.state.borrow().files.get(&local_id).cloned() else {
                    return Sent::Refused;
                };
                conversation
                    .send_file(&realm, &blob, &info.content_type, body, local_id)
                    .await
            }
            None => conversation.send(&realm, body, local_id).await,
        };
        match sent {
            Ok(index) => Sent::Stored(index),
            Err(error) => {
                // The media service's errors carry the HTTP status as `code`.
                let status = net::get(&error, "status")
                    .as_f64()
                    .or_else(|| net::get(&error, "code").as_f64())
                    .unwrap_or(0.0);
                if (400.0..500.0).contains(&status) && status != 429.0 {
                    Sent::Refused
                } else {
                    Sent::Failed
                }
            }
        }
    }

    /// No conversation on this page: the one another tab started (it is stored), or a new one
    /// the Worker starts for the message `local_id` (its key: asked again, it answers the
    /// same conversation). A refusal the Worker means (a 4xx but a rate limit) waits for the
    /// visitor's Retry; anything else goes again.
    async fn join_or_start(
        &self,
        client: &crate::sdk::Client,
        local_id: u64,
    ) -> Result<crate::sdk::Conversation, Sent> {
        if let Some(c) = self.join_stored(client).await {
            return Ok(c);
        }
        let c =
            self.start_conversation(client, local_id)
                .await
                .map_err(|failure| match failure {
                    net::ApiFailure::Refused { status, code, .. }
                        if (400..500).contains(&status)
                            && code != Some(edgechat_core::api::ErrorCode::RateLimited) =>
                    {
                        Sent::Refused
                    }
                    _ => Sent::Failed,
                })?;
        self.attach(c.clone(), None)
            .await
            .map_err(|_| Sent::Failed)?;
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"conversation".into(), &c.sid().into());
        net::dispatch("conversation-started", &detail);
        Ok(c)
    }

    /// The conversation another tab started and stored, attached here (its newest page loaded).
    async fn join_stored(&self, client: &crate::sdk::Client) -> Option<crate::sdk::Conversation> {
        let sid = self.store.load().conversation?;
        let c = client.conversation(sid.as_str(), None).await.ok()?;
        if !c.joined() {
            return None;
        }
        self.attach(c.clone(), None).await.ok()?;
        Some(c)
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
}
