//! A site's pre-chat form: the fields a visitor fills before their first message, checked by the
//! site-config tool (the form), the widget (the answers, as the visitor types) and the Worker
//! (the answers again, before it writes them into the conversation's attributes as `pre_chat`).
//!
//! Patterns are JavaScript regular expressions, as an HTML `pattern` is: the whole value must
//! match. Matching is the caller's (`matches`): the widget and the Worker use the runtime's
//! `RegExp`, native tests a stand-in, so that the core carries no regex engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ids::text::Text;

/// The label of the email asked for while away, in the widget's languages.
const AWAY_EMAIL: [(&str, &str); 8] = [
    ("en", "Your email, so that we can answer you"),
    (
        "de",
        "Ihre E-Mail-Adresse, damit wir Ihnen antworten können",
    ),
    ("fr", "Votre e-mail, pour que nous puissions vous répondre"),
    ("es", "Tu correo electrónico, para poder responderte"),
    ("pt-BR", "Seu e-mail, para que possamos responder"),
    ("ja", "ご返信用のメールアドレス"),
    ("ar", "بريدك الإلكتروني لنتمكن من الرد عليك"),
    ("he", "האימייל שלך, כדי שנוכל לענות לך"),
];

/// At most this many fields.
pub const MAX_FIELDS: usize = 10;
/// The longest answer to a `textarea`; other text fields take [`MAX_SHORT_ANSWER`].
pub const MAX_LONG_ANSWER: usize = 2000;
pub const MAX_SHORT_ANSWER: usize = 200;
/// The longest pattern.
pub const MAX_PATTERN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, try_from = "RawPreChat")]
pub struct PreChat {
    pub fields: Vec<Field>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreChat {
    fields: Vec<Field>,
}

impl TryFrom<RawPreChat> for PreChat {
    type Error = String;
    fn try_from(raw: RawPreChat) -> Result<Self, Self::Error> {
        PreChat::new(raw.fields)
    }
}

impl PreChat {
    /// A form from its fields, checked as a config's is (the widget builds it from the public
    /// config's JSON as the browser parsed it, without serde_json's weight).
    pub fn new(fields: Vec<Field>) -> Result<PreChat, String> {
        let raw = RawPreChat { fields };
        if raw.fields.is_empty() || raw.fields.len() > MAX_FIELDS {
            return Err(format!("fields: 1 to {MAX_FIELDS} of them"));
        }
        for (i, field) in raw.fields.iter().enumerate() {
            if raw.fields[..i].iter().any(|f| f.name == field.name) {
                return Err(format!("fields: the name \"{}\" is used twice", field.name));
            }
            let select = field.kind == Kind::Select;
            if select == field.options.is_empty() {
                return Err(format!(
                    "fields.{}: options belong to a select, and a select needs them",
                    field.name
                ));
            }
            if field.pattern.is_some() && !matches!(field.kind, Kind::Text | Kind::Tel) {
                return Err(format!(
                    "fields.{}: a pattern is for text and tel fields",
                    field.name
                ));
            }
        }
        Ok(PreChat { fields: raw.fields })
    }
}

impl Field {
    /// A field from its parts, `name` and `kind` as a config writes them; `None` if any is out of
    /// shape.
    pub fn from_parts(
        name: String,
        kind: &str,
        label: Labels,
        required: bool,
        pattern: Option<String>,
        options: Vec<Choice>,
    ) -> Option<Field> {
        let kind = match kind {
            "text" => Kind::Text,
            "email" => Kind::Email,
            "tel" => Kind::Tel,
            "select" => Kind::Select,
            "textarea" => Kind::Textarea,
            "checkbox" => Kind::Checkbox,
            _ => return None,
        };
        valid_name(&name).then_some(Field {
            name,
            kind,
            label,
            required,
            pattern,
            options,
        })
    }
}

impl Choice {
    pub fn from_parts(value: String, label: Labels) -> Option<Choice> {
        Some(Choice {
            value: Text::try_from(value).ok()?,
            label,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// 1–40 of `a-z 0-9 _`, starting with a letter: the answer's key in `pre_chat`.
    #[serde(deserialize_with = "field_name")]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The label by language (`{"en": "Your name", "de": "Ihr Name"}`); English is required and
    /// shown where the visitor's language has none.
    pub label: Labels,
    #[serde(default)]
    pub required: bool,
    /// A JavaScript regular expression the whole answer must match (text and tel fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A select's choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Text,
    Email,
    Tel,
    Select,
    Textarea,
    Checkbox,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: Text<100>,
    pub label: Labels,
}

/// Text by language; `en` is required. (A list, not a map: the widget builds these, and each
/// map type costs it kilobytes.)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(
    try_from = "BTreeMap<String, Text<200>>",
    into = "BTreeMap<String, Text<200>>"
)]
pub struct Labels(Vec<(String, Text<200>)>);

impl TryFrom<BTreeMap<String, Text<200>>> for Labels {
    type Error = String;
    fn try_from(map: BTreeMap<String, Text<200>>) -> Result<Self, Self::Error> {
        if !map.contains_key("en") {
            return Err("a label needs its English text (\"en\")".into());
        }
        Ok(Labels(map.into_iter().collect()))
    }
}

impl From<Labels> for BTreeMap<String, Text<200>> {
    fn from(labels: Labels) -> Self {
        labels.0.into_iter().collect()
    }
}

impl Labels {
    /// Labels from `(language, text)` pairs; `None` without English or with a text out of shape.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Option<Labels> {
        let list = pairs
            .into_iter()
            .map(|(k, v)| Text::try_from(v).ok().map(|t| (k, t)))
            .collect::<Option<Vec<_>>>()?;
        list.iter().any(|(k, _)| k == "en").then_some(Labels(list))
    }

