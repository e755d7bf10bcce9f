//! Per-site configuration, stored as JSON in KV under `site:<id>`.
//!
//! One type, used by the Worker when it reads KV and by `npm run site-config` before anything is
//! uploaded, so a typo is caught on the owner's machine with the same message the Worker would log.
//! Every field is checked when parsed (newtypes below); unknown fields are errors, and an error
//! names the field's path (`appearance.brand_color`) and says what a valid value looks like.
//!
//! ```json
//! {
//!   "allowed_origins": ["https://www.acme.com"],
//!   "service_sid": "IS0123456789abcdef0123456789abcdef",
//!   "push_credential_sid": "CR0123456789abcdef0123456789abcdef",
//!   "token_ttl_seconds": 3600,
//!   "automation": {"studio": {"flow_sid": "FW0123456789abcdef0123456789abcdef"}},
//!   "appearance": {"title": "Acme support", "brand_color": "#0263E0", "position": "bottom-right"},
//!   "greeting": "Hi! How can we help?",
//!   "locale": "en-US",
//!   "strings": {"en": {"composer.placeholder": "Ask us anything"}}
//! }
//! ```
//! Only `allowed_origins` and `service_sid` are required. `automation` is `"none"` (the default),
//! `{"studio": {"flow_sid"}}`, `{"webhook": {"url"}}` or `{"auto_reply": {...}}`.

#[cfg(feature = "check-strings")]
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

#[cfg(feature = "check-strings")]
use crate::i18n;
use crate::ids::sid::{FlowSid, PushCredentialSid, ServiceSid};
use crate::ids::site::SiteId;
use crate::ids::text::Text;
use crate::ids::Invalid;
pub use crate::site::office_hours::OfficeHours;
use crate::twilio::access_token::MAX_TTL_SECONDS;
use crate::twilio::rest::Attachment;

/// A config that failed validation: where, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending field (`appearance.brand_color`, `allowed_origins[1]`), or `.`
    /// when the document as a whole is wrong.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field == "." {
            write!(f, "site config: {}", self.message)
        } else {
            write!(f, "site config field `{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The field and the rule it breaks, without the stored value: what the Worker tells a
    /// caller (the whole message, value included, goes to its log line only).
    pub fn redacted(&self) -> String {
        let rule = rule_of(&self.message);
        if self.field == "." {
            format!("site config: {rule}")
        } else {
            format!("site config field `{}`: {rule}", self.field)
        }
    }
}

/// A validation message with the offending value cut out: our own messages end in
/// `, got <value>`; serde's name it before `, expected …`.
fn rule_of(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(at) if message[at..].contains(" column ") => &message[..at],
        _ => message,
    };
    if let Some(at) = message.find(", got ") {
        return message[..at].to_owned();
    }
    let named = [
        "invalid value",
        "invalid type",
        "invalid length",
        "unknown variant",
        "unknown field",
    ];
    if let Some(kind) = named.iter().find(|k| message.starts_with(**k)) {
        return match message.find(", expected") {
            Some(at) => format!("{kind}{}", &message[at..]),
            None => (*kind).to_owned(),
        };
    }
    if message.starts_with("the ranges ") {
        return "office hours' ranges of one day must not overlap".to_owned();
    }
    message.to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub allowed_origins: AllowedOrigins,
    pub service_sid: ServiceSid,
    #[serde(default)]
    pub push_credential_sid: Option<PushCredentialSid>,
    #[serde(default)]
    pub token_ttl_seconds: TokenTtl,
    #[serde(default)]
    pub automation: Automation,
    #[serde(default)]
    pub appearance: Appearance,
    #[serde(default)]
    pub greeting: Option<Text<500>>,
    /// The widget's language when the page says none (else the visitor's browser decides).
    #[serde(default)]
    pub locale: Option<Locale>,
    /// The site's own wording of any of the widget's messages, by language.
    #[serde(default)]
    pub strings: Strings,
    /// Keep the page address's query (and so whatever the site puts there) in the attributes of
    /// the conversations its visitors start; by default only scheme, host and path are kept.
    #[serde(default)]
    pub keep_page_query: bool,
    /// Ask the visitor, as they end a conversation, for a thumbs up or down and a comment (kept
    /// in the conversation's attributes as `edgechat_rating`).
    #[serde(default)]
    pub ask_rating: bool,
    /// Play a short sound when a message arrives while the page's tab is hidden (the visitor can
    /// mute it from the panel's menu).
    #[serde(default)]
    pub sound: bool,
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// A visitor credential not renewed for this many days is refused (the visitor starts
    /// again as a new one).
    #[serde(default)]
    pub visitor_idle_days: IdleDays,
    /// Raise by one to sign out every visitor of this site (credentials carry the epoch they
    /// were issued under).
    #[serde(default)]
    pub visitor_epoch: u32,
    /// Signed-in users: the Worker secret(s) the site's backend signs user tokens with.
    #[serde(default)]
    pub identity_verification: Option<IdentityVerification>,
    /// When people answer: outside these hours the panel says so, and when they are back,
    /// before the visitor types.
    #[serde(default)]
    pub office_hours: Option<crate::site::office_hours::OfficeHours>,
    /// What a visitor fills in before their first message.
    #[serde(default)]
    pub pre_chat: Option<crate::site::pre_chat::PreChat>,
    /// What visitors may attach (Flex Webchat's defaults; `{"enabled": false}` turns it off).
    #[serde(default)]
    pub attachments: crate::site::attachments::Attachments,
}

/// Which Worker secrets verify this site's user tokens: `secret`, and during a rotation the
/// `previous_secret` too (both accepted until the previous one is removed). Names, never values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityVerification {
    pub secret: SecretName,
    #[serde(default)]
    pub previous_secret: Option<SecretName>,
}

impl IdentityVerification {
    /// The secrets' names, the current one first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.secret.0.as_str())
            .chain(self.previous_secret.iter().map(|s| s.0.as_str()))
    }
}

