//! What a Conversations SDK client does, for a holder of an access token: create a conversation,
//! join it, send and read messages (`/_sdk/...`, JSON in and out, the token in
//! `X-Twilio-Token` or `Authorization: Bearer`). Each action fires the webhooks Twilio fires for
//! an SDK action: `Source=SDK` and `ClientIdentity` = the token's identity, always announced.
//!
//! The token is checked as Twilio checks it: HS256 signature with the secret of the API key named
//! in `iss`, `sub` = the account, not expired (nor before `nbf`), an identity, and a chat grant
//! for a service that exists.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::control::twilio_error;
use crate::model::{Conversation, Urls};
use crate::rest::participant_event;
use crate::rest::{add_participant, append_message, insert_conversation};
use crate::App;

/// Who a valid token speaks for.
#[derive(Debug, Clone)]
pub struct Client {
    pub identity: String,
    pub service_sid: String,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    cty: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
    grants: Grants,
}

#[derive(Deserialize)]
struct Grants {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    chat: Option<ChatGrant>,
}

#[derive(Deserialize)]
struct ChatGrant {
    #[serde(default)]
    service_sid: Option<String>,
}

fn denied(code: u32, message: impl Into<String>) -> Response {
    twilio_error(401, code, message)
}

/// Checks an access token as Twilio would; `now` in unix seconds.
pub fn verify(app: &App, token: &str, now: u64) -> Result<Client, Response> {
    let invalid = |why: &str| denied(20101, format!("Invalid Access Token: {why}"));
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not a JWT"));
    };
    let header: Header = b64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("unreadable header"))?;
    if header.alg != "HS256" || header.cty.as_deref() != Some("twilio-fpa;v=1") {
        return Err(invalid(
            "the header must say alg HS256 and cty twilio-fpa;v=1",
        ));
    }
    let claims: Claims = b64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("unreadable payload"))?;
    if claims.iss != app.account.api_key_sid {
        return Err(denied(20103, "Invalid Access Token issuer/subject"));
    }
    if claims.sub != app.account.account_sid {
        return Err(denied(20103, "Invalid Access Token issuer/subject"));
    }
    let signature = b64.decode(s).map_err(|_| invalid("unreadable signature"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app.account.api_key_secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(format!("{h}.{p}").as_bytes());
    if mac.verify_slice(&signature).is_err() {
        return Err(denied(20107, "Invalid Access Token signature"));
    }
    if claims.exp <= now {
        return Err(denied(
            20104,
            "Access Token expired or expiration date invalid",
        ));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now) {
        return Err(invalid("not valid yet (nbf)"));
    }
    let identity = claims
        .grants
        .identity
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("no identity in grants"))?;
    let service_sid = claims
        .grants
        .chat
        .and_then(|c| c.service_sid)
        .ok_or_else(|| invalid("no chat grant with a service_sid"))?;
    if !app
        .state
        .lock()
        .unwrap()
        .services
        .contains_key(&service_sid)
    {
        return Err(invalid(
            "the chat grant names a service this account does not have",
        ));
    }
    Ok(Client {
        identity,
        service_sid,
    })
}

fn client(app: &App, headers: &HeaderMap) -> Result<Client, Response> {
    let token = headers
        .get("x-twilio-token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .ok_or_else(|| denied(20101, "Invalid Access Token: none given"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    verify(app, token.trim(), now)
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_sdk/realtime", get(crate::realtime::upgrade))
        .route("/sdk/twilio-conversations.js", get(standin_script))
        .route("/_sdk/Conversations", post(create))
        .route("/_sdk/Conversations/{sid}", get(fetch))
        .route("/_sdk/Conversations/{sid}/Participants", post(join))
        .route(
            "/_sdk/Conversations/{sid}/Messages",
            get(messages).post(send),
        )
        .with_state(app)
}

/// Where scripts/build-emulator.sh puts the built stand-in.
const STANDIN_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/emulator-sdk/twilio-conversations.js"
);

