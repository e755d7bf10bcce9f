//! The emulator's data: services, their conversations, participants, messages and webhooks, and
//! each resource's JSON as Twilio's REST API returns it (snake_case fields, ISO 8601 dates,
//! `url` and `links`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{json, Value};

pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

pub fn now_iso() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// What the emulator pretends to be: one account with an auth token and one API key.
#[derive(Clone, Debug)]
pub struct Account {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
}

/// A service's post-event (and pre-event) webhook settings:
/// `/v1/Services/{IS}/Configuration/Webhooks`.
#[derive(Clone, Debug, Default)]
pub struct ServiceWebhooks {
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    pub filters: Vec<String>,
    pub method: String,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub sid: String,
    pub webhooks: ServiceWebhooks,
    /// Creation order is list order.
    pub conversations: Vec<Conversation>,
}

#[derive(Clone, Debug)]
pub struct Conversation {
    pub sid: String,
    pub service_sid: String,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: String,
    pub state: String,
    pub date_created: String,
    pub date_updated: String,
    pub participants: Vec<Participant>,
    pub messages: Vec<Message>,
    pub webhooks: Vec<Webhook>,
    pub next_index: u64,
}

#[derive(Clone, Debug)]
pub struct Participant {
    pub sid: String,
    pub identity: Option<String>,
    pub attributes: String,
    pub date_created: String,
    pub last_read_message_index: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub sid: String,
    pub index: u64,
    pub author: String,
    pub body: Option<String>,
    pub attributes: String,
    pub participant_sid: Option<String>,
    pub date_created: String,
}

#[derive(Clone, Debug)]
pub struct Webhook {
    pub sid: String,
    pub target: String,
    pub url: Option<String>,
    pub method: Option<String>,
    pub filters: Vec<String>,
    pub triggers: Vec<String>,
    pub flow_sid: Option<String>,
    pub replay_after: Option<u64>,
    pub date_created: String,
}

/// Base URL used in `url`, `links` and paging `meta` (the emulator's own address, as the client
/// reached it) plus the path prefix of the API flavour the client called (account default
/// service or service-scoped).
#[derive(Clone, Debug)]
pub struct Urls {
    pub base: String,
    pub prefix: String,
}

impl Urls {
    pub fn conversation(&self, sid: &str) -> String {
        format!("{}{}/Conversations/{sid}", self.base, self.prefix)
    }
}

impl Conversation {
    pub fn new(service_sid: &str, friendly_name: Option<String>) -> Conversation {
        let now = now_iso();
        Conversation {
            sid: new_sid("CH"),
            service_sid: service_sid.to_owned(),
            friendly_name,
            unique_name: None,
            attributes: "{}".into(),
            state: "active".into(),
            date_created: now.clone(),
            date_updated: now,
            participants: Vec::new(),
            messages: Vec::new(),
            webhooks: Vec::new(),
            next_index: 0,
        }
    }

    pub fn json(&self, account: &Account, urls: &Urls) -> Value {
        let url = urls.conversation(&self.sid);
        json!({
            "account_sid": account.account_sid,
            "chat_service_sid": self.service_sid,
            "messaging_service_sid": null,
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "unique_name": self.unique_name,
            "attributes": self.attributes,
            "state": self.state,
            "date_created": self.date_created,
            "date_updated": self.date_updated,
            "timers": {},
            "url": url,
            "links": {
                "participants": format!("{url}/Participants"),
                "messages": format!("{url}/Messages"),
                "webhooks": format!("{url}/Webhooks"),
            },
            "bindings": null,
        })
    }

    pub fn participant_json(&self, p: &Participant, account: &Account, urls: &Urls) -> Value {
        json!({
            "account_sid": account.account_sid,
            "chat_service_sid": self.service_sid,
            "conversation_sid": self.sid,
            "sid": p.sid,
            "identity": p.identity,
            "attributes": p.attributes,
            "messaging_binding": null,
            "role_sid": null,
            "date_created": p.date_created,
            "date_updated": p.date_created,
            "url": format!("{}/Participants/{}", urls.conversation(&self.sid), p.sid),
            "last_read_message_index": p.last_read_message_index,
            "last_read_timestamp": null,
        })
    }

    pub fn message_json(&self, m: &Message, account: &Account, urls: &Urls) -> Value {
        let url = format!("{}/Messages/{}", urls.conversation(&self.sid), m.sid);
        json!({
            "account_sid": account.account_sid,
            "chat_service_sid": self.service_sid,
            "conversation_sid": self.sid,
            "sid": m.sid,
            "index": m.index,
            "author": m.author,
            "body": m.body,
            "media": null,
            "attributes": m.attributes,
            "participant_sid": m.participant_sid,
            "date_created": m.date_created,
            "date_updated": m.date_created,
            "delivery": null,
            "content_sid": null,
            "url": url,
            "links": {
                "delivery_receipts": format!("{url}/Receipts"),
                "channel_metadata": format!("{url}/ChannelMetadata"),
            },
        })
    }

    pub fn webhook_json(&self, w: &Webhook, account: &Account, urls: &Urls) -> Value {
        json!({
            "sid": w.sid,
            "account_sid": account.account_sid,
            "chat_service_sid": self.service_sid,
            "conversation_sid": self.sid,
            "target": w.target,
            "url": format!("{}/Webhooks/{}", urls.conversation(&self.sid), w.sid),
            "configuration": {
                "url": w.url,
                "method": w.method,
                "filters": w.filters,
                "triggers": w.triggers,
                "flow_sid": w.flow_sid,
                "replay_after": w.replay_after,
            },
            "date_created": w.date_created,
            "date_updated": w.date_created,
        })
    }

    pub fn touch(&mut self) {
        self.date_updated = now_iso();
    }
}

impl ServiceWebhooks {
    pub fn json(&self, account: &Account, service_sid: &str, base: &str) -> Value {
        json!({
            "account_sid": account.account_sid,
            "chat_service_sid": service_sid,
            "pre_webhook_url": self.pre_webhook_url,
            "post_webhook_url": self.post_webhook_url,
            "filters": self.filters,
            "method": self.method,
            "url": format!("{base}/v1/Services/{service_sid}/Configuration/Webhooks"),
        })
    }
}

/// Everything the emulator holds, behind one lock.
pub struct State {
    pub default_service: String,
    pub services: BTreeMap<String, Service>,
}

impl State {
    pub fn new(services: Vec<(String, ServiceWebhooks)>) -> State {
        let default_service = services[0].0.clone();
        let services: BTreeMap<String, Service> = services
            .into_iter()
            .map(|(sid, webhooks)| {
                let service = Service {
                    sid: sid.clone(),
                    webhooks,
                    conversations: Vec::new(),
                };
                (sid, service)
            })
            .collect();
        State {
            default_service,
            services,
        }
    }

    /// Forgets every conversation; services keep their webhook settings (as set at start or
    /// since through `/v1/Services/{IS}/Configuration/Webhooks`).
    pub fn reset(&mut self) {
        for service in self.services.values_mut() {
            service.conversations.clear();
        }
    }

    /// Finds a conversation by SID (or unique name) in any service.
    pub fn find_conversation_mut(&mut self, id: &str) -> Option<&mut Conversation> {
        self.services
            .values_mut()
            .flat_map(|s| s.conversations.iter_mut())
            .find(|c| c.sid == id || c.unique_name.as_deref() == Some(id))
    }
}
