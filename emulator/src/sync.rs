//! The Sync projection: the model as the Twilio Sync objects the Conversations SDK reads, and
//! the subscriptions through which it hears them change.
//!
//! Per conversation a document (`CH….channel`, the conversation's properties), a list
//! (`CH….messages`) and a map (`CH….roster`, participants by `MB` SID); per user a map of their
//! conversations (`US….my_conversations`, by `CH` SID) and a map of their own properties
//! (`US….info`: `friendlyName`, `attributes`). Each object has a revision and a log of events
//! with ids increasing from 1; a subscription replays every logged event newer than the
//! client's `last_event_id` before it is established, so a client that reconnects hears what it
//! missed. Live events go to every subscriber of the object.
//!
//! Who may read: anyone of the service may read a conversation's document (the SDK "peeks" a
//! conversation it is not in); only its participants may read its messages and roster; only the
//! user their own conversations map; anyone of the service a user's info map.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::model::{
    new_sid, now_iso, Change, Conversation, Message, Participant, State, TwilioError, User,
};

/// The host Sync URLs name in events (clients never dial it: everything is tunnelled).
const CDS: &str = "https://cds.us1.twilio.com";
/// Seconds a typing indicator lasts, as `typing_timeout` tells clients.
pub const TYPING_TIMEOUT_SECONDS: u64 = 5;
/// Items in one page at most, as Sync serves them.
const MAX_PAGE: usize = 100;
/// Events kept per object for replay; a client further behind than this gets
/// `replay_status: interrupted` and reads the object afresh, as on Sync.
const KEPT_EVENTS: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Document,
    List,
    Map,
}

impl Kind {
    pub fn path(self) -> &'static str {
        match self {
            Kind::Document => "Documents",
            Kind::List => "Lists",
            Kind::Map => "Maps",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Document => "document",
            Kind::List => "list",
            Kind::Map => "map",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Document => "ET",
            Kind::List => "ES",
            Kind::Map => "MP",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        match name {
            "document" => Some(Kind::Document),
            "list" => Some(Kind::List),
            "map" => Some(Kind::Map),
            _ => None,
        }
    }

    fn not_found(self, id: &str) -> TwilioError {
        let code = match self {
            Kind::Document => 54100,
            Kind::List => 54150,
            Kind::Map => 54300,
        };
        TwilioError::new(404, code, format!("{} {id} not found", self.name()))
    }
}

