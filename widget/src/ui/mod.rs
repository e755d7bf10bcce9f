//! The view, as small components that each read only the signals they need: the [`launcher`]
//! (with its unread badge) and the [`panel`], a non-modal dialog with a header, banners, the
//! [`messages`] log (`role=log`, polite) and the [`composer`]. Typing re-renders the composer
//! only; the log's rows are derived with `use_memo` and re-render only when the log changes.
//! Focus: opening moves it to the composer, closing returns it to the launcher when it was
//! inside the widget, Escape closes.

mod composer;
mod launcher;
mod messages;
mod panel;
mod prechat;

use dioxus::prelude::*;
use futures_util::StreamExt;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlElement;

use crate::net;
use crate::session::{new_log, Ending, Look, Phase, Session, View};
use crate::{Command, Event};

/// The Paste tokens the stylesheet uses, then src/widget.css (both from build.rs).
/// The files in a browser's list (a picker's, a drop's, a paste's).
pub(crate) fn files_of(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

/// The file picker's `accept`: the types the site takes, by extension and by type.
pub(crate) fn accept(policy: &edgechat_core::site::attachments::Policy) -> String {
    let mut accept = String::new();
    for t in &policy.types {
        if !accept.is_empty() {
            accept.push(',');
        }
        accept.push('.');
        accept.push_str(t.name());
        accept.push(',');
        accept.push_str(t.mime());
    }
    accept
}

const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.css"));

pub(crate) const CLOSE_ICON: &str = "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 0 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z";

/// The elements focus moves between, shared through the context.
#[derive(Clone, Copy)]
pub(crate) struct Elements {
    pub launcher: Signal<Option<HtmlElement>>,
    pub composer: Signal<Option<HtmlElement>>,
    /// The panel opened before the composer was mounted (a click as the app mounts): the
    /// composer takes focus when it is.
    pub focus_composer: Signal<bool>,
}

/// Focus to the composer after the next frame, or as soon as it is mounted.
fn focus_composer(elements: Elements) {
    match elements.composer.peek().clone() {
        Some(composer) => focus_later(Some(composer)),
        None => elements.focus_composer.clone().set(true),
    }
}

/// `showPopover()` on the element, where the browser has it (caught: it throws on one shown).
fn to_top_layer(event: &MountedEvent) {
    if let Some(el) = event.data().downcast::<web_sys::Element>() {
        show_popover(el);
    }
}

/// Puts the app's root in the top layer if it is not there yet. Until then it is not drawn
/// (`[popover]` hides it), and nothing in it takes focus: a focus given before its `onmounted`
/// ran was lost (about 1 visit in 25 on a slow CPU ended with the panel open and focus nowhere).
fn show_popover(el: &web_sys::Element) {
    if el.matches(":popover-open").unwrap_or(true) {
        return;
    }
    if let Ok(show) = js_sys::Reflect::get(el, &"showPopover".into()) {
        if let Ok(show) = show.dyn_into::<js_sys::Function>() {
            let _ = show.call0(el);
        }
    }
}

/// Whether `el` has focus (within its shadow root).
fn has_focus(el: &web_sys::Element) -> bool {
    el.get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .ok()
        .and_then(|root| root.active_element())
        .is_some_and(|active| &active == el)
}

pub(crate) fn html_element(event: &MountedEvent) -> Option<HtmlElement> {
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

pub(crate) fn focus_later(el: Option<HtmlElement>) {
    if let Some(el) = el {
        wasm_bindgen_futures::spawn_local(async move {
            // The panel may not be drawn open yet (a render still pending on a slow CPU), and an
            // element in a hidden panel takes no focus: try again on the next frames.
            for _ in 0..30 {
                net::next_frame().await;
                let _ = el.focus();
                if has_focus(&el) {
                    break;
                }
            }
        });
    }
}

pub(crate) fn set_open(session: &Session, elements: Elements, open: bool) {
    let view = session.view;
    let mut open_signal = view.open;
    if *open_signal.peek() == open {
        if open {
            focus_composer(elements);
        }
        return;
    }
    open_signal.set(open);
    net::dispatch(if open { "open" } else { "close" }, &JsValue::UNDEFINED);
    if open {
        opened(session);
        focus_composer(elements);
    } else if let Some(launcher) = elements.launcher.peek().clone() {
        if focus_inside(&launcher) {
            let _ = launcher.focus();
        }
    }
}

/// What opening does besides showing the panel: everything is read, and a failed connection
/// is tried again.
fn opened(session: &Session) {
    session.mark_read();
    // Read first: a retry sets the phase, which a borrow held by the match would refuse (a
    // panic: opening the panel after a failed connection stopped the widget).
    let phase = *session.view.phase.peek();
    match phase {
        Phase::Idle => {
            spawn(session.clone().connect());
        }
        Phase::Failed(_) => session.retry_connect(),
        _ => {}
    }
    session.stick_to_bottom(true);
}

/// Takes over embed.js's shell (the visitor opened before the app was there): its draft, with
/// the caret and focus where they were, and each message sent from it, which waits for the
/// connection. The panel already rendered open when the shell was; the open was announced.
fn adopt_shell(session: &Session, shell: web_sys::Element) {
    let text = shell
        .query_selector("textarea")
        .ok()
        .flatten()
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok());
    let had_focus = text.as_ref().is_some_and(|t| {
        t.get_root_node()
            .dyn_into::<web_sys::ShadowRoot>()
            .ok()
            .and_then(|root| root.active_element())
            .is_some_and(|active| active == ***t)
    });
    let mut draft = text.as_ref().map(|t| t.value()).unwrap_or_default();
    let caret = text.as_ref().and_then(|t| t.selection_end().ok().flatten());
    let mut sent = Vec::new();
    if let Ok(list) = shell.query_selector_all(".q") {
        for i in 0..list.length() {
            if let Some(body) = list.item(i).and_then(|n| n.text_content()) {
                sent.push(body);
            }
        }
    }
    let composer = shell
        .get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .ok()
        .and_then(|root| root.query_selector(".panel textarea").ok().flatten())
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok());
    shell.remove();
    for body in sent {
        if let Err(reason) = session.send_text(&body) {
            // Too long to send: back into the draft, with the reason (nothing typed is lost).
            draft = if draft.is_empty() {
                body
            } else {
                body + "\n" + &draft
            };
            session.view.draft_error.clone().set(Some(reason));
        }
    }
    if !draft.is_empty() {
        session.view.draft.clone().set(draft.clone());
    }
    if let Some(composer) = composer {
        // At once, not after a frame: a key pressed meanwhile must land in the composer.
        composer.set_value(&draft);
        if had_focus {
            if let Ok(Some(root)) = composer.closest(".ec") {
                show_popover(&root);
            }
            let _ = composer.focus();
            if let Some(caret) = caret {
                let _ = composer.set_selection_range(caret, caret);
            }
            if !has_focus(&composer) {
                focus_later(Some(composer.unchecked_into()));
            }
        }
    }
    if *session.view.open.peek() {
        opened(session);
    }
}

