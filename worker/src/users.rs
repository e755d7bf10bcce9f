//! Signed-in users' side effects at Twilio: their name as agents see it, and an anonymous
//! visitor's conversations carried over to the user they sign in as. Used by the token route
//! (sign-in) and the start route (a user's new conversation).

use edgechat_core::api::secrets::TokenSecrets;
use edgechat_core::api::start as body;
use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::ids::sid::{ConversationSid, ServiceSid};
use edgechat_core::twilio::rest::{self, ConversationState};
use edgechat_core::user_token::VerifiedUser;
use edgechat_core::visitor::VisitorIdentity;
use worker::Env;

use crate::http::Reply;
use crate::sites::Site;
use crate::twilio::{RestFailure, TwilioClient};

/// Gives a signed-in user their name as agents see it (the Conversations user's friendly
/// name), creating the user if Twilio has none yet. Best effort: a failure costs only the name.
pub(crate) async fn name_user(
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
    let theirs = conversations_of(&mut twilio, service, was, "")
        .await
        .map_err(unavailable)?;
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

/// The conversations `identity` takes part in on this service (Twilio's participant
/// conversations), read for the one named `name` (the start's key) and the open ones.
pub(crate) async fn conversations_of(
    twilio: &mut TwilioClient,
    service: &ServiceSid,
    identity: &VisitorIdentity,
    name: &str,
) -> Result<body::VisitorConversations, RestFailure> {
    let page = twilio
        .send(&rest::list_participant_conversations(
            service,
            &identity.to_string(),
        ))
        .await?;
    body::visitor_conversations(&page, name).ok_or_else(|| RestFailure::Unreadable {
        what: "participant conversations",
        error: "no conversations list".into(),
    })
}

fn unavailable(failure: RestFailure) -> Reply {
    crate::twilio::refused_or(failure, |failure| {
        Reply::error(ApiError::new(
            ErrorCode::TwilioUnavailable,
            "Twilio could not be reached to carry the conversation over to the signed-in user; \
             sign in again",
        ))
        .with_detail(failure.to_string())
    })
}
