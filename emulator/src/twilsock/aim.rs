//! The Conversations client API ("aim") as the SDK calls it through the twilsock tunnel. Only
//! `Client/v2/Configuration` is fixed by the SDK; every other URL is one of the `links` that
//! answer gives, so the routes below are the emulator's choice (they follow the test server the
//! SDK was checked against). Writes go through the model's client actions as the caller
//! (`Source=SDK`), each checked against the caller's roles there (refused 403 50107 naming the
//! permission, as Twilio refuses); what they change reaches clients as Sync events, not in these
//! answers.

use serde_json::{json, Value};

use super::{Caller, Reply, Request};
use crate::app::{App, Origin, World};
use crate::model::{
    Conversation, ConversationUpdate, NewConversation, NewParticipant, TwilioError, UserUpdate,
};
use crate::projection::TYPING_TIMEOUT_SECONDS;

/// Conversations per page of the caller's list.
const MY_CONVERSATIONS_PAGE: usize = 50;

pub fn route(app: &App, caller: &Caller, req: &Request) -> Option<Reply> {
    let segments: Vec<&str> = req.segments();
    let method = req.method.as_str();
    let result = match (method, segments.as_slice()) {
        ("GET", ["Client", "v2", "Configuration"]) => Ok(configuration(app, caller, req)),
        ("GET", ["Client", "v2", "Users", "Me", "Conversations"]) => {
            my_conversations(app, caller, req)
        }
        ("GET", ["Client", "v2", "Users", "Me", "Conversations", sid]) => {
            my_conversation(app, caller, req, sid)
        }
        ("POST", ["Client", "v2", "Users", "Me", "Conversations", sid]) => {
            set_my_conversation(app, caller, req, sid)
        }
        ("POST", ["Client", "v2", "Conversations"]) => create(app, caller, req),
        ("GET", ["Client", "v2", "Conversations", sid]) => peek(app, caller, req, sid),
        ("POST", ["Client", "v2", "Conversations", sid]) => update(app, caller, req, sid),
        ("DELETE", ["Client", "v2", "Conversations", sid]) => delete(app, caller, sid),
        ("POST", ["Client", "v2", "Conversations", sid, "Participants"]) => {
            add_participant(app, caller, req, sid)
        }
        ("DELETE", ["Client", "v2", "Conversations", sid, "Participants", who]) => {
            remove_participant(app, caller, sid, who)
        }
        ("POST", ["Client", "v2", "Conversations", sid, "Messages"]) => send(app, caller, req, sid),
        ("POST", ["Client", "v2", "Typing"]) => typing(app, caller, req),
        ("GET", ["Client", "v2", "Users", identity]) => user(app, caller, req, identity),
        ("POST", ["Client", "v2", "Users", identity]) => update_user(app, caller, req, identity),
        _ => return None,
    };
    Some(result.unwrap_or_else(|e| Reply::error(&e)))
}

fn base(req: &Request) -> String {
    format!("https://{}/Client/v2", req.host)
}

fn configuration(app: &App, caller: &Caller, req: &Request) -> Reply {
    let world = app.world();
    let names = |f: fn(&crate::projection::UserObjects) -> &String| {
        world
            .projection
            .user_objects(&caller.service, &caller.identity)
            .and_then(|u| world.projection.unique_name(f(u)))
            .unwrap_or_default()
            .to_owned()
    };
    let base = base(req);
    Reply::ok(json!({
        "identity": caller.identity,
        "url": format!("{base}/Configuration"),
        "options": {
            "consumption_report_interval": "PT5S",
            "user_infos_to_subscribe": 100,
            "reachability_enabled": false,
            "http_cache_interval": "PT5S",
            "my_conversations_page_size": MY_CONVERSATIONS_PAGE,
            "media_attachments_count_limit": 10,
            "media_attachment_size_limit_in_mb": 16,
            "media_attachments_total_size_limit_in_mb": 16,
            "email_histories_allowed_mime_types": [],
            "email_bodies_allowed_mime_types": [],
        },
        "sync_objects": {
            "my_conversations": names(|u| &u.my_conversations),
            "my_user_info": names(|u| &u.info),
        },
        "links": {
            "my_conversations": format!("{base}/Users/Me/Conversations"),
            "conversations": format!("{base}/Conversations"),
            "users": format!("{base}/Users"),
            "current_user": format!("{base}/Users/Me"),
            "typing": format!("{base}/Typing"),
            "messages_receipts": format!("{base}/Receipts"),
            // Media is not tunnelled: the SDK calls the media service over plain HTTP
            // (`crate::mcs`, on the emulator's own address).
            "media_service": format!("{}/v1/Services/{}/Media", app.public_base(), caller.service),
            "media_set_service": format!("{}/v1/Services/{}/MediaSet", app.public_base(), caller.service),
        },
    }))
}

