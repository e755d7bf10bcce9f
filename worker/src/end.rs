//! `POST /api/sites/{site}/conversations/{sid}/end`: the visitor ends their conversation.
//!
//! Visitors' SDK role may not close a conversation, so the Worker does it over REST, for a
//! visitor who proves their credential (`{"visitor": "..."}`, as the token route takes it) and
//! whom the conversation's attributes name as its visitor (the Worker wrote them when it
//! started it). Anyone else gets `unknown_conversation` (404), whether or not it exists. Ending an ended conversation is not an error (Retry is safe).
//!
//! On a site that asks for ratings, the body may carry the visitor's `rating`: it joins the
//! conversation's attributes in the update that closes it (Twilio refuses any update of a closed
//! conversation), so a rating for a conversation that has ended already is refused
//! (`conversation_ended`, 409), as is one on a site that does not ask (`invalid_json`).

use edgechat_core::api::end::{self as body, EndRequest};
use edgechat_core::api::limits::Budget;
use edgechat_core::api::{ApiError, ErrorCode, MAX_BODY_BYTES};
use edgechat_core::ids::sid::ConversationSid;
use edgechat_core::twilio::rest::{self, ConversationState};
use worker::{Env, Request};

use crate::http::{self, Reply};
use crate::limits;
use crate::sites::{self, Site};
use crate::twilio::{RestFailure, TwilioClient};

pub async fn handle(req: Request, env: &Env, raw_site: &str, raw_sid: &str) -> Reply {
    sites::post(req, env, raw_site, |req, site| async move {
        end(req, env, &site, raw_sid).await
    })
    .await
}

async fn end(mut req: Request, env: &Env, site: &Site, raw_sid: &str) -> Result<Reply, Reply> {
    let unknown = || {
        Reply::error(ApiError::new(
            ErrorCode::UnknownConversation,
            format!("no conversation {raw_sid} of this visitor's on this site"),
        ))
    };
    let sid: ConversationSid = raw_sid.parse().map_err(|_| unknown())?;
    let secrets = crate::token::secrets(env)?;
    let body = http::read_body(&mut req, MAX_BODY_BYTES, ErrorCode::InvalidJson).await?;
    let invalid = |why: String| {
        Reply::error(ApiError::new(
            ErrorCode::InvalidJson,
            format!("{}: {why}", body::END_BODY),
        ))
    };
    let request = EndRequest::from_body(&body).map_err(|e| invalid(e.to_string()))?;
    if request.rating.is_some() && !site.config.ask_rating {
        return Err(invalid("this site does not ask for ratings".into()));
    }
    let now_s = worker::Date::now().as_millis() / 1000;
    let identity = crate::token::verified(env, &secrets, site, &request.visitor, now_s)?.identity;
    // Each end costs the visitor a renewal: a credential cannot be used to flood Twilio.
    let budget = Budget::Renewal {
        site: site.id.clone(),
        visitor: identity.to_string(),
    };
    let buckets = site.config.rate_limits.renewals_per_minute.buckets();
    limits::take(
        env,
        limits::RENEWALS,
        &budget,
        buckets,
        "requests for this visitor",
    )
    .await?;

    let service = &site.config.service_sid;
    let now = worker::Date::now().as_millis();
    let mut twilio =
        TwilioClient::with_key(env, &secrets.api_key_sid, &secrets.api_key_secret, now);
    // The conversation is the visitor's when the Worker wrote so: it started it with the
    // visitor's identity in its attributes, which no visitor can edit (and none can join
    // another's conversation to pass a participant check).
    let text = twilio
        .send(&rest::fetch_conversation(service, &sid))
        .await
        .map_err(|failure| match failure {
            RestFailure::Rejected(e) if e.status == 404 => unknown(),
            other => unavailable(other),
        })?;
    let conversation = ConversationState::read(&text).ok_or_else(|| {
        unavailable(RestFailure::Unreadable {
            what: "conversation",
            error: "no state".into(),
        })
    })?;
    if !edgechat_core::api::start::belongs_to(&conversation.attributes, &identity) {
        return Err(unknown());
    }
    let ended = || {
        Reply::error(ApiError::new(
            ErrorCode::ConversationEnded,
            "this conversation has ended already; a rating can only come with its end",
        ))
    };
    let attributes = match &request.rating {
        None => None,
        Some(_) if conversation.state == "closed" => return Err(ended()),
        Some(rating) => {
            let now = String::from(js_sys::Date::new_0().to_iso_string());
            Some(body::with_rating(&conversation.attributes, rating, &now))
        }
    };
    match twilio
        .send(&rest::close_conversation(
            service,
            &sid,
            attributes.as_deref(),
        ))
        .await
    {
        Ok(_) => {}
        // Closed already (an agent, or this visitor's earlier attempt whose answer was lost).
        Err(RestFailure::Rejected(e)) if e.code == Some(rest::CLOSED_IS_FINAL) => {
            if attributes.is_some() {
                return Err(ended());
            }
        }
        Err(other) => return Err(unavailable(other)),
    }
    Ok(Reply::json(200, &Ended { state: "closed" }))
}

fn unavailable(failure: RestFailure) -> Reply {
    crate::twilio::refused_or(failure, unreachable)
}

fn unreachable(failure: RestFailure) -> Reply {
    Reply::error(ApiError::new(
        ErrorCode::TwilioUnavailable,
        "Twilio could not be reached to end the conversation; try again",
    ))
    .with_detail(failure.to_string())
}

#[derive(serde::Serialize)]
struct Ended {
    state: &'static str,
}
