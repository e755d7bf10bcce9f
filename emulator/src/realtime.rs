//! The realtime channel of the browser SDK stand-in (`GET /_sdk/realtime`, a WebSocket) in a
//! small JSON protocol of our own. It exists only for `emulator/sdk/standin.ts` and goes with it
//! once the widget runs the real SDK over twilsock (`crate::twilsock`).
//!
//! - The client's first frame is `{"op": "auth", "token": "<access token>"}`; the token is checked
//!   as Twilio checks it. `{"op": "updateToken", "token"}` replaces it later.
//! - Requests `{"id": n, "op": ..., ...}` get `{"id": n, "result": ...}` or
//!   `{"id": n, "error": {"status", "code", "message"}}`. Ops: `createConversation`
//!   {friendlyName?, attributes?}, `join` {sid}, `getConversation` {sid}, `getMessages`
//!   {sid, pageSize, before?}, `sendMessage` {sid, body, attributes?}, `typing` {sid},
//!   `setAllMessagesRead` {sid}, `getParticipants` {sid}.
//! - Pushed events `{"event": ..., ...}`: `messageAdded`, `typingStarted`, `participantUpdated`,
//!   `conversationUpdated`, `conversationRemoved` (for conversations the client is in), and
//!   `tokenAboutToExpire` / `tokenExpired` for its own token.
//!
//! Writes go through the model as the client (`Source=SDK`); pushes come from its changes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::app::{App, Origin, World};
use crate::model::{Change, Conversation, Message, NewConversation, Participant, TwilioError};
use crate::tokens::{self, Client};

/// Something happened in a conversation that connected clients may need to see.
#[derive(Clone, Debug)]
enum Push {
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

    /// What a change means for the stand-in's clients.
    fn from_change(world: &World, change: &Change) -> Option<Push> {
        let model = &world.model;
        Some(match change {
            Change::MessageAdded {
                conversation,
                index,
            } => Push::MessageAdded {
                conversation: conversation.clone(),
                message: model.conversation(conversation)?.message(*index)?.clone(),
            },
            Change::Typing {
                conversation,
                identity,
            } => Push::Typing {
                conversation: conversation.clone(),
                identity: identity.clone(),
            },
            Change::ParticipantUpdated {
                conversation,
                participant,
            } => Push::ParticipantUpdated {
                conversation: conversation.clone(),
                participant: model
                    .conversation(conversation)?
                    .participant_by_sid(participant)?
                    .clone(),
            },
            Change::ConversationUpdated { conversation, .. } => {
                let mut c = model.conversation(conversation)?.clone();
                c.messages.clear();
                Push::ConversationUpdated {
                    conversation: Box::new(c),
                }
            }
            Change::ConversationRemoved { conversation } => Push::ConversationRemoved {
                conversation: conversation.sid.clone(),
            },
            _ => return None,
        })
    }
}

/// The stand-in channel's fan-out.
pub struct Legacy {
    app: Arc<App>,
    pushes: broadcast::Sender<Push>,
}