pub(crate) fn run(session: &Session, elements: Elements, command: Command) {
    let open = match command {
        Command::Open => true,
        Command::Close => false,
        Command::Toggle => !*session.view.open.peek(),
        Command::Launcher(shown) => {
            session.view.launcher_shown.clone().set(shown);
            return;
        }
        Command::Identify(user_token) => {
            spawn(session.clone().identify(user_token));
            return;
        }
        Command::SetLocale(tag) => {
            spawn(session.clone().set_locale(tag));
            return;
        }
        Command::Prefill(answers) => {
            session.view.prefill.clone().write().extend(answers);
            return;
        }
        Command::Send(text) => {
            set_open(session, elements, true);
            if let Err(reason) = session.send_text(&text) {
                session.view.draft.clone().set(text);
                session.view.draft_error.clone().set(Some(reason));
            }
            return;
        }
    };
    set_open(session, elements, open);
}

/// The root: makes the view's signals and the session, drains the event channel, and lays out
/// the launcher and the panel. It reads only the look (brand colour, side).
#[component]
pub fn App() -> Element {
    let view = View {
        open: use_signal(crate::shell_open),
        phase: use_signal(|| Phase::Idle),
        log: use_signal(|| new_log(String::new())),
        notice: use_signal(|| None),
        active: use_signal(|| false),
        seen: use_signal(|| None),
        ending: use_signal(|| Ending::No),
        read_horizon: use_signal(|| None),
        typing: use_signal(|| None),
        reconnecting: use_signal(|| false),
        look: use_signal(|| Look { ..Look::default() }),
        draft: use_signal(String::new),
        draft_error: use_signal(|| None),
        loading_older: use_signal(|| false),
        log_el: use_signal(|| None),
        launcher_shown: use_signal(|| true),
        pre_chat: use_signal(|| None),
        prefill: use_signal(Default::default),
        attachments: use_signal(|| None),
        chosen: use_signal(Vec::new),
        viewer: use_signal(|| None),
    };
    let elements = use_context_provider(|| Elements {
        launcher: Signal::new(None),
        composer: Signal::new(None),
        focus_composer: Signal::new(false),
    });
    let (session, focus_launcher, shell) = use_hook(|| {
        let start = crate::take_start().expect("mount() sets the start parameters");
        let session = Session::new(
            view,
            start.site,
            start.base,
            start.sdk_url,
            start.realm_parent,
            start.user_token,
        );
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
        // Mounted on intent (or, for a returning visitor, when idle): connect now, so that
        // the panel is ready when the visitor opens it. No conversation is created before
        // the visitor's first message.
        spawn(session.clone().connect());
        (session, start.focus_launcher, start.shell)
    });
    use_context_provider(|| session.clone());
    // After the first render: the shell's content, then `edgechat:ready`.
    let adopting = session.clone();
    use_effect(move || {
        if let Some(shell) = shell.clone().filter(|s| s.is_connected()) {
            adopt_shell(&adopting, shell);
        }
        if focus_launcher {
            if let Some(el) = elements.launcher.peek().clone() {
                let _ = el.focus();
            }
        }
        net::dispatch("ready", &JsValue::UNDEFINED);
    });

    let look = view.look.read();
    let brand = look
        .brand_color
        .as_ref()
        .map(|c| format!("--ec-brand:{c}"))
        .unwrap_or_default();
    let theme = if look.theme.is_empty() {
        "auto"
    } else {
        look.theme.as_str()
    };
    let side = if look.bottom_left { " left" } else { "" };
    rsx! {
        style { {CSS} }
        div { class: "ec {theme}{side}", style: "{brand}", dir: if look.rtl { "rtl" } else { "ltr" },
            // In the top layer: no transform, filter, zoom or overflow of the page's root or
            // body can move the launcher and the panel off the screen (they were laid out
            // against a transformed root: 1,670 px above the view).
            "popover": "manual",
            onmounted: move |e| to_top_layer(&e),
            launcher::Launcher {}
            panel::Panel {}
        }
    }
}
