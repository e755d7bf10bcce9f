//! Sending: the draft, Retry (never twice: the newest page is checked first), delivery (a new
//! conversation when the last one ended), and the typing signal.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::PAGE_SIZE;

use super::{Phase, Session};
use crate::net;

impl Session {
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

    pub(super) async fn deliver(self, local_id: u64, body: String) {
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
}
