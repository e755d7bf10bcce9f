//! The widget's I/O with the page and the Worker: the two API calls, loading the SDK script,
//! timers, and the DOM events it dispatches on `window`. JSON is read through the browser's own
//! parser (`JSON.parse` via `Response.json()`), which keeps serde out of the wasm.

use edgechat_core::api::ErrorCode;
use edgechat_core::chat::session::page_address;
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CustomEvent, CustomEventInit, Request, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    // The window's timers, with their handles kept as the values the page returns: a page whose
    // timers are replaced (Playwright's clock hands out ids past i32) still clears the right one.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// Why a call to the Worker failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// No answer (offline, DNS, CORS refused, the Worker down).
    Network,
    /// The Worker answered with its error body.
    Refused {
        status: u16,
        /// `None`: no error body, or a code this widget does not know.
        code: Option<ErrorCode>,
        message: String,
        /// `Retry-After`, in seconds (a 429's wait).
        retry_after: Option<u32>,
    },
}

pub fn get_str(value: &JsValue, key: &str) -> Option<String> {
    Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

pub fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A call to the Worker, abandoned (its fetch aborted) after `timeout_ms` without a complete
/// answer, which counts as no answer. Dropped before it ends (its caller cancelled), it aborts
/// the fetch and clears its timer, so that no timer fires into a dropped closure later.
async fn request(url: &str, body: Option<&str>, timeout_ms: u32) -> Result<JsValue, ApiFailure> {
    let abort = web_sys::AbortController::new().map_err(|_| ApiFailure::Network)?;
    let window = web_sys::window().ok_or(ApiFailure::Network)?;
    let cancel = abort.clone();
    let timer = Closure::once(move || cancel.abort());
    let timer_id = set_timeout(
        timer.as_ref().unchecked_ref(),
        timeout_ms.min(i32::MAX as u32) as i32,
    );
    let _deadline = Deadline {
        abort: abort.clone(),
        timer_id,
        _timer: timer,
    };
    send(&window, url, body, &abort.signal()).await
}

/// A request's deadline: on drop (the request ended or was cancelled) its timer is cleared
/// before its closure goes, and an unfinished fetch is aborted.
struct Deadline {
    abort: web_sys::AbortController,
    timer_id: JsValue,
    _timer: Closure<dyn FnMut()>,
}

impl Drop for Deadline {
    fn drop(&mut self) {
        clear_timeout(&self.timer_id);
        // After a complete answer this is a no-op.
        self.abort.abort();
    }
}

async fn send(
    window: &web_sys::Window,
    url: &str,
    body: Option<&str>,
    signal: &web_sys::AbortSignal,
) -> Result<JsValue, ApiFailure> {
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
        let headers = web_sys::Headers::new().map_err(|_| ApiFailure::Network)?;
        let _ = headers.set("content-type", "application/json");
        init.set_headers(&headers);
    }
    // The same request, asked already while the wasm loaded (early.js): its answer.
    let early = take_early(url, body, signal);
    let pending = match early.dyn_into::<js_sys::Promise>() {
        Ok(answer) => answer,
        Err(_) => {
            let request =
                Request::new_with_str_and_init(url, &init).map_err(|_| ApiFailure::Network)?;
            window.fetch_with_request(&request)
        }
    };
    let response: Response = JsFuture::from(pending)
        .await
        .map_err(|_| ApiFailure::Network)?
        .unchecked_into();
    let status = response.status();
    let json = match response.json() {
        Ok(p) => JsFuture::from(p).await.ok(),
        Err(_) => None,
    };
    if response.ok() {
        return json.ok_or(ApiFailure::Network);
    }
    let error = json.map(|j| get(&j, "error")).unwrap_or(JsValue::UNDEFINED);
    let retry_after = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse().ok());
    Err(ApiFailure::Refused {
        retry_after,
        status,
        code: get_str(&error, "code").and_then(|c| ErrorCode::parse(&c)),
        message: get_str(&error, "message").unwrap_or_else(|| format!("HTTP {status}")),
    })
}

