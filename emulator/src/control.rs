//! Test controls under `/_emulator/` (no auth: the emulator listens on 127.0.0.1 only), and the
//! layer every REST request passes through: the request log, fault injection, HTTP Basic auth.
//! The controls sit above every transport: they reset the model, read the webhook deliveries and
//! steer the realtime connections.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::App;
use crate::http::twilio_error;
use crate::twilsock::Twilsock;
use crate::webhooks::Webhooks;

/// Requests kept in the log; the oldest are dropped beyond this.
const KEPT_REQUESTS: usize = 5_000;
/// Largest REST request body accepted.
const MAX_BODY: usize = 1 << 20;

/// One REST request as the emulator received it.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedRequest {
    pub id: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The form body's parameters in order (repeated keys repeat).
    pub params: Vec<(String, String)>,
    /// `X-Twilio-Webhook-Enabled: true` was sent.
    pub webhook_enabled: bool,
    /// The Basic auth user (an AC or SK SID), never the password.
    pub auth_user: Option<String>,
    pub status: u16,
    /// The fault injected instead of (or before) the real answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    pub ms: u64,
}

/// A fault to inject into matching REST requests, `times` times.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(default)]
    pub id: u64,
    /// Only requests with this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path contains this (any when absent).
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Answer with this status and Twilio's error JSON instead of the real answer.
    #[serde(default)]
    pub status: Option<u16>,
    /// Wait this long first (then answer for real, or with `status`).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    /// `Retry-After` seconds to send with a 429.
    #[serde(default)]
    pub retry_after: Option<u32>,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl crate::countdown::Countdown for Fault {
    fn times_mut(&mut self) -> &mut u32 {
        &mut self.times
    }
}

/// What the controls hold and reach.
pub struct Controls {
    pub app: Arc<App>,
    pub webhooks: Arc<Webhooks>,
    pub twilsock: Arc<Twilsock>,
    requests: Mutex<RequestLog>,
    faults: Mutex<Vec<Fault>>,
}

#[derive(Default)]
struct RequestLog {
    requests: Vec<LoggedRequest>,
    next: u64,
}

impl Controls {
    pub fn new(app: Arc<App>, webhooks: Arc<Webhooks>, twilsock: Arc<Twilsock>) -> Arc<Controls> {
        Arc::new(Controls {
            app,
            webhooks,
            twilsock,
            requests: Mutex::new(RequestLog::default()),
            faults: Mutex::new(Vec::new()),
        })
    }
}

/// The layer around every REST route: log, inject faults, check Basic auth.
pub async fn rest_layer(
    State(app): State<Arc<Controls>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return twilio_error(413, 20001, "the request body is too large"),
    };
    let params = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let auth = crate::http::basic_user(&parts.headers);
    let mut entry = LoggedRequest {
        id: 0,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        params,
        webhook_enabled: parts
            .headers
            .get("x-twilio-webhook-enabled")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true")),
        auth_user: auth.as_ref().map(|(user, _)| user.clone()),
        status: 0,
        fault: None,
        ms: 0,
    };
    let fault = app.take_fault(&entry.method, &entry.path);
    let response = match &fault {
        Some(f) => {
            entry.fault = Some(describe(f));
            if let Some(ms) = f.delay_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if f.drop {
                entry.status = 0;
                app.log_request(entry, started);
                // Unwinding out of the connection's task closes the connection without an
                // answer (and, unlike panic!, prints nothing).
                std::panic::resume_unwind(Box::new("emulator: dropped connection"));
            }
            match f.status {
                Some(429) => {
                    let mut r = twilio_error(429, 20429, "Too Many Requests");
                    if let Some(seconds) = f.retry_after {
                        r.headers_mut()
                            .insert("Retry-After", seconds.to_string().parse().unwrap());
                    }
                    Some(r)
                }
                Some(status) => Some(twilio_error(status, 20500, "Internal Server Error")),
                None => None,
            }
        }
        None => None,
    };
    let response = match response {
        Some(r) => r,
        None if !app.authorized(auth.as_ref()) => twilio_error(
            401,
            20003,
            "Authenticate: use HTTP Basic with the account SID and auth token, or an API key SID \
             and its secret",
        ),
        None => {
            let request = Request::from_parts(parts, Body::from(Bytes::clone(&bytes)));
            next.run(request).await
        }
    };
    entry.status = response.status().as_u16();
    app.log_request(entry, started);
    response
}

