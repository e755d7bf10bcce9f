//! The realtime endpoint of the real Conversations SDK: `GET /v3/wsconnect`, a WebSocket
//! carrying twilsock V3.0 frames ([`codec`]), as Twilio's `tsock.<region>.twilio.com` serves it.
//!
//! - `init` carries the access token, checked as Twilio checks it ([`crate::tokens`]); a bad
//!   token gets a 401 reply (the SDK goes `denied`), an expired one 401 with `errorCode` 20104.
//!   `update` renews it (same identity only).
//! - `message` frames tunnel HTTP requests to the Conversations client API ([`aim`]) and to Sync
//!   ([`cds`]); each gets a `reply` with the transport `status` and the `http_status`.
//! - Sync's subscribed events and typing indicators are pushed as `notification` frames.
//! - Before a token expires the client hears `client_update` `token_about_to_expire` (a fifth of
//!   the token's life before, three minutes at most, as Twilio warns), then `close` 410.
//! - The client acknowledges every frame we push with a `reply`; those are consumed.
//!
//! Unknown frames and routes are answered 404 and logged loudly (an SDK upgrade must fail
//! visibly). Tests steer connections with the fault controls in [`Twilsock`].

pub mod aim;
pub mod cds;
pub mod codec;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::app::{App, Origin};
use crate::model::TwilioError;
use crate::projection::Notification;
use crate::tokens::{self, Client};
use codec::Frame;

/// Tunnelled requests kept for inspection.
const KEPT_REQUESTS: usize = 5_000;
/// The longest a token warning comes before expiry (Twilio's three minutes).
const MAX_WARNING: u64 = 180;

