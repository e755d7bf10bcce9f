//! `POST /webhooks/conversations`: the Conversations service's post-event webhook
//! (filters `onConversationAdded`, `onMessageAdded`).
//!
//! 1. Only Twilio may call it: `X-Twilio-Signature` is checked against the auth token over the URL
//!    as Twilio requested it (form and `bodySHA256` JSON variants, with and without the default
//!    port, in constant time). Anything else gets 403 and causes nothing.
//! 2. The site is the one bound into the visitor's identity (`ClientIdentity`, which Twilio takes
//!    from the access token the Worker signed), never one named in attributes.
//! 3. `onConversationAdded`: the site's Studio flow or bot URL is attached as a conversation
//!    webhook, after listing the conversation's webhooks so a redelivered event adds nothing.
//! 4. `onMessageAdded` from a visitor, on an `auto_reply` site: the built-in responder answers.
//!
//! Twilio retries a webhook that fails, so the answer says whether a retry can help: 503 when
//! Twilio's REST API could not be reached (a retry is safe: handling is idempotent), 200 for
//! everything a retry would not change (ignored events, the 5-webhook limit, a refused call),
//! each logged with its reason.

use std::rc::Rc;

use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::config::{AutoReply, Automation, SiteConfig};
use edgechat_core::responder::{respond, ResponderState};
use edgechat_core::secrets::WebhookSecrets;
use edgechat_core::sid::{ConversationSid, ServiceSid};
use edgechat_core::site::SiteId;
use edgechat_core::twilio_rest::{self, Attachment, Plan, WebhookPage, ERROR_WEBHOOK_LIMIT};
use edgechat_core::twilio_signature;
use edgechat_core::visitor::VisitorIdentity;
use edgechat_core::webhook_event::ConversationEvent;
use serde::Serialize;
use serde_json::value::RawValue;
use worker::{Env, Request};

use crate::http::{self, Reply};
use crate::twilio::{RestFailure, TwilioClient};

/// Largest webhook body read (Twilio's events are a few KB; attributes are at most 16 KB).
const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

fn secrets(env: &Env) -> Result<Rc<WebhookSecrets>, Reply> {
    thread_local! {
        static SECRETS: std::cell::OnceCell<Rc<WebhookSecrets>> = const { std::cell::OnceCell::new() };
    }
    crate::secrets::cached(&SECRETS, env, |lookup| WebhookSecrets::load(lookup))
}

pub async fn handle(req: Request, env: &Env) -> Reply {
    match handle_checked(req, env).await {
        Ok(reply) | Err(reply) => reply,
    }
}

#[derive(Serialize)]
struct Acknowledged<'a> {
    outcome: &'a str,
    detail: &'a str,
}

/// An acknowledged event: 200 with what was done, and the same words in the log line.
fn done(site: Option<&SiteId>, outcome: &str, detail: String) -> Reply {
    let body = Acknowledged {
        outcome,
        detail: &detail,
    };
    let mut reply = Reply::json(200, &body).with_detail(detail);
    reply.site = site.map(ToString::to_string);
    reply
}

