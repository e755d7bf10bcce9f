//! The composer: Enter sends, Shift+Enter adds a line, the textarea grows to 120 px; a draft
//! that cannot be sent stays with the reason below it. The only component that reads the draft.

use dioxus::prelude::*;

use crate::i18n::t;

use super::{html_element, Elements};
use crate::session::{Phase, Session};

const SEND_ICON: &str = "M3.4 20.4 20.9 12.9a1 1 0 0 0 0-1.8L3.4 3.6a1 1 0 0 0-1.4 1.2L4.4 11 14 12l-9.6 1-2.4 6.2a1 1 0 0 0 1.4 1.2z";

#[component]
pub fn Composer() -> Element {
    let session = use_context::<Session>();
    let elements = use_context::<Elements>();
    let view = session.view;
    // (The look changes with the language: the labels are said in it.)
    let _ = view.look.read();
    let ready = (view.phase)() == Phase::Ready;
    let mut draft = view.draft;
    let mut draft_error = view.draft_error;
    let mut composer_el = elements.composer;
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
    let on_input = move |e: FormEvent| {
        draft.set(e.value());
        if draft_error.peek().is_some() {
            draft_error.set(None);
        }
        session.typed();
        if let Some(el) = elements.composer.peek().as_ref() {
            let style = el.style();
            let _ = style.set_property("height", "auto");
            let height = el.scroll_height().min(120);
            let _ = style.set_property("height", &format!("{height}px"));
        }
    };
    rsx! {
        form { class: "composer", onsubmit: submit,
            textarea {
                aria_label: t("composer"),
                placeholder: t("composer.placeholder"),
                rows: "1",
                value: "{draft}",
                oninput: on_input,
                onkeydown: on_key,
                onmounted: move |e| {
                    let el = html_element(&e);
                    if std::mem::take(&mut *elements.focus_composer.clone().write()) {
                        super::focus_later(el.clone());
                    }
                    composer_el.set(el);
                },
            }
            button {
                class: "icon send",
                r#type: "submit",
                aria_label: t("composer.send"),
                aria_disabled: "{!ready}",
                svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: SEND_ICON } }
            }
        }
        if let Some(error) = draft_error() {
            p { class: "error", role: "alert", "{error}" }
        }
    }
}
