//! The Conversations REST calls the Worker makes, as data: each request's method, path and form
//! parameters, the JSON shapes it reads back, Twilio's error JSON, the plan for attaching a site's
//! automation to a conversation without ever adding a second equivalent webhook, and the retry
//! policy. The Worker only sends what this module builds, so all of it is tested natively.
//!
//! Every path is service-scoped (`/v1/Services/{IS}/Conversations/{CH}/...`): a site's
//! conversations live in the site's own Conversations service, which need not be the account's
//! default one.

use serde::Deserialize;

use crate::ids::sid::{ConversationSid, FlowSid, ServiceSid, WebhookSid};
pub use crate::retry::RetryPolicy;

/// Twilio's Conversations API; the Worker's var `TWILIO_API_BASE` points elsewhere (the local
/// emulator) when set.
pub const DEFAULT_API_BASE: &str = "https://conversations.twilio.com";
/// Twilio allows at most this many webhooks on one conversation.
pub const MAX_CONVERSATION_WEBHOOKS: usize = 5;
/// Twilio's error code for a conversation that already has [`MAX_CONVERSATION_WEBHOOKS`].
pub const ERROR_WEBHOOK_LIMIT: u32 = 50361;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRequest {
    pub method: Method,
    /// Path and query, starting with `/v1/`.
    pub path: String,
    /// Form parameters, in order; a key may repeat (Twilio's list parameters).
    pub form: Vec<(String, String)>,
    /// Send `X-Twilio-Webhook-Enabled: true`, so that Twilio announces the action to webhooks
    /// (other integrations see the bot's messages; the Worker ignores its own).
    pub announce: bool,
    /// What the request does, for log lines.
    pub action: &'static str,
    /// It creates something: after an answer that leaves in doubt whether it took effect (no
    /// answer, a 5xx), it is not sent again within this handling; the webhook is answered 503
    /// and the redelivery looks first (lists what exists) before it creates anything. Only a
    /// 429, which says Twilio did nothing, is retried at once.
    pub creates: bool,
}

impl RestRequest {
    fn new(method: Method, path: String, action: &'static str) -> RestRequest {
        RestRequest {
            method,
            path,
            form: Vec::new(),
            announce: false,
            action,
            creates: false,
        }
    }

    fn creating(mut self) -> RestRequest {
        self.creates = true;
        self
    }

    /// Whether another attempt may follow a failure with this status (`None`: no answer).
    pub fn may_retry(&self, status: Option<u16>) -> bool {
        match status {
            Some(429) => true,
            Some(status) => !self.creates && is_retryable(status),
            None => !self.creates,
        }
    }

    fn param(mut self, key: &str, value: &str) -> RestRequest {
        self.form.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn url(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path)
    }

    /// The `application/x-www-form-urlencoded` body (`None` for a GET).
    pub fn body(&self) -> Option<String> {
        (self.method == Method::Post).then(|| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&self.form)
                .finish()
        })
    }
}

fn conversation_path(service: &ServiceSid, conversation: &ConversationSid) -> String {
    format!("/v1/Services/{service}/Conversations/{conversation}")
}

pub fn list_webhooks(service: &ServiceSid, conversation: &ConversationSid) -> RestRequest {
    // One page holds them all: a conversation has at most five.
    let path = format!(
        "{}/Webhooks?PageSize=50",
        conversation_path(service, conversation)
    );
    RestRequest::new(Method::Get, path, "list_webhooks")
}

/// A message by `author`, with `attributes` (JSON text) when given. Announced: the service's
/// webhooks (and so agents' tools) hear of it as of any other message.
pub fn create_message(
    service: &ServiceSid,
    conversation: &ConversationSid,
    author: &str,
    body: &str,
    attributes: Option<&str>,
) -> RestRequest {
    let path = format!("{}/Messages", conversation_path(service, conversation));
    let mut request = RestRequest::new(Method::Post, path, "create_message")
        .creating()
        .param("Author", author)
        .param("Body", body);
    if let Some(attributes) = attributes {
        request = request.param("Attributes", attributes);
    }
    request.announce = true;
    request
}

/// `GET .../Participants`: who is in the conversation (one page: a visitor's conversation has
/// the visitor and a few agents or bots).
pub fn list_participants(service: &ServiceSid, conversation: &ConversationSid) -> RestRequest {
    let path = format!(
        "{}/Participants?PageSize=100",
        conversation_path(service, conversation)
    );
    RestRequest::new(Method::Get, path, "list_participants")
}

