//! The widget's words: one catalogue per language (`core/i18n/<locale>.json`, a flat JSON object
//! of message keys to ICU MessageFormat messages, the format translators' tools read), and the
//! part of ICU MessageFormat the catalogues use, parsed and formatted here:
//!
//! - text, with ICU's quoting: `''` is an apostrophe, `'{…}'` is literal text;
//! - `{name}`: an argument (a number is formatted in the visitor's locale);
//! - `{name, plural, =0 {…} one {…} other {…}}`, with `#` for the number, the category given by
//!   the caller (the browser's `Intl.PluralRules`: no plural rules are compiled into the wasm);
//! - `{name, select, a {…} other {…}}`.
//!
//! English is the source (and the widget's built-in fallback); the others are fetched on demand.
//! A site may override any message in its config: the key must exist, the message must parse
//! and use only the arguments the English message has ([`check_override`]).

use std::collections::BTreeMap;

/// The languages the widget speaks, as BCP 47 tags; each has `core/i18n/<tag>.json`.
pub const LOCALES: [&str; 8] = ["en", "de", "fr", "es", "pt-BR", "ja", "ar", "he"];

/// The English catalogue: the keys every catalogue has, and the fallback.
pub const ENGLISH: &str = include_str!("../i18n/en.json");

/// English's rules without a browser (native tests and tools): one for exactly 1, else other;
/// numbers as Rust writes them. The widget asks the browser's `Intl` instead.
pub struct English;

impl Rules for English {
    fn plural(&self, n: f64) -> String {
        if n == 1.0 { "one" } else { "other" }.into()
    }
    fn number(&self, n: f64) -> String {
        n.to_string()
    }
}

/// A value for a message's argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    Str(&'a str),
    Num(f64),
}

/// What formatting needs from the visitor's locale.
pub trait Rules {
    /// The plural category of `n` (`zero`, `one`, `two`, `few`, `many` or `other`).
    fn plural(&self, n: f64) -> String;
    /// `n` as the locale writes it.
    fn number(&self, n: f64) -> String;
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Arg(String),
    /// `#` in a plural case: the plural's number.
    Hash,
    Plural(String, Vec<(String, Vec<Part>)>),
    Select(String, Vec<(String, Vec<Part>)>),
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message(Vec<Part>);

/// Why a message does not parse: what is wrong, and at which character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub message: &'static str,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at)
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

const PLURAL_CASES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

impl Parser {
    fn fail<T>(&self, message: &'static str) -> Result<T, ParseError> {
        Err(ParseError {
            at: self.at,
            message,
        })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn word(&mut self) -> String {
        self.spaces();
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '=' || c == '-')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// Parts up to the end, or up to the `}` that closes a case (`in_case`).
    fn parts(&mut self, in_plural: bool, in_case: bool) -> Result<Vec<Part>, ParseError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                if in_case {
                    return self.fail("a case's `{` is not closed");
                }
                break;
            };
            match c {
                '}' if in_case => {
                    self.at += 1;
                    break;
                }
                '}' => return self.fail("a `}` closes nothing"),
                '\'' => {
                    self.at += 1;
                    match self.peek() {
                        Some('\'') => {
                            text.push('\'');
                            self.at += 1;
                        }
                        Some('{' | '}' | '#') => {
                            // Quoted: literal up to the next lone apostrophe.
                            loop {
                                match self.peek() {
                                    None => break,
                                    Some('\'') if self.chars.get(self.at + 1) == Some(&'\'') => {
                                        text.push('\'');
                                        self.at += 2;
                                    }
                                    Some('\'') => {
                                        self.at += 1;
                                        break;
                                    }
                                    Some(c) => {
                                        text.push(c);
                                        self.at += 1;
                                    }
                                }
                            }
                        }
                        _ => text.push('\''),
                    }
                }
                '#' if in_plural => {
                    self.at += 1;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Hash);
                }
                '{' => {
                    self.at += 1;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(self.placeholder(in_plural)?);
                }
                c => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(parts)
    }

