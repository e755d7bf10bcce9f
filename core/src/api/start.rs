//! `POST /api/sites/{site}/conversations`: the Worker starts a visitor's conversation.
//!
//! Visitors' Twilio users may not create or join conversations (least privilege), so the
//! Worker creates each one over REST with the visitor already in it, and writes its attributes
//! itself: `site`, `visitor` (the identity, which the webhook route trusts for the site of a
//! conversation the Worker created), and the page it started on. Agents, Studio and webhooks
//! can trust them: no visitor can edit a conversation's attributes.
//!
//! The request names a `key` (the widget's id of the first message): the conversation's
//! unique name is made from the visitor and that key, so a request repeated after a lost answer
//! (or raced by a second tab) finds the conversation the first one created instead of making a
//! second one.

use super::end::{fields, only, string, Fields};
use super::BodyError;
use crate::site::page::page_address;
use crate::visitor::VisitorIdentity;

/// The start route's body.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub visitor: String,
    pub key: String,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    /// The pre-chat form's answers, by field name (checked against the site's form).
    pub pre_chat: Fields,
}

/// What a refused start body should have been.
pub const START_BODY: &str = "send {\"visitor\": \"<credential>\", \"key\": \"<1-40 of \
                              A-Za-z0-9_->\", \"page_url\": \"<the page's URL>\", \
                              \"referrer\": \"<its referrer>\"} (page_url and referrer optional)";

const MAX_KEY_LEN: usize = 40;
const MAX_URL_LEN: usize = 2048;

impl StartRequest {
    pub fn from_body(body: &[u8]) -> Result<StartRequest, BodyError> {
        let unreadable = BodyError::Unreadable;
        let text = std::str::from_utf8(body).map_err(|_| BodyError::NotUtf8)?;
        let fields: Fields = fields(text).ok_or(BodyError::NotAnObject)?;
        only(
            &fields,
            &["visitor", "key", "page_url", "referrer", "pre_chat"],
        )
        .map_err(unreadable)?;
        let required = |name: &str| {
            string(&fields, name)
                .map_err(unreadable)?
                .ok_or_else(|| unreadable(format!("missing field {name}")))
        };
        let visitor = required("visitor")?;
        let key = required("key")?;
        let key_ok = (1..=MAX_KEY_LEN).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            return Err(unreadable(format!(
                "key is 1 to {MAX_KEY_LEN} of A-Za-z0-9_-"
            )));
        }
        let url = |name: &str| -> Result<Option<String>, BodyError> {
            let value = string(&fields, name).map_err(unreadable)?;
            match value {
                Some(v) if v.len() > MAX_URL_LEN => Err(unreadable(format!(
                    "{name} is at most {MAX_URL_LEN} characters"
                ))),
                other => Ok(other),
            }
        };
        let pre_chat = match fields.get("pre_chat") {
            None => Fields::new(),
            Some(raw) => super::end::fields(raw.get()).ok_or_else(|| {
                unreadable("pre_chat is an object of answers by field name".into())
            })?,
        };
        Ok(StartRequest {
            visitor,
            key,
            page_url: url("page_url")?,
            referrer: url("referrer")?,
            pre_chat,
        })
    }
}

/// The conversation's unique name: one per visitor and key.
pub fn unique_name(visitor: &VisitorIdentity, key: &str) -> String {
    format!("edgechat.{}.{key}", visitor.id_text())
}

/// The page facts kept, by the site's rule: the page must be one of the calling origin's (an
/// address of another origin is not kept); the referrer may be any http(s) page.
pub fn page_facts(
    request: &StartRequest,
    origin: &str,
    keep_query: bool,
) -> (Option<String>, Option<String>) {
    let page = request
        .page_url
        .as_deref()
        .and_then(|u| page_address(u, keep_query))
        .filter(|u| {
            u.strip_prefix(origin)
                .is_some_and(|rest| rest.starts_with('/'))
        });
    let referrer = request
        .referrer
        .as_deref()
        .and_then(|u| page_address(u, keep_query));
    (page, referrer)
}

