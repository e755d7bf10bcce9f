//! The emulator's one model of Twilio Conversations: services, their roles, users,
//! conversations, participants, messages and conversation webhooks. Every write is a method
//! here that checks the request as Twilio would and returns what changed ([`Change`]), so that
//! one pipeline (`app::App::write`) can carry each change to the Sync projection and to every
//! transport. Roles and permissions live in [`roles`]; what an SDK client may do (each action
//! checked against its roles) in [`client`]; the REST API (account credentials) calls the
//! unchecked writes here directly, as Twilio never restricts it.
//!
//! Pure: no I/O, no locks. SIDs are random; dates are the wall clock's.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::Value;

mod client;
pub mod media;
mod roles;

pub use roles::{Role, RoleDefaults, RoleDefaultsUpdate, RoleKind};

pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// ISO 8601 with milliseconds, as Twilio's client API and Sync write dates.
pub fn now_iso() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// What the emulator pretends to be: one account with an auth token and one API key.
#[derive(Clone, Debug)]
pub struct Account {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
}

impl Account {
    /// Whether HTTP Basic `user:password` is the account (SID and auth token) or its API key.
    pub fn authorizes(&self, user: &str, password: &str) -> bool {
        (user == self.account_sid && password == self.auth_token)
            || (user == self.api_key_sid && password == self.api_key_secret)
    }
}

/// A refusal, as Twilio states it: HTTP status, Twilio error code, message. Each transport
/// renders it in its own form (REST error JSON, a tunnelled reply, a realtime error frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwilioError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl TwilioError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> TwilioError {
        TwilioError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> TwilioError {
        TwilioError::new(400, 20001, message)
    }

    pub fn conversation_not_found(id: &str) -> TwilioError {
        TwilioError::new(404, 50350, format!("Conversation {id} not found"))
    }

    /// A client acting in a conversation it is not in.
    pub fn not_participant(identity: &str) -> TwilioError {
        TwilioError::new(
            403,
            50400,
            format!("{identity} is not a participant of this conversation"),
        )
    }

    pub fn closed() -> TwilioError {
        TwilioError::new(400, 50446, "Conversation is closed")
    }

    /// Twilio's answer to any update of a closed conversation: closed is final.
    pub fn closed_is_final() -> TwilioError {
        TwilioError::new(
            400,
            50377,
            "Can't update conversation as it's in final closed state",
        )
    }
}

/// A service's post-event (and pre-event) webhook settings:
/// `/v1/Services/{IS}/Configuration/Webhooks`.
#[derive(Clone, Debug, Default)]
pub struct ServiceWebhooks {
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    pub filters: Vec<String>,
    pub method: String,
    /// The chat service's `PostWebhookRetryCount` (0 to 3, Twilio's default 0): how many times
    /// a post-event delivery to `post_webhook_url` is retried after a timeout, 429, 503 or 504.
    pub post_webhook_retry_count: u8,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub webhooks: ServiceWebhooks,
    /// Creation order is list order; Twilio's four defaults first.
    pub roles: Vec<Role>,
    /// The Configuration's default roles.
    pub role_defaults: RoleDefaults,
    /// Creation order is list order.
    pub conversations: Vec<Conversation>,
    /// Conversations users by identity; made on first use (a token's connection, a
    /// participant), as Twilio makes them.
    pub users: BTreeMap<String, User>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub sid: String,
    pub identity: String,
    /// Its service role.
    pub role_sid: String,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub date_created: String,
    pub date_updated: String,
}