/// A tunnelled HTTP request.
pub struct Request {
    pub method: String,
    pub host: String,
    pub path: String,
    segments: Vec<String>,
    params: HashMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    fn from_frame(frame: &Frame) -> Option<Request> {
        let http = frame.header.get("http_request")?.as_object()?;
        let text = |k: &str| http.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut params = HashMap::new();
        if let Some(Value::Object(p)) = http.get("params") {
            for (k, v) in p {
                // Values arrive still percent-encoded; a repeated key is an array (last wins here).
                let v = match v {
                    Value::Array(a) => a.last().and_then(Value::as_str).unwrap_or("").to_owned(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                params.insert(k.clone(), percent_decode(&v));
            }
        }
        let path = text("path");
        Some(Request {
            method: text("method").to_uppercase(),
            host: text("host"),
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(percent_decode)
                .collect(),
            path,
            params,
            body: frame.payload.clone(),
        })
    }

    /// The path's segments, percent-decoded.
    pub fn segments(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    pub fn param(&self, key: &str) -> Option<String> {
        self.params.get(key).cloned()
    }

    /// The body as a JSON object (aim sends a JSON text; an empty body is an empty object).
    pub fn json_object(&self) -> Result<Map<String, Value>, TwilioError> {
        if self.body.is_empty() {
            return Ok(Map::new());
        }
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| TwilioError::invalid(format!("the body is not JSON: {e}")))?;
        // Some clients send the JSON text as a JSON string.
        let value = match value {
            Value::String(s) => serde_json::from_str(&s)
                .map_err(|e| TwilioError::invalid(format!("the body is not JSON: {e}")))?,
            v => v,
        };
        match value {
            Value::Object(m) => Ok(m),
            _ => Err(TwilioError::invalid("the body must be a JSON object")),
        }
    }

    /// A field from a form body (typing sends `ChannelSid=…`) or a JSON one.
    pub fn form_or_json(&self, key: &str) -> Option<String> {
        let form = url::form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned());
        form.or_else(|| {
            self.json_object()
                .ok()?
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A tunnelled HTTP answer.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply { status: 200, body }
    }

    pub fn with_status(status: u16, body: Value) -> Reply {
        Reply { status, body }
    }

    pub fn error(e: &TwilioError) -> Reply {
        Reply {
            status: e.status,
            body: json!({"status": e.status, "code": e.code, "message": e.message}),
        }
    }
}

/// The connection a request came on, and whose token it holds.
pub struct Caller {
    pub conn: u64,
    pub identity: String,
    pub service: String,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A fault a test asked for, sent to a connection.
#[derive(Debug, Clone)]
enum Control {
    /// Close the socket at once, without a close frame (a network drop).
    Drop,
    /// The token expires now: `close` 410, then the socket closes.
    Expire,
    /// The token is about to expire: `client_update` `token_about_to_expire` now, as Twilio sends
    /// it a fifth of the lifetime before the end (and not again for this token).
    Warn,
    /// Hold pushes (`true`) until released (`false`); replies still flow.
    Hold(bool),
    /// Wait this long before each push.
    Delay(u64),
}

struct Connection {
    identity: Option<String>,
    control: mpsc::UnboundedSender<Control>,
    opened: Instant,
}

/// One tunnelled request as the emulator answered it.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedRequest {
    pub connection: u64,
    pub identity: String,
    pub method: String,
    pub host: String,
    pub path: String,
    pub status: u16,
    /// No route serves it (logged loudly).
    pub unknown: bool,
}

/// Answer matching tunnelled requests with an error `status` instead of the real answer, `times`
/// times; with `apply`, the request takes effect first (its answer is what is lost).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFault {
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path_contains: Option<String>,
    pub status: u16,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub apply: bool,
}

fn one() -> u32 {
    1
}

impl crate::countdown::Countdown for RequestFault {
    fn times_mut(&mut self) -> &mut u32 {
        &mut self.times
    }
}

/// Refuse `init` (503) for this identity (any when `None`) until `until`.
struct Refusal {
    identity: Option<String>,
    until: Instant,
}

pub struct Twilsock {
    app: Arc<App>,
    connections: Mutex<HashMap<u64, Connection>>,
    refusals: Mutex<Vec<Refusal>>,
    request_faults: Mutex<Vec<RequestFault>>,
    /// Identities whose `init` was refused by a fault, in order.
    refused_inits: Mutex<Vec<String>>,
    requests: Mutex<Vec<LoggedRequest>>,
    /// Unknown frames and routes seen, for `GET /_emulator/realtime`.
    unknown: Mutex<Vec<String>>,
}

impl Twilsock {
    pub fn new(app: Arc<App>) -> Arc<Twilsock> {
        Arc::new(Twilsock {
            app,
            connections: Mutex::new(HashMap::new()),
            refusals: Mutex::new(Vec::new()),
            request_faults: Mutex::new(Vec::new()),
            refused_inits: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            unknown: Mutex::new(Vec::new()),
        })
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/v3/wsconnect", get(upgrade))
            .with_state(self.clone())
    }

    fn send_control(&self, identity: Option<&str>, control: Control) -> usize {
        let connections = self.connections.lock().unwrap();
        connections
            .values()
            .filter(|c| identity.is_none_or(|i| c.identity.as_deref() == Some(i)))
            .filter(|c| c.control.send(control.clone()).is_ok())
            .count()
    }

    /// Drops the matching connections' sockets, as a network failure would. Returns how many.
    pub fn drop_connections(&self, identity: Option<&str>) -> usize {
        self.send_control(identity, Control::Drop)
    }

    /// Expires the matching connections' tokens now (`close` 410). Returns how many.
    pub fn expire_tokens(&self, identity: Option<&str>) -> usize {
        self.send_control(identity, Control::Expire)
    }

    /// Warns the matching connections now that their token is about to expire. Returns how many.
    pub fn warn_tokens(&self, identity: Option<&str>) -> usize {
        self.send_control(identity, Control::Warn)
    }

    /// Holds (or releases) pushes to the matching connections. Returns how many.
    pub fn hold_pushes(&self, identity: Option<&str>, hold: bool) -> usize {
        self.send_control(identity, Control::Hold(hold))
    }

    /// Delays each push to the matching connections by `ms` (0 to stop). Returns how many.
    pub fn delay_pushes(&self, identity: Option<&str>, ms: u64) -> usize {
        self.send_control(identity, Control::Delay(ms))
    }

    /// Refuses new connections' `init` (503, so the SDK retries) for `ms`; 0 lifts the
    /// refusals for `identity`.
    pub fn refuse_connections(&self, identity: Option<&str>, ms: u64) {
        let mut refusals = self.refusals.lock().unwrap();
        if ms == 0 {
            refusals.retain(|r| identity.is_some() && r.identity.as_deref() != identity);
            return;
        }
        refusals.push(Refusal {
            identity: identity.map(str::to_owned),
            until: Instant::now() + Duration::from_millis(ms),
        });
    }

    /// Fails matching tunnelled requests (see [`RequestFault`]).
    pub fn fail_requests(&self, fault: RequestFault) {
        self.request_faults.lock().unwrap().push(fault);
    }

    /// Forgets the request faults for `identity` (every identity's with `None`); how many.
    pub fn unfail_requests(&self, identity: Option<&str>) -> usize {
        let mut faults = self.request_faults.lock().unwrap();
        let before = faults.len();
        faults.retain(|f| identity.is_some_and(|i| f.identity.as_deref() != Some(i)));
        before - faults.len()
    }

    fn take_request_fault(&self, identity: &str, req: &Request) -> Option<RequestFault> {
        crate::countdown::take_first(&mut self.request_faults.lock().unwrap(), |f| {
            f.identity.as_deref().is_none_or(|i| i == identity)
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(&req.method))
                && f.path_contains
                    .as_deref()
                    .is_none_or(|p| req.path.contains(p))
        })
    }

    fn refused(&self, identity: &str) -> bool {
        let mut refusals = self.refusals.lock().unwrap();
        let now = Instant::now();
        refusals.retain(|r| r.until > now);
        let refused = refusals
            .iter()
            .any(|r| r.identity.as_deref().is_none_or(|i| i == identity));
        if refused {
            self.refused_inits.lock().unwrap().push(identity.to_owned());
        }
        refused
    }

    /// Forgets faults and logs, and drops every connection.
    pub fn reset(&self) {
        self.refusals.lock().unwrap().clear();
        self.request_faults.lock().unwrap().clear();
        self.refused_inits.lock().unwrap().clear();
        self.requests.lock().unwrap().clear();
        self.unknown.lock().unwrap().clear();
        self.drop_connections(None);
    }

    /// Connections, tunnelled requests and unknown frames or routes, for the controls.
    pub fn report(&self) -> Value {
        let connections: Vec<Value> = {
            let world = self.app.world();
            let connections = self.connections.lock().unwrap();
            let mut list: Vec<Value> = connections
                .iter()
                .map(|(id, c)| {
                    json!({
                        "id": id,
                        "identity": c.identity,
                        "subscriptions": world.projection.subscriptions_of(*id),
                        "open_ms": c.opened.elapsed().as_millis() as u64,
                    })
                })
                .collect();
            list.sort_by_key(|c| c["id"].as_u64());
            list
        };
        json!({
            "connections": connections,
            "requests": *self.requests.lock().unwrap(),
            "refused_inits": *self.refused_inits.lock().unwrap(),
            "unknown": *self.unknown.lock().unwrap(),
        })
    }

    fn log_unknown(&self, what: String) {
        eprintln!("twilio-emulator: UNKNOWN twilsock {what} (answered 404; does the SDK version match 3.0.1?)");
        let mut unknown = self.unknown.lock().unwrap();
        if unknown.len() < KEPT_REQUESTS {
            unknown.push(what);
        }
    }

    fn log_request(&self, entry: LoggedRequest) {
        let mut requests = self.requests.lock().unwrap();
        requests.push(entry);
        if requests.len() > KEPT_REQUESTS {
            requests.remove(0);
        }
    }
}

async fn upgrade(State(twilsock): State<Arc<Twilsock>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| Session::run(twilsock, socket))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// When to warn before `client` expires: a fifth of the token's life, at most three minutes.
fn warning_at(client: &Client) -> u64 {
    let life = client.expires_at.saturating_sub(client.issued_at);
    let before = (life / 5).clamp(1, MAX_WARNING);
    client.expires_at.saturating_sub(before)
}

struct Session {
    id: u64,
    twilsock: Arc<Twilsock>,
    socket: WebSocket,
    pushes: mpsc::UnboundedSender<Notification>,
    /// Pushes waiting to be written: flushed before every reply, so that a reply never shows a
    /// write whose events this client has not been sent (the SDK's Sync list takes an item that
    /// a page brought first as known, and drops its added event: a lost `messageAdded`).
    push_rx: mpsc::UnboundedReceiver<Notification>,
    /// The test controls (hold, delay, drop...): each applies before any push queued after it.
    control_rx: mpsc::UnboundedReceiver<Control>,
    /// Set by `init`; the identity stays for `update`.
    client: Option<Client>,
    /// The token ran out on this socket: requests are refused until `update`.
    expired: bool,
    warned: bool,
    held: Option<Vec<Notification>>,
    delay_ms: u64,
    next_frame: u64,
}

/// What the session does after a frame.
enum Next {
    Continue,
    Close,
}

impl Session {
    async fn run(twilsock: Arc<Twilsock>, socket: WebSocket) {
        let id = twilsock.app.next_id();
        let (pushes, push_rx) = mpsc::unbounded_channel();
        let (control, control_rx) = mpsc::unbounded_channel();
        twilsock.connections.lock().unwrap().insert(
            id,
            Connection {
                identity: None,
                control,
                opened: Instant::now(),
            },
        );
        let mut s = Session {
            id,
            twilsock: twilsock.clone(),
            socket,
            pushes,
            push_rx,
            control_rx,
            client: None,
            expired: false,
            warned: false,
            held: None,
            delay_ms: 0,
            next_frame: 0,
        };
        let mut clock = tokio::time::interval(Duration::from_millis(250));
        loop {
            // Controls first: a test's control (a hold, a delay) is answered before the writes
            // it is meant for happen, and must apply to their pushes even when both are waiting
            // at once (unbiased, `select!` may pick either: a delayed push went out undelayed).
            let next = tokio::select! {
                biased;
                Some(control) = s.control_rx.recv() => s.on_control(control).await,
                frame = s.socket.recv() => match frame {
                    Some(Ok(WsMessage::Binary(bytes))) => s.on_frame(&bytes).await,
                    Some(Ok(WsMessage::Text(text))) => {
                        // The SDK reads only binary frames; a text one is a client we do not know.
                        s.twilsock.log_unknown(format!("text frame ({} bytes)", text.len()));
                        Next::Continue
                    }
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => Next::Close,
                    Some(Ok(_)) => Next::Continue,
                },
                Some(push) = s.push_rx.recv() => s.on_push(push).await,
                _ = clock.tick() => s.on_tick().await,
            };
            if matches!(next, Next::Close) {
                break;
            }
        }
        twilsock.connections.lock().unwrap().remove(&id);
        twilsock.app.world().projection.unregister(id);
    }

