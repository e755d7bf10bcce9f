//! `POST /api/sites/{site}/conversations`: the Worker starts a visitor's conversation, over
//! REST, with the visitor already in it and the attributes written by the Worker alone
//! (visitors' roles may neither create nor join conversations). See `core::api::start`.
//!
//! Limits, each a 429 with `Retry-After`: the visitor's new conversations a minute, their open
//! conversations (`rate_limits.open_conversations_per_visitor`), and the whole site's new
//! conversations a minute. A request repeated with the same `key` (an answer lost, a second
//! tab) answers the conversation the first one made: the conversation's unique name carries
//! the key, and Twilio refuses a second conversation of that name.

use edgechat_core::api::limits::{Budget, RETRY_AFTER_SECONDS};
use edgechat_core::api::secrets::TokenSecrets;
use edgechat_core::api::start::{self as body, StartRequest};
use edgechat_core::api::{ApiError, ErrorCode, MAX_BODY_BYTES};
use edgechat_core::ids::sid::{ConversationSid, ServiceSid};
use edgechat_core::twilio::rest::{self, ConversationState};
use edgechat_core::user_token::VerifiedUser;
use edgechat_core::visitor::VisitorIdentity;
use worker::{Env, Request};

use crate::http::{self, Reply};
use crate::limits;
use crate::sites::{self, Site};
use crate::twilio::{RestFailure, TwilioClient};

pub async fn handle(req: Request, env: &Env, raw_site: &str) -> Reply {
    sites::post(req, env, raw_site, |req, site| async move {
        start(req, env, &site).await
    })
    .await
}

async fn start(mut req: Request, env: &Env, site: &Site) -> Result<Reply, Reply> {
    let origin = req
        .headers()
        .get("Origin")
        .ok()
        .flatten()
        .unwrap_or_default();
    let secrets = crate::token::secrets(env)?;
    let body = http::read_body(&mut req, MAX_BODY_BYTES, ErrorCode::InvalidJson).await?;
    let request = StartRequest::from_body(&body).map_err(|e| {
        Reply::error(ApiError::new(
            ErrorCode::InvalidJson,
            format!("{}: {e}", body::START_BODY),
        ))
    })?;
    let now = worker::Date::now().as_millis();
    let identity = crate::token::verified(env, &secrets, site, &request.visitor, now / 1000)?;
    let limits = site.config.rate_limits;
    limits::take(
        env,
        limits::RENEWALS,
        &Budget::NewConversation {
            site: site.id.clone(),
            visitor: identity.to_string(),
        },
        1,
        "new conversations for this visitor",
    )
    .await?;

    let service = &site.config.service_sid;
    let name = body::unique_name(&identity, &request.key);
    let mut twilio =
        TwilioClient::with_key(env, &secrets.api_key_sid, &secrets.api_key_secret, now);
    let page = twilio
        .send(&rest::list_participant_conversations(
            service,
            &identity.to_string(),
        ))
        .await
        .map_err(unavailable)?;
    let theirs = body::visitor_conversations(&page, &name).ok_or_else(|| {
        unavailable(RestFailure::Unreadable {
            what: "participant conversations",
            error: "no conversations list".into(),
        })
    })?;
    if let Some(sid) = theirs.existing {
        return Ok(started(sid, false));
    }
    let cap = limits.open_conversations_per_visitor.get();
    if theirs.open >= usize::from(cap) {
        return Err(Reply::error(ApiError::new(
            ErrorCode::TooManyConversations,
            format!(
                "this visitor has {} open conversations, the most this site allows ({cap}): \
                 end one first",
                theirs.open
            ),
        ))
        .with_header("Retry-After", RETRY_AFTER_SECONDS.to_string()));
    }
    limits::take(
        env,
        limits::SITE,
        &Budget::SiteNewConversations {
            site: site.id.clone(),
        },
        limits.site_new_conversations_per_minute.buckets(),
        "new conversations on this site this minute",
    )
    .await?;

    if let Some(name) = user_name(env, site, &request.visitor, now / 1000) {
        name_user(&mut twilio, service, &identity, &name).await;
    }
    let (page_url, referrer) = body::page_facts(&request, &origin, site.config.keep_page_query);
    let attributes = body::attributes(&identity, page_url.as_deref(), referrer.as_deref());
    let created = twilio
        .send(&rest::create_conversation_with(
            service,
            &name,
            &attributes,
            &identity.to_string(),
        ))
        .await;
    let (text, fresh) = match created {
        Ok(text) => (text, true),
        // A request with the same key got there first (a second tab, a retry): its conversation.
        Err(RestFailure::Rejected(e)) if e.code == Some(rest::UNIQUE_NAME_TAKEN) => {
            let text = twilio
                .send(&rest::fetch_conversation_named(service, &name))
                .await
                .map_err(unavailable)?;
            (text, false)
        }
        Err(other) => return Err(unavailable(other)),
    };
    let conversation = ConversationState::read(&text)
        .filter(|c| c.sid.starts_with("CH"))
        .ok_or_else(|| {
            unavailable(RestFailure::Unreadable {
                what: "conversation",
                error: "no sid".into(),
            })
        })?;
    Ok(started(conversation.sid, fresh))
}

