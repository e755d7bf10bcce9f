//! Worker secrets, read and checked once per isolate: they cannot change under a running isolate
//! (a new secret means a new deployment). Failures are not cached, so a fix is seen at once.

use std::cell::OnceCell;
use std::rc::Rc;
use std::thread::LocalKey;

use edgechat_core::api::secrets::{SecretError, WebhookSecrets};
use edgechat_core::api::{ApiError, ErrorCode};
use worker::Env;

use crate::http::Reply;

/// The secrets `load` reads, from `cell` once they have loaded. A missing or malformed secret is a
/// 503 whose message names the variable (never its value).
pub fn cached<T: 'static>(
    cell: &'static LocalKey<OnceCell<Rc<T>>>,
    env: &Env,
    load: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> Result<T, SecretError>,
) -> Result<Rc<T>, Reply> {
    if let Some(secrets) = cell.with(|c| c.get().cloned()) {
        return Ok(secrets);
    }
    let lookup = |name: &str| env.secret(name).ok().map(|v| v.to_string());
    let secrets = load(&lookup).map_err(|e| {
        let code = match e {
            SecretError::Missing(_) => ErrorCode::MissingSecret,
            SecretError::Invalid(..) => ErrorCode::InvalidSecret,
        };
        Reply::error(ApiError::new(code, e.to_string()))
    })?;
    let secrets = Rc::new(secrets);
    Ok(cell.with(|c| c.get_or_init(|| secrets.clone()).clone()))
}

/// The secrets the webhook path needs (the route's signature check and the conversation
/// object's REST calls), read once per isolate.
pub fn webhook(env: &Env) -> Result<Rc<WebhookSecrets>, Reply> {
    thread_local! {
        static SECRETS: OnceCell<Rc<WebhookSecrets>> = const { OnceCell::new() };
    }
    cached(&SECRETS, env, |lookup| WebhookSecrets::load(lookup))
}

/// The auth token alone, which checks webhook signatures: read before the other webhook
/// secrets, so that nothing about them is said to a caller whose signature is not checked yet.
pub fn auth_token(env: &Env) -> Result<Rc<String>, Reply> {
    thread_local! {
        static TOKEN: OnceCell<Rc<String>> = const { OnceCell::new() };
    }
    cached(&TOKEN, env, |lookup| {
        edgechat_core::api::secrets::read_auth_token(lookup)
    })
}
