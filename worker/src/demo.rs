//! `POST /api/sites/{site}/demo/user-token`: the demo page's "sign in as a test user" switch.
//! It stands in for a site's backend, which is what signs user tokens in real life, and so it
//! answers only on a Worker pointed at the local Twilio emulator (`TWILIO_API_BASE` on
//! 127.0.0.1 or localhost, as `npm start` sets it): anywhere else it is 404, like any unknown
//! route. It signs, with the site's `identity_verification` secret, a token for the test user
//! named in the body (`{"sub": "...", "name"?: "..."}`), valid for an hour.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::visitor::VisitorIdentity;
use worker::{Env, Request};

use crate::http::{self, Reply};
use crate::sites::{self, Site};

/// Whether this Worker runs against the local emulator (never a deployment).
fn local(env: &Env) -> bool {
    env.var(crate::twilio::API_BASE_VAR)
        .map(|v| v.to_string())
        .ok()
        .and_then(|base| url::Url::parse(&base).ok())
        .is_some_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost")))
}

pub async fn handle(req: Request, env: &Env, raw_site: &str) -> Reply {
    if !local(env) {
        return Reply::not_found();
    }
    sites::post(req, env, raw_site, |req, site| async move {
        sign(req, env, &site).await
    })
    .await
}

async fn sign(mut req: Request, env: &Env, site: &Site) -> Result<Reply, Reply> {
    let body = http::read_body(&mut req, 1024, ErrorCode::InvalidJson).await?;
    let fields = edgechat_core::api::end::fields(std::str::from_utf8(&body).unwrap_or(""))
        .ok_or_else(|| bad("send {\"sub\": \"<a test user id>\", \"name\": \"<their name>\"}"))?;
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
    };
    let sub = text("sub").unwrap_or_default();
    if VisitorIdentity::user(site.id.clone(), &sub).is_none() {
        return Err(bad("sub must be 1 to 128 of A-Z a-z 0-9 . _ @ + -"));
    }
    let Some(secret_name) = site
        .config
        .identity_verification
        .as_ref()
        .and_then(|v| v.names().next().map(str::to_owned))
    else {
        return Err(Reply::error(ApiError::new(
            ErrorCode::InvalidUserToken,
            "this site does not verify users: add identity_verification to its config",
        )));
    };
    let secret = env
        .secret(&secret_name)
        .map(|s| s.to_string())
        .map_err(|_| {
            Reply::error(ApiError::new(
                ErrorCode::MissingSecret,
                format!("the Worker secret {secret_name} is not set (npm start generates it)"),
            ))
        })?;
    let now = worker::Date::now().as_millis() / 1000;
    // Written by hand: serde_json's `Value` would weigh kilobytes of the upload.
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let claims = format!(
        "{{\"sub\":{},\"aud\":{},\"iat\":{now},\"exp\":{},\"name\":{}}}",
        quoted(&sub),
        quoted(site.id.as_str()),
        now + 3600,
        quoted(&text("name").unwrap_or_else(|| sub.clone()))
    );
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = edgechat_core::jwt::sign_hs256(input.as_bytes(), secret.as_bytes());
    Ok(Reply::json(
        200,
        &DemoToken {
            user_token: format!("{input}.{signature}"),
        },
    ))
}

fn bad(message: &str) -> Reply {
    Reply::error(ApiError::new(ErrorCode::InvalidJson, message))
}

#[derive(serde::Serialize)]
struct DemoToken {
    user_token: String,
}
