//! What the conversation's object did with an event ([`Done`]), how that travels back to the
//! webhook route, and which answer Twilio gets for it ([`Done::answer`]): 200 for everything a
//! redelivery would not change (handled, ignored, refused by Twilio, or deferred to the object's
//! alarm), 500 `webhook_misconfigured` for a setup a site owner must fix, and 503
//! `temporarily_unavailable` when the object could not even keep the event (its storage failed):
//! then, and only then, Twilio's retry is what can save it.

use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::ids::site::SiteId;
use serde::Serialize;

use crate::http::Reply;

/// What the object answers the webhook route, which chooses Twilio's answer from it. It
/// travels as three lines of text ([`Done::encode`], [`Done::decode`]): its kind, the outcome's
/// or the error's code, and the detail (serde's enum codec cost the upload 6 KiB).
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    /// Handled, or deliberately left alone: Twilio gets 200.
    Finished { outcome: String, detail: String },
    /// Twilio's REST API could not be reached in time: the object keeps the event and its
    /// alarm finishes it, with backoff, exactly once as ever. Twilio gets 200: nothing waits on
    /// its redelivery (which, when a service has it set, finds nothing left to do).
    Deferred { detail: String },
    /// Twilio refused a call or answered unreadably: the event is dropped and logged, 200 (a
    /// retry would be refused the same way).
    Dropped { detail: String },
    /// The Worker is set up wrong (a secret, the site's config): 500 with the code and a message
    /// that says what to fix; a retry cannot help until it is fixed.
    Misconfigured { code: String, detail: String },
    /// The object could not keep the event before its work (its storage failed): 503, so that
    /// Twilio redelivers it (a service with a retry count does).
    Unavailable { detail: String },
}

impl Done {
    pub fn encode(&self) -> String {
        let (kind, code, detail) = match self {
            Done::Finished { outcome, detail } => ("finished", outcome.as_str(), detail),
            Done::Deferred { detail } => ("deferred", "", detail),
            Done::Dropped { detail } => ("dropped", "", detail),
            Done::Misconfigured { code, detail } => ("misconfigured", code.as_str(), detail),
            Done::Unavailable { detail } => ("unavailable", "", detail),
        };
        format!("{kind}\n{code}\n{detail}")
    }

    pub fn decode(text: &str) -> Option<Done> {
        let mut parts = text.splitn(3, '\n');
        let (kind, code, detail) = (parts.next()?, parts.next()?, parts.next()?.to_owned());
        Some(match kind {
            "finished" => Done::Finished {
                outcome: code.to_owned(),
                detail,
            },
            "deferred" => Done::Deferred { detail },
            "dropped" => Done::Dropped { detail },
            "unavailable" => Done::Unavailable { detail },
            "misconfigured" => Done::Misconfigured {
                code: code.to_owned(),
                detail,
            },
            _ => return None,
        })
    }
}

#[derive(Serialize)]
struct Acknowledged<'a> {
    outcome: &'a str,
    detail: &'a str,
}

/// An acknowledged event: 200 with what was done, and the same words in the log line.
pub fn acknowledged(site: Option<&SiteId>, outcome: &str, detail: String) -> Reply {
    let body = Acknowledged {
        outcome,
        detail: &detail,
    };
    let mut reply = Reply::json(200, &body).with_detail(detail);
    reply.site = site.map(ToString::to_string);
    reply
}

impl Done {
    /// Twilio's answer: 200 unless a site owner must fix something (500; Twilio does not retry a
    /// 500, and a retry could not help before the fix). A deferred event is acknowledged: the
    /// object's alarm finishes it, and a redelivery (when the service has one set) finds nothing
    /// left to do.
    pub fn answer(self, site: &SiteId) -> Reply {
        match self {
            Done::Finished { outcome, detail } => acknowledged(Some(site), &outcome, detail),
            Done::Deferred { detail } => acknowledged(Some(site), "deferred", detail),
            Done::Dropped { detail } => acknowledged(Some(site), "failed", detail),
            Done::Misconfigured { code, detail } => {
                let mut reply = Reply::error(ApiError::new(
                    ErrorCode::WebhookMisconfigured,
                    format!("{code}: {detail}"),
                ));
                reply.site = Some(site.to_string());
                reply
            }
            Done::Unavailable { detail } => {
                let mut reply = Reply::error(ApiError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the event could not be kept; redeliver it",
                ))
                .with_detail(detail);
                reply.site = Some(site.to_string());
                reply
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Payload;

    fn status(reply: &Reply) -> u16 {
        match &reply.outcome {
            Ok(Payload::Json(status, _)) => *status,
            Ok(Payload::Preflight { .. }) => 204,
            Err(e) => e.code.status(),
        }
    }

    #[test]
    fn the_answer_travels_as_three_lines_and_comes_back_the_same() {
        let all = [
            Done::Finished {
                outcome: "replied".into(),
                detail: "greeting\nand an answer".into(),
            },
            Done::Deferred {
                detail: "no answer".into(),
            },
            Done::Dropped {
                detail: String::new(),
            },
            Done::Misconfigured {
                code: "missing_secret".into(),
                detail: "a Worker secret: TWILIO_AUTH_TOKEN is not set".into(),
            },
            Done::Unavailable {
                detail: "storage put failed".into(),
            },
        ];
        for done in all {
            assert_eq!(Done::decode(&done.encode()), Some(done));
        }
        assert_eq!(
            Done::Deferred { detail: "x".into() }.encode(),
            "deferred\n\nx"
        );
        for bad in ["", "finished", "finished\nok", "maybe\n\nx"] {
            assert_eq!(Done::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn twilio_gets_200_unless_the_owner_must_fix_something() {
        let site = "acme".parse::<SiteId>().unwrap();
        let answers = [
            Done::Finished {
                outcome: "replied".into(),
                detail: String::new(),
            },
            Done::Deferred {
                detail: String::new(),
            },
            Done::Dropped {
                detail: String::new(),
            },
            Done::Misconfigured {
                code: "missing_secret".into(),
                detail: "set it".into(),
            },
            Done::Unavailable {
                detail: String::new(),
            },
        ]
        .map(|d| d.answer(&site));
        assert_eq!(answers.each_ref().map(status), [200, 200, 200, 500, 503]);
        assert_eq!(
            answers[3].error_code(),
            Some(ErrorCode::WebhookMisconfigured)
        );
        assert!(answers.iter().all(|a| a.site.as_deref() == Some("acme")));
    }
}
