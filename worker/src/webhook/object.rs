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
use serde::Serialize;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use super::outcome::Done;
use super::pending;
use crate::twilio::{RestFailure, TwilioClient};
use edgechat_core::api::ErrorCode;

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

/// Storage: every event whose work is not done yet, kept before its work starts, with its own
/// count of alarm tries (`pending.rs`; plain text: no JSON codec, which keeps the upload small).
const PENDING: &str = "pending";
/// The alarm's tries of one event before it gives up on it (with its backoff, about six
/// minutes in all), with a log line that names the event.
const ALARM_TRIES: u32 = 8;

/// The wait before alarm try `n` (from 1): 5 s, doubling, at most a minute. The first wait
/// outlasts a request the handling abandoned but Twilio may still be carrying out (a message
/// create that timed out), so that the alarm's look before sending sees what it did.
fn alarm_backoff_ms(n: u32) -> i64 {
    (5_000i64 << n.saturating_sub(1).min(4)).min(60_000)
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
        let body = req.text().await?;
        let params: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let _turn = self.turn.lock().await;
        // Kept before any work: whatever happens from here (a crash, an isolate evicted), the
        // alarm finds the event and finishes it. Not kept, nothing is done: Twilio redelivers.
        if let Err(e) = self.keep(&body).await {
            let detail = format!("could not keep the event before its work: {e}");
            return Response::ok(Done::Unavailable { detail }.encode());
        }
        let done = self.handle(&params, received_ms).await?;
        if !matches!(done, Done::Deferred { .. }) {
            self.release(&body).await;
        }
        Response::ok(done.encode())
    }

    /// Finishes what webhooks could not: each kept event is handled again, in order, with a
    /// fresh budget; those Twilio's API (or the object's own dependencies) still could not take
    /// wait for the next alarm, each counting its own tries, until it gives up on one.
    async fn alarm(&self) -> worker::Result<Response> {
        let _turn = self.turn.lock().await;
        let kept = pending::read(&self.text(PENDING).await.unwrap_or_default());
        let mut left = Vec::new();
        for event in kept {
            let params: Vec<(String, String)> = url::form_urlencoded::parse(event.body.as_bytes())
                .into_owned()
                .collect();
            let done = match self.handle(&params, worker::Date::now().as_millis()).await {
                Ok(done) => done,
                Err(e) => Done::Unavailable {
                    detail: format!("the handling failed: {e}"),
                },
            };
            let tries = event.tries + 1;
            let answer = done.encode().replace('\n', " ");
            worker::console_log!("conversation object, alarm try {tries}: {answer}");
            if !matches!(done, Done::Deferred { .. } | Done::Unavailable { .. }) {
                continue;
            }
            if tries >= ALARM_TRIES {
                worker::console_error!(
                    "{{\"dead_letter\":{:?},\"tries\":{tries},\"detail\":{:?}}}",
                    event_name(&params),
                    answer
                );
            } else {
                left.push(pending::Kept {
                    tries,
                    body: event.body,
                });
            }
        }
        self.store_pending(&left).await?;
        if let Some(fewest) = left.iter().map(|k| k.tries).min() {
            self.state
                .storage()
                .set_alarm(alarm_backoff_ms(fewest + 1))
                .await?;
        }
        Response::ok("")
    }
}

/// What a dead-lettered event was, for its log line (never its body: visitors' words).
fn event_name(params: &[(String, String)]) -> String {
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    format!(
        "{} {} {}",
        field("EventType"),
        field("ConversationSid"),
        field("Index")
    )
    .trim()
    .to_owned()
}

/// Why an event's work stopped short.
enum Stopped {
    Failed(RestFailure),
    /// A test fault: the object dies mid-work (`faults.rs`).
    Crash,
}
use Stopped::{Crash, Failed};

impl From<RestFailure> for Stopped {
    fn from(failure: RestFailure) -> Stopped {
        Failed(failure)
    }
}

fn finished(outcome: Outcome, calls: u32) -> Done {
    Done::Finished {
        outcome: outcome.code().to_owned(),
        detail: format!("{outcome} ({calls} REST calls)"),
    }
}

fn failed(failure: RestFailure, calls: u32) -> Done {
    match failure {
        RestFailure::Unavailable { .. } => Done::Deferred {
            detail: format!(
                "{failure} ({calls} REST calls); the conversation's object finishes it"
            ),
        },
        RestFailure::Rejected(_) | RestFailure::Unreadable { .. } => Done::Dropped {
            detail: format!(
                "Twilio refused a call, so the event is dropped ({calls} REST calls): {failure}"
            ),
        },
    }
}

/// A misconfiguration the object found, with what the Worker's own reply said to fix.
fn misconfigured(reply: &crate::http::Reply, what: &str) -> Done {
    let (code, message) = match &reply.outcome {
        Err(e) => (e.code.as_str(), e.message.as_str()),
        Ok(_) => ("internal", ""),
    };
    Done::Misconfigured {
        code: code.to_owned(),
        detail: format!("{what}: {message}"),
    }
}

