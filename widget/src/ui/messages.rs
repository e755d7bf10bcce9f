//! The message log (`role=log`, polite): earlier pages on scroll or button, the greeting, the
//! notice, one row per message. Rows are derived from the log with `use_memo` and each row is a
//! component with its own props, so a keystroke in the composer renders none of this, and a new
//! message renders only the rows that changed.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::{Entry, Media, MessageLog, SendState, FILE_GONE};
use edgechat_core::chat::text::{pieces, Piece};
use edgechat_core::site::attachments::shows_inline;

use super::Elements;
use crate::i18n::{t, tf};
use crate::session::{display_author, Ending, Phase, Session};
use edgechat_core::i18n::Arg;

/// One line of the log, owned, for rendering.
#[derive(Clone, PartialEq)]
pub struct Row {
    key: String,
    class: &'static str,
    author: Option<String>,
    body: String,
    meta: String,
    retry: Option<u64>,
    /// A file being sent: its size (its name is the body).
    file: Option<u64>,
    /// A file that must be chosen again (Retry removes it).
    gone: bool,
    media: Vec<Media>,
}

fn time(ms: u64, locale: &str) -> String {
    if ms == 0 {
        return String::new();
    }
    thread_local! {
        static OPTIONS: js_sys::Object = {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"hour".into(), &"numeric".into());
            let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
            options
        };
    }
    OPTIONS.with(|options| crate::net::local_time(ms, locale, options, true))
}

fn rows(log: &MessageLog, locale: &str, seen: Option<u64>) -> Vec<Row> {
    let mut previous_author: Option<String> = None;
    // The visitor's newest stored message, when an agent has read it: it shows "Seen".
    let seen_own = seen.and_then(|seen| {
        log.entries()
            .filter_map(|e| match e {
                Entry::Stored { message, own: true } => Some(message.index),
                _ => None,
            })
            .last()
            .filter(|&index| index <= seen)
    });
    log.entries()
        .map(|entry| match entry {
            Entry::Stored { message, own } => {
                let same = previous_author.as_deref() == Some(message.author.as_str());
                previous_author = Some(message.author.clone());
                Row {
                    key: format!("m{}", message.index),
                    class: if own { "msg own" } else { "msg" },
                    author: (!own && !same).then(|| display_author(&message.author)),
                    body: message.body.clone(),
                    meta: match (
                        time(message.created_ms, locale),
                        own && seen_own == Some(message.index),
                    ) {
                        (time, true) if time.is_empty() => t("message.seen"),
                        (time, true) => tf("message.time.seen", &[("time", Arg::Str(&time))]),
                        (time, false) => time,
                    },
                    retry: None,
                    file: None,
                    gone: false,
                    media: message.media.clone(),
                }
            }
            Entry::Outgoing(o) => {
                previous_author = None;
                let gone = matches!(&o.state, SendState::Failed { reason } if reason == FILE_GONE);
                let (class, meta, retry) = match &o.state {
                    // `out`: on its way (waiting or sending).
                    SendState::Waiting => ("msg own out", t("message.waiting"), None),
                    SendState::Sending if o.file.is_some() => {
                        ("msg own out", t("file.uploading"), None)
                    }
                    SendState::Sending => ("msg own out", t("message.sending"), None),
                    SendState::Sent { .. } => ("msg own", t("message.sent"), None),
                    SendState::Failed { .. } if gone => {
                        ("msg own failed", t("file.again"), Some(o.local_id))
                    }
                    SendState::Failed { .. } => {
                        ("msg own failed", t("message.failed"), Some(o.local_id))
                    }
                };
                Row {
                    key: format!("o{}", o.local_id),
                    class,
                    author: None,
                    body: o.body.clone(),
                    meta,
                    retry,
                    file: o.file.as_ref().map(|f| f.size),
                    gone,
                    media: Vec::new(),
                }
            }
        })
        .collect()
}