/// `POST .../Conversations/{CH}` with `State=closed`: the conversation ends for good, announced
/// to the service's webhooks. With `attributes`, they are replaced in the same update, the only
/// one that can: Twilio refuses any update of a closed conversation ([`CLOSED_IS_FINAL`]).
pub fn close_conversation(
    service: &ServiceSid,
    conversation: &ConversationSid,
    attributes: Option<&str>,
) -> RestRequest {
    let mut request = RestRequest::new(
        Method::Post,
        conversation_path(service, conversation),
        "close_conversation",
    );
    if let Some(attributes) = attributes {
        request = request.param("Attributes", attributes);
    }
    let mut request = request.param("State", "closed");
    request.announce = true;
    request
}

/// Twilio's error for an update of a closed conversation ("final closed state").
pub const CLOSED_IS_FINAL: u32 = 50377;

/// `GET /v1/Services/{IS}/ParticipantConversations?Identity=…`: the conversations `identity`
/// is in, with their state and unique name (one page: a visitor has a few).
pub fn list_participant_conversations(service: &ServiceSid, identity: &str) -> RestRequest {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Identity", identity)
        .append_pair("PageSize", "50")
        .finish();
    let path = format!("/v1/Services/{service}/ParticipantConversations?{query}");
    RestRequest::new(Method::Get, path, "list_participant_conversations")
}

/// `POST /v1/Services/{IS}/ConversationWithParticipants`: a conversation with `identity`
/// already in it (the service's default conversation role), its attributes and its unique
/// name, in one request. Announced, so that the service's webhook hears `onConversationAdded`
/// (`Source=API`) and attaches the site's automation.
pub fn create_conversation_with(
    service: &ServiceSid,
    unique_name: &str,
    attributes: &str,
    identity: &str,
) -> RestRequest {
    let participant = format!(
        "{{\"identity\":{}}}",
        serde_json::to_string(identity).unwrap_or_default()
    );
    let mut request = RestRequest::new(
        Method::Post,
        format!("/v1/Services/{service}/ConversationWithParticipants"),
        "create_conversation",
    )
    .creating()
    .param("UniqueName", unique_name)
    .param("Attributes", attributes)
    .param("Participant", &participant);
    request.announce = true;
    request
}

/// `POST .../Conversations/{CH}/Participants` with `Identity`: `identity` joins (the service's
/// default conversation role).
pub fn add_participant(
    service: &ServiceSid,
    conversation: &ConversationSid,
    identity: &str,
) -> RestRequest {
    RestRequest::new(
        Method::Post,
        format!("{}/Participants", conversation_path(service, conversation)),
        "add_participant",
    )
    .creating()
    .param("Identity", identity)
}

/// Twilio's error for a participant already in the conversation.
pub const PARTICIPANT_EXISTS: u32 = 50433;

/// `POST .../Conversations/{CH}` with `Attributes`: replaces them.
pub fn set_attributes(
    service: &ServiceSid,
    conversation: &ConversationSid,
    attributes: &str,
) -> RestRequest {
    RestRequest::new(
        Method::Post,
        conversation_path(service, conversation),
        "set_attributes",
    )
    .param("Attributes", attributes)
}

/// `POST /v1/Services/{IS}/Users/{identity}` with `FriendlyName`: how agents see a user.
pub fn name_user(service: &ServiceSid, identity: &str, friendly_name: &str) -> RestRequest {
    let id: String = url::form_urlencoded::byte_serialize(identity.as_bytes()).collect();
    RestRequest::new(
        Method::Post,
        format!("/v1/Services/{service}/Users/{id}"),
        "name_user",
    )
    .param("FriendlyName", friendly_name)
}

/// `POST /v1/Services/{IS}/Users`: the user, named, when [`name_user`] found none.
pub fn create_user(service: &ServiceSid, identity: &str, friendly_name: &str) -> RestRequest {
    RestRequest::new(
        Method::Post,
        format!("/v1/Services/{service}/Users"),
        "create_user",
    )
    .creating()
    .param("Identity", identity)
    .param("FriendlyName", friendly_name)
}

/// Twilio's error for a unique name another conversation of the service has.
pub const UNIQUE_NAME_TAKEN: u32 = 50353;

