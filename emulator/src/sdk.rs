//! What a Conversations SDK client does, over plain HTTP, for a holder of an access token:
//! create a conversation, join it, send and read messages (`/_sdk/...`, JSON in and out, the token
//! in `X-Twilio-Token` or `Authorization: Bearer`). The Worker's webhook tests and benchmark use
//! it as a light client; each action goes through the model's client actions as that client
//! (`Source=SDK`, `ClientIdentity`), checked against its roles as the real SDK's are (403 50107
//! naming the permission). Reading a conversation or its messages is for its participants (403
//! 50400 for anyone else, 404 for one that does not exist). The real SDK speaks twilsock
//! (`crate::twilsock`); this is for tests.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::{App, Origin};
use crate::http::{error_response, twilio_error};
use crate::model::{
    Conversation, Message, NewConversation, NewParticipant, Participant, State as Model,
    TwilioError,
};
use crate::tokens::{self, Client};

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
        .ok_or_else(|| twilio_error(401, 20101, "Invalid Access Token: none given"))?;
    tokens::verify(&app.account, &app.world().model, token.trim()).map_err(|e| error_response(&e))
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_sdk/Conversations", post(create))
        .route("/_sdk/Conversations/{sid}", get(fetch))
        .route("/_sdk/Conversations/{sid}/Participants", post(join))
        .route(
            "/_sdk/Conversations/{sid}/Messages",
            get(messages).post(send),
        )
        .with_state(app)
}

fn base(headers: &HeaderMap, service: &str) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/v1/Services/{service}")
}

fn conversation_json(c: &Conversation, base: &str) -> Value {
    json!({
        "sid": c.sid,
        "chat_service_sid": c.service_sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "state": c.state,
        "date_created": c.date_created,
        "date_updated": c.date_updated,
        "url": format!("{base}/Conversations/{}", c.sid),
    })
}

fn participant_json(sid: &str, p: &Participant) -> Value {
    json!({"sid": p.sid, "conversation_sid": sid, "identity": p.identity, "attributes": p.attributes,
           "role_sid": p.role_sid, "date_created": p.date_created,
           "last_read_message_index": p.last_read_message_index})
}

fn message_json(sid: &str, m: &Message) -> Value {
    json!({"sid": m.sid, "conversation_sid": sid, "index": m.index, "author": m.author, "body": m.body,
           "attributes": m.attributes, "participant_sid": m.participant_sid, "date_created": m.date_created})
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
    let new = NewConversation {
        friendly_name: body.friendly_name,
        unique_name: body.unique_name,
        attributes: body.attributes.map(|a| a.to_string()),
        state: None,
        created_by: None,
    };
    let origin = Origin::Sdk {
        identity: client.identity.clone(),
    };
    match app.write(origin, |m| {
        m.client_create_conversation(&client.service_sid, &client.identity, new)
    }) {
        Ok(c) => (
            StatusCode::CREATED,
            Json(conversation_json(&c, &base(&headers, &client.service_sid))),
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}

fn not_found() -> Response {
    twilio_error(404, 50350, "Conversation not found")
}

/// Conversation `sid` if `identity` is in it: a missing one is 404, one they are not in 403
/// 50400, as the client API answers.
fn joined<'a>(
    model: &'a Model,
    service: &str,
    identity: &str,
    sid: &str,
) -> Result<&'a Conversation, Response> {
    match model.find(service, sid) {
        Ok(c) if c.participant(identity).is_some() => Ok(c),
        Ok(_) => Err(error_response(&TwilioError::not_participant(identity))),
        Err(_) => Err(not_found()),
    }
}

async fn fetch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let client = match client(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = app.world();
    match joined(&world.model, &client.service_sid, &client.identity, &sid) {
        Ok(c) => Json(conversation_json(c, &base(&headers, &client.service_sid))).into_response(),
        Err(r) => r,
    }
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
    let origin = Origin::Sdk {
        identity: client.identity.clone(),
    };
    let me = NewParticipant::identity(&client.identity);
    match app.write(origin, |m| {
        m.client_add_participant(&client.service_sid, &sid, &client.identity, me)
    }) {
        Ok(p) => (StatusCode::CREATED, Json(participant_json(&sid, &p))).into_response(),
        Err(e) if e.code == 50350 => not_found(),
        Err(e) => error_response(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    #[serde(default)]
    body: String,
    #[serde(default)]
    attributes: Option<Value>,
    /// Media uploaded to the media service (`crate::mcs`) by this client.
    #[serde(default)]
    media_sids: Vec<String>,
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
    if body.body.trim().is_empty() && body.media_sids.is_empty() {
        return bad_json("body must not be empty".into());
    }
    let origin = Origin::Sdk {
        identity: client.identity.clone(),
    };
    let attributes = body.attributes.as_ref().map(Value::to_string);
    let result = app.write(origin, |m| {
        if body.media_sids.is_empty() {
            m.client_send(
                &client.service_sid,
                &sid,
                &client.identity,
                body.body.clone(),
                attributes,
            )
        } else {
            let text = Some(body.body.clone()).filter(|t| !t.trim().is_empty());
            m.client_send_media(
                &client.service_sid,
                &sid,
                &client.identity,
                text,
                attributes,
                &body.media_sids,
            )
        }
    });
    match result {
        Ok(m) => (StatusCode::CREATED, Json(message_json(&sid, &m))).into_response(),
        Err(e) if e.code == 50350 => not_found(),
        // Not in it (403 50400) or without the permission (403 50107), as Twilio refuses.
        Err(e) => error_response(&e),
    }
}

async fn messages(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let client = match client(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = app.world();
    match joined(&world.model, &client.service_sid, &client.identity, &sid) {
        Ok(c) => {
            let items: Vec<Value> = c.messages.iter().map(|m| message_json(&sid, m)).collect();
            Json(json!({"messages": items})).into_response()
        }
        Err(r) => r,
    }
}
