//! The Conversations REST API, account-level (`/v1/Conversations...`, the default service) and
//! service-scoped (`/v1/Services/{IS}/Conversations...`): conversations, participants, messages,
//! conversation webhooks, and the service's webhook configuration, in Twilio's JSON; roles and
//! the service's Configuration ([`roles`]); users ([`users`]); a conversation made with its
//! participants and a user's conversations ([`participants`]). Account credentials are never
//! restricted by roles: only SDK clients are (the model's client actions).
//!
//! Every write goes through [`App::write`]; it is announced to webhooks only when the request
//! carries `X-Twilio-Webhook-Enabled: true`, as on Twilio. Authentication, the request log and
//! fault injection are a layer around this router (`control::rest_layer`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::app::{App, Origin};
use crate::http::{error_response, twilio_error, Form};
use crate::model::{
    new_sid, now_iso, Account, Conversation, ConversationUpdate, Message, NewConversation,
    NewParticipant, Participant, ServiceWebhooks, TwilioError, Webhook,
};

mod participants;
mod roles;
mod users;

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
            "/Conversations/{sid}/Participants/{participant}",
            get(fetch_participant)
                .post(update_participant)
                .delete(delete_participant),
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
        )
        .route(
            "/ConversationWithParticipants",
            post(participants::create_with_participants),
        )
        .route(
            "/ParticipantConversations",
            get(participants::list_participant_conversations),
        )
        .route("/Roles", get(roles::list_roles).post(roles::create_role))
        .route(
            "/Roles/{role}",
            get(roles::fetch_role)
                .post(roles::update_role)
                .delete(roles::delete_role),
        )
        .route("/Users", get(users::list_users).post(users::create_user))
        .route(
            "/Users/{user}",
            get(users::fetch_user)
                .post(users::update_user)
                .delete(users::delete_user),
        );
    Router::new()
        .nest("/v1", conversations.clone())
        .nest("/v1/Services/{service}", conversations)
        .route(
            "/v1/Services/{service}/Configuration",
            get(roles::fetch_configuration).post(roles::update_configuration),
        )
        // The service itself (what `npm run doctor` and `npm run deploy` fetch to see that the
        // site's service is in the account).
        .route("/v1/Services/{service}", get(fetch_service))
        .route(
            "/v1/Services/{service}/Configuration/Webhooks",
            get(fetch_service_webhooks).post(update_service_webhooks),
        )
        // The Programmable Chat v2 view of the same service: where its post-event webhook's
        // retry count is set (`client.chat.v2.services(IS).update({ postWebhookRetryCount })`).
        .route(
            "/v2/Services/{service}",
            get(fetch_chat_service).post(update_chat_service),
        )
        .fallback(not_found)
        .with_state(app)
}

/// Base URL used in `url`, `links` and paging `meta` (the emulator's own address, as the client
/// reached it) plus the path prefix of the API flavour the client called (account default
/// service or service-scoped).
#[derive(Clone, Debug)]
struct Urls {
    base: String,
    prefix: String,
}

impl Urls {
    fn conversation(&self, sid: &str) -> String {
        format!("{}{}/Conversations/{sid}", self.base, self.prefix)
    }

    /// A resource of the flavour the client called: `/Roles/RL…`, `/Users/US…`.
    fn resource(&self, tail: &str) -> String {
        format!("{}{}/{tail}", self.base, self.prefix)
    }
}

fn conversation_json(c: &Conversation, account: &Account, urls: &Urls) -> Value {
    let url = urls.conversation(&c.sid);
    json!({
        "account_sid": account.account_sid,
        "chat_service_sid": c.service_sid,
        "messaging_service_sid": null,
        "sid": c.sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "state": c.state,
        "date_created": c.date_created,
        "date_updated": c.date_updated,
        "timers": {},
        "url": url,
        "links": {
            "participants": format!("{url}/Participants"),
            "messages": format!("{url}/Messages"),
            "webhooks": format!("{url}/Webhooks"),
        },
        "bindings": null,
    })
}

