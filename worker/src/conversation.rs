//! One Durable Object per conversation (`CONVERSATIONS`, named by the conversation's SID): every
//! webhook event that needs work for that conversation (attaching the site's automation, the
//! built-in responder's replies) runs through it, one at a time, so that deliveries racing each
//! other (Twilio retries, two messages a second apart) are handled exactly once.
//!
//! A Durable Object serializes its storage, not its outgoing fetches: while one event awaits
//! Twilio, another may enter. `turn` holds the object for an event's whole handling.
//!
//! The webhook route has already verified, read and decided the event, and hands over only those
//! that need work (most events, such as every message on a site without the responder, never reach
//! an object). The object reads and decides it again from the same parameters with the same pure
//! functions, because it needs the site's config (from its own isolate's cache) anyway, and one
//! encoding of events is less to keep right than two.
//!
//! Storage: `attached` (the webhook SID once the automation is attached) and `responder` (what
//! the responder remembers: greeted, handed off, away sent, the last visitor message handled).
//! A message counts as handled only once all its replies were sent; each reply carries a
//! [`ReplyMark`] so that a redelivery after a partial send finds what already went out.

use edgechat_core::automation::{self, describe, Action, ForSite, Outcome, Route};
use edgechat_core::ids::sid::{ConversationSid, ServiceSid, WebhookSid};
use edgechat_core::responder::{self, Listed, ResponderState};
use edgechat_core::site::config::AutoReply;
use edgechat_core::twilio::rest::{
    self, Attachment, MessagePage, Plan, WebhookPage, ERROR_WEBHOOK_LIMIT,
};
use futures_util::lock::Mutex;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::twilio::{RestFailure, TwilioClient};

/// The Worker's binding to the objects.
pub const BINDING: &str = "CONVERSATIONS";

const ATTACHED: &str = "attached";
const RESPONDER: &str = "responder";

/// What the webhook route hands the object: the event's parameters, already verified (form
/// encoded, as Twilio sent them), and when the webhook arrived (ms; Twilio's 5 s run from then).
/// The object reads the event with the same `automation::route` the route used, so no second
/// encoding of events exists.
pub fn work_request(params: &[(String, String)], received_ms: u64) -> worker::Result<Request> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(body.into()));
    Request::new_with_init(
        &format!("https://conversation/work?received={received_ms}"),
        &init,
    )
}

/// What the object answers: the outcome's code and words, and whether Twilio should redeliver.
#[derive(Serialize, Deserialize)]
pub struct Done {
    pub outcome: String,
    pub detail: String,
    /// Twilio's REST API could not be reached in time: answer 503 so that Twilio redelivers,
    /// and the redelivery finishes what this one could not.
    pub redeliver: bool,
}

#[durable_object]
pub struct ConversationObject {
    state: State,
    env: Env,
    turn: Mutex<()>,
}

impl DurableObject for ConversationObject {
    fn new(state: State, env: Env) -> Self {
        ConversationObject {
            state,
            env,
            turn: Mutex::new(()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let received_ms = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "received")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| worker::Date::now().as_millis());
        let body = req.bytes().await?;
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        let _turn = self.turn.lock().await;
        let done = self.handle(&params, received_ms).await;
        Response::from_json(&done)
    }
}

fn finished(outcome: Outcome, calls: u32) -> Done {
    Done {
        outcome: outcome.code().to_owned(),
        detail: format!("{outcome} ({calls} REST calls)"),
        redeliver: false,
    }
}

fn failed(failure: RestFailure, calls: u32) -> Done {
    match failure {
        RestFailure::Unavailable { .. } => Done {
            outcome: "unavailable".into(),
            detail: format!("{failure} ({calls} REST calls)"),
            redeliver: true,
        },
        RestFailure::Rejected(_) | RestFailure::Unreadable { .. } => Done {
            outcome: "failed".into(),
            detail: format!(
                "Twilio refused a call, so the event is dropped ({calls} REST calls): {failure}"
            ),
            redeliver: false,
        },
    }
}

