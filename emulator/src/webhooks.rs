//! Post-event webhooks, as Twilio sends them: form-encoded POSTs signed with `X-Twilio-Signature`
//! (the account's auth token), to the service's post-event URL when its filters list the event,
//! and to each conversation-scoped `webhook` target whose filters do. `studio` targets cannot run
//! here, so they are recorded for tests to read.
//!
//! Events come from the model's changes (an observer of [`App::write`]): SDK actions always
//! (`Source=SDK`, `ClientIdentity`), REST actions only with `X-Twilio-Webhook-Enabled: true`.
//! Deliveries go out one at a time, in the order the events happened, from one background task;
//! every delivery (and its outcome) is kept for `GET /_emulator/deliveries`.
//!
//! A service's post-event delivery that times out (5 s) or is answered 429, 503 or 504 is sent
//! again, with `RetryCount` one higher, as many times as the service's `PostWebhookRetryCount`
//! says (default 0: never), as Twilio does; conversation-scoped webhooks are never retried.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::app::{App, Origin, World};
use crate::model::{Account, Change, Conversation, Message, Participant, ServiceWebhooks};

/// How long the emulator waits for a webhook's answer: Twilio's 5 s.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
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
    /// How many retries the service allowed when the event happened (its
    /// `PostWebhookRetryCount`; 0 for conversation-scoped targets).
    pub retries_allowed: u8,
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Answered(u16),
    /// No answer within [`DELIVERY_TIMEOUT`].
    TimedOut,
    /// No answer for another reason (refused, reset).
    Failed(String),
}

impl Outcome {
    /// Whether Twilio sends the event again after this attempt (when retries are left).
    fn retried(&self) -> bool {
        matches!(self, Outcome::TimedOut | Outcome::Answered(429 | 503 | 504))
    }
}

/// The attempt number an event's parameters carry (`RetryCount`, 0 for the first).
fn retry_count(params: &[(String, String)]) -> u8 {
    params
        .iter()
        .find(|(k, _)| k == "RetryCount")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
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

impl Log {
    fn keep(&mut self, mut delivery: Delivery) -> u64 {
        self.next += 1;
        delivery.id = self.next;
        self.deliveries.push(delivery);
        if self.deliveries.len() > KEPT_DELIVERIES {
            self.deliveries.remove(0);
        }
        self.next
    }
}

impl Delivery {
    /// The next attempt: same parameters, `RetryCount` one higher, not yet sent (studio
    /// targets are only recorded, never sent, so never retried).
    fn retry(&self) -> Option<Delivery> {
        if self.target == "studio" {
            return None;
        }
        let mut next = self.clone();
        for (k, v) in next.params.iter_mut() {
            if k == "RetryCount" {
                *v = (v.parse::<u32>().unwrap_or(0) + 1).to_string();
            }
        }
        next.status = "pending";
        next.http_status = None;
        next.error = None;
        next.ms = None;
        Some(next)
    }
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
            | Change::UserRemoved { .. }
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
            self.queue_event(
                message_event(c, m),
                source,
                identity,
                vec![target.clone()],
                0,
            );
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
        let retries = service.post_webhook_retry_count;
        self.queue_event(event, source, identity, to, retries);
    }

    /// Queues `event` for `to`, signed when sent (studio targets are only recorded); a
    /// `service` target may be retried `retries` times.
    fn queue_event(
        &self,
        event: Event,
        source: &str,
        identity: Option<&str>,
        to: Vec<Target>,
        retries: u8,
    ) {
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
                retries_allowed: if target == "service" { retries } else { 0 },
            };
            let id = self.keep(delivery);
            if !recorded {
                let _ = self.queue.send(id);
            }
        }
    }

    fn keep(&self, delivery: Delivery) -> u64 {
        self.log.lock().unwrap().keep(delivery)
    }

    /// Sends delivery `id` again, as Twilio does when it retries: same parameters,
    /// `RetryCount` one higher, signed anew. Returns the new delivery's id.
    pub fn redeliver(&self, id: u64) -> Option<u64> {
        let new_id = {
            let mut log = self.log.lock().unwrap();
            let retry = log.deliveries.iter().find(|d| d.id == id)?.retry()?;
            log.keep(retry)
        };
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
    if !m.media.is_empty() {
        // A JSON list, as Twilio sends it: each item's Sid, Filename, ContentType, Size, Category.
        let media: Vec<serde_json::Value> = m
            .media
            .iter()
            .map(|r| {
                serde_json::json!({"Sid": r.sid, "Filename": r.filename,
                                   "ContentType": r.content_type, "Size": r.size, "Category": "media"})
            })
            .collect();
        params.push((
            "Media".to_owned(),
            serde_json::Value::Array(media).to_string(),
        ));
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
        let retry = {
            let mut log = webhooks.log.lock().unwrap();
            let Some(d) = log.deliveries.iter_mut().find(|d| d.id == id) else {
                continue;
            };
            d.ms = Some(started.elapsed().as_millis() as u64);
            match &outcome {
                Outcome::Answered(status) => {
                    d.http_status = Some(*status);
                    d.status = if (200..300).contains(status) {
                        "delivered"
                    } else {
                        "failed"
                    };
                }
                Outcome::TimedOut => {
                    d.status = "failed";
                    d.error = Some(format!("no answer within {DELIVERY_TIMEOUT:?}"));
                }
                Outcome::Failed(e) => {
                    d.status = "failed";
                    d.error = Some(e.clone());
                }
            }
            // Queued under the same lock, so no reader sees the event settled in between.
            let again = (outcome.retried() && retry_count(&d.params) < d.retries_allowed)
                .then(|| d.retry())
                .flatten();
            again.map(|d| log.keep(d))
        };
        if let Some(next) = retry {
            let _ = webhooks.queue.send(next);
        }
    }
}

async fn send(webhooks: &Webhooks, url: &str, params: &[(String, String)]) -> Outcome {
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
        .await;
    match response {
        Ok(response) => Outcome::Answered(response.status().as_u16()),
        Err(e) if e.is_timeout() => Outcome::TimedOut,
        Err(e) => Outcome::Failed(format!("no answer: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_retries_after_a_timeout_429_503_or_504_only() {
        let retried: Vec<u16> = (100..600)
            .filter(|s| Outcome::Answered(*s).retried())
            .collect();
        assert_eq!(retried, [429, 503, 504]);
        assert!(Outcome::TimedOut.retried());
        assert!(!Outcome::Failed("connection refused".into()).retried());
    }

    #[test]
    fn the_attempt_number_is_read_from_retry_count() {
        let params = |v: &str| vec![("RetryCount".to_owned(), v.to_owned())];
        assert_eq!(retry_count(&params("0")), 0);
        assert_eq!(retry_count(&params("2")), 2);
        assert_eq!(retry_count(&[]), 0);
    }
}
