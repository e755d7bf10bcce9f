//! The built-in auto-responder's decisions, with no I/O: given the site's script, what the
//! responder remembers about one conversation, a visitor's message and the local time, which
//! replies to send and what to remember next.
//!
//! What it remembers lives in the conversation's own attributes (under [`STATE_ATTRIBUTE`]), so
//! the Worker needs no store of its own and a redelivered event (same or lower message index) is
//! recognized and ignored.
//!
//! Order of replies to one message: the greeting (first visitor message only), then the handoff
//! reply (when the message asks for a person; the responder is silent in the conversation after
//! that), then the away message (outside office hours, once per closed spell), then the first
//! matching rule's answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::site::config::AutoReply;
use crate::site::office_hours::LocalTime;

/// The key in the conversation's attributes where the responder keeps its state.
pub const STATE_ATTRIBUTE: &str = "edgechat_responder";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponderState {
    /// The greeting went out.
    pub greeted: bool,
    /// The visitor asked for a person: the responder says nothing more here.
    pub handed_off: bool,
    /// An away message went out and office hours have not opened since.
    pub away_sent: bool,
    /// The index of the last visitor message handled (redeliveries are ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_index: Option<u64>,
}

/// A JSON object whose values are kept as their JSON text (no generic `Value` tree: the Worker
/// only ever reads or replaces one key, and this keeps its wasm smaller).
type RawObject = BTreeMap<String, Box<RawValue>>;

impl ResponderState {
    /// Reads the state from a conversation's attributes (JSON text). Attributes that are not a
    /// JSON object, or hold no valid state, give a fresh state.
    pub fn from_attributes(attributes: &str) -> ResponderState {
        serde_json::from_str::<RawObject>(attributes)
            .ok()
            .and_then(|map| {
                let state = map.get(STATE_ATTRIBUTE)?;
                serde_json::from_str(state.get()).ok()
            })
            .unwrap_or_default()
    }