/// The conversation as the client API describes it to `caller`; with `mine`, the caller's
/// read horizon, notification level and unread count too.
fn conversation_json(
    world: &World,
    c: &Conversation,
    caller: &Caller,
    base: &str,
    mine: bool,
) -> Value {
    let objects = world.projection.conversation_objects(&c.sid);
    let name = |sid: Option<&String>| {
        sid.and_then(|s| world.projection.unique_name(s))
            .map(str::to_owned)
    };
    let me = c.participant(&caller.identity);
    let url = format!("{base}/Conversations/{}", c.sid);
    let mut out = json!({
        "sid": c.sid,
        "conversation_sid": c.sid,
        "url": url,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "created_by": c.created_by,
        "date_created": c.date_created,
        "date_updated": c.date_updated,
        "state": {"current": c.state, "date_updated": c.state_updated},
        "status": if me.is_some() { "joined" } else { "notParticipating" },
        "participants_count": c.participants.len(),
        "messages_count": c.messages.len(),
        "sync_objects": {
            "conversation": name(objects.map(|o| &o.document)),
            "messages": name(objects.map(|o| &o.messages)),
            "participants": name(objects.map(|o| &o.roster)),
        },
        "links": {
            "messages": format!("{url}/Messages"),
            "participants": format!("{url}/Participants"),
        },
    });
    if mine {
        out["last_read_message_index"] = json!(me.and_then(|p| p.last_read_message_index));
        out["notification_level"] = json!("default");
        out["unread_messages_count"] = json!(c.unread_for(&caller.identity));
    }
    out
}

/// Conversation `sid` read back and answered with `status`, as `conversation_json` describes it
/// (`mine`: the caller must be a participant, and their horizon and unread count come with it).
fn conversation_reply(
    app: &App,
    caller: &Caller,
    req: &Request,
    sid: &str,
    status: u16,
    mine: bool,
) -> Result<Reply, TwilioError> {
    let world = app.world();
    let c = if mine {
        member(&world, caller, sid)?
    } else {
        in_service(&world, caller, sid)?
    };
    Ok(Reply::with_status(
        status,
        conversation_json(&world, c, caller, &base(req), mine),
    ))
}

fn in_service<'a>(
    world: &'a World,
    caller: &Caller,
    sid: &str,
) -> Result<&'a Conversation, TwilioError> {
    world.model.find(&caller.service, sid)
}

fn member<'a>(
    world: &'a World,
    caller: &Caller,
    sid: &str,
) -> Result<&'a Conversation, TwilioError> {
    let c = in_service(world, caller, sid)?;
    if c.participant(&caller.identity).is_none() {
        return Err(TwilioError::not_participant(&caller.identity));
    }
    Ok(c)
}

fn my_conversations(app: &App, caller: &Caller, req: &Request) -> Result<Reply, TwilioError> {
    let world = app.world();
    let offset: usize = match req.param("PageToken") {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| TwilioError::invalid("PageToken is not one this service gave out"))?,
    };
    let mine: Vec<&Conversation> = world
        .model
        .service(&caller.service)?
        .conversations
        .iter()
        .filter(|c| c.participant(&caller.identity).is_some())
        .collect();
    let base = base(req);
    let page: Vec<Value> = mine
        .iter()
        .skip(offset)
        .take(MY_CONVERSATIONS_PAGE)
        .map(|c| conversation_json(&world, c, caller, &base, true))
        .collect();
    let next = (offset + MY_CONVERSATIONS_PAGE < mine.len())
        .then(|| (offset + MY_CONVERSATIONS_PAGE).to_string());
    Ok(Reply::ok(
        json!({"conversations": page, "meta": {"next_token": next}}),
    ))
}

