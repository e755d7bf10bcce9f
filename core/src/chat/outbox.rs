//! The outbox as the browser keeps it, with no I/O: what a visitor typed and has not gone out
//! yet, one localStorage key per message, so that it survives a reload and any tab of the same
//! browser can send it.
//!
//! One key per message (`edgechat:<site>:outbox:<local id>`), never one list: a tab adds or removes
//! its key with one write, so two tabs writing at once cannot lose each other's messages (a list
//! read, changed and written back by two tabs loses one of the changes). The value is the time it
//! was typed, the conversation it was typed in (`-` for none: it starts one), whether the service
//! refused it (it then waits for the visitor's Retry, not for a connection), and the text:
//!
//! ```text
//! 1796399778007 CH0123456789abcdef0123456789abcdef 0
//! the text, which may span lines
//! ```
//!
//! A file adds its size and type to the first line, and its name is the text:
//! `1796399778007 - 0 file:48213:image/png` then `screenshot.png`. Its bytes are not kept (a
//! page cannot store a file it was given): after a reload it asks to be chosen again.

use crate::chat::message_log::{FileInfo, MAX_BODY_CHARS};
use crate::ids::sid::ConversationSid;
use crate::ids::site::SiteId;

/// A message waiting to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The id the message carries in its attributes; it pairs the stored copy with this one.
    pub local_id: u64,
    /// When it was typed (Unix ms, the visitor's clock): the outbox's order across tabs.
    pub typed_ms: u64,
    /// The conversation it was typed in, when there was one: where a copy that went out already
    /// (the answer lost with the page) would be found.
    pub conversation: Option<ConversationSid>,
    /// The service refused it: shown as not sent, with Retry, and not sent again by itself.
    pub refused: bool,
    /// The text, or the file's name.
    pub body: String,
    pub file: Option<FileInfo>,
}

/// What every outbox key for `site` starts with.
pub fn outbox_prefix(site: &SiteId) -> String {
    format!("edgechat:{site}:outbox:")
}

pub fn outbox_key(site: &SiteId, local_id: u64) -> String {
    format!("{}{local_id}", outbox_prefix(site))
}

/// The local id an outbox key names, if `key` is one of `site`'s.
pub fn local_id_of(site: &SiteId, key: &str) -> Option<u64> {
    let id = key.strip_prefix(&outbox_prefix(site))?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().filter(|&id| id > 0)
}

impl Pending {
    /// The stored value (see the module's documentation).
    pub fn encode(&self) -> String {
        let conversation = self.conversation.as_ref().map_or("-", |c| c.as_str());
        let file = self.file.as_ref().map_or(String::new(), |f| {
            format!(" file:{}:{}", f.size, f.content_type)
        });
        format!(
            "{} {conversation} {}{file}\n{}",
            self.typed_ms,
            u8::from(self.refused),
            self.body
        )
    }

    /// Reads a stored value back; anything malformed (another version's, or edited by hand) is
    /// `None`, and the caller drops it: it could not be sent as typed.
    pub fn decode(local_id: u64, value: &str) -> Option<Pending> {
        let (head, body) = value.split_once('\n')?;
        let mut fields = head.split(' ');
        let typed_ms = fields.next()?.parse().ok()?;
        let conversation = match fields.next()? {
            "-" => None,
            sid => Some(sid.parse().ok()?),
        };
        let refused = match fields.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let file = match fields.next() {
            None => None,
            Some(field) => {
                let (size, content_type) = field.strip_prefix("file:")?.split_once(':')?;
                let content_type = content_type.to_owned();
                Some(FileInfo {
                    size: size.parse().ok()?,
                    content_type: Some(content_type).filter(|t| t.contains('/'))?,
                })
            }
        };
        let chars = body.chars().count();
        if fields.next().is_some() || chars == 0 || chars > MAX_BODY_CHARS || local_id == 0 {
            return None;
        }
        Some(Pending {
            local_id,
            typed_ms,
            conversation,
            refused,
            body: body.to_owned(),
            file,
        })
    }
}