impl Legacy {
    pub fn start(app: Arc<App>) -> Arc<Legacy> {
        let legacy = Arc::new(Legacy {
            app: app.clone(),
            pushes: broadcast::channel(1024).0,
        });
        let tx = legacy.pushes.clone();
        app.observe(Box::new(move |world, change, _| {
            if let Some(push) = Push::from_change(world, change) {
                // No subscriber is fine: nobody is connected.
                let _ = tx.send(push);
            }
        }));
        legacy
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
        "lastMessageIndex": c.next_index.checked_sub(1),
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

fn refusal(e: TwilioError) -> Value {
    error(e.status, e.code, e.message)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub async fn upgrade(State(legacy): State<Arc<Legacy>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(legacy, socket))
}

/// A connected client: its identity once authenticated, and when its token expires.
struct Session {
    client: Option<Client>,
    /// The identity of the first token: later tokens must keep it, even after an expiry.
    identity: Option<String>,
    expires_at: u64,
    warned: bool,
}

async fn session(legacy: Arc<Legacy>, mut socket: WebSocket) {
    let app = legacy.app.clone();
    let mut pushes = legacy.pushes.subscribe();
    let mut s = Session {
        client: None,
        identity: None,
        expires_at: 0,
        warned: false,
    };
    let mut clock = tokio::time::interval(Duration::from_millis(500));
    loop {
        let out = tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                match frame {
                    Frame::Text(t) => Some(handle(&app, &mut s, &t)),
                    Frame::Close(_) => break,
                    _ => None,
                }
            }
            push = pushes.recv() => match push {
                Ok(p) => visible(&app, &s, &p),
                Err(broadcast::error::RecvError::Lagged(_)) => None,
                Err(_) => break,
            },
            _ = clock.tick() => token_event(&mut s),
        };
        if let Some(out) = out {
            if socket
                .send(Frame::Text(out.to_string().into()))
                .await
                .is_err()
            {
                break;
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
        let world = app.world();
        world
            .model
            .conversation(push.conversation_sid())
            .filter(|c| c.service_sid == client.service_sid)
            .map(|c| c.participant(&client.identity).is_some())
    };
    // A removed conversation is no longer in the model; tell everyone (the SDK drops it).
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

fn handle(app: &App, s: &mut Session, text: &str) -> Value {
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
    let client = tokens::verify(&app.account, &app.world().model, token)
        .map_err(|_| error(401, 20101, "Invalid Access Token"))?;
    if s.identity.as_ref().is_some_and(|i| i != &client.identity) {
        return Err(error(401, 20101, "updateToken must keep the same identity"));
    }
    s.identity = Some(client.identity.clone());
    s.expires_at = client.expires_at;
    s.warned = false;
    let out = json!({"identity": client.identity, "expiresAt": client.expires_at});
    s.client = Some(client);
    Ok(out)
}

fn sid_of(request: &Value) -> Result<&str, Value> {
    request
        .get("sid")
        .and_then(Value::as_str)
        .ok_or_else(|| error(400, 20001, "sid is required"))
}

/// Reads a conversation the client is in (others are "not found", as the SDK sees them).
fn member_read<T>(
    app: &App,
    client: &Client,
    sid: &str,
    f: impl FnOnce(&Conversation) -> T,
) -> Result<T, Value> {
    let world = app.world();
    world
        .model
        .find(&client.service_sid, sid)
        .ok()
        .filter(|c| c.participant(&client.identity).is_some())
        .map(f)
        .ok_or_else(|| error(404, 50350, "Conversation not found"))
}

fn operate(app: &App, client: &Client, op: &str, request: &Value) -> Result<Value, Value> {
    let origin = || Origin::Sdk {
        identity: client.identity.clone(),
    };
    let service = client.service_sid.as_str();
    let me = client.identity.as_str();
    match op {
        "createConversation" => {
            let new = NewConversation {
                friendly_name: request
                    .get("friendlyName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                attributes: request.get("attributes").map(Value::to_string),
                created_by: Some(me.to_owned()),
                ..Default::default()
            };
            let c = app
                .write(origin(), |m| m.create_conversation(service, new))
                .map_err(refusal)?;
            Ok(conversation_json(&c))
        }
        "join" => {
            let sid = sid_of(request)?;
            // Joining twice is fine here: the stand-in's callers re-join on resume.
            if let Ok(p) = member_read(app, client, sid, |c| c.participant(me).cloned()) {
                return Ok(participant_json(&p.expect("a member")));
            }
            let p = app
                .write(origin(), |m| {
                    m.add_participant(service, sid, me, None, true)
                })
                .map_err(|e| {
                    if e.status == 404 {
                        error(404, 50350, "Conversation not found")
                    } else {
                        refusal(e)
                    }
                })?;
            Ok(participant_json(&p))
        }
        "getConversation" => member_read(app, client, sid_of(request)?, |c| {
            // As the SDK does: the caller's own read horizon comes with the conversation.
            let mut json = conversation_json(c);
            json["lastReadMessageIndex"] =
                json!(c.participant(me).and_then(|p| p.last_read_message_index));
            json
        }),
        "getParticipants" => member_read(app, client, sid_of(request)?, |c| {
            Value::Array(c.participants.iter().map(participant_json).collect())
        }),
        "getMessages" => {
            let size = request
                .get("pageSize")
                .and_then(Value::as_u64)
                .unwrap_or(30)
                .clamp(1, 100) as usize;
            let before = request.get("before").and_then(Value::as_u64);
            member_read(app, client, sid_of(request)?, |c| {
                let older: Vec<&Message> = c
                    .messages
                    .iter()
                    .filter(|m| before.is_none_or(|b| m.index < b))
                    .collect();
                let start = older.len().saturating_sub(size);
                let items: Vec<Value> = older[start..].iter().map(|m| message_json(m)).collect();
                json!({"items": items, "hasPrevPage": start > 0})
            })
        }
        "sendMessage" => {
            let body = request
                .get("body")
                .and_then(Value::as_str)
                .filter(|b| !b.trim().is_empty())
                .ok_or_else(|| error(400, 20001, "body must not be empty"))?
                .to_owned();
            let sid = sid_of(request)?;
            member_read(app, client, sid, |_| ())?;
            let attributes = request.get("attributes").map(Value::to_string);
            let m = app
                .write(origin(), |m| {
                    m.append_message(service, sid, me, Some(body), attributes, true)
                })
                .map_err(refusal)?;
            Ok(json!(m.index))
        }
        "typing" => {
            let sid = sid_of(request)?;
            member_read(app, client, sid, |_| ())?;
            app.write(origin(), |m| m.typing(service, sid, me))
                .map_err(refusal)?;
            Ok(Value::Null)
        }
        "setAllMessagesRead" => {
            let sid = sid_of(request)?;
            let last = member_read(app, client, sid, |c| c.next_index.checked_sub(1))?;
            let p = match last {
                Some(last) => app
                    .write(origin(), |m| {
                        m.set_read_horizon(service, sid, me, Some(last))
                    })
                    .map_err(refusal)?,
                None => member_read(app, client, sid, |c| {
                    c.participant(me).cloned().expect("a member")
                })?,
            };
            Ok(json!(p.last_read_message_index))
        }
        other => Err(error(400, 20001, format!("unknown op {other:?}"))),
    }
}

pub fn router(legacy: Arc<Legacy>) -> axum::Router {
    axum::Router::new()
        .route("/_sdk/realtime", axum::routing::get(upgrade))
        .with_state(legacy)
}
