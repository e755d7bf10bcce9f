//! The view: the launcher (with its unread badge) and the panel, a non-modal dialog with a
//! header, the message log (`role=log`, polite) and the composer. Focus: opening moves it to the
//! composer, closing returns it to the launcher when it was inside the widget, Escape closes.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::{Entry, MessageLog, SendState};
use futures_util::StreamExt;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlElement;

use crate::net;
use crate::session::{display_author, new_log, Failure, Look, Phase, Session, View};
use crate::{Command, Event};

/// The Paste tokens the stylesheet uses, then src/widget.css (both from build.rs).
const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.css"));

const CHAT_ICON: &str = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
const CLOSE_ICON: &str = "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 0 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z";
const SEND_ICON: &str = "M3.4 20.4 20.9 12.9a1 1 0 0 0 0-1.8L3.4 3.6a1 1 0 0 0-1.4 1.2L4.4 11 14 12l-9.6 1-2.4 6.2a1 1 0 0 0 1.4 1.2z";

#[derive(Clone, Copy)]
struct Elements {
    launcher: Signal<Option<HtmlElement>>,
    composer: Signal<Option<HtmlElement>>,
}

fn html_element(event: &MountedEvent) -> Option<HtmlElement> {
    event
        .data()
        .downcast::<web_sys::Element>()
        .and_then(|el| el.clone().dyn_into().ok())
}

/// Whether focus is inside the widget's shadow root.
fn focus_inside(el: &HtmlElement) -> bool {
    el.get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .ok()
        .and_then(|root| root.active_element())
        .is_some()
}

fn focus_later(el: Option<HtmlElement>) {
    if let Some(el) = el {
        wasm_bindgen_futures::spawn_local(async move {
            net::next_frame().await;
            let _ = el.focus();
        });
    }
}

fn set_open(session: &Session, elements: Elements, open: bool) {
    let view = session.view;
    let mut open_signal = view.open;
    if *open_signal.peek() == open {
        if open {
            focus_later(elements.composer.peek().clone());
        }
        return;
    }
    open_signal.set(open);
    net::dispatch(if open { "open" } else { "close" }, &JsValue::UNDEFINED);
    if open {
        session.mark_read();
        match *view.phase.peek() {
            Phase::Idle => {
                spawn(session.clone().connect());
            }
            Phase::Failed(_) => session.retry_connect(),
            _ => {}
        }
        focus_later(elements.composer.peek().clone());
        session.stick_to_bottom(true);
    } else if let Some(launcher) = elements.launcher.peek().clone() {
        if focus_inside(&launcher) {
            let _ = launcher.focus();
        }
    }
}

fn run(session: &Session, elements: Elements, command: Command) {
    let open = match command {
        Command::Open => true,
        Command::Close => false,
        Command::Toggle => !*session.view.open.peek(),
    };
    set_open(session, elements, open);
}

/// One line of the log, owned, for rendering.
#[derive(Clone, PartialEq)]
struct Row {
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
        // Built once: every render formats every message's time.
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

fn failure_text(failure: Failure) -> &'static str {
    match failure {
        Failure::Unavailable => "Chat is unavailable right now.",
        Failure::CantConnect => "Can't connect to chat. Check your connection, then try again.",
        Failure::NotSetUp => "Chat isn't available on this page.",
    }
}