fn participant_json(c: &Conversation, p: &Participant, account: &Account, urls: &Urls) -> Value {
    json!({
        "account_sid": account.account_sid,
        "chat_service_sid": c.service_sid,
        "conversation_sid": c.sid,
        "sid": p.sid,
        "identity": p.identity,
        "attributes": p.attributes,
        "messaging_binding": null,
        "role_sid": p.role_sid,
        "date_created": p.date_created,
        "date_updated": p.date_updated,
        "url": format!("{}/Participants/{}", urls.conversation(&c.sid), p.sid),
        "last_read_message_index": p.last_read_message_index,
        "last_read_timestamp": p.last_read_timestamp,
    })
}

fn message_json(c: &Conversation, m: &Message, account: &Account, urls: &Urls) -> Value {
    let url = format!("{}/Messages/{}", urls.conversation(&c.sid), m.sid);
    json!({
        "account_sid": account.account_sid,
        "chat_service_sid": c.service_sid,
        "conversation_sid": c.sid,
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "media": if m.media.is_empty() {
            Value::Null
        } else {
            m.media
                .iter()
                .map(|r| json!({"sid": r.sid, "content_type": r.content_type,
                                "filename": r.filename, "size": r.size}))
                .collect()
        },
        "attributes": m.attributes,
        "participant_sid": m.participant_sid,
        "date_created": m.date_created,
        "date_updated": m.date_created,
        "delivery": null,
        "content_sid": null,
        "url": url,
        "links": {
            "delivery_receipts": format!("{url}/Receipts"),
            "channel_metadata": format!("{url}/ChannelMetadata"),
        },
    })
}

fn webhook_json(c: &Conversation, w: &Webhook, account: &Account, urls: &Urls) -> Value {
    json!({
        "sid": w.sid,
        "account_sid": account.account_sid,
        "chat_service_sid": c.service_sid,
        "conversation_sid": c.sid,
        "target": w.target,
        "url": format!("{}/Webhooks/{}", urls.conversation(&c.sid), w.sid),
        "configuration": {
            "url": w.url,
            "method": w.method,
            "filters": w.filters,
            "triggers": w.triggers,
            "flow_sid": w.flow_sid,
            "replay_after": w.replay_after,
        },
        "date_created": w.date_created,
        "date_updated": w.date_created,
    })
}

fn service_webhooks_json(
    hooks: &ServiceWebhooks,
    account: &Account,
    service: &str,
    base: &str,
) -> Value {
    json!({
        "account_sid": account.account_sid,
        "chat_service_sid": service,
        "pre_webhook_url": hooks.pre_webhook_url,
        "post_webhook_url": hooks.post_webhook_url,
        "filters": hooks.filters,
        "method": hooks.method,
        "url": format!("{base}/v1/Services/{service}/Configuration/Webhooks"),
    })
}