fn describe(f: &Fault) -> String {
    let mut parts = Vec::new();
    if let Some(ms) = f.delay_ms {
        parts.push(format!("delay {ms} ms"));
    }
    if f.drop {
        parts.push("drop".into());
    }
    if let Some(s) = f.status {
        parts.push(format!("status {s}"));
    }
    parts.join(", ")
}

impl Controls {
    fn authorized(&self, auth: Option<&(String, String)>) -> bool {
        let Some((user, password)) = auth else {
            return false;
        };
        self.app.account.authorizes(user, password)
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        crate::countdown::take_first(&mut self.faults.lock().unwrap(), |f| {
            f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
        })
    }

    fn log_request(&self, mut entry: LoggedRequest, started: Instant) {
        entry.ms = started.elapsed().as_millis() as u64;
        let mut log = self.requests.lock().unwrap();
        log.next += 1;
        entry.id = log.next;
        log.requests.push(entry);
        if log.requests.len() > KEPT_REQUESTS {
            log.requests.remove(0);
        }
    }
}

pub fn router(controls: Arc<Controls>) -> Router {
    Router::new()
        .route("/_emulator/health", get(health))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/deliveries", get(deliveries))
        .route("/_emulator/deliveries/{id}/redeliver", post(redeliver))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/media", get(media))
        .route("/_emulator/realtime", get(realtime))
        .route("/_emulator/realtime/{action}", post(realtime_fault))
        .with_state(controls)
}

/// What the media service holds: how many items and bytes, and each item's author and type
/// (tests check that a refused file never reached it).
async fn media(State(c): State<Arc<Controls>>) -> Json<serde_json::Value> {
    let world = c.app.world();
    let items: Vec<_> = world
        .model
        .media
        .values()
        .map(|m| json!({"sid": m.sid, "author": m.author, "content_type": m.content_type,
                        "filename": m.filename, "size": m.bytes.len(), "attached": m.attached.is_some()}))
        .collect();
    let bytes: usize = world.model.media.values().map(|m| m.bytes.len()).sum();
    Json(json!({"count": items.len(), "bytes": bytes, "items": items}))
}

async fn health(State(c): State<Arc<Controls>>) -> Json<serde_json::Value> {
    let world = c.app.world();
    Json(json!({
        "status": "ok",
        "account_sid": c.app.account.account_sid,
        "default_service": world.model.default_service,
        "services": world.model.services.keys().collect::<Vec<_>>(),
    }))
}

/// Forgets every conversation, user, logged request, delivery and fault, and drops every
/// realtime connection; services keep their setup: webhook settings, roles and the
/// Configuration's default roles.
async fn reset(State(c): State<Arc<Controls>>) -> StatusCode {
    {
        let mut world = c.app.world();
        world.model.reset();
        world.projection.reset();
    }
    *c.requests.lock().unwrap() = RequestLog::default();
    c.faults.lock().unwrap().clear();
    c.webhooks.reset();
    c.twilsock.reset();
    StatusCode::NO_CONTENT
}

async fn requests(State(c): State<Arc<Controls>>) -> Json<serde_json::Value> {
    Json(json!({"requests": c.requests.lock().unwrap().requests}))
}

async fn deliveries(State(c): State<Arc<Controls>>) -> Json<serde_json::Value> {
    let (pending, deliveries) = c.webhooks.deliveries();
    Json(json!({"pending": pending, "deliveries": deliveries}))
}