#[derive(Clone, Debug)]
pub struct Conversation {
    pub sid: String,
    pub service_sid: String,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: String,
    pub state: String,
    pub state_updated: String,
    /// The identity that created it (`system` over REST).
    pub created_by: String,
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
    /// Its conversation role.
    pub role_sid: String,
    pub attributes: String,
    pub date_created: String,
    pub date_updated: String,
    pub last_read_message_index: Option<u64>,
    pub last_read_timestamp: Option<String>,
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
    /// Its media (uploaded to the media service first), in order; empty for a text.
    pub media: Vec<media::MediaRef>,
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

/// What one write changed. Changes name resources by SID; whoever handles one reads the
/// current state from the model (a removed conversation travels whole, since it is gone).
#[derive(Clone, Debug)]
pub enum Change {
    UserAdded {
        service: String,
        identity: String,
    },
    UserUpdated {
        service: String,
        identity: String,
    },
    UserRemoved {
        service: String,
        identity: String,
    },
    ConversationAdded {
        conversation: String,
    },
    ConversationUpdated {
        conversation: String,
        /// `state` changed (active, inactive, closed).
        state_changed: bool,
    },
    ConversationRemoved {
        conversation: Box<Conversation>,
    },
    ParticipantAdded {
        conversation: String,
        participant: String,
    },
    /// Attributes, role or read horizon.
    ParticipantUpdated {
        conversation: String,
        participant: String,
    },
    ParticipantRemoved {
        conversation: String,
        participant: Participant,
    },
    MessageAdded {
        conversation: String,
        index: u64,
    },
    /// A conversation-scoped webhook was added (Twilio fires no event for it; with
    /// `Configuration.ReplayAfter` it replays the messages from that index to the new webhook).
    WebhookAdded {
        conversation: String,
        webhook: String,
    },
    /// Not stored: a participant is typing now.
    Typing {
        conversation: String,
        identity: String,
    },
}

pub type Written<T> = Result<(T, Vec<Change>), TwilioError>;

/// Fields for a new conversation.
#[derive(Clone, Debug, Default)]
pub struct NewConversation {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub state: Option<String>,
    pub created_by: Option<String>,
}

/// A chat participant to add: an identity, and optionally its attributes and conversation role
/// (the service's default conversation role when `None`).
#[derive(Clone, Debug, Default)]
pub struct NewParticipant {
    pub identity: String,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
}

impl NewParticipant {
    pub fn identity(identity: &str) -> NewParticipant {
        NewParticipant {
            identity: identity.to_owned(),
            ..NewParticipant::default()
        }
    }
}

/// Fields to change on a user; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub friendly_name: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
}

/// Twilio's limit on the participants of one `ConversationWithParticipants` request.
pub const MAX_NEW_PARTICIPANTS: usize = 10;

/// Fields to change on a conversation; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ConversationUpdate {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub state: Option<String>,
}

/// Attributes must be a JSON document, as on Twilio.
pub fn check_attributes(attributes: &str) -> Result<(), TwilioError> {
    serde_json::from_str::<Value>(attributes)
        .map(|_| ())
        .map_err(|_| TwilioError::invalid("Attributes must be valid JSON"))
}

fn check_state(state: &str) -> Result<(), TwilioError> {
    if matches!(state, "active" | "inactive" | "closed") {
        Ok(())
    } else {
        Err(TwilioError::invalid(
            "State must be active, inactive or closed",
        ))
    }
}

impl Conversation {
    pub fn participant(&self, identity: &str) -> Option<&Participant> {
        self.participants
            .iter()
            .find(|p| p.identity.as_deref() == Some(identity))
    }

    pub fn participant_by_sid(&self, sid: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.sid == sid)
    }

    pub fn message(&self, index: u64) -> Option<&Message> {
        // Messages are stored in index order and never removed.
        self.messages
            .binary_search_by_key(&index, |m| m.index)
            .ok()
            .map(|at| &self.messages[at])
    }

    /// Messages newer than `identity`'s read horizon; `None` while they have no horizon.
    pub fn unread_for(&self, identity: &str) -> Option<u64> {
        let horizon = self.participant(identity)?.last_read_message_index?;
        Some(self.messages.iter().filter(|m| m.index > horizon).count() as u64)
    }

    fn touch(&mut self) {
        self.date_updated = now_iso();
    }
}

/// Everything the emulator holds.
pub struct State {
    pub default_service: String,
    pub services: BTreeMap<String, Service>,
    /// The media service's items, by sid (`media.rs`).
    pub media: std::collections::HashMap<String, media::Media>,
}

impl State {
    pub fn new(services: Vec<(String, ServiceWebhooks)>) -> State {
        let default_service = services[0].0.clone();
        let services = services
            .into_iter()
            .map(|(sid, webhooks)| {
                let (roles, role_defaults) = roles::default_roles();
                let service = Service {
                    webhooks,
                    roles,
                    role_defaults,
                    conversations: Vec::new(),
                    users: BTreeMap::new(),
                };
                (sid, service)
            })
            .collect();
        State {
            default_service,
            services,
            media: Default::default(),
        }
    }

    /// Forgets every conversation and user (what tests make). Services keep their setup: webhook
    /// settings, roles and the Configuration's default roles, as a Twilio service keeps them
    /// when its data is deleted.
    pub fn reset(&mut self) {
        for service in self.services.values_mut() {
            service.conversations.clear();
            service.users.clear();
        }
        self.media.clear();
    }