/// The site's public config (`GET /api/sites/{site}/config`).
pub struct PublicConfig {
    pub title: Option<String>,
    pub brand_color: Option<String>,
    pub bottom_left: bool,
    /// The site pinned the launcher to a corner (else it follows the writing direction).
    pub pinned: bool,
    /// `auto`, `light` or `dark`.
    pub theme: String,
    pub greeting: Option<String>,
    pub locale: Option<String>,
    /// The site's wording, `{"<language>": {"<key>": "<message>"}}` (or undefined).
    pub strings: JsValue,
    pub keep_page_query: bool,
    pub ask_rating: bool,
    pub sound: bool,
    /// Another SDK than the vendored one, when the Worker names one.
    pub sdk_url: Option<String>,
    /// The local emulator's realtime endpoint; absent with Twilio itself.
    pub realtime_url: Option<String>,
    /// Closed now: the away message, and when people are back (unix ms).
    pub away: Option<(String, Option<u64>)>,
    /// The site's pre-chat form.
    pub pre_chat: Option<edgechat_core::site::pre_chat::PreChat>,
    /// Away now and asking for an email: optional or required.
    pub away_email: Option<edgechat_core::site::office_hours::AskEmail>,
    /// What visitors may attach (none: attachments are off).
    pub attachments: Option<edgechat_core::site::attachments::Policy>,
}

/// How long a config request may go unanswered before it is abandoned.
pub const CONFIG_TIMEOUT_MS: u32 = 10_000;

pub async fn config(base: &str, site: &str) -> Result<PublicConfig, ApiFailure> {
    let json = request(
        &format!("{base}api/sites/{site}/config"),
        None,
        CONFIG_TIMEOUT_MS,
    )
    .await?;
    let appearance = get(&json, "appearance");
    Ok(PublicConfig {
        title: get_str(&appearance, "title"),
        brand_color: get_str(&appearance, "brand_color"),
        bottom_left: get_str(&appearance, "position").as_deref() == Some("bottom-left"),
        pinned: get_str(&appearance, "position").is_some(),
        theme: match get_str(&appearance, "theme").as_deref() {
            Some("light") => "light",
            Some("dark") => "dark",
            _ => "auto",
        }
        .into(),
        greeting: get_str(&json, "greeting"),
        locale: get_str(&json, "locale"),
        strings: get(&json, "strings"),
        keep_page_query: get(&json, "keep_page_query").as_bool().unwrap_or(false),
        ask_rating: get(&json, "ask_rating").as_bool().unwrap_or(false),
        sound: get(&json, "sound").as_bool().unwrap_or(false),
        sdk_url: get_str(&json, "sdk_url"),
        realtime_url: get_str(&json, "realtime_url"),
        pre_chat: pre_chat_form(&get(&json, "pre_chat")),
        away_email: match get_str(&get(&json, "away"), "email").as_deref() {
            Some("required") => Some(edgechat_core::site::office_hours::AskEmail::Required),
            Some("optional") => Some(edgechat_core::site::office_hours::AskEmail::Optional),
            _ => None,
        },
        away: {
            let away = get(&json, "away");
            get_str(&away, "message")
                .map(|m| (m, get(&away, "opens_at").as_f64().map(|ms| ms as u64)))
        },
        attachments: {
            let policy = get(&json, "attachments");
            let types = get(&policy, "types");
            let types: Vec<String> = if types.is_object() {
                js_sys::Array::from(&types)
                    .iter()
                    .filter_map(|t| t.as_string())
                    .collect()
            } else {
                Vec::new()
            };
            edgechat_core::site::attachments::Policy::from_parts(
                get(&policy, "max_bytes").as_f64().unwrap_or(0.0) as u64,
                get(&policy, "max_files").as_f64().unwrap_or(0.0) as u8,
                types.iter().map(String::as_str),
            )
        },
    })
}