/// The attributes the Worker writes on a conversation it starts (`pre_chat`: the checked
/// answers, in the form's order).
pub fn attributes(
    visitor: &VisitorIdentity,
    page_url: Option<&str>,
    referrer: Option<&str>,
    pre_chat: &[(String, crate::site::pre_chat::Answer)],
) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!(
        "{{\"site\":{},\"visitor\":{}",
        quoted(visitor.site().as_str()),
        quoted(&visitor.to_string())
    );
    if let Some(page) = page_url {
        out += &format!(",\"page_url\":{}", quoted(page));
    }
    if let Some(referrer) = referrer {
        out += &format!(",\"referrer\":{}", quoted(referrer));
    }
    if !pre_chat.is_empty() {
        let answers: Vec<String> = pre_chat
            .iter()
            .map(|(name, answer)| {
                format!(
                    "{}:{}",
                    quoted(name),
                    serde_json::to_string(answer).unwrap_or_default()
                )
            })
            .collect();
        out += &format!(",\"pre_chat\":{{{}}}", answers.join(","));
    }
    out.push('}');
    out
}

/// A conversation's attributes with `user` set to the signed-in user it now belongs to (the
/// anonymous visitor who started it signed in); `None` if they are not a JSON object.
pub fn with_user(attributes: &str, user: &VisitorIdentity) -> Option<String> {
    let mut fields: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_str(attributes).ok()?;
    let quoted = serde_json::to_string(&user.to_string()).ok()?;
    fields.insert(
        "user".into(),
        serde_json::value::RawValue::from_string(quoted).ok()?,
    );
    serde_json::to_string(&fields).ok()
}

/// Whether `caller` is the conversation's visitor by its attributes: the `visitor` who started
/// it, or the `user` that visitor signed in as.
pub fn belongs_to(attributes: &str, caller: &VisitorIdentity) -> bool {
    let Some(fields) = fields(attributes) else {
        return false;
    };
    let me = caller.to_string();
    ["visitor", "user"]
        .iter()
        .any(|k| string(&fields, k).ok().flatten().as_deref() == Some(me.as_str()))
}

/// What the Worker reads of the visitor's conversations (`ParticipantConversations`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorConversations {
    /// The conversation already made under the request's unique name, if any.
    pub existing: Option<String>,
    /// How many are not closed.
    pub open: usize,
    /// The SIDs of those not closed.
    pub open_sids: Vec<String>,
}