    /// The attributes with this state stored in them and every other key kept as it was
    /// (attributes that are not a JSON object are replaced by an object).
    pub fn store_in(&self, attributes: &str) -> String {
        let mut map = serde_json::from_str::<RawObject>(attributes).unwrap_or_default();
        let state = serde_json::to_string(self)
            .ok()
            .and_then(|text| RawValue::from_string(text).ok());
        if let Some(state) = state {
            map.insert(STATE_ATTRIBUTE.to_owned(), state);
        }
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Message bodies to send, in order (possibly none).
    pub replies: Vec<String>,
    /// What to remember; store it when it differs from the state the decision started from.
    pub state: ResponderState,
}

/// Decides the answer to visitor message `index` with text `body`. `now` is the local time in
/// the office hours' time zone, or `None` when the site has no office hours (or the zone is
/// unknown): the responder then behaves as if people were in.
pub fn respond(
    script: &AutoReply,
    state: &ResponderState,
    index: u64,
    body: &str,
    now: Option<LocalTime>,
) -> Decision {
    let mut next = state.clone();
    let mut replies = Vec::new();
    let already_seen = state.last_index.is_some_and(|last| index <= last);
    if state.handed_off || already_seen {
        return Decision {
            replies,
            state: next,
        };
    }
    next.last_index = Some(index);
    if !state.greeted {
        next.greeted = true;
        if let Some(greeting) = &script.greeting {
            replies.push(greeting.as_str().to_owned());
        }
    }
    let wants_person = script
        .handoff_phrases
        .iter()
        .any(|phrase| contains_phrase(body, phrase.as_str()));
    if wants_person {
        next.handed_off = true;
        if let Some(reply) = &script.handoff_reply {
            replies.push(reply.as_str().to_owned());
        }
    }
    match (&script.office_hours, now) {
        (Some(hours), Some(now)) if !hours.is_open(now) => {
            if !state.away_sent {
                next.away_sent = true;
                replies.push(hours.away_message.as_str().to_owned());
            }
        }
        _ => next.away_sent = false,
    }
    if !wants_person {
        let rule = script
            .rules
            .iter()
            .find(|rule| rule.keywords.iter().any(|k| contains_phrase(body, k)));
        if let Some(rule) = rule {
            replies.push(rule.reply.as_str().to_owned());
        }
    }
    Decision {
        replies,
        state: next,
    }
}

/// Whether `text` contains `phrase` as whole words, ignoring case: "price" matches "Price?" and
/// "the price list" but not "priceless".
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    let text = text.to_lowercase();
    let phrase = phrase.trim().to_lowercase();
    if phrase.is_empty() {
        return false;
    }
    text.match_indices(&phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::office_hours::Weekday;
    use serde_json::Value;

    fn script(extra: &str) -> AutoReply {
        let json = format!(
            r#"{{"bot_name": "Bot", "greeting": "Hello!",
                "rules": [{{"keywords": ["price", "how much"], "reply": "It is free."}},
                          {{"keywords": ["hours"], "reply": "9 to 5."}}],
                "handoff_phrases": ["human", "real person"]{extra}}}"#
        );
        serde_json::from_str(&json).unwrap()
    }

    fn with_hours() -> AutoReply {
        script(
            r#", "handoff_reply": "Getting a person.",
                 "office_hours": {"time_zone": "Europe/Berlin", "away_message": "We're away.",
                                  "hours": {"mon": ["09:00-17:00"]}}"#,
        )
    }

    const OPEN: Option<LocalTime> = Some(LocalTime {
        weekday: Weekday::Mon,
        minute_of_day: 10 * 60,
    });
    const CLOSED: Option<LocalTime> = Some(LocalTime {
        weekday: Weekday::Sun,
        minute_of_day: 10 * 60,
    });

    /// Runs a conversation of visitor messages, returning each message's replies.
    fn chat(script: &AutoReply, messages: &[(&str, Option<LocalTime>)]) -> Vec<Vec<String>> {
        let mut state = ResponderState::default();
        let mut all = Vec::new();
        for (i, (body, now)) in messages.iter().enumerate() {
            let d = respond(script, &state, i as u64 * 2, body, *now);
            state = d.state;
            all.push(d.replies);
        }
        all
    }

    #[test]
    fn greets_once_then_answers_by_rule() {
        let replies = chat(
            &script(""),
            &[
                ("Hi there", None),
                ("What's the PRICE?", None),
                ("ok", None),
            ],
        );
        assert_eq!(
            replies,
            vec![
                vec!["Hello!".to_string()],
                vec!["It is free.".into()],
                vec![]
            ]
        );
    }

    #[test]
    fn first_message_can_get_greeting_and_answer() {
        let replies = chat(&script(""), &[("how much is it", None)]);
        assert_eq!(
            replies,
            vec![vec!["Hello!".to_string(), "It is free.".into()]]
        );
    }

    #[test]
    fn first_matching_rule_wins() {
        let replies = chat(&script(""), &[("hi", None), ("price and hours?", None)]);
        assert_eq!(replies[1], vec!["It is free.".to_string()]);
    }

    #[test]
    fn handoff_silences_the_responder_for_good() {
        let replies = chat(
            &with_hours(),
            &[
                ("hello", OPEN),
                ("I want a real person", OPEN),
                ("price?", OPEN),
                ("hello??", CLOSED),
            ],
        );
        assert_eq!(replies[1], vec!["Getting a person.".to_string()]);
        assert!(
            replies[2].is_empty() && replies[3].is_empty(),
            "{replies:?}"
        );
    }

    #[test]
    fn handoff_without_reply_is_silent() {
        let replies = chat(
            &script(""),
            &[("hi", None), ("HUMAN!", None), ("price", None)],
        );
        assert_eq!(replies[1..], [vec![], vec![]] as [Vec<String>; 2]);
    }

    #[test]
    fn away_message_once_per_closed_spell() {
        let replies = chat(
            &with_hours(),
            &[
                ("hi", CLOSED),
                ("price?", CLOSED),
                ("still there?", OPEN),
                ("and now?", CLOSED),
            ],
        );
        assert_eq!(replies[0], vec!["Hello!".to_string(), "We're away.".into()]);
        assert_eq!(
            replies[1],
            vec!["It is free.".to_string()],
            "no second away message"
        );
        assert!(replies[2].is_empty());
        assert_eq!(replies[3], vec!["We're away.".to_string()]);
    }

    #[test]
    fn no_local_time_means_open() {
        let replies = chat(&with_hours(), &[("hi", None)]);
        assert_eq!(replies[0], vec!["Hello!".to_string()]);
    }

    #[test]
    fn redelivered_or_older_messages_are_ignored() {
        let s = script("");
        let first = respond(&s, &ResponderState::default(), 4, "price", None);
        assert_eq!(first.replies.len(), 2);
        let again = respond(&s, &first.state, 4, "price", None);
        assert!(again.replies.is_empty());
        assert_eq!(again.state, first.state);
        assert!(respond(&s, &first.state, 3, "price", None)
            .replies
            .is_empty());
        assert_eq!(respond(&s, &first.state, 5, "price", None).replies.len(), 1);
    }

    #[test]
    fn phrases_match_whole_words_ignoring_case() {
        assert!(contains_phrase("What's the Price?", "price"));
        assert!(contains_phrase("price", "PRICE"));
        assert!(contains_phrase("talk to a real  person", "real  person"));
        assert!(contains_phrase("Größe bitte", "größe"));
        assert!(!contains_phrase("priceless", "price"));
        assert!(!contains_phrase("a human-ish", "human-i"));
        assert!(!contains_phrase("anything", ""));
    }

    #[test]
    fn state_round_trips_through_attributes_and_keeps_other_keys() {
        let state = ResponderState {
            greeted: true,
            handed_off: false,
            away_sent: true,
            last_index: Some(7),
        };
        let attrs = state.store_in(r#"{"site":"acme","page":"https://acme.com/x"}"#);
        let value: Value = serde_json::from_str(&attrs).unwrap();
        assert_eq!(value["site"], "acme");
        assert_eq!(value["page"], "https://acme.com/x");
        assert_eq!(ResponderState::from_attributes(&attrs), state);
        for junk in ["", "null", "[1]", "{\"edgechat_responder\": 5}", "not json"] {
            assert_eq!(
                ResponderState::from_attributes(junk),
                ResponderState::default()
            );
        }
        let replaced: Value = serde_json::from_str(&state.store_in("[1,2]")).unwrap();
        assert_eq!(replaced[STATE_ATTRIBUTE]["last_index"], 7);
    }
}