/// The Worker's own secrets (`api::secrets` names each; a test there keeps the two lists equal:
/// the site config is below the API in the core's layers).
pub const WORKER_SECRETS: [&str; 5] = [
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_KEY_SID",
    "TWILIO_API_KEY_SECRET",
    "TWILIO_AUTH_TOKEN",
    "VISITOR_SIGNING_SECRET",
];

/// The name of a Worker secret a site's config may point at: 3–64 of `A-Z 0-9 _`, starting with
/// a letter, and none of the Worker's own secrets (a site must not be able to verify tokens
/// with Twilio's credentials or the visitor-signing key).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SecretName(String);

impl TryFrom<String> for SecretName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        let shaped = (3..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !shaped {
            return Err(format!(
                "a secret's name is 3 to 64 of A-Z, 0-9 and _, starting with a letter (the name of a \
                 Worker secret, never its value), got {} characters",
                name.chars().count()
            ));
        }
        if WORKER_SECRETS.contains(&name.as_str()) {
            return Err(format!(
                "{name} is one of the Worker's own secrets: give user tokens a secret of their own"
            ));
        }
        Ok(SecretName(name))
    }
}

impl SiteConfig {
    /// How this site's visitor credentials are judged.
    pub fn credential_policy(&self) -> crate::visitor::CredentialPolicy {
        crate::visitor::CredentialPolicy {
            epoch: self.visitor_epoch,
            idle_seconds: u64::from(self.visitor_idle_days.0) * 86_400,
        }
    }
}

pub const DEFAULT_IDLE_DAYS: u16 = 90;
pub const MAX_IDLE_DAYS: u16 = 400;

/// Days a visitor credential may go without renewal: 1 to [`MAX_IDLE_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u16")]
pub struct IdleDays(u16);

impl Default for IdleDays {
    fn default() -> Self {
        IdleDays(DEFAULT_IDLE_DAYS)
    }
}

impl TryFrom<u16> for IdleDays {
    type Error = String;
    fn try_from(n: u16) -> Result<Self, Self::Error> {
        if (1..=MAX_IDLE_DAYS).contains(&n) {
            Ok(IdleDays(n))
        } else {
            Err(format!(
                "visitor_idle_days is 1 to {MAX_IDLE_DAYS}, got {n}"
            ))
        }
    }
}

/// What a site accepts, per minute: new visitors per client address (an IPv6 client's whole
/// /64 counts as one address), renewals per visitor; for the whole site, new visitors and new
/// conversations (what caps its Twilio cost whatever the addresses); and how many open
/// conversations one visitor may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub new_visitors_per_minute: PerMinute,
    pub renewals_per_minute: PerMinute,
    pub site_new_visitors_per_minute: SitePerMinute,
    pub site_new_conversations_per_minute: SitePerMinute,
    pub open_conversations_per_visitor: OpenConversations,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            new_visitors_per_minute: PerMinute(30),
            renewals_per_minute: PerMinute(10),
            site_new_visitors_per_minute: SitePerMinute(600),
            site_new_conversations_per_minute: SitePerMinute(200),
            open_conversations_per_visitor: OpenConversations(3),
        }
    }
}

/// The step site-wide limits are counted in (their binding counts buckets of this many).
pub const SITE_LIMIT_STEP: u32 = 100;
pub const MAX_SITE_PER_MINUTE: u32 = 3000;

/// A site-wide limit per minute: a multiple of [`SITE_LIMIT_STEP`] up to [`MAX_SITE_PER_MINUTE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u32")]
pub struct SitePerMinute(u32);

impl SitePerMinute {
    pub fn get(self) -> u32 {
        self.0
    }

    pub fn buckets(self) -> u32 {
        self.0 / SITE_LIMIT_STEP
    }
}

impl TryFrom<u32> for SitePerMinute {
    type Error = String;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        if n.is_multiple_of(SITE_LIMIT_STEP) && (SITE_LIMIT_STEP..=MAX_SITE_PER_MINUTE).contains(&n)
        {
            Ok(SitePerMinute(n))
        } else {
            Err(format!(
                "a site-wide limit per minute is a multiple of {SITE_LIMIT_STEP} from \
                 {SITE_LIMIT_STEP} to {MAX_SITE_PER_MINUTE}, got {n}"
            ))
        }
    }
}

pub const MAX_OPEN_CONVERSATIONS: u8 = 10;

/// Open (not closed) conversations one visitor may have at once: 1 to
/// [`MAX_OPEN_CONVERSATIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u8")]
pub struct OpenConversations(u8);

impl OpenConversations {
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for OpenConversations {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        if (1..=MAX_OPEN_CONVERSATIONS).contains(&n) {
            Ok(OpenConversations(n))
        } else {
            Err(format!(
                "open_conversations_per_visitor is 1 to {MAX_OPEN_CONVERSATIONS}, got {n}"
            ))
        }
    }
}

/// The step rate limits are counted in (the Worker's rate limiting bindings count in buckets
/// of this many a minute).
pub const LIMIT_STEP: u32 = 10;
pub const MAX_PER_MINUTE: u32 = 300;

/// A limit per minute: a multiple of [`LIMIT_STEP`], from 10 to [`MAX_PER_MINUTE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u32")]
pub struct PerMinute(u32);

impl PerMinute {
    pub fn get(self) -> u32 {
        self.0
    }

    /// How many buckets of [`LIMIT_STEP`] make this limit.
    pub fn buckets(self) -> u32 {
        self.0 / LIMIT_STEP
    }
}

/// Why a number is not a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMinuteError(u32);

impl fmt::Display for PerMinuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a limit per minute is a multiple of {LIMIT_STEP} from {LIMIT_STEP} to \
             {MAX_PER_MINUTE}, got {}",
            self.0
        )
    }
}

