//! Post-event webhooks, as Twilio sends them: form-encoded POSTs signed with `X-Twilio-Signature`
//! (the account's auth token), to the service's post-event URL when its filters list the event,
//! and to each conversation-scoped `webhook` target whose filters do. `studio` targets cannot run
//! here, so they are recorded for tests to read.
//!
//! Events come from the model's changes (an observer of [`App::write`]): SDK actions always
//! (`Source=SDK`, `ClientIdentity`), REST actions only with `X-Twilio-Webhook-Enabled: true`.
//! Deliveries go out one at a time, in the order the events happened, from one background task;
//! every delivery (and its outcome) is kept for `GET /_emulator/deliveries`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::app::{App, Origin, World};
use crate::model::{Account, Change, Conversation, Message, Participant, ServiceWebhooks};

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

/// An event about to be announced: its parameters (without the common ones).
struct Event {
    event_type: &'static str,
    conversation_sid: String,
    params: Vec<(String, String)>,
}

/// One listener: kind (`service`, `webhook`, `studio`), URL, Studio flow, webhook SID.
type Target = (&'static str, Option<String>, Option<String>, Option<String>);

#[derive(Default)]
struct Log {
    deliveries: Vec<Delivery>,
    next: u64,
}

/// The webhook sender: its log and the queue its one task drains.
pub struct Webhooks {
    account: Account,
    log: Mutex<Log>,
    queue: mpsc::UnboundedSender<u64>,
    http: reqwest::Client,
}

impl Webhooks {
    /// Starts the delivery task and makes `app`'s writes announce themselves.
    pub fn start(app: &App) -> Arc<Webhooks> {
        let (queue, rx) = mpsc::unbounded_channel();
        let webhooks = Arc::new(Webhooks {
            account: app.account.clone(),
            log: Mutex::new(Log::default()),
            queue,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("an HTTP client without TLS always builds"),
        });
        tokio::spawn(deliver_all(webhooks.clone(), rx));
        let observer = webhooks.clone();
        app.observe(Box::new(move |world, change, origin| {
            observer.on_change(world, change, origin)
        }));
        webhooks
    }

    fn on_change(&self, world: &World, change: &Change, origin: &Origin) {
        if let Change::WebhookAdded {
            conversation,
            webhook,
        } = change
        {
            return self.replay(world, conversation, webhook);
        }
        let (source, identity) = match origin {
            Origin::Api { announce: false } => return,
            Origin::Api { announce: true } => ("API", None),
            Origin::Sdk { identity } => ("SDK", Some(identity.clone())),
        };
        let model = &world.model;
        let found = |sid: &str| model.conversation(sid);
        let (events, conversation): (Vec<Event>, Option<&Conversation>) = match change {
            Change::ConversationAdded { conversation } => {
                let Some(c) = found(conversation) else { return };
                (vec![conversation_event("onConversationAdded", c)], Some(c))
            }
            Change::ConversationUpdated {
                conversation,
                state_changed,
            } => {
                let Some(c) = found(conversation) else { return };
                let mut events = vec![conversation_event("onConversationUpdated", c)];
                if *state_changed {
                    events.push(conversation_event("onConversationStateUpdated", c));
                }
                (events, Some(c))
            }
            Change::ConversationRemoved { conversation } => (
                vec![conversation_event("onConversationRemoved", conversation)],
                Some(conversation.as_ref()),
            ),
            Change::ParticipantAdded {
                conversation,
                participant,
            }
            | Change::ParticipantUpdated {
                conversation,
                participant,
            } => {
                let Some(c) = found(conversation) else { return };
                let Some(p) = c.participant_by_sid(participant) else {
                    return;
                };
                let event_type = if matches!(change, Change::ParticipantAdded { .. }) {
                    "onParticipantAdded"
                } else {
                    "onParticipantUpdated"
                };
                (vec![participant_event(event_type, c, p)], Some(c))
            }
            Change::ParticipantRemoved {
                conversation,
                participant,
            } => {
                let Some(c) = found(conversation) else { return };
                (
                    vec![participant_event("onParticipantRemoved", c, participant)],
                    Some(c),
                )
            }
            Change::MessageAdded {
                conversation,
                index,
            } => {
                let Some(c) = found(conversation) else { return };
                let Some(m) = c.message(*index) else { return };
                (vec![message_event(c, m)], Some(c))
            }
            Change::UserAdded { .. }
            | Change::UserUpdated { .. }
            | Change::Typing { .. }
            | Change::WebhookAdded { .. } => return,
        };
        let Some(c) = conversation else { return };
        let Some(service) = model.services.get(&c.service_sid) else {
            return;
        };
        for event in events {
            self.announce(event, source, identity.as_deref(), &service.webhooks, c);
        }
    }

    /// A new conversation-scoped webhook with `Configuration.ReplayAfter`: the conversation's
    /// messages from that index on go to it (and to it only) as `onMessageAdded`, in order, as
    /// Twilio replays them, so that a bot attached after the first messages still hears them.
    fn replay(&self, world: &World, conversation: &str, webhook: &str) {
        let Some(c) = world.model.conversation(conversation) else {
            return;
        };
        let Some(hook) = c.webhooks.iter().find(|w| w.sid == webhook) else {
            return;
        };
        let Some(from) = hook.replay_after else {
            return;
        };
        if !hook.filters.is_empty() && !hook.filters.iter().any(|f| f == "onMessageAdded") {
            return;
        }
        let target = match hook.target.as_str() {
            "webhook" => ("webhook", hook.url.clone(), None, Some(hook.sid.clone())),
            "studio" => (
                "studio",
                None,
                hook.flow_sid.clone(),
                Some(hook.sid.clone()),
            ),
            _ => return,
        };
        for m in c.messages.iter().filter(|m| m.index >= from) {
            // A participant's message came from a client (the SDK); others from the REST API.
            let identity = m.participant_sid.is_some().then_some(m.author.as_str());
            let source = if identity.is_some() { "SDK" } else { "API" };
            self.queue_event(message_event(c, m), source, identity, vec![target.clone()]);
        }
    }

    /// Queues `event` for everyone who listens (see [`targets`]).
    fn announce(
        &self,
        event: Event,
        source: &str,
        identity: Option<&str>,
        service: &ServiceWebhooks,
        conversation: &Conversation,
    ) {
        let to = targets(event.event_type, service, Some(conversation));
        self.queue_event(event, source, identity, to);
    }

    /// Queues `event` for `to`, signed when sent (studio targets are only recorded).
    fn queue_event(&self, event: Event, source: &str, identity: Option<&str>, to: Vec<Target>) {
        let mut params = vec![
            ("AccountSid".to_owned(), self.account.account_sid.clone()),
            ("EventType".to_owned(), event.event_type.to_owned()),
            ("Source".to_owned(), source.to_owned()),
            ("RetryCount".to_owned(), "0".to_owned()),
        ];
        if let Some(identity) = identity {
            params.push(("ClientIdentity".to_owned(), identity.to_owned()));
        }
        params.extend(event.params);
        for (target, url, flow_sid, webhook_sid) in to {
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
            let id = self.keep(delivery);
            if !recorded {
                let _ = self.queue.send(id);
            }
        }
    }

    fn keep(&self, mut delivery: Delivery) -> u64 {
        let mut log = self.log.lock().unwrap();
        log.next += 1;
        delivery.id = log.next;
        log.deliveries.push(delivery);
        if log.deliveries.len() > KEPT_DELIVERIES {
            log.deliveries.remove(0);
        }
        log.next
    }

    /// Sends delivery `id` again, as Twilio does when it retries: same parameters,
    /// `RetryCount` one higher, signed anew. Returns the new delivery's id.
    pub fn redeliver(&self, id: u64) -> Option<u64> {
        let mut delivery = {
            let log = self.log.lock().unwrap();
            log.deliveries.iter().find(|d| d.id == id)?.clone()
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
        let new_id = self.keep(delivery);
        let _ = self.queue.send(new_id);
        Some(new_id)
    }

    /// Every delivery kept, and how many are still waiting to be sent or answered.
    pub fn deliveries(&self) -> (usize, Vec<Delivery>) {
        let log = self.log.lock().unwrap();
        let pending = log
            .deliveries
            .iter()
            .filter(|d| d.status == "pending")
            .count();
        (pending, log.deliveries.clone())
    }

    pub fn reset(&self) {
        *self.log.lock().unwrap() = Log::default();
    }
}

/// Who hears `event`: the service's post-event URL and the conversation's own webhooks.
fn targets(
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

fn conversation_event(event_type: &'static str, c: &Conversation) -> Event {
    let mut params = vec![
        ("ConversationSid".to_owned(), c.sid.clone()),
        ("ChatServiceSid".to_owned(), c.service_sid.clone()),
        ("Attributes".to_owned(), c.attributes.clone()),
        ("DateCreated".to_owned(), c.date_created.clone()),
        ("DateUpdated".to_owned(), c.date_updated.clone()),
        ("State".to_owned(), c.state.clone()),
    ];
    if let Some(n) = &c.friendly_name {
        params.push(("FriendlyName".to_owned(), n.clone()));
    }
    if let Some(n) = &c.unique_name {
        params.push(("UniqueName".to_owned(), n.clone()));
    }
    Event {
        event_type,
        conversation_sid: c.sid.clone(),
        params,
    }
}

fn message_event(c: &Conversation, m: &Message) -> Event {
    let mut params = vec![
        ("ConversationSid".to_owned(), c.sid.clone()),
        ("ChatServiceSid".to_owned(), c.service_sid.clone()),
        ("MessageSid".to_owned(), m.sid.clone()),
        ("Index".to_owned(), m.index.to_string()),
        ("Author".to_owned(), m.author.clone()),
        ("Attributes".to_owned(), m.attributes.clone()),
        ("DateCreated".to_owned(), m.date_created.clone()),
    ];
    if let Some(body) = &m.body {
        params.push(("Body".to_owned(), body.clone()));
    }
    if let Some(p) = &m.participant_sid {
        params.push(("ParticipantSid".to_owned(), p.clone()));
    }
    Event {
        event_type: "onMessageAdded",
        conversation_sid: c.sid.clone(),
        params,
    }
}

fn participant_event(event_type: &'static str, c: &Conversation, p: &Participant) -> Event {
    let mut params = vec![
        ("ConversationSid".to_owned(), c.sid.clone()),
        ("ChatServiceSid".to_owned(), c.service_sid.clone()),
        ("ParticipantSid".to_owned(), p.sid.clone()),
        ("Attributes".to_owned(), p.attributes.clone()),
        ("DateCreated".to_owned(), p.date_created.clone()),
    ];
    if let Some(i) = &p.identity {
        params.push(("Identity".to_owned(), i.clone()));
    }
    if let Some(i) = p.last_read_message_index {
        params.push(("LastReadMessageIndex".to_owned(), i.to_string()));
    }
    Event {
        event_type,
        conversation_sid: c.sid.clone(),
        params,
    }
}

/// The one task that sends deliveries, in order.
async fn deliver_all(webhooks: Arc<Webhooks>, mut queue: mpsc::UnboundedReceiver<u64>) {
    while let Some(id) = queue.recv().await {
        let Some((url, params)) = ({
            let log = webhooks.log.lock().unwrap();
            log.deliveries
                .iter()
                .find(|d| d.id == id)
                .and_then(|d| Some((d.url.clone()?, d.params.clone())))
        }) else {
            continue;
        };
        let started = Instant::now();
        let outcome = send(&webhooks, &url, &params).await;
        let mut log = webhooks.log.lock().unwrap();
        if let Some(d) = log.deliveries.iter_mut().find(|d| d.id == id) {
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

async fn send(webhooks: &Webhooks, url: &str, params: &[(String, String)]) -> Result<u16, String> {
    let signature = edgechat_core::twilio::signature::expected_signature(
        &webhooks.account.auth_token,
        url,
        params,
    );
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = webhooks
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