/// Fetches a conversation by its unique name.
pub fn fetch_conversation_named(service: &ServiceSid, unique_name: &str) -> RestRequest {
    let name: String = url::form_urlencoded::byte_serialize(unique_name.as_bytes()).collect();
    RestRequest::new(
        Method::Get,
        format!("/v1/Services/{service}/Conversations/{name}"),
        "fetch_conversation",
    )
}

/// Fetches one conversation (its state and attributes).
pub fn fetch_conversation(service: &ServiceSid, conversation: &ConversationSid) -> RestRequest {
    RestRequest::new(
        Method::Get,
        conversation_path(service, conversation),
        "fetch_conversation",
    )
}

/// What the end route reads of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    pub sid: String,
    pub state: String,
    pub attributes: String,
}

impl ConversationState {
    /// Reads a fetched conversation. Read through a map of raw values, the one reader the end
    /// route uses for its body and the attributes too, rather than a derived reader of its own
    /// (each costs the Worker's upload a few KiB).
    pub fn read(body: &str) -> Option<ConversationState> {
        let fields: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_slice(body.as_bytes()).ok()?;
        let text =
            |name: &str| -> Option<String> { serde_json::from_str(fields.get(name)?.get()).ok() };
        Some(ConversationState {
            sid: text("sid").unwrap_or_default(),
            state: text("state")?,
            attributes: text("attributes").unwrap_or_else(|| "{}".into()),
        })
    }
}

/// One page of participants: their identities (chat participants have one; SMS ones do not).
#[derive(Debug, Clone, Deserialize)]
pub struct ParticipantPage {
    pub participants: Vec<ListedParticipant>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListedParticipant {
    #[serde(default)]
    pub identity: Option<String>,
}

impl ParticipantPage {
    pub fn has(&self, identity: &str) -> bool {
        self.participants
            .iter()
            .any(|p| p.identity.as_deref() == Some(identity))
    }
}

/// How many of a conversation's newest messages the responder reads before it answers: enough
/// to see every visitor message not yet handled and every reply already sent for them.
pub const RECENT_MESSAGES: u32 = 50;

/// `GET .../Messages?Order=desc`: the newest [`RECENT_MESSAGES`] messages.
pub fn list_recent_messages(service: &ServiceSid, conversation: &ConversationSid) -> RestRequest {
    let path = format!(
        "{}/Messages?Order=desc&PageSize={RECENT_MESSAGES}",
        conversation_path(service, conversation)
    );
    RestRequest::new(Method::Get, path, "list_messages")
}

/// One page of messages, as the responder reads them.
#[derive(Debug, Clone, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<ListedMessage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListedMessage {
    pub index: u64,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// JSON text, as Twilio returns it.
    #[serde(default)]
    pub attributes: Option<String>,
}

/// `Configuration.ReplayAfter` for a new conversation's automation: Twilio replays every message
/// from this index on to the new webhook. A visitor's conversation is created with their first
/// message, which is often stored before the automation is attached; the flow or bot hears it
/// all the same.
const FIRST_MESSAGE: &str = "0";

/// What a site's automation attaches to each new conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    Studio(FlowSid),
    Webhook(String),
}

impl Attachment {
    /// Whether an existing webhook already does what this attachment would.
    pub fn is_equivalent(&self, webhook: &Webhook) -> bool {
        let config = &webhook.configuration;
        match self {
            Attachment::Studio(flow) => {
                webhook.target == "studio" && config.flow_sid.as_deref() == Some(flow.as_str())
            }
            Attachment::Webhook(url) => {
                webhook.target == "webhook" && config.url.as_deref() == Some(url.as_str())
            }
        }
    }