    fn frame_id(&mut self) -> String {
        self.next_frame += 1;
        format!("TM{:016x}{:016x}", self.id, self.next_frame)
    }

    async fn send(&mut self, header: Value, payload: &[u8]) -> Next {
        let Value::Object(header) = header else {
            unreachable!("headers are JSON objects")
        };
        let bytes = codec::encode(header, payload);
        match self.socket.send(WsMessage::Binary(bytes.into())).await {
            Ok(()) => Next::Continue,
            Err(_) => Next::Close,
        }
    }

    /// Writes (or holds) every push queued so far: a reply goes after the events of every write
    /// it can show.
    async fn flush_pushes(&mut self) -> Next {
        // A control sent before these pushes (a hold, a delay) applies to them.
        while let Ok(control) = self.control_rx.try_recv() {
            if matches!(self.on_control(control).await, Next::Close) {
                return Next::Close;
            }
        }
        while let Ok(push) = self.push_rx.try_recv() {
            if matches!(self.on_push(push).await, Next::Close) {
                return Next::Close;
            }
        }
        Next::Continue
    }

    /// A `reply` with a transport status (and, for tunnelled requests, the HTTP answer).
    async fn reply(&mut self, id: &str, status: u16, extra: Value, http: Option<Reply>) -> Next {
        if matches!(self.flush_pushes().await, Next::Close) {
            return Next::Close;
        }
        let mut header = json!({
            "method": "reply",
            "id": id,
            "status": {"code": status, "status": reason(status)},
        });
        if let Value::Object(extra) = extra {
            header.as_object_mut().unwrap().extend(extra);
        }
        let payload = match http {
            None => Vec::new(),
            Some(reply) => {
                header["http_status"] =
                    json!({"code": reply.status, "status": reason(reply.status)});
                header["http_headers"] = json!({"content-type": "application/json"});
                header["payload_type"] = json!("application/json");
                if reply.body.is_null() {
                    Vec::new()
                } else {
                    reply.body.to_string().into_bytes()
                }
            }
        };
        self.send(header, &payload).await
    }

