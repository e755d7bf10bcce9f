//! The Conversations REST API, account-level (`/v1/Conversations...`, the default service) and
//! service-scoped (`/v1/Services/{IS}/Conversations...`): conversations, participants, messages,
//! conversation webhooks, and the service's webhook configuration.
//!
//! Actions fire post-event webhooks only when the request carries
//! `X-Twilio-Webhook-Enabled: true`, as on Twilio.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::control::twilio_error;
use crate::events::Event;
use crate::model::{new_sid, now_iso, Conversation, Message, Participant, Urls, Webhook};
use crate::App;

/// At most this many webhooks on one conversation (Twilio's limit).
const MAX_WEBHOOKS: usize = 5;

pub fn router(app: Arc<App>) -> Router {
    let conversations = Router::new()
        .route(
            "/Conversations",
            get(list_conversations).post(create_conversation),
        )
        .route(
            "/Conversations/{sid}",
            get(fetch_conversation)
                .post(update_conversation)
                .delete(delete_conversation),
        )
        .route(
            "/Conversations/{sid}/Participants",
            get(list_participants).post(create_participant),
        )
        .route(
            "/Conversations/{sid}/Messages",
            get(list_messages).post(create_message),
        )
        .route(
            "/Conversations/{sid}/Webhooks",
            get(list_webhooks).post(create_webhook),
        )
        .route(
            "/Conversations/{sid}/Webhooks/{webhook}",
            get(fetch_webhook).delete(delete_webhook),
        );
    Router::new()
        .nest("/v1", conversations.clone())
        .nest("/v1/Services/{service}", conversations)
        .route(
            "/v1/Services/{service}/Configuration/Webhooks",
            get(fetch_service_webhooks).post(update_service_webhooks),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::control::rest_layer,
        ))
        .with_state(app)
}

/// What every handler needs: which service, the path's ids, how to write URLs, and whether to
/// announce the action to webhooks.
struct Ctx {
    service: String,
    params: HashMap<String, String>,
    urls: Urls,
    announce: bool,
    path: String,
}

impl Ctx {
    fn sid(&self) -> &str {
        self.params.get("sid").map(String::as_str).unwrap_or("")
    }
}

impl FromRequestParts<Arc<App>> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Ctx, Response> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map_err(|e| twilio_error(400, 20001, e.to_string()))?;
        let host = parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let base = format!("http://{host}");
        let (service, prefix) = match params.get("service") {
            Some(service) => {
                if !app.state.lock().unwrap().services.contains_key(service) {
                    let path = parts
                        .extensions
                        .get::<axum::extract::OriginalUri>()
                        .map(|u| u.0.path().to_owned())
                        .unwrap_or_default();
                    return Err(not_found_at(&path));
                }
                (service.clone(), format!("/v1/Services/{service}"))
            }
            None => (
                app.state.lock().unwrap().default_service.clone(),
                "/v1".to_owned(),
            ),
        };
        Ok(Ctx {
            service,
            params,
            urls: Urls { base, prefix },
            announce: parts
                .headers
                .get("x-twilio-webhook-enabled")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true")),
            // Nested routers see the path without their prefix; links need the whole path.
            path: parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map(|u| u.0.path().to_owned())
                .unwrap_or_else(|| parts.uri.path().to_owned()),
        })
    }
}

/// A parsed form body; keys may repeat.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn not_found_at(path: &str) -> Response {
    twilio_error(
        404,
        20404,
        format!("The requested resource {path} was not found"),
    )
}

async fn not_found(uri: axum::http::Uri) -> Response {
    not_found_at(uri.path())
}

fn invalid(message: impl Into<String>) -> Response {
    twilio_error(400, 20001, message)
}

fn created(value: Value) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

/// Attributes must be a JSON document, as on Twilio.
fn attributes(form: &Form) -> Result<Option<String>, Response> {
    match form.get("Attributes") {
        None => Ok(None),
        Some(a) if serde_json::from_str::<Value>(a).is_ok() => Ok(Some(a.to_owned())),
        Some(_) => Err(invalid("Attributes must be valid JSON")),
    }
}