    pub fn service(&self, sid: &str) -> Result<&Service, TwilioError> {
        self.services
            .get(sid)
            .ok_or_else(|| TwilioError::new(404, 20404, format!("Service {sid} not found")))
    }

    fn service_mut(&mut self, sid: &str) -> Result<&mut Service, TwilioError> {
        self.services
            .get_mut(sid)
            .ok_or_else(|| TwilioError::new(404, 20404, format!("Service {sid} not found")))
    }

    /// A conversation by SID in any service.
    pub fn conversation(&self, sid: &str) -> Option<&Conversation> {
        self.services
            .values()
            .flat_map(|s| s.conversations.iter())
            .find(|c| c.sid == sid)
    }

    /// A conversation of `service` by SID or unique name.
    pub fn find(&self, service: &str, id: &str) -> Result<&Conversation, TwilioError> {
        self.service(service)?
            .conversations
            .iter()
            .find(|c| c.sid == id || c.unique_name.as_deref() == Some(id))
            .ok_or_else(|| TwilioError::conversation_not_found(id))
    }

    fn find_mut(&mut self, service: &str, id: &str) -> Result<&mut Conversation, TwilioError> {
        self.service_mut(service)?
            .conversations
            .iter_mut()
            .find(|c| c.sid == id || c.unique_name.as_deref() == Some(id))
            .ok_or_else(|| TwilioError::conversation_not_found(id))
    }

    pub fn user(&self, service: &str, identity: &str) -> Option<&User> {
        self.services.get(service)?.users.get(identity)
    }

    /// A user by SID (`US…`) or identity, as the REST API names one.
    pub fn find_user(&self, service: &str, id: &str) -> Result<&User, TwilioError> {
        let users = &self.service(service)?.users;
        users
            .get(id)
            .or_else(|| users.values().find(|u| u.sid == id))
            .ok_or_else(|| TwilioError::new(404, 20404, format!("User {id} not found")))
    }

    fn new_user(&self, service: &str, identity: &str) -> Result<User, TwilioError> {
        let now = now_iso();
        Ok(User {
            sid: new_sid("US"),
            identity: identity.to_owned(),
            role_sid: self
                .service(service)?
                .role_defaults
                .chat_service_role
                .clone(),
            friendly_name: None,
            attributes: "{}".into(),
            date_created: now.clone(),
            date_updated: now,
        })
    }

    /// The user for `identity`, made with the default service role if it does not exist yet.
    pub fn ensure_user(&mut self, service: &str, identity: &str) -> Written<User> {
        if let Some(user) = self.user(service, identity) {
            return Ok((user.clone(), Vec::new()));
        }
        let user = self.new_user(service, identity)?;
        self.service_mut(service)?
            .users
            .insert(identity.to_owned(), user.clone());
        let change = Change::UserAdded {
            service: service.to_owned(),
            identity: identity.to_owned(),
        };
        Ok((user, vec![change]))
    }

    /// Checks a user update before anything is written: attributes are JSON, a role is a
    /// service role of `service`.
    fn check_user_update(&self, service: &str, update: &UserUpdate) -> Result<(), TwilioError> {
        if let Some(a) = &update.attributes {
            check_attributes(a)?;
        }
        if let Some(role) = &update.role_sid {
            self.check_role(service, role, RoleKind::Service, "RoleSid")?;
        }
        Ok(())
    }

    /// Makes a user over REST: refused (409 50201) if `identity` is one already.
    pub fn create_user(
        &mut self,
        service: &str,
        identity: &str,
        update: UserUpdate,
    ) -> Written<User> {
        if identity.is_empty() {
            return Err(TwilioError::invalid("Identity is required"));
        }
        if self.user(service, identity).is_some() {
            return Err(TwilioError::new(
                409,
                50201,
                format!("User already exists: {identity}"),
            ));
        }
        self.check_user_update(service, &update)?;
        let (_, mut changes) = self.ensure_user(service, identity)?;
        let (user, more) = self.update_user(service, identity, update)?;
        changes.extend(more);
        Ok((user, changes))
    }

