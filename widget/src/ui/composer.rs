//! The composer: Enter sends, Shift+Enter adds a line, the textarea grows to 120 px; a draft
//! that cannot be sent stays with the reason below it. The only component that reads the draft.

use dioxus::prelude::*;
use wasm_bindgen::JsCast;

use crate::i18n::t;

use super::{html_element, Elements};
use crate::session::{Phase, Session};

const ATTACH_ICON: &str = "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z";
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
    // A pasted image (a screenshot) is attached; pasted text stays text.
    let s = session.clone();
    let on_paste = move |e: ClipboardEvent| {
        let event = e.data().downcast::<web_sys::Event>().cloned();
        let files = event
            .and_then(|ev| ev.dyn_into::<web_sys::ClipboardEvent>().ok())
            .and_then(|ev| ev.clipboard_data())
            .and_then(|data| data.files())
            .map(|list| super::files_of(&list))
            .unwrap_or_default();
        if !files.is_empty() && s.view.attachments.peek().is_some() {
            e.prevent_default();
            s.choose(files);
        }
    };
    let policy = (view.attachments)();
    let chosen = (view.chosen)();
    let s = session.clone();
    let s2 = session.clone();
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
        if !chosen.is_empty() {
            ul { class: "chosen", aria_label: t("file.chosen"),
                for c in chosen {
                    li { key: "{c.id}",
                        if let Some(src) = c.preview.as_ref() {
                            img { src: "{src}", alt: "" }
                        }
                        span { "{c.name} · {crate::i18n::size(c.info.size)}" }
                        button {
                            class: "icon",
                            r#type: "button",
                            aria_label: crate::i18n::tf("file.remove", &[("name", edgechat_core::i18n::Arg::Str(&c.name))]),
                            onclick: {
                                let s = s2.clone();
                                let id = c.id;
                                move |_| s.unchoose(id)
                            },
                            svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: super::CLOSE_ICON } }
                        }
                    }
                }
            }
        }
        form { class: "composer", onsubmit: submit,
            if let Some(policy) = policy {
                label { class: "icon attach", title: t("file.attach"),
                    input {
                        r#type: "file",
                        class: "sr",
                        aria_label: t("file.attach"),
                        multiple: policy.max_files > 1,
                        accept: "{super::accept(&policy)}",
                        onchange: move |e| {
                            let input = e.data().downcast::<web_sys::Event>().and_then(|ev| ev.target()).and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                            if let Some(input) = input {
                                if let Some(list) = input.files() {
                                    s.choose(super::files_of(&list));
                                }
                                // The same file can be picked again after a removal.
                                input.set_value("");
                            }
                        },
                    }
                    svg { view_box: "0 0 24 24", "aria-hidden": "true", path { d: ATTACH_ICON } }
                }
            }
            textarea {
                aria_label: t("composer"),
                placeholder: t("composer.placeholder"),
                rows: "1",
                value: "{draft}",
                oninput: on_input,
                onkeydown: on_key,
                onpaste: on_paste,
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