/// A signed-in user's `name` claim (the start request's proof is their user token).
fn user_name(env: &Env, site: &Site, proof: &str, now_s: u64) -> Option<String> {
    if !proof.starts_with("eyJ") {
        return None;
    }
    crate::token::verified_user(env, site, proof, now_s)
        .ok()?
        .name
}

/// Gives a signed-in user their name as agents see it (the Conversations user's friendly
/// name), creating the user if Twilio has none yet. Best effort: a failure costs only the name.
async fn name_user(
    twilio: &mut TwilioClient,
    service: &ServiceSid,
    user: &VisitorIdentity,
    name: &str,
) {
    let identity = user.to_string();
    match twilio
        .send(&rest::name_user(service, &identity, name))
        .await
    {
        Err(RestFailure::Rejected(e)) if e.status == 404 => {
            let _ = twilio
                .send(&rest::create_user(service, &identity, name))
                .await;
        }
        _ => {}
    }
}

/// The anonymous visitor `was` signed in as `user`: the user joins each of `was`'s open
/// conversations on this site and its attributes name them (`user`), so that the conversation
/// follows them to every device. A participant already there is fine (a repeat).
pub(crate) async fn carry_over(
    env: &Env,
    site: &Site,
    secrets: &TokenSecrets,
    was: &VisitorIdentity,
    user: &VerifiedUser,
    now_ms: u64,
) -> Result<(), Reply> {
    let service = &site.config.service_sid;
    let mut twilio =
        TwilioClient::with_key(env, &secrets.api_key_sid, &secrets.api_key_secret, now_ms);
    let page = twilio
        .send(&rest::list_participant_conversations(
            service,
            &was.to_string(),
        ))
        .await
        .map_err(unavailable)?;
    let theirs = body::visitor_conversations(&page, "").unwrap_or_default();
    let identity = user.identity.to_string();
    if let Some(name) = &user.name {
        name_user(&mut twilio, service, &user.identity, name).await;
    }
    for sid in theirs.open_sids {
        let Ok(conversation) = sid.parse::<ConversationSid>() else {
            continue;
        };
        match twilio
            .send(&rest::add_participant(service, &conversation, &identity))
            .await
        {
            Ok(_) => {}
            Err(RestFailure::Rejected(e)) if e.code == Some(rest::PARTICIPANT_EXISTS) => {}
            Err(other) => return Err(unavailable(other)),
        }
        let text = twilio
            .send(&rest::fetch_conversation(service, &conversation))
            .await
            .map_err(unavailable)?;
        let Some(state) = ConversationState::read(&text) else {
            continue;
        };
        // Only the Worker's own conversations of this visitor (their attributes name them).
        if !body::belongs_to(&state.attributes, was)
            || body::belongs_to(&state.attributes, &user.identity)
        {
            continue;
        }
        if let Some(attributes) = body::with_user(&state.attributes, &user.identity) {
            twilio
                .send(&rest::set_attributes(service, &conversation, &attributes))
                .await
                .map_err(unavailable)?;
        }
    }
    Ok(())
}

fn started(sid: String, created: bool) -> Reply {
    Reply::json(
        if created { 201 } else { 200 },
        &Started {
            conversation: sid,
            created,
        },
    )
}

fn unavailable(failure: RestFailure) -> Reply {
    crate::twilio::refused_or(failure, unreachable)
}

fn unreachable(failure: RestFailure) -> Reply {
    Reply::error(ApiError::new(
        ErrorCode::TwilioUnavailable,
        "Twilio could not be reached to start the conversation; try again with the same key",
    ))
    .with_detail(failure.to_string())
}

#[derive(serde::Serialize)]
struct Started {
    conversation: String,
    created: bool,
}