/// Reads a `ParticipantConversations` page for `unique_name`; `None` if it is not one.
pub fn visitor_conversations(page: &str, unique_name: &str) -> Option<VisitorConversations> {
    let page = fields(page)?;
    let list: Vec<Box<serde_json::value::RawValue>> =
        serde_json::from_str(page.get("conversations")?.get()).ok()?;
    let mut found = VisitorConversations {
        existing: None,
        open: 0,
        open_sids: Vec::new(),
    };
    for item in list {
        let item = fields(item.get())?;
        let text = |name: &str| string(&item, name).ok().flatten();
        if text("conversation_unique_name").as_deref() == Some(unique_name) {
            found.existing = text("conversation_sid");
        }
        if text("conversation_state").as_deref() != Some("closed") {
            found.open += 1;
            found.open_sids.extend(text("conversation_sid"));
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";

    fn visitor() -> VisitorIdentity {
        VisitorIdentity::parse(&format!("visitor:acme:{UUID}")).unwrap()
    }

    #[test]
    fn the_answers_go_into_the_attributes_in_the_form_s_order() {
        use crate::site::pre_chat::Answer;
        let a = attributes(
            &visitor(),
            None,
            None,
            &[
                ("name".into(), Answer::Text("Ada \"A\"".into())),
                ("terms".into(), Answer::Checked(true)),
            ],
        );
        let parsed: serde_json::Value = serde_json::from_str(&a).unwrap();
        assert_eq!(
            parsed["pre_chat"],
            serde_json::json!({"name": "Ada \"A\"", "terms": true})
        );
        let body = br#"{"visitor": "v", "key": "k", "pre_chat": {"name": "Ada"}}"#;
        assert_eq!(StartRequest::from_body(body).unwrap().pre_chat.len(), 1);
        assert!(
            StartRequest::from_body(br#"{"visitor": "v", "key": "k", "pre_chat": "Ada"}"#).is_err()
        );
    }

    #[test]
    fn a_visitor_who_signs_in_owns_their_conversation_as_the_user_too() {
        let user = VisitorIdentity::user("acme".parse().unwrap(), "ada").unwrap();
        let before = attributes(&visitor(), Some("https://acme.com/p"), None, &[]);
        assert!(belongs_to(&before, &visitor()) && !belongs_to(&before, &user));
        let after = with_user(&before, &user).unwrap();
        assert!(belongs_to(&after, &visitor()) && belongs_to(&after, &user));
        assert!(
            after.contains("\"page_url\":\"https://acme.com/p\""),
            "{after}"
        );
        assert_eq!(with_user("[]", &user), None);
        assert!(!belongs_to("not json", &user));
    }

    #[test]
    fn bodies_take_a_credential_a_key_and_page_facts() {
        let r = StartRequest::from_body(
            br#"{"visitor":"v2.x","key":"1733-5","page_url":"https://a.test/p?q=1","referrer":"https://s.test/"}"#,
        )
        .unwrap();
        assert_eq!(r.key, "1733-5");
        assert_eq!(r.page_url.as_deref(), Some("https://a.test/p?q=1"));
        for bad in [
            &br#"{"key":"1"}"#[..],
            br#"{"visitor":"v","key":""}"#,
            br#"{"visitor":"v","key":"a b"}"#,
            br#"{"visitor":"v","key":"1","site":"other"}"#,
            br#"{"visitor":"v","key":1}"#,
            b"[]",
        ] {
            assert!(StartRequest::from_body(bad).is_err(), "{bad:?}");
        }
        let long = format!(
            r#"{{"visitor":"v","key":"k","page_url":"https://a.test/{}"}}"#,
            "a".repeat(3000)
        );
        assert!(StartRequest::from_body(long.as_bytes()).is_err());
    }

    #[test]
    fn the_page_must_be_the_callers_and_the_query_goes_unless_kept() {
        let r = StartRequest {
            visitor: "v".into(),
            key: "k".into(),
            page_url: Some("https://a.test/p?email=x#f".into()),
            referrer: Some("https://s.test/q?x=1".into()),
            pre_chat: Fields::new(),
        };
        assert_eq!(
            page_facts(&r, "https://a.test", false),
            (
                Some("https://a.test/p".into()),
                Some("https://s.test/q".into())
            )
        );
        assert_eq!(
            page_facts(&r, "https://a.test", true).0.as_deref(),
            Some("https://a.test/p?email=x")
        );
        assert_eq!(page_facts(&r, "https://evil.test", false).0, None);
        assert_eq!(page_facts(&r, "https://a.tes", false).0, None);
    }

    #[test]
    fn attributes_name_the_site_and_the_visitor_and_read_back() {
        let a = attributes(&visitor(), Some("https://a.test/\"p"), None, &[]);
        let v: serde_json::Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["site"], "acme");
        assert_eq!(v["visitor"], format!("visitor:acme:{UUID}"));
        assert_eq!(v["page_url"], "https://a.test/\"p");
        assert!(v.get("referrer").is_none());
        assert_eq!(VisitorIdentity::named_in_attributes(&a), Some(visitor()));
        assert_eq!(
            VisitorIdentity::named_in_attributes(r#"{"visitor":"agent"}"#),
            None
        );
        assert_eq!(VisitorIdentity::named_in_attributes("not json"), None);
    }

    #[test]
    fn a_visitors_conversations_are_counted_and_the_keyed_one_found() {
        let name = unique_name(&visitor(), "42");
        assert_eq!(name, format!("edgechat.{UUID}.42"));
        let page = format!(
            r#"{{"conversations":[
                {{"conversation_sid":"CH1","conversation_state":"active","conversation_unique_name":null}},
                {{"conversation_sid":"CH2","conversation_state":"closed","conversation_unique_name":"x"}},
                {{"conversation_sid":"CH3","conversation_state":"inactive","conversation_unique_name":"{name}"}}
            ],"meta":{{}}}}"#
        );
        assert_eq!(
            visitor_conversations(&page, &name),
            Some(VisitorConversations {
                existing: Some("CH3".into()),
                open: 2,
                open_sids: vec!["CH1".into(), "CH3".into()],
            })
        );
        assert_eq!(visitor_conversations("{}", &name), None);
    }
}