#[component]
pub fn MessageList() -> Element {
    let session = use_context::<Session>();
    let elements = use_context::<Elements>();
    let view = session.view;
    // Formatting every message's time goes through Intl: done when the log or the look change.
    let rows = use_memo(move || {
        let look = view.look.read();
        rows(
            &view.log.read(),
            look.locale.as_deref().unwrap_or("en-US"),
            (view.seen)(),
        )
    });
    let has_older = view.log.read().has_older();
    let phase = (view.phase)();
    let greeting = view.look.read().greeting.clone();
    // Closed now: the away message and when people are back, in the visitor's time and words.
    let away = {
        let look = view.look.read();
        look.away.clone().map(|(message, opens_at)| {
            let back = opens_at.map(|ms| {
                let options = js_sys::Object::new();
                for (k, v) in [
                    ("weekday", "long"),
                    ("hour", "numeric"),
                    ("minute", "2-digit"),
                ] {
                    let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
                }
                let when = crate::net::local_time(
                    ms,
                    look.locale.as_deref().unwrap_or("en-US"),
                    &options,
                    false,
                );
                crate::i18n::tf(
                    "away.back",
                    &[("when", edgechat_core::i18n::Arg::Str(&when))],
                )
            });
            (message, back)
        })
    };
    let mut log_el = view.log_el;
    let s = session.clone();
    let on_scroll = move |_| {
        let near_top = s
            .view
            .log_el
            .peek()
            .as_ref()
            .is_some_and(|el| el.scroll_top() < 48);
        if near_top && s.view.log.peek().has_older() {
            spawn(s.clone().load_older());
        }
    };
    let s = session.clone();
    rsx! {
        div {
            class: "log",
            role: "log",
            aria_live: "polite",
            aria_label: t("log"),
            tabindex: "0",
            onmounted: move |e| log_el.set(e.data().downcast::<web_sys::Element>().cloned()),
            onscroll: on_scroll,
            if has_older && phase == Phase::Ready {
                button {
                    class: "link older",
                    r#type: "button",
                    onclick: move |_| {
                        spawn(s.clone().load_older());
                    },
                    if (view.loading_older)() { {t("log.loading")} } else { {t("log.older")} }
                }
            }
            if let Some((message, back)) = away {
                div { class: "away", role: "status",
                    p { dir: "auto", "{message}" }
                    if let Some(back) = back {
                        p { class: "back", "{back}" }
                    }
                }
            }
            if let Some(greeting) = greeting {
                div { class: "msg", p { class: "bubble", dir: "auto", "{greeting}" } }
            }
            if let Some(form) = (view.pre_chat)() {
                super::prechat::PreChatForm { form }
            }
            if let Some(notice) = (view.notice)() {
                p { class: "notice", {t(notice)} }
            }
            for row in rows.read().iter() {
                MessageRow { key: "{row.key}", row: row.clone() }
            }
            if (view.ending)() == Ending::Ended {
                div { class: "ended", role: "status",
                    p { {t("ended")} }
                    button {
                        class: "primary",
                        r#type: "button",
                        onclick: move |_| {
                            // The next message starts the new conversation.
                            view.ending.clone().set(Ending::No);
                            view.log.clone().write().restart();
                            super::focus_later(elements.composer.peek().clone());
                        },
                        {t("ended.new")}
                    }
                }
            }
            if phase == Phase::Connecting {
                p { class: "status", {t("connecting")} }
            }
        }
    }
}

#[component]
fn MessageRow(row: Row) -> Element {
    let session = use_context::<Session>();
    rsx! {
        div { class: row.class,
            if let Some(author) = row.author.as_ref() {
                span { class: "meta", "{author}" }
            }
            if let Some(size) = row.file {
                p { class: "bubble file", dir: "auto", "{row.body} · {crate::i18n::size(size)}" }
                if row.class.ends_with("out") {
                    progress { aria_label: t("file.uploading") }
                }
            } else if !row.body.is_empty() {
                p { class: "bubble", dir: "auto",
                    // Text stays text; only http(s) and mailto addresses become links.
                    for piece in pieces(&row.body) {
                        match piece {
                            Piece::Text(text) => rsx! { "{text}" },
                            Piece::Link(href) => rsx! {
                                a { href: "{href}", target: "_blank", rel: "noopener noreferrer nofollow", "{href}" }
                            },
                        }
                    }
                }
            }
            for media in row.media.iter() {
                Attachment { key: "{media.sid}", media: media.clone() }
            }
            span { class: "meta",
                "{row.meta}"
                if let Some(local_id) = row.retry {
                    button {
                        class: "link",
                        r#type: "button",
                        onclick: move |_| session.retry(local_id),
                        if row.gone { {t("file.remove.sent")} } else { {t("message.retry")} }
                    }
                }
            }
        }
    }
}

