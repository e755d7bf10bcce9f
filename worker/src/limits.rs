//! Rate limits on the browser-facing routes, on Cloudflare's rate limiting bindings (counted
//! per minute, simulated locally by `wrangler dev`). What is counted by what, and why, is in
//! `edgechat_core::api::limits`; a limit of N a minute is N / 10 buckets of a binding's 10.

use edgechat_core::api::limits::{Budget, RETRY_AFTER_SECONDS};
use edgechat_core::api::{ApiError, ErrorCode};
use worker::{Env, Request};

use crate::http::Reply;

/// New visitors (and credentials that do not verify), per site and client address: 10 a bucket.
pub const NEW_VISITORS: &str = "NEW_VISITOR_LIMITER";
/// Renewals of a valid credential, per site and visitor: 10 a bucket.
pub const RENEWALS: &str = "RENEWAL_LIMITER";
/// Whole-site budgets (new visitors, new conversations), and each visitor's new
/// conversations: 100 a bucket.
pub const SITE: &str = "SITE_LIMITER";
/// Unknown site ids (each a KV read), per client address: 20 a minute.
pub const SITE_LOOKUPS: &str = "SITE_LOOKUP_LIMITER";

/// The client's address as the limits count it (`CF-Connecting-IP`, set by Cloudflare).
pub fn client_address(req: &Request) -> String {
    let ip = req
        .headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_default();
    edgechat_core::api::limits::client_address(&ip)
}

/// Takes one request from `budget`'s `buckets` buckets on `binding`, or answers 429 with
/// `Retry-After` (readable by the widget across origins).
pub async fn take(
    env: &Env,
    binding: &'static str,
    budget: &Budget,
    buckets: u32,
    what: &str,
) -> Result<(), Reply> {
    let limiter = env.rate_limiter(binding).map_err(|_| {
        Reply::error(ApiError::new(
            ErrorCode::MissingBinding,
            format!(
                "the rate limiting binding {binding} is missing: add a [[ratelimits]] entry \
                 with name = \"{binding}\" to wrangler.toml"
            ),
        ))
    })?;
    for bucket in 0..buckets.max(1) {
        match limiter.limit(budget.key(bucket)).await {
            Ok(outcome) if outcome.success => return Ok(()),
            Ok(_) => {}
            // The limiter is a guard, not a dependency: if it fails, serve and say so in the log.
            Err(e) => {
                worker::console_warn!(
                    "{{\"warning\":\"rate limiter failed, request allowed\",\"detail\":{:?}}}",
                    e.to_string()
                );
                return Ok(());
            }
        }
    }
    Err(Reply::error(ApiError::new(
        ErrorCode::RateLimited,
        format!("too many {what}; try again in {RETRY_AFTER_SECONDS} s"),
    ))
    .with_header("Retry-After", RETRY_AFTER_SECONDS.to_string()))
}