async fn redeliver(State(c): State<Arc<Controls>>, Path(id): Path<u64>) -> Response {
    match c.webhooks.redeliver(id) {
        Some(new_id) => (StatusCode::ACCEPTED, Json(json!({"id": new_id}))).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no delivery {id} that can be sent again (studio deliveries are only recorded)")})),
        )
            .into_response(),
    }
}

async fn list_faults(State(c): State<Arc<Controls>>) -> Json<serde_json::Value> {
    Json(json!({"faults": *c.faults.lock().unwrap()}))
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

async fn add_fault(State(c): State<Arc<Controls>>, body: Bytes) -> Response {
    let mut fault: Fault = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return bad_request(format!("a fault is {{method?, path_contains?, status?, delay_ms?, drop?, retry_after?, times?}}: {e}"))
        }
    };
    if fault.status.is_none() && fault.delay_ms.is_none() && !fault.drop {
        return bad_request("a fault needs status, delay_ms or drop".into());
    }
    if fault.status.is_some_and(|s| !(400..600).contains(&s)) {
        return bad_request("status must be an error status (400-599)".into());
    }
    let mut faults = c.faults.lock().unwrap();
    fault.id = faults.iter().map(|f| f.id).max().unwrap_or(0) + 1;
    faults.push(fault.clone());
    (StatusCode::CREATED, Json(fault)).into_response()
}

async fn clear_faults(State(c): State<Arc<Controls>>) -> StatusCode {
    c.faults.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

/// Realtime connections, the requests they tunnelled and any unknown frame or route.
async fn realtime(State(c): State<Arc<Controls>>) -> Json<serde_json::Value> {
    Json(c.twilsock.report())
}

/// The body of a realtime fault: which identity's connections (all when absent), and for how
/// long (`delay`, `refuse`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RealtimeFault {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    ms: Option<u64>,
}

/// `POST /_emulator/realtime/{drop|expire|warn|hold|release|delay|refuse|fail|unfail}`.
async fn realtime_fault(
    State(c): State<Arc<Controls>>,
    Path(action): Path<String>,
    body: Bytes,
) -> Response {
    if action == "fail" {
        return match serde_json::from_slice::<crate::twilsock::RequestFault>(&body) {
            Ok(fault) => {
                c.twilsock.fail_requests(fault);
                (StatusCode::CREATED, Json(json!({"ok": true}))).into_response()
            }
            Err(e) => bad_request(format!(
                "a request fault is {{identity?, method?, path_contains?, status, times?, apply?}}: {e}"
            )),
        };
    }
    let fault: RealtimeFault = if body.is_empty() {
        RealtimeFault::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(e) => return bad_request(format!("a realtime fault is {{identity?, ms?}}: {e}")),
        }
    };
    let who = fault.identity.as_deref();
    let ms = || {
        fault
            .ms
            .ok_or_else(|| bad_request(format!("{action} needs ms")))
    };
    let connections = match action.as_str() {
        "drop" => c.twilsock.drop_connections(who),
        "expire" => c.twilsock.expire_tokens(who),
        "warn" => c.twilsock.warn_tokens(who),
        "hold" => c.twilsock.hold_pushes(who, true),
        // The request faults `fail` set (for this identity, or all): the service is back.
        "unfail" => c.twilsock.unfail_requests(who),
        "release" => c.twilsock.hold_pushes(who, false),
        "delay" => match ms() {
            Ok(ms) => c.twilsock.delay_pushes(who, ms),
            Err(r) => return r,
        },
        "refuse" => match ms() {
            Ok(ms) => {
                c.twilsock.refuse_connections(who, ms);
                0
            }
            Err(r) => return r,
        },
        other => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": format!("no realtime fault {other:?}: drop, expire, warn, hold, release, delay, refuse or fail")})),
            )
                .into_response()
        }
    };
    Json(json!({"connections": connections})).into_response()
}
