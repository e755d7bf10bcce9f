//! Post-event webhooks, as Twilio sends them: form-encoded POSTs signed with `X-Twilio-Signature`
//! (the account's auth token), to the service's post-event URL when its filters list the event,
//! and to each conversation-scoped `webhook` target whose filters do. `studio` targets cannot run
//! here, so they are recorded for tests to read.
//!
//! Deliveries go out one at a time, in the order the events happened, from one background task;
//! every delivery (and its outcome) is kept for `GET /_emulator/deliveries`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::model::{Conversation, Message, ServiceWebhooks};
use crate::App;

/// How long the emulator waits for a webhook's answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// Deliveries kept for inspection; the oldest are dropped beyond this.
const KEPT_DELIVERIES: usize = 5_000;

#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: u64,
    /// `service` (the service's post-event URL), `webhook` or `studio` (conversation-scoped).
    pub target: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_sid: Option<String>,
    pub event_type: String,
    pub conversation_sid: String,
    pub params: Vec<(String, String)>,
    /// pending | delivered (2xx) | failed (other status, or no answer) | recorded (studio)
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
}

/// An event about to be announced: its parameters (without the common ones) and who hears it.
pub struct Event {
    pub event_type: &'static str,
    pub source: &'static str,
    pub client_identity: Option<String>,
    pub conversation_sid: String,
    pub params: Vec<(String, String)>,
}

