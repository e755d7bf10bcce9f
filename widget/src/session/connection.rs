//! The connection: the visitor's token (and a credential the Worker no longer accepts), the SDK's
//! realm, the Client and its initialization, and token renewal before expiry. Where the
//! connection stands is core's [`Connection`](edgechat_core::chat::connection::Connection): this
//! module does what it says to.

use dioxus::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use edgechat_core::api::limits::RETRY_AFTER_SECONDS;
use edgechat_core::api::ErrorCode;
use edgechat_core::chat::connection::{Cancel, Link};
use edgechat_core::chat::session::refresh_delay_ms;
use edgechat_core::retry::{AttemptFailure, Retried, RetryPolicy};
use edgechat_core::user_token::is_user_token;
use futures_util::future::{select, Either};

use super::{Failure, Session, INIT_TIMEOUT_MS};
use crate::net::{self, ApiFailure};
use crate::realm::Realm;
use crate::sdk;
use crate::{post, Event};

/// How hard a token renewal tries (core's one definition).
const RENEWAL: RetryPolicy = RetryPolicy::RENEWAL;

/// A renewal timer; cancelled, it fires nothing.
#[derive(Debug, Default)]
pub(super) struct Timer(Rc<Cell<bool>>);

impl Cancel for Timer {
    fn cancel(&self) {
        self.0.set(true);
    }
}