    async fn refuse(&mut self, id: &str, e: &TwilioError) -> Next {
        if matches!(self.flush_pushes().await, Next::Close) {
            return Next::Close;
        }
        let header = json!({"status": {"code": e.status, "status": reason(e.status), "errorCode": e.code, "description": e.message}});
        let mut full = json!({"method": "reply", "id": id});
        full.as_object_mut()
            .unwrap()
            .extend(header.as_object().unwrap().clone());
        self.send(full, &[]).await
    }

    async fn on_frame(&mut self, bytes: &[u8]) -> Next {
        let frame = match codec::decode(bytes) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "twilio-emulator: twilsock connection {}: refused a frame: {e}",
                    self.id
                );
                return Next::Continue;
            }
        };
        let id = frame.id().to_owned();
        match frame.method() {
            "init" => self.on_init(&frame).await,
            "update" => self.on_update(&frame).await,
            "message" => self.on_message(&frame).await,
            // Acknowledgements of what we pushed.
            "reply" => Next::Continue,
            "close" => {
                self.reply(&id, 200, Value::Null, None).await;
                Next::Close
            }
            // Push registrations (put/delete_notification_ctx) and telemetry are not emulated:
            // accepted, and nothing else happens.
            "put_notification_ctx" | "delete_notification_ctx" | "telemetry.v1" => {
                self.reply(&id, 200, Value::Null, None).await
            }
            other => {
                self.twilsock.log_unknown(format!("frame method {other:?}"));
                self.refuse(
                    &id,
                    &TwilioError::new(404, 0, format!("unknown method {other}")),
                )
                .await
            }
        }
    }

    fn token_of(frame: &Frame) -> String {
        frame
            .header
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }

    fn verify(&self, token: &str) -> Result<Client, TwilioError> {
        let world = self.twilsock.app.world();
        tokens::verify(&self.twilsock.app.account, &world.model, token)
    }

    async fn on_init(&mut self, frame: &Frame) -> Next {
        let id = frame.id().to_owned();
        let client = match self.verify(&Self::token_of(frame)) {
            Ok(c) => c,
            Err(e) => return self.refuse(&id, &e).await,
        };
        if self.twilsock.refused(&client.identity) {
            let e = TwilioError::new(503, 0, "connections are refused for now (emulator fault)");
            return self.refuse(&id, &e).await;
        }
        let app = &self.twilsock.app;
        let origin = Origin::Sdk {
            identity: client.identity.clone(),
        };
        if let Err(e) = app.write(origin, |m| {
            m.ensure_user(&client.service_sid, &client.identity)
        }) {
            return self.refuse(&id, &e).await;
        }
        app.world().projection.register(
            self.id,
            &client.service_sid,
            &client.identity,
            self.pushes.clone(),
        );
        if let Some(c) = self.twilsock.connections.lock().unwrap().get_mut(&self.id) {
            c.identity = Some(client.identity.clone());
        }
        self.client = Some(client);
        self.expired = false;
        self.warned = false;
        let registrations: Vec<Value> = frame
            .header
            .get("registrations")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .map(|reg| {
                        json!({
                            "notification_ctx_id": format!("ctx{}", self.id),
                            "type": reg.get("type"),
                            "product": reg.get("product"),
                            "message_types": reg.get("message_types"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let extra = json!({
            "continuation_token": format!("CT{:032x}", self.id),
            "capabilities": ["client_update"],
            "init_registrations": registrations,
        });
        self.reply(&id, 200, extra, None).await
    }

    async fn on_update(&mut self, frame: &Frame) -> Next {
        let id = frame.id().to_owned();
        let client = match self.verify(&Self::token_of(frame)) {
            Ok(c) => c,
            Err(e) => return self.refuse(&id, &e).await,
        };
        if self
            .client
            .as_ref()
            .is_some_and(|c| c.identity != client.identity)
        {
            let e = TwilioError::new(
                401,
                20101,
                "Invalid Access Token: update must keep the identity",
            );
            return self.refuse(&id, &e).await;
        }
        self.client = Some(client);
        self.expired = false;
        self.warned = false;
        self.reply(&id, 200, Value::Null, None).await
    }

    async fn on_message(&mut self, frame: &Frame) -> Next {
        let id = frame.id().to_owned();
        let Some(client) = self.client.clone() else {
            let e = TwilioError::new(401, 20101, "send init first");
            return self.refuse(&id, &e).await;
        };
        if self.expired {
            return self.refuse(&id, &tokens::expired()).await;
        }
        let Some(req) = Request::from_frame(frame) else {
            self.twilsock
                .log_unknown("message without http_request".into());
            let e = TwilioError::invalid("a message frame needs http_request");
            return self.refuse(&id, &e).await;
        };
        let caller = Caller {
            conn: self.id,
            identity: client.identity.clone(),
            service: client.service_sid.clone(),
        };
        let app = self.twilsock.app.clone();
        let fault = self.twilsock.take_request_fault(&caller.identity, &req);
        let routed = match &fault {
            Some(f) if !f.apply => Some(Reply::error(&TwilioError::new(
                f.status,
                20500,
                "emulator fault",
            ))),
            _ => aim::route(&app, &caller, &req).or_else(|| cds::route(&app, &caller, &req)),
        };
        let routed = match (&fault, routed) {
            (Some(f), Some(_)) if f.apply => Some(Reply::error(&TwilioError::new(
                f.status,
                20500,
                "emulator fault (the request took effect)",
            ))),
            (_, routed) => routed,
        };
        let unknown = routed.is_none();
        let reply = routed.unwrap_or_else(|| {
            self.twilsock
                .log_unknown(format!("route {} {}{}", req.method, req.host, req.path));
            Reply::error(&TwilioError::new(
                404,
                20404,
                format!("no route {} {}", req.method, req.path),
            ))
        });
        self.twilsock.log_request(LoggedRequest {
            connection: self.id,
            identity: caller.identity,
            method: req.method.clone(),
            host: req.host.clone(),
            path: req.path.clone(),
            status: reply.status,
            unknown,
        });
        self.reply(&id, 200, Value::Null, Some(reply)).await
    }

    async fn notify(&mut self, push: Notification) -> Next {
        if self.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
        }
        let header = json!({
            "method": "notification",
            "id": self.frame_id(),
            "message_type": push.message_type,
            "notification_ctx_id": format!("ctx{}", self.id),
            "payload_type": "application/json",
        });
        self.send(header, push.payload.to_string().as_bytes()).await
    }

    async fn on_push(&mut self, push: Notification) -> Next {
        if let Some(held) = &mut self.held {
            held.push(push);
            return Next::Continue;
        }
        self.notify(push).await
    }

    async fn on_control(&mut self, control: Control) -> Next {
        match control {
            Control::Drop => Next::Close,
            Control::Expire => self.expire().await,
            Control::Warn => self.warn().await,
            Control::Hold(true) => {
                self.held.get_or_insert_with(Vec::new);
                Next::Continue
            }
            Control::Hold(false) => {
                for push in self.held.take().unwrap_or_default() {
                    if matches!(self.notify(push).await, Next::Close) {
                        return Next::Close;
                    }
                }
                Next::Continue
            }
            Control::Delay(ms) => {
                self.delay_ms = ms;
                Next::Continue
            }
        }
    }

    /// The token ran out: `close` 410 (the SDK fires `tokenExpired`), then the socket closes.
    async fn expire(&mut self) -> Next {
        self.expired = true;
        let header = json!({
            "method": "close",
            "id": self.frame_id(),
            "status": {"code": 410, "status": "Token expired", "errorCode": 20104},
        });
        if matches!(self.send(header, &[]).await, Next::Close) {
            return Next::Close;
        }
        self.close_handshake().await;
        Next::Close
    }

    /// Closes the WebSocket properly and waits (a little) for the client's answer, so that
    /// the SDK sees its socket closed at once and can reconnect with a new token.
    async fn close_handshake(&mut self) {
        let frame = CloseFrame {
            code: 1000,
            reason: "token expired".into(),
        };
        if self
            .socket
            .send(WsMessage::Close(Some(frame)))
            .await
            .is_err()
        {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if matches!(message, WsMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    async fn on_tick(&mut self) -> Next {
        let Some(client) = &self.client else {
            return Next::Continue;
        };
        if self.expired {
            return Next::Continue;
        }
        let now = now_secs();
        if now >= client.expires_at {
            return self.expire().await;
        }
        if !self.warned && now >= warning_at(client) {
            return self.warn().await;
        }
        Next::Continue
    }

    /// `client_update` `token_about_to_expire`, once per token (a new token clears `warned`).
    async fn warn(&mut self) -> Next {
        if self.client.is_none() || self.expired || self.warned {
            return Next::Continue;
        }
        self.warned = true;
        let header = json!({
            "method": "client_update",
            "id": self.frame_id(),
            "client_update_type": "token_about_to_expire",
        });
        self.send(header, &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(issued_at: u64, expires_at: u64) -> Client {
        Client {
            identity: "ana".into(),
            service_sid: "IS1".into(),
            expires_at,
            issued_at,
        }
    }

    #[test]
    fn warns_a_fifth_of_the_life_before_expiry_and_at_most_three_minutes() {
        assert_eq!(warning_at(&client(1000, 1030)), 1024);
        assert_eq!(warning_at(&client(1000, 1003)), 1002);
        assert_eq!(warning_at(&client(0, 3600)), 3600 - 180);
    }

    #[test]
    fn tunnelled_requests_decode_params_and_bodies() {
        let header = json!({
            "method": "message", "id": "TM1",
            "http_request": {"host": "aim.us1.twilio.com", "path": "/Client/v2/Users/visitor%3Aacme%3A1", "method": "get",
                             "params": {"From": "10", "Key": ["a", "CH%20x"]}},
        });
        let frame = Frame {
            header: header.as_object().unwrap().clone(),
            payload: br#""{\"body\":\"hi\"}""#.to_vec(),
        };
        let req = Request::from_frame(&frame).unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.segments(), ["Client", "v2", "Users", "visitor:acme:1"]);
        assert_eq!(req.param("From").as_deref(), Some("10"));
        assert_eq!(req.param("Key").as_deref(), Some("CH x"));
        assert_eq!(req.json_object().unwrap()["body"], "hi");
        let typing = Request {
            body: b"ChannelSid=CH1".to_vec(),
            ..req
        };
        assert_eq!(typing.form_or_json("ChannelSid").as_deref(), Some("CH1"));
    }
}