    fn get(&self, language: &str) -> Option<&Text<200>> {
        self.0.iter().find(|(k, _)| k == language).map(|(_, t)| t)
    }

    /// The label in `language` (`pt-BR`, `de`), its base language, else English.
    pub fn in_language(&self, language: &str) -> &str {
        let base = language.split('-').next().unwrap_or(language);
        self.get(language)
            .or_else(|| self.get(base))
            .or_else(|| self.get("en"))
            .map(|t| t.as_str())
            .unwrap_or_default()
    }
}

fn valid_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn field_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    if valid_name(&name) {
        Ok(name)
    } else {
        Err(serde::de::Error::custom(
            "a field's name is 1 to 40 of a-z, 0-9 and _, starting with a letter",
        ))
    }
}

/// What is wrong with one answer: a message key of the widget's catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Required,
    Email,
    Tel,
    Pattern,
    Choice,
    TooLong,
}

impl Problem {
    pub fn key(self) -> &'static str {
        match self {
            Problem::Required => "prechat.required",
            Problem::Email => "prechat.email",
            Problem::Tel => "prechat.tel",
            Problem::Pattern => "prechat.pattern",
            Problem::Choice => "prechat.choice",
            Problem::TooLong => "prechat.too_long",
        }
    }
}

/// Checked answers by field name, in the form's order.
pub type Answers = Vec<(String, Answer)>;

/// An answer as the form holds it: text, or a checkbox's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Text(String),
    Checked(bool),
}

impl PreChat {
    /// The form while the site is away and asks for an email: the site's own form (if any)
    /// with an `email` field, added if it has none, and required if the site says so.
    pub fn with_away_email(
        form: Option<&PreChat>,
        ask: crate::site::office_hours::AskEmail,
    ) -> PreChat {
        let required = ask == crate::site::office_hours::AskEmail::Required;
        let mut fields = form.map(|f| f.fields.clone()).unwrap_or_default();
        match fields.iter_mut().find(|f| f.name == "email") {
            Some(email) => email.required |= required,
            None => fields.push(Field {
                name: "email".into(),
                kind: Kind::Email,
                label: Labels::from_pairs(
                    AWAY_EMAIL
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string())),
                )
                .expect("the built-in labels have English"),
                required,
                pattern: None,
                options: Vec::new(),
            }),
        }
        PreChat { fields }
    }

    /// Checks `answers` (by field name; missing ones are empty) against the form: the answers
    /// to keep (trimmed, empty optional ones left out, in the form's order), or each field's
    /// problem, in the form's order (the first is where focus goes).
    pub fn check(
        &self,
        answers: &[(String, Answer)],
        matches: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Answers, Vec<(String, Problem)>> {
        let mut kept = Vec::new();
        let mut problems = Vec::new();
        for field in &self.fields {
            // The last answer a name was given wins (a later prefill, the visitor's own).
            let answer = answers
                .iter()
                .rev()
                .find(|(n, _)| *n == field.name)
                .map(|(_, a)| a);
            match field.check(answer, matches) {
                Ok(Some(answer)) => kept.push((field.name.clone(), answer)),
                Ok(None) => {}
                Err(problem) => problems.push((field.name.clone(), problem)),
            }
        }
        if problems.is_empty() {
            Ok(kept)
        } else {
            Err(problems)
        }
    }

    /// Reads answers from a JSON object (the start request's `pre_chat`, or a user token's
    /// claims): strings and booleans by field name; anything else is left out.
    pub fn answers_in(&self, fields: &BTreeMap<String, Box<RawValue>>) -> Answers {
        self.fields
            .iter()
            .filter_map(|f| {
                let raw = fields.get(&f.name)?.get();
                let answer = serde_json::from_str::<String>(raw)
                    .map(Answer::Text)
                    .or_else(|_| serde_json::from_str::<bool>(raw).map(Answer::Checked))
                    .ok()?;
                Some((f.name.clone(), answer))
            })
            .collect()
    }
}