impl Session {
    /// A token for the stored visitor; a credential the Worker no longer accepts (its secret
    /// was rotated) is dropped and a new visitor starts. Also says whether the visitor is not
    /// the one before (their conversation, if any, is not this visitor's).
    pub(super) async fn fetch_token(
        &self,
        credential: Option<String>,
    ) -> Result<(net::Token, bool), Failure> {
        let mut credential = credential;
        let mut dropped = false;
        loop {
            let user = self.state.borrow().user_token.clone();
            // A signed-in user's token, with the anonymous visitor's credential the first time:
            // the Worker carries that visitor's conversation over to the user.
            let visitor = credential.as_deref().filter(|c| !is_user_token(c));
            match net::token(
                &self.base,
                self.site.as_str(),
                visitor,
                user.as_deref(),
                RENEWAL.attempt_timeout_ms as u32,
            )
            .await
            {
                Ok(token) => {
                    // A user keeps no credential of ours (their visitor's was carried over).
                    self.store.save_visitor(token.visitor.as_deref());
                    let mut state = self.state.borrow_mut();
                    let replaced = match state.identity.as_deref() {
                        // Signing in keeps the conversation (carried over); anything else does not.
                        Some(before) => {
                            before != token.identity
                                && !(before.starts_with("visitor:") && user.is_some())
                        }
                        None => dropped,
                    };
                    self.view.log.clone().write().set_identity(&token.identity);
                    state.identity = Some(token.identity.clone());
                    state.credential = token.visitor.clone().or(user);
                    return Ok((token, replaced));
                }
                Err(ApiFailure::Refused {
                    code: Some(ErrorCode::InvalidUserToken),
                    message,
                    ..
                }) if user.is_some() => {
                    // The page's user token is refused: the visitor chats anonymously, and the
                    // page hears why.
                    net::report_error("user_token_refused", &message);
                    self.state.borrow_mut().user_token = None;
                    self.store.signed_in.set(false);
                }
                Err(ApiFailure::Refused {
                    code: Some(ErrorCode::InvalidVisitorCredential),
                    ..
                }) if credential.is_some() => {
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
    pub(super) async fn realm(&self) -> Result<Realm, Failure> {
        let (current, sdk_url) = {
            let state = self.state.borrow();
            (
                state.realm.clone(),
                state.sdk_url.clone().unwrap_or_default(),
            )
        };
        if let Some(realm) = current {
            if realm.alive() && realm.url() == sdk_url {
                return Ok(realm);
            }
            realm.remove();
            let mut state = self.state.borrow_mut();
            state.realm = None;
            state.client = None;
            state.conversation = None;
        }
        let realm = Realm::load(&self.realm_parent, &sdk_url)
            .await
            .map_err(|e| {
                // For the site's owner (a CSP or a wrong sdk_url); visitors see "unavailable".
                web_sys::console::warn_1(&format!("edgechat: the SDK did not load ({e:?})").into());
                Failure::Unavailable
            })?;
        self.state.borrow_mut().realm = Some(realm.clone());
        Ok(realm)
    }

    /// `new Client(token)` in the SDK's realm, then wait for `initialized` (or a refusal, or
    /// the timeout).
    pub(super) async fn start_client(
        &self,
        realm: &Realm,
        token: &str,
    ) -> Result<sdk::Client, Failure> {
        let realtime_url = self.state.borrow().realtime_url.clone();
        // The Client early.js started while the wasm loaded, with this token (and what it
        // reported so far), or a new one.
        let early = sdk::take_client(realm, token);
        let client = match early.as_ref() {
            Some(early) => early.client(),
            None => sdk::Client::start(realm, token, realtime_url.as_deref())
                .map_err(|_| Failure::CantConnect)?,
        };
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
        let finish_early = finish.clone();
        client.on(
            "connectionStateChanged",
            &sdk::listener(move |state| {
                let Some(link) = state.as_string().and_then(|s| Link::parse(&s)) else {
                    return;
                };
                if link.is_refusal() {
                    finish(false);
                }
                post(Event::ConnectionState(link));
            }),
        );
        for (event, expired) in [("tokenAboutToExpire", false), ("tokenExpired", true)] {
            client.on(
                event,
                &sdk::listener(move |_| post(Event::TokenExpiring(expired))),
            );
        }
        // What the early Client reported before these listeners were there.
        if let Some(early) = early {
            self.state.borrow_mut().early_resume = early.resume();
            if let Some(link) = early.link().as_deref().and_then(Link::parse) {
                if link.is_refusal() {
                    finish_early(false);
                }
                post(Event::ConnectionState(link));
            }
            if let Some(ok) = early.initialized() {
                finish_early(ok);
            }
        }
        let timeout = Box::pin(net::sleep(INIT_TIMEOUT_MS));
        let initialized = match select(outcome, timeout).await {
            Either::Left((Ok(ok), _)) => ok,
            _ => false,
        };
        if !initialized {
            // (What early.js began with it goes too: the next attempt starts a new Client.)
            self.state.borrow_mut().early_resume = None;
            client.close().await;
            return Err(Failure::CantConnect);
        }
        self.state.borrow_mut().client = Some(client.clone());
        Ok(client)
    }

    /// The SDK warned (`expired`: the token it holds has expired) or the timer fired: a renewal
    /// starts unless one is running (it then learns of the expiry).
    pub(super) fn renewal_due(&self, expired: bool) {
        if self.state.borrow_mut().connection.renewal_due(expired) {
            spawn(self.clone().refresh_token());
        }
    }

    /// Fetches a new token with the same credential and hands it to the client (the
    /// connection said a renewal is due and marked it running).
    async fn refresh_token(self) {
        let credential = self.state.borrow().credential.clone();
        let (visitor, user) = match credential.as_deref() {
            Some(c) if is_user_token(c) => (None, Some(c)),
            other => (other, None),
        };
        let mut retried = Retried::new(RENEWAL, net::now_ms());
        loop {
            let outcome = net::token(
                &self.base,
                self.site.as_str(),
                visitor,
                user,
                RENEWAL.attempt_timeout_ms as u32,
            )
            .await;
            let failure = match outcome {
                Ok(token) if self.state.borrow().token.as_deref() == Some(token.token.as_str()) => {
                    // Issued within the same second as the one the Client holds: the same bytes,
                    // which the SDK would ignore. Ask again (after the policy's wait).
                    AttemptFailure::Failed
                }
                Ok(token) => {
                    let (client, expired) = {
                        let state = self.state.borrow();
                        (state.client.clone(), state.connection.renewal_expired())
                    };
                    if let Some(client) = client {
                        if client.refresh(&token.token, expired).await.is_ok() {
                            let timer = self.renewal_timer(token.expires_in);
                            // The credential comes anew with each token: kept, it never ages.
                            let mut state = self.state.borrow_mut();
                            if let Some(visitor) = &token.visitor {
                                self.store.save_visitor(Some(visitor));
                                state.credential = Some(visitor.clone());
                            }
                            state.token = Some(token.token.clone());
                            state.connection.schedule(timer);
                            return;
                        }
                    }
                    AttemptFailure::Failed
                }
                Err(ApiFailure::Refused {
                    code: Some(ErrorCode::InvalidUserToken),
                    message,
                    ..
                }) => {
                    // The user token the page gave has expired or was revoked: the page hears
                    // it (and may identify again); the connection lasts as long as its token.
                    net::report_error("user_token_refused", &message);
                    self.state.borrow_mut().connection.renewal_gave_up();
                    return;
                }
                Err(ApiFailure::Refused {
                    code: Some(ErrorCode::InvalidVisitorCredential),
                    ..
                }) => {
                    // No token will come for this identity: start over as a new visitor.
                    self.start_over().await;
                    return;
                }
                Err(ApiFailure::Refused {
                    code: Some(ErrorCode::RateLimited),
                    retry_after,
                    ..
                }) => AttemptFailure::Busy {
                    // The whole wait the Worker asked for, then renew (the connection and
                    // the draft stay as they are meanwhile).
                    retry_after_ms: u64::from(retry_after.unwrap_or(RETRY_AFTER_SECONDS)) * 1000,
                },
                // No answer within the attempt's timeout (abandoned), or a failure to retry.
                Err(_) => AttemptFailure::Failed,
            };
            let Some(delay) = retried.after(failure, net::now_ms(), js_sys::Math::random()) else {
                // Out of attempts: the SDK's next warning tries again.
                self.state.borrow_mut().connection.renewal_gave_up();
                return;
            };
            net::sleep(delay.min(u64::from(u32::MAX)) as u32).await;
        }
    }

    /// A timer that says the token is due before it expires, in case the SDK's warning is late
    /// (a sleeping tab); the connection holds it and cancels it when it replaces or leaves it.
    /// Timed from the token's lifetime as the Worker states it, never from comparing the
    /// visitor's clock with the Worker's.
    pub(super) fn renewal_timer(&self, expires_in: u64) -> Timer {
        let delay = refresh_delay_ms(expires_in).min(i32::MAX as u64) as u32;
        let cancelled = Rc::new(Cell::new(false));
        let timer = Timer(cancelled.clone());
        wasm_bindgen_futures::spawn_local(async move {
            net::sleep(delay.max(1_000)).await;
            if !cancelled.get() {
                post(Event::TokenExpiring(false));
            }
        });
        timer
    }
}