impl TryFrom<u32> for PerMinute {
    type Error = PerMinuteError;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        if n.is_multiple_of(LIMIT_STEP) && (LIMIT_STEP..=MAX_PER_MINUTE).contains(&n) {
            Ok(PerMinute(n))
        } else {
            Err(PerMinuteError(n))
        }
    }
}

impl SiteConfig {
    pub fn from_json(json: &str) -> Result<SiteConfig, ConfigError> {
        // serde would take a JSON array as the struct's fields in order ("expected struct
        // SiteConfig with 10 elements"): say what a config is instead.
        if !matches!(json.trim_start().chars().next(), None | Some('{')) {
            return Err(ConfigError {
                field: ".".into(),
                message: "a site config is a JSON object: {\"allowed_origins\": [...], \"service_sid\": \"IS...\"}".into(),
            });
        }
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|err| {
            let field = err.path().to_string();
            let message = err.into_inner().to_string();
            ConfigError { field, message }
        })
    }

    /// Whether a browser `Origin` header value is one of this site's (exact match, as browsers
    /// send it: `scheme://host[:port]`, no trailing slash).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.0.iter().any(|o| o.0 == origin)
    }

    /// What a browser may see: appearance and wording, never SIDs, origins or automation;
    /// `realtime_url` only when the Worker is configured for the local emulator.
    pub fn public(
        &self,
        site: &SiteId,
        sdk_url: Option<&str>,
        realtime_url: Option<&RealtimeUrl>,
    ) -> PublicConfig {
        PublicConfig {
            site: site.clone(),
            appearance: self.appearance.clone(),
            greeting: self.greeting.clone(),
            locale: self.locale.clone(),
            strings: self.strings.clone(),
            keep_page_query: self.keep_page_query,
            ask_rating: self.ask_rating,
            sound: self.sound,
            sdk_url: sdk_url.map(str::to_owned),
            realtime_url: realtime_url.cloned(),
            away: None,
            pre_chat: self.pre_chat.clone(),
            attachments: self.attachments.0.clone(),
        }
    }

    /// What the panel says when the site's `office_hours` are closed at `at` (the local time in
    /// their zone, at unix milliseconds `now_ms`): the away message and when people are back.
    pub fn away_at(&self, at: crate::site::office_hours::LocalTime, now_ms: u64) -> Option<Away> {
        let hours = self.office_hours.as_ref()?;
        let minutes = hours.minutes_until_open(at);
        if minutes == Some(0) {
            return None;
        }
        Some(Away {
            message: hours.away_message.clone(),
            email: hours.ask_email,
            // To the minute: the seconds of `now` are not part of the wall-clock opening.
            opens_at: minutes.map(|m| (now_ms / 60_000 + u64::from(m)) * 60_000),
        })
    }
}

/// The site is closed now: what the panel shows before the visitor types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Away {
    pub message: Text<1600>,
    /// When people are back (unix milliseconds); absent when no day has hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<u64>,
    /// The visitor is asked for their email meanwhile: `optional` or `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<crate::site::office_hours::AskEmail>,
}

/// `GET /api/sites/{site}/config`: the part of a site's config the widget needs to draw itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicConfig {
    pub site: SiteId,
    pub appearance: Appearance,
    pub greeting: Option<Text<500>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    #[serde(default, skip_serializing_if = "Strings::is_empty")]
    pub strings: Strings,
    /// Whether the widget keeps the page address's query in a new conversation's attributes.
    pub keep_page_query: bool,
    /// Whether the visitor is asked for a rating as they end a conversation.
    pub ask_rating: bool,
    /// Whether a message arriving while the tab is hidden plays a sound.
    pub sound: bool,
    /// Where the widget loads the Conversations SDK from, when the Worker overrides it; absent,
    /// the widget loads the vendored copy whose content-hashed name embed.js knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk_url: Option<String>,
    /// Where the SDK's realtime connection goes instead of Twilio's (the local emulator's
    /// `/v3/wsconnect`); absent in production, where the SDK finds Twilio itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_url: Option<RealtimeUrl>,
    /// Present when the site's office hours are closed now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<Away>,
    /// The pre-chat form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_chat: Option<crate::site::pre_chat::PreChat>,
    /// What visitors may attach; absent when the site turned attachments off.
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub attachments: Option<crate::site::attachments::Policy>,
}

/// The SDK's realtime endpoint when it is not Twilio's: a `ws://` or `wss://` URL (the Worker var
/// `TWILIO_REALTIME_URL`, set only for the local emulator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RealtimeUrl(String);

/// Why a string is not a realtime endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeUrlError;

impl fmt::Display for RealtimeUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ws:// or wss:// URL with a host, e.g. ws://127.0.0.1:8788/v3/wsconnect")
    }
}

impl TryFrom<String> for RealtimeUrl {
    type Error = Invalid<RealtimeUrlError>;

    fn try_from(s: String) -> Result<RealtimeUrl, Self::Error> {
        let ok = url::Url::parse(&s)
            .is_ok_and(|url| matches!(url.scheme(), "ws" | "wss") && url.host_str().is_some());
        Invalid::unless(ok, RealtimeUrlError, s).map(RealtimeUrl)
    }
}

impl From<RealtimeUrl> for String {
    fn from(u: RealtimeUrl) -> String {
        u.0
    }
}

/// A browser origin, `scheme://host[:port]`, stored as browsers serialize it in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AllowedOrigin(String);

/// Why a string is not an origin as browsers send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginError {
    NotUrl,
    NotHttp,
    NoHost,
    Credentials,
    PathOrQuery,
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an origin is scheme://host[:port], e.g. \"https://www.example.com\"; ")?;
        f.write_str(match self {
            OriginError::NotUrl => "this is not a URL",
            OriginError::NotHttp => "this is not http or https",
            OriginError::NoHost => "this has no host",
            OriginError::Credentials => "remove the user name and password",
            OriginError::PathOrQuery => {
                "remove the path, query or trailing '/' (browsers send none)"
            }
        })
    }
}

