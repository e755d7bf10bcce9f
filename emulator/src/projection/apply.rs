//! Each model change carried into the objects (and so to their subscribers).

use serde_json::{json, Value};

use super::objects::{
    conversation_document, message_item, my_conversation_item, roster_item, user_info_items, Names,
};
use super::{
    Access, ConversationObjects, Item, ItemKey, Kind, Notification, Projection, UserObjects,
    TYPING_TIMEOUT_SECONDS,
};
use crate::model::{Change, Conversation, Participant, State};

impl Projection {
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
            Change::UserRemoved { service, identity } => {
                let key = (service.clone(), identity.clone());
                if let Some(objects) = self.users.remove(&key) {
                    self.remove_object(&objects.my_conversations, None);
                    self.remove_object(&objects.info, None);
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

    pub(super) fn user_added(&mut self, model: &State, service: &str, identity: &str) {
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

    pub(super) fn conversation_added(&mut self, c: &Conversation) {
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
            Access::Peekers {
                conversation: c.sid.clone(),
            },
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

    pub(super) fn my_conversation_changed(
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
}
