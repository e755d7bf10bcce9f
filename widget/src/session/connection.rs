//! The connection: the visitor's token (and a credential the Worker no longer accepts), the SDK's
//! realm, the Client and its initialization, and token renewal before expiry.

use dioxus::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

use edgechat_core::api::limits::RETRY_AFTER_SECONDS;
use edgechat_core::api::ErrorCode;
use edgechat_core::chat::session::refresh_delay_ms;
use edgechat_core::retry::{AttemptFailure, Retried, RetryPolicy};
use futures_util::future::{select, Either};

use super::{Failure, Session, INIT_TIMEOUT_MS};
use crate::net::{self, ApiFailure};
use crate::realm::Realm;
use crate::sdk;
use crate::{post, Event};

/// How hard a token renewal tries (core's one definition).
const RENEWAL: RetryPolicy = RetryPolicy::RENEWAL;

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
            match net::token(
                &self.base,
                self.site.as_str(),
                credential.as_deref(),
                RENEWAL.attempt_timeout_ms as u32,
            )
            .await
            {
                Ok(token) => {
                    self.store.save_visitor(Some(&token.visitor));
                    let mut state = self.state.borrow_mut();
                    let replaced = match state.identity.as_deref() {
                        Some(identity) => identity != token.identity,
                        None => dropped,
                    };
                    self.view.log.clone().write().set_identity(&token.identity);
                    state.identity = Some(token.identity.clone());
                    state.credential = Some(token.visitor.clone());
                    return Ok((token, replaced));
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
        let client = sdk::Client::start(realm, token, realtime_url.as_deref())
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

    /// Fetches a new token with the same credential and hands it to the client.
    pub(super) async fn refresh_token(self) {
        {
            let mut state = self.state.borrow_mut();
            if state.refreshing || state.client.is_none() {
                return;
            }
            state.refreshing = true;
        }
        let credential = self.state.borrow().credential.clone();
        let mut retried = Retried::new(RENEWAL, net::now_ms());
        let mut refused = false;
        loop {
            let outcome = net::token(
                &self.base,
                self.site.as_str(),
                credential.as_deref(),
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
                        let mut state = self.state.borrow_mut();
                        (
                            state.client.clone(),
                            std::mem::take(&mut state.token_expired),
                        )
                    };
                    if let Some(client) = client {
                        if client.refresh(&token.token, expired).await.is_ok() {
                            self.state.borrow_mut().token = Some(token.token.clone());
                            self.schedule_refresh(token.expires_in);
                            break;
                        }
                    }
                    AttemptFailure::Failed
                }
                Err(ApiFailure::Refused {
                    code: Some(ErrorCode::InvalidVisitorCredential),
                    ..
                }) => {
                    refused = true;
                    break;
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
                // Out of attempts: the next SDK warning or timer tries again.
                break;
            };
            net::sleep(delay.min(u64::from(u32::MAX)) as u32).await;
        }
        self.state.borrow_mut().refreshing = false;
        if refused {
            self.start_over().await;
        }
    }

    /// A timer that refreshes the token before it expires, in case the SDK's warning is late
    /// (a sleeping tab); the newest timer wins. Timed from the token's lifetime as the Worker
    /// states it, never from comparing the visitor's clock with the Worker's.
    pub(super) fn schedule_refresh(&self, expires_in: u64) {
        let delay = refresh_delay_ms(expires_in).min(i32::MAX as u64) as u32;
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
}
