//! The launcher: opens and closes the panel; its name and badge say how many messages are unread.

use dioxus::prelude::*;

use super::{html_element, run, Elements, CLOSE_ICON};
use crate::i18n::{t, tf};
use crate::session::Session;
use crate::Command;
use edgechat_core::i18n::Arg;

const CHAT_ICON: &str = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";

fn label(open: bool, unread: usize) -> String {
    match (open, unread) {
        (true, _) => t("close"),
        (false, 0) => t("launcher.open"),
        (false, n) => tf("launcher.unread", &[("count", Arg::Num(n as f64))]),
    }
}

#[component]
pub fn Launcher() -> Element {
    let session = use_context::<Session>();
    let elements = use_context::<Elements>();
    let view = session.view;
    // Derived from the log; the launcher renders again only when the log, the horizon or
    // `open` change, never on a keystroke.
    let unread = view.log.read().unread_after((view.read_horizon)());
    let open = (view.open)();
    // (The look changes with the language: the label is said in it.)
    let _ = view.look.read();
    // The host page hears of every change of the count (`edgechat:unread {count}`).
    let announced = use_hook(|| std::rc::Rc::new(std::cell::Cell::new(0usize)));
    if unread != announced.replace(unread) {
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"count".into(), &(unread as f64).into());
        crate::net::dispatch("unread", &detail);
    }
    let mut launcher_el = elements.launcher;
    rsx! {
        button {
            class: "launcher",
            r#type: "button",
            // The page's `hide` (its own button opens the chat); the open panel stays.
            hidden: !(view.launcher_shown)(),
            aria_label: "{label(open, unread)}",
            aria_expanded: "{open}",
            aria_haspopup: "dialog",
            aria_controls: "ec-panel",
            onmounted: move |e| launcher_el.set(html_element(&e)),
            onclick: move |_| run(&session, elements, Command::Toggle),
            svg { view_box: "0 0 24 24", "aria-hidden": "true",
                path { d: if open { CLOSE_ICON } else { CHAT_ICON } }
            }
            if unread > 0 && !open {
                span { class: "badge", aria_hidden: "true", "{unread}" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn the_launcher_says_what_it_does_and_how_much_is_unread() {
        assert_eq!(label(true, 3), "Close chat");
        assert_eq!(label(false, 0), "Open chat");
        assert_eq!(label(false, 1), "Open chat, 1 unread message");
        assert_eq!(label(false, 12), "Open chat, 12 unread messages");
    }
}
