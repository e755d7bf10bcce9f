//! The edgechat Worker: the `fetch` entry and the route table. Each route's handler lives in the
//! module of its feature; `http` holds the response plumbing they share.

use worker::{event, Context, Env, Method, Request, Response, Result};

mod clock;
mod demo;
mod end;
mod faults;
mod http;
mod limits;
mod log;
mod public_config;
mod secrets;
mod sites;
mod start;
mod token;
mod twilio;
mod users;
mod webhook;

use http::Reply;

/// A uniform number in [0, 1) from `crypto.getRandomValues` (retry jitter); the middle of the
/// range if the runtime has no randomness to give.
pub(crate) fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / 4_294_967_296.0,
        Err(_) => 0.5,
    }
}

/// Every route the Worker answers, with its path parameters. Static assets (the demo page, the
/// widget, `embed.js`) never reach this: Workers assets serves them first.
enum Route {
    Health,
    PublicConfig(String),
    Token(String),
    /// A visitor's new conversation, on this site.
    Start(String),
    /// The site, and the conversation's SID.
    End(String, String),
    /// The demo page's test user (only against the local emulator).
    DemoUserToken(String),
    ConversationsWebhook,
    NotFound,
}

impl Route {
    fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["health"] => Route::Health,
            ["api", "sites", site, "config"] => Route::PublicConfig((*site).to_owned()),
            ["api", "sites", site, "token"] => Route::Token((*site).to_owned()),
            ["api", "sites", site, "conversations"] => Route::Start((*site).to_owned()),
            ["api", "sites", site, "conversations", sid, "end"] => {
                Route::End((*site).to_owned(), (*sid).to_owned())
            }
            ["api", "sites", site, "demo", "user-token"] => {
                Route::DemoUserToken((*site).to_owned())
            }
            ["webhooks", "conversations"] => Route::ConversationsWebhook,
            _ => Route::NotFound,
        }
    }

    /// The route's template, for log lines (never the path itself: no ids in logs' route field).
    fn name(&self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::PublicConfig(_) => "/api/sites/:site/config",
            Route::Token(_) => "/api/sites/:site/token",
            Route::Start(_) => "/api/sites/:site/conversations",
            Route::End(..) => "/api/sites/:site/conversations/:sid/end",
            Route::DemoUserToken(_) => "/api/sites/:site/demo/user-token",
            Route::ConversationsWebhook => "/webhooks/conversations",
            Route::NotFound => "(none)",
        }
    }
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started_ms = worker::Date::now().as_millis();
    let route = Route::parse(&req.path());
    let method = req.method();
    let reply = match (&route, &method) {
        (Route::Health, Method::Get | Method::Head) => Reply::json(200, &Health { status: "ok" }),
        (Route::Health, _) => Reply::method_not_allowed("GET"),
        (Route::PublicConfig(site), Method::Get | Method::Head | Method::Options) => {
            public_config::handle(req, &env, site).await
        }
        (Route::PublicConfig(_), _) => Reply::method_not_allowed("GET, OPTIONS"),
        (Route::Token(site), Method::Post | Method::Options) => {
            token::handle(req, &env, site).await
        }
        (Route::Token(_), _) => Reply::method_not_allowed("POST, OPTIONS"),
        (Route::Start(site), Method::Post | Method::Options) => {
            start::handle(req, &env, site).await
        }
        (Route::Start(_), _) => Reply::method_not_allowed("POST, OPTIONS"),
        (Route::End(site, sid), Method::Post | Method::Options) => {
            end::handle(req, &env, site, sid).await
        }
        (Route::End(..), _) => Reply::method_not_allowed("POST, OPTIONS"),
        (Route::DemoUserToken(site), Method::Post | Method::Options) => {
            demo::handle(req, &env, site).await
        }
        (Route::DemoUserToken(_), _) => Reply::not_found(),
        (Route::ConversationsWebhook, Method::Post) => webhook::handle(req, &env).await,
        (Route::ConversationsWebhook, _) => Reply::method_not_allowed("POST"),
        (Route::NotFound, _) => Reply::not_found(),
    };
    let status_and_log = log::RequestLog::new(method.as_ref(), route.name(), &reply, started_ms);
    let response = reply.into_response();
    status_and_log.emit(response.as_ref().map(|r| r.status_code()).unwrap_or(500));
    response
}
