//! The panel: a non-modal dialog with the header, the banners (connection lost, typing, failure),
//! the message log and the composer. Escape closes it.

use dioxus::prelude::*;

use super::composer::Composer;
use super::messages::MessageList;
use super::{set_open, Elements, CLOSE_ICON};
use crate::session::{Failure, Phase, Session};

fn failure_text(failure: Failure) -> String {
    match failure {
        Failure::Unavailable => "Chat is unavailable right now.".into(),
        Failure::CantConnect => {
            "Can't connect to chat. Check your connection, then try again.".into()
        }
        Failure::NotSetUp => "Chat isn't available on this page.".into(),
        Failure::Busy(seconds) => format!("Chat is busy right now. Retrying in {seconds} s…"),
    }
}

/// The panel and its banners. It reads `open`, the phase, the title, the connection and the
/// agent's typing; the log and the composer are components of their own, which its renders
/// leave alone.
#[component]
pub fn Panel() -> Element {
    let session = use_context::<Session>();
    let elements = use_context::<Elements>();
    let view = session.view;
    let open = (view.open)();
    let title = view.look.read().title.clone();
    let s = session.clone();
    rsx! {
        div {
            id: "ec-panel",
            class: "panel",
            role: "dialog",
            aria_modal: "false",
            aria_labelledby: "ec-title",
            hidden: !open,
            onkeydown: move |e: KeyboardEvent| {
                if e.key() == Key::Escape {
                    e.stop_propagation();
                    set_open(&s, elements, false);
                }
            },
            div { class: "head",
                h2 { id: "ec-title", "{title}" }
                button {
                    class: "icon",
                    r#type: "button",
                    aria_label: "Close chat",
                    onclick: {
                        let s = session.clone();
                        move |_| set_open(&s, elements, false)
                    },
                    svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: CLOSE_ICON } }
                }
            }
            if (view.reconnecting)() {
                p { class: "problem", role: "status", "Connection lost. Reconnecting…" }
            }
            MessageList {}
            p { class: "typing",
                if let Some(who) = (view.typing)() { "{who} is typing…" }
            }
            if let Phase::Failed(failure) = (view.phase)() {
                div { class: "problem", role: "alert",
                    "{failure_text(failure)}"
                    if !matches!(failure, Failure::NotSetUp | Failure::Busy(_)) {
                        button {
                            class: "link",
                            r#type: "button",
                            onclick: {
                                let s = session.clone();
                                move |_| s.retry_connect()
                            },
                            "Try again"
                        }
                    }
                }
            }
            Composer {}
        }
    }
}