/// One listener: kind (`service`, `webhook`, `studio`), URL, Studio flow, webhook SID.
type Target = (&'static str, Option<String>, Option<String>, Option<String>);

/// Who hears `event`: the service's post-event URL and the conversation's own webhooks.
pub fn targets(
    event_type: &str,
    service: &ServiceWebhooks,
    conversation: Option<&Conversation>,
) -> Vec<Target> {
    let mut out = Vec::new();
    if let Some(url) = &service.post_webhook_url {
        if service.filters.iter().any(|f| f == event_type) {
            out.push(("service", Some(url.clone()), None, None));
        }
    }
    for hook in conversation.map(|c| c.webhooks.as_slice()).unwrap_or(&[]) {
        let filters: &[String] = &hook.filters;
        let listens = if hook.target == "studio" && filters.is_empty() {
            event_type == "onMessageAdded"
        } else {
            filters.iter().any(|f| f == event_type)
        };
        if !listens {
            continue;
        }
        match hook.target.as_str() {
            "webhook" => out.push(("webhook", hook.url.clone(), None, Some(hook.sid.clone()))),
            "studio" => out.push((
                "studio",
                None,
                hook.flow_sid.clone(),
                Some(hook.sid.clone()),
            )),
            _ => {}
        }
    }
    out
}

impl App {
    /// Queues `event` for everyone who listens (see [`targets`]).
    pub fn announce(
        self: &Arc<Self>,
        event: Event,
        service: &ServiceWebhooks,
        conversation: Option<&Conversation>,
    ) {
        let mut params = vec![
            ("AccountSid".to_owned(), self.account.account_sid.clone()),
            ("EventType".to_owned(), event.event_type.to_owned()),
            ("Source".to_owned(), event.source.to_owned()),
            ("RetryCount".to_owned(), "0".to_owned()),
        ];
        if let Some(identity) = &event.client_identity {
            params.push(("ClientIdentity".to_owned(), identity.clone()));
        }
        params.extend(event.params);
        for (target, url, flow_sid, webhook_sid) in targets(event.event_type, service, conversation)
        {
            let recorded = target == "studio";
            let delivery = Delivery {
                id: 0,
                target,
                url,
                flow_sid,
                webhook_sid,
                event_type: event.event_type.to_owned(),
                conversation_sid: event.conversation_sid.clone(),
                params: params.clone(),
                status: if recorded { "recorded" } else { "pending" },
                http_status: None,
                error: None,
                ms: None,
            };
            let id = self.keep_delivery(delivery);
            if !recorded {
                let _ = self.deliveries_tx.send(id);
            }
        }
    }

    /// Announces `event` to the listeners of `service_sid` and of `conversation`.
    pub fn announce_in(
        self: &Arc<Self>,
        service_sid: &str,
        event: Event,
        conversation: &Conversation,
    ) {
        let state = self.state.lock().unwrap();
        if let Some(service) = state.services.get(service_sid) {
            self.announce(event, &service.webhooks, Some(conversation));
        }
    }

    /// A message was stored: connected clients hear it at once, and webhooks hear it when
    /// `announce` gives its source and client identity (SDK actions always; REST actions only
    /// with `X-Twilio-Webhook-Enabled: true`).
    pub fn message_added(
        self: &Arc<Self>,
        conversation: &Conversation,
        message: &Message,
        announce: Option<(&'static str, Option<String>)>,
    ) {
        self.push(crate::realtime::Push::MessageAdded {
            conversation: conversation.sid.clone(),
            message: message.clone(),
        });
        if let Some((source, identity)) = announce {
            let event = crate::rest::message_event(source, identity, conversation, message);
            self.announce_in(&conversation.service_sid, event, conversation);
        }
    }

    fn keep_delivery(&self, mut delivery: Delivery) -> u64 {
        let mut logs = self.logs.lock().unwrap();
        logs.next_delivery += 1;
        delivery.id = logs.next_delivery;
        logs.deliveries.push(delivery);
        if logs.deliveries.len() > KEPT_DELIVERIES {
            logs.deliveries.remove(0);
        }
        logs.next_delivery
    }

    /// Sends delivery `id` again, as Twilio does when it retries: same parameters,
    /// `RetryCount` one higher, signed anew. Returns the new delivery's id.
    pub fn redeliver(self: &Arc<Self>, id: u64) -> Option<u64> {
        let mut delivery = {
            let logs = self.logs.lock().unwrap();
            logs.deliveries.iter().find(|d| d.id == id)?.clone()
        };
        if delivery.target == "studio" {
            return None;
        }
        for (k, v) in delivery.params.iter_mut() {
            if k == "RetryCount" {
                *v = (v.parse::<u32>().unwrap_or(0) + 1).to_string();
            }
        }
        delivery.status = "pending";
        delivery.http_status = None;
        delivery.error = None;
        delivery.ms = None;
        let new_id = self.keep_delivery(delivery);
        let _ = self.deliveries_tx.send(new_id);
        Some(new_id)
    }

    /// Whether any delivery is still waiting to be sent or answered.
    pub fn deliveries_pending(&self) -> usize {
        let logs = self.logs.lock().unwrap();
        logs.deliveries
            .iter()
            .filter(|d| d.status == "pending")
            .count()
    }
}

/// The one task that sends deliveries, in order.
pub async fn deliver_all(app: Arc<App>, mut queue: mpsc::UnboundedReceiver<u64>) {
    while let Some(id) = queue.recv().await {
        let Some((url, params)) = ({
            let logs = app.logs.lock().unwrap();
            logs.deliveries
                .iter()
                .find(|d| d.id == id)
                .and_then(|d| Some((d.url.clone()?, d.params.clone())))
        }) else {
            continue;
        };
        let started = Instant::now();
        let outcome = send(&app, &url, &params).await;
        let mut logs = app.logs.lock().unwrap();
        if let Some(d) = logs.deliveries.iter_mut().find(|d| d.id == id) {
            d.ms = Some(started.elapsed().as_millis() as u64);
            match outcome {
                Ok(status) => {
                    d.http_status = Some(status);
                    d.status = if (200..300).contains(&status) {
                        "delivered"
                    } else {
                        "failed"
                    };
                }
                Err(e) => {
                    d.status = "failed";
                    d.error = Some(e);
                }
            }
        }
    }
}

async fn send(app: &App, url: &str, params: &[(String, String)]) -> Result<u16, String> {
    let signature =
        edgechat_core::twilio_signature::expected_signature(&app.account.auth_token, url, params);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = app
        .http
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .header("I-Twilio-Idempotency-Token", crate::model::new_sid(""))
        .header("User-Agent", "TwilioProxy/1.1")
        .body(body)
        .timeout(DELIVERY_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    Ok(response.status().as_u16())
}