    pub fn create(&self, service: &ServiceSid, conversation: &ConversationSid) -> RestRequest {
        let path = format!("{}/Webhooks", conversation_path(service, conversation));
        let request = RestRequest::new(Method::Post, path, "create_webhook").creating();
        match self {
            Attachment::Studio(flow) => request
                .param("Target", "studio")
                .param("Configuration.FlowSid", flow.as_str())
                .param("Configuration.Filters", "onMessageAdded")
                .param("Configuration.ReplayAfter", FIRST_MESSAGE),
            Attachment::Webhook(url) => request
                .param("Target", "webhook")
                .param("Configuration.Url", url)
                .param("Configuration.Method", "post")
                .param("Configuration.Filters", "onMessageAdded")
                .param("Configuration.ReplayAfter", FIRST_MESSAGE),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// An equivalent webhook exists (a redelivered event, or someone attached it by hand).
    AlreadyAttached {
        webhook_sid: WebhookSid,
    },
    /// The conversation has no room for another webhook.
    LimitReached,
    Create(RestRequest),
}

pub fn plan_attachment(
    attachment: &Attachment,
    service: &ServiceSid,
    conversation: &ConversationSid,
    existing: &[Webhook],
) -> Plan {
    if let Some(found) = existing.iter().find(|w| attachment.is_equivalent(w)) {
        return Plan::AlreadyAttached {
            webhook_sid: found.sid.clone(),
        };
    }
    if existing.len() >= MAX_CONVERSATION_WEBHOOKS {
        return Plan::LimitReached;
    }
    Plan::Create(attachment.create(service, conversation))
}

/// `GET .../Webhooks`: one page of a conversation's webhooks.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookPage {
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub sid: WebhookSid,
    pub target: String,
    #[serde(default)]
    pub configuration: WebhookConfiguration,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WebhookConfiguration {
    pub url: Option<String>,
    pub method: Option<String>,
    pub filters: Option<Vec<String>>,
    pub flow_sid: Option<String>,
}

/// Twilio's error body: `{"code": 50361, "message": "...", "more_info": "...", "status": 400}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TwilioError {
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub more_info: Option<String>,
    #[serde(default)]
    pub status: u16,
}

impl TwilioError {
    /// Reads an error response; a body that is not Twilio's JSON still gives the status.
    pub fn from_response(status: u16, body: &str) -> TwilioError {
        match serde_json::from_str::<TwilioError>(body) {
            Ok(mut e) => {
                e.status = status;
                e
            }
            Err(_) => TwilioError {
                code: None,
                message: body.chars().take(200).collect(),
                more_info: None,
                status,
            },
        }
    }
}

impl std::fmt::Display for TwilioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = self.code {
            write!(f, ", Twilio error {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// Whether an answer with this status is worth another try: rate limiting and server errors.
pub fn is_retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IS: &str = "IS0123456789abcdef0123456789abcdef";
    const CH: &str = "CH0123456789abcdef0123456789abcdef";
    const FW: &str = "FW0123456789abcdef0123456789abcdef";

    fn ids() -> (ServiceSid, ConversationSid) {
        (IS.parse().unwrap(), CH.parse().unwrap())
    }

    fn webhook(target: &str, config: serde_json::Value) -> Webhook {
        serde_json::from_value(serde_json::json!({
            "sid": format!("WH{:032x}", config.to_string().len()),
            "target": target,
            "configuration": config,
        }))
        .unwrap()
    }

    #[test]
    fn studio_attachment_form() {
        let (is, ch) = ids();
        let a = Attachment::Studio(FW.parse().unwrap());
        let r = a.create(&is, &ch);
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.path,
            format!("/v1/Services/{IS}/Conversations/{CH}/Webhooks")
        );
        assert_eq!(
            r.body().unwrap(),
            format!(
                "Target=studio&Configuration.FlowSid={FW}&Configuration.Filters=onMessageAdded\
                 &Configuration.ReplayAfter=0"
            )
        );
        assert!(!r.announce);
    }

    #[test]
    fn webhook_attachment_form_is_encoded() {
        let (is, ch) = ids();
        let a = Attachment::Webhook("https://bot.acme.com/hook?a=1&b=two%20words".into());
        let body = a.create(&is, &ch).body().unwrap();
        assert_eq!(
            body,
            "Target=webhook&Configuration.Url=https%3A%2F%2Fbot.acme.com%2Fhook%3Fa%3D1%26b%3Dtwo%2520words\
             &Configuration.Method=post&Configuration.Filters=onMessageAdded&Configuration.ReplayAfter=0"
        );
    }

