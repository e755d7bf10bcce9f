//! Sending: the draft, the outbox (messages wait while not connected and go out once, in order,
//! one at a time: a first message creates the conversation), Retry (never twice: the newest page
//! is checked first), delivery, and the typing signal.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::PAGE_SIZE;

use super::{Phase, Session};
use crate::net;

impl Session {
    /// Sends the draft: refused drafts stay with a reason; accepted ones join the outbox.
    pub fn send_draft(&self) {
        let view = self.view;
        let text = view.draft.peek().clone();
        match self.send_text(&text) {
            Err(error) => view.draft_error.clone().set(Some(error)),
            Ok(()) => {
                view.draft.clone().set(String::new());
                view.draft_error.clone().set(None);
                self.stick_to_bottom(true);
            }
        }
    }

    /// Shows `text` as the visitor's message at once and puts it in the outbox: it goes out
    /// now when connected, else it waits for the connection. A text that cannot be sent (empty,
    /// too long) is refused with the reason.
    pub fn send_text(&self, text: &str) -> Result<(), String> {
        let started = self.view.log.clone().write().start_send(text);
        let (local_id, body) = started.map_err(|e| e.to_string())?;
        self.state.borrow_mut().outbox.push_back((local_id, body));
        if *self.view.phase.peek() == Phase::Ready {
            spawn(self.clone().flush());
        } else {
            self.view.log.clone().write().waiting(local_id);
        }
        Ok(())
    }

    /// Sends the outbox, one message at a time and in order, while connected; one task at a
    /// time does it (so a first message creates one conversation, however many wait).
    pub(super) async fn flush(self) {
        {
            let mut state = self.state.borrow_mut();
            if state.delivering {
                return;
            }
            state.delivering = true;
        }
        loop {
            if *self.view.phase.peek() != Phase::Ready {
                let waiting: Vec<u64> = self.state.borrow().outbox.iter().map(|o| o.0).collect();
                let mut log = self.view.log;
                for local_id in waiting {
                    log.write().waiting(local_id);
                }
                break;
            }
            let next = self.state.borrow_mut().outbox.pop_front();
            let Some((local_id, body)) = next else {
                break;
            };
            self.view.log.clone().write().sending(local_id);
            self.deliver(local_id, body).await;
        }
        self.state.borrow_mut().delivering = false;
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
            session
                .state
                .borrow_mut()
                .outbox
                .push_back((local_id, body));
            session.flush().await;
        });
    }

    async fn deliver(&self, local_id: u64, body: String) {
        let conversation = self.conversation();
        let client = self.state.borrow().client.clone();
        let conversation = match (conversation, client) {
            (Some(c), _) => Some(c),
            // No conversation yet (a first message), or the last one ended: this one starts one.
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
}