impl AllowedOrigin {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parse(s: &str) -> Result<AllowedOrigin, Invalid<OriginError>> {
        let invalid = |reason| Invalid {
            reason,
            value: s.to_owned(),
        };
        let url = url::Url::parse(s).map_err(|_| invalid(OriginError::NotUrl))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(OriginError::NotHttp));
        }
        if url.host_str().is_none() {
            return Err(invalid(OriginError::NoHost));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(OriginError::Credentials));
        }
        if url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || s.ends_with('/')
        {
            return Err(invalid(OriginError::PathOrQuery));
        }
        Ok(AllowedOrigin(url.origin().ascii_serialization()))
    }
}

impl TryFrom<String> for AllowedOrigin {
    type Error = Invalid<OriginError>;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AllowedOrigin::parse(&s)
    }
}

pub const MAX_ALLOWED_ORIGINS: usize = 50;

/// The origins whose pages may embed this site's widget: at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<AllowedOrigin>);

impl AllowedOrigins {
    pub fn iter(&self) -> impl Iterator<Item = &AllowedOrigin> {
        self.0.iter()
    }
}

impl<'de> Deserialize<'de> for AllowedOrigins {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let origins = Vec::<AllowedOrigin>::deserialize(d)?;
        if origins.is_empty() {
            return Err(de::Error::custom(
                "list at least one origin whose pages embed the widget, e.g. [\"https://www.example.com\"]",
            ));
        }
        if origins.len() > MAX_ALLOWED_ORIGINS {
            return Err(de::Error::custom(format!(
                "at most {MAX_ALLOWED_ORIGINS} origins, got {}",
                origins.len()
            )));
        }
        Ok(AllowedOrigins(origins))
    }
}

pub const MIN_TTL_SECONDS: u32 = 30;
pub const DEFAULT_TTL_SECONDS: u32 = 3600;

/// How long an access token lives. The widget refreshes it before it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTtl(u32);

impl TokenTtl {
    pub fn seconds(self) -> u32 {
        self.0
    }
}

impl Default for TokenTtl {
    fn default() -> Self {
        TokenTtl(DEFAULT_TTL_SECONDS)
    }
}

impl<'de> Deserialize<'de> for TokenTtl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if (u64::from(MIN_TTL_SECONDS)..=u64::from(MAX_TTL_SECONDS)).contains(&n) {
            Ok(TokenTtl(n as u32))
        } else {
            Err(de::Error::custom(format!(
                "a token TTL is {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} seconds (Twilio's maximum is 24 h), got {n}"
            )))
        }
    }
}

/// Who answers a new conversation before (or instead of) a human agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Automation {
    /// Agents answer (Flex or the console); nothing is attached.
    #[default]
    None,
    /// A Studio flow, attached as a conversation-scoped `studio` webhook.
    Studio(StudioAutomation),
    /// The site's own bot, attached as a conversation-scoped `webhook` to its URL.
    Webhook(WebhookAutomation),
    /// The Worker's built-in rule-based responder.
    AutoReply(AutoReply),
}

impl Automation {
    /// What this automation attaches to each new conversation: `None` for those that attach
    /// nothing (none, and the built-in responder, which hears messages through the service's
    /// own webhook).
    pub fn attachment(&self) -> Option<Attachment> {
        match self {
            Automation::Studio(s) => Some(Attachment::Studio(s.flow_sid.clone())),
            Automation::Webhook(w) => Some(Attachment::Webhook(w.url.as_str().to_owned())),
            Automation::None | Automation::AutoReply(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudioAutomation {
    pub flow_sid: FlowSid,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookAutomation {
    pub url: BotUrl,
}

/// Where Twilio posts a conversation's events for the site's bot: https, or http to this machine
/// for local development. No credentials in it: they would sit in KV; the bot checks
/// `X-Twilio-Signature` instead.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct BotUrl(String);

impl BotUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a bot URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotUrlError {
    NotUrl,
    NotHttps,
    Credentials,
}

impl fmt::Display for BotUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BotUrlError::NotUrl => "a bot URL is an absolute https URL",
            BotUrlError::NotHttps => {
                "a bot URL must use https (http only for 127.0.0.1 or localhost)"
            }
            BotUrlError::Credentials => {
                "remove the user name and password from the bot URL: secrets do not belong in \
                 KV; the bot should check X-Twilio-Signature instead"
            }
        })
    }
}

impl TryFrom<String> for BotUrl {
    type Error = Invalid<BotUrlError>;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let invalid = |reason| Invalid {
            reason,
            value: s.clone(),
        };
        let url = url::Url::parse(&s).map_err(|_| invalid(BotUrlError::NotUrl))?;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
            return Err(invalid(BotUrlError::NotHttps));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(BotUrlError::Credentials));
        }
        Ok(BotUrl(url.to_string()))
    }
}

pub const MAX_REPLY_RULES: usize = 50;

/// The built-in responder's script.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoReply {
    /// The `Author` of its messages.
    #[serde(default = "default_bot_name")]
    pub bot_name: Text<40>,
    /// Sent after the visitor's first message.
    #[serde(default)]
    pub greeting: Option<Text<1600>>,
    /// First matching rule answers; at most 50.
    #[serde(default, deserialize_with = "reply_rules")]
    pub rules: Vec<ReplyRule>,
    /// A visitor message containing one of these hands the conversation to humans: the
    /// responder stays silent in it from then on.
    #[serde(default)]
    pub handoff_phrases: Vec<Text<100>>,
    /// Said once, when a handoff phrase arrives ("A person from our team will answer here.").
    #[serde(default)]
    pub handoff_reply: Option<Text<1600>>,
    /// When people answer; outside them the responder sends `away_message` (once per closed
    /// spell). Without it the responder never sends an away message.
    #[serde(default)]
    pub office_hours: Option<OfficeHours>,
    /// Said to a message that is only a file (no text); without it such messages go unanswered
    /// (an agent will see the file).
    #[serde(default)]
    pub media_reply: Option<Text<1600>>,
}