/// The browser SDK stand-in, loaded by the widget as a classic script from the emulator's origin
/// (so it knows where the realtime channel is).
async fn standin_script() -> Response {
    match std::fs::read(STANDIN_PATH) {
        Ok(script) => (
            [
                ("Content-Type", "text/javascript; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("Access-Control-Allow-Origin", "*"),
            ],
            script,
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            "the SDK stand-in is not built: run `bash scripts/build-emulator.sh`",
        )
            .into_response(),
    }
}

fn urls(headers: &HeaderMap, service: &str) -> Urls {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Urls {
        base: format!("http://{host}"),
        prefix: format!("/v1/Services/{service}"),
    }
}

fn bad_json(message: String) -> Response {
    twilio_error(400, 20001, message)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    friendly_name: Option<String>,
    #[serde(default)]
    unique_name: Option<String>,
    #[serde(default)]
    attributes: Option<Value>,
}

async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let client = match client(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body: CreateBody = if body.is_empty() {
        CreateBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return bad_json(format!("body: {e}")),
        }
    };
    let mut c = Conversation::new(&client.service_sid, body.friendly_name);
    c.unique_name = body.unique_name;
    if let Some(a) = body.attributes {
        c.attributes = a.to_string();
    }
    match insert_conversation(
        &app,
        &client.service_sid,
        c,
        Some(("SDK", Some(client.identity.clone()))),
    ) {
        Ok(c) => (
            StatusCode::CREATED,
            Json(c.json(&app.account, &urls(&headers, &client.service_sid))),
        )
            .into_response(),
        Err(r) => r,
    }
}

/// Runs `f` on a conversation of the client's service; `member` requires the client to be a
/// participant (as the SDK can only see conversations it belongs to). `not_found` makes the
/// caller's kind of error (an HTTP answer here, a realtime frame in `realtime`).
pub fn in_client_conversation<T, E>(
    app: &App,
    client: &Client,
    sid: &str,
    member: bool,
    not_found: impl Fn() -> E,
    f: impl FnOnce(&mut Conversation) -> Result<T, E>,
) -> Result<T, E> {
    let mut state = app.state.lock().unwrap();
    let c = state
        .services
        .get_mut(&client.service_sid)
        .and_then(|service| service.conversations.iter_mut().find(|c| c.sid == sid))
        .filter(|c| {
            !member
                || c.participants
                    .iter()
                    .any(|p| p.identity.as_deref() == Some(client.identity.as_str()))
        })
        .ok_or_else(&not_found)?;
    f(c)
}

fn with_conversation<T>(
    app: &App,
    client: &Client,
    sid: &str,
    member: bool,
    f: impl FnOnce(&mut Conversation) -> Result<T, Response>,
) -> Result<T, Response> {
    let not_found = || twilio_error(404, 50350, "Conversation not found");
    in_client_conversation(app, client, sid, member, not_found, f)
}

async fn fetch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let result = client(&app, &headers).and_then(|client| {
        with_conversation(&app, &client, &sid, true, |c| {
            Ok(c.json(&app.account, &urls(&headers, &client.service_sid)))
        })
    });
    result
        .map(|v| Json(v).into_response())
        .unwrap_or_else(|r| r)
}

async fn join(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let client = match client(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = with_conversation(&app, &client, &sid, false, |c| {
        if c.state == "closed" {
            return Err(twilio_error(400, 50446, "Conversation is closed"));
        }
        let p = add_participant(c, &client.identity, None)?;
        Ok((c.clone(), p))
    });
    match result {
        Ok((c, p)) => {
            app.announce_in(
                &client.service_sid,
                participant_event("SDK", Some(client.identity.clone()), &c, &p),
                &c,
            );
            let json = c.participant_json(&p, &app.account, &urls(&headers, &client.service_sid));
            (StatusCode::CREATED, Json(json)).into_response()
        }
        Err(r) => r,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    body: String,
    #[serde(default)]
    attributes: Option<Value>,
}

async fn send(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(sid): Path<String>,
    body: Bytes,
) -> Response {
    let client = match client(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body: SendBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_json(format!("body: {e}")),
    };
    if body.body.trim().is_empty() {
        return bad_json("body must not be empty".into());
    }
    let result = with_conversation(&app, &client, &sid, true, |c| {
        if c.state == "closed" {
            return Err(twilio_error(400, 50446, "Conversation is closed"));
        }
        let attributes = body.attributes.as_ref().map(Value::to_string);
        let m = append_message(
            c,
            client.identity.clone(),
            Some(body.body.clone()),
            attributes,
        );
        Ok((c.clone(), m))
    });
    match result {
        Ok((c, m)) => {
            app.message_added(&c, &m, Some(("SDK", Some(client.identity.clone()))));
            let json = c.message_json(&m, &app.account, &urls(&headers, &client.service_sid));
            (StatusCode::CREATED, Json(json)).into_response()
        }
        Err(r) => r,
    }
}

async fn messages(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let result = client(&app, &headers).and_then(|client| {
        with_conversation(&app, &client, &sid, true, |c| {
            let urls = urls(&headers, &client.service_sid);
            Ok(c.messages
                .iter()
                .map(|m| c.message_json(m, &app.account, &urls))
                .collect::<Vec<_>>())
        })
    });
    match result {
        Ok(items) => {
            let mut out = HashMap::new();
            out.insert("messages", items);
            Json(out).into_response()
        }
        Err(r) => r,
    }
}