/// A language's catalogue (immutable under its hashed name: the browser's cache keeps it).
pub async fn catalogue(url: &str) -> Result<JsValue, ApiFailure> {
    request(url, None, CONFIG_TIMEOUT_MS).await
}

/// A token for this visitor (`POST /api/sites/{site}/token`).
pub struct Token {
    pub token: String,
    pub identity: String,
    /// The visitor credential to keep (none for a signed-in user).
    pub visitor: Option<String>,
    /// The token's lifetime from now, in seconds, as the Worker states it.
    pub expires_in: u64,
}

/// The visitor's rating of a conversation they end: thumbs up or not, and their comment.
pub struct Rating {
    pub up: bool,
    pub comment: String,
}

/// Ends the visitor's conversation `sid` (the Worker proves `visitor` and closes it), with
/// their rating.
pub async fn end_conversation(
    base: &str,
    site: &str,
    sid: &str,
    visitor: &str,
    rating: Option<Rating>,
    timeout_ms: u32,
) -> Result<(), ApiFailure> {
    let body = visitor_body(Some(visitor));
    if let Some(rating) = rating {
        let r = Object::new();
        let score = if rating.up { "up" } else { "down" };
        let _ = Reflect::set(&r, &"score".into(), &score.into());
        let comment = rating.comment.trim();
        if !comment.is_empty() {
            let _ = Reflect::set(&r, &"comment".into(), &comment.into());
        }
        let _ = Reflect::set(&body, &"rating".into(), &r);
    }
    request(
        &format!("{base}api/sites/{site}/conversations/{sid}/end"),
        Some(&stringify(&body)),
        timeout_ms,
    )
    .await
    .map(|_| ())
}

/// `{"visitor": "<credential>"}`, or `{}` for a new visitor: the body the token and end routes
/// both start from.
fn visitor_body(visitor: Option<&str>) -> Object {
    let body = Object::new();
    if let Some(visitor) = visitor {
        let _ = Reflect::set(&body, &"visitor".into(), &visitor.into());
    }
    body
}

fn stringify(body: &Object) -> String {
    js_sys::JSON::stringify(body)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "{}".into())
}

/// A token; the request is abandoned after `timeout_ms` without an answer.
pub async fn token(
    base: &str,
    site: &str,
    visitor: Option<&str>,
    user_token: Option<&str>,
    timeout_ms: u32,
) -> Result<Token, ApiFailure> {
    let body = visitor_body(visitor);
    if let Some(user_token) = user_token {
        let _ = Reflect::set(&body, &"user_token".into(), &user_token.into());
    }
    let json = request(
        &format!("{base}api/sites/{site}/token"),
        Some(&stringify(&body)),
        timeout_ms,
    )
    .await?;
    let field = |key| get_str(&json, key).ok_or(ApiFailure::Network);
    Ok(Token {
        token: field("token")?,
        identity: field("identity")?,
        visitor: get_str(&json, "visitor"),
        expires_in: get(&json, "expires_in").as_f64().unwrap_or(0.0) as u64,
    })
}

/// Tells the page (`edgechat:error`, `{code, message}`).
pub fn report_error(code: &str, message: &str) {
    let detail = Object::new();
    let _ = Reflect::set(&detail, &"code".into(), &code.into());
    let _ = Reflect::set(&detail, &"message".into(), &message.into());
    dispatch("error", &detail);
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms.min(i32::MAX as u32) as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// `work`'s outcome, or `None` when it takes longer than `ms` milliseconds (it is dropped then).
pub async fn within<T>(ms: u32, work: impl std::future::Future<Output = T>) -> Option<T> {
    use futures_util::future::{select, Either};
    let work = std::pin::pin!(work);
    let timeout = std::pin::pin!(sleep(ms));
    match select(work, timeout).await {
        Either::Left((outcome, _)) => Some(outcome),
        Either::Right(_) => None,
    }
}

/// Resolves after the browser has painted the pending DOM changes.
pub async fn next_frame() {
    for _ in 0..2 {
        let promise = Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.request_animation_frame(&resolve);
            }
        });
        let _ = JsFuture::from(promise).await;
    }
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Dispatches `edgechat:<name>` on `window`, with `detail`.
pub fn dispatch(name: &str, detail: &JsValue) {
    let init = CustomEventInit::new();
    init.set_detail(detail);
    if let (Some(window), Ok(event)) = (
        web_sys::window(),
        CustomEvent::new_with_event_init_dict(&format!("edgechat:{name}"), &init),
    ) {
        let _ = window.dispatch_event(&event);
    }
}