impl Field {
    fn check(
        &self,
        answer: Option<&Answer>,
        matches: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Option<Answer>, Problem> {
        if self.kind == Kind::Checkbox {
            let checked = match answer {
                Some(Answer::Checked(c)) => *c,
                Some(Answer::Text(t)) => t == "true" || t == "on",
                None => false,
            };
            return match (checked, self.required) {
                (false, true) => Err(Problem::Required),
                (checked, _) => Ok(Some(Answer::Checked(checked))),
            };
        }
        let text = match answer {
            Some(Answer::Text(t)) => t.trim(),
            _ => "",
        };
        if text.is_empty() {
            return if self.required {
                Err(Problem::Required)
            } else {
                Ok(None)
            };
        }
        let limit = if self.kind == Kind::Textarea {
            MAX_LONG_ANSWER
        } else {
            MAX_SHORT_ANSWER
        };
        if text.chars().count() > limit {
            return Err(Problem::TooLong);
        }
        match self.kind {
            Kind::Email if !plausible_email(text) => return Err(Problem::Email),
            Kind::Tel if !plausible_tel(text) => return Err(Problem::Tel),
            Kind::Select if !self.options.iter().any(|o| o.value.as_str() == text) => {
                return Err(Problem::Choice)
            }
            _ => {}
        }
        if let Some(pattern) = &self.pattern {
            if !matches(pattern, text) {
                return Err(Problem::Pattern);
            }
        }
        Ok(Some(Answer::Text(text.to_owned())))
    }
}

/// One `@`, something before it, a dotted domain after it, no spaces: what a browser's
/// `type=email` accepts, nearly.
fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && !s.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|part| !part.is_empty())
}

