//! Test controls under `/_emulator/` (no auth: the emulator listens on 127.0.0.1 only), and the
//! layer every REST request passes through: the request log, fault injection, HTTP Basic auth.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::App;

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

/// Twilio's error JSON.
pub fn twilio_error(status: u16, code: u32, message: impl Into<String>) -> Response {
    let body = json!({
        "code": code,
        "message": message.into(),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

fn basic_user(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The layer around every REST route: log, inject faults, check Basic auth.
pub async fn rest_layer(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return twilio_error(413, 20001, "the request body is too large"),
    };
    let params = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let auth = basic_user(&parts.headers);
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

impl App {
    fn authorized(&self, auth: Option<&(String, String)>) -> bool {
        let Some((user, password)) = auth else {
            return false;
        };
        let a = &self.account;
        (user == &a.account_sid && password == &a.auth_token)
            || (user == &a.api_key_sid && password == &a.api_key_secret)
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap();
        let at = faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
        })?;
        faults[at].times -= 1;
        let fault = faults[at].clone();
        if faults[at].times == 0 {
            faults.remove(at);
        }
        Some(fault)
    }

    fn log_request(&self, mut entry: LoggedRequest, started: Instant) {
        entry.ms = started.elapsed().as_millis() as u64;
        let mut logs = self.logs.lock().unwrap();
        logs.next_request += 1;
        entry.id = logs.next_request;
        logs.requests.push(entry);
        if logs.requests.len() > KEPT_REQUESTS {
            logs.requests.remove(0);
        }
    }
}

pub fn router(app: Arc<App>) -> Router {
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
        .with_state(app)
}

async fn health(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let state = app.state.lock().unwrap();
    Json(json!({
        "status": "ok",
        "account_sid": app.account.account_sid,
        "default_service": state.default_service,
        "services": state.services.keys().collect::<Vec<_>>(),
    }))
}

/// Forgets every conversation, logged request, delivery and fault; services keep their webhook
/// settings.
async fn reset(State(app): State<Arc<App>>) -> StatusCode {
    app.state.lock().unwrap().reset();
    *app.logs.lock().unwrap() = crate::Logs::default();
    app.faults.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let logs = app.logs.lock().unwrap();
    Json(json!({"requests": logs.requests}))
}

async fn deliveries(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let pending = app.deliveries_pending();
    let logs = app.logs.lock().unwrap();
    Json(json!({"pending": pending, "deliveries": logs.deliveries}))
}

async fn redeliver(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Response {
    match app.redeliver(id) {
        Some(new_id) => (StatusCode::ACCEPTED, Json(json!({"id": new_id}))).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no delivery {id} that can be sent again (studio deliveries are only recorded)")})),
        )
            .into_response(),
    }
}

async fn list_faults(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(json!({"faults": *app.faults.lock().unwrap()}))
}

async fn add_fault(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let mut fault: Fault = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("a fault is {{method?, path_contains?, status?, delay_ms?, drop?, retry_after?, times?}}: {e}")})),
            )
                .into_response()
        }
    };
    if fault.status.is_none() && fault.delay_ms.is_none() && !fault.drop {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "a fault needs status, delay_ms or drop"})),
        )
            .into_response();
    }
    if fault.status.is_some_and(|s| !(400..600).contains(&s)) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "status must be an error status (400-599)"})),
        )
            .into_response();
    }
    let mut faults = app.faults.lock().unwrap();
    fault.id = faults.iter().map(|f| f.id).max().unwrap_or(0) + 1;
    faults.push(fault.clone());
    (StatusCode::CREATED, Json(fault)).into_response()
}

async fn clear_faults(State(app): State<Arc<App>>) -> StatusCode {
    app.faults.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}
