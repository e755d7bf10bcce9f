//! What a Conversations SDK client does, over plain HTTP, for a holder of an access token:
//! create a conversation, join it, send and read messages (`/_sdk/...`, JSON in and out, the token
//! in `X-Twilio-Token` or `Authorization: Bearer`). The Worker's webhook tests and benchmark use
//! it as a light client; each action goes through the model as that client (`Source=SDK`,
//! `ClientIdentity`). The real SDK speaks twilsock (`crate::twilsock`); this is for tests.

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
use crate::model::{Conversation, Message, NewConversation, Participant};
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
           "date_created": p.date_created, "last_read_message_index": p.last_read_message_index})
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
        created_by: Some(client.identity.clone()),
    };
    let origin = Origin::Sdk {
        identity: client.identity.clone(),
    };
    match app.write(origin, |m| m.create_conversation(&client.service_sid, new)) {
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
    match world.model.find(&client.service_sid, &sid) {
        Ok(c) if c.participant(&client.identity).is_some() => {
            Json(conversation_json(c, &base(&headers, &client.service_sid))).into_response()
        }
        _ => not_found(),
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
    match app.write(origin, |m| {
        m.add_participant(&client.service_sid, &sid, &client.identity, None, true)
    }) {
        Ok(p) => (StatusCode::CREATED, Json(participant_json(&sid, &p))).into_response(),
        Err(e) if e.code == 50350 => not_found(),
        Err(e) => error_response(&e),
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
    let origin = Origin::Sdk {
        identity: client.identity.clone(),
    };
    let attributes = body.attributes.as_ref().map(Value::to_string);
    let result = app.write(origin, |m| {
        m.append_message(
            &client.service_sid,
            &sid,
            &client.identity,
            Some(body.body.clone()),
            attributes,
            true,
        )
    });
    match result {
        Ok(m) => (StatusCode::CREATED, Json(message_json(&sid, &m))).into_response(),
        Err(e) if e.code == 50350 || e.status == 403 => not_found(),
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
    match world.model.find(&client.service_sid, &sid) {
        Ok(c) if c.participant(&client.identity).is_some() => {
            let items: Vec<Value> = c.messages.iter().map(|m| message_json(&sid, m)).collect();
            Json(json!({"messages": items})).into_response()
        }
        _ => not_found(),
    }
}