/// Digits with the usual separators, 5 to 20 digits.
fn plausible_tel(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PreChat {
        serde_json::from_str(
            r#"{"fields": [
                {"name": "name", "type": "text", "label": {"en": "Your name", "de": "Ihr Name"}, "required": true},
                {"name": "email", "type": "email", "label": {"en": "Email"}, "required": true},
                {"name": "phone", "type": "tel", "label": {"en": "Phone"}},
                {"name": "order", "type": "text", "label": {"en": "Order number"}, "pattern": "[0-9]{6}"},
                {"name": "topic", "type": "select", "label": {"en": "Topic"},
                 "options": [{"value": "sales", "label": {"en": "Sales"}}, {"value": "help", "label": {"en": "Help", "de": "Hilfe"}}]},
                {"name": "details", "type": "textarea", "label": {"en": "Details"}},
                {"name": "terms", "type": "checkbox", "label": {"en": "I accept the terms"}, "required": true}
            ]}"#,
        )
        .unwrap()
    }

    /// A stand-in for `RegExp`: the one pattern the form uses.
    fn six_digits(pattern: &str, value: &str) -> bool {
        assert_eq!(pattern, "[0-9]{6}");
        value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit())
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| {
                let answer = match *v {
                    "✓" => Answer::Checked(true),
                    v => Answer::Text(v.to_owned()),
                };
                (k.to_string(), answer)
            })
            .collect()
    }

    #[test]
    fn good_answers_are_kept_trimmed_in_the_form_s_order() {
        let kept = form()
            .check(
                &answers(&[
                    ("terms", "✓"),
                    ("email", " ada@acme.com "),
                    ("name", "Ada"),
                    ("topic", "help"),
                    ("order", "123456"),
                ]),
                &six_digits,
            )
            .unwrap();
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["name", "email", "order", "topic", "terms"],
            "optional empty ones left out"
        );
        assert_eq!(kept[1].1, Answer::Text("ada@acme.com".into()));
    }

    #[test]
    fn each_problem_is_found_in_the_form_s_order() {
        let problems = form()
            .check(
                &answers(&[
                    ("email", "ada@acme"),
                    ("phone", "call me"),
                    ("order", "12a456"),
                    ("topic", "refunds"),
                    ("details", &"x".repeat(2001)),
                ]),
                &six_digits,
            )
            .unwrap_err();
        assert_eq!(
            problems,
            [
                ("name".to_string(), Problem::Required),
                ("email".into(), Problem::Email),
                ("phone".into(), Problem::Tel),
                ("order".into(), Problem::Pattern),
                ("topic".into(), Problem::Choice),
                ("details".into(), Problem::TooLong),
                ("terms".into(), Problem::Required),
            ]
        );
        assert!(problems
            .iter()
            .all(|(_, p)| p.key().starts_with("prechat.")));
    }

    #[test]
    fn a_form_built_from_parts_is_the_one_its_json_makes() {
        let labels = |en: &str| Labels::from_pairs([("en".to_string(), en.to_string())]).unwrap();
        let built = PreChat::new(vec![Field::from_parts(
            "topic".into(),
            "select",
            labels("Topic"),
            true,
            None,
            vec![Choice::from_parts("sales".into(), labels("Sales")).unwrap()],
        )
        .unwrap()])
        .unwrap();
        let parsed: PreChat = serde_json::from_str(
            r#"{"fields": [{"name": "topic", "type": "select", "label": {"en": "Topic"}, "required": true,
                "options": [{"value": "sales", "label": {"en": "Sales"}}]}]}"#,
        )
        .unwrap();
        assert_eq!(built, parsed);
        assert!(
            Field::from_parts("Bad".into(), "text", labels("x"), false, None, vec![]).is_none()
        );
        assert!(
            Field::from_parts("ok".into(), "radio", labels("x"), false, None, vec![]).is_none()
        );
        assert!(Labels::from_pairs([("de".to_string(), "Thema".to_string())]).is_none());
        assert!(PreChat::new(vec![]).is_err());
    }

    #[test]
    fn away_adds_an_email_field_or_requires_the_site_s_own() {
        use crate::site::office_hours::AskEmail;
        let alone = PreChat::with_away_email(None, AskEmail::Required);
        assert_eq!(alone.fields.len(), 1);
        assert!(alone.fields[0].required && alone.fields[0].kind == Kind::Email);
        assert_eq!(
            alone.fields[0].label.in_language("de"),
            "Ihre E-Mail-Adresse, damit wir Ihnen antworten können"
        );
        let mut optional_email = form();
        optional_email.fields[1].required = false;
        let merged = PreChat::with_away_email(Some(&optional_email), AskEmail::Required);
        assert_eq!(
            merged.fields.len(),
            optional_email.fields.len(),
            "the site's email field, not a second"
        );
        assert!(merged.fields[1].required);
        let optional = PreChat::with_away_email(None, AskEmail::Optional);
        assert!(
            optional.check(&[], &|_, _| true).is_ok(),
            "optional: may stay empty"
        );
    }

    #[test]
    fn labels_fall_back_to_the_base_language_then_english() {
        let form = form();
        assert_eq!(form.fields[0].label.in_language("de-AT"), "Ihr Name");
        assert_eq!(form.fields[0].label.in_language("fr"), "Your name");
        assert_eq!(form.fields[4].options[1].label.in_language("de"), "Hilfe");
    }

    #[test]
    fn a_form_out_of_shape_is_refused_saying_why() {
        for (json, says) in [
            (r#"{"fields": []}"#, "1 to 10"),
            (
                r#"{"fields": [{"name": "a", "type": "text", "label": {"de": "A"}}]}"#,
                "English",
            ),
            (
                r#"{"fields": [{"name": "A b", "type": "text", "label": {"en": "A"}}]}"#,
                "a-z",
            ),
            (
                r#"{"fields": [{"name": "a", "type": "select", "label": {"en": "A"}}]}"#,
                "options",
            ),
            (
                r#"{"fields": [{"name": "a", "type": "email", "label": {"en": "A"}, "pattern": "x"}]}"#,
                "pattern",
            ),
            (
                r#"{"fields": [{"name": "a", "type": "text", "label": {"en": "A"}}, {"name": "a", "type": "tel", "label": {"en": "B"}}]}"#,
                "twice",
            ),
            (
                r#"{"fields": [{"name": "a", "type": "radio", "label": {"en": "A"}}]}"#,
                "variant",
            ),
        ] {
            let e = serde_json::from_str::<PreChat>(json)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{json}: {e}");
        }
    }

    #[test]
    fn answers_are_read_from_json_strings_and_booleans_only() {
        let fields: BTreeMap<String, Box<RawValue>> = serde_json::from_str(
            r#"{"name": "Ada", "terms": true, "order": 123456, "other": "x"}"#,
        )
        .unwrap();
        let read = form().answers_in(&fields);
        assert_eq!(
            read,
            [
                ("name".to_string(), Answer::Text("Ada".into())),
                ("terms".into(), Answer::Checked(true))
            ],
            "a number is not an answer"
        );
    }
}