/// The page's address and its referrer, as `page_address` keeps them (scheme, host, path; the
/// query only when the site asks), for the Worker to write into a new conversation's
/// attributes (it checks and trims them again).
pub fn page_facts(keep_query: bool) -> (Option<String>, Option<String>) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return (None, None);
    };
    let href = document.location().and_then(|l| l.href().ok());
    (
        href.and_then(|u| page_address(&u, keep_query)),
        page_address(&document.referrer(), keep_query),
    )
}

/// Asks the Worker to start the visitor's conversation (`POST /api/sites/{site}/conversations`):
/// it creates it with the visitor in it and answers its SID. The same `key` again (a lost
/// answer, another tab) answers the same conversation.
pub async fn start_conversation(
    base: &str,
    site: &str,
    visitor: &str,
    key: &str,
    keep_query: bool,
    pre_chat: &edgechat_core::site::pre_chat::Answers,
    timeout_ms: u32,
) -> Result<String, ApiFailure> {
    let body = visitor_body(Some(visitor));
    let _ = Reflect::set(&body, &"key".into(), &key.into());
    if !pre_chat.is_empty() {
        let answers = Object::new();
        for (name, answer) in pre_chat {
            let value = match answer {
                edgechat_core::site::pre_chat::Answer::Text(t) => JsValue::from_str(t),
                edgechat_core::site::pre_chat::Answer::Checked(c) => JsValue::from_bool(*c),
            };
            let _ = Reflect::set(&answers, &name.into(), &value);
        }
        let _ = Reflect::set(&body, &"pre_chat".into(), &answers);
    }
    let (page, referrer) = page_facts(keep_query);
    for (name, value) in [("page_url", page), ("referrer", referrer)] {
        if let Some(value) = value {
            let _ = Reflect::set(&body, &name.into(), &value.into());
        }
    }
    let json = request(
        &format!("{base}api/sites/{site}/conversations"),
        Some(&stringify(&body)),
        timeout_ms,
    )
    .await?;
    get_str(&json, "conversation").ok_or(ApiFailure::Network)
}

/// Whether the page's tab is visible (`document.visibilityState`).
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| !d.hidden())
}

/// Calls `changed(visible)` whenever the page's tab is shown or hidden.
pub fn on_visibility_change(changed: impl Fn(bool) + 'static) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let listener = Closure::<dyn FnMut()>::new(move || changed(page_visible()));
    let _ = document
        .add_event_listener_with_callback("visibilitychange", listener.as_ref().unchecked_ref());
    // For the page's life.
    listener.forget();
}

/// The host page's title (`document.title`), and setting it.
pub fn page_title() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.title())
        .unwrap_or_default()
}

pub fn set_page_title(title: &str) {
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        d.set_title(title);
    }
}

