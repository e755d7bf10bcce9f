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
use edgechat_core::api::start::{self as body, StartRequest};
use edgechat_core::api::{ApiError, ErrorCode, MAX_BODY_BYTES};
use edgechat_core::site::pre_chat::{Answer, PreChat};
use edgechat_core::twilio::rest::{self, ConversationState};
use edgechat_core::user_token::VerifiedUser;
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
    let crate::token::Proven { identity, user } =
        crate::token::verified(env, &secrets, site, &request.visitor, now / 1000)?;
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
    let theirs = crate::users::conversations_of(&mut twilio, service, &identity, &name)
        .await
        .map_err(unavailable)?;
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

    let pre_chat = pre_chat_answers(site, &request, user.as_ref())?;
    if let Some(name) = user.as_ref().and_then(|u| u.name.as_deref()) {
        crate::users::name_user(&mut twilio, service, &identity, name).await;
    }
    let (page_url, referrer) = body::page_facts(&request, &origin, site.config.keep_page_query);
    let attributes = body::attributes(
        &identity,
        page_url.as_deref(),
        referrer.as_deref(),
        &pre_chat,
    );
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

/// The pre-chat answers, checked against the site's form (a signed-in user's token may carry
/// them: what the request lacks is taken from its claims); 400 `invalid_pre_chat` naming each
/// field's problem.
fn pre_chat_answers(
    site: &Site,
    request: &StartRequest,
    user: Option<&VerifiedUser>,
) -> Result<Vec<(String, Answer)>, Reply> {
    // While away, a site may ask for the visitor's email too (judged now, as the panel did).
    let away_email = site.config.office_hours.as_ref().and_then(|hours| {
        let at = crate::clock::local_now(hours.time_zone.as_str()).ok()?;
        site.config
            .away_at(at, worker::Date::now().as_millis())?
            .email
    });
    let with_email;
    let form = match (&site.config.pre_chat, away_email) {
        (form, Some(ask)) => {
            with_email = PreChat::with_away_email(form.as_ref(), ask);
            &with_email
        }
        (Some(form), None) => form,
        (None, None) => return Ok(Vec::new()),
    };
    let mut answers = form.answers_in(&request.pre_chat);
    if let Some(user) = user {
        // The token's claims first: the request's own answers, later in the list, win.
        let mut claimed = form.answers_in(&user.claims);
        claimed.append(&mut answers);
        answers = claimed;
    }
    form.check(&answers, &js_pattern_matches)
        .map_err(|problems| {
            let listed: Vec<String> = problems
                .iter()
                .map(|(field, problem)| format!("{field}: {}", problem.key()))
                .collect();
            Reply::error(ApiError::new(
                ErrorCode::InvalidPreChat,
                format!(
                    "the pre-chat answers do not fit the site's form ({}); send pre_chat with an \
                 answer for each required field",
                    listed.join(", ")
                ),
            ))
        })
}

/// Whether `value` matches the form's `pattern` whole, as an HTML `pattern` does (the runtime's
/// `RegExp`, with the `v` flag). A pattern the runtime cannot compile constrains nothing.
fn js_pattern_matches(pattern: &str, value: &str) -> bool {
    let anchored = format!("^(?:{pattern})$");
    match CheckedRegExp::new(&anchored, "v") {
        Ok(re) => re.test(value),
        Err(_) => true,
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `RegExp`, whose constructor throws on a pattern it cannot compile (hence `catch`).
    #[wasm_bindgen(js_name = RegExp)]
    type CheckedRegExp;

    #[wasm_bindgen(constructor, js_class = RegExp, catch)]
    fn new(pattern: &str, flags: &str) -> Result<CheckedRegExp, wasm_bindgen::JsValue>;

    #[wasm_bindgen(method)]
    fn test(this: &CheckedRegExp, text: &str) -> bool;
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
