//! `GET /api/sites/{site}/config`: what the widget needs to draw itself, never a secret.

use worker::{Env, Request};

use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::site::config::RealtimeUrl;

use crate::http::Reply;
use crate::sites::{self, OriginRule};

/// Worker var, optional: where the widget loads the Conversations SDK from instead of the
/// vendored copy embed.js names (content-hashed, cached immutable).
const SDK_URL_VAR: &str = "CONVERSATIONS_SDK_URL";
/// Worker var, set only for the local emulator: where the SDK's realtime connection goes.
const REALTIME_URL_VAR: &str = "TWILIO_REALTIME_URL";

pub async fn handle(req: Request, env: &Env, raw_site: &str) -> Reply {
    sites::route(
        req,
        env,
        raw_site,
        OriginRule::Optional,
        "GET, OPTIONS",
        |_req, site| async move {
            let sdk_url = env.var(SDK_URL_VAR).ok().map(|v| v.to_string());
            let realtime_url = match env.var(REALTIME_URL_VAR) {
                Err(_) => None,
                Ok(v) => match RealtimeUrl::try_from(v.to_string()) {
                    Ok(url) => Some(url),
                    Err(e) => {
                        return Err(Reply::error(ApiError::new(
                            ErrorCode::InvalidVar,
                            format!("{REALTIME_URL_VAR}: {e}"),
                        )))
                    }
                },
            };
            let mut public =
                site.config
                    .public(&site.id, sdk_url.as_deref(), realtime_url.as_ref());
            // Closed now (by the site's office hours, in their zone, from the runtime's Intl):
            // the away message and when people are back. A zone the runtime does not know
            // leaves the panel as if open (the site-config check names such a zone).
            if let Some(hours) = &site.config.office_hours {
                if let Ok(at) = crate::clock::local_now(hours.time_zone.as_str()) {
                    public.away = site.config.away_at(at, worker::Date::now().as_millis());
                }
            }
            Ok(Reply::json(200, &public))
        },
    )
    .await
}