fn my_conversation(
    app: &App,
    caller: &Caller,
    req: &Request,
    sid: &str,
) -> Result<Reply, TwilioError> {
    // Not in the caller's list is "not found", not "forbidden".
    conversation_reply(app, caller, req, sid, 200, true).map_err(|e| {
        if e.status == 403 {
            TwilioError::conversation_not_found(sid)
        } else {
            e
        }
    })
}

/// The caller's read horizon (`last_read_message_index`, null to clear) or notification level.
fn set_my_conversation(
    app: &App,
    caller: &Caller,
    req: &Request,
    sid: &str,
) -> Result<Reply, TwilioError> {
    let body = req.json_object()?;
    if let Some(index) = body.get("last_read_message_index") {
        let index = match index {
            Value::Null => None,
            v => Some(v.as_u64().ok_or_else(|| {
                TwilioError::invalid("last_read_message_index must be a message index or null")
            })?),
        };
        app.write(caller.origin(), |m| {
            m.set_read_horizon(&caller.service, sid, &caller.identity, index)
        })?;
    } else if !body.contains_key("notification_level") {
        return Err(TwilioError::invalid(
            "give last_read_message_index or notification_level",
        ));
    }
    conversation_reply(app, caller, req, sid, 200, true)
}

fn attributes_of(body: &serde_json::Map<String, Value>) -> Result<Option<String>, TwilioError> {
    match body.get("attributes") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TwilioError::invalid("attributes must be a JSON string")),
    }
}

