//! The agent console (`GET /_emulator/console`): a page where whoever runs `npm start` answers
//! visitors as an agent. It lists every conversation with its messages and posts replies as
//! `agent:console`, who joins the conversation on the first reply. A reply reaches the visitor
//! live through the realtime channel and fires `onMessageAdded` like an agent's SDK message.
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

use crate::realtime::message_json;
use crate::rest::{add_participant, append_message};
use crate::App;

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
        .with_state(app)
}

async fn page() -> Html<&'static str> {
    Html(include_str!("console.html"))
}

/// Every conversation, newest activity first, with its participants and messages.
async fn conversations(State(app): State<Arc<App>>) -> Json<Value> {
    let state = app.state.lock().unwrap();
    let mut all: Vec<(&str, Value)> = state
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
    let result = {
        let mut state = app.state.lock().unwrap();
        let conversation = state
            .services
            .values_mut()
            .flat_map(|s| s.conversations.iter_mut())
            .find(|c| c.sid == sid);
        match conversation {
            None => Err(error(
                StatusCode::NOT_FOUND,
                format!("no conversation {sid}"),
            )),
            Some(c) if c.state == "closed" => Err(error(
                StatusCode::CONFLICT,
                "the conversation is closed".into(),
            )),
            Some(c) => {
                if !c
                    .participants
                    .iter()
                    .any(|p| p.identity.as_deref() == Some(AGENT))
                {
                    let _ = add_participant(c, AGENT, None);
                }
                let m = append_message(c, AGENT.to_owned(), Some(reply.body), None);
                Ok((c.clone(), m))
            }
        }
    };
    match result {
        Ok((c, m)) => {
            app.message_added(&c, &m, Some(("SDK", Some(AGENT.to_owned()))));
            (StatusCode::CREATED, Json(message_json(&m))).into_response()
        }
        Err(r) => r,
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}
