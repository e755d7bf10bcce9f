//! The realtime channel for the browser SDK stand-in (`GET /_sdk/realtime`, a WebSocket): what
//! the Conversations SDK does over Twilio's own realtime connection, in a small JSON protocol.
//!
//! - The client's first frame is `{"op": "auth", "token": "<access token>"}`; the token is checked
//!   as Twilio checks it (`sdk::verify`). `{"op": "updateToken", "token"}` replaces it later.
//! - Requests `{"id": n, "op": ..., ...}` get `{"id": n, "result": ...}` or
//!   `{"id": n, "error": {"status", "code", "message"}}`. Ops: `createConversation`
//!   {friendlyName?, attributes?}, `join` {sid}, `getConversation` {sid}, `getMessages`
//!   {sid, pageSize, before?}, `sendMessage` {sid, body, attributes?}, `typing` {sid},
//!   `setAllMessagesRead` {sid}, `getParticipants` {sid}.
//! - Pushed events `{"event": ..., ...}`: `messageAdded`, `typingStarted`, `participantUpdated`,
//!   `conversationUpdated`, `conversationRemoved` (for conversations the client is in), and
//!   `tokenAboutToExpire` / `tokenExpired` for its own token.
//!
//! Actions fire the same webhooks as the SDK routes (`Source=SDK`, `ClientIdentity`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::model::{Conversation, Message, Participant};
use crate::rest::{add_participant, append_message, insert_conversation, participant_event};
use crate::sdk::{verify, Client};
use crate::App;

/// Something happened in a conversation that connected clients may need to see.
#[derive(Clone, Debug)]
pub enum Push {
    MessageAdded {
        conversation: String,
        message: Message,
    },
    Typing {
        conversation: String,
        identity: String,
    },
    ParticipantUpdated {
        conversation: String,
        participant: Participant,
    },
    ConversationUpdated {
        conversation: Box<Conversation>,
    },
    ConversationRemoved {
        conversation: String,
    },
}

impl Push {
    fn conversation_sid(&self) -> &str {
        match self {
            Push::MessageAdded { conversation, .. }
            | Push::Typing { conversation, .. }
            | Push::ParticipantUpdated { conversation, .. }
            | Push::ConversationRemoved { conversation } => conversation,
            Push::ConversationUpdated { conversation } => &conversation.sid,
        }
    }
}

pub fn channel() -> broadcast::Sender<Push> {
    broadcast::channel(1024).0
}

impl App {
    pub fn push(&self, push: Push) {
        // No subscriber is fine: nobody is connected.
        let _ = self.realtime.send(push);
    }
}

pub fn message_json(m: &Message) -> Value {
    json!({
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "attributes": serde_json::from_str::<Value>(&m.attributes).unwrap_or(json!({})),
        "participantSid": m.participant_sid,
        "dateCreated": m.date_created,
    })
}

fn conversation_json(c: &Conversation) -> Value {
    json!({
        "sid": c.sid,
        "friendlyName": c.friendly_name,
        "uniqueName": c.unique_name,
        "attributes": serde_json::from_str::<Value>(&c.attributes).unwrap_or(json!({})),
        "state": c.state,
        "dateCreated": c.date_created,
        "dateUpdated": c.date_updated,
        "lastMessageIndex": c.messages.last().map(|m| m.index),
    })
}

fn participant_json(p: &Participant) -> Value {
    json!({
        "sid": p.sid,
        "identity": p.identity,
        "attributes": serde_json::from_str::<Value>(&p.attributes).unwrap_or(json!({})),
        "lastReadMessageIndex": p.last_read_message_index,
    })
}

fn error(status: u16, code: u32, message: impl Into<String>) -> Value {
    json!({"status": status, "code": code, "message": message.into()})
}

fn not_found() -> Value {
    error(404, 50350, "Conversation not found")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub async fn upgrade(State(app): State<Arc<App>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(app, socket))
}

/// A connected client: its identity once authenticated, and when its token expires.
struct Session {
    client: Option<Client>,
    /// The identity of the first token: later tokens must keep it, even after an expiry.
    identity: Option<String>,
    expires_at: u64,
    warned: bool,
}