fn default_bot_name() -> Text<40> {
    Text::try_from("Assistant".to_owned()).expect("a valid bot name")
}

fn reply_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ReplyRule>, D::Error> {
    let rules = Vec::<ReplyRule>::deserialize(d)?;
    if rules.len() > MAX_REPLY_RULES {
        return Err(de::Error::custom(format!(
            "at most {MAX_REPLY_RULES} rules, got {}",
            rules.len()
        )));
    }
    Ok(rules)
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRule {
    /// Words or phrases; the rule matches a message containing any of them (case-insensitive).
    pub keywords: Keywords,
    pub reply: Text<1600>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keywords(Vec<Text<100>>);

impl Keywords {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|t| t.as_str())
    }
}

impl<'de> Deserialize<'de> for Keywords {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let words = Vec::<Text<100>>::deserialize(d)?;
        if words.is_empty() {
            return Err(de::Error::custom("a rule needs at least one keyword"));
        }
        Ok(Keywords(words))
    }
}

/// How the widget looks; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Appearance {
    /// The panel's heading and the dialog's accessible name.
    pub title: Text<60>,
    pub brand_color: Color,
    /// Pins the launcher to a corner; without it, the launcher is at the end side of the
    /// widget's writing direction (bottom right, or bottom left right to left).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// Light or dark: `auto` (the default) follows the visitor's `prefers-color-scheme`.
    pub theme: Theme,
}

impl Default for Appearance {
    fn default() -> Self {
        Appearance {
            title: Text::try_from("Chat with us".to_owned()).expect("a valid title"),
            brand_color: Color("#0263E0".into()),
            position: None,
            theme: Theme::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    #[default]
    Auto,
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    #[default]
    BottomRight,
    BottomLeft,
}

/// A CSS colour as `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Color(String);

impl Color {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a `#rrggbb` colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorError;

impl fmt::Display for ColorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a colour is #rrggbb, e.g. \"#0263E0\"")
    }
}

impl TryFrom<String> for Color {
    type Error = Invalid<ColorError>;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok =
            s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit());
        Invalid::unless(ok, ColorError, s).map(Color)
    }
}

impl From<Color> for String {
    fn from(c: Color) -> String {
        c.0
    }
}

/// A BCP 47 language tag such as `en`, `en-US` or `pt-BR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

impl Locale {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a BCP 47 language tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocaleError;

impl fmt::Display for LocaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a locale is a BCP 47 language tag such as \"en\", \"en-US\" or \"pt-BR\": \
             language, then region, joined by a hyphen (\"de-DE\", not the POSIX \"de_DE\")",
        )
    }
}

impl TryFrom<String> for Locale {
    type Error = Invalid<LocaleError>;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let mut parts = s.split('-');
        let language = parts.next().unwrap_or_default();
        let ok = (2..=3).contains(&language.len())
            && language.bytes().all(|b| b.is_ascii_alphabetic())
            && parts.all(|p| {
                (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            && s.len() <= 35;
        Invalid::unless(ok, LocaleError, s).map(Locale)
    }
}

impl From<Locale> for String {
    fn from(l: Locale) -> String {
        l.0
    }
}

/// The site's wording of the widget's messages: `{"<language>": {"<key>": "<ICU message>"}}`,
/// each language one the widget speaks, each key one of its messages, each message valid ICU
/// MessageFormat using only the arguments of the message it replaces. Kept as the JSON it was
/// (the widget reads it); checked where the `check-strings` feature is on (see core's
/// Cargo.toml: not in the Worker, which passes it through).
#[derive(Debug, Clone, Default)]
pub struct Strings(Option<Box<serde_json::value::RawValue>>);

impl Strings {
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|raw| raw.get() == "{}")
    }
}

impl PartialEq for Strings {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_ref().map(|r| r.get()) == other.0.as_ref().map(|r| r.get())
    }
}

impl Eq for Strings {}

impl Serialize for Strings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        #[cfg(feature = "check-strings")]
        check_strings(raw.get()).map_err(de::Error::custom)?;
        Ok(Strings(Some(raw)))
    }
}