    /// After a `{`: `name}`, `name, number}`, `name, plural, …}` or `name, select, …}`.
    fn placeholder(&mut self, in_plural: bool) -> Result<Part, ParseError> {
        let name = self.word();
        if name.is_empty() || name.contains('=') {
            return self.fail("an argument needs a name");
        }
        self.spaces();
        match self.peek() {
            Some('}') => {
                self.at += 1;
                return Ok(Part::Arg(name));
            }
            Some(',') => self.at += 1,
            _ => return self.fail("expected `}` or `,` after the argument's name"),
        }
        let kind = self.word();
        self.spaces();
        if kind == "number" {
            if self.peek() != Some('}') {
                return self.fail("a number argument takes no style here");
            }
            self.at += 1;
            return Ok(Part::Arg(name));
        }
        if kind != "plural" && kind != "select" {
            return self.fail("the argument types are number, plural and select");
        }
        if self.peek() != Some(',') {
            return self.fail("expected `,` before the cases");
        }
        self.at += 1;
        let plural = kind == "plural";
        let mut cases = Vec::new();
        loop {
            self.spaces();
            if self.peek() == Some('}') {
                self.at += 1;
                break;
            }
            let key = self.word();
            if key.is_empty() {
                return self.fail("expected a case's name");
            }
            let valid = if plural {
                PLURAL_CASES.contains(&key.as_str())
                    || key
                        .strip_prefix('=')
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            } else {
                !key.starts_with('=')
            };
            if !valid {
                return self.fail(if plural {
                    "a plural case is zero, one, two, few, many, other or =N"
                } else {
                    "a select case is a word"
                });
            }
            if cases.iter().any(|(k, _)| *k == key) {
                return self.fail("a case appears twice");
            }
            self.spaces();
            if self.peek() != Some('{') {
                return self.fail("expected `{` to open the case");
            }
            self.at += 1;
            let parts = self.parts(plural || in_plural, true)?;
            cases.push((key, parts));
        }
        if !cases.iter().any(|(k, _)| k == "other") {
            return self.fail("plural and select need an `other` case");
        }
        Ok(if plural {
            Part::Plural(name, cases)
        } else {
            Part::Select(name, cases)
        })
    }
}

impl Message {
    pub fn parse(source: &str) -> Result<Message, ParseError> {
        let mut p = Parser {
            chars: source.chars().collect(),
            at: 0,
        };
        p.parts(false, false).map(Message)
    }