async fn session(app: Arc<App>, mut socket: WebSocket) {
    let mut pushes = app.realtime.subscribe();
    let mut s = Session {
        client: None,
        identity: None,
        expires_at: 0,
        warned: false,
    };
    let mut clock = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                let text = match frame {
                    Frame::Text(t) => t.to_string(),
                    Frame::Close(_) => break,
                    _ => continue,
                };
                let reply = handle(&app, &mut s, &text);
                if socket.send(Frame::Text(reply.to_string().into())).await.is_err() {
                    break;
                }
            }
            push = pushes.recv() => {
                let push = match push {
                    Ok(p) => p,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                if let Some(event) = visible(&app, &s, &push) {
                    if socket.send(Frame::Text(event.to_string().into())).await.is_err() {
                        break;
                    }
                }
            }
            _ = clock.tick() => {
                if let Some(event) = token_event(&mut s) {
                    if socket.send(Frame::Text(event.to_string().into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

/// `tokenAboutToExpire` when a fifth of a minute-or-more token's life remains (3 minutes at
/// most, as the SDK warns), then `tokenExpired`, after which requests are refused.
fn token_event(s: &mut Session) -> Option<Value> {
    s.client.as_ref()?;
    let now = now_secs();
    if now >= s.expires_at {
        s.client = None;
        return Some(json!({"event": "tokenExpired"}));
    }
    let warn_before = 180.min(s.expires_at.saturating_sub(now).max(1) / 5 + 1);
    if !s.warned && now + warn_before >= s.expires_at {
        s.warned = true;
        return Some(json!({"event": "tokenAboutToExpire"}));
    }
    None
}

/// The push as this client sees it, if it is in the conversation (and not the one typing).
fn visible(app: &App, s: &Session, push: &Push) -> Option<Value> {
    let client = s.client.as_ref()?;
    let member = {
        let state = app.state.lock().unwrap();
        let service = state.services.get(&client.service_sid)?;
        service
            .conversations
            .iter()
            .find(|c| c.sid == push.conversation_sid())
            .map(|c| {
                c.participants
                    .iter()
                    .any(|p| p.identity.as_deref() == Some(client.identity.as_str()))
            })
    };
    // A removed conversation is no longer in the state; tell everyone (the SDK drops it).
    if member == Some(false) {
        return None;
    }
    if member.is_none() && !matches!(push, Push::ConversationRemoved { .. }) {
        return None;
    }
    Some(match push {
        Push::MessageAdded {
            conversation,
            message,
        } => {
            json!({"event": "messageAdded", "conversation": conversation, "message": message_json(message)})
        }
        Push::Typing {
            conversation,
            identity,
        } => {
            if identity == &client.identity {
                return None;
            }
            json!({"event": "typingStarted", "conversation": conversation, "identity": identity})
        }
        Push::ParticipantUpdated {
            conversation,
            participant,
        } => {
            json!({"event": "participantUpdated", "conversation": conversation, "participant": participant_json(participant)})
        }
        Push::ConversationUpdated { conversation } => {
            json!({"event": "conversationUpdated", "conversation": conversation.sid, "state": conversation_json(conversation)})
        }
        Push::ConversationRemoved { conversation } => {
            json!({"event": "conversationRemoved", "conversation": conversation})
        }
    })
}

fn handle(app: &Arc<App>, s: &mut Session, text: &str) -> Value {
    let request: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return json!({"error": error(400, 20001, format!("not JSON: {e}"))}),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let op = request.get("op").and_then(Value::as_str).unwrap_or("");
    let outcome = match op {
        "auth" | "updateToken" => authenticate(app, s, &request),
        _ => match &s.client {
            None => Err(error(
                401,
                20101,
                "Invalid Access Token: authenticate first (or the token expired)",
            )),
            Some(client) => operate(app, client, op, &request),
        },
    };
    match outcome {
        Ok(result) => json!({"id": id, "result": result}),
        Err(error) => json!({"id": id, "error": error}),
    }
}

fn authenticate(app: &App, s: &mut Session, request: &Value) -> Result<Value, Value> {
    let token = request
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| error(400, 20001, "token is required"))?;
    let now = now_secs();
    let client = verify(app, token, now).map_err(|_| error(401, 20101, "Invalid Access Token"))?;
    if s.identity.as_ref().is_some_and(|i| i != &client.identity) {
        return Err(error(401, 20101, "updateToken must keep the same identity"));
    }
    s.identity = Some(client.identity.clone());
    let expires_at = expiry(token).unwrap_or(now);
    s.expires_at = expires_at;
    s.warned = false;
    let identity = client.identity.clone();
    s.client = Some(client);
    Ok(json!({"identity": identity, "expiresAt": expires_at}))
}

/// The `exp` claim of a token that `verify` accepted.
fn expiry(token: &str) -> Option<u64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()
}

fn sid_of(request: &Value) -> Result<&str, Value> {
    request
        .get("sid")
        .and_then(Value::as_str)
        .ok_or_else(|| error(400, 20001, "sid is required"))
}

fn in_conversation<T>(
    app: &App,
    client: &Client,
    sid: &str,
    member: bool,
    f: impl FnOnce(&mut Conversation) -> Result<T, Value>,
) -> Result<T, Value> {
    crate::sdk::in_client_conversation(app, client, sid, member, not_found, f)
}

fn operate(app: &Arc<App>, client: &Client, op: &str, request: &Value) -> Result<Value, Value> {
    let sdk = || ("SDK", Some(client.identity.clone()));
    match op {
        "createConversation" => {
            let mut c = Conversation::new(
                &client.service_sid,
                request
                    .get("friendlyName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            );
            if let Some(a) = request.get("attributes") {
                c.attributes = a.to_string();
            }
            let c = insert_conversation(app, &client.service_sid, c, Some(sdk()))
                .map_err(|_| error(400, 20001, "could not create the conversation"))?;
            Ok(conversation_json(&c))
        }
        "join" => {
            let (c, p) = in_conversation(app, client, sid_of(request)?, false, |c| {
                if c.state == "closed" {
                    return Err(error(400, 50446, "Conversation is closed"));
                }
                if let Some(p) = c
                    .participants
                    .iter()
                    .find(|p| p.identity.as_deref() == Some(client.identity.as_str()))
                {
                    return Ok((c.clone(), p.clone()));
                }
                let p = add_participant(c, &client.identity, None)
                    .map_err(|_| error(409, 50433, "Participant already exists"))?;
                Ok((c.clone(), p))
            })?;
            app.announce_in(
                &client.service_sid,
                participant_event("SDK", Some(client.identity.clone()), &c, &p),
                &c,
            );
            Ok(participant_json(&p))
        }
        "getConversation" => in_conversation(app, client, sid_of(request)?, true, |c| {
            // As the SDK does: the caller's own read horizon comes with the conversation.
            let mut json = conversation_json(c);
            let me = c
                .participants
                .iter()
                .find(|p| p.identity.as_deref() == Some(client.identity.as_str()));
            json["lastReadMessageIndex"] = json!(me.and_then(|p| p.last_read_message_index));
            Ok(json)
        }),
        "getParticipants" => in_conversation(app, client, sid_of(request)?, true, |c| {
            Ok(Value::Array(
                c.participants.iter().map(participant_json).collect(),
            ))
        }),
        "getMessages" => {
            let size = request
                .get("pageSize")
                .and_then(Value::as_u64)
                .unwrap_or(30)
                .clamp(1, 100) as usize;
            let before = request.get("before").and_then(Value::as_u64);
            in_conversation(app, client, sid_of(request)?, true, |c| {
                let older: Vec<&Message> = c
                    .messages
                    .iter()
                    .filter(|m| before.is_none_or(|b| m.index < b))
                    .collect();
                let start = older.len().saturating_sub(size);
                let items: Vec<Value> = older[start..].iter().map(|m| message_json(m)).collect();
                Ok(json!({"items": items, "hasPrevPage": start > 0}))
            })
        }
        "sendMessage" => {
            let body = request
                .get("body")
                .and_then(Value::as_str)
                .filter(|b| !b.trim().is_empty())
                .ok_or_else(|| error(400, 20001, "body must not be empty"))?
                .to_owned();
            let attributes = request.get("attributes").map(Value::to_string);
            let (c, m) = in_conversation(app, client, sid_of(request)?, true, |c| {
                if c.state == "closed" {
                    return Err(error(400, 50446, "Conversation is closed"));
                }
                let m = append_message(c, client.identity.clone(), Some(body), attributes);
                Ok((c.clone(), m))
            })?;
            app.message_added(&c, &m, Some(sdk()));
            Ok(json!(m.index))
        }
        "typing" => {
            let sid = sid_of(request)?.to_owned();
            in_conversation(app, client, &sid, true, |_| Ok(()))?;
            app.push(Push::Typing {
                conversation: sid,
                identity: client.identity.clone(),
            });
            Ok(Value::Null)
        }
        "setAllMessagesRead" => {
            let sid = sid_of(request)?.to_owned();
            let p = in_conversation(app, client, &sid, true, |c| {
                let last = c.messages.last().map(|m| m.index);
                let p = c
                    .participants
                    .iter_mut()
                    .find(|p| p.identity.as_deref() == Some(client.identity.as_str()))
                    .ok_or_else(not_found)?;
                if last.is_some() {
                    p.last_read_message_index = last;
                }
                Ok(p.clone())
            })?;
            app.push(Push::ParticipantUpdated {
                conversation: sid,
                participant: p.clone(),
            });
            Ok(json!(p.last_read_message_index))
        }
        other => Err(error(400, 20001, format!("unknown op {other:?}"))),
    }
}