    /// Changes a user's friendly name, attributes and/or service role (made if missing).
    pub fn update_user(
        &mut self,
        service: &str,
        identity: &str,
        update: UserUpdate,
    ) -> Written<User> {
        self.check_user_update(service, &update)?;
        let (_, mut changes) = self.ensure_user(service, identity)?;
        let user = self
            .service_mut(service)?
            .users
            .get_mut(identity)
            .ok_or_else(|| TwilioError::new(404, 20404, format!("User {identity} not found")))?;
        if let Some(name) = update.friendly_name {
            user.friendly_name = Some(name);
        }
        if let Some(a) = update.attributes {
            user.attributes = a;
        }
        if let Some(role) = update.role_sid {
            user.role_sid = role;
        }
        user.date_updated = now_iso();
        let user = user.clone();
        changes.push(Change::UserUpdated {
            service: service.to_owned(),
            identity: identity.to_owned(),
        });
        Ok((user, changes))
    }

    /// Deletes a user named by SID or identity; its participations stay (a later connection
    /// makes a new user with the default role).
    pub fn delete_user(&mut self, service: &str, id: &str) -> Written<()> {
        let identity = self.find_user(service, id)?.identity.clone();
        self.service_mut(service)?.users.remove(&identity);
        let change = Change::UserRemoved {
            service: service.to_owned(),
            identity,
        };
        Ok(((), vec![change]))
    }

    pub fn create_conversation(
        &mut self,
        service: &str,
        new: NewConversation,
    ) -> Written<Conversation> {
        if let Some(a) = &new.attributes {
            check_attributes(a)?;
        }
        if let Some(s) = &new.state {
            check_state(s)?;
        }
        let target = self.service_mut(service)?;
        if let Some(unique) = &new.unique_name {
            if target
                .conversations
                .iter()
                .any(|c| c.unique_name.as_ref() == Some(unique))
            {
                return Err(TwilioError::new(
                    409,
                    50353,
                    format!("Conversation with provided unique name {unique} already exists"),
                ));
            }
        }
        let now = now_iso();
        let conversation = Conversation {
            sid: new_sid("CH"),
            service_sid: service.to_owned(),
            friendly_name: new.friendly_name,
            unique_name: new.unique_name,
            attributes: new.attributes.unwrap_or_else(|| "{}".into()),
            state: new.state.unwrap_or_else(|| "active".into()),
            state_updated: now.clone(),
            created_by: new.created_by.unwrap_or_else(|| "system".into()),
            date_created: now.clone(),
            date_updated: now,
            participants: Vec::new(),
            messages: Vec::new(),
            webhooks: Vec::new(),
            next_index: 0,
        };
        target.conversations.push(conversation.clone());
        let change = Change::ConversationAdded {
            conversation: conversation.sid.clone(),
        };
        Ok((conversation, vec![change]))
    }

    pub fn update_conversation(
        &mut self,
        service: &str,
        id: &str,
        update: ConversationUpdate,
    ) -> Written<Conversation> {
        if let Some(a) = &update.attributes {
            check_attributes(a)?;
        }
        if let Some(s) = &update.state {
            check_state(s)?;
        }
        if let Some(unique) = update.unique_name.as_ref().filter(|u| !u.is_empty()) {
            let taken = self
                .service(service)?
                .conversations
                .iter()
                .any(|c| c.unique_name.as_ref() == Some(unique) && c.sid != id);
            if taken {
                return Err(TwilioError::new(
                    409,
                    50353,
                    format!("Conversation with provided unique name {unique} already exists"),
                ));
            }
        }
        let c = self.find_mut(service, id)?;
        if c.state == "closed" {
            return Err(TwilioError::closed_is_final());
        }
        if let Some(a) = update.attributes {
            c.attributes = a;
        }
        if let Some(n) = update.friendly_name {
            c.friendly_name = Some(n);
        }
        if let Some(n) = update.unique_name {
            c.unique_name = (!n.is_empty()).then_some(n);
        }
        let mut state_changed = false;
        if let Some(s) = update.state {
            if s != c.state {
                c.state = s;
                c.state_updated = now_iso();
                state_changed = true;
            }
        }
        c.touch();
        let change = Change::ConversationUpdated {
            conversation: c.sid.clone(),
            state_changed,
        };
        Ok((c.clone(), vec![change]))
    }

    pub fn delete_conversation(&mut self, service: &str, id: &str) -> Written<()> {
        let target = self.service_mut(service)?;
        let at = target
            .conversations
            .iter()
            .position(|c| c.sid == id || c.unique_name.as_deref() == Some(id))
            .ok_or_else(|| TwilioError::conversation_not_found(id))?;
        let removed = target.conversations.remove(at);
        let change = Change::ConversationRemoved {
            conversation: Box::new(removed),
        };
        Ok(((), vec![change]))
    }