/// One page of `items` with Twilio's `meta`. `PageSize` (1..=1000, default 50) and `PageToken`
/// (`PT<offset>`) select the page; `Page` is the page number echoed back.
fn page(
    items: Vec<Value>,
    key: &str,
    ctx: &Ctx,
    query: &HashMap<String, String>,
) -> Result<Response, Response> {
    let size: usize = match query.get("PageSize") {
        None => 50,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| invalid("PageSize must be a number from 1 to 1000"))?,
    };
    let offset: usize = match query.get("PageToken") {
        None => 0,
        Some(t) => t
            .strip_prefix("PT")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| invalid("PageToken is not one this API gave out"))?,
    };
    let number: usize = query.get("Page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let mut extra = String::new();
    if let Some(order) = query.get("Order") {
        extra = format!("&Order={order}");
    }
    let base = format!("{}{}", ctx.urls.base, ctx.path);
    let url_for = |n: usize, off: Option<usize>| match off {
        Some(off) if off > 0 => format!("{base}?PageSize={size}&Page={n}&PageToken=PT{off}{extra}"),
        _ => format!("{base}?PageSize={size}&Page={n}{extra}"),
    };
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let next = (offset + size < total).then(|| url_for(number + 1, Some(offset + size)));
    let previous =
        (offset > 0).then(|| url_for(number.saturating_sub(1), Some(offset.saturating_sub(size))));
    Ok(Json(json!({
        key: slice,
        "meta": {
            "page": number,
            "page_size": size,
            "first_page_url": url_for(0, None),
            "previous_page_url": previous,
            "url": url_for(number, Some(offset)),
            "next_page_url": next,
            "key": key,
        }
    }))
    .into_response())
}

/// Runs `f` on the conversation the path names, in the context's service.
fn with_conversation<T>(
    app: &App,
    ctx: &Ctx,
    f: impl FnOnce(&mut Conversation) -> Result<T, Response>,
) -> Result<T, Response> {
    let mut state = app.state.lock().unwrap();
    let service = state
        .services
        .get_mut(&ctx.service)
        .ok_or_else(|| not_found_at(&ctx.path))?;
    let conversation = service
        .conversations
        .iter_mut()
        .find(|c| c.sid == ctx.sid() || c.unique_name.as_deref() == Some(ctx.sid()))
        .ok_or_else(|| not_found_at(&ctx.path))?;
    f(conversation)
}

fn conversation_event(
    event_type: &'static str,
    source: &'static str,
    identity: Option<String>,
    c: &Conversation,
) -> Event {
    let mut params = vec![
        ("ConversationSid".to_owned(), c.sid.clone()),
        ("ChatServiceSid".to_owned(), c.service_sid.clone()),
        ("Attributes".to_owned(), c.attributes.clone()),
        ("DateCreated".to_owned(), c.date_created.clone()),
        ("DateUpdated".to_owned(), c.date_updated.clone()),
        ("State".to_owned(), c.state.clone()),
    ];
    if let Some(n) = &c.friendly_name {
        params.push(("FriendlyName".to_owned(), n.clone()));
    }
    if let Some(n) = &c.unique_name {
        params.push(("UniqueName".to_owned(), n.clone()));
    }
    Event {
        event_type,
        source,
        client_identity: identity,
        conversation_sid: c.sid.clone(),
        params,
    }
}

pub fn message_event(
    source: &'static str,
    identity: Option<String>,
    c: &Conversation,
    m: &Message,
) -> Event {
    let mut params = vec![
        ("ConversationSid".to_owned(), c.sid.clone()),
        ("ChatServiceSid".to_owned(), c.service_sid.clone()),
        ("MessageSid".to_owned(), m.sid.clone()),
        ("Index".to_owned(), m.index.to_string()),
        ("Author".to_owned(), m.author.clone()),
        ("Attributes".to_owned(), m.attributes.clone()),
        ("DateCreated".to_owned(), m.date_created.clone()),
    ];
    if let Some(body) = &m.body {
        params.push(("Body".to_owned(), body.clone()));
    }
    if let Some(p) = &m.participant_sid {
        params.push(("ParticipantSid".to_owned(), p.clone()));
    }
    Event {
        event_type: "onMessageAdded",
        source,
        client_identity: identity,
        conversation_sid: c.sid.clone(),
        params,
    }
}

pub fn participant_event(
    source: &'static str,
    identity: Option<String>,
    c: &Conversation,
    p: &Participant,
) -> Event {
    let mut params = vec![
        ("ConversationSid".to_owned(), c.sid.clone()),
        ("ChatServiceSid".to_owned(), c.service_sid.clone()),
        ("ParticipantSid".to_owned(), p.sid.clone()),
        ("Attributes".to_owned(), p.attributes.clone()),
        ("DateCreated".to_owned(), p.date_created.clone()),
    ];
    if let Some(i) = &p.identity {
        params.push(("Identity".to_owned(), i.clone()));
    }
    Event {
        event_type: "onParticipantAdded",
        source,
        client_identity: identity,
        conversation_sid: c.sid.clone(),
        params,
    }
}

