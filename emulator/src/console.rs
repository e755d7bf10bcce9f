//! The agent console (`GET /_emulator/console`): a page where whoever runs `npm start` answers
//! visitors as an agent. It lists every conversation with its messages and posts replies as
//! `agent:console`, who joins the conversation on the first reply. A reply goes through the model
//! like an agent's SDK message: it reaches the visitor live and fires `onMessageAdded`.
//! Development only, like the rest of the emulator (127.0.0.1, no auth).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::{App, Origin};
use crate::model::{ConversationUpdate, Message, NewParticipant};

/// The identity console replies are written as.
pub const AGENT: &str = "agent:console";

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_emulator/console", get(page))
        .route("/_emulator/console/conversations", get(conversations))
        .route(
            "/_emulator/console/conversations/{sid}/messages",
            post(reply),
        )
        .route("/_emulator/console/conversations/{sid}/close", post(close))
        .route(
            "/_emulator/console/conversations/{sid}/media",
            post(attach).layer(axum::extract::DefaultBodyLimit::max(
                crate::model::media::MAX_ITEM_BYTES + 1,
            )),
        )
        .route("/_emulator/console/media/{sid}", get(media))
        .with_state(app)
}

async fn page() -> Html<&'static str> {
    Html(include_str!("console.html"))
}

fn message_json(m: &Message) -> Value {
    json!({
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "attributes": serde_json::from_str::<Value>(&m.attributes).unwrap_or(json!({})),
        "dateCreated": m.date_created,
        "media": m.media.iter().map(|r| json!({
            "sid": r.sid, "contentType": r.content_type, "filename": r.filename, "size": r.size,
            "url": format!("/_emulator/console/media/{}", r.sid),
        })).collect::<Vec<_>>(),
    })
}

/// Every conversation, newest activity first, with its participants and messages.
async fn conversations(State(app): State<Arc<App>>) -> Json<Value> {
    let world = app.world();
    let mut all: Vec<(&str, Value)> = world
        .model
        .services
        .values()
        .flat_map(|s| s.conversations.iter())
        .map(|c| {
            let value = json!({
                "sid": c.sid,
                "service": c.service_sid,
                "state": c.state,
                "attributes": serde_json::from_str::<Value>(&c.attributes).unwrap_or(json!({})),
                "dateUpdated": c.date_updated,
                "participants": c.participants.iter().map(|p| p.identity.clone()).collect::<Vec<_>>(),
                "messages": c.messages.iter().map(message_json).collect::<Vec<_>>(),
            });
            (c.date_updated.as_str(), value)
        })
        .collect();
    all.sort_by(|a, b| b.0.cmp(a.0));
    Json(
        json!({"agent": AGENT, "conversations": all.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    body: String,
}

async fn reply(State(app): State<Arc<App>>, Path(sid): Path<String>, body: Bytes) -> Response {
    let reply: Reply = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"body\": \"...\"}}: {e}"),
            )
        }
    };
    if reply.body.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "type a reply first".into());
    }
    let service = match open_service(&app, &sid) {
        Ok(service) => service,
        Err(r) => return r,
    };
    let origin = Origin::Sdk {
        identity: AGENT.to_owned(),
    };
    let result = app.write(origin, |m| {
        let mut changes = joined(m, &service, &sid)?;
        let (message, more) =
            m.append_message(&service, &sid, AGENT, Some(reply.body), None, false)?;
        changes.extend(more);
        Ok((message, changes))
    });
    sent(result)
}

/// The service of open conversation `sid`, or the console's 404 or 409.
fn open_service(app: &App, sid: &str) -> Result<String, Response> {
    match app.world().model.conversation(sid) {
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("no conversation {sid}"),
        )),
        Some(c) if c.state == "closed" => Err(error(
            StatusCode::CONFLICT,
            "the conversation is closed".into(),
        )),
        Some(c) => Ok(c.service_sid.clone()),
    }
}

/// A message the console sent, or why not.
fn sent(result: Result<Message, crate::model::TwilioError>) -> Response {
    match result {
        Ok(m) => (StatusCode::CREATED, Json(message_json(&m))).into_response(),
        Err(e) => error(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.message,
        ),
    }
}

/// The console's agent joins on their first message.
fn joined(
    m: &mut crate::model::State,
    service: &str,
    sid: &str,
) -> Result<Vec<crate::model::Change>, crate::model::TwilioError> {
    if m.find(service, sid)?.participant(AGENT).is_some() {
        return Ok(Vec::new());
    }
    Ok(
        m.add_participant(service, sid, NewParticipant::identity(AGENT), false)?
            .1,
    )
}

/// The agent sends a file: its bytes as the body, its type in `Content-Type`, its name in
/// `?filename=`; uploaded to the media service and sent as a media message.
async fn attach(
    State(app): State<Arc<App>>,
    Path(sid): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let service = match open_service(&app, &sid) {
        Ok(service) => service,
        Err(r) => return r,
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let origin = Origin::Sdk {
        identity: AGENT.to_owned(),
    };
    let result = app.write(origin, |m| {
        let mut changes = joined(m, &service, &sid)?;
        let media = m.upload_media(
            &service,
            AGENT,
            &content_type,
            query.get("filename").cloned(),
            body,
        )?;
        let (message, more) =
            m.append_media_message(&service, &sid, AGENT, None, None, &[media.sid], false)?;
        changes.extend(more);
        Ok((message, changes))
    });
    sent(result)
}

/// A media item's bytes, for the console page (same origin; served as a download unless it is
/// a raster image, and never run).
async fn media(State(app): State<Arc<App>>, Path(sid): Path<String>) -> Response {
    let world = app.world();
    let Some(m) = world.model.media.get(&sid).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("no media {sid}"));
    };
    drop(world);
    let inline = edgechat_core::site::attachments::shows_inline(&m.content_type);
    let mut response = m.bytes.into_response();
    let h = response.headers_mut();
    let kind = if inline {
        m.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    if let Ok(v) = axum::http::HeaderValue::from_str(kind) {
        h.insert("content-type", v);
    }
    h.insert(
        "x-content-type-options",
        axum::http::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        axum::http::HeaderValue::from_static("sandbox"),
    );
    response
}

/// An agent ends the conversation (its state closed, as over REST): the visitor's widget says so.
/// Closing a closed one is not an error.
async fn close(State(app): State<Arc<App>>, Path(sid): Path<String>) -> Response {
    let service = match app.world().model.conversation(&sid) {
        None => return error(StatusCode::NOT_FOUND, format!("no conversation {sid}")),
        Some(c) if c.state == "closed" => {
            return Json(json!({"sid": c.sid, "state": c.state})).into_response()
        }
        Some(c) => c.service_sid.clone(),
    };
    let origin = Origin::Sdk {
        identity: AGENT.to_owned(),
    };
    let update = ConversationUpdate {
        state: Some("closed".into()),
        ..ConversationUpdate::default()
    };
    match app.write(origin, |m| m.update_conversation(&service, &sid, update)) {
        Ok(c) => Json(json!({"sid": c.sid, "state": c.state})).into_response(),
        Err(e) => error(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.message,
        ),
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}
