//! The Worker's secrets: which exist, how each is checked, and the message when one is wrong.
//!
//! Secrets come from `wrangler secret put` in production and `.dev.vars` locally. A message names
//! the variable and how to set it, never its value.

use std::fmt;

use crate::ids::sid::{AccountSid, ApiKeySid, SidError};
use crate::visitor::{VisitorSigner, MIN_SECRET_LEN};

pub const TWILIO_ACCOUNT_SID: &str = "TWILIO_ACCOUNT_SID";
pub const TWILIO_API_KEY_SID: &str = "TWILIO_API_KEY_SID";
pub const TWILIO_API_KEY_SECRET: &str = "TWILIO_API_KEY_SECRET";
pub const TWILIO_AUTH_TOKEN: &str = "TWILIO_AUTH_TOKEN";
pub const VISITOR_SIGNING_SECRET: &str = "VISITOR_SIGNING_SECRET";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    Missing(&'static str),
    Invalid(&'static str, String),
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::Missing(name) => write!(
                f,
                "the Worker secret {name} is not set: run `npx wrangler secret put {name}` \
                 (locally, add it to .dev.vars)"
            ),
            SecretError::Invalid(name, why) => write!(
                f,
                "the Worker secret {name} is unusable: {why}; set it again with \
                 `npx wrangler secret put {name}`"
            ),
        }
    }
}

impl std::error::Error for SecretError {}

/// Everything the token route needs to sign: Twilio's API key and the visitor-signing secret.
#[derive(Clone)]
pub struct TokenSecrets {
    pub account_sid: AccountSid,
    pub api_key_sid: ApiKeySid,
    pub api_key_secret: String,
    pub visitor_signer: VisitorSigner,
}

impl fmt::Debug for TokenSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSecrets")
            .field("account_sid", &self.account_sid)
            .field("api_key_sid", &self.api_key_sid)
            .finish_non_exhaustive()
    }
}

/// Reads secrets through the Worker's `env.secret` (or a test's map): one reader for every
/// route's set, so that each secret is checked the same way wherever it is needed.
struct Reader<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    fn required(&self, name: &'static str) -> Result<String, SecretError> {
        (self.0)(name)
            .filter(|v| !v.is_empty())
            .ok_or(SecretError::Missing(name))
    }

    fn sid<T: std::str::FromStr<Err = SidError>>(
        &self,
        name: &'static str,
    ) -> Result<T, SecretError> {
        self.required(name)?
            .trim()
            .parse()
            .map_err(|e: SidError| SecretError::Invalid(name, e.to_string()))
    }
}

impl TokenSecrets {
    /// Reads and checks each secret through `lookup` (the Worker's `env.secret`), reporting the
    /// first one that is missing or malformed.
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<TokenSecrets, SecretError> {
        let read = Reader(lookup);
        let account_sid = read.sid(TWILIO_ACCOUNT_SID)?;
        let api_key_sid = read.sid(TWILIO_API_KEY_SID)?;
        let api_key_secret = read.required(TWILIO_API_KEY_SECRET)?;
        let visitor_signer = VisitorSigner::new(read.required(VISITOR_SIGNING_SECRET)?.as_bytes())
            .map_err(|_| {
                SecretError::Invalid(
                    VISITOR_SIGNING_SECRET,
                    format!(
                        "it must be at least {MIN_SECRET_LEN} characters; generate one with \
                     `openssl rand -base64 48`"
                    ),
                )
            })?;
        Ok(TokenSecrets {
            account_sid,
            api_key_sid,
            api_key_secret,
            visitor_signer,
        })
    }
}

/// What the webhook route needs: the auth token that signs Twilio's webhooks, and the API key
/// for the REST calls it makes in answer.
#[derive(Clone)]
pub struct WebhookSecrets {
    pub account_sid: AccountSid,
    pub api_key_sid: ApiKeySid,
    pub api_key_secret: String,
    pub auth_token: String,
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSecrets")
            .field("account_sid", &self.account_sid)
            .field("api_key_sid", &self.api_key_sid)
            .finish_non_exhaustive()
    }
}