    /// The names of the arguments the message uses.
    pub fn arguments(&self) -> Vec<&str> {
        fn walk<'a>(parts: &'a [Part], out: &mut Vec<&'a str>) {
            for part in parts {
                let (name, cases) = match part {
                    Part::Arg(name) => (name, None),
                    Part::Plural(name, cases) | Part::Select(name, cases) => (name, Some(cases)),
                    _ => continue,
                };
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
                for (_, parts) in cases.into_iter().flatten() {
                    walk(parts, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }

    /// The message with `args`; an argument it lacks shows as `{name}`.
    pub fn format(&self, args: &[(&str, Arg)], rules: &dyn Rules) -> String {
        let mut out = String::new();
        format_parts(&self.0, args, rules, None, &mut out);
        out
    }
}

fn format_parts(
    parts: &[Part],
    args: &[(&str, Arg)],
    rules: &dyn Rules,
    hash: Option<f64>,
    out: &mut String,
) {
    let arg = |name: &str| args.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Hash => out.push_str(&hash.map(|n| rules.number(n)).unwrap_or_default()),
            Part::Arg(name) => match arg(name) {
                Some(Arg::Str(s)) => out.push_str(s),
                Some(Arg::Num(n)) => out.push_str(&rules.number(n)),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
            Part::Plural(name, cases) => {
                let n = match arg(name) {
                    Some(Arg::Num(n)) => n,
                    _ => 0.0,
                };
                // (No float formatting: it would weigh kilobytes in the wasm.)
                let exact = |k: &str| {
                    k.strip_prefix('=')
                        .and_then(|k| k.parse::<u32>().ok())
                        .is_some_and(|k| f64::from(k) == n)
                };
                let category = rules.plural(n);
                let case = cases
                    .iter()
                    .find(|(k, _)| exact(k))
                    .or_else(|| cases.iter().find(|(k, _)| *k == category))
                    .or_else(|| cases.iter().find(|(k, _)| k == "other"));
                if let Some((_, parts)) = case {
                    format_parts(parts, args, rules, Some(n), out);
                }
            }
            Part::Select(name, cases) => {
                let value = match arg(name) {
                    Some(Arg::Str(s)) => s,
                    _ => "other",
                };
                let case = cases
                    .iter()
                    .find(|(k, _)| k == value)
                    .or_else(|| cases.iter().find(|(k, _)| k == "other"));
                if let Some((_, parts)) = case {
                    format_parts(parts, args, rules, hash, out);
                }
            }
        }
    }
}

/// A catalogue's messages by key (the JSON object of a `core/i18n/<locale>.json`).
pub fn catalogue(json: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(json).map_err(|e| format!("a catalogue is a JSON object of strings: {e}"))
}

/// Whether `message` may replace the English message `key` (a site's override): the key
/// exists, the message parses, and it uses only arguments the English message has.
pub fn check_override(key: &str, message: &str) -> Result<(), String> {
    let english = catalogue(ENGLISH).expect("the English catalogue is valid");
    let Some(source) = english.get(key) else {
        return Err(format!(
            "`{key}` is not a message of the widget (the keys are those of the English catalogue, such as `composer.placeholder`)"
        ));
    };
    let parsed = Message::parse(message).map_err(|e| format!("not ICU MessageFormat: {e}"))?;
    let known = Message::parse(source).expect("English messages parse");
    let known = known.arguments();
    if let Some(unknown) = parsed.arguments().into_iter().find(|a| !known.contains(a)) {
        return Err(if known.is_empty() {
            format!("`{key}` takes no arguments, and this message uses {{{unknown}}}")
        } else {
            format!(
                "`{key}` has no argument {{{unknown}}} (it has {})",
                known
                    .iter()
                    .map(|a| format!("{{{a}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arabic's six categories, as CLDR gives them, for the integers the tests use.
    struct Arabic;
    impl Rules for Arabic {
        fn plural(&self, n: f64) -> String {
            let n = n as u64;
            match (n, n % 100) {
                (0, _) => "zero",
                (1, _) => "one",
                (2, _) => "two",
                (_, 3..=10) => "few",
                (_, 11..=99) => "many",
                _ => "other",
            }
            .into()
        }
        fn number(&self, n: f64) -> String {
            n.to_string()
        }
    }

    fn fmt(source: &str, args: &[(&str, Arg)]) -> String {
        Message::parse(source).unwrap().format(args, &English)
    }

    #[test]
    fn text_arguments_and_quoting() {
        assert_eq!(fmt("Connecting…", &[]), "Connecting…");
        assert_eq!(
            fmt("{name} is typing…", &[("name", Arg::Str("Ana"))]),
            "Ana is typing…"
        );
        assert_eq!(
            fmt("Retry in {n} s", &[("n", Arg::Num(5.0))]),
            "Retry in 5 s"
        );
        assert_eq!(
            fmt("Can't connect", &[]),
            "Can't connect",
            "a lone apostrophe"
        );
        assert_eq!(fmt("l''heure", &[]), "l'heure");
        assert_eq!(
            fmt("'{literal}' {x}", &[]),
            "{literal} {x}",
            "quoted braces"
        );
        assert_eq!(fmt("{missing}", &[]), "{missing}");
    }

    #[test]
    fn plurals_take_exact_cases_then_the_locales_category() {
        let source = "{count, plural, =0 {none} one {# message} other {# messages}}";
        let n = |n: f64| fmt(source, &[("count", Arg::Num(n))]);
        assert_eq!(
            [n(0.0), n(1.0), n(12.0)],
            ["none", "1 message", "12 messages"]
        );
        let ar = Message::parse(
            "{n, plural, zero {لا رسائل} one {رسالة} two {رسالتان} few {# رسائل} many {# رسالة} other {# رسالة}}",
        )
        .unwrap();
        let f = |n: f64| ar.format(&[("n", Arg::Num(n))], &Arabic);
        assert_eq!(f(0.0), "لا رسائل");
        assert_eq!(f(2.0), "رسالتان");
        assert_eq!(f(5.0), "5 رسائل");
        assert_eq!(f(11.0), "11 رسالة");
    }

    #[test]
    fn select_and_nesting() {
        let source =
            "{who, select, agent {{n, plural, one {# reply} other {# replies}}} other {{who}}}";
        assert_eq!(
            fmt(source, &[("who", Arg::Str("agent")), ("n", Arg::Num(2.0))]),
            "2 replies"
        );
        assert_eq!(fmt(source, &[("who", Arg::Str("Bo"))]), "Bo");
        assert_eq!(
            Message::parse(source).unwrap().arguments(),
            ["who", "n"],
            "each argument once, in order"
        );
    }

    #[test]
    fn malformed_messages_say_where() {
        for (source, what) in [
            ("{", "needs a name"),
            ("{name", "expected `}` or `,`"),
            ("}", "closes nothing"),
            ("{n, plural, one {x}}", "need an `other`"),
            ("{n, plural, some {x} other {y}}", "zero, one, two"),
            ("{n, date}", "number, plural and select"),
            ("{n, plural, other {x}", "expected a case"),
            ("{n, plural, other {x} other {y}}", "twice"),
            ("{n, select, other {unclosed}", "expected a case"),
        ] {
            let e = Message::parse(source).unwrap_err();
            assert!(e.message.contains(what), "{source}: {e}");
        }
    }

    #[test]
    fn every_english_message_parses() {
        let english = catalogue(ENGLISH).unwrap();
        assert!(english.len() > 30);
        for (key, source) in &english {
            Message::parse(source).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
    }

    #[test]
    fn every_catalogue_has_the_english_keys_and_each_message_parses_with_its_arguments() {
        let english = catalogue(ENGLISH).unwrap();
        for locale in LOCALES {
            let path = format!("{}/i18n/{locale}.json", env!("CARGO_MANIFEST_DIR"));
            let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let messages = catalogue(&json).unwrap();
            assert_eq!(
                messages.keys().collect::<Vec<_>>(),
                english.keys().collect::<Vec<_>>(),
                "{locale}: the keys"
            );
            for (key, source) in &messages {
                let parsed =
                    Message::parse(source).unwrap_or_else(|e| panic!("{locale} {key}: {e}"));
                let mut got = parsed.arguments();
                let en = Message::parse(&english[key]).unwrap();
                let mut want = en.arguments();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{locale} {key}: the arguments");
            }
        }
    }

    #[test]
    fn overrides_are_checked_against_english() {
        assert_eq!(
            check_override("composer.placeholder", "Ask us anything"),
            Ok(())
        );
        assert_eq!(check_override("typing", "{name} écrit…"), Ok(()));
        assert!(check_override("composer.placeholdr", "x")
            .unwrap_err()
            .contains("not a message"));
        assert!(check_override("typing", "{who} types")
            .unwrap_err()
            .contains("no argument {who} (it has {name})"));
        assert!(check_override("composer.placeholder", "{x}")
            .unwrap_err()
            .contains("takes no arguments"));
        assert!(check_override("typing", "{name")
            .unwrap_err()
            .contains("not ICU MessageFormat"));
    }
}
