//! A message's text as the widget shows it, with no I/O: plain text and links. Only `http://`,
//! `https://` and `mailto:` addresses become links; nothing else in a message is ever read as
//! markup (the view puts every piece in as text).
//!
//! An address runs to the next whitespace; punctuation that ends a sentence (`.,;:!?'"`) and
//! closing brackets without an opening one inside the address are left out of it, so that
//! "see https://example.com/a_(b)." links `https://example.com/a_(b)`.

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

const SCHEMES: [&str; 3] = ["https://", "http://", "mailto:"];

/// The message's text as text and links, in order; together they are the whole text.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    while i < text.len() {
        let at_word_start =
            i == 0 || text[..i].ends_with(|c: char| c.is_whitespace() || "(<[\"'".contains(c));
        let rest = &text[i..];
        let scheme = SCHEMES.iter().find(|s| {
            rest.len() > s.len()
                && rest
                    .get(..s.len())
                    .is_some_and(|r| r.eq_ignore_ascii_case(s))
        });
        if let (true, Some(scheme)) = (at_word_start, scheme) {
            let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let link = trim_end(&rest[..word_end]);
            if link.len() > scheme.len() {
                if plain_from < i {
                    out.push(Piece::Text(&text[plain_from..i]));
                }
                out.push(Piece::Link(link));
                i += link.len();
                plain_from = i;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

/// An address without the punctuation that ends the sentence around it.
fn trim_end(mut link: &str) -> &str {
    loop {
        let Some(last) = link.chars().last() else {
            return link;
        };
        let drop = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' => true,
            ')' => link.matches('(').count() < link.matches(')').count(),
            ']' => link.matches('[').count() < link.matches(']').count(),
            '>' | '}' => true,
            _ => false,
        };
        if !drop {
            return link;
        }
        link = &link[..link.len() - last.len_utf8()];
    }
}

/// One message of a transcript: when (as the visitor's clock shows it), who, and the text.
pub struct Said<'a> {
    pub when: &'a str,
    pub who: &'a str,
    pub body: &'a str,
}

/// A conversation as a text file: a title line, then each message as `[when] who: text`, a
/// message's further lines indented under it. Lines end with CRLF (Notepad opens it too).
pub fn transcript<'a>(title: &str, messages: impl IntoIterator<Item = Said<'a>>) -> String {
    let mut out = format!("{title}\r\n\r\n");
    for m in messages {
        out.push_str(&format!("[{}] {}: ", m.when, m.who));
        for (i, line) in m.body.lines().enumerate() {
            if i > 0 {
                out.push_str("\r\n    ");
            }
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Piece::{Link, Text};
    use super::*;

    #[test]
    fn addresses_become_links_and_the_rest_stays_text() {
        let cases: Vec<(&str, Vec<Piece>)> = vec![
            ("no links here", vec![Text("no links here")]),
            ("https://example.com", vec![Link("https://example.com")]),
            (
                "see https://example.com/a?b=1&c=<2>#x now",
                vec![
                    Text("see "),
                    Link("https://example.com/a?b=1&c=<2>#x"),
                    Text(" now"),
                ],
            ),
            (
                "Mail MAILTO:help@acme.test, or call.",
                vec![
                    Text("Mail "),
                    Link("MAILTO:help@acme.test"),
                    Text(", or call."),
                ],
            ),
            (
                "end http://acme.test.",
                vec![Text("end "), Link("http://acme.test"), Text(".")],
            ),
            (
                "(https://en.wikipedia.org/wiki/Rust_(programming_language))",
                vec![
                    Text("("),
                    Link("https://en.wikipedia.org/wiki/Rust_(programming_language)"),
                    Text(")"),
                ],
            ),
            (
                "\"https://acme.test/q\"",
                vec![Text("\""), Link("https://acme.test/q"), Text("\"")],
            ),
            (
                "two\nhttps://a.test\nlines",
                vec![Text("two\n"), Link("https://a.test"), Text("\nlines")],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(pieces(text), expected, "{text:?}");
        }
    }

    #[test]
    fn only_three_schemes_and_only_at_a_word_start() {
        for text in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://files.test",
            "xhttps://acme.test",
            "https://",
            "mailto:",
            "https://.",
            "<b>bold</b> & <i>not markup</i>",
        ] {
            assert_eq!(pieces(text), vec![Text(text)], "{text:?}");
        }
    }

    #[test]
    fn the_pieces_are_the_whole_text() {
        for text in [
            "مرحبا https://acme.test/ش؟ شكرا",
            "🙂https://a.test 🙂 https://b.test/é.",
        ] {
            let joined: String = pieces(text)
                .iter()
                .map(|p| match p {
                    Text(t) | Link(t) => *t,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn a_transcript_is_one_line_per_message_with_its_lines_indented() {
        let said = [
            Said {
                when: "4 Dec 2026, 14:02",
                who: "You",
                body: "Hello\nsecond line",
            },
            Said {
                when: "4 Dec 2026, 14:03",
                who: "ana",
                body: "مرحبا https://acme.test",
            },
        ];
        assert_eq!(
            transcript("Chat with Acme", said),
            "Chat with Acme\r\n\r\n[4 Dec 2026, 14:02] You: Hello\r\n    second line\r\n\
             [4 Dec 2026, 14:03] ana: مرحبا https://acme.test\r\n"
        );
        assert_eq!(transcript("Empty", []), "Empty\r\n\r\n");
    }
}
