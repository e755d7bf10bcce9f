//! The pre-chat form: the site's fields before the first message. Checked as the Worker checks
//! them (`PreChat::check`, patterns by the browser's `RegExp`); each problem under its field
//! (`aria-invalid`, `aria-describedby`), announced, and focus on the first wrong field. What the
//! visitor typed in the composer (or the shell) waits in the outbox and goes once it is answered.

use std::rc::Rc;

use dioxus::prelude::*;
use edgechat_core::site::pre_chat::{Answer, Kind, PreChat, Problem};
use wasm_bindgen::JsCast;

use crate::i18n::t;
use crate::session::Session;

#[component]
pub fn PreChatForm(form: Rc<PreChat>) -> Element {
    let session = use_context::<Session>();
    let view = session.view;
    let language = view
        .look
        .read()
        .locale
        .clone()
        .unwrap_or_else(|| "en".into());
    // The inputs are the browser's own (uncontrolled: one handler reads them all on submit,
    // which keeps the widget small); what the page prefilled is their initial value.
    let prefill = view.prefill.read().clone();
    let mut problems: Signal<Vec<(String, Problem)>> = use_signal(Vec::new);
    let mut form_el: Signal<Option<web_sys::Element>> = use_signal(|| None);
    let submitted = form.clone();
    let s = session.clone();
    let submit = move |e: FormEvent| {
        e.prevent_default();
        let answers: Vec<(String, Answer)> = e
            .values()
            .into_iter()
            .filter_map(|(name, value)| match value {
                FormValue::Text(text) => Some((name, Answer::Text(text))),
                FormValue::File(_) => None,
            })
            .collect();
        match submitted.check(&answers, &crate::net::pattern_matches) {
            Ok(kept) => {
                problems.set(Vec::new());
                s.pre_chat_answered(kept);
            }
            Err(found) => {
                let first = found.first().map(|(name, _)| name.clone());
                problems.set(found);
                if let (Some(name), Some(el)) = (first, form_el.peek().clone()) {
                    // After the render that marks it.
                    wasm_bindgen_futures::spawn_local(async move {
                        crate::net::next_frame().await;
                        if let Ok(Some(input)) = el.query_selector(&format!("#ec-pc-{name}")) {
                            if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                                let _ = input.focus();
                            }
                        }
                    });
                }
            }
        }
    };
    let problems_now = problems.read().clone();
    rsx! {
        form {
            class: "prechat",
            novalidate: true,
            aria_labelledby: "ec-pc-title",
            onmounted: move |e| form_el.set(e.data().downcast::<web_sys::Element>().cloned()),
            onsubmit: submit,
            p { id: "ec-pc-title", class: "pc-title", {t("prechat.title")} }
            if !problems_now.is_empty() {
                p { class: "error", role: "alert", {t("prechat.fix")} }
            }
            for field in form.fields.iter() {
                {
                    let name = field.name.as_str();
                    let id = format!("ec-pc-{name}");
                    let error_id = format!("ec-pc-{name}-error");
                    let label = field.label.in_language(&language);
                    let problem = problems_now.iter().find(|(n, _)| n == name).map(|(_, p)| *p);
                    let invalid = if problem.is_some() { "true" } else { "false" };
                    let described = if problem.is_some() { error_id.as_str() } else { "" };
                    let initial = prefill
                        .iter()
                        .rev()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let kind = match field.kind {
                        Kind::Email => "email",
                        Kind::Tel => "tel",
                        Kind::Checkbox => "checkbox",
                        _ => "text",
                    };
                    rsx! {
                        div { class: if field.kind == Kind::Checkbox { "field check" } else { "field" }, key: "{name}",
                            if field.kind != Kind::Checkbox {
                                label { r#for: "{id}",
                                    "{label}"
                                    if field.required { span { aria_hidden: "true", " *" } }
                                }
                            }
                            if field.kind == Kind::Select {
                                select {
                                    id: "{id}",
                                    name: "{name}",
                                    required: field.required,
                                    aria_invalid: invalid,
                                    aria_describedby: "{described}",
                                    value: "{initial}",
                                    option { value: "", {t("prechat.choose")} }
                                    for choice in field.options.iter() {
                                        option { value: "{choice.value.as_str()}", "{choice.label.in_language(&language)}" }
                                    }
                                }
                            } else if field.kind == Kind::Textarea {
                                textarea {
                                    id: "{id}",
                                    name: "{name}",
                                    rows: "3",
                                    required: field.required,
                                    aria_invalid: invalid,
                                    aria_describedby: "{described}",
                                    initial_value: "{initial}",
                                }
                            } else {
                                input {
                                    r#type: kind,
                                    id: "{id}",
                                    name: "{name}",
                                    autocomplete: if name == "name" { "name" } else if kind == "text" || kind == "checkbox" { "on" } else { kind },
                                    required: field.required,
                                    aria_invalid: invalid,
                                    aria_describedby: "{described}",
                                    // A checked box says "true" (unchecked, it is not in the form's data).
                                    initial_value: if kind == "checkbox" { "true".to_owned() } else { initial.clone() },
                                    initial_checked: kind == "checkbox" && (initial == "true" || initial == "on"),
                                }
                            }
                            if field.kind == Kind::Checkbox {
                                label { r#for: "{id}", "{label}" }
                            }
                            if let Some(problem) = problem {
                                p { id: "{error_id}", class: "error", {t(problem.key())} }
                            }
                        }
                    }
                }
            }
            button { r#type: "submit", class: "primary", {t("prechat.start")} }
        }
    }
}
