//! What a signed Conversations webhook asks of the Worker: ignore it, attach the site's
//! automation to a new conversation, or let the built-in responder answer a visitor's message.
//!
//! The decision is pure and made in two steps around the one read it needs (the site's config):
//! [`route`] reads the event and finds whose site it is, [`decide`] applies that site's config.
//! What the Worker then did (or why it could not) is an [`Outcome`], which names itself in the
//! webhook's answer and log line.

use std::fmt;

use crate::ids::sid::{AccountSid, ConversationSid, ServiceSid, WebhookSid};
use crate::ids::site::SiteId;
use crate::site::config::{AutoReply, Automation, SiteConfig};
use crate::twilio::event::{ConversationEvent, EventError};
use crate::twilio::rest::{Attachment, ERROR_WEBHOOK_LIMIT};
use crate::visitor::VisitorIdentity;

/// Why an event needs nothing from the Worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    OtherAccount,
    NotActedOn {
        event_type: String,
    },
    NotStartedByVisitor,
    NotFromVisitor,
    /// The visitor's site has no config (deleted since the visitor's token).
    UnknownSite,
    OtherService,
    NotAutoReply,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::OtherAccount => f.write_str("the event is for another Twilio account"),
            Ignored::NotActedOn { event_type } => {
                write!(f, "{event_type} is not an event edgechat acts on")
            }
            Ignored::NotStartedByVisitor => {
                f.write_str("the conversation was not started by an edgechat visitor")
            }
            Ignored::NotFromVisitor => f.write_str("the message is not from an edgechat visitor"),
            Ignored::UnknownSite => f.write_str("the visitor's site is unknown"),
            Ignored::OtherService => {
                f.write_str("the conversation is in another Conversations service than the site's")
            }
            Ignored::NotAutoReply => f.write_str("the site's automation is not auto_reply"),
        }
    }
}

/// An event that concerns one of our sites, whose config decides what happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForSite {
    pub site: SiteId,
    pub event: SiteEvent,
}

/// An event of one of our sites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteEvent {
    ConversationAdded {
        conversation: ConversationSid,
        service: Option<ServiceSid>,
    },
    MessageAdded {
        conversation: ConversationSid,
        service: Option<ServiceSid>,
        /// The visitor who wrote it (its `Author`, proven by `ClientIdentity`).
        visitor: String,
        index: u64,
        body: String,
    },
}

impl SiteEvent {
    pub fn conversation(&self) -> &ConversationSid {
        match self {
            SiteEvent::ConversationAdded { conversation, .. }
            | SiteEvent::MessageAdded { conversation, .. } => conversation,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Ignore(Ignored),
    Site(ForSite),
}

/// Reads a signed event's parameters: ignored unless it is for `account` and about a visitor of
/// ours (the site comes from `ClientIdentity`, which Twilio takes from the token the Worker
/// signed; a message counts only when that visitor is its author: never the bot's, sent over
/// REST without `ClientIdentity`, nor an agent's).
pub fn route(account: &AccountSid, params: &[(String, String)]) -> Result<Route, EventError> {
    let for_account = params
        .iter()
        .any(|(k, v)| k == "AccountSid" && v == account.as_str());
    if !for_account {
        return Ok(Route::Ignore(Ignored::OtherAccount));
    }
    let for_site = |visitor: VisitorIdentity, event| {
        Route::Site(ForSite {
            site: visitor.site().clone(),
            event,
        })
    };
    Ok(match ConversationEvent::parse(params)? {
        ConversationEvent::Other { event_type } => {
            Route::Ignore(Ignored::NotActedOn { event_type })
        }
        ConversationEvent::ConversationAdded {
            conversation_sid,
            chat_service_sid,
            visitor,
        } => match visitor {
            None => Route::Ignore(Ignored::NotStartedByVisitor),
            Some(visitor) => for_site(
                visitor,
                SiteEvent::ConversationAdded {
                    conversation: conversation_sid,
                    service: chat_service_sid,
                },
            ),
        },
        ConversationEvent::MessageAdded {
            conversation_sid,
            chat_service_sid,
            index,
            author,
            body,
            visitor,
        } => match visitor.filter(|v| v.to_string() == author) {
            None => Route::Ignore(Ignored::NotFromVisitor),
            Some(visitor) => for_site(
                visitor,
                SiteEvent::MessageAdded {
                    conversation: conversation_sid,
                    service: chat_service_sid,
                    visitor: author,
                    index,
                    body,
                },
            ),
        },
    })
}

/// What the Worker does for an event of one of its sites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'c> {
    Ignore(Ignored),
    /// The automation attaches nothing to new conversations (none, or the built-in responder).
    NothingToAttach,
    Attach {
        conversation: ConversationSid,
        attachment: Attachment,
    },
    Reply {
        conversation: ConversationSid,
        script: &'c AutoReply,
        visitor: String,
        index: u64,
        body: String,
    },
}

/// Applies the site's config to its event.
pub fn decide(event: SiteEvent, config: &SiteConfig) -> Action<'_> {
    match event {
        SiteEvent::ConversationAdded {
            conversation,
            service,
        } => {
            if service.as_ref() != Some(&config.service_sid) {
                return Action::Ignore(Ignored::OtherService);
            }
            match config.automation.attachment() {
                None => Action::NothingToAttach,
                Some(attachment) => Action::Attach {
                    conversation,
                    attachment,
                },
            }
        }
        SiteEvent::MessageAdded { service, .. }
            if service.as_ref() != Some(&config.service_sid) =>
        {
            Action::Ignore(Ignored::OtherService)
        }
        SiteEvent::MessageAdded {
            conversation,
            visitor,
            index,
            body,
            ..
        } => match &config.automation {
            Automation::AutoReply(script) => Action::Reply {
                conversation,
                script,
                visitor,
                index,
                body,
            },
            _ => Action::Ignore(Ignored::NotAutoReply),
        },
    }
}