/// Saves `text` as the file `name` (a plain-text download), through a link in `parent`.
pub fn download_text(parent: &web_sys::Node, name: &str, text: &str) -> Result<(), JsValue> {
    let parts = Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let link: web_sys::HtmlElement = document.create_element("a")?.unchecked_into();
    link.set_attribute("href", &url)?;
    link.set_attribute("download", name)?;
    link.set_hidden(true);
    parent.append_child(&link)?;
    link.click();
    link.remove();
    // The download has its own copy once started.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// `ms` as the visitor's clock and `locale` show a date and time ("4 Dec 2026, 14:02"); in the
/// browser's own format if `Intl` refuses the locale (it throws rather than fall back).
pub fn date_time(ms: u64, locale: &str) -> String {
    local_time(ms, locale, &JsValue::UNDEFINED, false)
}

/// `ms` as `locale` writes it (`toLocaleString`, or `toLocaleTimeString` for `time_only`) with
/// `options`: caught where it is made, and the browser's default locale where `locale` is
/// refused, or nothing where even that throws (a page that broke `Date`'s methods).
pub fn local_time(ms: u64, locale: &str, options: &JsValue, time_only: bool) -> String {
    let date: CheckedDate = js_sys::Date::new(&JsValue::from_f64(ms as f64)).unchecked_into();
    let format = |locale: &JsValue| {
        if time_only {
            date.to_locale_time_string(locale, options)
        } else {
            date.to_locale_string(locale, options)
        }
    };
    format(&JsValue::from_str(locale))
        .or_else(|_| format(&JsValue::UNDEFINED))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen]
extern "C" {
    /// A `Date`, for the checked calls below (js_sys' throw into the wasm: a refused locale would
    /// end the app).
    #[wasm_bindgen(js_name = Date)]
    type CheckedDate;
    #[wasm_bindgen(catch, method, js_name = toLocaleString)]
    fn to_locale_string(
        this: &CheckedDate,
        locale: &JsValue,
        options: &JsValue,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, method, js_name = toLocaleTimeString)]
    fn to_locale_time_string(
        this: &CheckedDate,
        locale: &JsValue,
        options: &JsValue,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Intl, js_name = getCanonicalLocales)]
    fn canonical_locales(tag: &str) -> Result<js_sys::Array, JsValue>;
}

/// Whether this page allows tests' forced failures (`localStorage["edgechat:test-faults"]`).
pub fn test_faults() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("edgechat:test-faults").ok().flatten())
        .is_some_and(|v| v == "1")
}

/// A language tag as a page, a site or a browser gives it (`de_DE`, `C`, anything), as `Intl`
/// takes it, or `None`: read leniently by core, then canonicalized by the browser itself.
pub fn intl_tag(raw: &str) -> Option<String> {
    let tag = edgechat_core::chat::locale::lenient_tag(raw)?;
    canonical_locales(&tag).ok()?.get(0).as_string()
}

// With `catch`: an import wasm could call directly (no arguments to convert) is imported as a
// namespace, which esbuild turns into a `for…in` over its exports, and that walks a host page's
// polluted Object.prototype (the isolation test's patched page could not load the widget). A
// caught call goes through a named import.
#[wasm_bindgen(module = "/early.js")]
extern "C" {
    /// The answer to this request if early.js asked it already (once), else `undefined`.
    fn take_early(url: &str, body: Option<&str>, signal: &web_sys::AbortSignal) -> JsValue;
}

#[wasm_bindgen(module = "/sound.js")]
extern "C" {
    /// A short two-note chime (Web Audio, no file to fetch), quiet; nothing where audio is
    /// missing or refused.
    #[wasm_bindgen(catch)]
    pub fn chime() -> Result<(), JsValue>;
}

/// What the page says of its language and direction: the embed script's `data-locale`, and
/// whether the page is written right to left (`dir="rtl"` on its root or body).
pub fn page_language() -> (Option<String>, bool) {
    let Some(d) = web_sys::window().and_then(|w| w.document()) else {
        return (None, false);
    };
    let locale = d
        .query_selector("script[data-site][src*=\"embed.js\"]")
        .ok()
        .flatten()
        .and_then(|s| s.get_attribute("data-locale"));
    let rtl = [d.document_element(), d.body().map(Into::into)]
        .into_iter()
        .flatten()
        .any(|e| {
            e.get_attribute("dir")
                .is_some_and(|dir| dir.eq_ignore_ascii_case("rtl"))
        });
    (locale, rtl)
}