/// The outbox in the order it goes out: as typed (the visitor's clock, then the local id, which
/// grows within a tab).
pub fn in_order(pending: Vec<Pending>) -> Vec<Pending> {
    // An insertion, not `sort`: a handful of messages, and the widget's wasm carries no sort.
    let mut ordered: Vec<Pending> = Vec::with_capacity(pending.len());
    for p in pending {
        let key = (p.typed_ms, p.local_id);
        let at = ordered
            .iter()
            .position(|q| (q.typed_ms, q.local_id) > key)
            .unwrap_or(ordered.len());
        ordered.insert(at, p);
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteId {
        "acme".parse().unwrap()
    }

    fn sid() -> ConversationSid {
        "CH0123456789abcdef0123456789abcdef".parse().unwrap()
    }

    fn pending(local_id: u64, typed_ms: u64, body: &str) -> Pending {
        Pending {
            local_id,
            typed_ms,
            conversation: None,
            refused: false,
            body: body.into(),
            file: None,
        }
    }

    #[test]
    fn keys_are_the_sites_and_name_the_local_id() {
        assert_eq!(
            outbox_key(&site(), 1_796_399_778_007_001),
            "edgechat:acme:outbox:1796399778007001"
        );
        assert_eq!(
            local_id_of(&site(), "edgechat:acme:outbox:1796399778007001"),
            Some(1_796_399_778_007_001)
        );
        for other in [
            "edgechat:acme:outbox:",
            "edgechat:acme:outbox:0",
            "edgechat:acme:outbox:12a",
            "edgechat:acme:outbox:+12",
            "edgechat:acme:outbox:99999999999999999999999",
            "edgechat:acme2:outbox:12",
            "edgechat:acme:conversation",
        ] {
            assert_eq!(local_id_of(&site(), other), None, "{other}");
        }
    }

    #[test]
    fn a_message_comes_back_as_it_was_stored() {
        let cases = [
            pending(7, 1_796_399_778_007, "Hello"),
            Pending {
                conversation: Some(sid()),
                refused: true,
                ..pending(8, 1, "two\nlines and a trailing space ")
            },
            pending(9, 0, "مرحبا، كيف حالك؟ 🙂"),
            pending(10, 5, &"x".repeat(MAX_BODY_CHARS)),
            Pending {
                file: Some(FileInfo {
                    size: 48_213,
                    content_type: "image/png".into(),
                }),
                ..pending(11, 6, "screen shot.png")
            },
        ];
        for p in cases {
            assert_eq!(Pending::decode(p.local_id, &p.encode()), Some(p.clone()));
        }
        assert_eq!(
            Pending {
                conversation: Some(sid()),
                ..pending(3, 42, "Hi")
            }
            .encode(),
            "42 CH0123456789abcdef0123456789abcdef 0\nHi"
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        let too_long = format!("1 - 0\n{}", "x".repeat(MAX_BODY_CHARS + 1));
        for value in [
            "",
            "1 - 0",
            "1 - 0\n",
            "x - 0\nHi",
            "1 CHnope 0\nHi",
            "1 - 2\nHi",
            "1 - 0 extra\nHi",
            "1 -\nHi",
            "1 - 0 file:x:image/png\nHi",
            "1 - 0 file:12:png\nHi",
            "1 - 0 files:12:image/png\nHi",
            too_long.as_str(),
        ] {
            assert_eq!(Pending::decode(5, value), None, "{value:?}");
        }
        assert_eq!(Pending::decode(0, "1 - 0\nHi"), None, "local id 0");
    }

    #[test]
    fn the_outbox_goes_out_as_typed_across_tabs() {
        // Tab B's ids are higher (it loaded later) but A typed its second message after B's.
        let a1 = pending(1_000, 100, "a1");
        let a2 = pending(1_001, 300, "a2");
        let b1 = pending(5_000, 200, "b1");
        let same_ms = pending(999, 300, "typed in the same ms, lower id");
        let order: Vec<String> = in_order(vec![a2, b1, same_ms, a1])
            .into_iter()
            .map(|p| p.body)
            .collect();
        assert_eq!(order, ["a1", "b1", "typed in the same ms, lower id", "a2"]);
    }
}