/// What handling an event came to. `code()` is the stable word in the webhook's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ignored(Ignored),
    NothingToAttach,
    Attached {
        what: String,
        conversation: ConversationSid,
        webhook: Option<WebhookSid>,
    },
    AlreadyAttached {
        what: String,
        conversation: ConversationSid,
        webhook: WebhookSid,
    },
    /// The conversation has Twilio's maximum of webhooks already.
    WebhookLimit {
        what: String,
        conversation: ConversationSid,
    },
    Replied {
        replies: usize,
        notes: Vec<String>,
    },
    /// Handed off, or already answered.
    Silent {
        notes: Vec<String>,
    },
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Ignored(_) => "ignored",
            Outcome::NothingToAttach => "nothing_to_attach",
            Outcome::Attached { .. } => "attached",
            Outcome::AlreadyAttached { .. } => "already_attached",
            Outcome::WebhookLimit { .. } => "webhook_limit",
            Outcome::Replied { .. } => "replied",
            Outcome::Silent { .. } => "silent",
        }
    }
}

/// How an attachment is named to the operator.
pub fn describe(attachment: &Attachment) -> String {
    match attachment {
        Attachment::Studio(flow) => format!("Studio flow {flow}"),
        Attachment::Webhook(_) => "the site's bot webhook".to_owned(),
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ignored(why) => why.fmt(f),
            Outcome::NothingToAttach => {
                f.write_str("the site's automation attaches nothing to new conversations")
            }
            Outcome::Attached {
                what,
                conversation,
                webhook,
            } => {
                write!(f, "{what} attached to {conversation} as ")?;
                match webhook {
                    Some(sid) => write!(f, "{sid}"),
                    None => f.write_str("a webhook whose answer was unreadable"),
                }
            }
            Outcome::AlreadyAttached {
                what,
                conversation,
                webhook,
            } => write!(
                f,
                "{what} is already attached to {conversation} as {webhook}"
            ),
            Outcome::WebhookLimit { what, conversation } => write!(
                f,
                "conversation {conversation} already has 5 webhooks (Twilio error \
                 {ERROR_WEBHOOK_LIMIT}), so {what} was not attached; remove one of its webhooks"
            ),
            Outcome::Replied { replies, notes } => {
                write!(f, "{replies} replies")?;
                notes.iter().try_for_each(|n| write!(f, "; {n}"))
            }
            Outcome::Silent { notes } => {
                f.write_str("the responder has nothing to say (handed off, or already answered)")?;
                notes.iter().try_for_each(|n| write!(f, "; {n}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const IS: &str = "IS0123456789abcdef0123456789abcdef";
    const CH: &str = "CH0123456789abcdef0123456789abcdef";
    const FW: &str = "FW0123456789abcdef0123456789abcdef";
    const VISITOR: &str = "visitor:acme:0b7e7a8a-4a43-4b8e-9a36-2f1f5a1f9d11";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn added(identity: Option<&str>, service: &str) -> Vec<(String, String)> {
        let mut p = params(&[
            ("AccountSid", AC),
            ("EventType", "onConversationAdded"),
            ("ConversationSid", CH),
            ("ChatServiceSid", service),
        ]);
        if let Some(identity) = identity {
            p.push(("ClientIdentity".into(), identity.into()));
        }
        p
    }

    fn message(identity: &str, author: &str) -> Vec<(String, String)> {
        params(&[
            ("AccountSid", AC),
            ("EventType", "onMessageAdded"),
            ("ConversationSid", CH),
            ("ChatServiceSid", IS),
            ("Index", "3"),
            ("Author", author),
            ("Body", "hello"),
            ("ClientIdentity", identity),
        ])
    }

    fn account() -> AccountSid {
        AC.parse().unwrap()
    }

    fn config(automation: &str) -> SiteConfig {
        SiteConfig::from_json(&format!(
            r#"{{"allowed_origins": ["https://a.com"], "service_sid": "{IS}", "automation": {automation}}}"#
        ))
        .unwrap()
    }

    fn site_event(params: &[(String, String)]) -> SiteEvent {
        match route(&account(), params).unwrap() {
            Route::Site(ForSite { site, event }) => {
                assert_eq!(site.as_str(), "acme");
                event
            }
            other => panic!("expected a site event, got {other:?}"),
        }
    }

    #[test]
    fn events_for_other_accounts_or_not_ours_are_ignored() {
        let mut other = added(Some(VISITOR), IS);
        other[0].1 = "AC00000000000000000000000000000000".into();
        assert_eq!(
            route(&account(), &other).unwrap(),
            Route::Ignore(Ignored::OtherAccount)
        );
        assert_eq!(
            route(&account(), &added(None, IS)).unwrap(),
            Route::Ignore(Ignored::NotStartedByVisitor)
        );
        assert_eq!(
            route(&account(), &added(Some("agent:ana"), IS)).unwrap(),
            Route::Ignore(Ignored::NotStartedByVisitor)
        );
        let typing = params(&[("AccountSid", AC), ("EventType", "onTypingStarted")]);
        assert_eq!(
            route(&account(), &typing).unwrap(),
            Route::Ignore(Ignored::NotActedOn {
                event_type: "onTypingStarted".into()
            })
        );
    }

    #[test]
    fn a_message_counts_only_when_its_author_is_the_visitor_whose_token_wrote_it() {
        assert_eq!(
            route(&account(), &message(VISITOR, "bot")).unwrap(),
            Route::Ignore(Ignored::NotFromVisitor)
        );
        assert_eq!(
            site_event(&message(VISITOR, VISITOR)),
            SiteEvent::MessageAdded {
                conversation: CH.parse().unwrap(),
                service: Some(IS.parse().unwrap()),
                visitor: VISITOR.into(),
                index: 3,
                body: "hello".into()
            }
        );
    }

    #[test]
    fn unreadable_events_are_errors_not_ignores() {
        let broken = params(&[("AccountSid", AC), ("EventType", "onMessageAdded")]);
        assert!(route(&account(), &broken).is_err());
    }

    #[test]
    fn new_conversations_get_the_sites_attachment_in_its_own_service_only() {
        let studio = config(&format!(r#"{{"studio": {{"flow_sid": "{FW}"}}}}"#));
        assert_eq!(
            decide(site_event(&added(Some(VISITOR), IS)), &studio),
            Action::Attach {
                conversation: CH.parse().unwrap(),
                attachment: Attachment::Studio(FW.parse().unwrap())
            }
        );
        let elsewhere = "IS00000000000000000000000000000000";
        assert_eq!(
            decide(site_event(&added(Some(VISITOR), elsewhere)), &studio),
            Action::Ignore(Ignored::OtherService)
        );
        assert_eq!(
            decide(site_event(&added(Some(VISITOR), IS)), &config(r#""none""#)),
            Action::NothingToAttach
        );
    }

    #[test]
    fn messages_go_to_the_responder_on_auto_reply_sites_only() {
        let auto = config(r#"{"auto_reply": {}}"#);
        let decided = decide(site_event(&message(VISITOR, VISITOR)), &auto);
        assert!(
            matches!(decided, Action::Reply { index: 3, ref body, .. } if body == "hello"),
            "{decided:?}"
        );
        assert_eq!(
            decide(site_event(&message(VISITOR, VISITOR)), &config(r#""none""#)),
            Action::Ignore(Ignored::NotAutoReply)
        );
        // Checked against the site's service as a new conversation is.
        let mut elsewhere = message(VISITOR, VISITOR);
        elsewhere[3].1 = "IS00000000000000000000000000000000".into();
        assert_eq!(
            decide(site_event(&elsewhere), &auto),
            Action::Ignore(Ignored::OtherService)
        );
    }

    #[test]
    fn outcomes_name_themselves() {
        let conversation: ConversationSid = CH.parse().unwrap();
        let limit = Outcome::WebhookLimit {
            what: describe(&Attachment::Webhook("https://bot".into())),
            conversation,
        };
        assert_eq!(limit.code(), "webhook_limit");
        assert!(limit.to_string().contains("50361"), "{limit}");
        let replied = Outcome::Replied {
            replies: 2,
            notes: vec!["office hours ignored: x".into()],
        };
        assert_eq!(replied.to_string(), "2 replies; office hours ignored: x");
        assert_eq!(Outcome::Ignored(Ignored::OtherAccount).code(), "ignored");
    }
}
