//! The panel: a non-modal dialog with the header, the banners (connection lost, typing, failure),
//! the message log and the composer. Escape closes it.

use dioxus::prelude::*;

use super::composer::Composer;
use super::messages::MessageList;
use super::{set_open, Elements, CLOSE_ICON};
use crate::i18n::{t, tf};
use crate::session::{Ending, Failure, Phase, Session};
use edgechat_core::i18n::Arg;

/// Three dots: the panel's menu.
const MORE_ICON: &str = "M5 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm7 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm7 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4z";

fn failure_text(failure: Failure) -> String {
    match failure {
        Failure::Unavailable => t("failure.unavailable"),
        Failure::CantConnect => t("failure.connect"),
        Failure::NotSetUp => t("failure.setup"),
        Failure::Busy(seconds) => tf("failure.busy", &[("seconds", Arg::Num(seconds as f64))]),
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
    let (title, ask_rating, sound) = {
        let look = view.look.read();
        (look.shown_title(), look.ask_rating, look.sound)
    };
    let mut menu = use_signal(|| false);
    let menu_open = menu();
    let mut muted = use_signal(|| session.muted());
    // The rating given as the visitor ends: thumbs up (true) or down, and a comment.
    let mut score = use_signal(|| None::<bool>);
    let mut comment = use_signal(String::new);
    let chat = (view.active)() || (view.ending)() == Ending::Ended;
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
                    // The full-size image first, then the panel.
                    if view.viewer.peek().is_some() {
                        view.viewer.clone().set(None);
                        super::focus_later(elements.composer.peek().clone());
                    } else {
                        set_open(&s, elements, false);
                    }
                }
            },
            // Files dropped anywhere on the panel are attached (and never open in the page).
            ondragover: move |e: DragEvent| e.prevent_default(),
            ondrop: {
                let s = session.clone();
                move |e: DragEvent| {
                    e.prevent_default();
                    let files = e
                        .data()
                        .downcast::<web_sys::DragEvent>()
                        .and_then(|d| d.data_transfer())
                        .and_then(|d| d.files())
                        .map(|list| super::files_of(&list))
                        .unwrap_or_default();
                    s.choose(files);
                }
            },
            div { class: "head",
                h2 { id: "ec-title", "{title}" }
                if chat || sound {
                    button {
                        class: "icon",
                        r#type: "button",
                        aria_label: t("menu"),
                        aria_haspopup: "menu",
                        aria_expanded: "{menu_open}",
                        aria_controls: "ec-menu",
                        onclick: move |_| menu.set(!menu_open),
                        svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: MORE_ICON } }
                    }
                }
                button {
                    class: "icon",
                    r#type: "button",
                    aria_label: t("close"),
                    onclick: {
                        let s = session.clone();
                        move |_| set_open(&s, elements, false)
                    },
                    svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: CLOSE_ICON } }
                }
            }
            if menu_open {
                div { id: "ec-menu", class: "menu", role: "menu", aria_label: t("menu"),
                    if sound {
                        button {
                            role: "menuitemcheckbox",
                            r#type: "button",
                            aria_checked: "{!muted()}",
                            onmounted: move |e| super::focus_later(super::html_element(&e)),
                            onclick: {
                                let s = session.clone();
                                move |_| {
                                    let now = !muted();
                                    s.set_muted(now);
                                    muted.set(now);
                                }
                            },
                            {t("menu.sound")}
                        }
                    }
                    if chat {
                    button {
                        role: "menuitem",
                        r#type: "button",
                        onmounted: move |e| if !sound { super::focus_later(super::html_element(&e)) },
                        onclick: {
                            let s = session.clone();
                            move |_| {
                                menu.set(false);
                                spawn(s.clone().download_transcript());
                            }
                        },
                        {t("menu.transcript")}
                    }
                    }
                    if (view.active)() && (view.ending)() == Ending::No {
                        button {
                            role: "menuitem",
                            r#type: "button",
                            onclick: move |_| {
                                menu.set(false);
                                view.ending.clone().set(Ending::Asking);
                            },
                            {t("menu.end")}
                        }
                    }
                }
            }
            match (view.ending)() {
                Ending::Asking => rsx! {
                    div { class: "confirm", role: "group", aria_label: t("menu.end"),
                        p { {t("end.confirm")} }
                        if ask_rating {
                            div { class: "rate", role: "group", aria_label: t("end.rate"),
                                p { {t("end.rate.ask")} }
                                for (up, label, face) in [(true, t("end.good"), "👍"), (false, t("end.bad"), "👎")] {
                                    button {
                                        class: "icon",
                                        r#type: "button",
                                        aria_label: "{label}",
                                        aria_pressed: "{score() == Some(up)}",
                                        onclick: move |_| score.set(if score() == Some(up) { None } else { Some(up) }),
                                        "{face}"
                                    }
                                }
                                if score().is_some() {
                                    textarea {
                                        aria_label: t("end.comment"),
                                        placeholder: t("end.comment.placeholder"),
                                        maxlength: "1000",
                                        rows: "2",
                                        value: "{comment}",
                                        oninput: move |e| comment.set(e.value()),
                                    }
                                }
                            }
                        }
                        button {
                            class: "primary",
                            r#type: "button",
                            onmounted: move |e| super::focus_later(super::html_element(&e)),
                            onclick: {
                                let s = session.clone();
                                move |_| {
                                    let rating = score().map(|up| crate::net::Rating {
                                        up,
                                        comment: comment.peek().clone(),
                                    });
                                    s.end_conversation(rating)
                                }
                            },
                            {t("end.submit")}
                        }
                        button {
                            class: "link",
                            r#type: "button",
                            onclick: move |_| view.ending.clone().set(Ending::No),
                            {t("end.cancel")}
                        }
                    }
                },
                Ending::Working => rsx! { p { class: "confirm", role: "status", {t("end.working")} } },
                _ => rsx! {},
            }
            if (view.reconnecting)() {
                p { class: "problem", role: "status", {t("reconnecting")} }
            }
            MessageList {}
            p { class: "typing",
                if let Some(who) = (view.typing)() { {tf("typing", &[("name", Arg::Str(&who))])} }
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
                            {t("retry.connect")}
                        }
                    }
                }
            }
            Composer {}
            if let Some((src, alt)) = (view.viewer)() {
                div { class: "viewer", role: "dialog", aria_modal: "true", aria_label: "{alt}",
                    onclick: move |_| {
                        view.viewer.clone().set(None);
                        super::focus_later(elements.composer.peek().clone());
                    },
                    img { src: "{src}", alt: "{alt}" }
                    button {
                        class: "icon",
                        r#type: "button",
                        aria_label: t("file.close"),
                        onmounted: move |e| super::focus_later(super::html_element(&e)),
                        svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: CLOSE_ICON } }
                    }
                }
            }
        }
    }
}
