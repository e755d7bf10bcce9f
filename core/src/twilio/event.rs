//! The Conversations post-event webhooks Twilio sends (form-encoded POSTs), as typed events.
//!
//! Every event carries `AccountSid`, `EventType`, `Source` and `RetryCount`, plus `ClientIdentity`
//! when an SDK user caused it. We act on two types and ignore the rest:
//! - `onConversationAdded`: `ConversationSid`, `ChatServiceSid`, `Attributes` (JSON text), ...
//! - `onMessageAdded`: `ConversationSid`, `MessageSid`, `Index`, `Author`, `Body`, ...
//!
//! The site a conversation belongs to is read from `ClientIdentity`, which Twilio takes from the
//! access token the Worker signed, or, for a conversation the Worker itself started over REST
//! (`Source=API`), from the `visitor` its attributes name; either way a visitor cannot claim
//! another site's automation.

use crate::ids::sid::{ConversationSid, ServiceSid};
use crate::ids::site::SiteId;
use crate::visitor::VisitorIdentity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationEvent {
    ConversationAdded {
        conversation_sid: ConversationSid,
        chat_service_sid: Option<ServiceSid>,
        /// The visitor who created it, when a visitor of ours did.
        visitor: Option<VisitorIdentity>,
    },
    MessageAdded {
        conversation_sid: ConversationSid,
        chat_service_sid: Option<ServiceSid>,
        index: u64,
        author: String,
        body: String,
        visitor: Option<VisitorIdentity>,
    },
    /// Any other event type: acknowledged and ignored.
    Other { event_type: String },
}

/// Why a signed request is still not an event we can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError(pub String);

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, EventError> {
    field(params, name).ok_or_else(|| EventError(format!("the event has no {name}")))
}

/// The visitor of a conversation the Worker started over REST (`Source=API`): the `visitor`
/// its attributes name. Only holders of the account's credentials write over REST, and no
/// visitor may edit a conversation's attributes (their roles lack the permission), so these
/// attributes are the Worker's own.
fn started_by_worker(params: &[(String, String)]) -> Option<VisitorIdentity> {
    if field(params, "Source")? != "API" {
        return None;
    }
    VisitorIdentity::named_in_attributes(field(params, "Attributes")?)
}

impl ConversationEvent {
    pub fn parse(params: &[(String, String)]) -> Result<ConversationEvent, EventError> {
        let event_type = required(params, "EventType")?;
        let conversation_sid = || -> Result<ConversationSid, EventError> {
            required(params, "ConversationSid")?
                .parse()
                .map_err(|e| EventError(format!("ConversationSid: {e}")))
        };
        let visitor = field(params, "ClientIdentity").and_then(VisitorIdentity::parse);
        Ok(match event_type {
            "onConversationAdded" => ConversationEvent::ConversationAdded {
                conversation_sid: conversation_sid()?,
                chat_service_sid: field(params, "ChatServiceSid").and_then(|s| s.parse().ok()),
                visitor: visitor.or_else(|| started_by_worker(params)),
            },
            "onMessageAdded" => ConversationEvent::MessageAdded {
                conversation_sid: conversation_sid()?,
                chat_service_sid: field(params, "ChatServiceSid").and_then(|s| s.parse().ok()),
                index: required(params, "Index")?
                    .parse()
                    .map_err(|_| EventError("Index is not a number".into()))?,
                author: field(params, "Author").unwrap_or_default().to_owned(),
                body: field(params, "Body").unwrap_or_default().to_owned(),
                visitor,
            },
            other => ConversationEvent::Other {
                event_type: other.to_owned(),
            },
        })
    }

