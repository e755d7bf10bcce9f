//! Subscribers (one per realtime connection), their subscriptions, and the replay of logged
//! events newer than a client's `last_event_id` before a subscription is established.

use std::collections::HashSet;

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::{Kind, Notification, Projection, Reader, Subscriber, SubscriptionRequest};
use crate::model::{State, TwilioError};

impl Projection {
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