#[component]
pub fn App() -> Element {
    let view = View {
        open: use_signal(|| false),
        phase: use_signal(|| Phase::Idle),
        log: use_signal(|| new_log(String::new())),
        notice: use_signal(|| None),
        unread: use_signal(|| 0),
        typing: use_signal(|| None),
        reconnecting: use_signal(|| false),
        look: use_signal(|| Look {
            title: "Chat".into(),
            ..Look::default()
        }),
        draft: use_signal(String::new),
        draft_error: use_signal(|| None),
        loading_older: use_signal(|| false),
        log_el: use_signal(|| None),
    };
    let elements = Elements {
        launcher: use_signal(|| None),
        composer: use_signal(|| None),
    };
    let (session, focus_launcher, open_now) = use_hook(|| {
        let start = crate::take_start().expect("mount() sets the start parameters");
        let session = Session::new(view, start.site, start.base, start.realm_parent);
        let handler = session.clone();
        let mut events = start.events;
        spawn(async move {
            while let Some(event) = events.next().await {
                match event {
                    Event::Command(command) => run(&handler, elements, command),
                    other => handler.handle(other),
                }
            }
        });
        if !start.open && session.has_stored_conversation() {
            // A returning visitor: connect in the background to show what is unread.
            spawn(session.clone().connect());
        }
        (session, start.focus_launcher, start.open)
    });
    // After the first render: `edgechat:ready`, then the open the visitor asked for.
    use_effect(move || {
        if focus_launcher {
            if let Some(el) = elements.launcher.peek().clone() {
                let _ = el.focus();
            }
        }
        net::dispatch("ready", &JsValue::UNDEFINED);
        if open_now {
            crate::post(Event::Command(Command::Open));
        }
    });

    let look = view.look.read().clone();
    let open = (view.open)();
    let phase = (view.phase)();
    let unread = (view.unread)();
    let locale = look.locale.clone().unwrap_or_else(|| "en-US".into());
    let (rows, has_older) = {
        let log = view.log.read();
        (rows(&log, &locale), log.has_older())
    };
    let brand = look
        .brand_color
        .as_ref()
        .map(|c| format!("--ec-brand:{c}"))
        .unwrap_or_default();
    let launcher_label = match (open, unread) {
        (true, _) => "Close chat".to_owned(),
        (false, 0) => "Open chat".to_owned(),
        (false, 1) => "Open chat, 1 unread message".to_owned(),
        (false, n) => format!("Open chat, {n} unread messages"),
    };
    let ready = phase == Phase::Ready;

    let s = session.clone();
    let toggle = move |_| run(&s, elements, Command::Toggle);
    let s = session.clone();
    let close = move |_| set_open(&s, elements, false);
    let s = session.clone();
    let on_panel_key = move |e: KeyboardEvent| {
        if e.key() == Key::Escape {
            e.stop_propagation();
            set_open(&s, elements, false);
        }
    };
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
    let older = move |_| {
        spawn(s.clone().load_older());
    };
    let s = session.clone();
    let submit = move |e: FormEvent| {
        e.prevent_default();
        s.send_draft();
    };
    let s = session.clone();
    let on_key = move |e: KeyboardEvent| {
        if e.key() == Key::Enter && !e.modifiers().shift() && !e.is_composing() {
            e.prevent_default();
            s.send_draft();
        }
    };
    let s = session.clone();
    let mut draft = view.draft;
    let mut draft_error = view.draft_error;
    let on_input = move |e: FormEvent| {
        draft.set(e.value());
        if draft_error.peek().is_some() {
            draft_error.set(None);
        }
        s.typed();
        if let Some(el) = elements.composer.peek().as_ref() {
            let style = el.style();
            let _ = style.set_property("height", "auto");
            let height = el.scroll_height().min(120);
            let _ = style.set_property("height", &format!("{height}px"));
        }
    };
    let s = session.clone();
    let try_again = move |_| s.retry_connect();
    let mut log_el = view.log_el;
    let mut launcher_el = elements.launcher;
    let mut composer_el = elements.composer;

    rsx! {
        style { {CSS} }
        div { class: if look.bottom_left { "ec left" } else { "ec" }, style: "{brand}",
            button {
                class: "launcher",
                r#type: "button",
                aria_label: "{launcher_label}",
                aria_expanded: "{open}",
                aria_haspopup: "dialog",
                aria_controls: "ec-panel",
                onmounted: move |e| launcher_el.set(html_element(&e)),
                onclick: toggle,
                svg { view_box: "0 0 24 24", "aria-hidden": "true",
                    path { d: if open { CLOSE_ICON } else { CHAT_ICON } }
                }
                if unread > 0 && !open {
                    span { class: "badge", aria_hidden: "true", "{unread}" }
                }
            }
            div {
                id: "ec-panel",
                class: "panel",
                role: "dialog",
                aria_modal: "false",
                aria_labelledby: "ec-title",
                hidden: !open,
                onkeydown: on_panel_key,
                div { class: "head",
                    h2 { id: "ec-title", "{look.title}" }
                    button { class: "icon", r#type: "button", aria_label: "Close chat", onclick: close,
                        svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: CLOSE_ICON } }
                    }
                }
                if (view.reconnecting)() {
                    p { class: "problem", role: "status", "Connection lost. Reconnecting…" }
                }
                div {
                    class: "log",
                    role: "log",
                    aria_live: "polite",
                    aria_label: "Messages",
                    tabindex: "0",
                    onmounted: move |e| log_el.set(e.data().downcast::<web_sys::Element>().cloned()),
                    onscroll: on_scroll,
                    if has_older && ready {
                        button { class: "link older", r#type: "button", onclick: older,
                            if (view.loading_older)() { "Loading earlier messages…" } else { "Show earlier messages" }
                        }
                    }
                    if let Some(greeting) = look.greeting.as_ref() {
                        div { class: "msg", p { class: "bubble", "{greeting}" } }
                    }
                    if let Some(notice) = (view.notice)() {
                        p { class: "notice", "{notice}" }
                    }
                    for row in rows {
                        div { key: "{row.key}", class: row.class,
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
                                        onclick: {
                                            let s = session.clone();
                                            move |_| s.retry(local_id)
                                        },
                                        "Retry"
                                    }
                                }
                            }
                        }
                    }
                    if phase == Phase::Connecting {
                        p { class: "status", "Connecting…" }
                    }
                }
                p { class: "typing",
                    if let Some(who) = (view.typing)() { "{who} is typing…" }
                }
                if let Phase::Failed(failure) = phase {
                    div { class: "problem", role: "alert",
                        "{failure_text(failure)}"
                        if failure != Failure::NotSetUp {
                            button { class: "link", r#type: "button", onclick: try_again, "Try again" }
                        }
                    }
                }
                form { class: "composer", onsubmit: submit,
                    textarea {
                        aria_label: "Message",
                        placeholder: "Type a message…",
                        rows: "1",
                        value: "{draft}",
                        oninput: on_input,
                        onkeydown: on_key,
                        onmounted: move |e| composer_el.set(html_element(&e)),
                    }
                    button {
                        class: "icon send",
                        r#type: "submit",
                        aria_label: "Send",
                        aria_disabled: "{!ready}",
                        svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: SEND_ICON } }
                    }
                }
                if let Some(error) = (view.draft_error)() {
                    p { class: "error", role: "alert", "{error}" }
                }
            }
        }
    }
}
