//! The Worker's contracts: with its callers (request and response bodies, the one error shape)
//! and, in [`secrets`], with its operator (which secrets exist and how each is checked).
//!
//! Every error response is `{"error": {"code": "<stable code>", "message": "<what to fix>"}}` with
//! the status its code maps to. Codes are part of the API: clients branch on them, so they never
//! change meaning; messages are for people and may improve.

pub mod end;
pub mod limits;
pub mod secrets;
pub mod start;

use serde::{Deserialize, Serialize};

/// Largest request body the Worker reads.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No such route.
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// No config is stored for this site id (or the id is not a valid one).
    UnknownSite,
    /// A cross-origin call without `Origin`: browsers always send it, so the caller is not one.
    OriginRequired,
    /// The page's origin is not in the site's `allowed_origins`.
    OriginNotAllowed,
    /// The body is not the JSON object this route takes.
    InvalidJson,
    /// The body is larger than [`MAX_BODY_BYTES`].
    BodyTooLarge,
    /// The visitor credential is forged, altered, truncated or from another site.
    InvalidVisitorCredential,
    /// A signed-in user's token the site's secret does not vouch for (the message says why).
    InvalidUserToken,
    /// The start route's pre-chat answers do not satisfy the site's form.
    InvalidPreChat,
    /// Too many requests from this client; `Retry-After` says when to try again.
    RateLimited,
    /// A Worker secret is not set.
    MissingSecret,
    /// A Worker secret is set but unusable (wrong shape or too short).
    InvalidSecret,
    /// A binding (KV namespace, rate limiter) is missing from wrangler.toml.
    MissingBinding,
    /// A Worker var (not a secret) is set to something unusable; the message names it.
    InvalidVar,
    /// The site's stored config does not validate.
    InvalidSiteConfig,
    /// A webhook without a valid `X-Twilio-Signature`: not from Twilio, or not for this auth
    /// token.
    InvalidSignature,
    /// A signed webhook that is not a readable Conversations event.
    InvalidEvent,
    /// A bug or a platform failure.
    Internal,
    /// No conversation with this SID that the visitor is in (it does not exist, or is not
    /// theirs: the answer does not say which).
    UnknownConversation,
    /// Twilio's REST API did not answer, or failed, after the retries the policy allows.
    TwilioUnavailable,
    /// A webhook could not be handled because the Worker is set up wrong (a secret, a binding,
    /// the site's config): the message names what to fix. 500, which Twilio does not retry: a
    /// retry cannot help until it is fixed.
    WebhookMisconfigured,
    /// The conversation has ended already, and Twilio keeps a closed conversation as it is: a
    /// rating can only come with the end itself.
    ConversationEnded,
    /// The visitor has as many open conversations as the site allows: one must end first.
    TooManyConversations,
    /// Something the Worker depends on failed for a moment (its storage, a Durable Object, the
    /// KV store): 503, which Twilio retries (when the service's retry count is set) and
    /// browsers may retry; nothing was lost.
    TemporarilyUnavailable,
    /// Twilio refused what the visitor asked for (a 4xx of its own: attributes over its size
    /// limit, say): retrying the same request cannot help. The message carries Twilio's.
    TwilioRefused,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 26] = [
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::UnknownSite,
        ErrorCode::OriginRequired,
        ErrorCode::OriginNotAllowed,
        ErrorCode::InvalidJson,
        ErrorCode::BodyTooLarge,
        ErrorCode::InvalidVisitorCredential,
        ErrorCode::InvalidUserToken,
        ErrorCode::InvalidPreChat,
        ErrorCode::RateLimited,
        ErrorCode::MissingSecret,
        ErrorCode::InvalidSecret,
        ErrorCode::MissingBinding,
        ErrorCode::InvalidVar,
        ErrorCode::InvalidSiteConfig,
        ErrorCode::InvalidSignature,
        ErrorCode::InvalidEvent,
        ErrorCode::Internal,
        ErrorCode::WebhookMisconfigured,
        ErrorCode::UnknownConversation,
        ErrorCode::TwilioUnavailable,
        ErrorCode::ConversationEnded,
        ErrorCode::TooManyConversations,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::TwilioRefused,
    ];

    /// The code an error body names (`None` for one this version does not know).
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::UnknownSite => "unknown_site",
            ErrorCode::OriginRequired => "origin_required",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::InvalidVisitorCredential => "invalid_visitor_credential",
            ErrorCode::InvalidUserToken => "invalid_user_token",
            ErrorCode::InvalidPreChat => "invalid_pre_chat",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::MissingSecret => "missing_secret",
            ErrorCode::InvalidSecret => "invalid_secret",
            ErrorCode::InvalidVar => "invalid_var",
            ErrorCode::MissingBinding => "missing_binding",
            ErrorCode::InvalidSiteConfig => "invalid_site_config",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::InvalidEvent => "invalid_event",
            ErrorCode::Internal => "internal",
            ErrorCode::WebhookMisconfigured => "webhook_misconfigured",
            ErrorCode::UnknownConversation => "unknown_conversation",
            ErrorCode::TwilioUnavailable => "twilio_unavailable",
            ErrorCode::ConversationEnded => "conversation_ended",
            ErrorCode::TooManyConversations => "too_many_conversations",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::TwilioRefused => "twilio_refused",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson | ErrorCode::InvalidEvent | ErrorCode::InvalidPreChat => 400,
            ErrorCode::InvalidVisitorCredential | ErrorCode::InvalidUserToken => 401,
            ErrorCode::OriginRequired
            | ErrorCode::OriginNotAllowed
            | ErrorCode::InvalidSignature => 403,
            ErrorCode::NotFound | ErrorCode::UnknownSite | ErrorCode::UnknownConversation => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::ConversationEnded => 409,
            ErrorCode::TwilioRefused => 422,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::RateLimited | ErrorCode::TooManyConversations => 429,
            ErrorCode::Internal | ErrorCode::WebhookMisconfigured => 500,
            ErrorCode::MissingSecret
            | ErrorCode::InvalidSecret
            | ErrorCode::InvalidVar
            | ErrorCode::MissingBinding
            | ErrorCode::InvalidSiteConfig
            | ErrorCode::TwilioUnavailable
            | ErrorCode::TemporarilyUnavailable => 503,
        }
    }
}