    /// The site whose automation applies: the one bound into the visitor's identity.
    pub fn site(&self) -> Option<&SiteId> {
        match self {
            ConversationEvent::ConversationAdded { visitor, .. }
            | ConversationEvent::MessageAdded { visitor, .. } => visitor.as_ref().map(|v| v.site()),
            ConversationEvent::Other { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: &str = "CH0123456789abcdef0123456789abcdef";
    const VISITOR: &str = "visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn conversation_added_by_a_visitor_names_its_site() {
        let event = ConversationEvent::parse(&form(&[
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("EventType", "onConversationAdded"),
            ("Source", "SDK"),
            ("RetryCount", "0"),
            ("ClientIdentity", VISITOR),
            ("ConversationSid", CH),
            ("ChatServiceSid", "IS0123456789abcdef0123456789abcdef"),
            ("Attributes", r#"{"site":"evil"}"#),
        ]))
        .unwrap();
        assert_eq!(
            event.site().map(|s| s.as_str()),
            Some("acme"),
            "attributes are not trusted"
        );
        let ConversationEvent::ConversationAdded {
            conversation_sid,
            chat_service_sid,
            ..
        } = event
        else {
            panic!()
        };
        assert_eq!(conversation_sid.as_str(), CH);
        assert!(chat_service_sid.is_some());
    }

    #[test]
    fn a_conversation_the_worker_started_names_its_site_in_its_attributes() {
        let event = |source: &str, client: Option<&str>| {
            let mut pairs = vec![
                ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
                ("EventType", "onConversationAdded"),
                ("Source", source),
                ("ConversationSid", CH),
                (
                    "Attributes",
                    r#"{"site":"acme","visitor":"visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11"}"#,
                ),
            ];
            if let Some(c) = client {
                pairs.push(("ClientIdentity", c));
            }
            ConversationEvent::parse(&form(&pairs)).unwrap()
        };
        assert_eq!(event("API", None).site().map(|s| s.as_str()), Some("acme"));
        // An SDK user's attributes are the user's own: never trusted.
        assert_eq!(event("SDK", None).site(), None);
        let by_other = "visitor:other:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";
        assert_eq!(
            event("SDK", Some(by_other)).site().map(|s| s.as_str()),
            Some("other")
        );
    }

    #[test]
    fn events_without_a_visitor_of_ours_have_no_site() {
        for identity in [
            None,
            Some("agent@acme.com"),
            Some("visitor:acme:not-a-uuid"),
        ] {
            let mut pairs = vec![
                ("EventType", "onConversationAdded"),
                ("ConversationSid", CH),
            ];
            if let Some(id) = identity {
                pairs.push(("ClientIdentity", id));
            }
            assert_eq!(
                ConversationEvent::parse(&form(&pairs)).unwrap().site(),
                None
            );
        }
    }

    #[test]
    fn message_added() {
        let event = ConversationEvent::parse(&form(&[
            ("EventType", "onMessageAdded"),
            ("ConversationSid", CH),
            ("Index", "7"),
            ("Author", VISITOR),
            ("Body", "what does it cost?"),
            ("ClientIdentity", VISITOR),
        ]))
        .unwrap();
        let ConversationEvent::MessageAdded {
            index,
            body,
            author,
            ..
        } = &event
        else {
            panic!()
        };
        assert_eq!(
            (*index, body.as_str(), author.as_str()),
            (7, "what does it cost?", VISITOR)
        );
        assert_eq!(event.site().map(|s| s.as_str()), Some("acme"));
    }

    #[test]
    fn other_types_are_kept_by_name_and_bad_ones_are_errors() {
        assert_eq!(
            ConversationEvent::parse(&form(&[("EventType", "onParticipantAdded")])).unwrap(),
            ConversationEvent::Other {
                event_type: "onParticipantAdded".into()
            }
        );
        assert!(ConversationEvent::parse(&form(&[])).is_err());
        assert!(ConversationEvent::parse(&form(&[("EventType", "onConversationAdded")])).is_err());
        assert!(ConversationEvent::parse(&form(&[
            ("EventType", "onConversationAdded"),
            ("ConversationSid", "CHx")
        ]))
        .is_err());
        assert!(ConversationEvent::parse(&form(&[
            ("EventType", "onMessageAdded"),
            ("ConversationSid", CH),
            ("Index", "x")
        ]))
        .is_err());
    }
}