#[derive(Clone, Debug)]
enum Access {
    /// Any user of the service.
    Service(String),
    /// One user.
    User { service: String, identity: String },
    /// The conversation's participants (as they were when it was removed, once it is gone).
    Participants {
        conversation: String,
        at_removal: Option<Vec<String>>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ItemKey {
    Index(u64),
    Key(String),
}

impl ItemKey {
    fn json(&self) -> Value {
        match self {
            ItemKey::Index(i) => json!(i),
            ItemKey::Key(k) => json!(k),
        }
    }

    fn url_part(&self) -> String {
        match self {
            ItemKey::Index(i) => i.to_string(),
            ItemKey::Key(k) => k.clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct Item {
    data: Value,
    revision: u64,
    last_event_id: u64,
    date_updated: String,
}

#[derive(Clone, Debug)]
struct Event {
    id: u64,
    event_type: &'static str,
    /// The event as pushed (`id`, `date_created` and the type's own fields).
    body: Value,
}

#[derive(Clone, Debug)]
struct Object {
    sid: String,
    unique_name: String,
    kind: Kind,
    access: Access,
    revision: u64,
    last_event_id: u64,
    date_updated: String,
    data: Value,
    items: BTreeMap<ItemKey, Item>,
    events: Vec<Event>,
    /// Events dropped from the front of `events` (beyond [`KEPT_EVENTS`]).
    forgotten_before: u64,
    removed: bool,
}

/// Something to push to a connected client.
#[derive(Clone, Debug)]
pub struct Notification {
    pub message_type: &'static str,
    pub payload: Value,
}

struct Subscriber {
    service: String,
    identity: String,
    tx: UnboundedSender<Notification>,
    objects: HashSet<String>,
}

/// Who is reading: a token's identity in a service.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    pub service: &'a str,
    pub identity: &'a str,
}

/// A conversation's three objects, by SID.
#[derive(Clone, Debug)]
pub struct ConversationObjects {
    pub document: String,
    pub messages: String,
    pub roster: String,
}

/// A user's two maps, by SID.
#[derive(Clone, Debug)]
pub struct UserObjects {
    pub my_conversations: String,
    pub info: String,
}

/// One requested object in `POST /v4/Subscriptions`.
#[derive(Clone, Debug)]
pub struct SubscriptionRequest {
    pub object_sid: String,
    pub object_type: String,
    pub last_event_id: Option<u64>,
}

/// An item query's parameters (`GET …/Items`).
#[derive(Clone, Debug, Default)]
pub struct ItemQuery {
    pub key: Option<String>,
    pub index: Option<String>,
    pub from: Option<String>,
    pub order: Option<String>,
    pub page_size: Option<String>,
    pub page_token: Option<String>,
}

#[derive(Default)]
pub struct Sync {
    objects: HashMap<String, Object>,
    names: HashMap<String, String>,
    conversations: HashMap<String, ConversationObjects>,
    users: HashMap<(String, String), UserObjects>,
    subscribers: HashMap<u64, Subscriber>,
}

fn conversation_document(c: &Conversation, objects: &ConversationObjects, names: &Names) -> Value {
    let mut data = json!({
        "friendlyName": c.friendly_name,
        "uniqueName": c.unique_name,
        "attributes": c.attributes,
        "createdBy": c.created_by,
        "dateCreated": c.date_created,
        "dateUpdated": c.date_updated,
        "messages": names.of(&objects.messages),
        "roster": names.of(&objects.roster),
        "state": {"current": c.state, "dateUpdated": c.state_updated},
    });
    if let Some(last) = c.messages.last() {
        data["lastMessage"] = json!({"index": last.index, "timestamp": last.date_created});
    }
    data
}

fn my_conversation_item(
    c: &Conversation,
    p: &Participant,
    objects: &ConversationObjects,
    names: &Names,
) -> Value {
    json!({
        "channel": names.of(&objects.document),
        "messages": names.of(&objects.messages),
        "roster": names.of(&objects.roster),
        "status": "joined",
        "friendlyName": c.friendly_name,
        "uniqueName": c.unique_name,
        "attributes": c.attributes,
        "createdBy": c.created_by,
        "dateCreated": c.date_created,
        "dateUpdated": c.date_updated,
        "lastConsumedMessageIndex": p.last_read_message_index,
        "notificationLevel": "default",
    })
}

fn roster_item(p: &Participant, user_info: Option<&str>) -> Value {
    json!({
        "identity": p.identity,
        "attributes": p.attributes,
        "roleSid": null,
        "dateCreated": p.date_created,
        "dateUpdated": p.date_updated,
        "lastConsumedMessageIndex": p.last_read_message_index,
        "lastConsumptionTimestamp": p.last_read_timestamp,
        "type": "chat",
        "userInfo": user_info,
    })
}

pub fn message_item(m: &Message) -> Value {
    json!({
        "sid": m.sid,
        "text": m.body,
        "author": m.author,
        "attributes": m.attributes,
        "timestamp": m.date_created,
        "dateUpdated": m.date_created,
        "memberSid": m.participant_sid,
        "type": "text",
        "subject": null,
        "contentSid": null,
        "lastUpdatedBy": null,
    })
}

fn user_info_items(u: &User) -> [(&'static str, Value); 2] {
    [
        ("friendlyName", json!({"value": u.friendly_name})),
        ("attributes", json!({"value": u.attributes})),
    ]
}

/// Unique names by SID, borrowed apart from the objects being changed.
struct Names<'a>(&'a HashMap<String, Object>);

impl Names<'_> {
    fn of(&self, sid: &str) -> String {
        self.0
            .get(sid)
            .map(|o| o.unique_name.clone())
            .unwrap_or_default()
    }
}

fn item_url(o: &Object, key: &ItemKey) -> String {
    format!(
        "{CDS}/v3/{}/{}/Items/{}",
        o.kind.path(),
        o.sid,
        key.url_part()
    )
}

impl Sync {
    pub fn conversation_objects(&self, conversation: &str) -> Option<&ConversationObjects> {
        self.conversations.get(conversation)
    }

    pub fn user_objects(&self, service: &str, identity: &str) -> Option<&UserObjects> {
        self.users.get(&(service.to_owned(), identity.to_owned()))
    }

    pub fn unique_name(&self, sid: &str) -> Option<&str> {
        self.objects.get(sid).map(|o| o.unique_name.as_str())
    }

    /// Forgets every object; subscribers stay registered (their subscriptions are gone).
    pub fn reset(&mut self) {
        self.objects.clear();
        self.names.clear();
        self.conversations.clear();
        self.users.clear();
        for s in self.subscribers.values_mut() {
            s.objects.clear();
        }
    }

    fn create(&mut self, kind: Kind, unique_name: String, access: Access, data: Value) -> String {
        let sid = new_sid(kind.prefix());
        self.names.insert(unique_name.clone(), sid.clone());
        self.objects.insert(
            sid.clone(),
            Object {
                sid: sid.clone(),
                unique_name,
                kind,
                access,
                revision: 0,
                last_event_id: 0,
                date_updated: now_iso(),
                data,
                items: BTreeMap::new(),
                events: Vec::new(),
                forgotten_before: 0,
                removed: false,
            },
        );
        sid
    }

    /// Logs an event on object `sid` (changing its data or items first through `mutate`, which
    /// returns the type's own fields) and pushes it to the object's subscribers.
    fn emit(
        &mut self,
        sid: &str,
        event_type: &'static str,
        mutate: impl FnOnce(&mut Object, u64) -> Value,
    ) {
        let Some(o) = self.objects.get_mut(sid) else {
            return;
        };
        o.last_event_id += 1;
        o.revision += 1;
        o.date_updated = now_iso();
        let id = o.last_event_id;
        let mut body = mutate(o, id);
        body["id"] = json!(id);
        body["date_created"] = json!(o.date_updated);
        o.events.push(Event {
            id,
            event_type,
            body: body.clone(),
        });
        if o.events.len() > KEPT_EVENTS {
            let drop = o.events.len() - KEPT_EVENTS;
            o.forgotten_before = o.events[drop - 1].id;
            o.events.drain(..drop);
        }
        let message_type = match o.kind {
            Kind::Document => "com.twilio.rtd.cds.document",
            Kind::List => "com.twilio.rtd.cds.list",
            Kind::Map => "com.twilio.rtd.cds.map",
        };
        let payload = json!({"event_type": event_type, "event": body});
        for s in self.subscribers.values() {
            if s.objects.contains(sid) {
                let _ = s.tx.send(Notification {
                    message_type,
                    payload: payload.clone(),
                });
            }
        }
    }

    fn set_item(&mut self, sid: &str, key: ItemKey, data: Value) {
        let Some(o) = self.objects.get(sid) else {
            return;
        };
        let event_type = match (o.kind, o.items.contains_key(&key)) {
            (Kind::List, false) => "list_item_added",
            (Kind::List, true) => "list_item_updated",
            (_, false) => "map_item_added",
            (_, true) => "map_item_updated",
        };
        self.emit(sid, event_type, |o, id| {
            let revision = o.items.get(&key).map_or(1, |i| i.revision + 1);
            o.items.insert(
                key.clone(),
                Item {
                    data: data.clone(),
                    revision,
                    last_event_id: id,
                    date_updated: o.date_updated.clone(),
                },
            );
            item_event(o, &key, &data, revision)
        });
    }

    fn remove_item(&mut self, sid: &str, key: ItemKey) {
        let Some(o) = self.objects.get(sid) else {
            return;
        };
        if !o.items.contains_key(&key) {
            return;
        }
        let event_type = match o.kind {
            Kind::List => "list_item_removed",
            _ => "map_item_removed",
        };
        self.emit(sid, event_type, |o, _| {
            let old = o.items.remove(&key).expect("checked above");
            item_event(o, &key, &old.data, old.revision + 1)
        });
    }

    fn remove_object(&mut self, sid: &str, at_removal: Option<Vec<String>>) {
        let Some(o) = self.objects.get(sid) else {
            return;
        };
        let event_type = match o.kind {
            Kind::Document => "document_removed",
            Kind::List => "list_removed",
            Kind::Map => "map_removed",
        };
        let name = o.unique_name.clone();
        self.emit(sid, event_type, |o, _| {
            o.removed = true;
            o.items.clear();
            if let Access::Participants {
                at_removal: slot, ..
            } = &mut o.access
            {
                *slot = at_removal;
            }
            let mut body = serde_json::Map::new();
            body.insert(format!("{}_sid", o.kind.name()), json!(o.sid));
            Value::Object(body)
        });
        self.names.remove(&name);
    }

    fn update_document(&mut self, sid: &str, data: Value) {
        self.emit(sid, "document_updated", |o, _| {
            o.data = data.clone();
            json!({"document_sid": o.sid, "document_data": data, "document_revision": (o.revision).to_string()})
        });
    }

    /// Carries one change from the model into the objects, pushing each event to subscribers.
    pub fn apply(&mut self, model: &State, change: &Change) {
        match change {
            Change::UserAdded { service, identity } => self.user_added(model, service, identity),
            Change::UserUpdated { service, identity } => {
                let (Some(u), Some(objects)) = (
                    model.user(service, identity),
                    self.user_objects(service, identity).cloned(),
                ) else {
                    return;
                };
                for (key, value) in user_info_items(u) {
                    self.set_item(&objects.info, ItemKey::Key(key.into()), value);
                }
            }
            Change::ConversationAdded { conversation } => {
                if let Some(c) = model.conversation(conversation) {
                    self.conversation_added(c);
                }
            }
            Change::ConversationUpdated { conversation, .. } => {
                let (Some(c), Some(objects)) = (
                    model.conversation(conversation),
                    self.conversations.get(conversation).cloned(),
                ) else {
                    return;
                };
                let data = conversation_document(c, &objects, &Names(&self.objects));
                self.update_document(&objects.document, data);
                for p in &c.participants {
                    self.my_conversation_changed(c, p, &objects);
                }
            }
            Change::ConversationRemoved { conversation: c } => {
                let Some(objects) = self.conversations.remove(&c.sid) else {
                    return;
                };
                let identities: Vec<String> = c
                    .participants
                    .iter()
                    .filter_map(|p| p.identity.clone())
                    .collect();
                for identity in &identities {
                    if let Some(user) = self.user_objects(&c.service_sid, identity).cloned() {
                        self.remove_item(&user.my_conversations, ItemKey::Key(c.sid.clone()));
                    }
                }
                self.remove_object(&objects.messages, Some(identities.clone()));
                self.remove_object(&objects.roster, Some(identities));
                self.remove_object(&objects.document, None);
            }
            Change::ParticipantAdded {
                conversation,
                participant,
            }
            | Change::ParticipantUpdated {
                conversation,
                participant,
            } => {
                let Some(c) = model.conversation(conversation) else {
                    return;
                };
                let (Some(p), Some(objects)) = (
                    c.participant_by_sid(participant),
                    self.conversations.get(conversation).cloned(),
                ) else {
                    return;
                };
                let info = p
                    .identity
                    .as_ref()
                    .and_then(|i| self.user_objects(&c.service_sid, i))
                    .map(|u| Names(&self.objects).of(&u.info));
                self.set_item(
                    &objects.roster,
                    ItemKey::Key(p.sid.clone()),
                    roster_item(p, info.as_deref()),
                );
                self.my_conversation_changed(c, p, &objects);
            }
            Change::ParticipantRemoved {
                conversation,
                participant,
            } => {
                let Some(objects) = self.conversations.get(conversation).cloned() else {
                    return;
                };
                self.remove_item(&objects.roster, ItemKey::Key(participant.sid.clone()));
                let service = model
                    .conversation(conversation)
                    .map(|c| c.service_sid.clone())
                    .unwrap_or_default();
                if let Some(identity) = &participant.identity {
                    if let Some(user) = self.user_objects(&service, identity).cloned() {
                        self.remove_item(
                            &user.my_conversations,
                            ItemKey::Key(conversation.clone()),
                        );
                    }
                }
            }
            Change::MessageAdded {
                conversation,
                index,
            } => {
                let (Some(c), Some(objects)) = (
                    model.conversation(conversation),
                    self.conversations.get(conversation).cloned(),
                ) else {
                    return;
                };
                let Some(m) = c.message(*index) else {
                    return;
                };
                self.set_item(&objects.messages, ItemKey::Index(*index), message_item(m));
                let data = conversation_document(c, &objects, &Names(&self.objects));
                self.update_document(&objects.document, data);
            }
            // Conversation-scoped webhooks are not part of what clients see.
            Change::WebhookAdded { .. } => {}
            Change::Typing {
                conversation,
                identity,
            } => {
                let Some(c) = model.conversation(conversation) else {
                    return;
                };
                let payload = json!({
                    "channel_sid": c.sid,
                    "identity": identity,
                    "typing_timeout": TYPING_TIMEOUT_SECONDS,
                });
                for s in self.subscribers.values() {
                    if s.service == c.service_sid
                        && &s.identity != identity
                        && c.participant(&s.identity).is_some()
                    {
                        let _ = s.tx.send(Notification {
                            message_type: "twilio.ipmsg.typing_indicator",
                            payload: payload.clone(),
                        });
                    }
                }
            }
        }
    }

    fn user_added(&mut self, model: &State, service: &str, identity: &str) {
        let Some(u) = model.user(service, identity) else {
            return;
        };
        let key = (service.to_owned(), identity.to_owned());
        if self.users.contains_key(&key) {
            return;
        }
        let user = Access::User {
            service: service.to_owned(),
            identity: identity.to_owned(),
        };
        let my_conversations = self.create(
            Kind::Map,
            format!("{}.my_conversations", u.sid),
            user,
            Value::Null,
        );
        let info = self.create(
            Kind::Map,
            format!("{}.info", u.sid),
            Access::Service(service.to_owned()),
            Value::Null,
        );
        let o = self.objects.get_mut(&info).expect("just created");
        for (k, v) in user_info_items(u) {
            o.items.insert(
                ItemKey::Key(k.into()),
                Item {
                    data: v,
                    revision: 0,
                    last_event_id: 0,
                    date_updated: o.date_updated.clone(),
                },
            );
        }
        self.users.insert(
            key,
            UserObjects {
                my_conversations,
                info,
            },
        );
    }

    fn conversation_added(&mut self, c: &Conversation) {
        let participants = || Access::Participants {
            conversation: c.sid.clone(),
            at_removal: None,
        };
        let messages = self.create(
            Kind::List,
            format!("{}.messages", c.sid),
            participants(),
            Value::Null,
        );
        let roster = self.create(
            Kind::Map,
            format!("{}.roster", c.sid),
            participants(),
            Value::Null,
        );
        let document = self.create(
            Kind::Document,
            format!("{}.channel", c.sid),
            Access::Service(c.service_sid.clone()),
            Value::Null,
        );
        let objects = ConversationObjects {
            document,
            messages,
            roster,
        };
        let data = conversation_document(c, &objects, &Names(&self.objects));
        self.objects
            .get_mut(&objects.document)
            .expect("just created")
            .data = data;
        self.conversations.insert(c.sid.clone(), objects);
    }

    fn my_conversation_changed(
        &mut self,
        c: &Conversation,
        p: &Participant,
        objects: &ConversationObjects,
    ) {
        let Some(identity) = &p.identity else {
            return;
        };
        let Some(user) = self.user_objects(&c.service_sid, identity).cloned() else {
            return;
        };
        let data = my_conversation_item(c, p, objects, &Names(&self.objects));
        self.set_item(&user.my_conversations, ItemKey::Key(c.sid.clone()), data);
    }

    fn may_read(&self, o: &Object, model: &State, reader: Reader) -> bool {
        match &o.access {
            Access::Service(service) => service == reader.service,
            Access::User { service, identity } => {
                service == reader.service && identity == reader.identity
            }
            Access::Participants {
                at_removal: Some(identities),
                ..
            } => identities.iter().any(|i| i == reader.identity),
            Access::Participants { conversation, .. } => {
                model.conversation(conversation).is_some_and(|c| {
                    c.service_sid == reader.service && c.participant(reader.identity).is_some()
                })
            }
        }
    }

    /// The object `id` (SID or unique name) of `kind`, if `reader` may read it.
    fn readable(
        &self,
        kind: Kind,
        id: &str,
        model: &State,
        reader: Reader,
    ) -> Result<&Object, TwilioError> {
        let sid = self.names.get(id).map(String::as_str).unwrap_or(id);
        let o = self
            .objects
            .get(sid)
            .filter(|o| o.kind == kind && !o.removed)
            .ok_or_else(|| kind.not_found(id))?;
        if !self.may_read(o, model, reader) {
            return Err(TwilioError::new(
                403,
                54007,
                format!("{} may not read {} {id}", reader.identity, kind.name()),
            ));
        }
        Ok(o)
    }

    /// `GET /v3/{Documents|Lists|Maps}/{id}` (with `Include=items` for maps). `base` is the
    /// scheme and host the client asked, for the links.
    pub fn descriptor(
        &self,
        kind: Kind,
        id: &str,
        include_items: bool,
        model: &State,
        reader: Reader,
        base: &str,
    ) -> Result<Value, TwilioError> {
        let o = self.readable(kind, id, model, reader)?;
        let url = format!("{base}/v3/{}/{}", kind.path(), o.sid);
        let mut out = json!({
            "sid": o.sid,
            "unique_name": o.unique_name,
            "url": url,
            "revision": o.revision.to_string(),
            "last_event_id": o.last_event_id,
            "date_updated": o.date_updated,
            "date_expires": null,
        });
        match kind {
            Kind::Document => out["data"] = o.data.clone(),
            Kind::List | Kind::Map => {
                out["links"] =
                    json!({"items": format!("{url}/Items"), "context": format!("{url}/Context")});
            }
        }
        if include_items && kind == Kind::Map {
            let items: Vec<Value> = o
                .items
                .iter()
                .take(MAX_PAGE)
                .map(|(k, i)| item_json(o, k, i, base))
                .collect();
            out["items"] = json!(items);
        }
        Ok(out)
    }

    /// `GET /v3/{Lists|Maps}/{id}/Items`: one item (`Index` / `Key`) or a page from `From`
    /// (inclusive) in `Order`, with `previous_token` when items lie before the page's first item
    /// and `next_token` when more lie after its last.
    pub fn items(
        &self,
        kind: Kind,
        id: &str,
        query: &ItemQuery,
        model: &State,
        reader: Reader,
        base: &str,
    ) -> Result<Value, TwilioError> {
        let o = self.readable(kind, id, model, reader)?;
        let parse_key = |value: &str, what: &str| -> Result<ItemKey, TwilioError> {
            match kind {
                Kind::List => value
                    .parse()
                    .map(ItemKey::Index)
                    .map_err(|_| TwilioError::invalid(format!("{what} must be an item index"))),
                _ => Ok(ItemKey::Key(value.to_owned())),
            }
        };
        let page = |items: Vec<(&ItemKey, &Item)>, prev: Option<String>, next: Option<String>| {
            let items: Vec<Value> = items
                .into_iter()
                .map(|(k, i)| item_json(o, k, i, base))
                .collect();
            json!({"items": items, "meta": {"previous_token": prev, "next_token": next}})
        };
        let single = match kind {
            Kind::List => query.index.as_deref(),
            _ => query.key.as_deref(),
        };
        if let Some(single) = single {
            let key = parse_key(single, if kind == Kind::List { "Index" } else { "Key" })?;
            return Ok(page(
                o.items.get_key_value(&key).into_iter().collect(),
                None,
                None,
            ));
        }
        let size = match &query.page_size {
            None => 50,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| TwilioError::invalid("PageSize must be a number from 1 to 1000"))?,
        }
        .min(MAX_PAGE);
        // A token continues a query: `{order}.{after|before}.{edge key}`.
        let (descending, start, before) = match &query.page_token {
            Some(token) => {
                let mut parts = token.splitn(3, '.');
                let (Some(order), Some(side), Some(edge)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(TwilioError::invalid(
                        "PageToken is not one this service gave out",
                    ));
                };
                let edge = parse_key(edge, "PageToken")?;
                (order == "desc", Bound::Exclusive(edge), side == "before")
            }
            None => {
                let descending = match query.order.as_deref() {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(_) => return Err(TwilioError::invalid("Order must be asc or desc")),
                };
                let start = match &query.from {
                    Some(from) => Bound::Inclusive(parse_key(from, "From")?),
                    None => Bound::Unbounded,
                };
                (descending, start, false)
            }
        };
        // Walk in query order from the start; `before` walks the other way and flips back.
        let walk_down = descending != before;
        let in_range = |k: &ItemKey| match &start {
            Bound::Unbounded => true,
            Bound::Inclusive(b) => {
                if walk_down {
                    k <= b
                } else {
                    k >= b
                }
            }
            Bound::Exclusive(b) => {
                if walk_down {
                    k < b
                } else {
                    k > b
                }
            }
        };
        let ordered: Vec<(&ItemKey, &Item)> = if walk_down {
            o.items.iter().rev().filter(|(k, _)| in_range(k)).collect()
        } else {
            o.items.iter().filter(|(k, _)| in_range(k)).collect()
        };
        let more = ordered.len() > size;
        let mut chosen: Vec<(&ItemKey, &Item)> = ordered.into_iter().take(size).collect();
        if before {
            chosen.reverse();
        }
        let order = if descending { "desc" } else { "asc" };
        let (first, last) = match (chosen.first(), chosen.last()) {
            (Some(f), Some(l)) => (f.0.clone(), l.0.clone()),
            _ => return Ok(page(chosen, None, None)),
        };
        // Is anything beyond `edge` going `down` (towards lower keys) or up?
        let beyond = |edge: &ItemKey, down: bool| {
            if down {
                o.items.range(..edge.clone()).next().is_some()
            } else {
                o.items.range(edge.clone()..).nth(1).is_some()
            }
        };
        let (has_prev, has_next) = if before {
            (more, beyond(&last, descending))
        } else {
            (beyond(&first, !descending), more)
        };
        let token = |side: &str, edge: &ItemKey| format!("{order}.{side}.{}", edge.url_part());
        Ok(page(
            chosen,
            has_prev.then(|| token("before", &first)),
            has_next.then(|| token("after", &last)),
        ))
    }

    pub fn register(
        &mut self,
        id: u64,
        service: &str,
        identity: &str,
        tx: UnboundedSender<Notification>,
    ) {
        self.subscribers.insert(
            id,
            Subscriber {
                service: service.to_owned(),
                identity: identity.to_owned(),
                tx,
                objects: HashSet::new(),
            },
        );
    }

    pub fn unregister(&mut self, id: u64) {
        self.subscribers.remove(&id);
    }

    /// `POST /v4/Subscriptions` for subscriber `id`: `establish` replays each object's events
    /// newer than the client's `last_event_id` (tagged with the correlation id), then says the
    /// subscription is established; `cancel` ends it. Objects the client may not read fail.
    pub fn subscribe(
        &mut self,
        id: u64,
        action: &str,
        correlation_id: &Value,
        requests: &[SubscriptionRequest],
        model: &State,
    ) -> Result<(), TwilioError> {
        let Some(subscriber) = self.subscribers.get(&id) else {
            return Err(TwilioError::new(401, 20101, "not connected"));
        };
        if action != "establish" && action != "cancel" {
            return Err(TwilioError::invalid("action must be establish or cancel"));
        }
        let reader = Reader {
            service: &subscriber.service,
            identity: &subscriber.identity,
        };
        let tx = subscriber.tx.clone();
        let sync_event = |event_type: &str, event: Value| Notification {
            message_type: "twilio.sync.event",
            payload: json!({"event_type": event_type, "correlation_id": correlation_id, "event": event}),
        };
        let mut accepted = Vec::new();
        for r in requests {
            let status = |extra: Value| {
                let mut e = json!({"object_sid": r.object_sid, "object_type": r.object_type});
                if let (Value::Object(e), Value::Object(extra)) = (&mut e, extra) {
                    e.extend(extra);
                }
                e
            };
            if action == "cancel" {
                let _ = tx.send(sync_event("subscription_canceled", status(json!({}))));
                accepted.push((r.object_sid.clone(), false));
                continue;
            }
            let object =
                Kind::from_name(&r.object_type).and_then(|_| self.objects.get(&r.object_sid));
            let o = match object {
                Some(o) if Kind::from_name(&r.object_type) == Some(o.kind) => o,
                _ => {
                    let error = json!({"error": {"message": "Object not found", "status": 404, "code": 54100}});
                    let _ = tx.send(sync_event("subscription_failed", status(error)));
                    continue;
                }
            };
            if !self.may_read(o, model, reader) {
                let error =
                    json!({"error": {"message": "Forbidden", "status": 403, "code": 54007}});
                let _ = tx.send(sync_event("subscription_failed", status(error)));
                continue;
            }
            let since = r.last_event_id.unwrap_or(0);
            let replay_status = if since < o.forgotten_before {
                "interrupted"
            } else {
                "completed"
            };
            if replay_status == "completed" {
                for e in o.events.iter().filter(|e| e.id > since) {
                    let mut event = e.body.clone();
                    event["id"] = json!(e.id);
                    let _ = tx.send(sync_event(e.event_type, event));
                }
            }
            let established =
                status(json!({"replay_status": replay_status, "last_event_id": o.last_event_id}));
            let _ = tx.send(sync_event("subscription_established", established));
            accepted.push((r.object_sid.clone(), true));
        }
        let subscriber = self.subscribers.get_mut(&id).expect("checked above");
        for (sid, add) in accepted {
            if add {
                subscriber.objects.insert(sid);
            } else {
                subscriber.objects.remove(&sid);
            }
        }
        Ok(())
    }

    /// How many objects subscriber `id` follows.
    pub fn subscriptions_of(&self, id: u64) -> usize {
        self.subscribers.get(&id).map_or(0, |s| s.objects.len())
    }
}

enum Bound {
    Unbounded,
    Inclusive(ItemKey),
    Exclusive(ItemKey),
}

fn item_event(o: &Object, key: &ItemKey, data: &Value, revision: u64) -> Value {
    let url = item_url(o, key);
    let revision = revision.to_string();
    let object_revision = o.revision.to_string();
    match o.kind {
        Kind::List => json!({
            "list_sid": o.sid, "item_index": key.json(), "item_data": data, "item_url": url,
            "item_revision": revision, "list_revision": object_revision,
        }),
        _ => json!({
            "map_sid": o.sid, "item_key": key.json(), "item_data": data, "item_url": url,
            "item_revision": revision, "map_revision": object_revision,
        }),
    }
}

fn item_json(o: &Object, key: &ItemKey, item: &Item, base: &str) -> Value {
    let mut out = json!({
        "data": item.data,
        "url": format!("{base}/v3/{}/{}/Items/{}", o.kind.path(), o.sid, key.url_part()),
        "revision": item.revision.to_string(),
        "last_event_id": item.last_event_id,
        "date_updated": item.date_updated,
        "date_expires": null,
    });
    match key {
        ItemKey::Index(i) => out["index"] = json!(i),
        ItemKey::Key(k) => out["key"] = json!(k),
    }
    out
}