/// Whether `json` is a valid `strings`: what is wrong, naming the language and the key.
#[cfg(feature = "check-strings")]
fn check_strings(json: &str) -> Result<(), String> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let all: BTreeMap<String, BTreeMap<String, String>> = serde_path_to_error::deserialize(de)
        .map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })?;
    for (language, messages) in &all {
        if !i18n::LOCALES.contains(&language.as_str()) {
            return Err(format!(
                "`{language}` is not one of the widget's languages ({})",
                i18n::LOCALES.join(", ")
            ));
        }
        for (key, message) in messages {
            i18n::check_override(key, message).map_err(|e| format!("{language}: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "IS0123456789abcdef0123456789abcdef";

    fn parse(json: &str) -> Result<SiteConfig, ConfigError> {
        SiteConfig::from_json(json)
    }

    fn minimal() -> String {
        format!(r#"{{"allowed_origins": ["https://www.acme.com"], "service_sid": "{SERVICE}"}}"#)
    }

    fn with(field: &str, value: &str) -> String {
        format!(
            r#"{{"allowed_origins": ["https://www.acme.com"], "service_sid": "{SERVICE}", "{field}": {value}}}"#
        )
    }

    #[test]
    fn away_says_the_message_and_when_people_are_back_only_while_closed() {
        use crate::site::office_hours::{LocalTime, Weekday};
        let config = parse(&with(
            "office_hours",
            r#"{"time_zone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}, "away_message": "We're away."}"#,
        ))
        .unwrap();
        let now_ms = 1_800_000_000_000;
        let at = |h: u16| LocalTime {
            weekday: Weekday::Mon,
            minute_of_day: h * 60,
        };
        assert_eq!(config.away_at(at(10), now_ms), None, "open");
        let away = config.away_at(at(8), now_ms).unwrap();
        assert_eq!(away.message.as_str(), "We're away.");
        assert_eq!(away.opens_at, Some((now_ms / 60_000 + 60) * 60_000));
        let public =
            serde_json::to_value(config.public(&"acme".parse().unwrap(), None, None)).unwrap();
        assert!(
            public.get("away").is_none() && public.get("office_hours").is_none(),
            "{public}"
        );
        assert_eq!(parse(&minimal()).unwrap().away_at(at(8), now_ms), None);
    }

    #[test]
    fn identity_verification_names_secrets_never_the_worker_s_own() {
        let config = parse(&with(
            "identity_verification",
            r#"{"secret": "ACME_USERS_2", "previous_secret": "ACME_USERS"}"#,
        ))
        .unwrap();
        let names: Vec<&str> = config
            .identity_verification
            .as_ref()
            .unwrap()
            .names()
            .collect();
        assert_eq!(names, ["ACME_USERS_2", "ACME_USERS"]);
        assert_eq!(parse(&minimal()).unwrap().identity_verification, None);
        for (value, says) in [
            (r#"{"secret": "TWILIO_AUTH_TOKEN"}"#, "own secrets"),
            (r#"{"secret": "VISITOR_SIGNING_SECRET"}"#, "own secrets"),
            (
                r#"{"secret": "s3cr3t-value-pasted-here"}"#,
                "never its value",
            ),
            (r#"{"secret": "AB"}"#, "3 to 64"),
            (r#"{"secret": "ACME", "extra": 1}"#, "extra"),
            (r#"{}"#, "secret"),
        ] {
            let e = parse(&with("identity_verification", value))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("identity_verification") && e.contains(says),
                "{value}: {e}"
            );
            assert!(!e.contains("s3cr3t"), "the value is never echoed: {e}");
        }
    }

    #[test]
    fn what_each_automation_attaches() {
        let automation = |json: &str| parse(&with("automation", json)).unwrap().automation;
        let flow = "FW0123456789abcdef0123456789abcdef";
        assert_eq!(
            automation(&format!(r#"{{"studio": {{"flow_sid": "{flow}"}}}}"#)).attachment(),
            Some(Attachment::Studio(flow.parse().unwrap()))
        );
        assert_eq!(
            automation(r#"{"webhook": {"url": "https://bot.acme.com/hook"}}"#).attachment(),
            Some(Attachment::Webhook("https://bot.acme.com/hook".into()))
        );
        assert_eq!(automation(r#""none""#).attachment(), None);
        assert_eq!(automation(r#"{"auto_reply": {}}"#).attachment(), None);
    }

    #[test]
    fn rate_limits_default_and_are_counted_in_steps_of_ten() {
        let config = parse(&minimal()).unwrap();
        assert_eq!(config.rate_limits, RateLimits::default());
        assert_eq!(config.rate_limits.new_visitors_per_minute.buckets(), 3);
        let set = parse(&with("rate_limits", r#"{"new_visitors_per_minute": 120}"#)).unwrap();
        assert_eq!(set.rate_limits.new_visitors_per_minute.get(), 120);
        assert_eq!(set.rate_limits.renewals_per_minute.get(), 10);
        for bad in ["25", "0", "310"] {
            let e = error(&with(
                "rate_limits",
                &format!(r#"{{"renewals_per_minute": {bad}}}"#),
            ));
            assert_eq!(e.field, "rate_limits.renewals_per_minute");
            assert!(e.message.contains("multiple of 10"), "{}", e.message);
        }
        let e = error(&with("rate_limits", r#"{"per_hour": 10}"#));
        assert!(e.message.contains("unknown field"), "{}", e.message);
    }

    fn error(json: &str) -> ConfigError {
        parse(json).expect_err(json)
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(&minimal()).unwrap();
        assert_eq!(c.service_sid.as_str(), SERVICE);
        assert_eq!(c.token_ttl_seconds.seconds(), 3600);
        assert_eq!(c.automation, Automation::None);
        assert_eq!(c.appearance, Appearance::default());
        assert_eq!(c.locale, None, "the browser decides");
        assert!(c.strings.is_empty());
        assert_eq!(c.greeting, None);
        assert_eq!(c.push_credential_sid, None);
    }

    #[test]
    fn full_config_parses() {
        let c = parse(&format!(
            r##"{{
              "allowed_origins": ["https://www.acme.com", "http://localhost:3000"],
              "service_sid": "{SERVICE}",
              "push_credential_sid": "CR0123456789abcdef0123456789abcdef",
              "token_ttl_seconds": 600,
              "automation": {{"auto_reply": {{
                  "bot_name": "Acme bot",
                  "greeting": "Hello!",
                  "rules": [{{"keywords": ["price", "cost"], "reply": "See /pricing"}}],
                  "handoff_phrases": ["human please"]}}}},
              "appearance": {{"title": "Acme", "brand_color": "#112233", "position": "bottom-left"}},
              "greeting": "Hi!\nHow can we help?",
              "locale": "de-DE"
            }}"##
        ))
        .unwrap();
        assert_eq!(c.token_ttl_seconds.seconds(), 600);
        assert!(c.allows_origin("http://localhost:3000"));
        let Automation::AutoReply(bot) = &c.automation else {
            panic!("{:?}", c.automation)
        };
        assert_eq!(bot.bot_name.as_str(), "Acme bot");
        assert_eq!(
            bot.rules[0].keywords.iter().collect::<Vec<_>>(),
            ["price", "cost"]
        );
        assert_eq!(c.appearance.position, Some(Position::BottomLeft));
    }

    #[test]
    fn automation_variants() {
        let studio = parse(&with(
            "automation",
            r#"{"studio": {"flow_sid": "FW0123456789abcdef0123456789abcdef"}}"#,
        ))
        .unwrap();
        assert!(matches!(studio.automation, Automation::Studio(_)));
        let hook = parse(&with(
            "automation",
            r#"{"webhook": {"url": "https://bot.acme.com/twilio"}}"#,
        ))
        .unwrap();
        let Automation::Webhook(w) = hook.automation else {
            panic!()
        };
        assert_eq!(w.url.as_str(), "https://bot.acme.com/twilio");
        assert!(parse(&with(
            "automation",
            r#"{"webhook": {"url": "http://127.0.0.1:9000/bot"}}"#
        ))
        .is_ok());
        assert_eq!(
            parse(&with("automation", r#""none""#)).unwrap().automation,
            Automation::None
        );
        assert!(parse(&with("automation", r#"{"auto_reply": {}}"#)).is_ok());
    }

    #[test]
    fn strings_are_the_sites_wording_and_reach_the_widget() {
        let c = parse(&with(
            "strings",
            r#"{"en": {"composer.placeholder": "Ask us anything"}, "pt-BR": {"typing": "{name} digita…"}}"#,
        ))
        .unwrap();
        let public = serde_json::to_value(c.public(&"acme".parse().unwrap(), None, None)).unwrap();
        assert_eq!(
            public["strings"]["en"]["composer.placeholder"],
            "Ask us anything"
        );
        assert_eq!(public["strings"]["pt-BR"]["typing"], "{name} digita…");
        assert!(parse(&minimal()).unwrap().strings.is_empty());
        let e = error(&with("strings", r#"{"en": {"typing": 3}}"#));
        assert_eq!(e.field, "strings");
        assert!(e.message.starts_with("en.typing: invalid type"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let e = error(r#"{"allowed_origins": ["https://a.com"], "service_sid": "IS123"}"#);
        assert_eq!(e.field, "service_sid");
        assert!(e.message.contains("Conversations service SID"), "{e}");
        let cases: &[(&str, &str, &str)] = &[
            (
                "push_credential_sid",
                r#""IS0123456789abcdef0123456789abcdef""#,
                "push credential SID",
            ),
            ("token_ttl_seconds", "86401", "24 h"),
            ("token_ttl_seconds", "5", "30 to 86400"),
            ("token_ttl_seconds", "-1", ""),
            ("locale", r#""english please""#, "BCP 47"),
            ("greeting", r#""   ""#, "blank"),
            (
                "strings",
                r#"{"xx": {}}"#,
                "not one of the widget's languages (en, de",
            ),
            (
                "strings",
                r#"{"de": {"composer.placeholdr": "Frag uns"}}"#,
                "de: `composer.placeholdr` is not a message",
            ),
            (
                "strings",
                r#"{"en": {"typing": "{who} types"}}"#,
                "no argument {who} (it has {name})",
            ),
            (
                "strings",
                r#"{"en": {"typing": "{name"}}"#,
                "not ICU MessageFormat",
            ),
            ("greeting", &format!("{:?}", "x".repeat(501)), "at most 500"),
            ("greeting", r#""bell\u0007""#, "control"),
        ];
        for (field, value, needle) in cases {
            let e = error(&with(field, value));
            assert_eq!(e.field, *field, "{e}");
            assert!(e.message.contains(needle), "{field}={value}: {e}");
        }
    }

    #[test]
    fn nested_errors_carry_their_path() {
        let e = error(&with("appearance", r##"{"brand_color": "blue"}"##));
        assert_eq!(e.field, "appearance.brand_color");
        assert!(e.message.contains("#rrggbb"), "{e}");
        assert!(e
            .to_string()
            .starts_with("site config field `appearance.brand_color`: "));

        let e = error(&with("appearance", r#"{"position": "top"}"#));
        assert_eq!(e.field, "appearance.position");

        let e = error(&with("automation", r#"{"studio": {"flow_sid": "FWx"}}"#));
        assert_eq!(e.field, "automation.studio.flow_sid");
        assert!(e.message.contains("Studio flow SID"), "{e}");

        let e = error(&with(
            "automation",
            r#"{"webhook": {"url": "http://bot.acme.com"}}"#,
        ));
        assert_eq!(e.field, "automation.webhook.url");
        assert!(e.message.contains("https"), "{e}");

        let e = error(&with(
            "automation",
            r#"{"webhook": {"url": "https://u:p@bot.acme.com"}}"#,
        ));
        assert!(e.message.contains("X-Twilio-Signature"), "{e}");

        let e = error(&with(
            "automation",
            r#"{"auto_reply": {"rules": [{"keywords": [], "reply": "x"}]}}"#,
        ));
        assert_eq!(e.field, "automation.auto_reply.rules[0].keywords");

        let e = error(&with("automation", r#"{"zapier": {}}"#));
        assert_eq!(e.field, "automation");
        assert!(e.message.contains("unknown variant `zapier`"), "{e}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = error(&with("colour", r#""red""#));
        assert_eq!(e.field, "colour");
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        let e = error(&with("appearance", r#"{"titel": "x"}"#));
        assert_eq!(e.field, "appearance.titel");
        assert!(e.message.contains("unknown field `titel`"), "{e}");
        let e = error(&with(
            "automation",
            r#"{"studio": {"flow_sid": "FW0123456789abcdef0123456789abcdef", "x": 1}}"#,
        ));
        assert_eq!(e.field, "automation.studio.x");
    }

    #[test]
    fn missing_required_fields_are_named() {
        let e = error(r#"{"allowed_origins": ["https://a.com"]}"#);
        assert!(e.message.contains("missing field `service_sid`"), "{e}");
        let e = error(&format!(r#"{{"service_sid": "{SERVICE}"}}"#));
        assert!(e.message.contains("missing field `allowed_origins`"), "{e}");
    }

    #[test]
    fn invalid_json_is_reported_with_its_position() {
        let e = error("{\"allowed_origins\": [,]}");
        assert!(e.message.contains("line 1"), "{e}");
        for not_an_object in [
            "[]",
            "[\"https://a.com\"]",
            "\"acme\"",
            "42",
            "true",
            "null",
        ] {
            let e = error(not_an_object);
            assert_eq!(
                e.message,
                "a site config is a JSON object: {\"allowed_origins\": [...], \"service_sid\": \"IS...\"}",
                "{not_an_object}"
            );
        }
    }

    #[test]
    fn origins_are_checked_and_normalized() {
        let c = parse(&with_origins(
            r#"["https://WWW.Acme.com:443", "http://localhost:8787", "https://bücher.example"]"#,
        ))
        .unwrap();
        let origins: Vec<&str> = c.allowed_origins.iter().map(|o| o.as_str()).collect();
        assert_eq!(
            origins,
            [
                "https://www.acme.com",
                "http://localhost:8787",
                "https://xn--bcher-kva.example"
            ]
        );
        assert!(c.allows_origin("https://www.acme.com"));
        assert!(!c.allows_origin("https://www.acme.com/"));
        assert!(!c.allows_origin("https://acme.com"));
        assert!(!c.allows_origin("http://www.acme.com"));
        assert!(!c.allows_origin("null"));

        for (bad, needle) in [
            (r#"[]"#, "at least one"),
            (r#"["https://acme.com/"]"#, "trailing"),
            (r#"["https://acme.com/chat"]"#, "path"),
            (r#"["acme.com"]"#, "not a URL"),
            (r#"["ftp://acme.com"]"#, "http or https"),
            (r#"["https://user@acme.com"]"#, "user name"),
            (r#"["*"]"#, "not a URL"),
        ] {
            let e = error(&with_origins(bad));
            assert!(e.field.starts_with("allowed_origins"), "{bad}: {e}");
            assert!(e.message.contains(needle), "{bad}: {e}");
        }
        let e = error(&with_origins(r#"["https://a.com", "nope"]"#));
        assert_eq!(e.field, "allowed_origins[1]");
    }

    fn with_origins(origins: &str) -> String {
        format!(r#"{{"allowed_origins": {origins}, "service_sid": "{SERVICE}"}}"#)
    }

    #[test]
    fn public_config_holds_no_sids_origins_or_automation() {
        let c = parse(&format!(
            r#"{{"allowed_origins": ["https://www.acme.com"], "service_sid": "{SERVICE}",
                "push_credential_sid": "CR0123456789abcdef0123456789abcdef",
                "automation": {{"studio": {{"flow_sid": "FW0123456789abcdef0123456789abcdef"}}}},
                "greeting": "Hi"}}"#
        ))
        .unwrap();
        let public = c.public(&"acme".parse().unwrap(), Some("/vendor/sdk.js"), None);
        let json = serde_json::to_string(&public).unwrap();
        for secret_ish in [
            "IS0123",
            "CR0123",
            "FW0123",
            "acme.com",
            "automation",
            "service",
            "rate_limits",
        ] {
            assert!(!json.contains(secret_ish), "{secret_ish} in {json}");
        }
        assert_eq!(
            json,
            r##"{"site":"acme","appearance":{"title":"Chat with us","brand_color":"#0263E0","theme":"auto"},"greeting":"Hi","keep_page_query":false,"ask_rating":false,"sound":false,"sdk_url":"/vendor/sdk.js","attachments":{"max_bytes":16777216,"max_files":1,"types":["jpg","png","gif","heic","pdf","txt","mp3","mp4","amr"]}}"##
        );
    }

    #[test]
    fn the_realtime_url_is_public_only_when_set_and_only_a_websocket_url() {
        let c: SiteConfig = serde_json::from_str(
            r#"{"allowed_origins":["https://acme.com"],"service_sid":"IS0123456789abcdef0123456789abcdef"}"#,
        )
        .unwrap();
        let url = RealtimeUrl::try_from("ws://127.0.0.1:8788/v3/wsconnect".to_owned()).unwrap();
        let json =
            serde_json::to_value(c.public(&"acme".parse().unwrap(), None, Some(&url))).unwrap();
        assert_eq!(json["realtime_url"], "ws://127.0.0.1:8788/v3/wsconnect");
        let json = serde_json::to_value(c.public(&"acme".parse().unwrap(), None, None)).unwrap();
        assert!(json.get("realtime_url").is_none());
        for bad in [
            "http://127.0.0.1:8788/v3/wsconnect",
            "127.0.0.1:8788",
            "wss://",
            "ftp://x/y",
            "",
        ] {
            assert!(RealtimeUrl::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn redacted_errors_name_the_field_and_rule_never_the_value() {
        let canary = "zq-canary-7319";
        let origin = format!("https://{canary}.test");
        let cases = [
            format!(r#"{{"allowed_origins": ["{origin}/"], "service_sid": "IS0123456789abcdef0123456789abcdef"}}"#),
            format!(r#"{{"allowed_origins": ["https://a.test"], "service_sid": "{canary}"}}"#),
            format!(r#"{{"allowed_origins": ["https://a.test"], "service_sid": "IS0123456789abcdef0123456789abcdef", "appearance": {{"brand_color": "{canary}"}}}}"#),
            format!(r#"{{"allowed_origins": ["https://a.test"], "service_sid": "IS0123456789abcdef0123456789abcdef", "automation": "{canary}"}}"#),
            format!(r#"{{"allowed_origins": ["https://a.test"], "service_sid": "IS0123456789abcdef0123456789abcdef", "token_ttl_seconds": "{canary}"}}"#),
            r#"{"allowed_origins": ["https://a.test"], "service_sid": "IS0123456789abcdef0123456789abcdef", "token_ttl_seconds": 7319123}"#.to_owned(),
        ];
        for json in cases {
            let e = SiteConfig::from_json(&json).unwrap_err();
            let shown = e.redacted();
            assert!(
                !shown.contains(canary) && !shown.contains("7319"),
                "{shown} (from {e})"
            );
            assert!(
                shown.contains(&format!("`{}`", e.field)) || e.field == ".",
                "{shown}"
            );
            assert!(
                e.to_string().contains("7319"),
                "the log keeps the value: {e}"
            );
        }
    }
}
