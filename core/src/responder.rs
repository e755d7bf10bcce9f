//! The built-in auto-responder's decisions, with no I/O: given the site's script, what the
//! responder remembers about one conversation, a visitor's message and the local time, which
//! replies to send and what to remember next.
//!
//! What it remembers ([`ResponderState`]) lives in the conversation's Durable Object, which the
//! Worker runs every webhook of one conversation through, one at a time; no participant can edit
//! it. Each reply it sends is marked with the visitor message it answers and its place among that
//! message's replies ([`ReplyMark`], in the reply's attributes), so that a reply already sent is
//! found and never sent twice, and [`plan`] judges every visitor message not yet handled in index
//! order, however their webhooks arrive.
//!
//! A message that is only a file (no text) gets the site's `media_reply`, or nothing.
//!
//! Order of replies to one message: the greeting (first visitor message only), then the handoff
//! reply (when the message asks for a person; the responder is silent in the conversation after
//! that), then the away message (outside office hours, once per closed spell), then the first
//! matching rule's answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::site::config::AutoReply;
use crate::site::office_hours::LocalTime;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponderState {
    /// The greeting went out.
    pub greeted: bool,
    /// The visitor asked for a person: the responder says nothing more here.
    pub handed_off: bool,
    /// An away message went out and office hours have not opened since.
    pub away_sent: bool,
    /// The index of the last visitor message handled (its replies all sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_index: Option<u64>,
}

/// The attribute keys that mark a reply: which visitor message it answers, and which of that
/// message's replies it is.
pub const REPLY_TO_ATTRIBUTE: &str = "edgechat_reply_to";
pub const REPLY_PART_ATTRIBUTE: &str = "edgechat_reply_part";

/// Which reply a bot message is: part `part` of the answer to visitor message `reply_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyMark {
    pub reply_to: u64,
    pub part: u32,
}

#[derive(Deserialize)]
struct MarkAttributes {
    edgechat_reply_to: u64,
    #[serde(default)]
    edgechat_reply_part: u32,
}

impl ReplyMark {
    /// The attributes a reply is sent with (JSON text).
    pub fn attributes(self) -> String {
        format!(
            r#"{{"{REPLY_TO_ATTRIBUTE}":{},"{REPLY_PART_ATTRIBUTE}":{}}}"#,
            self.reply_to, self.part
        )
    }

    /// The mark in a message's attributes, if it is a reply of ours.
    pub fn read(attributes: &str) -> Option<ReplyMark> {
        if !attributes.trim_start().starts_with('{') {
            return None;
        }
        let m: MarkAttributes = serde_json::from_str(attributes).ok()?;
        Some(ReplyMark {
            reply_to: m.edgechat_reply_to,
            part: m.edgechat_reply_part,
        })
    }
}

/// A message as the conversation's newest page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<'a> {
    pub index: u64,
    pub author: &'a str,
    pub body: &'a str,
    pub attributes: &'a str,
}

/// What to do for one visitor message: send these replies (those not found already sent),
/// then remember `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub index: u64,
    pub sends: Vec<(ReplyMark, String)>,
    pub state: ResponderState,
}

