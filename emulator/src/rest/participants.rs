//! A conversation made with its participants in one request (`ConversationWithParticipants`,
//! each participant with its role) and the conversations a user is in
//! (`ParticipantConversations`), in Twilio's JSON.
//!
//! Why one write for the first: a backend that starts a visitor's conversation for them (the
//! least-privilege setup, where visitors may not create or join) must never leave a
//! conversation without its participants, and webhooks and Sync see it whole.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{conversation_json, created, page, refused, Ctx};
use crate::app::App;
use crate::http::{twilio_error, Form};
use crate::model::{
    Conversation, NewConversation, NewParticipant, Participant, State as Model, TwilioError,
};

/// A string field under either of its names (`roleSid` or `role_sid`).
fn either<'a>(o: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    o.get(camel).or_else(|| o.get(snake))
}

/// One `Participant` value: a JSON object with `identity`, and optionally `roleSid` (or
/// `role_sid`) and `attributes` (a JSON string, or an object taken as its text).
fn participant_from(raw: &str) -> Result<NewParticipant, TwilioError> {
    let invalid = |why: &str| TwilioError::invalid(format!("Participant {raw:?}: {why}"));
    let value: Value = serde_json::from_str(raw).map_err(|_| invalid("not JSON"))?;
    let o = value
        .as_object()
        .ok_or_else(|| invalid("not a JSON object"))?;
    let identity = o.get("identity").and_then(Value::as_str).ok_or_else(|| {
        invalid("identity is required (SMS and WhatsApp bindings are not emulated)")
    })?;
    let role_sid = match either(o, "roleSid", "role_sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid("roleSid must be a string")),
    };
    let attributes = match o.get("attributes") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(NewParticipant {
        identity: identity.to_owned(),
        attributes,
        role_sid,
    })
}

/// `POST .../ConversationWithParticipants`: `FriendlyName`, `UniqueName`, `Attributes`,
/// `State`, `Participant` (repeated); 201 with the conversation. Announced to webhooks
/// (`onConversationAdded`, `onParticipantAdded` for each) with `X-Twilio-Webhook-Enabled: true`.
pub(super) async fn create_with_participants(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let participants: Result<Vec<NewParticipant>, TwilioError> = form
        .all("Participant")
        .iter()
        .map(|p| participant_from(p))
        .collect();
    let participants = match participants {
        Ok(p) => p,
        Err(e) => return refused(&ctx, e),
    };
    let new = NewConversation {
        friendly_name: form.get("FriendlyName").map(str::to_owned),
        unique_name: form.get("UniqueName").map(str::to_owned),
        attributes: form.get("Attributes").map(str::to_owned),
        state: form.get("State").map(str::to_owned),
        created_by: None,
    };
    match app.write(ctx.origin(), |m| {
        m.create_conversation_with(&ctx.service, new, participants)
    }) {
        Ok(c) => created(conversation_json(&c, &app.account, &ctx.urls)),
        Err(e) => refused(&ctx, e),
    }
}

fn participant_conversation_json(
    model: &Model,
    c: &Conversation,
    p: &Participant,
    app: &App,
    ctx: &Ctx,
) -> Value {
    let user_sid = p
        .identity
        .as_deref()
        .and_then(|i| model.user(&ctx.service, i))
        .map(|u| u.sid.clone());
    let conversation = ctx.urls.conversation(&c.sid);
    json!({
        "account_sid": app.account.account_sid,
        "chat_service_sid": c.service_sid,
        "participant_sid": p.sid,
        "participant_user_sid": user_sid,
        "participant_identity": p.identity,
        "participant_messaging_binding": null,
        "conversation_sid": c.sid,
        "conversation_unique_name": c.unique_name,
        "conversation_friendly_name": c.friendly_name,
        "conversation_attributes": c.attributes,
        "conversation_date_created": c.date_created,
        "conversation_date_updated": c.date_updated,
        "conversation_created_by": c.created_by,
        "conversation_state": c.state,
        "conversation_timers": {},
        "links": {
            "participant": format!("{conversation}/Participants/{}", p.sid),
            "conversation": conversation,
        },
    })
}

/// `GET .../ParticipantConversations?Identity=…` (required): each conversation that identity
/// is a participant of, in creation order.
pub(super) async fn list_participant_conversations(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(identity) = query.get("Identity").filter(|i| !i.is_empty()) else {
        return twilio_error(400, 20001, "Identity is required (Address is not emulated)");
    };
    let items: Result<Vec<Value>, TwilioError> = {
        let world = app.world();
        let model = &world.model;
        model.participations(&ctx.service, identity).map(|found| {
            found
                .into_iter()
                .map(|(c, p)| participant_conversation_json(model, c, p, &app, &ctx))
                .collect()
        })
    };
    match items {
        Ok(items) => page(items, "conversations", &ctx, &query),
        Err(e) => refused(&ctx, e),
    }
}