/// The browser's languages, in the visitor's order.
pub fn browser_languages() -> Vec<String> {
    let Some(w) = web_sys::window() else {
        return Vec::new();
    };
    let languages = get(&get(&w, "navigator"), "languages");
    js_sys::Array::from(&languages)
        .iter()
        .filter_map(|l| l.as_string())
        .collect()
}

#[wasm_bindgen]
extern "C" {
    /// `RegExp`, whose constructor throws on a pattern it cannot compile (hence `catch`).
    #[wasm_bindgen(js_name = RegExp)]
    type CheckedRegExp;

    #[wasm_bindgen(constructor, js_class = RegExp, catch)]
    fn new(pattern: &str, flags: &str) -> Result<CheckedRegExp, JsValue>;

    #[wasm_bindgen(method)]
    fn test(this: &CheckedRegExp, text: &str) -> bool;
}

/// Whether `value` matches a pre-chat field's `pattern` whole, as an HTML `pattern` does (the
/// browser's `RegExp`, `v` flag); a pattern the browser cannot compile constrains nothing, as
/// the Worker judges it.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    match CheckedRegExp::new(&format!("^(?:{pattern})$"), "v") {
        Ok(re) => re.test(value),
        Err(_) => true,
    }
}

/// A JWT's claims, unverified (the Worker verifies): what a signed-in user's token says of them,
/// as the browser parses it.
pub fn jwt_claims(token: &str) -> JsValue {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let padded = format!(
        "{}{}",
        payload.replace('-', "+").replace('_', "/"),
        "=".repeat((4 - payload.len() % 4) % 4)
    );
    web_sys::window()
        .and_then(|w| w.atob(&padded).ok())
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// The answers an object holds for `form`'s fields (strings and booleans by field name).
pub fn answers_in(
    form: &edgechat_core::site::pre_chat::PreChat,
    object: &JsValue,
) -> edgechat_core::site::pre_chat::Answers {
    use edgechat_core::site::pre_chat::Answer;
    form.fields
        .iter()
        .filter_map(|f| {
            let value = get(object, &f.name);
            let answer = value
                .as_string()
                .map(Answer::Text)
                .or_else(|| value.as_bool().map(Answer::Checked))?;
            Some((f.name.clone(), answer))
        })
        .collect()
}

/// The public config's pre-chat form, read from the JSON the browser parsed (serde_json would
/// weigh 40 KiB of the widget); `None` if absent or out of shape.
fn pre_chat_form(json: &JsValue) -> Option<edgechat_core::site::pre_chat::PreChat> {
    use edgechat_core::site::pre_chat::{Choice, Field, Labels, PreChat};
    let labels =
        |value: &JsValue| {
            Labels::from_pairs(js_sys::Object::entries(value.dyn_ref()?).iter().filter_map(
                |pair| {
                    let pair = Array::from(&pair);
                    Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
                },
            ))
        };
    // `Array.from` throws on what is not iterable: only arrays are read.
    let list = |value: JsValue| value.dyn_into::<Array>().unwrap_or_default();
    let fields = list(get(json, "fields"));
    if fields.length() == 0 {
        return None;
    }
    let fields = fields
        .iter()
        .map(|f| {
            let options = list(get(&f, "options"))
                .iter()
                .map(|o| Choice::from_parts(get_str(&o, "value")?, labels(&get(&o, "label"))?))
                .collect::<Option<Vec<_>>>()?;
            Field::from_parts(
                get_str(&f, "name")?,
                &get_str(&f, "type")?,
                labels(&get(&f, "label"))?,
                get(&f, "required").as_bool().unwrap_or(false),
                get_str(&f, "pattern"),
                options,
            )
        })
        .collect::<Option<Vec<_>>>()?;
    PreChat::new(fields).ok()
}
