//! The widget's message log, with no I/O: what the visitor sees, in index order, with no
//! duplicates, however the pieces arrive.
//!
//! Messages reach the widget three ways, in any order: pages of history (the newest page on open,
//! older ones when the log is scrolled to the top), live `messageAdded` events (which can race a
//! page that already holds the same message), and the visitor's own sends, which are shown at once
//! as *sending* and become *sent* or *failed*. An own message is matched to its confirmed copy by
//! the index `sendMessage` resolves to, or earlier by the local id the widget puts in the
//! message's attributes ([`LOCAL_ID_ATTRIBUTE`]), so it is never shown twice.

use std::collections::BTreeMap;

/// The message attribute that carries the sending widget's local id.
pub const LOCAL_ID_ATTRIBUTE: &str = "edgechat_local_id";
/// Twilio's limit on a message body, in characters.
pub const MAX_BODY_CHARS: usize = 1600;
/// Messages per history page (the newest page on open, then older ones).
pub const PAGE_SIZE: usize = 30;

/// A message the service has stored (it has an index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub index: u64,
    pub author: String,
    pub body: String,
    /// Unix milliseconds.
    pub created_ms: u64,
    /// The local id from the message's attributes, when this widget sent it.
    pub local_id: Option<u64>,
    /// Its attachments, in order (none for a text).
    pub media: Vec<Media>,
}

/// An attachment of a stored message, as the media service describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub size: u64,
}

/// A file the visitor sends (its name is the outgoing message's body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub size: u64,
    /// The type its bytes showed (`site::attachments::sniff`), which it is uploaded as.
    pub content_type: String,
}

/// The reason a file waiting in the outbox failed when its page no longer has its bytes (it
/// was chosen before a reload): the visitor chooses it again.
pub const FILE_GONE: &str = "file-gone";

/// The longest file name kept, in characters (longer ones are cut).
pub const MAX_FILE_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendState {
    /// Typed while not connected: it goes out, in order, once the connection is there.
    Waiting,
    Sending,
    /// The service took it at this index; its stored copy has not arrived yet.
    Sent {
        index: u64,
    },
    /// It did not go out; the text is kept for a retry.
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub local_id: u64,
    /// The text, or a file's name.
    pub body: String,
    pub state: SendState,
    pub file: Option<FileInfo>,
}