impl ConversationObject {
    async fn handle(&self, params: &[(String, String)], received_ms: u64) -> Done {
        let secrets = match crate::secrets::webhook(&self.env) {
            Ok(secrets) => secrets,
            Err(reply) => {
                return Done {
                    outcome: "failed".into(),
                    detail: format!("a secret is missing ({:?})", reply.error_code()),
                    redeliver: true,
                }
            }
        };
        let ForSite { site, event } = match automation::route(&secrets.account_sid, params) {
            Ok(Route::Site(for_site)) => for_site,
            Ok(Route::Ignore(why)) => return finished(Outcome::Ignored(why), 0),
            Err(e) => {
                return Done {
                    outcome: "failed".into(),
                    detail: format!("not a readable Conversations event: {e}"),
                    redeliver: false,
                }
            }
        };
        let config = match crate::sites::load(&self.env, &site).await {
            Ok(config) => config,
            Err(reply) => {
                return Done {
                    outcome: "failed".into(),
                    detail: format!(
                        "the site's config could not be read ({:?})",
                        reply.error_code()
                    ),
                    redeliver: true,
                }
            }
        };
        let mut twilio = TwilioClient::new(&self.env, &secrets, received_ms);
        let result = match automation::decide(event, &config) {
            Action::Ignore(why) => Ok(Outcome::Ignored(why)),
            Action::NothingToAttach => Ok(Outcome::NothingToAttach),
            Action::Attach {
                conversation,
                attachment,
            } => {
                self.attach(&mut twilio, &config.service_sid, &conversation, &attachment)
                    .await
            }
            Action::Reply {
                conversation,
                script,
                visitor,
                index,
                body,
            } => {
                let message = (index, body.as_str());
                self.reply(
                    &mut twilio,
                    script,
                    &config.service_sid,
                    &conversation,
                    &visitor,
                    message,
                )
                .await
            }
        };
        match result {
            Ok(outcome) => finished(outcome, twilio.calls),
            Err(failure) => failed(failure, twilio.calls),
        }
    }