/// The chat v2 service resource: its webhook settings (the ones the emulator keeps) and links.
fn chat_service_json(
    hooks: &ServiceWebhooks,
    account: &Account,
    service: &str,
    base: &str,
) -> Value {
    json!({
        "sid": service,
        "account_sid": account.account_sid,
        "friendly_name": service,
        "pre_webhook_url": hooks.pre_webhook_url,
        "post_webhook_url": hooks.post_webhook_url,
        "webhook_method": hooks.method,
        "webhook_filters": hooks.filters,
        "pre_webhook_retry_count": 0,
        "post_webhook_retry_count": hooks.post_webhook_retry_count,
        "url": format!("{base}/v2/Services/{service}"),
    })
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

    fn origin(&self) -> Origin {
        Origin::Api {
            announce: self.announce,
        }
    }

    /// The conversation the path names, as Twilio reports a missing one.
    fn not_found(&self) -> Response {
        not_found_at(&self.path)
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
        // Nested routers see the path without their prefix; links need the whole path.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.0.path().to_owned())
            .unwrap_or_else(|| parts.uri.path().to_owned());
        let (service, prefix) = {
            let world = app.world();
            match params.get("service") {
                Some(service) if !world.model.services.contains_key(service) => {
                    return Err(not_found_at(&path))
                }
                Some(service) => (service.clone(), format!("/v1/Services/{service}")),
                None => (world.model.default_service.clone(), "/v1".to_owned()),
            }
        };
        Ok(Ctx {
            service,
            params,
            urls: Urls {
                base: format!("http://{host}"),
                prefix,
            },
            announce: parts
                .headers
                .get("x-twilio-webhook-enabled")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true")),
            path,
        })
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

fn created(value: Value) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

/// Renders a model refusal; a missing conversation is reported at the requested path.
/// A handler's answer, or its refusal; a missing resource (a role, a user) is reported at the
/// requested path, as Twilio reports one.
fn answer(ctx: &Ctx, result: Result<Response, TwilioError>) -> Response {
    match result {
        Ok(r) => r,
        Err(e) if e.status == 404 => ctx.not_found(),
        Err(e) => error_response(&e),
    }
}

fn refused(ctx: &Ctx, e: TwilioError) -> Response {
    if e.status == 404 && e.code == 50350 {
        ctx.not_found()
    } else {
        error_response(&e)
    }
}

/// One page of `items` with Twilio's `meta`. `PageSize` (1..=1000, default 50) and `PageToken`
/// (`PT<offset>`) select the page; `Page` is the page number echoed back.
fn page(items: Vec<Value>, key: &str, ctx: &Ctx, query: &HashMap<String, String>) -> Response {
    let size: usize = match query.get("PageSize") {
        None => 50,
        Some(s) => match s.parse().ok().filter(|n| (1..=1000).contains(n)) {
            Some(n) => n,
            None => return twilio_error(400, 20001, "PageSize must be a number from 1 to 1000"),
        },
    };
    let offset: usize = match query.get("PageToken") {
        None => 0,
        Some(t) => match t.strip_prefix("PT").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return twilio_error(400, 20001, "PageToken is not one this API gave out"),
        },
    };
    let number: usize = query.get("Page").and_then(|p| p.parse().ok()).unwrap_or(0);
    // The query's own filters travel in every page's URL.
    let extra: String = ["Order", "Identity"]
        .iter()
        .filter_map(|k| query.get(*k).map(|v| format!("&{k}={}", encode(v))))
        .collect();
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
    Json(json!({
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
    .into_response()
}

/// A query value as it goes into a URL.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Reads the conversation the path names.
fn read<T>(app: &App, ctx: &Ctx, f: impl FnOnce(&Conversation) -> T) -> Result<T, Response> {
    let world = app.world();
    world
        .model
        .find(&ctx.service, ctx.sid())
        .map(f)
        .map_err(|e| refused(ctx, e))
}

async fn create_conversation(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let new = NewConversation {
        friendly_name: form.get("FriendlyName").map(str::to_owned),
        unique_name: form.get("UniqueName").map(str::to_owned),
        attributes: form.get("Attributes").map(str::to_owned),
        state: form.get("State").map(str::to_owned),
        created_by: None,
    };
    match app.write(ctx.origin(), |m| m.create_conversation(&ctx.service, new)) {
        Ok(c) => created(conversation_json(&c, &app.account, &ctx.urls)),
        Err(e) => refused(&ctx, e),
    }
}

async fn list_conversations(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items: Vec<Value> = {
        let world = app.world();
        world.model.services[&ctx.service]
            .conversations
            .iter()
            .filter(|c| query.get("State").is_none_or(|s| &c.state == s))
            .map(|c| conversation_json(c, &app.account, &ctx.urls))
            .collect()
    };
    page(items, "conversations", &ctx, &query)
}

async fn fetch_conversation(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    read(&app, &ctx, |c| {
        conversation_json(c, &app.account, &ctx.urls)
    })
    .map(|v| Json(v).into_response())
    .unwrap_or_else(|r| r)
}

async fn update_conversation(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let update = ConversationUpdate {
        friendly_name: form.get("FriendlyName").map(str::to_owned),
        unique_name: form.get("UniqueName").map(str::to_owned),
        attributes: form.get("Attributes").map(str::to_owned),
        state: form.get("State").map(str::to_owned),
    };
    match app.write(ctx.origin(), |m| {
        m.update_conversation(&ctx.service, ctx.sid(), update)
    }) {
        Ok(c) => Json(conversation_json(&c, &app.account, &ctx.urls)).into_response(),
        Err(e) => refused(&ctx, e),
    }
}

async fn delete_conversation(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    match app.write(ctx.origin(), |m| {
        m.delete_conversation(&ctx.service, ctx.sid())
    }) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(&ctx, e),
    }
}

async fn create_participant(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let Some(identity) = form.get("Identity") else {
        return twilio_error(
            400,
            20001,
            "Identity is required (SMS and WhatsApp bindings are not emulated)",
        );
    };
    let new = NewParticipant {
        identity: identity.to_owned(),
        attributes: form.get("Attributes").map(str::to_owned),
        role_sid: form.get("RoleSid").map(str::to_owned),
    };
    let result = app.write(ctx.origin(), |m| {
        m.add_participant(&ctx.service, ctx.sid(), new, false)
    });
    match result {
        Ok(p) => read(&app, &ctx, |c| {
            created(participant_json(c, &p, &app.account, &ctx.urls))
        })
        .unwrap_or_else(|r| r),
        Err(e) => refused(&ctx, e),
    }
}

async fn list_participants(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items = read(&app, &ctx, |c| {
        c.participants
            .iter()
            .map(|p| participant_json(c, p, &app.account, &ctx.urls))
            .collect::<Vec<_>>()
    });
    match items {
        Ok(items) => page(items, "participants", &ctx, &query),
        Err(r) => r,
    }
}

fn participant_param(ctx: &Ctx) -> String {
    ctx.params.get("participant").cloned().unwrap_or_default()
}

async fn fetch_participant(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let wanted = participant_param(&ctx);
    read(&app, &ctx, |c| {
        c.participants
            .iter()
            .find(|p| p.sid == wanted || p.identity.as_deref() == Some(wanted.as_str()))
            .map(|p| Json(participant_json(c, p, &app.account, &ctx.urls)).into_response())
            .unwrap_or_else(|| ctx.not_found())
    })
    .unwrap_or_else(|r| r)
}

/// `LastReadMessageIndex` as Twilio takes it: a message index, or empty to clear.
fn read_index(raw: &str) -> Result<Option<u64>, TwilioError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| TwilioError::invalid("LastReadMessageIndex must be a message index"))
}

/// `POST .../Participants/{MB or identity}`: `RoleSid` (its conversation role) and/or
/// `LastReadMessageIndex` (an agent's tool marks what the agent read; the visitor's widget
/// shows "Seen"), in one write. Other fields are not emulated.
async fn update_participant(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let wanted = participant_param(&ctx);
    let role = form.get("RoleSid").map(str::to_owned);
    let index = match form.get("LastReadMessageIndex").map(read_index).transpose() {
        Ok(index) => index,
        Err(e) => return error_response(&e),
    };
    if role.is_none() && index.is_none() {
        return twilio_error(
            400,
            20001,
            "RoleSid or LastReadMessageIndex is required (the fields emulated)",
        );
    }
    let identity = read(&app, &ctx, |c| {
        c.participants
            .iter()
            .find(|p| p.sid == wanted || p.identity.as_deref() == Some(wanted.as_str()))
            .and_then(|p| p.identity.clone())
    });
    let identity = match identity {
        Ok(Some(identity)) => identity,
        Ok(None) => return ctx.not_found(),
        Err(r) => return r,
    };
    let result = app.write(ctx.origin(), |m| {
        let mut changes = Vec::new();
        if let Some(role) = &role {
            changes.extend(
                m.set_participant_role(&ctx.service, ctx.sid(), &identity, role)?
                    .1,
            );
        }
        if let Some(index) = index {
            changes.extend(
                m.set_read_horizon(&ctx.service, ctx.sid(), &identity, index)?
                    .1,
            );
        }
        let c = m.find(&ctx.service, ctx.sid())?;
        let p = c
            .participant(&identity)
            .cloned()
            .ok_or_else(|| TwilioError::not_participant(&identity))?;
        Ok((p, changes))
    });
    match result {
        Ok(p) => read(&app, &ctx, |c| {
            Json(participant_json(c, &p, &app.account, &ctx.urls)).into_response()
        })
        .unwrap_or_else(|r| r),
        Err(e) => refused(&ctx, e),
    }
}

async fn delete_participant(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let wanted = participant_param(&ctx);
    match app.write(ctx.origin(), |m| {
        m.remove_participant(&ctx.service, ctx.sid(), &wanted)
    }) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) if e.status == 404 => ctx.not_found(),
        Err(e) => refused(&ctx, e),
    }
}

