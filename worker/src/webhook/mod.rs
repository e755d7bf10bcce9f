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
//! The path is one tree: this route (verify, read, decide with core's pure `automation`) ->
//! [`object`] (the conversation's Durable Object does the work, exactly once, and its alarm
//! finishes what Twilio's REST API could not take in time) -> [`outcome`] (what the object did,
//! and Twilio's answer for it: 200 unless a site owner must fix something, then 500
//! `webhook_misconfigured`; never 503, since no reply waits on Twilio redelivering). Each answer
//! is logged with its reason.

use std::rc::Rc;

use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::automation::{self, Action, ForSite, Ignored, Outcome, Route};
use edgechat_core::ids::sid::ConversationSid;
use edgechat_core::ids::site::SiteId;
use edgechat_core::site::config::SiteConfig;
use edgechat_core::twilio::signature;
use serde_json::value::RawValue;
use worker::{Env, Request};

use crate::http::{self, Reply};

mod object;
mod outcome;
mod pending;

use outcome::{acknowledged, Done};

/// Largest webhook body read (Twilio's events are a few KB; attributes are at most 16 KB).
const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

pub async fn handle(req: Request, env: &Env) -> Reply {
    match handle_checked(req, env).await {
        Ok(reply) | Err(reply) => reply,
    }
}

fn ignored(site: Option<&SiteId>, why: Ignored) -> Reply {
    let outcome = Outcome::Ignored(why);
    acknowledged(site, outcome.code(), outcome.to_string())
}

async fn handle_checked(mut req: Request, env: &Env) -> Result<Reply, Reply> {
    let received_ms = worker::Date::now().as_millis();
    // Before any signing work: what Twilio never sends is refused at once, and nothing about
    // the Worker's secrets or config is said until the signature verifies.
    let signature = req
        .headers()
        .get("X-Twilio-Signature")
        .ok()
        .flatten()
        .filter(|s| signature::plausible_header(s))
        .ok_or_else(|| {
            Reply::error(ApiError::new(
                ErrorCode::InvalidSignature,
                "this URL takes Twilio's webhooks only: the request has no valid \
                 X-Twilio-Signature",
            ))
        })?;
    let url = req.url().map_err(|e| {
        Reply::error(ApiError::new(ErrorCode::Internal, "unreadable request URL"))
            .with_detail(e.to_string())
    })?;
    let url = signed_url(env, url)?;
    let body = http::read_body(&mut req, MAX_WEBHOOK_BYTES, ErrorCode::InvalidEvent).await?;
    let auth_token = crate::secrets::auth_token(env).map_err(|reply| {
        // The caller is not known to be Twilio yet: the log names the secret, the answer not.
        let mut generic = Reply::error(ApiError::new(
            ErrorCode::WebhookMisconfigured,
            "the Worker is not set up to take webhooks: its log names what to fix",
        ));
        generic.detail = reply.outcome.err().map(|e| e.message);
        generic
    })?;
    let params = signed_params(&auth_token, &signature, &url, &body)?;
    let secrets = crate::secrets::webhook(env).map_err(misconfigured)?;
    let route = automation::route(&secrets.account_sid, &params).map_err(|e| {
        Reply::error(ApiError::new(
            ErrorCode::InvalidEvent,
            format!("not a readable Conversations event: {e}"),
        ))
    })?;
    let ForSite { site, event } = match route {
        Route::Ignore(why) => return Ok(ignored(None, why)),
        Route::Site(for_site) => for_site,
    };
    let Some(config) = site_config(env, &site).await.map_err(misconfigured)? else {
        return Ok(ignored(None, Ignored::UnknownSite));
    };
    let conversation = event.conversation().clone();
    match automation::decide(event, &config) {
        Action::Ignore(why) => return Ok(ignored(Some(&site), why)),
        Action::NothingToAttach => {
            let outcome = Outcome::NothingToAttach;
            return Ok(acknowledged(
                Some(&site),
                outcome.code(),
                outcome.to_string(),
            ));
        }
        Action::Attach { .. } | Action::Reply { .. } => {}
    }
    // The work itself runs in the conversation's Durable Object, one event at a time.
    let handled = in_conversation_object(env, &site, &conversation, &params, received_ms).await?;
    match handled {
        Done::Misconfigured { .. } => Err(handled.answer(&site)),
        _ => Ok(handled.answer(&site)),
    }
}