/// Creates a conversation in `service` and announces it when `announce` (REST with the header,
/// or always for an SDK client). Shared with the SDK routes.
pub fn insert_conversation(
    app: &Arc<App>,
    service_sid: &str,
    conversation: Conversation,
    announce: Option<(&'static str, Option<String>)>,
) -> Result<Conversation, Response> {
    let mut state = app.state.lock().unwrap();
    let service = state
        .services
        .get_mut(service_sid)
        .ok_or_else(|| not_found_at(&format!("/v1/Services/{service_sid}")))?;
    if let Some(unique) = &conversation.unique_name {
        if service
            .conversations
            .iter()
            .any(|c| c.unique_name.as_ref() == Some(unique))
        {
            return Err(twilio_error(
                409,
                50353,
                format!("Conversation with provided unique name {unique} already exists"),
            ));
        }
    }
    service.conversations.push(conversation.clone());
    if let Some((source, identity)) = announce {
        let event = conversation_event("onConversationAdded", source, identity, &conversation);
        app.announce(event, &service.webhooks, Some(&conversation));
    }
    Ok(conversation)
}

async fn create_conversation(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let mut c = Conversation::new(&ctx.service, form.get("FriendlyName").map(str::to_owned));
    c.unique_name = form.get("UniqueName").map(str::to_owned);
    match attributes(&form) {
        Ok(Some(a)) => c.attributes = a,
        Ok(None) => {}
        Err(r) => return r,
    }
    if let Some(s) = form.get("State") {
        if !matches!(s, "active" | "inactive" | "closed") {
            return invalid("State must be active, inactive or closed");
        }
        c.state = s.to_owned();
    }
    let announce = ctx.announce.then_some(("API", None));
    match insert_conversation(&app, &ctx.service, c, announce) {
        Ok(c) => created(c.json(&app.account, &ctx.urls)),
        Err(r) => r,
    }
}

async fn list_conversations(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items: Vec<Value> = {
        let state = app.state.lock().unwrap();
        state.services[&ctx.service]
            .conversations
            .iter()
            .filter(|c| query.get("State").is_none_or(|s| &c.state == s))
            .map(|c| c.json(&app.account, &ctx.urls))
            .collect()
    };
    page(items, "conversations", &ctx, &query).unwrap_or_else(|r| r)
}

async fn fetch_conversation(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    with_conversation(&app, &ctx, |c| Ok(c.json(&app.account, &ctx.urls)))
        .map(|v| Json(v).into_response())
        .unwrap_or_else(|r| r)
}

async fn update_conversation(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let result = with_conversation(&app, &ctx, |c| {
        if let Some(a) = attributes(&form)? {
            c.attributes = a;
        }
        if let Some(n) = form.get("FriendlyName") {
            c.friendly_name = Some(n.to_owned());
        }
        if let Some(n) = form.get("UniqueName") {
            c.unique_name = Some(n.to_owned());
        }
        if let Some(s) = form.get("State") {
            if !matches!(s, "active" | "inactive" | "closed") {
                return Err(invalid("State must be active, inactive or closed"));
            }
            c.state = s.to_owned();
        }
        c.touch();
        Ok(c.clone())
    });
    match result {
        Ok(c) => {
            app.push(crate::realtime::Push::ConversationUpdated {
                conversation: Box::new(c.clone()),
            });
            if ctx.announce {
                app.announce_in(
                    &ctx.service,
                    conversation_event("onConversationUpdated", "API", None, &c),
                    &c,
                );
            }
            Json(c.json(&app.account, &ctx.urls)).into_response()
        }
        Err(r) => r,
    }
}

async fn delete_conversation(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let mut state = app.state.lock().unwrap();
    let service = state
        .services
        .get_mut(&ctx.service)
        .expect("checked by Ctx");
    let Some(at) = service
        .conversations
        .iter()
        .position(|c| c.sid == ctx.sid() || c.unique_name.as_deref() == Some(ctx.sid()))
    else {
        return not_found_at(&ctx.path);
    };
    let c = service.conversations.remove(at);
    app.push(crate::realtime::Push::ConversationRemoved {
        conversation: c.sid.clone(),
    });
    if ctx.announce {
        let event = conversation_event("onConversationRemoved", "API", None, &c);
        app.announce(event, &service.webhooks, Some(&c));
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Adds `identity` to a conversation; shared with the SDK routes.
pub fn add_participant(
    c: &mut Conversation,
    identity: &str,
    attributes: Option<String>,
) -> Result<Participant, Response> {
    if c.participants
        .iter()
        .any(|p| p.identity.as_deref() == Some(identity))
    {
        return Err(twilio_error(
            409,
            50433,
            format!("Participant already exists: {identity}"),
        ));
    }
    let p = Participant {
        sid: new_sid("MB"),
        identity: Some(identity.to_owned()),
        attributes: attributes.unwrap_or_else(|| "{}".into()),
        date_created: now_iso(),
        last_read_message_index: None,
    };
    c.participants.push(p.clone());
    Ok(p)
}

async fn create_participant(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let result = with_conversation(&app, &ctx, |c| {
        let identity = form.get("Identity").ok_or_else(|| {
            invalid("Identity is required (SMS and WhatsApp bindings are not emulated)")
        })?;
        let p = add_participant(c, identity, attributes(&form)?)?;
        Ok((c.clone(), p))
    });
    match result {
        Ok((c, p)) => {
            if ctx.announce {
                app.announce_in(&ctx.service, participant_event("API", None, &c, &p), &c);
            }
            created(c.participant_json(&p, &app.account, &ctx.urls))
        }
        Err(r) => r,
    }
}

async fn list_participants(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items = with_conversation(&app, &ctx, |c| {
        Ok(c.participants
            .iter()
            .map(|p| c.participant_json(p, &app.account, &ctx.urls))
            .collect::<Vec<_>>())
    });
    match items {
        Ok(items) => page(items, "participants", &ctx, &query).unwrap_or_else(|r| r),
        Err(r) => r,
    }
}

/// Appends a message; shared with the SDK routes.
pub fn append_message(
    c: &mut Conversation,
    author: String,
    body: Option<String>,
    attributes: Option<String>,
) -> Message {
    let participant_sid = c
        .participants
        .iter()
        .find(|p| p.identity.as_deref() == Some(author.as_str()))
        .map(|p| p.sid.clone());
    let m = Message {
        sid: new_sid("IM"),
        index: c.next_index,
        author,
        body,
        attributes: attributes.unwrap_or_else(|| "{}".into()),
        participant_sid,
        date_created: now_iso(),
    };
    c.next_index += 1;
    c.messages.push(m.clone());
    c.touch();
    m
}

async fn create_message(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let result = with_conversation(&app, &ctx, |c| {
        let text = form.get("Body").map(str::to_owned);
        if text.as_deref().is_none_or(str::is_empty) && form.get("MediaSid").is_none() {
            return Err(invalid("Body is required"));
        }
        let author = form.get("Author").unwrap_or("system").to_owned();
        let m = append_message(c, author, text, attributes(&form)?);
        Ok((c.clone(), m))
    });
    match result {
        Ok((c, m)) => {
            app.message_added(&c, &m, ctx.announce.then_some(("API", None)));
            created(c.message_json(&m, &app.account, &ctx.urls))
        }
        Err(r) => r,
    }
}

async fn list_messages(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let descending = match query.get("Order").map(String::as_str) {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return invalid("Order must be asc or desc"),
    };
    let items = with_conversation(&app, &ctx, |c| {
        let mut items: Vec<Value> = c
            .messages
            .iter()
            .map(|m| c.message_json(m, &app.account, &ctx.urls))
            .collect();
        if descending {
            items.reverse();
        }
        Ok(items)
    });
    match items {
        Ok(items) => page(items, "messages", &ctx, &query).unwrap_or_else(|r| r),
        Err(r) => r,
    }
}

async fn create_webhook(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let result = with_conversation(&app, &ctx, |c| {
        let target = form
            .get("Target")
            .ok_or_else(|| invalid("Target is required: webhook, studio or trigger"))?;
        if !matches!(target, "webhook" | "studio" | "trigger") {
            return Err(invalid("Target must be webhook, studio or trigger"));
        }
        let url = form.get("Configuration.Url").map(str::to_owned);
        let flow_sid = form.get("Configuration.FlowSid").map(str::to_owned);
        if matches!(target, "webhook" | "trigger") {
            let u = url
                .as_deref()
                .ok_or_else(|| invalid("Configuration.Url is required for this target"))?;
            url::Url::parse(u).map_err(|_| invalid("Configuration.Url must be an absolute URL"))?;
        }
        if target == "studio" {
            let f = flow_sid
                .as_deref()
                .ok_or_else(|| invalid("Configuration.FlowSid is required for target studio"))?;
            crate::check_sid(f, "FW").map_err(invalid)?;
        }
        let method = form.get("Configuration.Method").map(|m| m.to_uppercase());
        if method.as_deref().is_some_and(|m| m != "GET" && m != "POST") {
            return Err(invalid("Configuration.Method must be GET or POST"));
        }
        let replay_after = match form.get("Configuration.ReplayAfter") {
            None => None,
            Some(r) => Some(
                r.parse()
                    .map_err(|_| invalid("Configuration.ReplayAfter must be a message index"))?,
            ),
        };
        if c.webhooks.len() >= MAX_WEBHOOKS {
            return Err(twilio_error(
                400,
                50361,
                "Maximum number of webhooks per conversation reached (5)",
            ));
        }
        let w = Webhook {
            sid: new_sid("WH"),
            target: target.to_owned(),
            url,
            method: method.or_else(|| (target != "studio").then(|| "POST".into())),
            filters: form.all("Configuration.Filters"),
            triggers: form.all("Configuration.Triggers"),
            flow_sid,
            replay_after,
            date_created: now_iso(),
        };
        c.webhooks.push(w.clone());
        Ok(c.webhook_json(&w, &app.account, &ctx.urls))
    });
    result.map(created).unwrap_or_else(|r| r)
}

async fn list_webhooks(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items = with_conversation(&app, &ctx, |c| {
        Ok(c.webhooks
            .iter()
            .map(|w| c.webhook_json(w, &app.account, &ctx.urls))
            .collect::<Vec<_>>())
    });
    match items {
        Ok(items) => page(items, "webhooks", &ctx, &query).unwrap_or_else(|r| r),
        Err(r) => r,
    }
}

async fn fetch_webhook(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let wanted = ctx.params.get("webhook").cloned().unwrap_or_default();
    with_conversation(&app, &ctx, |c| {
        c.webhooks
            .iter()
            .find(|w| w.sid == wanted)
            .map(|w| c.webhook_json(w, &app.account, &ctx.urls))
            .ok_or_else(|| not_found_at(&ctx.path))
    })
    .map(|v| Json(v).into_response())
    .unwrap_or_else(|r| r)
}

async fn delete_webhook(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let wanted = ctx.params.get("webhook").cloned().unwrap_or_default();
    with_conversation(&app, &ctx, |c| {
        let at = c
            .webhooks
            .iter()
            .position(|w| w.sid == wanted)
            .ok_or_else(|| not_found_at(&ctx.path))?;
        c.webhooks.remove(at);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .unwrap_or_else(|r| r)
}

async fn fetch_service_webhooks(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let state = app.state.lock().unwrap();
    let service = &state.services[&ctx.service];
    Json(
        service
            .webhooks
            .json(&app.account, &ctx.service, &ctx.urls.base),
    )
    .into_response()
}

async fn update_service_webhooks(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    for key in ["PreWebhookUrl", "PostWebhookUrl"] {
        if let Some(u) = form.get(key).filter(|u| !u.is_empty()) {
            if url::Url::parse(u).is_err() {
                return invalid(format!("{key} must be an absolute URL"));
            }
        }
    }
    let mut state = app.state.lock().unwrap();
    let service = state
        .services
        .get_mut(&ctx.service)
        .expect("checked by Ctx");
    let hooks = &mut service.webhooks;
    if let Some(u) = form.get("PreWebhookUrl") {
        hooks.pre_webhook_url = (!u.is_empty()).then(|| u.to_owned());
    }
    if let Some(u) = form.get("PostWebhookUrl") {
        hooks.post_webhook_url = (!u.is_empty()).then(|| u.to_owned());
    }
    let filters = form.all("Filters");
    if !filters.is_empty() {
        hooks.filters = filters;
    }
    if let Some(m) = form.get("Method") {
        hooks.method = m.to_uppercase();
    }
    Json(hooks.json(&app.account, &ctx.service, &ctx.urls.base)).into_response()
}
