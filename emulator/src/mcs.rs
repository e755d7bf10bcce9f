//! Twilio's media service (MCS), as the Conversations SDK and the REST API use it, over plain
//! HTTP on the emulator's own address (the Configuration's `links.media_service` and
//! `links.media_set_service` point here):
//! - `POST /v1/Services/{IS}/Media?Category=media&Filename=<name>`: the file's bytes as the body,
//!   its type in `Content-Type`; `X-Twilio-Token` (an SDK client: it becomes the author) or HTTP
//!   Basic (the account: author `system`). 201 with the media record.
//! - `GET /v1/Services/{IS}/Media/{ME}`: the record, whose `links.content_direct_temporary` is a
//!   link to the bytes that works without credentials for five minutes (signed with the auth
//!   token), for the uploader, a participant of the conversation it is on, or the account.
//! - `GET /v1/Services/{IS}/Media/{ME}/Content`: the bytes, with that link's signature or Basic.
//! - `POST /v1/Services/{IS}/MediaSet` `{"command": "get", "list": [{"media_sid": "ME…"}]}`: the
//!   records of several, as `[{"code": 200, "media_record": {…}}]`.
//!
//! Browsers call it from the page's origin: every answer allows any origin (no cookies are
//! involved; the token travels in a header), and preflights are answered. Limits (`model::media`):
//! 16 MiB an item, 256 MiB in all.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::app::{App, Origin};
use crate::http::{error_response, twilio_error};
use crate::model::media::{Media, MAX_ITEM_BYTES};

/// How long a temporary content link works.
const TEMPORARY_SECONDS: u64 = 300;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/Services/{service}/Media", post(upload))
        .route("/v1/Services/{service}/Media/{sid}", get(record))
        .route("/v1/Services/{service}/Media/{sid}/Content", get(content))
        .route("/v1/Services/{service}/MediaSet", post(media_set))
        .layer(DefaultBodyLimit::max(MAX_ITEM_BYTES + 1))
        .layer(axum::middleware::from_fn(cors))
        .with_state(app)
}

/// Any origin may call (the SDK sends its token in a header, never a cookie); preflights answer
/// at once.
async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("X-Twilio-Token, Content-Type, Authorization"),
    );
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("600"));
    response
}

/// Who calls: an SDK client (its identity) or the account (`None`), or a 401.
fn caller(app: &App, headers: &HeaderMap, service: &str) -> Result<Option<String>, Response> {
    if let Some(token) = headers.get("x-twilio-token").and_then(|v| v.to_str().ok()) {
        let client = crate::tokens::verify(&app.account, &app.world().model, token.trim())
            .map_err(|e| error_response(&e))?;
        if client.service_sid != service {
            return Err(twilio_error(
                403,
                20403,
                "this token is for another service",
            ));
        }
        return Ok(Some(client.identity));
    }
    match crate::http::basic_user(headers) {
        Some((user, password)) if app.account.authorizes(&user, &password) => Ok(None),
        _ => Err(twilio_error(
            401,
            20003,
            "Authenticate: X-Twilio-Token with an access token, or HTTP Basic with the account \
             SID and auth token (or an API key and its secret)",
        )),
    }
}