impl ConversationObject {
    /// An event's work. `Err` only for a crash (a test fault): the event stays kept.
    async fn handle(&self, params: &[(String, String)], received_ms: u64) -> worker::Result<Done> {
        let secrets = match crate::secrets::webhook(&self.env) {
            Ok(secrets) => secrets,
            Err(reply) => return Ok(misconfigured(&reply, "a Worker secret")),
        };
        let ForSite { site, event } = match automation::route(&secrets.account_sid, params) {
            Ok(Route::Site(for_site)) => for_site,
            Ok(Route::Ignore(why)) => return Ok(finished(Outcome::Ignored(why), 0)),
            Err(e) => {
                return Ok(Done::Dropped {
                    detail: format!("not a readable Conversations event: {e}"),
                })
            }
        };
        let config = match crate::sites::load_or_fault(&self.env, &site, "kv_read_object").await {
            Ok(config) => config,
            Err(reply) => {
                return Ok(match reply.error_code() {
                    // A site deleted since: nothing to do, ever.
                    Some(ErrorCode::UnknownSite) => {
                        finished(Outcome::Ignored(automation::Ignored::UnknownSite), 0)
                    }
                    // KV failed for a moment: the alarm tries again.
                    Some(ErrorCode::Internal) => Done::Deferred {
                        detail: format!(
                            "the site's config could not be read ({}); the conversation's object \
                             finishes it",
                            reply.detail.as_deref().unwrap_or("KV failed")
                        ),
                    },
                    _ => misconfigured(&reply, "the site's config"),
                });
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
            Ok(outcome) => Ok(finished(outcome, twilio.calls)),
            Err(Crash) => Err(worker::Error::RustError(
                "a test fault: the object died after a reply, before recording it".into(),
            )),
            Err(Failed(failure)) => Ok(failed(failure, twilio.calls)),
        }
    }

    /// Keeps an event before its work, and makes sure an alarm will come for it.
    async fn keep(&self, body: &str) -> worker::Result<()> {
        let kept = pending::with(
            pending::read(&self.text(PENDING).await.unwrap_or_default()),
            body,
        );
        if kept.len() > 1 {
            worker::console_log!("conversation object: holds {} events", kept.len());
        }
        self.store_pending(&kept).await?;
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(alarm_backoff_ms(1)).await?;
        }
        Ok(())
    }

    /// The event's work is done (or it was dropped): it is kept no more, and with nothing
    /// kept, no alarm is needed. A failure here is only logged: the alarm, finding the event
    /// still kept, handles it again, and finds nothing left to do.
    async fn release(&self, body: &str) {
        let kept = pending::without(
            pending::read(&self.text(PENDING).await.unwrap_or_default()),
            body,
        );
        let empty = kept.is_empty();
        let released = match self.store_pending(&kept).await {
            Ok(()) if empty => self.state.storage().delete_alarm().await,
            other => other,
        };
        if let Err(e) = released {
            worker::console_error!("conversation object: could not release an event: {e}");
        }
    }

    async fn store_pending(&self, kept: &[pending::Kept]) -> worker::Result<()> {
        let storage = self.state.storage();
        if kept.is_empty() {
            storage.delete(PENDING).await.map(drop)
        } else {
            storage.put(PENDING, pending::write(kept)).await
        }
    }

    async fn text(&self, key: &str) -> Option<String> {
        self.state.storage().get::<String>(key).await.ok().flatten()
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
    ) -> Result<Outcome, Stopped> {
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
            Err(e) => Err(e.into()),
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
    ) -> Result<Outcome, Stopped> {
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
                if crate::faults::fire(&self.env, "crash_after_reply") {
                    return Err(Crash);
                }
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
    fn failures_say_who_finishes_the_work() {
        let unavailable = RestFailure::Unavailable {
            attempts: 3,
            last: "no answer".into(),
        };
        match failed(unavailable, 3) {
            Done::Deferred { detail } => {
                assert!(detail.contains("(3 REST calls)"), "{detail}");
                assert!(
                    detail.ends_with("the conversation's object finishes it"),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
        let refused = RestFailure::Rejected(TwilioError {
            code: Some(20404),
            message: "not found".into(),
            more_info: None,
            status: 404,
        });
        assert!(matches!(failed(refused, 1), Done::Dropped { .. }));
        let unreadable = RestFailure::Unreadable {
            what: "message list",
            error: "expected value".into(),
        };
        match failed(unreadable, 1) {
            Done::Dropped { detail } => {
                assert!(
                    detail.contains("unreadable message list from Twilio"),
                    "{detail}"
                )
            }
            other => panic!("{other:?}"),
        }
        match finished(Outcome::NothingToAttach, 2) {
            Done::Finished { outcome, detail } => {
                assert_eq!(outcome, "nothing_to_attach");
                assert!(detail.ends_with("(2 REST calls)"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_alarm_backs_off_from_five_seconds_to_a_minute() {
        let waits: Vec<i64> = (1..=ALARM_TRIES).map(alarm_backoff_ms).collect();
        assert_eq!(
            waits,
            [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]
        );
    }
}