/// `TWILIO_AUTH_TOKEN` alone: what checks a webhook's signature.
pub fn read_auth_token(lookup: impl Fn(&str) -> Option<String>) -> Result<String, SecretError> {
    Reader(lookup).required(TWILIO_AUTH_TOKEN)
}

impl WebhookSecrets {
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<WebhookSecrets, SecretError> {
        let read = Reader(lookup);
        Ok(WebhookSecrets {
            account_sid: read.sid(TWILIO_ACCOUNT_SID)?,
            api_key_sid: read.sid(TWILIO_API_KEY_SID)?,
            api_key_secret: read.required(TWILIO_API_KEY_SECRET)?,
            auth_token: read.required(TWILIO_AUTH_TOKEN)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_config_may_not_name_any_of_these() {
        assert_eq!(
            crate::site::config::WORKER_SECRETS,
            [
                TWILIO_ACCOUNT_SID,
                TWILIO_API_KEY_SID,
                TWILIO_API_KEY_SECRET,
                TWILIO_AUTH_TOKEN,
                VISITOR_SIGNING_SECRET
            ]
        );
    }
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, String> {
        HashMap::from([
            (
                TWILIO_ACCOUNT_SID,
                "AC0123456789abcdef0123456789abcdef".into(),
            ),
            (
                TWILIO_API_KEY_SID,
                "SK0123456789abcdef0123456789abcdef".into(),
            ),
            (TWILIO_API_KEY_SECRET, "key-secret-value".into()),
            (VISITOR_SIGNING_SECRET, "v".repeat(48)),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<TokenSecrets, SecretError> {
        TokenSecrets::load(|name| vars.get(name).cloned())
    }

    #[test]
    fn loads_when_all_are_present() {
        let s = load(&full()).unwrap();
        assert_eq!(s.api_key_secret, "key-secret-value");
        assert!(!format!("{s:?}").contains("key-secret-value"));
    }

    #[test]
    fn names_each_missing_secret() {
        for name in [
            TWILIO_ACCOUNT_SID,
            TWILIO_API_KEY_SID,
            TWILIO_API_KEY_SECRET,
            VISITOR_SIGNING_SECRET,
        ] {
            let mut vars = full();
            vars.remove(name);
            let err = load(&vars).unwrap_err();
            assert_eq!(err, SecretError::Missing(name));
            assert!(err
                .to_string()
                .contains(&format!("wrangler secret put {name}")));
            vars.insert(name, String::new());
            assert_eq!(load(&vars).unwrap_err(), SecretError::Missing(name));
        }
    }

    #[test]
    fn webhook_secrets_need_the_auth_token() {
        let mut vars = full();
        assert_eq!(
            WebhookSecrets::load(|n| vars.get(n).cloned()).unwrap_err(),
            SecretError::Missing(TWILIO_AUTH_TOKEN)
        );
        vars.insert(TWILIO_AUTH_TOKEN, "auth-token-value".into());
        let s = WebhookSecrets::load(|n| vars.get(n).cloned()).unwrap();
        assert_eq!(s.auth_token, "auth-token-value");
        assert!(!format!("{s:?}").contains("auth-token-value"));
        vars.insert(
            TWILIO_API_KEY_SID,
            "AC0123456789abcdef0123456789abcdef".into(),
        );
        assert!(matches!(
            WebhookSecrets::load(|n| vars.get(n).cloned()).unwrap_err(),
            SecretError::Invalid(TWILIO_API_KEY_SID, _)
        ));
    }

    #[test]
    fn malformed_secrets_are_named_without_their_value() {
        let mut vars = full();
        vars.insert(TWILIO_ACCOUNT_SID, "SK-not-an-account".into());
        let err = load(&vars).unwrap_err();
        assert!(matches!(err, SecretError::Invalid(TWILIO_ACCOUNT_SID, _)));
        assert!(!err.to_string().contains("SK-not-an-account"), "{err}");

        let mut vars = full();
        vars.insert(VISITOR_SIGNING_SECRET, "too-short".into());
        let err = load(&vars).unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
        assert!(!err.to_string().contains("too-short"), "{err}");
    }
}