fn string_of(body: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn create(app: &App, caller: &Caller, req: &Request) -> Result<Reply, TwilioError> {
    let body = req.json_object()?;
    let new = NewConversation {
        friendly_name: string_of(&body, "friendly_name"),
        unique_name: string_of(&body, "unique_name").filter(|u| !u.is_empty()),
        attributes: attributes_of(&body)?,
        state: None,
        created_by: Some(caller.identity.clone()),
    };
    let c = app.write(caller.origin(), |m| {
        m.client_create_conversation(&caller.service, &caller.identity, new)
    })?;
    conversation_reply(app, caller, req, &c.sid, 201, false)
}

/// A participant, or a user who may join it, reads a conversation's properties by SID (the
/// SDK "peeks" one it is not in, answered `status: notParticipating`); anyone else is refused
/// (403 50107, so `getConversationBySid` rejects); a deleted one is 404.
fn peek(app: &App, caller: &Caller, req: &Request, sid: &str) -> Result<Reply, TwilioError> {
    app.world()
        .model
        .client_peek(&caller.service, sid, &caller.identity)?;
    conversation_reply(app, caller, req, sid, 200, false)
}

fn update(app: &App, caller: &Caller, req: &Request, sid: &str) -> Result<Reply, TwilioError> {
    let body = req.json_object()?;
    let update = ConversationUpdate {
        friendly_name: string_of(&body, "friendly_name"),
        unique_name: string_of(&body, "unique_name"),
        attributes: attributes_of(&body)?,
        state: None,
    };
    app.write(caller.origin(), |m| {
        m.client_update_conversation(&caller.service, sid, &caller.identity, update)
    })?;
    conversation_reply(app, caller, req, sid, 200, false)
}

/// Deletes the conversation, for a caller with `deleteConversation` (with the default roles:
/// its creator, once joined).
fn delete(app: &App, caller: &Caller, sid: &str) -> Result<Reply, TwilioError> {
    app.write(caller.origin(), |m| {
        m.client_delete_conversation(&caller.service, sid, &caller.identity)
    })?;
    Ok(Reply::with_status(204, Value::Null))
}

/// Joins (the caller's own identity) or adds someone else.
fn add_participant(
    app: &App,
    caller: &Caller,
    req: &Request,
    sid: &str,
) -> Result<Reply, TwilioError> {
    let body = req.json_object()?;
    let identity =
        string_of(&body, "identity").ok_or_else(|| TwilioError::invalid("identity is required"))?;
    let new = NewParticipant {
        identity,
        attributes: attributes_of(&body)?,
        role_sid: None,
    };
    let p = app.write(caller.origin(), |m| {
        m.client_add_participant(&caller.service, sid, &caller.identity, new)
    })?;
    let world = app.world();
    let c = in_service(&world, caller, sid)?;
    Ok(Reply::with_status(
        201,
        json!({
            "sid": p.sid,
            "conversation_sid": c.sid,
            "identity": p.identity,
            "attributes": p.attributes,
            "role_sid": p.role_sid,
            "date_created": p.date_created,
            "date_updated": p.date_updated,
            "messaging_binding": null,
        }),
    ))
}

/// Leaves (the caller's own identity) or removes someone.
fn remove_participant(
    app: &App,
    caller: &Caller,
    sid: &str,
    who: &str,
) -> Result<Reply, TwilioError> {
    app.write(caller.origin(), |m| {
        m.client_remove_participant(&caller.service, sid, &caller.identity, who)
    })?;
    Ok(Reply::with_status(204, Value::Null))
}

fn send(app: &App, caller: &Caller, req: &Request, sid: &str) -> Result<Reply, TwilioError> {
    let body = req.json_object()?;
    let media: Vec<String> = body
        .get("media_sids")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let text = string_of(&body, "body").filter(|t| !t.trim().is_empty());
    let attributes = attributes_of(&body)?;
    let m = if media.is_empty() {
        let Some(text) = text else {
            return Err(TwilioError::invalid("body must not be empty"));
        };
        app.write(caller.origin(), |model| {
            model.client_send(&caller.service, sid, &caller.identity, text, attributes)
        })?
    } else {
        app.write(caller.origin(), |model| {
            model.client_send_media(
                &caller.service,
                sid,
                &caller.identity,
                text,
                attributes,
                &media,
            )
        })?
    };
    Ok(Reply::with_status(
        201,
        json!({
            "sid": m.sid,
            "index": m.index,
            "body": m.body,
            "author": m.author,
            "attributes": m.attributes,
            "conversation_sid": sid,
            "date_created": m.date_created,
        }),
    ))
}

fn typing(app: &App, caller: &Caller, req: &Request) -> Result<Reply, TwilioError> {
    let sid = req
        .form_or_json("ChannelSid")
        .ok_or_else(|| TwilioError::invalid("ChannelSid is required"))?;
    app.write(caller.origin(), |m| {
        m.typing(&caller.service, &sid, &caller.identity)
    })?;
    Ok(Reply::ok(json!({"typing_timeout": TYPING_TIMEOUT_SECONDS})))
}

fn user(app: &App, caller: &Caller, req: &Request, identity: &str) -> Result<Reply, TwilioError> {
    let world = app.world();
    let identity = if identity == "Me" {
        caller.identity.as_str()
    } else {
        identity
    };
    let u = world
        .model
        .user(&caller.service, identity)
        .ok_or_else(|| TwilioError::new(404, 50200, format!("User {identity} not found")))?;
    let info = world
        .projection
        .user_objects(&caller.service, identity)
        .and_then(|o| world.projection.unique_name(&o.info))
        .map(str::to_owned);
    Ok(Reply::ok(json!({
        "sid": u.sid,
        "identity": u.identity,
        "friendly_name": u.friendly_name,
        "attributes": u.attributes,
        "is_online": null,
        "is_notifiable": null,
        "date_created": u.date_created,
        "date_updated": u.date_updated,
        "sync_objects": {"user_info_map": info},
        "links": {"self": format!("{}/Users/{}", base(req), u.identity)},
    })))
}

fn update_user(
    app: &App,
    caller: &Caller,
    req: &Request,
    identity: &str,
) -> Result<Reply, TwilioError> {
    let identity = if identity == "Me" {
        caller.identity.as_str()
    } else {
        identity
    };
    let body = req.json_object()?;
    let update = UserUpdate {
        friendly_name: string_of(&body, "friendly_name"),
        attributes: attributes_of(&body)?,
        role_sid: None,
    };
    app.write(caller.origin(), |m| {
        m.client_update_user(&caller.service, &caller.identity, identity, update)
    })?;
    user(app, caller, req, identity)
}

impl Caller {
    fn origin(&self) -> Origin {
        Origin::Sdk {
            identity: self.identity.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The tunnelled client API's error answers, natively: each refusal with Twilio's status and
    //! code, and nothing written when a request is refused.

    use serde_json::{json, Value};

    use super::route;
    use crate::app::{App, Origin};
    use crate::model::{
        Account, ConversationUpdate, NewConversation, NewParticipant, RoleKind, ServiceWebhooks,
        State, UserUpdate,
    };
    use crate::twilsock::codec::Frame;
    use crate::twilsock::{Caller, Reply, Request};

    const IS: &str = "IS00000000000000000000000000000001";

    fn app() -> App {
        let account = Account {
            account_sid: "AC00000000000000000000000000000001".into(),
            auth_token: "token".into(),
            api_key_sid: "SK00000000000000000000000000000001".into(),
            api_key_secret: "secret".into(),
        };
        App::new(
            account,
            State::new(vec![(IS.to_owned(), ServiceWebhooks::default())]),
        )
    }

    fn caller(identity: &str) -> Caller {
        Caller {
            conn: 1,
            identity: identity.into(),
            service: IS.into(),
        }
    }

    /// A conversation with `ana` in it, created over REST.
    fn conversation(app: &App) -> String {
        let api = Origin::Api { announce: false };
        let c = app
            .write(api.clone(), |m| {
                m.create_conversation(IS, NewConversation::default())
            })
            .unwrap();
        app.write(api, |m| {
            m.add_participant(IS, &c.sid, NewParticipant::identity("ana"), false)
        })
        .unwrap();
        c.sid
    }

    fn request(method: &str, path: &str, body: &[u8]) -> Request {
        let header = json!({
            "method": "message", "id": "TM1",
            "http_request": {"host": "aim.us1.twilio.com", "path": path, "method": method, "params": {}},
        });
        let frame = Frame {
            header: header.as_object().unwrap().clone(),
            payload: body.to_vec(),
        };
        Request::from_frame(&frame).unwrap()
    }

    fn call(app: &App, who: &str, method: &str, path: &str, body: Value) -> Reply {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        route(app, &caller(who), &request(method, path, &body)).expect("a route of the client API")
    }

    /// Twilio's error body: status, code and a message, the status the same as the answer's.
    fn refused(reply: &Reply, status: u16, code: u64, says: &str) {
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.body["status"], json!(status), "{}", reply.body);
        assert_eq!(reply.body["code"], json!(code), "{}", reply.body);
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }

    fn message_count(app: &App, sid: &str) -> usize {
        app.world().model.find(IS, sid).unwrap().messages.len()
    }

    /// A refused call: what it is, who, method, path, body, and the status, code and words expected.
    type Case<'a> = (&'a str, &'a str, &'a str, String, Value, u16, u64, &'a str);

    #[test]
    fn each_refusal_has_twilios_status_and_code_and_writes_nothing() {
        let app = app();
        let sid = conversation(&app);
        let messages = format!("/Client/v2/Conversations/{sid}/Messages");
        let cases: Vec<Case> = vec![
            (
                "a stranger sends",
                "bo",
                "POST",
                messages.clone(),
                json!({"body": "hi"}),
                403,
                50400,
                "bo is not a participant",
            ),
            (
                "an empty message",
                "ana",
                "POST",
                messages.clone(),
                json!({"body": "  "}),
                400,
                20001,
                "body must not be empty",
            ),
            (
                "no body at all",
                "ana",
                "POST",
                messages.clone(),
                json!(null),
                400,
                20001,
                "body must not be empty",
            ),
            (
                "media",
                "ana",
                "POST",
                messages.clone(),
                json!({"body": "x", "media_sids": ["ME1"]}),
                400,
                50513,
                "no media ME1",
            ),
            (
                "attributes that are not JSON",
                "ana",
                "POST",
                messages.clone(),
                json!({"body": "x", "attributes": "{nope"}),
                400,
                20001,
                "Attributes must be valid JSON",
            ),
            (
                "a missing conversation",
                "ana",
                "POST",
                "/Client/v2/Conversations/CH00000000000000000000000000000000/Messages".into(),
                json!({"body": "x"}),
                404,
                50350,
                "not found",
            ),
            (
                "typing where one is not",
                "bo",
                "POST",
                "/Client/v2/Typing".into(),
                json!({"ChannelSid": sid}),
                403,
                50400,
                "not a participant",
            ),
            (
                "typing with no conversation",
                "ana",
                "POST",
                "/Client/v2/Typing".into(),
                json!({}),
                400,
                20001,
                "ChannelSid is required",
            ),
            (
                "another's user",
                "ana",
                "POST",
                "/Client/v2/Users/bo".into(),
                json!({"friendly_name": "x"}),
                403,
                50107,
                "editAnyUserInfo",
            ),
            (
                "an unknown user",
                "ana",
                "GET",
                "/Client/v2/Users/nobody".into(),
                json!(null),
                404,
                50200,
                "User nobody not found",
            ),
        ];
        for (case, who, method, path, body, status, code, says) in cases {
            let reply = call(&app, who, method, &path, body);
            assert_eq!(reply.status, status, "{case}: {}", reply.body);
            refused(&reply, status, code, says);
        }
        assert_eq!(message_count(&app, &sid), 0, "no refused send was stored");
    }

    #[test]
    fn a_body_that_is_not_json_is_refused_as_such() {
        let app = app();
        let sid = conversation(&app);
        let req = request(
            "POST",
            &format!("/Client/v2/Conversations/{sid}/Messages"),
            b"{not json",
        );
        let reply = route(&app, &caller("ana"), &req).unwrap();
        refused(&reply, 400, 20001, "the body is not JSON");
        let req = request("POST", "/Client/v2/Conversations", b"[1, 2]");
        let reply = route(&app, &caller("ana"), &req).unwrap();
        refused(&reply, 400, 20001, "must be a JSON object");
    }

    #[test]
    fn a_closed_conversation_takes_no_message_and_an_open_one_does() {
        let app = app();
        let sid = conversation(&app);
        let messages = format!("/Client/v2/Conversations/{sid}/Messages");
        let sent = call(&app, "ana", "POST", &messages, json!({"body": "hello"}));
        assert_eq!(sent.status, 201, "{}", sent.body);
        assert_eq!(sent.body["index"], json!(0));
        let close = ConversationUpdate {
            state: Some("closed".into()),
            ..ConversationUpdate::default()
        };
        app.write(Origin::Api { announce: false }, |m| {
            m.update_conversation(IS, &sid, close)
        })
        .unwrap();
        let reply = call(&app, "ana", "POST", &messages, json!({"body": "again"}));
        refused(&reply, 400, 50446, "closed");
        assert_eq!(message_count(&app, &sid), 1);
    }

    #[test]
    fn a_taken_unique_name_is_a_conflict_and_unknown_routes_are_left_to_the_transport() {
        let app = app();
        let made = call(
            &app,
            "ana",
            "POST",
            "/Client/v2/Conversations",
            json!({"unique_name": "u1"}),
        );
        assert_eq!(made.status, 201, "{}", made.body);
        let again = call(
            &app,
            "bo",
            "POST",
            "/Client/v2/Conversations",
            json!({"unique_name": "u1"}),
        );
        refused(&again, 409, 50353, "already exists");
        let nowhere = route(
            &app,
            &caller("ana"),
            &request("GET", "/Client/v2/Nowhere", b""),
        );
        assert!(nowhere.is_none());
        let wrong_method = route(
            &app,
            &caller("ana"),
            &request("PUT", "/Client/v2/Conversations", b""),
        );
        assert!(wrong_method.is_none());
    }

    /// `visitor` with a service role that may not create or join, in a conversation made over
    /// REST under a conversation role that may only send and edit or delete its own messages.
    fn least_privilege(app: &App) -> String {
        let api = Origin::Api { announce: false };
        let names = |l: &[&str]| l.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        let service_role = app
            .write(api.clone(), |m| {
                m.create_role(
                    IS,
                    "visitor",
                    RoleKind::Service,
                    names(&["editOwnUserInfo"]),
                )
            })
            .unwrap();
        let sender = names(&[
            "sendMessage",
            "sendMediaMessage",
            "editOwnMessage",
            "editOwnMessageAttributes",
            "deleteOwnMessage",
        ]);
        let conversation_role = app
            .write(api.clone(), |m| {
                m.create_role(IS, "sender", RoleKind::Conversation, sender)
            })
            .unwrap();
        let user = UserUpdate {
            role_sid: Some(service_role.sid),
            ..UserUpdate::default()
        };
        app.write(api.clone(), |m| m.update_user(IS, "visitor", user))
            .unwrap();
        let visitor = NewParticipant {
            role_sid: Some(conversation_role.sid),
            ..NewParticipant::identity("visitor")
        };
        let c = app
            .write(api, |m| {
                m.create_conversation_with(IS, NewConversation::default(), vec![visitor])
            })
            .unwrap();
        c.sid
    }

    #[test]
    fn a_least_privilege_visitor_is_refused_as_twilio_refuses_and_may_send() {
        let app = app();
        let mine = least_privilege(&app);
        let theirs = conversation(&app);
        let at = |sid: &str, tail: &str| format!("/Client/v2/Conversations/{sid}{tail}");
        let cases: Vec<(&str, &str, String, Value, &str)> = vec![
            (
                "create",
                "POST",
                "/Client/v2/Conversations".into(),
                json!({}),
                "createConversation",
            ),
            (
                "join",
                "POST",
                at(&theirs, "/Participants"),
                json!({"identity": "visitor"}),
                "joinConversation",
            ),
            (
                "peek",
                "GET",
                at(&theirs, ""),
                json!(null),
                "joinConversation",
            ),
            (
                "add another",
                "POST",
                at(&mine, "/Participants"),
                json!({"identity": "eve"}),
                "addParticipant",
            ),
            (
                "attributes",
                "POST",
                at(&mine, ""),
                json!({"attributes": "{}"}),
                "editConversationAttributes",
            ),
            (
                "friendly name",
                "POST",
                at(&mine, ""),
                json!({"friendly_name": "x"}),
                "editConversationName",
            ),
            (
                "delete",
                "DELETE",
                at(&mine, ""),
                json!(null),
                "deleteConversation",
            ),
            (
                "leave",
                "DELETE",
                at(&mine, "/Participants/visitor"),
                json!(null),
                "leaveConversation",
            ),
        ];
        for (case, method, path, body, permission) in cases {
            let reply = call(&app, "visitor", method, &path, body);
            assert_eq!(reply.status, 403, "{case}: {}", reply.body);
            refused(&reply, 403, 50107, permission);
        }
        let sent = call(
            &app,
            "visitor",
            "POST",
            &at(&mine, "/Messages"),
            json!({"body": "hi"}),
        );
        assert_eq!(sent.status, 201, "{}", sent.body);
        let read = call(&app, "visitor", "GET", &at(&mine, ""), json!(null));
        assert_eq!(read.status, 200, "a participant reads its conversation");
        let c = app.world().model.find(IS, &mine).unwrap().clone();
        assert_eq!((c.participants.len(), c.messages.len()), (1, 1));
        assert_eq!(
            app.world().model.service(IS).unwrap().conversations.len(),
            2
        );
    }

    #[test]
    fn the_creator_joins_as_its_admin_and_others_join_as_users() {
        let app = app();
        let made = call(&app, "ana", "POST", "/Client/v2/Conversations", json!({}));
        let sid = made.body["sid"].as_str().unwrap().to_owned();
        let participants = format!("/Client/v2/Conversations/{sid}/Participants");
        let ana = call(
            &app,
            "ana",
            "POST",
            &participants,
            json!({"identity": "ana"}),
        );
        let bo = call(
            &app,
            "ana",
            "POST",
            &participants,
            json!({"identity": "bo"}),
        );
        let defaults = app.world().model.service(IS).unwrap().role_defaults.clone();
        assert_eq!(
            ana.body["role_sid"],
            json!(defaults.conversation_creator_role)
        );
        assert_eq!(bo.body["role_sid"], json!(defaults.conversation_role));
        let by_bo = call(
            &app,
            "bo",
            "DELETE",
            &format!("/Client/v2/Conversations/{sid}"),
            json!(null),
        );
        refused(&by_bo, 403, 50107, "deleteConversation");
        let peeked = call(
            &app,
            "eve",
            "GET",
            &format!("/Client/v2/Conversations/{sid}"),
            json!(null),
        );
        assert_eq!(peeked.body["status"], json!("notParticipating"));
    }
}