    /// Checks a participant before anything is written: an identity, JSON attributes, a
    /// conversation role of `service`.
    fn check_new_participant(
        &self,
        service: &str,
        new: &NewParticipant,
    ) -> Result<(), TwilioError> {
        if new.identity.is_empty() {
            return Err(TwilioError::invalid("Identity must not be empty"));
        }
        if let Some(a) = &new.attributes {
            check_attributes(a)?;
        }
        if let Some(role) = &new.role_sid {
            self.check_role(service, role, RoleKind::Conversation, "RoleSid")?;
        }
        Ok(())
    }

    /// Adds a chat participant with its role (the default conversation role unless named);
    /// refuses a second one with the same identity (50433) and a closed conversation (50446,
    /// when `closed_refuses`: clients may not join one; the REST API may add to it).
    pub fn add_participant(
        &mut self,
        service: &str,
        id: &str,
        new: NewParticipant,
        closed_refuses: bool,
    ) -> Written<Participant> {
        self.check_new_participant(service, &new)?;
        let c = self.find(service, id)?;
        if closed_refuses && c.state == "closed" {
            return Err(TwilioError::closed());
        }
        let identity = new.identity.as_str();
        if c.participant(identity).is_some() {
            return Err(TwilioError::new(
                409,
                50433,
                format!("Participant already exists: {identity}"),
            ));
        }
        let (_, mut changes) = self.ensure_user(service, identity)?;
        let role_sid = match new.role_sid {
            Some(role) => role,
            None => self
                .service(service)?
                .role_defaults
                .conversation_role
                .clone(),
        };
        let now = now_iso();
        let p = Participant {
            sid: new_sid("MB"),
            identity: Some(new.identity.clone()),
            role_sid,
            attributes: new.attributes.unwrap_or_else(|| "{}".into()),
            date_created: now.clone(),
            date_updated: now,
            last_read_message_index: None,
            last_read_timestamp: None,
        };
        let c = self.find_mut(service, id)?;
        c.participants.push(p.clone());
        changes.push(Change::ParticipantAdded {
            conversation: c.sid.clone(),
            participant: p.sid.clone(),
        });
        Ok((p, changes))
    }

    /// Creates a conversation with its participants in one write (`ConversationWithParticipants`):
    /// everything is checked first, so a refusal leaves nothing behind.
    pub fn create_conversation_with(
        &mut self,
        service: &str,
        new: NewConversation,
        participants: Vec<NewParticipant>,
    ) -> Written<Conversation> {
        if participants.len() > MAX_NEW_PARTICIPANTS {
            return Err(TwilioError::invalid(format!(
                "At most {MAX_NEW_PARTICIPANTS} participants may be added with a conversation"
            )));
        }
        for (at, p) in participants.iter().enumerate() {
            self.check_new_participant(service, p)?;
            if participants[..at].iter().any(|q| q.identity == p.identity) {
                return Err(TwilioError::new(
                    409,
                    50433,
                    format!("Participant already exists: {}", p.identity),
                ));
            }
        }
        let (conversation, mut changes) = self.create_conversation(service, new)?;
        for p in participants {
            changes.extend(
                self.add_participant(service, &conversation.sid, p, false)?
                    .1,
            );
        }
        let conversation = self.find(service, &conversation.sid)?.clone();
        Ok((conversation, changes))
    }

    /// Gives a participant (by SID or identity) another conversation role.
    pub fn set_participant_role(
        &mut self,
        service: &str,
        id: &str,
        who: &str,
        role_sid: &str,
    ) -> Written<Participant> {
        self.check_role(service, role_sid, RoleKind::Conversation, "RoleSid")?;
        let c = self.find_mut(service, id)?;
        let p = c
            .participants
            .iter_mut()
            .find(|p| p.sid == who || p.identity.as_deref() == Some(who))
            .ok_or_else(|| TwilioError::new(404, 50350, format!("Participant {who} not found")))?;
        p.role_sid = role_sid.to_owned();
        p.date_updated = now_iso();
        let p = p.clone();
        let change = Change::ParticipantUpdated {
            conversation: c.sid.clone(),
            participant: p.sid.clone(),
        };
        Ok((p, vec![change]))
    }

    /// Every conversation of `service` in which `identity` is a participant, with its
    /// participant, in creation order (`ParticipantConversations`).
    pub fn participations(
        &self,
        service: &str,
        identity: &str,
    ) -> Result<Vec<(&Conversation, &Participant)>, TwilioError> {
        Ok(self
            .service(service)?
            .conversations
            .iter()
            .filter_map(|c| c.participant(identity).map(|p| (c, p)))
            .collect())
    }