fn signature(app: &App, sid: &str, expires: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app.account.auth_token.as_bytes())
        .expect("HMAC takes any key");
    mac.update(format!("{sid}:{expires}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn record_json(app: &App, m: &Media, temporary: bool) -> Value {
    let base = format!(
        "{}/v1/Services/{}/Media/{}",
        app.public_base(),
        m.service_sid,
        m.sid
    );
    let direct = temporary.then(|| {
        let expires = now_s() + TEMPORARY_SECONDS;
        format!(
            "{base}/Content?Expires={expires}&Signature={}",
            signature(app, &m.sid, expires)
        )
    });
    let (conversation, message) = m.attached.clone().unzip();
    json!({
        "sid": m.sid,
        "account_sid": app.account.account_sid,
        "service_sid": m.service_sid,
        "channel_sid": conversation,
        "message_sid": message,
        "date_created": m.date_created,
        "date_upload_updated": m.date_created,
        "date_updated": m.date_created,
        "size": m.bytes.len(),
        "content_type": m.content_type,
        "filename": m.filename,
        "author": m.author,
        "category": "media",
        "url": format!("/v1/Services/{}/Media/{}", m.service_sid, m.sid),
        "links": {
            "content": format!("/v1/Services/{}/Media/{}/Content", m.service_sid, m.sid),
            "content_direct_temporary": direct,
        },
        "is_multipart_upstream": false,
    })
}

async fn upload(
    State(app): State<Arc<App>>,
    Path(service): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let author = match caller(&app, &headers, &service) {
        Ok(who) => who.unwrap_or_else(|| "system".into()),
        Err(r) => return r,
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/") {
        return twilio_error(
            415,
            41004,
            "send the file's bytes as the body, with its own Content-Type (multipart forms are \
             not emulated)",
        );
    }
    let filename = query
        .iter()
        .rev()
        .find(|(k, _)| k == "Filename")
        .map(|(_, v)| v.clone());
    let uploaded = app.write(Origin::Api { announce: false }, |model| {
        model
            .upload_media(&service, &author, content_type, filename, body)
            .map(|m| (m, Vec::new()))
    });
    match uploaded {
        Ok(m) => (StatusCode::CREATED, Json(record_json(&app, &m, false))).into_response(),
        Err(e) => error_response(&e),
    }
}

async fn record(
    State(app): State<Arc<App>>,
    Path((service, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let reader = match caller(&app, &headers, &service) {
        Ok(who) => who,
        Err(r) => return r,
    };
    let world = app.world();
    match world.model.media_for(&service, &sid, reader.as_deref()) {
        Ok(m) => Json(record_json(&app, m, true)).into_response(),
        Err(e) => error_response(&e),
    }
}

async fn content(
    State(app): State<Arc<App>>,
    Path((service, sid)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let signed = match (
        param("Expires").and_then(|e| e.parse::<u64>().ok()),
        param("Signature"),
    ) {
        (Some(expires), Some(given)) => {
            if expires < now_s() {
                return twilio_error(
                    403,
                    20403,
                    "this temporary link has expired: fetch the media again",
                );
            }
            given == signature(&app, &sid, expires)
        }
        _ => false,
    };
    if !signed {
        if let Err(r) = caller(&app, &headers, &service).and_then(|who| match who {
            None => Ok(()),
            Some(_) => Err(twilio_error(
                403,
                20403,
                "use the record's content_direct_temporary link",
            )),
        }) {
            return r;
        }
    }
    let world = app.world();
    let media = match world.model.media_for(&service, &sid, None) {
        Ok(m) => m.clone(),
        Err(e) => return error_response(&e),
    };
    drop(world);
    let mut response = media.bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media.content_type) {
        headers.insert("content-type", v);
    }
    // As a storage service serves user files: never sniffed, never run as a page.
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(
        "cache-control",
        HeaderValue::from_static("private, max-age=300"),
    );
    response
}

async fn media_set(
    State(app): State<Arc<App>>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reader = match caller(&app, &headers, &service) {
        Ok(who) => who,
        Err(r) => return r,
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return twilio_error(400, 20001, "the body must be JSON");
    };
    if request.get("command").and_then(Value::as_str) != Some("get") {
        return twilio_error(400, 20001, "command must be \"get\"");
    }
    let sids: Vec<String> = request
        .get("list")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|i| i.get("media_sid").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let world = app.world();
    let items: Vec<Value> = sids
        .iter()
        .map(
            |sid| match world.model.media_for(&service, sid, reader.as_deref()) {
                Ok(m) => json!({"code": 200, "media_record": record_json(&app, m, true)}),
                Err(e) => {
                    json!({"code": e.status, "media_record": {"sid": sid}, "message": e.message})
                }
            },
        )
        .collect();
    Json(Value::Array(items)).into_response()
}