/// What the log shows, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    Stored { message: &'a Message, own: bool },
    Outgoing(&'a Outgoing),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Empty,
    TooLong { chars: usize },
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Empty => f.write_str("Type a message first."),
            SendError::TooLong { chars } => write!(
                f,
                "Messages can be at most {MAX_BODY_CHARS} characters (this one has {chars})."
            ),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MessageLog {
    /// The visitor's identity: their stored messages are "own".
    identity: String,
    stored: BTreeMap<u64, Message>,
    outgoing: Vec<Outgoing>,
    next_local_id: u64,
    /// Whether older history exists before the oldest stored message (unknown until a page says).
    has_older: bool,
}

impl MessageLog {
    pub fn new(identity: impl Into<String>) -> MessageLog {
        MessageLog {
            identity: identity.into(),
            next_local_id: 1,
            ..MessageLog::default()
        }
    }

    /// Numbers this log's outgoing messages from `first`. Local ids travel in the messages'
    /// attributes and pair a stored copy with its placeholder, so they must not repeat across
    /// page loads: a log numbered from 1 on every load would take an own message from an earlier
    /// visit, found in an older page, for the one being sent now. The widget seeds it from the
    /// clock (milliseconds x 1000: ids stay exact in a JSON number).
    pub fn with_first_local_id(mut self, first: u64) -> MessageLog {
        self.next_local_id = first.max(1);
        self
    }

    /// Adds a page of history (any page: the newest on open, or an older one); `has_older` is the
    /// page's `hasPrevPage`, and counts only when the page reaches further back than the log did.
    pub fn add_page(&mut self, page: Vec<Message>, has_older: bool) {
        let reaches_back = match (page.iter().map(|m| m.index).min(), self.oldest_index()) {
            (Some(first), Some(oldest)) => first <= oldest,
            (Some(_), None) => true,
            (None, _) => self.stored.is_empty(),
        };
        for message in page {
            self.add(message);
        }
        if reaches_back {
            self.has_older = has_older;
        }
    }

    /// The visitor is `identity` from now on (their first token, or a new visitor after the
    /// old one was refused): what was stored goes, what they typed and has not gone out stays,
    /// to go out as them.
    pub fn set_identity(&mut self, identity: &str) {
        if self.identity != identity {
            identity.clone_into(&mut self.identity);
            self.restart();
        }
    }

    /// A new conversation replaces the old one: its stored messages go (indexes start again at
    /// 0), the visitor's unsent and failed messages stay, with their text.
    pub fn restart(&mut self) {
        self.stored.clear();
        self.has_older = false;
        self.outgoing
            .retain(|o| !matches!(o.state, SendState::Sent { .. }));
    }

    /// A message that just arrived (the SDK's `messageAdded`, or news from a catch-up): stored,
    /// unless it lies below a hole under the log's oldest message. That happens when more than a
    /// page came while the connection was down: the log started again from the newest page
    /// ([`MessageLog::catch_up`]) and the SDK then replays what it missed, oldest first. Those
    /// load with the older pages, as history: `false` says it is not news (nothing is shown).
    /// The visitor's own are always stored: the outbox asks whether its stored copy is held
    /// before it sends again (a send whose answer was lost with the connection).
    pub fn arrived(&mut self, message: Message) -> bool {
        let below_a_hole = self.has_older
            && message.author != self.identity
            && self
                .oldest_index()
                .is_some_and(|oldest| message.index + 1 < oldest);
        if below_a_hole {
            return false;
        }
        self.add(message);
        true
    }

    /// Adds one stored message (a live `messageAdded`, or one from a page). A copy of an index
    /// already held is ignored; an own message replaces its outgoing placeholder.
    pub fn add(&mut self, message: Message) {
        self.outgoing.retain(|o| {
            let same_local =
                message.local_id == Some(o.local_id) && message.author == self.identity;
            let same_index = matches!(o.state, SendState::Sent { index } if index == message.index);
            !(same_local || same_index)
        });
        self.stored.entry(message.index).or_insert(message);
    }

    /// Starts sending `text`: checks it, shows it as sending, and returns its local id (to put
    /// in the message's attributes) and the body to send.
    pub fn start_send(&mut self, text: &str) -> Result<(u64, String), SendError> {
        let body = text.trim();
        if body.is_empty() {
            return Err(SendError::Empty);
        }
        let chars = body.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(SendError::TooLong { chars });
        }
        let local_id = self.next_local_id;
        self.next_local_id += 1;
        self.outgoing.push(Outgoing {
            local_id,
            body: body.to_owned(),
            state: SendState::Sending,
            file: None,
        });
        Ok((local_id, body.to_owned()))
    }

    /// Starts sending a file (already checked against the site's policy): shown at once as
    /// sending, under its name (cut to [`MAX_FILE_NAME_CHARS`]); returns its local id and name.
    pub fn start_send_file(&mut self, name: &str, file: FileInfo) -> (u64, String) {
        let name: String = match name.trim() {
            "" => "file".to_owned(),
            n => n.chars().take(MAX_FILE_NAME_CHARS).collect(),
        };
        let local_id = self.next_local_id;
        self.next_local_id += 1;
        self.outgoing.push(Outgoing {
            local_id,
            body: name.clone(),
            state: SendState::Sending,
            file: Some(file),
        });
        (local_id, name)
    }

    /// The file an outgoing message sends, if it is one.
    pub fn file_of(&self, local_id: u64) -> Option<&FileInfo> {
        self.outgoing
            .iter()
            .find(|o| o.local_id == local_id)
            .and_then(|o| o.file.as_ref())
    }

    /// Forgets an outgoing message (a file the visitor removed after it could not be sent).
    pub fn discard(&mut self, local_id: u64) {
        self.outgoing.retain(|o| o.local_id != local_id);
    }

    /// Shows a message typed earlier (before a reload, or in another tab) that the outbox
    /// still holds, under its own local id: waiting, or failed when the service refused it.
    /// Nothing happens when the log already shows it, outgoing or stored.
    pub fn restore(&mut self, local_id: u64, body: &str, refused: bool, file: Option<FileInfo>) {
        if self.outgoing.iter().any(|o| o.local_id == local_id) || self.holds_own(local_id) {
            return;
        }
        // Restored messages show in the order they were typed, before what this page typed
        // since (local ids grow with the clock).
        let at = self
            .outgoing
            .iter()
            .position(|o| o.local_id > local_id)
            .unwrap_or(self.outgoing.len());
        self.outgoing.insert(
            at,
            Outgoing {
                local_id,
                body: body.to_owned(),
                state: if refused {
                    SendState::Failed {
                        reason: "Not sent.".into(),
                    }
                } else {
                    SendState::Waiting
                },
                file,
            },
        );
        self.next_local_id = self.next_local_id.max(local_id + 1);
    }

    /// Whether a stored message of the visitor's carries `local_id`: a send whose answer was
    /// lost went out after all.
    pub fn holds_own(&self, local_id: u64) -> bool {
        self.stored
            .values()
            .any(|m| m.local_id == Some(local_id) && m.author == self.identity)
    }

    /// The local ids shown as waiting or sending (not failed, not sent).
    pub fn waiting_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.outgoing
            .iter()
            .filter(|o| matches!(o.state, SendState::Waiting | SendState::Sending))
            .map(|o| o.local_id)
    }

    /// Whether `local_id` is shown as not yet stored (waiting, sending or failed).
    pub fn is_outgoing(&self, local_id: u64) -> bool {
        self.outgoing
            .iter()
            .any(|o| o.local_id == local_id && !matches!(o.state, SendState::Sent { .. }))
    }

    /// The message waits for the connection (it was sent while not connected, or the
    /// connection went while it was queued).
    pub fn waiting(&mut self, local_id: u64) {
        self.set_state(local_id, SendState::Waiting);
    }

    /// The message is being handed to the service now.
    pub fn sending(&mut self, local_id: u64) {
        self.set_state(local_id, SendState::Sending);
    }

    fn set_state(&mut self, local_id: u64, state: SendState) {
        if let Some(o) = self
            .outgoing
            .iter_mut()
            .find(|o| o.local_id == local_id && !matches!(o.state, SendState::Sent { .. }))
        {
            o.state = state;
        }
    }

    /// `sendMessage` resolved with `index`.
    pub fn send_succeeded(&mut self, local_id: u64, index: u64) {
        if self.stored.contains_key(&index) {
            self.outgoing.retain(|o| o.local_id != local_id);
        } else if let Some(o) = self.outgoing.iter_mut().find(|o| o.local_id == local_id) {
            o.state = SendState::Sent { index };
        }
    }

    /// `sendMessage` failed: the text stays, marked failed, for a retry.
    pub fn send_failed(&mut self, local_id: u64, reason: impl Into<String>) {
        if let Some(o) = self.outgoing.iter_mut().find(|o| o.local_id == local_id) {
            o.state = SendState::Failed {
                reason: reason.into(),
            };
        }
    }

    /// Retries a failed message: it is sending again; returns the body to send.
    pub fn retry(&mut self, local_id: u64) -> Option<String> {
        let o = self
            .outgoing
            .iter_mut()
            .find(|o| o.local_id == local_id && matches!(o.state, SendState::Failed { .. }))?;
        o.state = SendState::Sending;
        Some(o.body.clone())
    }

    /// Everything to show, oldest first: stored messages by index, then outgoing ones in the
    /// order they were typed.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let stored = self.stored.values().map(|m| Entry::Stored {
            message: m,
            own: m.author == self.identity,
        });
        stored.chain(self.outgoing.iter().map(Entry::Outgoing))
    }

    /// After a dropped connection, or when the conversation names a newest message the log does
    /// not store, the conversation's newest page: returns the messages in it that the log has not
    /// stored from its oldest message on (newer ones, any the SDK never announced in between, and
    /// the stored copies of the visitor's sent ones), to be treated as just arrived. When the page does not reach back to the newest the log held or
    /// had sent (more than a page was written meanwhile), the log starts again from the page,
    /// keeping unsent messages, so that it has no hole; older pages then load as usual.
    pub fn catch_up(&mut self, page: Vec<Message>, has_older: bool) -> Vec<Message> {
        let sent: Vec<u64> = self.sent_indexes().collect();
        let known = self.newest_index().max(sent.iter().max().copied());
        let first = page.iter().map(|m| m.index).min();
        match (known, first) {
            (Some(known), Some(first)) if first > known + 1 => {
                self.restart();
                self.has_older = has_older;
            }
            (None, Some(_)) => self.has_older = has_older,
            _ => {}
        }
        // Older than what the log shows is history (it loads on scroll), not news.
        let floor = match (self.oldest_index(), sent.iter().min().copied()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        page.into_iter()
            .filter(|m| floor.is_none_or(|f| m.index >= f))
            .filter(|m| !self.stored.contains_key(&m.index))
            .collect()
    }

    /// Whether the log has stored the message at `index` (a sent one waiting for its stored
    /// copy does not count: until it comes, later messages would show before it).
    pub fn has_stored(&self, index: u64) -> bool {
        self.stored.contains_key(&index)
    }

    fn sent_indexes(&self) -> impl Iterator<Item = u64> + '_ {
        self.outgoing.iter().filter_map(|o| match o.state {
            SendState::Sent { index } => Some(index),
            _ => None,
        })
    }

    pub fn oldest_index(&self) -> Option<u64> {
        self.stored.keys().next().copied()
    }

    pub fn newest_index(&self) -> Option<u64> {
        self.stored.keys().next_back().copied()
    }

    /// Whether scrolling to the top should load an older page.
    pub fn has_older(&self) -> bool {
        self.has_older
    }

    /// Messages from others after the read horizon `last_read` (none read: all of them).
    pub fn unread_after(&self, last_read: Option<u64>) -> usize {
        let from = last_read.map_or(0, |i| i + 1);
        self.stored
            .range(from..)
            .filter(|(_, m)| m.author != self.identity)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";

    fn msg(index: u64, author: &str) -> Message {
        Message {
            index,
            author: author.to_owned(),
            body: format!("m{index}"),
            created_ms: index * 1000,
            local_id: None,
            media: Vec::new(),
        }
    }

    fn page(range: std::ops::Range<u64>) -> Vec<Message> {
        range.map(|i| msg(i, "agent")).collect()
    }

    fn shown(log: &MessageLog) -> Vec<String> {
        log.entries()
            .map(|e| match e {
                Entry::Stored { message, own } => {
                    format!("{}{}", message.index, if own { "*" } else { "" })
                }
                Entry::Outgoing(o) => format!("{}:{:?}", o.body, o.state),
            })
            .collect()
    }

    #[test]
    fn replayed_messages_below_a_hole_after_a_catch_up_wait_for_the_older_pages() {
        // 0 was shown; 1..35 came while the connection was down. The SDK replayed 1 and 2
        // before the widget's catch-up page (5..35) came, and replays 3 and 4 after it.
        let mut log = MessageLog::new(ME);
        log.add_page(page(0..1), false);
        assert!(log.arrived(msg(1, "agent")));
        assert!(log.arrived(msg(2, "agent")));
        let fresh = log.catch_up(page(5..35), true);
        assert_eq!(fresh.len(), 30, "the log started again from the page");
        for m in fresh {
            assert!(log.arrived(m));
        }
        assert!(
            !log.arrived(msg(3, "agent")),
            "below the hole: history, not news"
        );
        assert!(
            log.arrived(msg(4, "agent")),
            "next to the oldest: the run grows"
        );
        assert_eq!(log.oldest_index(), Some(4));
        assert!(log.has_older());
        log.add_page(page(0..4), false);
        let indexes: Vec<u64> = log
            .entries()
            .map(|e| match e {
                Entry::Stored { message, .. } => message.index,
                Entry::Outgoing(_) => u64::MAX,
            })
            .collect();
        assert_eq!(indexes, (0..35).collect::<Vec<_>>(), "no hole, each once");
        // The visitor's own, below the hole, is held: the outbox must find its stored copy.
        let mut own = MessageLog::new(ME);
        own.add_page(page(0..1), false);
        own.catch_up(page(5..35), true);
        assert!(own.arrived(msg(2, ME)));
        assert!(own.has_stored(2));
        // A live message while only the newest page is loaded is news, as always.
        let mut long = MessageLog::new(ME);
        long.add_page(page(40..70), true);
        assert!(long.arrived(msg(70, "agent")));
    }

    #[test]
    fn pages_and_live_messages_merge_in_index_order_without_duplicates() {
        let mut log = MessageLog::new(ME);
        log.add(msg(72, "agent")); // messageAdded raced the newest page
        log.add_page(page(42..72), true);
        log.add(msg(72, "agent"));
        log.add(msg(73, ME));
        assert_eq!(log.oldest_index(), Some(42));
        assert_eq!(log.newest_index(), Some(73));
        assert!(log.has_older());
        log.add_page(page(12..42), true);
        log.add_page(page(0..12), false);
        log.add_page(page(30..45), true); // an overlapping page changes nothing
        let indexes: Vec<u64> = log
            .entries()
            .map(|e| match e {
                Entry::Stored { message, .. } => message.index,
                Entry::Outgoing(_) => u64::MAX,
            })
            .collect();
        assert_eq!(indexes, (0..74).collect::<Vec<_>>());
        assert!(
            !log.has_older(),
            "the oldest page said there is nothing before it"
        );
        assert_eq!(shown(&log).last().unwrap(), "73*");
    }

    #[test]
    fn a_message_waits_for_the_connection_then_sends_and_a_sent_one_never_goes_back_to_waiting() {
        let mut log = MessageLog::new(ME);
        let (first, _) = log.start_send("typed in the shell").unwrap();
        let (second, _) = log.start_send("and another").unwrap();
        log.waiting(first);
        log.waiting(second);
        assert_eq!(
            shown(&log),
            ["typed in the shell:Waiting", "and another:Waiting"]
        );
        log.sending(first);
        log.send_succeeded(first, 0);
        log.waiting(first); // the connection went: a sent message stays sent
        log.sending(second);
        assert_eq!(
            shown(&log),
            [
                "typed in the shell:Sent { index: 0 }",
                "and another:Sending"
            ]
        );
        log.add(Message {
            index: 0,
            author: ME.into(),
            body: "typed in the shell".into(),
            created_ms: 0,
            local_id: Some(first),
            media: Vec::new(),
        });
        assert_eq!(shown(&log), ["0*", "and another:Sending"]);
    }

    #[test]
    fn messages_typed_before_the_first_token_stay_when_the_identity_is_known() {
        let mut log = MessageLog::new("");
        let (id, _) = log.start_send("typed before the token").unwrap();
        log.waiting(id);
        log.set_identity(ME);
        assert_eq!(shown(&log), ["typed before the token:Waiting"]);
        log.add(msg(0, "agent"));
        log.set_identity("visitor:acme:another");
        assert_eq!(
            shown(&log),
            ["typed before the token:Waiting"],
            "stored ones go"
        );
    }

    #[test]
    fn own_message_sending_then_sent_then_stored_is_shown_once() {
        let mut log = MessageLog::new(ME);
        log.add_page(page(0..3), false);
        let (id, body) = log.start_send("  hello there \n").unwrap();
        assert_eq!(body, "hello there");
        assert_eq!(shown(&log)[3], "hello there:Sending");
        log.send_succeeded(id, 3);
        assert_eq!(shown(&log)[3], "hello there:Sent { index: 3 }");
        log.add(Message {
            body: "hello there".into(),
            ..msg(3, ME)
        });
        assert_eq!(shown(&log), ["0", "1", "2", "3*"]);
    }

    #[test]
    fn own_message_stored_before_send_resolves_is_matched_by_local_id() {
        let mut log = MessageLog::new(ME);
        let (id, _) = log.start_send("hi").unwrap();
        log.add(Message {
            local_id: Some(id),
            ..msg(0, ME)
        });
        assert_eq!(shown(&log), ["0*"]);
        log.send_succeeded(id, 0);
        assert_eq!(shown(&log), ["0*"]);
    }

    #[test]
    fn another_visitors_local_id_does_not_match() {
        let mut log = MessageLog::new(ME);
        let (id, _) = log.start_send("hi").unwrap();
        log.add(Message {
            local_id: Some(id),
            ..msg(0, "agent")
        });
        assert_eq!(shown(&log), ["0", "hi:Sending"]);
    }

    #[test]
    fn failed_send_keeps_its_text_and_can_be_retried() {
        let mut log = MessageLog::new(ME);
        let (id, _) = log.start_send("my long question").unwrap();
        log.send_failed(id, "offline");
        assert_eq!(
            shown(&log),
            ["my long question:Failed { reason: \"offline\" }"]
        );
        assert_eq!(log.retry(id).as_deref(), Some("my long question"));
        assert_eq!(log.retry(id), None, "only a failed message is retried");
        log.send_succeeded(id, 0);
        log.add(msg(0, ME));
        assert_eq!(shown(&log), ["0*"]);
    }

    #[test]
    fn empty_and_overlong_messages_are_refused() {
        let mut log = MessageLog::new(ME);
        assert_eq!(log.start_send(" \n\t "), Err(SendError::Empty));
        let long = "é".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(
            log.start_send(&long),
            Err(SendError::TooLong {
                chars: MAX_BODY_CHARS + 1
            })
        );
        assert!(log.start_send(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        assert_eq!(log.entries().count(), 1);
        assert!(SendError::TooLong { chars: 1700 }
            .to_string()
            .contains("1600"));
    }

    #[test]
    fn unread_counts_only_others_after_the_horizon() {
        let mut log = MessageLog::new(ME);
        log.add_page(
            vec![msg(0, ME), msg(1, "agent"), msg(2, ME), msg(3, "bot")],
            false,
        );
        assert_eq!(log.unread_after(None), 2);
        assert_eq!(log.unread_after(Some(1)), 1);
        assert_eq!(log.unread_after(Some(3)), 0);
    }

    #[test]
    fn a_new_conversation_keeps_what_was_not_delivered() {
        let mut log = MessageLog::new(ME);
        log.add_page(page(0..5), true);
        let (sending, _) = log.start_send("on its way").unwrap();
        let (failed, _) = log.start_send("did not go").unwrap();
        log.send_failed(failed, "offline");
        let (sent, _) = log.start_send("went out").unwrap();
        log.send_succeeded(sent, 5);
        log.restart();
        assert!(!log.has_older());
        assert_eq!(
            shown(&log),
            [
                "on its way:Sending",
                "did not go:Failed { reason: \"offline\" }"
            ]
        );
        // Index 0 of the new conversation is not mistaken for the old one's.
        log.add(Message {
            local_id: Some(sending),
            ..msg(0, ME)
        });
        assert_eq!(shown(&log)[0], "0*");
        assert_eq!(log.entries().count(), 2);
    }

    #[test]
    fn catching_up_returns_only_what_is_new_and_keeps_an_overlapping_log() {
        let mut log = MessageLog::new(ME);
        log.add_page(page(10..40), true);
        let fresh = log.catch_up(page(15..45), true);
        assert_eq!(
            fresh.iter().map(|m| m.index).collect::<Vec<_>>(),
            [40, 41, 42, 43, 44]
        );
        for m in fresh {
            log.add(m);
        }
        assert_eq!(log.oldest_index(), Some(10));
        assert_eq!(log.newest_index(), Some(44));
        assert!(log.has_older());
    }

    #[test]
    fn catching_up_after_more_than_a_page_starts_the_log_again_without_a_hole() {
        let mut log = MessageLog::new(ME);
        log.add_page(page(0..10), false);
        let (failed, _) = log.start_send("not sent").unwrap();
        log.send_failed(failed, "Not sent.");
        let fresh = log.catch_up(page(20..50), true);
        assert_eq!(fresh.len(), 30);
        for m in fresh {
            log.add(m);
        }
        assert_eq!(
            log.oldest_index(),
            Some(20),
            "nothing before the hole is shown"
        );
        assert!(log.has_older(), "the older ones load on scroll");
        assert!(shown(&log).contains(&"not sent:Failed { reason: \"Not sent.\" }".to_owned()));
    }

    #[test]
    fn a_sent_message_not_stored_yet_counts_as_known_when_catching_up() {
        let mut log = MessageLog::new(ME);
        let (id, _) = log.start_send("hello").unwrap();
        log.send_succeeded(id, 0); // its messageAdded was lost with the connection
        let fresh = log.catch_up(page(1..31), true);
        assert_eq!(fresh.len(), 30, "index 1 follows the sent 0: no hole");
        assert_eq!(shown(&log), ["hello:Sent { index: 0 }"]);

        let mut log = MessageLog::new(ME);
        let (id, _) = log.start_send("hello").unwrap();
        log.send_succeeded(id, 0);
        let fresh = log.catch_up(page(5..35), true);
        assert_eq!(fresh.len(), 30);
        assert!(
            shown(&log).is_empty(),
            "a hole after it: the log starts again from the page"
        );
        assert!(log.has_older());
    }

    #[test]
    fn catching_up_fills_a_message_the_sdk_never_announced_and_nothing_else() {
        let mut log = MessageLog::new(ME);
        log.add_page(page(5..10), true);
        log.add(msg(11, "agent")); // 10 came first in a page query: its messageAdded was dropped
        let (id, _) = log.start_send("mine").unwrap();
        log.send_succeeded(id, 12); // stored copy not here yet
        assert!(!log.has_stored(10) && log.has_stored(11) && !log.has_stored(12));
        let fresh: Vec<u64> = log
            .catch_up(page(0..14), false)
            .iter()
            .map(|m| m.index)
            .collect();
        assert_eq!(
            fresh,
            [10, 12, 13],
            "the hole, the sent one's copy and the new one; not history, not what it stores"
        );
        assert_eq!(log.oldest_index(), Some(5), "no restart");

        // The visitor's own first message, sent before the greeting, its copy never announced.
        let mut log = MessageLog::new(ME);
        let (id, _) = log.start_send("hello").unwrap();
        log.send_succeeded(id, 0);
        log.add(msg(1, "agent"));
        let fresh = log.catch_up(page(0..2), false);
        assert_eq!(fresh.iter().map(|m| m.index).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn catching_up_an_empty_log_takes_the_page_as_its_newest() {
        let mut log = MessageLog::new(ME);
        let fresh = log.catch_up(page(30..60), true);
        assert_eq!(fresh.len(), 30);
        assert!(log.has_older());
    }

    #[test]
    fn an_own_message_from_an_earlier_visit_does_not_replace_the_one_being_sent() {
        let mut earlier = MessageLog::new(ME).with_first_local_id(1_000);
        let (old_id, _) = earlier.start_send("earlier visit").unwrap();
        let mut stored = msg(3, ME);
        stored.local_id = Some(old_id);

        let mut log = MessageLog::new(ME).with_first_local_id(2_000);
        let (id, _) = log.start_send("now").unwrap();
        assert_ne!(id, old_id);
        log.add_page(vec![stored], false); // an older page brings the earlier visit's message
        log.send_failed(id, "Not sent.");
        assert_eq!(
            shown(&log),
            ["3*", "now:Failed { reason: \"Not sent.\" }"],
            "the message being sent keeps its place and its text"
        );
    }

    #[test]
    fn an_empty_first_page_means_no_history() {
        let mut log = MessageLog::new(ME);
        log.add_page(Vec::new(), false);
        assert!(!log.has_older());
        assert_eq!(log.entries().count(), 0);
    }

    #[test]
    fn restored_messages_wait_in_typed_order_and_a_stored_copy_replaces_them() {
        let mut log = MessageLog::new(ME).with_first_local_id(5_000);
        let (typed_now, _) = log.start_send("typed on this page").unwrap();
        log.waiting(typed_now);
        log.restore(1_001, "second before the reload", false, None);
        log.restore(1_000, "first before the reload", false, None);
        log.restore(1_002, "refused before the reload", true, None);
        log.restore(1_000, "a second restore of the same id", false, None);
        assert_eq!(
            shown(&log),
            [
                "first before the reload:Waiting",
                "second before the reload:Waiting",
                "refused before the reload:Failed { reason: \"Not sent.\" }",
                "typed on this page:Waiting",
            ]
        );
        assert!(log.is_outgoing(1_000) && !log.holds_own(1_000));
        // It went out before the reload after all: the newest page has it.
        let mut stored = msg(0, ME);
        stored.local_id = Some(1_000);
        log.add_page(vec![stored], false);
        assert!(!log.is_outgoing(1_000) && log.holds_own(1_000));
        log.restore(1_000, "first before the reload", false, None);
        assert_eq!(
            log.entries().count(),
            4,
            "a stored message is not restored again"
        );
        // Someone else's message with that local id is not the visitor's.
        let mut theirs = msg(1, "agent:ana");
        theirs.local_id = Some(1_001);
        log.add(theirs);
        assert!(log.is_outgoing(1_001) && !log.holds_own(1_001));
        // Ids typed after a restore never collide with restored ones.
        let mut fresh = MessageLog::new(ME).with_first_local_id(10);
        fresh.restore(700, "from another tab", false, None);
        assert_eq!(fresh.start_send("next").unwrap().0, 701);
    }

    #[test]
    fn a_file_shows_under_its_name_until_its_stored_copy_arrives_and_can_be_discarded() {
        let mut log = MessageLog::new("me").with_first_local_id(10);
        let info = FileInfo {
            size: 2048,
            content_type: "image/png".into(),
        };
        let long = "n".repeat(MAX_FILE_NAME_CHARS + 5);
        let (id, name) = log.start_send_file(&long, info.clone());
        assert_eq!(name.chars().count(), MAX_FILE_NAME_CHARS);
        assert_eq!(log.file_of(id), Some(&info));
        assert_eq!(log.start_send_file("  ", info.clone()).1, "file");
        log.send_succeeded(id, 0);
        log.add(Message {
            index: 0,
            author: "me".into(),
            body: String::new(),
            created_ms: 1,
            local_id: Some(id),
            media: vec![Media {
                sid: "ME1".into(),
                content_type: "image/png".into(),
                filename: Some(name),
                size: 2048,
            }],
        });
        assert_eq!(log.file_of(id), None, "the stored copy replaced it");
        log.restore(99, "scan.pdf", true, Some(info));
        assert!(log.is_outgoing(99));
        log.discard(99);
        assert!(!log.is_outgoing(99));
    }
}