    /// Removes a participant named by SID (`MB…`) or identity.
    pub fn remove_participant(&mut self, service: &str, id: &str, who: &str) -> Written<()> {
        let c = self.find_mut(service, id)?;
        let at = c
            .participants
            .iter()
            .position(|p| p.sid == who || p.identity.as_deref() == Some(who))
            .ok_or_else(|| TwilioError::new(404, 50350, format!("Participant {who} not found")))?;
        let participant = c.participants.remove(at);
        c.touch();
        let change = Change::ParticipantRemoved {
            conversation: c.sid.clone(),
            participant,
        };
        Ok(((), vec![change]))
    }

    /// Appends a message; never to a closed conversation (50446). `member_only` (clients): the
    /// author must be a participant.
    pub fn append_message(
        &mut self,
        service: &str,
        id: &str,
        author: &str,
        body: Option<String>,
        attributes: Option<String>,
        member_only: bool,
    ) -> Written<Message> {
        self.append_message_with(
            service,
            id,
            author,
            body,
            attributes,
            member_only,
            Vec::new(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn append_message_with(
        &mut self,
        service: &str,
        id: &str,
        author: &str,
        body: Option<String>,
        attributes: Option<String>,
        member_only: bool,
        media: Vec<media::MediaRef>,
    ) -> Written<Message> {
        if let Some(a) = &attributes {
            check_attributes(a)?;
        }
        let c = self.find_mut(service, id)?;
        if member_only && c.participant(author).is_none() {
            return Err(TwilioError::not_participant(author));
        }
        if c.state == "closed" {
            return Err(TwilioError::closed());
        }
        let participant_sid = c.participant(author).map(|p| p.sid.clone());
        let m = Message {
            sid: new_sid("IM"),
            index: c.next_index,
            author: author.to_owned(),
            body,
            attributes: attributes.unwrap_or_else(|| "{}".into()),
            participant_sid,
            date_created: now_iso(),
            media,
        };
        c.next_index += 1;
        c.messages.push(m.clone());
        c.touch();
        let change = Change::MessageAdded {
            conversation: c.sid.clone(),
            index: m.index,
        };
        Ok((m, vec![change]))
    }

    /// Sets `identity`'s read horizon (`None` clears it). An index past the newest message is
    /// clamped to it, as Twilio does.
    pub fn set_read_horizon(
        &mut self,
        service: &str,
        id: &str,
        identity: &str,
        index: Option<u64>,
    ) -> Written<Participant> {
        let c = self.find_mut(service, id)?;
        let newest = c.messages.last().map(|m| m.index);
        let index = index.map(|i| newest.map_or(i, |n| i.min(n)));
        let p = c
            .participants
            .iter_mut()
            .find(|p| p.identity.as_deref() == Some(identity))
            .ok_or_else(|| TwilioError::not_participant(identity))?;
        p.last_read_message_index = index;
        p.last_read_timestamp = Some(now_iso());
        p.date_updated = now_iso();
        let p = p.clone();
        let change = Change::ParticipantUpdated {
            conversation: c.sid.clone(),
            participant: p.sid.clone(),
        };
        Ok((p, vec![change]))
    }

    /// A participant is typing: nothing is stored; the change reaches the others.
    pub fn typing(&self, service: &str, id: &str, identity: &str) -> Written<()> {
        let c = self.find(service, id)?;
        if c.participant(identity).is_none() {
            return Err(TwilioError::not_participant(identity));
        }
        let change = Change::Typing {
            conversation: c.sid.clone(),
            identity: identity.to_owned(),
        };
        Ok(((), vec![change]))
    }

    /// Adds a conversation-scoped webhook (no event: Twilio fires none for it; the change tells
    /// the webhook transport, which replays messages to it from `replay_after`).
    pub fn add_webhook(&mut self, service: &str, id: &str, webhook: Webhook) -> Written<Webhook> {
        let c = self.find_mut(service, id)?;
        if c.webhooks.len() >= MAX_WEBHOOKS {
            return Err(TwilioError::new(
                400,
                50361,
                "Maximum number of webhooks per conversation reached (5)",
            ));
        }
        c.webhooks.push(webhook.clone());
        let change = Change::WebhookAdded {
            conversation: c.sid.clone(),
            webhook: webhook.sid.clone(),
        };
        Ok((webhook, vec![change]))
    }

    pub fn remove_webhook(&mut self, service: &str, id: &str, webhook: &str) -> Written<()> {
        let c = self.find_mut(service, id)?;
        let at = c
            .webhooks
            .iter()
            .position(|w| w.sid == webhook)
            .ok_or_else(|| TwilioError::new(404, 20404, format!("Webhook {webhook} not found")))?;
        c.webhooks.remove(at);
        Ok(((), Vec::new()))
    }
}

/// At most this many webhooks on one conversation (Twilio's limit).
pub const MAX_WEBHOOKS: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    const IS: &str = "IS00000000000000000000000000000001";

    fn state() -> State {
        State::new(vec![(IS.to_owned(), ServiceWebhooks::default())])
    }

    fn conversation(s: &mut State) -> String {
        s.create_conversation(IS, NewConversation::default())
            .unwrap()
            .0
            .sid
    }

    #[test]
    fn a_participant_is_a_user_made_on_first_use() {
        let mut s = state();
        let sid = conversation(&mut s);
        let (_, changes) = s
            .add_participant(IS, &sid, NewParticipant::identity("ana"), true)
            .unwrap();
        assert!(matches!(changes[0], Change::UserAdded { .. }));
        assert!(matches!(changes[1], Change::ParticipantAdded { .. }));
        let other = conversation(&mut s);
        let (_, changes) = s
            .add_participant(IS, &other, NewParticipant::identity("ana"), true)
            .unwrap();
        assert_eq!(changes.len(), 1, "the user exists now");
        let again = s.add_participant(IS, &other, NewParticipant::identity("ana"), true);
        assert_eq!(again.unwrap_err().code, 50433);
    }

    #[test]
    fn clients_cannot_write_to_a_closed_conversation_or_one_they_are_not_in() {
        let mut s = state();
        let sid = conversation(&mut s);
        let stranger = s.append_message(IS, &sid, "eve", Some("hi".into()), None, true);
        assert_eq!(stranger.unwrap_err().status, 403);
        s.add_participant(IS, &sid, NewParticipant::identity("ana"), true)
            .unwrap();
        s.update_conversation(
            IS,
            &sid,
            ConversationUpdate {
                state: Some("closed".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let closed = s.append_message(IS, &sid, "ana", Some("hi".into()), None, true);
        assert_eq!(closed.unwrap_err().code, 50446);
        assert_eq!(
            s.add_participant(IS, &sid, NewParticipant::identity("bob"), true)
                .unwrap_err()
                .code,
            50446
        );
        // Nor may the REST API: closed is final (messages 50446, any update 50377).
        let rest = s.append_message(IS, &sid, "system", Some("bye".into()), None, false);
        assert_eq!(rest.unwrap_err().code, 50446);
        let update = ConversationUpdate {
            attributes: Some("{}".into()),
            ..ConversationUpdate::default()
        };
        let refused = s.update_conversation(IS, &sid, update).unwrap_err();
        assert_eq!((refused.status, refused.code), (400, 50377));
    }

    #[test]
    fn indexes_grow_and_read_horizons_are_clamped_and_counted() {
        let mut s = state();
        let sid = conversation(&mut s);
        s.add_participant(IS, &sid, NewParticipant::identity("ana"), true)
            .unwrap();
        for i in 0..3 {
            let (m, _) = s
                .append_message(IS, &sid, "ana", Some(format!("m{i}")), None, true)
                .unwrap();
            assert_eq!(m.index, i);
        }
        let c = s.find(IS, &sid).unwrap();
        assert_eq!(c.unread_for("ana"), None, "no horizon yet");
        let (p, _) = s.set_read_horizon(IS, &sid, "ana", Some(99)).unwrap();
        assert_eq!(p.last_read_message_index, Some(2));
        s.set_read_horizon(IS, &sid, "ana", Some(0)).unwrap();
        assert_eq!(s.find(IS, &sid).unwrap().unread_for("ana"), Some(2));
        assert_eq!(
            s.find(IS, &sid)
                .unwrap()
                .message(1)
                .unwrap()
                .body
                .as_deref(),
            Some("m1")
        );
    }

    #[test]
    fn state_changes_are_flagged_and_validated() {
        let mut s = state();
        let sid = conversation(&mut s);
        let update = |state: &str| ConversationUpdate {
            state: Some(state.into()),
            ..Default::default()
        };
        let (_, changes) = s.update_conversation(IS, &sid, update("active")).unwrap();
        assert!(matches!(
            changes[0],
            Change::ConversationUpdated {
                state_changed: false,
                ..
            }
        ));
        let (_, changes) = s.update_conversation(IS, &sid, update("closed")).unwrap();
        assert!(matches!(
            changes[0],
            Change::ConversationUpdated {
                state_changed: true,
                ..
            }
        ));
        assert_eq!(
            s.update_conversation(IS, &sid, update("gone"))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            s.update_conversation(
                IS,
                &sid,
                ConversationUpdate {
                    attributes: Some("{not json".into()),
                    ..Default::default()
                }
            )
            .unwrap_err()
            .status,
            400
        );
    }

    #[test]
    fn unique_names_are_unique_per_service() {
        let mut s = state();
        let new = || NewConversation {
            unique_name: Some("u1".into()),
            ..Default::default()
        };
        s.create_conversation(IS, new()).unwrap();
        assert_eq!(s.create_conversation(IS, new()).unwrap_err().code, 50353);
        assert!(s.find(IS, "u1").is_ok());
        let (_, changes) = s.delete_conversation(IS, "u1").unwrap();
        assert!(matches!(changes[0], Change::ConversationRemoved { .. }));
        assert_eq!(s.find(IS, "u1").unwrap_err().status, 404);
    }

    #[test]
    fn a_conversation_with_participants_is_made_whole_or_not_at_all() {
        let mut s = state();
        let admin = s
            .service(IS)
            .unwrap()
            .role_defaults
            .conversation_creator_role
            .clone();
        let service_role = s
            .service(IS)
            .unwrap()
            .role_defaults
            .chat_service_role
            .clone();
        let with_role = |identity: &str, role: &str| NewParticipant {
            role_sid: Some(role.to_owned()),
            ..NewParticipant::identity(identity)
        };
        let new = || NewConversation {
            unique_name: Some("u1".into()),
            ..NewConversation::default()
        };
        let refusals = [
            vec![with_role("ana", &admin), with_role("bo", &service_role)],
            vec![with_role("ana", &admin), with_role("bo", "RL0")],
            vec![
                NewParticipant::identity("ana"),
                NewParticipant::identity("ana"),
            ],
            vec![NewParticipant::identity(""); 1],
            (0..11)
                .map(|i| NewParticipant::identity(&format!("p{i}")))
                .collect(),
        ];
        for participants in refusals {
            assert!(s.create_conversation_with(IS, new(), participants).is_err());
            let service = s.service(IS).unwrap();
            assert!(service.conversations.is_empty() && service.users.is_empty());
        }
        let participants = vec![with_role("ana", &admin), NewParticipant::identity("bo")];
        let (c, changes) = s.create_conversation_with(IS, new(), participants).unwrap();
        assert!(matches!(changes[0], Change::ConversationAdded { .. }));
        let added = changes
            .iter()
            .filter(|c| matches!(c, Change::ParticipantAdded { .. }))
            .count();
        assert_eq!(added, 2);
        let roles: Vec<&str> = c.participants.iter().map(|p| p.role_sid.as_str()).collect();
        let member = &s.service(IS).unwrap().role_defaults.conversation_role;
        assert_eq!(roles, [admin.as_str(), member.as_str()]);
        let taken = s.create_conversation_with(IS, new(), Vec::new());
        assert_eq!(taken.unwrap_err().code, 50353);
        let found = s.participations(IS, "bo").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.sid, c.sid);
        assert!(s.participations(IS, "eve").unwrap().is_empty());
    }

    #[test]
    fn users_are_made_once_found_by_sid_or_identity_and_deleted() {
        let mut s = state();
        let (u, _) = s.create_user(IS, "ana", UserUpdate::default()).unwrap();
        assert_eq!(
            u.role_sid,
            s.service(IS).unwrap().role_defaults.chat_service_role
        );
        let again = s.create_user(IS, "ana", UserUpdate::default()).unwrap_err();
        assert_eq!((again.status, again.code), (409, 50201));
        assert_eq!(s.find_user(IS, &u.sid).unwrap().identity, "ana");
        let member = s
            .service(IS)
            .unwrap()
            .role_defaults
            .conversation_role
            .clone();
        let wrong_scope = UserUpdate {
            role_sid: Some(member),
            ..UserUpdate::default()
        };
        assert_eq!(
            s.update_user(IS, "ana", wrong_scope).unwrap_err().code,
            20001
        );
        let (_, changes) = s.delete_user(IS, &u.sid).unwrap();
        assert!(matches!(changes[0], Change::UserRemoved { .. }));
        assert_eq!(s.find_user(IS, "ana").unwrap_err().status, 404);
    }
}
