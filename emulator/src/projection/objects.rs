//! How an object changes: created, items set and removed, removed, a document rewritten; each
//! change logged as an event with the next id and pushed to the object's subscribers. And the
//! JSON the SDK reads for each object, item and event.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::{
    Access, ConversationObjects, Event, Item, ItemKey, Kind, Notification, Object, Projection, CDS,
    KEPT_EVENTS,
};
use crate::model::{new_sid, now_iso, Conversation, Message, Participant, User};

impl Projection {
    pub(super) fn create(
        &mut self,
        kind: Kind,
        unique_name: String,
        access: Access,
        data: Value,
    ) -> String {
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
    pub(super) fn emit(
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

    pub(super) fn set_item(&mut self, sid: &str, key: ItemKey, data: Value) {
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

    pub(super) fn remove_item(&mut self, sid: &str, key: ItemKey) {
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

    pub(super) fn remove_object(&mut self, sid: &str, at_removal: Option<Vec<String>>) {
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

    pub(super) fn update_document(&mut self, sid: &str, data: Value) {
        self.emit(sid, "document_updated", |o, _| {
            o.data = data.clone();
            json!({"document_sid": o.sid, "document_data": data, "document_revision": (o.revision).to_string()})
        });
    }
}

pub(super) fn conversation_document(
    c: &Conversation,
    objects: &ConversationObjects,
    names: &Names,
) -> Value {
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

pub(super) fn my_conversation_item(
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

pub(super) fn roster_item(p: &Participant, user_info: Option<&str>) -> Value {
    json!({
        "identity": p.identity,
        "attributes": p.attributes,
        "roleSid": p.role_sid,
        "dateCreated": p.date_created,
        "dateUpdated": p.date_updated,
        "lastConsumedMessageIndex": p.last_read_message_index,
        "lastConsumptionTimestamp": p.last_read_timestamp,
        "type": "chat",
        "userInfo": user_info,
    })
}

pub(super) fn message_item(m: &Message) -> Value {
    // Media as the SDK reads it: `medias` (each with `category`, or the SDK skips it), and the
    // older single `media` beside it.
    let medias: Vec<Value> = m
        .media
        .iter()
        .map(|r| {
            json!({"sid": r.sid, "category": "media", "filename": r.filename,
                   "contentType": r.content_type, "size": r.size})
        })
        .collect();
    json!({
        "sid": m.sid,
        "text": m.body,
        "author": m.author,
        "attributes": m.attributes,
        "timestamp": m.date_created,
        "dateUpdated": m.date_created,
        "memberSid": m.participant_sid,
        "type": if medias.is_empty() { "text" } else { "media" },
        "media": medias.first().map(|first| {
            json!({"sid": first["sid"], "contentType": first["contentType"],
                   "filename": first["filename"], "size": first["size"]})
        }),
        "medias": if medias.is_empty() { Value::Null } else { Value::Array(medias) },
        "subject": null,
        "contentSid": null,
        "lastUpdatedBy": null,
    })
}

pub(super) fn user_info_items(u: &User) -> [(&'static str, Value); 2] {
    [
        ("friendlyName", json!({"value": u.friendly_name})),
        ("attributes", json!({"value": u.attributes})),
    ]
}

/// Unique names by SID, borrowed apart from the objects being changed.
pub(super) struct Names<'a>(pub(super) &'a HashMap<String, Object>);

impl Names<'_> {
    pub(super) fn of(&self, sid: &str) -> String {
        self.0
            .get(sid)
            .map(|o| o.unique_name.clone())
            .unwrap_or_default()
    }
}

pub(super) fn item_url(o: &Object, key: &ItemKey) -> String {
    format!(
        "{CDS}/v3/{}/{}/Items/{}",
        o.kind.path(),
        o.sid,
        key.url_part()
    )
}

pub(super) fn item_event(o: &Object, key: &ItemKey, data: &Value, revision: u64) -> Value {
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

pub(super) fn item_json(o: &Object, key: &ItemKey, item: &Item, base: &str) -> Value {
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