async fn handle_checked(mut req: Request, env: &Env) -> Result<Reply, Reply> {
    let secrets = secrets(env)?;
    let signature = req
        .headers()
        .get("X-Twilio-Signature")
        .ok()
        .flatten()
        .ok_or_else(|| {
            Reply::error(ApiError::new(
                ErrorCode::InvalidSignature,
                "this URL takes Twilio's webhooks only: the request has no X-Twilio-Signature",
            ))
        })?;
    let url = req.url().map_err(|e| {
        Reply::error(ApiError::new(ErrorCode::Internal, "unreadable request URL"))
            .with_detail(e.to_string())
    })?;
    let body = http::read_body(&mut req, MAX_WEBHOOK_BYTES, ErrorCode::InvalidEvent).await?;
    let json_body = url.query_pairs().any(|(k, _)| k == "bodySHA256");
    let params: Vec<(String, String)> = if json_body {
        if !twilio_signature::is_valid_json(&secrets.auth_token, &signature, url.as_str(), &body) {
            return Err(bad_signature());
        }
        json_params(&body)?
    } else {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        if !twilio_signature::is_valid(&secrets.auth_token, &signature, url.as_str(), &params) {
            return Err(bad_signature());
        }
        params
    };
    let account = params
        .iter()
        .find(|(k, _)| k == "AccountSid")
        .map(|(_, v)| v.as_str());
    if account != Some(secrets.account_sid.as_str()) {
        return Ok(done(
            None,
            "ignored",
            "the event is for another Twilio account".into(),
        ));
    }
    let event = ConversationEvent::parse(&params).map_err(|e| {
        Reply::error(ApiError::new(
            ErrorCode::InvalidEvent,
            format!("not a readable Conversations event: {e}"),
        ))
    })?;
    match event {
        ConversationEvent::Other { event_type } => Ok(done(
            None,
            "ignored",
            format!("{event_type} is not an event edgechat acts on"),
        )),
        ConversationEvent::ConversationAdded {
            conversation_sid,
            chat_service_sid,
            visitor,
        } => {
            let Some((site, config)) = visitor_site(env, visitor.as_ref()).await? else {
                return Ok(done(
                    None,
                    "ignored",
                    "the conversation was not started by an edgechat visitor".into(),
                ));
            };
            if chat_service_sid.as_ref() != Some(&config.service_sid) {
                return Ok(done(
                    Some(&site),
                    "ignored",
                    "the conversation is in another Conversations service than the site's".into(),
                ));
            }
            let mut twilio = TwilioClient::new(env, &secrets);
            let result = attach(&mut twilio, &config, &conversation_sid).await;
            finish(&site, twilio.calls, result)
        }
        ConversationEvent::MessageAdded {
            conversation_sid,
            index,
            author,
            body,
            visitor,
        } => {
            // Only a visitor's own message: never the bot's (sent through the REST API, no
            // ClientIdentity), an agent's, or one a visitor's token did not write.
            let Some(visitor) = visitor.filter(|v| v.to_string() == author) else {
                return Ok(done(
                    None,
                    "ignored",
                    "the message is not from an edgechat visitor".into(),
                ));
            };
            let Some((site, config)) = visitor_site(env, Some(&visitor)).await? else {
                return Ok(done(
                    None,
                    "ignored",
                    "the visitor's site is unknown".into(),
                ));
            };
            let Automation::AutoReply(script) = &config.automation else {
                return Ok(done(
                    Some(&site),
                    "ignored",
                    "the site's automation is not auto_reply".into(),
                ));
            };
            let mut twilio = TwilioClient::new(env, &secrets);
            let result = auto_reply(
                &mut twilio,
                script,
                &config.service_sid,
                &conversation_sid,
                index,
                &body,
            )
            .await;
            finish(&site, twilio.calls, result)
        }
    }
}

fn bad_signature() -> Reply {
    Reply::error(ApiError::new(
        ErrorCode::InvalidSignature,
        "X-Twilio-Signature does not match: the request was not signed by Twilio with this \
         account's auth token (check TWILIO_AUTH_TOKEN, and that the webhook URL in the Twilio \
         console is exactly this Worker's URL)",
    ))
}

/// A `bodySHA256` request's JSON object, as parameters (strings kept, other values as JSON).
fn json_params(body: &[u8]) -> Result<Vec<(String, String)>, Reply> {
    let object: std::collections::BTreeMap<String, Box<RawValue>> = serde_json::from_slice(body)
        .map_err(|e| {
            Reply::error(ApiError::new(
                ErrorCode::InvalidEvent,
                format!("a JSON webhook body must be an object: {e}"),
            ))
        })?;
    Ok(object
        .into_iter()
        .map(|(k, raw)| {
            let text = raw.get();
            let value = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_owned());
            (k, value)
        })
        .collect())
}

/// The site (and its config) bound into the visitor's identity, or `None` to ignore the event.
async fn visitor_site(
    env: &Env,
    visitor: Option<&VisitorIdentity>,
) -> Result<Option<(SiteId, Rc<SiteConfig>)>, Reply> {
    let Some(visitor) = visitor else {
        return Ok(None);
    };
    let site = visitor.site().clone();
    match crate::sites::load(env, &site).await {
        Ok(config) => Ok(Some((site, config))),
        Err(reply) => match reply.error_code() {
            // A site deleted since the visitor's token: nothing to do, ever.
            Some(ErrorCode::UnknownSite) => Ok(None),
            // A broken config: Twilio's retry may find it fixed; the log says what to fix.
            _ => {
                let mut reply = reply;
                reply.site = Some(site.to_string());
                Err(reply)
            }
        },
    }
}

/// What handling an event did, for the reply and the log.
struct Handled {
    outcome: &'static str,
    detail: String,
}