/// The steps that handle every message `visitor` wrote that is newer than what `state` has
/// handled, in index order: the messages in `listed` (the conversation's newest page) plus
/// `event` (the message whose webhook this is, in case the page does not show it yet). Replies
/// already in the page (a redelivery after a partial send) are left out of `sends`.
pub fn plan(
    script: &AutoReply,
    state: &ResponderState,
    visitor: &str,
    listed: &[Listed<'_>],
    event: (u64, &str),
    now: Option<LocalTime>,
) -> Vec<Step> {
    // Inserted one by one rather than collected: collecting into a BTreeMap sorts, and each sort
    // is kilobytes of the Worker's wasm.
    let mut sent = std::collections::BTreeSet::new();
    let mut pending = BTreeMap::new();
    for m in listed {
        if m.author == script.bot_name.as_str() {
            if let Some(mark) = ReplyMark::read(m.attributes) {
                sent.insert(mark);
            }
        } else if m.author == visitor {
            pending.insert(m.index, m.body);
        }
    }
    pending.entry(event.0).or_insert(event.1);
    let mut state = state.clone();
    let mut steps = Vec::new();
    for (index, body) in pending {
        if state.last_index.is_some_and(|last| index <= last) {
            continue;
        }
        let decision = respond(script, &state, index, body, now);
        let sends = decision
            .replies
            .into_iter()
            .enumerate()
            .map(|(part, text)| {
                let mark = ReplyMark {
                    reply_to: index,
                    part: part as u32,
                };
                (mark, text)
            })
            .filter(|(mark, _)| !sent.contains(mark))
            .collect();
        state = decision.state;
        steps.push(Step {
            index,
            sends,
            state: state.clone(),
        });
    }
    steps
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
    // Only a file (the service keeps no empty text): no greeting, rule or away message reads it;
    // the site's media line, if it has one.
    if body.trim().is_empty() {
        replies.extend(script.media_reply.as_ref().map(|r| r.as_str().to_owned()));
        return Decision {
            replies,
            state: next,
        };
    }
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
    fn a_file_alone_gets_the_media_line_or_nothing_and_the_greeting_waits_for_text() {
        let quiet = chat(
            &with_hours(),
            &[("", CLOSED), ("  ", OPEN), ("hours?", OPEN)],
        );
        assert_eq!(
            quiet,
            vec![
                vec![],
                vec![],
                vec!["Hello!".to_owned(), "9 to 5.".to_owned()]
            ]
        );
        let answered = chat(
            &script(r#", "media_reply": "Thanks, an agent will look at your file.""#),
            &[("", None), ("", None)],
        );
        assert_eq!(
            answered,
            vec![
                vec!["Thanks, an agent will look at your file.".to_owned()],
                vec!["Thanks, an agent will look at your file.".to_owned()]
            ]
        );
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

    const ME: &str = "visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";

    fn listed<'a>(index: u64, author: &'a str, body: &'a str, attributes: &'a str) -> Listed<'a> {
        Listed {
            index,
            author,
            body,
            attributes,
        }
    }

    #[test]
    fn reply_marks_round_trip_and_ignore_other_attributes() {
        let mark = ReplyMark {
            reply_to: 7,
            part: 2,
        };
        assert_eq!(ReplyMark::read(&mark.attributes()), Some(mark));
        let value: Value = serde_json::from_str(&mark.attributes()).unwrap();
        assert_eq!(value[REPLY_TO_ATTRIBUTE], 7);
        for other in [
            "",
            "{}",
            r#"{"site":"acme"}"#,
            "[1]",
            r#"{"edgechat_reply_to":"x"}"#,
        ] {
            assert_eq!(ReplyMark::read(other), None, "{other}");
        }
    }

    #[test]
    fn messages_are_judged_in_index_order_whichever_webhook_comes_first() {
        let s = with_hours();
        // "hello" (0) and "I want a human" (1) sent together; the webhook of 1 arrives first.
        let page = [
            listed(0, ME, "hello", "{}"),
            listed(1, ME, "I want a human", "{}"),
        ];
        let steps = plan(
            &s,
            &ResponderState::default(),
            ME,
            &page,
            (1, "I want a human"),
            OPEN,
        );
        let texts: Vec<Vec<&str>> = steps
            .iter()
            .map(|st| st.sends.iter().map(|(_, t)| t.as_str()).collect())
            .collect();
        assert_eq!(texts, [vec!["Hello!"], vec!["Getting a person."]]);
        let last = steps.last().unwrap().state.clone();
        assert!(last.handed_off && last.greeted);
        assert_eq!(last.last_index, Some(1));
        // The webhook of 0 then finds nothing to do.
        assert!(plan(&s, &last, ME, &page, (0, "hello"), OPEN).is_empty());
    }

    #[test]
    fn replies_found_already_sent_are_not_sent_again() {
        let s = script("");
        // A first delivery sent the greeting, then failed before the rule's answer.
        let mark = ReplyMark {
            reply_to: 3,
            part: 0,
        }
        .attributes();
        let page = [
            listed(3, ME, "price?", "{}"),
            listed(4, "Bot", "Hello!", &mark),
        ];
        let steps = plan(
            &s,
            &ResponderState::default(),
            ME,
            &page,
            (3, "price?"),
            None,
        );
        assert_eq!(steps.len(), 1);
        assert_eq!(
            steps[0].sends,
            vec![(
                ReplyMark {
                    reply_to: 3,
                    part: 1
                },
                "It is free.".to_owned()
            )]
        );
        // A mark on someone else's message counts for nothing.
        let forged = [listed(3, ME, "price?", &mark)];
        let steps = plan(
            &s,
            &ResponderState::default(),
            ME,
            &forged,
            (3, "price?"),
            None,
        );
        assert_eq!(steps[0].sends.len(), 2);
    }

    #[test]
    fn only_the_visitors_own_newer_messages_are_judged() {
        let s = script("");
        let page = [
            listed(0, ME, "hours", "{}"),
            listed(1, "agent:ana", "price", "{}"),
            listed(2, "Bot", "price", "{}"),
        ];
        let done = ResponderState {
            greeted: true,
            last_index: Some(0),
            ..ResponderState::default()
        };
        assert!(plan(&s, &done, ME, &page, (0, "hours"), None).is_empty());
        // The event's own message counts even when the page does not show it yet.
        let steps = plan(&s, &done, ME, &page, (5, "price"), None);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].index, 5);
        assert_eq!(steps[0].sends[0].1, "It is free.");
    }
}
