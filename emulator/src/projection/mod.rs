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
//! Who may read: a conversation's document its participants and the users of the service who
//! may peek at it (the model's `may_peek`: whoever may join it; the SDK "peeks" a conversation
//! it is not in); only its participants its messages and roster; only the user their own
//! conversations map; anyone of the service a user's info map.
//!
//! The module: this file holds the objects' types and the projection's state; [`objects`] how
//! an object changes and logs events (and the JSON the SDK reads), [`apply`] how each model
//! change becomes object changes, [`query`] who may read and item paging, [`subscriptions`]
//! subscribers, replay and fan-out.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::model::TwilioError;

mod apply;
mod objects;
mod query;
mod subscriptions;
#[cfg(test)]
mod tests;

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
    /// A conversation's participants and the users of its service who may peek at it.
    Peekers { conversation: String },
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
pub struct Projection {
    objects: HashMap<String, Object>,
    names: HashMap<String, String>,
    conversations: HashMap<String, ConversationObjects>,
    users: HashMap<(String, String), UserObjects>,
    subscribers: HashMap<u64, Subscriber>,
}

impl Projection {
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
}