fn finish(site: &SiteId, calls: u32, result: Result<Handled, RestFailure>) -> Result<Reply, Reply> {
    match result {
        Ok(h) => Ok(done(
            Some(site),
            h.outcome,
            format!("{} ({calls} REST calls)", h.detail),
        )),
        Err(RestFailure::Rejected(e)) => Ok(done(
            Some(site),
            "failed",
            format!("Twilio refused a call, so the event is dropped ({calls} REST calls): {e}"),
        )),
        Err(failure @ RestFailure::Unavailable { .. }) => {
            let mut reply = Reply::error(ApiError::new(
                ErrorCode::TwilioUnavailable,
                "Twilio's REST API could not be reached; redeliver the event later",
            ))
            .with_detail(format!("{failure} ({calls} REST calls)"));
            reply.site = Some(site.to_string());
            Err(reply)
        }
    }
}

fn unreadable(what: &str, e: serde_json::Error) -> RestFailure {
    RestFailure::Rejected(edgechat_core::twilio_rest::TwilioError {
        code: None,
        message: format!("unreadable {what} from Twilio: {e}"),
        more_info: None,
        status: 200,
    })
}

async fn attach(
    twilio: &mut TwilioClient,
    config: &SiteConfig,
    conversation: &ConversationSid,
) -> Result<Handled, RestFailure> {
    let Some(attachment) = Attachment::for_automation(&config.automation) else {
        return Ok(Handled {
            outcome: "nothing_to_attach",
            detail: "the site's automation attaches nothing to new conversations".into(),
        });
    };
    let service = &config.service_sid;
    let listed = twilio
        .send(&twilio_rest::list_webhooks(service, conversation))
        .await?;
    let page: WebhookPage =
        serde_json::from_str(&listed).map_err(|e| unreadable("webhook list", e))?;
    let what = match &attachment {
        Attachment::Studio(flow) => format!("Studio flow {flow}"),
        Attachment::Webhook(_) => "the site's bot webhook".to_owned(),
    };
    let limit_reached = || Handled {
        outcome: "webhook_limit",
        detail: format!(
            "conversation {conversation} already has 5 webhooks (Twilio error \
             {ERROR_WEBHOOK_LIMIT}), so {what} was not attached; remove one of its webhooks"
        ),
    };
    match twilio_rest::plan_attachment(&attachment, service, conversation, &page.webhooks) {
        Plan::AlreadyAttached { webhook_sid } => Ok(Handled {
            outcome: "already_attached",
            detail: format!("{what} is already attached to {conversation} as {webhook_sid}"),
        }),
        Plan::LimitReached => Ok(limit_reached()),
        Plan::Create(request) => match twilio.send(&request).await {
            Ok(created) => {
                let sid = serde_json::from_str::<twilio_rest::Webhook>(&created)
                    .map(|w| w.sid)
                    .unwrap_or_default();
                Ok(Handled {
                    outcome: "attached",
                    detail: format!("{what} attached to {conversation} as {sid}"),
                })
            }
            Err(RestFailure::Rejected(e)) if e.code == Some(ERROR_WEBHOOK_LIMIT) => {
                Ok(limit_reached())
            }
            Err(e) => Err(e),
        },
    }
}

async fn auto_reply(
    twilio: &mut TwilioClient,
    script: &AutoReply,
    service: &ServiceSid,
    conversation: &ConversationSid,
    index: u64,
    body: &str,
) -> Result<Handled, RestFailure> {
    let fetched = twilio
        .send(&twilio_rest::fetch_conversation(service, conversation))
        .await?;
    let fetched: twilio_rest::Conversation =
        serde_json::from_str(&fetched).map_err(|e| unreadable("conversation", e))?;
    let attributes = fetched.attributes.unwrap_or_else(|| "{}".into());
    let state = ResponderState::from_attributes(&attributes);
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
    let decision = respond(script, &state, index, body, now);
    let only_index_moved = ResponderState {
        last_index: state.last_index,
        ..decision.state.clone()
    } == state;
    // Nothing to say and nothing new to remember but the index: skip the write (a redelivery
    // would decide the same silence).
    if decision.state == state || (decision.replies.is_empty() && only_index_moved) {
        return Ok(Handled {
            outcome: "silent",
            detail: "the responder has nothing to say (handed off, or already answered)".into(),
        });
    }
    // Remember first, then speak: a redelivered event must not repeat the replies.
    twilio
        .send(&twilio_rest::update_attributes(
            service,
            conversation,
            &decision.state.store_in(&attributes),
        ))
        .await?;
    for reply in &decision.replies {
        twilio
            .send(&twilio_rest::create_message(
                service,
                conversation,
                script.bot_name.as_str(),
                reply,
            ))
            .await?;
    }
    notes.insert(0, format!("{} replies", decision.replies.len()));
    Ok(Handled {
        outcome: if decision.replies.is_empty() {
            "silent"
        } else {
            "replied"
        },
        detail: notes.join("; "),
    })
}