/// An error on its way to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_owned(),
                message: self.message.clone(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `POST /api/sites/{site}/token`: `{}` for a new visitor, `{"visitor": "<credential>"}` for a
/// returning one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The visitor credential from an earlier token (absent: a new visitor). With a
    /// `user_token`, the anonymous visitor who is signing in (their open conversations become
    /// the user's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    /// A signed-in user: the HS256 JWT the site's backend signed (see `user_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_token: Option<String>,
}

impl TokenRequest {
    /// Reads a request body. An empty body is a new visitor, like `{}`; anything but a JSON object
    /// with at most the `visitor` and `user_token` fields is refused with a message saying what was expected.
    pub fn from_body(body: &[u8]) -> Result<TokenRequest, BodyError> {
        let text = std::str::from_utf8(body).map_err(|_| BodyError::NotUtf8)?;
        let text = text.trim();
        if text.is_empty() {
            return Ok(TokenRequest::default());
        }
        if !text.starts_with('{') {
            return Err(BodyError::NotAnObject);
        }
        serde_json::from_str(text).map_err(|e| BodyError::Unreadable(e.to_string()))
    }
}

/// Why a request body is not the JSON this route takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    NotUtf8,
    NotAnObject,
    /// The JSON parser's reason (a wrong field, a duplicate, a syntax error).
    Unreadable(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const EXPECTED: &str = "expected a JSON object: {} for a new visitor or \
                                {\"visitor\": \"<credential>\"} for a returning one";
        match self {
            BodyError::NotUtf8 => f.write_str("the body is not UTF-8 text"),
            BodyError::NotAnObject => f.write_str(EXPECTED),
            BodyError::Unreadable(e) => write!(f, "{EXPECTED}: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The Twilio access token for `new Client(token)` and `client.updateToken(token)`.
    pub token: String,
    /// The Conversations identity the token is for (`visitor:<site>:<uuid>`).
    pub identity: String,
    /// The credential to keep and send back next time to stay the same visitor (none for a
    /// signed-in user: their user token proves them each time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    /// When the token expires, in unix seconds (by the Worker's clock).
    pub expires_at: u64,
    /// How long the token lives from now, in seconds: what the widget times its renewal by
    /// (the visitor's clock may be hours off the Worker's).
    pub expires_in: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_from_its_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        let names: std::collections::BTreeSet<_> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "names are unique");
        assert_eq!(ErrorCode::parse("http_error"), None);
    }

    #[test]
    fn error_body_shape() {
        let e = ApiError::new(ErrorCode::OriginNotAllowed, "add it");
        assert_eq!(
            serde_json::to_string(&e.body()).unwrap(),
            r#"{"error":{"code":"origin_not_allowed","message":"add it"}}"#
        );
        assert_eq!(e.code.status(), 403);
    }

    #[test]
    fn token_request_takes_only_the_visitor_field() {
        assert_eq!(
            serde_json::from_str::<TokenRequest>("{}").unwrap(),
            TokenRequest::default()
        );
        assert_eq!(
            serde_json::from_str::<TokenRequest>(r#"{"visitor":"v1.x"}"#)
                .unwrap()
                .visitor
                .as_deref(),
            Some("v1.x")
        );
        assert_eq!(
            TokenRequest::from_body(b"").unwrap(),
            TokenRequest::default()
        );
        assert_eq!(
            TokenRequest::from_body(b" {} ").unwrap(),
            TokenRequest::default()
        );
        for bad in [
            &br#"{"identity":"agent"}"#[..],
            br#"{"visitor":5}"#,
            b"[]",
            b"null",
            b"{",
            br#"{"visitor":"a","visitor":"b"}"#,
        ] {
            let err = TokenRequest::from_body(bad).unwrap_err().to_string();
            assert!(err.contains("expected a JSON object"), "{err}");
        }
        let err = TokenRequest::from_body(b"\xff").unwrap_err().to_string();
        assert!(err.contains("UTF-8"), "{err}");
    }
}
