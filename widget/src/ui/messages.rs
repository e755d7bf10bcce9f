//! The message log (`role=log`, polite): earlier pages on scroll or button, the greeting, the
//! notice, one row per message. Rows are derived from the log with `use_memo` and each row is a
//! component with its own props, so a keystroke in the composer renders none of this, and a new
//! message renders only the rows that changed.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::{Entry, MessageLog, SendState};
use wasm_bindgen::JsValue;

use crate::session::{display_author, Phase, Session};

/// One line of the log, owned, for rendering.
#[derive(Clone, PartialEq)]
pub struct Row {
    key: String,
    class: &'static str,
    author: Option<String>,
    body: String,
    meta: String,
    retry: Option<u64>,
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
    OPTIONS.with(|options| {
        js_sys::Date::new(&JsValue::from_f64(ms as f64))
            .to_locale_time_string_with_options(locale, options)
            .into()
    })
}

fn rows(log: &MessageLog, locale: &str) -> Vec<Row> {
    let mut previous_author: Option<String> = None;
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
                    meta: time(message.created_ms, locale),
                    retry: None,
                }
            }
            Entry::Outgoing(o) => {
                previous_author = None;
                let (class, meta, retry) = match &o.state {
                    SendState::Sending => ("msg own", "Sending…".to_owned(), None),
                    SendState::Sent { .. } => ("msg own", "Sent".to_owned(), None),
                    SendState::Failed { reason } => {
                        ("msg own failed", reason.clone(), Some(o.local_id))
                    }
                };
                Row {
                    key: format!("o{}", o.local_id),
                    class,
                    author: None,
                    body: o.body.clone(),
                    meta,
                    retry,
                }
            }
        })
        .collect()
}

#[component]
pub fn MessageList() -> Element {
    let session = use_context::<Session>();
    let view = session.view;
    // Formatting every message's time goes through Intl: done when the log or the look change.
    let rows = use_memo(move || {
        let look = view.look.read();
        rows(&view.log.read(), look.locale.as_deref().unwrap_or("en-US"))
    });
    let has_older = view.log.read().has_older();
    let phase = (view.phase)();
    let greeting = view.look.read().greeting.clone();
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
            aria_label: "Messages",
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
                    if (view.loading_older)() { "Loading earlier messages…" } else { "Show earlier messages" }
                }
            }
            if let Some(greeting) = greeting {
                div { class: "msg", p { class: "bubble", "{greeting}" } }
            }
            if let Some(notice) = (view.notice)() {
                p { class: "notice", "{notice}" }
            }
            for row in rows.read().iter() {
                MessageRow { key: "{row.key}", row: row.clone() }
            }
            if phase == Phase::Connecting {
                p { class: "status", "Connecting…" }
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
            p { class: "bubble", "{row.body}" }
            span { class: "meta",
                "{row.meta}"
                if let Some(local_id) = row.retry {
                    button {
                        class: "link",
                        r#type: "button",
                        onclick: move |_| session.retry(local_id),
                        "Retry"
                    }
                }
            }
        }
    }
}