async fn create_message(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let text = form.get("Body").map(str::to_owned);
    if text.as_deref().is_none_or(str::is_empty) && form.get("MediaSid").is_none() {
        return twilio_error(400, 20001, "Body is required");
    }
    let author = form.get("Author").unwrap_or("system").to_owned();
    let attributes = form.get("Attributes").map(str::to_owned);
    let media = form.all("MediaSid");
    let text = text.filter(|t| !t.is_empty());
    let result = app.write(ctx.origin(), |m| {
        if media.is_empty() {
            m.append_message(&ctx.service, ctx.sid(), &author, text, attributes, false)
        } else {
            m.append_media_message(
                &ctx.service,
                ctx.sid(),
                &author,
                text,
                attributes,
                &media,
                false,
            )
        }
    });
    match result {
        Ok(message) => read(&app, &ctx, |c| {
            created(message_json(c, &message, &app.account, &ctx.urls))
        })
        .unwrap_or_else(|r| r),
        Err(e) => refused(&ctx, e),
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
        Some(_) => return twilio_error(400, 20001, "Order must be asc or desc"),
    };
    let items = read(&app, &ctx, |c| {
        let mut items: Vec<Value> = c
            .messages
            .iter()
            .map(|m| message_json(c, m, &app.account, &ctx.urls))
            .collect();
        if descending {
            items.reverse();
        }
        items
    });
    match items {
        Ok(items) => page(items, "messages", &ctx, &query),
        Err(r) => r,
    }
}

