//! `GET /api/sites/{site}/config`: what the widget needs to draw itself, never a secret.

use worker::{Env, Request};

use crate::http::Reply;
use crate::sites::{self, OriginRule};

/// Worker var: where the widget loads the Conversations SDK from.
const SDK_URL_VAR: &str = "CONVERSATIONS_SDK_URL";
const DEFAULT_SDK_URL: &str = "/vendor/twilio-conversations.min.js";

pub async fn handle(req: Request, env: &Env, raw_site: &str) -> Reply {
    sites::route(
        req,
        env,
        raw_site,
        OriginRule::Optional,
        "GET, OPTIONS",
        |_req, site| async move {
            let sdk_url = env
                .var(SDK_URL_VAR)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| DEFAULT_SDK_URL.to_owned());
            Reply::json(200, &site.config.public(&site.id, &sdk_url))
        },
    )
    .await
}