/// The URL Twilio signed: the request's own, or, behind a proxy that changes it, the Worker var
/// `WEBHOOK_PUBLIC_URL` (the URL set in Twilio's console) with the request's query.
fn signed_url(env: &Env, requested: url::Url) -> Result<url::Url, Reply> {
    let Ok(public) = env.var(PUBLIC_URL_VAR) else {
        return Ok(requested);
    };
    let public = public.to_string();
    let mut url = url::Url::parse(&public)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| {
            // Said to no one before the signature: the log names it.
            Reply::error(ApiError::new(
                ErrorCode::WebhookMisconfigured,
                "the Worker is not set up to take webhooks: its log names what to fix",
            ))
            .with_detail(format!(
                "the Worker var {PUBLIC_URL_VAR} is not an http(s) URL: set it to the webhook \
                 URL in Twilio's console"
            ))
        })?;
    url.set_query(requested.query());
    Ok(url)
}

/// The Worker var naming the URL Twilio signs, when a proxy in front changes it.
const PUBLIC_URL_VAR: &str = "WEBHOOK_PUBLIC_URL";

/// A misconfiguration the route itself found (a secret, the site's config, a binding): 500
/// `webhook_misconfigured`, whose message keeps what the Worker's own error said to fix. Twilio
/// does not retry a 500; a retry could not help before the fix.
fn misconfigured(reply: Reply) -> Reply {
    match &reply.outcome {
        Err(e)
            if matches!(
                e.code,
                ErrorCode::MissingSecret
                    | ErrorCode::InvalidSecret
                    | ErrorCode::MissingBinding
                    | ErrorCode::InvalidSiteConfig
                    | ErrorCode::InvalidVar
            ) =>
        {
            let mut wrapped = Reply::error(ApiError::new(
                ErrorCode::WebhookMisconfigured,
                format!("{}: {}", e.code.as_str(), e.message),
            ));
            wrapped.site = reply.site.clone();
            wrapped.detail = reply.detail.clone();
            wrapped
        }
        _ => reply,
    }
}

/// Hands the verified event to its conversation's object and waits for what it did.
async fn in_conversation_object(
    env: &Env,
    site: &SiteId,
    conversation: &ConversationSid,
    params: &[(String, String)],
    received_ms: u64,
) -> Result<Done, Reply> {
    let internal = |what: &str, e: worker::Error| {
        let mut reply = Reply::error(ApiError::new(
            ErrorCode::TemporarilyUnavailable,
            "the conversation's Durable Object could not be reached; redeliver the event",
        ))
        .with_detail(format!("{what}: {e}"));
        reply.site = Some(site.to_string());
        reply
    };
    let namespace = env.durable_object(object::BINDING).map_err(|_| {
        misconfigured(Reply::error(ApiError::new(
            ErrorCode::MissingBinding,
            format!(
                "the Durable Object binding {} is missing: add a [[durable_objects.bindings]] \
                 entry for ConversationObject to wrangler.toml",
                object::BINDING
            ),
        )))
    })?;
    let stub = namespace
        .get_by_name(conversation.as_str())
        .map_err(|e| internal("stub", e))?;
    let request = object::work_request(params, received_ms).map_err(|e| internal("request", e))?;
    if crate::faults::fire(env, "object_unreachable") {
        return Err(internal(
            "fetch",
            worker::Error::RustError("a test fault".into()),
        ));
    }
    let mut response = stub
        .fetch_with_request(request)
        .await
        .map_err(|e| internal("fetch", e))?;
    let text = response.text().await.map_err(|e| internal("answer", e))?;
    Done::decode(&text).ok_or_else(|| {
        internal(
            "answer",
            worker::Error::RustError(format!("unreadable answer {text:?}")),
        )
    })
}