/// A conversation webhook from the form, checked as Twilio checks it.
fn webhook_from(form: &Form) -> Result<Webhook, TwilioError> {
    let invalid = TwilioError::invalid;
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
        f.parse::<edgechat_core::ids::sid::FlowSid>()
            .map_err(|e| TwilioError::invalid(e.to_string()))?;
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
    Ok(Webhook {
        sid: new_sid("WH"),
        target: target.to_owned(),
        url,
        method: method.or_else(|| (target != "studio").then(|| "POST".into())),
        filters: form.all("Configuration.Filters"),
        triggers: form.all("Configuration.Triggers"),
        flow_sid,
        replay_after,
        date_created: now_iso(),
    })
}

async fn create_webhook(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let result = webhook_from(&form)
        .and_then(|w| app.write(ctx.origin(), |m| m.add_webhook(&ctx.service, ctx.sid(), w)));
    match result {
        Ok(w) => read(&app, &ctx, |c| {
            created(webhook_json(c, &w, &app.account, &ctx.urls))
        })
        .unwrap_or_else(|r| r),
        Err(e) => refused(&ctx, e),
    }
}

async fn list_webhooks(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items = read(&app, &ctx, |c| {
        c.webhooks
            .iter()
            .map(|w| webhook_json(c, w, &app.account, &ctx.urls))
            .collect::<Vec<_>>()
    });
    match items {
        Ok(items) => page(items, "webhooks", &ctx, &query),
        Err(r) => r,
    }
}

async fn fetch_webhook(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let wanted = ctx.params.get("webhook").cloned().unwrap_or_default();
    read(&app, &ctx, |c| {
        c.webhooks
            .iter()
            .find(|w| w.sid == wanted)
            .map(|w| Json(webhook_json(c, w, &app.account, &ctx.urls)).into_response())
            .unwrap_or_else(|| ctx.not_found())
    })
    .unwrap_or_else(|r| r)
}

async fn delete_webhook(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let wanted = ctx.params.get("webhook").cloned().unwrap_or_default();
    match app.write(ctx.origin(), |m| {
        m.remove_webhook(&ctx.service, ctx.sid(), &wanted)
    }) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => ctx.not_found(),
    }
}