    #[test]
    fn plan_skips_equivalent_webhooks_and_respects_the_limit() {
        let (is, ch) = ids();
        let studio = Attachment::Studio(FW.parse().unwrap());
        let bot = Attachment::Webhook("https://bot.acme.com/".into());
        assert!(matches!(
            plan_attachment(&studio, &is, &ch, &[]),
            Plan::Create(_)
        ));
        let existing = vec![
            webhook(
                "webhook",
                serde_json::json!({"url": "https://other.com/", "method": "POST"}),
            ),
            webhook(
                "studio",
                serde_json::json!({"flow_sid": FW, "filters": ["onMessageAdded"]}),
            ),
        ];
        assert!(matches!(
            plan_attachment(&studio, &is, &ch, &existing),
            Plan::AlreadyAttached { .. }
        ));
        assert!(matches!(
            plan_attachment(&bot, &is, &ch, &existing),
            Plan::Create(_)
        ));
        let other_flow = Attachment::Studio("FW0123456789abcdef0123456789abcdee".parse().unwrap());
        assert!(matches!(
            plan_attachment(&other_flow, &is, &ch, &existing),
            Plan::Create(_)
        ));
        let full: Vec<Webhook> = (0..5)
            .map(|i| {
                webhook(
                    "webhook",
                    serde_json::json!({"url": format!("https://h{i}.com/")}),
                )
            })
            .collect();
        assert_eq!(plan_attachment(&bot, &is, &ch, &full), Plan::LimitReached);
        let mut full_with_ours = full;
        full_with_ours[4] = webhook(
            "webhook",
            serde_json::json!({"url": "https://bot.acme.com/"}),
        );
        assert!(matches!(
            plan_attachment(&bot, &is, &ch, &full_with_ours),
            Plan::AlreadyAttached { .. }
        ));
    }

    #[test]
    fn creations_are_retried_only_when_twilio_said_it_did_nothing() {
        let (is, ch) = ids();
        let create = create_message(&is, &ch, "Bot", "Hi", None);
        assert!(create.may_retry(Some(429)));
        assert!(!create.may_retry(Some(500)) && !create.may_retry(None));
        let list = list_recent_messages(&is, &ch);
        assert!(list.may_retry(Some(503)) && list.may_retry(None) && list.may_retry(Some(429)));
        assert!(!list.may_retry(Some(404)));
        assert!(
            Attachment::Webhook("https://bot".into())
                .create(&is, &ch)
                .creates
        );
        assert!(!list_webhooks(&is, &ch).creates);
    }

    #[test]
    fn bot_messages_are_announced_other_writes_are_not() {
        let (is, ch) = ids();
        let m = create_message(&is, &ch, "Bot", "Hi & welcome", None);
        assert!(m.announce);
        assert_eq!(m.body().unwrap(), "Author=Bot&Body=Hi+%26+welcome");
        let marked = create_message(&is, &ch, "Bot", "Hi", Some(r#"{"edgechat_reply_to":3}"#));
        assert_eq!(
            marked.body().unwrap(),
            "Author=Bot&Body=Hi&Attributes=%7B%22edgechat_reply_to%22%3A3%7D"
        );
        assert_eq!(
            list_recent_messages(&is, &ch).url("http://127.0.0.1:9"),
            format!("http://127.0.0.1:9/v1/Services/{IS}/Conversations/{CH}/Messages?Order=desc&PageSize=50")
        );
        assert!(
            !Attachment::Webhook("https://bot".into())
                .create(&is, &ch)
                .announce
        );
        assert_eq!(list_recent_messages(&is, &ch).body(), None);
        assert_eq!(
            list_webhooks(&is, &ch).url("http://127.0.0.1:9/"),
            format!("http://127.0.0.1:9/v1/Services/{IS}/Conversations/{CH}/Webhooks?PageSize=50")
        );
    }

    #[test]
    fn twilio_errors_parse_and_fall_back() {
        let e = TwilioError::from_response(
            400,
            r#"{"code": 50361, "message": "Too many webhooks", "more_info": "https://www.twilio.com/docs/errors/50361", "status": 400}"#,
        );
        assert_eq!(e.code, Some(ERROR_WEBHOOK_LIMIT));
        assert_eq!(
            e.to_string(),
            "HTTP 400, Twilio error 50361: Too many webhooks"
        );
        let e = TwilioError::from_response(502, "<html>bad gateway</html>");
        assert_eq!((e.code, e.status), (None, 502));
        assert!(is_retryable(429) && is_retryable(500) && is_retryable(503));
        assert!(!is_retryable(400) && !is_retryable(404) && !is_retryable(401));
    }
}