/// An attachment of a stored message. Its link comes from the media service when it is drawn
/// (and again when it is older than four minutes: links expire after five). Raster images show
/// inline in a box of fixed size (nothing below moves as they load) and open full size; any
/// other file, SVG and HTML included, is a download link: nothing received runs.
#[component]
fn Attachment(media: Media) -> Element {
    let session = use_context::<Session>();
    let mut link = use_signal(|| None::<(String, u64)>);
    let sid = media.sid.clone();
    let fetch = move || {
        let sid = sid.clone();
        spawn(async move {
            if let Some(url) = crate::sdk::media_url(&sid).await {
                link.set(Some((url, crate::net::now_ms())));
            }
        });
    };
    let first = fetch.clone();
    use_hook(first);
    let refresh = move || {
        if link
            .peek()
            .as_ref()
            .is_some_and(|(_, at)| crate::net::now_ms() - at > 240_000)
        {
            fetch();
        }
    };
    let name = media.filename.clone().unwrap_or_else(|| media.sid.clone());
    let url = link().map(|(url, _)| url);
    if shows_inline(&media.content_type) {
        let alt = name.clone();
        rsx! {
            button {
                class: "shot",
                r#type: "button",
                aria_label: tf("file.view", &[("name", Arg::Str(&name))]),
                onpointerenter: {
                    let r = refresh.clone();
                    move |_| r()
                },
                onfocus: move |_| refresh(),
                onclick: move |_| {
                    if let Some(url) = link.peek().as_ref() {
                        session.view.viewer.clone().set(Some((url.0.clone(), alt.clone())));
                    }
                },
                if let Some(url) = url {
                    img { src: "{url}", alt: "{name}", loading: "lazy", width: "240", height: "180" }
                }
            }
        }
    } else {
        rsx! {
            a {
                class: "bubble file",
                href: url.unwrap_or_default(),
                download: "{name}",
                target: "_blank",
                rel: "noopener noreferrer",
                onpointerenter: {
                    let r = refresh.clone();
                    move |_| r()
                },
                onfocus: move |_| refresh(),
                "{name} · {crate::i18n::size(media.size)}"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat_core::chat::message_log::Message;

    const ME: &str = "visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";

    fn message(index: u64, author: &str, body: &str) -> Message {
        // created_ms 0: no time to format (Intl is the browser's).
        Message {
            index,
            author: author.into(),
            body: body.into(),
            created_ms: 0,
            local_id: None,
            media: Vec::new(),
        }
    }

    #[test]
    fn rows_group_authors_mark_own_messages_and_offer_retry_on_failure() {
        let mut log = MessageLog::new(ME).with_first_local_id(100);
        log.add_page(
            vec![
                message(0, "agent:ana", "Hi"),
                message(1, "agent:ana", "How can I help?"),
                message(2, ME, "A question"),
                message(3, "agent:ana", "Sure"),
            ],
            false,
        );
        let (sending, _) = log.start_send("still going").unwrap();
        let (failing, _) = log.start_send("lost").unwrap();
        log.send_failed(failing, "Not sent.");
        let rows = rows(&log, "en-US", None);
        let authors: Vec<_> = rows.iter().map(|r| r.author.as_deref()).collect();
        assert_eq!(
            authors,
            [Some("ana"), None, None, Some("ana"), None, None],
            "an author is named once per run of their messages, never for the visitor"
        );
        let classes: Vec<_> = rows.iter().map(|r| r.class).collect();
        assert_eq!(
            classes,
            [
                "msg",
                "msg",
                "msg own",
                "msg",
                "msg own out",
                "msg own failed"
            ]
        );
        assert_eq!(rows[4].key, format!("o{sending}"));
        assert_eq!((rows[4].meta.as_str(), rows[4].retry), ("Sending…", None));
        assert_eq!(
            (rows[5].meta.as_str(), rows[5].retry),
            ("Not sent.", Some(failing))
        );
        assert_eq!(rows[0].key, "m0");
    }

    #[test]
    fn the_visitors_newest_message_shows_seen_once_an_agent_read_it() {
        let mut log = MessageLog::new(ME);
        log.add_page(
            vec![
                message(0, ME, "First"),
                message(1, "agent:ana", "Hi"),
                message(2, ME, "Second"),
                message(3, "agent:ana", "Reading"),
            ],
            false,
        );
        let metas = |seen| -> Vec<String> {
            rows(&log, "en-US", seen)
                .into_iter()
                .map(|r| r.meta)
                .collect()
        };
        assert_eq!(metas(None), ["", "", "", ""]);
        assert_eq!(
            metas(Some(1)),
            ["", "", "", ""],
            "the newest own message is not read yet"
        );
        assert_eq!(metas(Some(2)), ["", "", "Seen", ""]);
        assert_eq!(
            metas(Some(3)),
            ["", "", "Seen", ""],
            "only the newest own message says it"
        );
    }
}