/// The Conversations service resource (`GET /v1/Services/{IS}`); an unknown service is 20404,
/// as at Twilio (`Ctx` checks it).
async fn fetch_service(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let base = &ctx.urls.base;
    let service = &ctx.service;
    Json(json!({
        "sid": service,
        "account_sid": app.account.account_sid,
        "friendly_name": service,
        "date_created": "2026-01-01T00:00:00Z",
        "date_updated": "2026-01-01T00:00:00Z",
        "url": format!("{base}/v1/Services/{service}"),
        "links": {
            "conversations": format!("{base}/v1/Services/{service}/Conversations"),
            "configuration": format!("{base}/v1/Services/{service}/Configuration"),
            "roles": format!("{base}/v1/Services/{service}/Roles"),
            "users": format!("{base}/v1/Services/{service}/Users"),
            "participant_conversations": format!("{base}/v1/Services/{service}/ParticipantConversations"),
        },
    }))
    .into_response()
}

async fn fetch_service_webhooks(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let world = app.world();
    let hooks = &world.model.services[&ctx.service].webhooks;
    Json(service_webhooks_json(
        hooks,
        &app.account,
        &ctx.service,
        &ctx.urls.base,
    ))
    .into_response()
}

async fn update_service_webhooks(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    for key in ["PreWebhookUrl", "PostWebhookUrl"] {
        if let Some(u) = form.get(key).filter(|u| !u.is_empty()) {
            if url::Url::parse(u).is_err() {
                return twilio_error(400, 20001, format!("{key} must be an absolute URL"));
            }
        }
    }
    let result = app.write(ctx.origin(), |m| {
        let hooks = &mut m
            .services
            .get_mut(&ctx.service)
            .expect("checked by Ctx")
            .webhooks;
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
        Ok((hooks.clone(), Vec::new()))
    });
    match result {
        Ok(hooks) => Json(service_webhooks_json(
            &hooks,
            &app.account,
            &ctx.service,
            &ctx.urls.base,
        ))
        .into_response(),
        Err(e) => error_response(&e),
    }
}

async fn fetch_chat_service(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let world = app.world();
    let hooks = &world.model.services[&ctx.service].webhooks;
    Json(chat_service_json(
        hooks,
        &app.account,
        &ctx.service,
        &ctx.urls.base,
    ))
    .into_response()
}

/// `PostWebhookRetryCount` as Twilio takes it: a whole number from 0 to 3.
fn retry_count(value: &str) -> Result<u8, TwilioError> {
    value.parse::<u8>().ok().filter(|n| *n <= 3).ok_or_else(|| {
        TwilioError::new(
            400,
            20001,
            format!("PostWebhookRetryCount must be a whole number from 0 to 3, got {value:?}"),
        )
    })
}

async fn update_chat_service(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    for key in ["PreWebhookUrl", "PostWebhookUrl"] {
        if let Some(u) = form.get(key).filter(|u| !u.is_empty()) {
            if url::Url::parse(u).is_err() {
                return twilio_error(400, 20001, format!("{key} must be an absolute URL"));
            }
        }
    }
    let retries = match form
        .get("PostWebhookRetryCount")
        .map(retry_count)
        .transpose()
    {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    let result = app.write(ctx.origin(), |m| {
        let hooks = &mut m
            .services
            .get_mut(&ctx.service)
            .expect("checked by Ctx")
            .webhooks;
        if let Some(u) = form.get("PreWebhookUrl") {
            hooks.pre_webhook_url = (!u.is_empty()).then(|| u.to_owned());
        }
        if let Some(u) = form.get("PostWebhookUrl") {
            hooks.post_webhook_url = (!u.is_empty()).then(|| u.to_owned());
        }
        let filters = form.all("WebhookFilters");
        if !filters.is_empty() {
            hooks.filters = filters;
        }
        if let Some(m) = form.get("WebhookMethod") {
            hooks.method = m.to_uppercase();
        }
        if let Some(n) = retries {
            hooks.post_webhook_retry_count = n;
        }
        Ok((hooks.clone(), Vec::new()))
    });
    match result {
        Ok(hooks) => Json(chat_service_json(
            &hooks,
            &app.account,
            &ctx.service,
            &ctx.urls.base,
        ))
        .into_response(),
        Err(e) => error_response(&e),
    }
}

#[cfg(test)]
mod tests;
