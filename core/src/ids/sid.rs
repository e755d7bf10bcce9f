//! Twilio resource identifiers.
//!
//! Every Twilio SID is two upper-case letters naming the resource type followed by 32 lower-case
//! hex digits, e.g. `IS0123456789abcdef0123456789abcdef` for a Conversations service. Each kind
//! gets its own type so that a flow SID can never be passed where a service SID is expected, and a
//! SID that reaches the Worker from config, a secret or a webhook is checked once, when parsed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Invalid;

/// Why a string is not a SID of the expected kind. The message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidError {
    pub kind: &'static str,
    pub prefix: &'static str,
}

impl fmt::Display for SidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected a {} SID: \"{}\" followed by 32 lower-case hex digits (34 characters)",
            self.kind, self.prefix
        )
    }
}

impl std::error::Error for SidError {}

fn check_sid(s: &str, prefix: &'static str, kind: &'static str) -> Result<(), SidError> {
    let ok = s.len() == 34
        && s.starts_with(prefix)
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SidError { kind, prefix })
    }
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = SidError;
            fn from_str(s: &str) -> Result<Self, SidError> {
                check_sid(s, $prefix, $kind).map(|()| Self(s.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid<SidError>;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                match check_sid(&s, $prefix, $kind) {
                    Ok(()) => Ok(Self(s)),
                    Err(reason) => Err(Invalid { reason, value: s }),
                }
            }
        }

        impl From<$name> for String {
            fn from(sid: $name) -> String {
                sid.0
            }
        }
    };
}

sid_type!(
    /// The Twilio account (`AC...`), the `sub` of every access token.
    AccountSid, "AC", "Twilio account"
);
sid_type!(
    /// An API key (`SK...`), the `iss` of every access token; its secret signs them.
    ApiKeySid, "SK", "Twilio API key"
);
sid_type!(
    /// A Conversations service (`IS...`), the chat grant's `service_sid`.
    ServiceSid, "IS", "Conversations service"
);
sid_type!(
    /// A push credential (`CR...`), the chat grant's optional `push_credential_sid`.
    PushCredentialSid, "CR", "push credential"
);
sid_type!(
    /// A Studio flow (`FW...`) that answers a site's conversations.
    FlowSid, "FW", "Studio flow"
);
sid_type!(
    /// A conversation-scoped webhook (`WH...`), as the Worker attaches them.
    WebhookSid, "WH", "conversation webhook"
);
sid_type!(
    /// One conversation (`CH...`).
    ConversationSid, "CH", "conversation"
);

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "IS0123456789abcdef0123456789abcdef";

    #[test]
    fn accepts_a_well_formed_sid() {
        let sid: ServiceSid = GOOD.parse().unwrap();
        assert_eq!(sid.as_str(), GOOD);
        assert_eq!(sid.to_string(), GOOD);
    }

    #[test]
    fn rejects_wrong_prefix_length_and_alphabet() {
        for bad in [
            "",
            "IS",
            "FW0123456789abcdef0123456789abcdef",
            "is0123456789abcdef0123456789abcdef",
            "IS0123456789ABCDEF0123456789abcdef",
            "IS0123456789abcdef0123456789abcde",
            "IS0123456789abcdef0123456789abcdef0",
            "IS0123456789abcdeg0123456789abcdef",
            "IS0123456789abcdef0123456789abcdé",
        ] {
            let err = bad.parse::<ServiceSid>().unwrap_err();
            assert_eq!(
                err.to_string(),
                "expected a Conversations service SID: \"IS\" followed by 32 lower-case hex \
                 digits (34 characters)",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn deserialize_error_names_the_kind_and_the_value() {
        let err = serde_json::from_str::<FlowSid>("\"FWnope\"").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("Studio flow SID"), "{msg}");
        assert!(msg.contains("\"FWnope\""), "{msg}");
    }

    #[test]
    fn each_kind_checks_its_own_prefix() {
        let tail = "0123456789abcdef0123456789abcdef";
        assert!(format!("AC{tail}").parse::<AccountSid>().is_ok());
        assert!(format!("SK{tail}").parse::<ApiKeySid>().is_ok());
        assert!(format!("CR{tail}").parse::<PushCredentialSid>().is_ok());
        assert!(format!("FW{tail}").parse::<FlowSid>().is_ok());
        assert!(format!("CH{tail}").parse::<ConversationSid>().is_ok());
        assert!(format!("AC{tail}").parse::<ApiKeySid>().is_err());
    }
}