/// The event's parameters, once `X-Twilio-Signature` verifies over the URL as requested: the
/// form body, or (with `bodySHA256` in the URL) the JSON body's fields.
fn signed_params(
    auth_token: &str,
    given: &str,
    url: &url::Url,
    body: &[u8],
) -> Result<Vec<(String, String)>, Reply> {
    let json_body = url.query_pairs().any(|(k, _)| k == "bodySHA256");
    if json_body {
        let params = json_params(body)?;
        if !signature::is_valid_json(auth_token, given, url.as_str(), body) {
            return Err(bad_signature());
        }
        Ok(params)
    } else {
        if signature::form_param_count(body) > signature::MAX_PARAMS {
            return Err(too_many_params());
        }
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(body).into_owned().collect();
        if !signature::is_valid(auth_token, given, url.as_str(), &params) {
            return Err(bad_signature());
        }
        Ok(params)
    }
}

fn too_many_params() -> Reply {
    Reply::error(ApiError::new(
        ErrorCode::InvalidEvent,
        format!(
            "a Conversations webhook carries at most {} parameters",
            signature::MAX_PARAMS
        ),
    ))
}

fn bad_signature() -> Reply {
    Reply::error(ApiError::new(
        ErrorCode::InvalidSignature,
        "X-Twilio-Signature does not match: the request was not signed by Twilio with this \
         account's auth token for exactly this URL (`npm run doctor` checks both)",
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
    if object.len() > signature::MAX_PARAMS {
        return Err(too_many_params());
    }
    Ok(object
        .into_iter()
        .map(|(k, raw)| {
            let text = raw.get();
            let value = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_owned());
            (k, value)
        })
        .collect())
}

/// The config of the site bound into the visitor's identity, or `None` when it has none.
async fn site_config(env: &Env, site: &SiteId) -> Result<Option<Rc<SiteConfig>>, Reply> {
    match crate::sites::load_or_fault(env, site, "kv_read_route").await {
        Ok(config) => Ok(Some(config)),
        Err(reply) => match reply.error_code() {
            // A site deleted since the visitor's token: nothing to do, ever.
            Some(ErrorCode::UnknownSite) => Ok(None),
            // KV failed for a moment: 503, which Twilio retries.
            Some(ErrorCode::Internal) => {
                let mut unavailable = Reply::error(ApiError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the site's config could not be read; redeliver the event",
                ));
                unavailable.detail = reply.detail.clone();
                unavailable.site = Some(site.to_string());
                Err(unavailable)
            }
            // A broken config: the log says what to fix.
            _ => {
                let mut reply = reply;
                reply.site = Some(site.to_string());
                Err(reply)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345678901234567890123456789012";

    fn status(reply: &Reply) -> u16 {
        match &reply.outcome {
            Ok(http::Payload::Json(status, _)) => *status,
            Ok(http::Payload::Preflight { .. }) => 204,
            Err(e) => e.code.status(),
        }
    }

    /// Core's signature (checked against the official twilio library by the oracle test).
    fn sign(url: &str, params: &[(&str, &str)]) -> String {
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        signature::expected_signature(TOKEN, url, &owned)
    }

    #[test]
    fn form_events_are_read_only_when_their_signature_verifies() {
        let url = url::Url::parse("https://chat.example.com/webhooks/conversations").unwrap();
        let params = [("EventType", "onMessageAdded"), ("Body", "a b&c")];
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let good = sign(url.as_str(), &params);
        let read = signed_params(TOKEN, &good, &url, body.as_bytes())
            .unwrap_or_else(|r| panic!("{:?}", r.error_code()));
        assert_eq!(read[1], ("Body".to_owned(), "a b&c".to_owned()));
        let refused =
            signed_params(TOKEN, &good, &url, b"EventType=onMessageAdded&Body=x").unwrap_err();
        assert_eq!(refused.error_code(), Some(ErrorCode::InvalidSignature));
        assert_eq!(status(&refused), 403);
    }

    #[test]
    fn json_bodies_become_parameters_and_non_objects_are_refused() {
        let params = json_params(br#"{"Body":"hi","Index":3,"Media":null}"#).unwrap();
        assert_eq!(
            params,
            vec![
                ("Body".to_owned(), "hi".to_owned()),
                ("Index".to_owned(), "3".to_owned()),
                ("Media".to_owned(), "null".to_owned()),
            ]
        );
        let refused = json_params(b"[1, 2]").unwrap_err();
        assert_eq!(refused.error_code(), Some(ErrorCode::InvalidEvent));
        assert_eq!(status(&refused), 400);
    }
}