    /// A stored value, kept as JSON text (one string codec for every value: small wasm).
    async fn stored<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = self
            .state
            .storage()
            .get::<String>(key)
            .await
            .ok()
            .flatten()?;
        serde_json::from_str(&text).ok()
    }

    async fn attach(
        &self,
        twilio: &mut TwilioClient,
        service: &ServiceSid,
        conversation: &ConversationSid,
        attachment: &Attachment,
    ) -> Result<Outcome, RestFailure> {
        let what = describe(attachment);
        if let Some(webhook) = self.stored::<WebhookSid>(ATTACHED).await {
            return Ok(Outcome::AlreadyAttached {
                what,
                conversation: conversation.clone(),
                webhook,
            });
        }
        let page: WebhookPage = twilio
            .send_json(&rest::list_webhooks(service, conversation), "webhook list")
            .await?;
        let limit_reached = |what| Outcome::WebhookLimit {
            what,
            conversation: conversation.clone(),
        };
        let created = match rest::plan_attachment(attachment, service, conversation, &page.webhooks)
        {
            Plan::AlreadyAttached { webhook_sid } => {
                self.remember(ATTACHED, &webhook_sid).await;
                return Ok(Outcome::AlreadyAttached {
                    what,
                    conversation: conversation.clone(),
                    webhook: webhook_sid,
                });
            }
            Plan::LimitReached => return Ok(limit_reached(what)),
            Plan::Create(request) => twilio.send_json::<rest::Webhook>(&request, "webhook").await,
        };
        match created {
            Ok(webhook) => {
                self.remember(ATTACHED, &webhook.sid).await;
                Ok(Outcome::Attached {
                    what,
                    conversation: conversation.clone(),
                    webhook: Some(webhook.sid),
                })
            }
            // Created, but its answer did not read: a redelivery finds it by listing.
            Err(RestFailure::Unreadable { .. }) => Ok(Outcome::Attached {
                what,
                conversation: conversation.clone(),
                webhook: None,
            }),
            Err(RestFailure::Rejected(e)) if e.code == Some(ERROR_WEBHOOK_LIMIT) => {
                Ok(limit_reached(what))
            }
            Err(e) => Err(e),
        }
    }

    async fn remember<T: Serialize>(&self, key: &str, value: &T) {
        let stored = match serde_json::to_string(value) {
            Ok(text) => self.state.storage().put(key, text).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = stored {
            worker::console_error!("conversation object: could not store {key}: {e}");
        }
    }

    /// The responder: every message of `visitor` not yet handled, in index order, each one
    /// handled (its replies sent, then its state stored) before the next.
    async fn reply(
        &self,
        twilio: &mut TwilioClient,
        script: &AutoReply,
        service: &ServiceSid,
        conversation: &ConversationSid,
        visitor: &str,
        message: (u64, &str),
    ) -> Result<Outcome, RestFailure> {
        let state: ResponderState = self.stored(RESPONDER).await.unwrap_or_default();
        if state.last_index.is_some_and(|last| message.0 <= last) {
            // A redelivery, or a message an earlier event already judged: no REST call.
            return Ok(Outcome::Silent { notes: Vec::new() });
        }
        let mut notes = Vec::new();
        let now = match &script.office_hours {
            None => None,
            Some(hours) => match crate::clock::local_now(hours.time_zone.as_str()) {
                Ok(now) => Some(now),
                Err(e) => {
                    notes.push(format!("office hours ignored: {e}"));
                    None
                }
            },
        };
        let page: MessagePage = twilio
            .send_json(
                &rest::list_recent_messages(service, conversation),
                "message list",
            )
            .await?;
        let listed: Vec<Listed<'_>> = page
            .messages
            .iter()
            .map(|m| Listed {
                index: m.index,
                author: m.author.as_deref().unwrap_or_default(),
                body: m.body.as_deref().unwrap_or_default(),
                attributes: m.attributes.as_deref().unwrap_or("{}"),
            })
            .collect();
        let steps = responder::plan(script, &state, visitor, &listed, message, now);
        let mut replies = 0;
        for step in steps {
            for (mark, text) in &step.sends {
                twilio
                    .send(&rest::create_message(
                        service,
                        conversation,
                        script.bot_name.as_str(),
                        text,
                        Some(&mark.attributes()),
                    ))
                    .await?;
                replies += 1;
            }
            self.remember(RESPONDER, &step.state).await;
        }
        Ok(if replies == 0 {
            Outcome::Silent { notes }
        } else {
            Outcome::Replied { replies, notes }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat_core::twilio::rest::TwilioError;

    #[test]
    fn failures_tell_twilio_whether_a_redelivery_can_help() {
        let unavailable = RestFailure::Unavailable {
            attempts: 3,
            last: "no answer".into(),
        };
        let done = failed(unavailable, 3);
        assert!(
            done.redeliver,
            "Twilio redelivers what could not be finished"
        );
        assert!(done.detail.ends_with("(3 REST calls)"));
        let refused = RestFailure::Rejected(TwilioError {
            code: Some(20404),
            message: "not found".into(),
            more_info: None,
            status: 404,
        });
        let done = failed(refused, 1);
        assert_eq!((done.outcome.as_str(), done.redeliver), ("failed", false));
        let unreadable = RestFailure::Unreadable {
            what: "message list",
            error: "expected value".into(),
        };
        let done = failed(unreadable, 1);
        assert!(done.detail.contains("unreadable message list from Twilio"));
        assert!(!done.redeliver);
        let ok = finished(Outcome::NothingToAttach, 2);
        assert_eq!(ok.outcome, "nothing_to_attach");
        assert!(ok.detail.ends_with("(2 REST calls)"));
    }
}
