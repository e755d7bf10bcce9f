//! `POST /api/sites/{site}/token`: a Twilio access token for a visitor the Worker minted.
//!
//! `{}` mints a new visitor; `{"visitor": "<credential>"}` proves a returning one. No request can
//! name the identity it wants: identities exist only as the Worker minted them.

use edgechat_core::api::limits::Budget;
use edgechat_core::api::secrets::TokenSecrets;
use edgechat_core::api::{ApiError, ErrorCode, TokenRequest, TokenResponse, MAX_BODY_BYTES};
use edgechat_core::twilio::access_token::{ChatGrant, Claims};
use edgechat_core::user_token::{self, is_user_token, UserTokenError, VerifiedUser};
use edgechat_core::visitor::VisitorIdentity;
use std::rc::Rc;

use worker::{Env, Request};

use crate::http::{self, Reply};
use crate::limits;
use crate::sites::{self, Site};

pub async fn handle(req: Request, env: &Env, raw_site: &str) -> Reply {
    sites::post(req, env, raw_site, |req, site| async move {
        issue(req, env, &site).await
    })
    .await
}

async fn issue(mut req: Request, env: &Env, site: &Site) -> Result<Reply, Reply> {
    let secrets = secrets(env)?;
    let body = http::read_body(&mut req, MAX_BODY_BYTES, ErrorCode::InvalidJson).await?;
    let request = TokenRequest::from_body(&body)
        .map_err(|e| Reply::error(ApiError::new(ErrorCode::InvalidJson, e.to_string())))?;
    let limits = site.config.rate_limits;
    let new_visitor = Budget::NewVisitor {
        site: site.id.clone(),
        address: limits::client_address(&req),
    };
    let new_buckets = limits.new_visitors_per_minute.buckets();

    let now = worker::Date::now().as_millis() / 1000;
    let policy = site.config.credential_policy();
    if let Some(user_token) = &request.user_token {
        return signed_in(
            env,
            site,
            &secrets,
            user_token,
            request.visitor.as_deref(),
            now,
        )
        .await;
    }
    let identity = match request.visitor {
        Some(credential) => match secrets
            .visitor_signer
            .verify(&credential, &site.id, policy, now)
        {
            Ok(verified) => {
                let identity = verified.identity;
                let renewal = Budget::Renewal {
                    site: site.id.clone(),
                    visitor: identity.to_string(),
                };
                let buckets = limits.renewals_per_minute.buckets();
                limits::take(
                    env,
                    limits::RENEWALS,
                    &renewal,
                    buckets,
                    "token renewals for this visitor",
                )
                .await?;
                identity
            }
            Err(why) => {
                // Guessing at credentials costs the guesser's address, as minting does.
                limits::take(
                    env,
                    limits::NEW_VISITORS,
                    &new_visitor,
                    new_buckets,
                    "token requests from this address",
                )
                .await?;
                return Err(Reply::error(ApiError::new(
                    ErrorCode::InvalidVisitorCredential,
                    "this visitor credential is not valid for this site: forget it and send {} \
                 to start as a new visitor",
                ))
                .with_detail(format!("visitor credential {why}")));
            }
        },
        None => {
            limits::take(
                env,
                limits::NEW_VISITORS,
                &new_visitor,
                new_buckets,
                "new visitors from this address",
            )
            .await?;
            // The whole site's new visitors too: many addresses (a /48 is 65,536 budgets of
            // the one above) cannot run up the site's Twilio bill.
            limits::take(
                env,
                limits::SITE,
                &Budget::SiteNewVisitors {
                    site: site.id.clone(),
                },
                limits.site_new_visitors_per_minute.buckets(),
                "new visitors on this site this minute",
            )
            .await?;
            let mut random = [0u8; 16];
            getrandom::getrandom(&mut random).map_err(|e| {
                Reply::error(ApiError::new(
                    ErrorCode::Internal,
                    "could not mint a visitor id",
                ))
                .with_detail(format!("crypto.getRandomValues failed: {e}"))
            })?;
            VisitorIdentity::new(site.id.clone(), random)
        }
    };

    Ok(token_for(&identity, site, &secrets, now))
}

/// The token response for `identity`: a Twilio token, and for an anonymous visitor a credential
/// issued anew (a credential in use never ages).
fn token_for(identity: &VisitorIdentity, site: &Site, secrets: &TokenSecrets, now: u64) -> Reply {
    let claims = Claims::new(
        secrets.account_sid.clone(),
        secrets.api_key_sid.clone(),
        identity.to_string(),
        ChatGrant {
            service_sid: site.config.service_sid.clone(),
            push_credential_sid: site.config.push_credential_sid.clone(),
        },
        now,
        site.config.token_ttl_seconds.seconds(),
    );
    let epoch = site.config.credential_policy().epoch;
    Reply::json(
        200,
        &TokenResponse {
            token: claims.sign(secrets.api_key_secret.as_bytes()),
            identity: identity.to_string(),
            visitor: secrets.visitor_signer.credential(identity, epoch, now),
            expires_at: claims.exp,
            expires_in: site.config.token_ttl_seconds.seconds(),
        },
    )
}

/// A signed-in user's token. With the credential of the anonymous visitor they were until now,
/// that visitor's open conversations become the user's too: the user joins each, and its
/// attributes say so (`user`), so that the same conversation follows them to every device.
async fn signed_in(
    env: &Env,
    site: &Site,
    secrets: &TokenSecrets,
    user_token: &str,
    visitor: Option<&str>,
    now: u64,
) -> Result<Reply, Reply> {
    let user = verified_user(env, site, user_token, now)?;
    let limits = site.config.rate_limits;
    limits::take(
        env,
        limits::RENEWALS,
        &Budget::Renewal {
            site: site.id.clone(),
            visitor: user.identity.to_string(),
        },
        limits.renewals_per_minute.buckets(),
        "token renewals for this user",
    )
    .await?;
    if let Some(credential) = visitor {
        // A credential that no longer verifies is simply not carried over: the user still
        // signs in (a stale anonymous visit must not lock them out).
        if let Ok(Proven { identity: was, .. }) = verified(env, secrets, site, credential, now) {
            if was.user_sub().is_none() {
                crate::users::carry_over(env, site, secrets, &was, &user, now * 1000).await?;
            }
        }
    }
    Ok(token_for(&user.identity, site, secrets, now))
}

pub(crate) fn secrets(env: &Env) -> Result<Rc<TokenSecrets>, Reply> {
    thread_local! {
        static SECRETS: std::cell::OnceCell<Rc<TokenSecrets>> = const { std::cell::OnceCell::new() };
    }
    crate::secrets::cached(&SECRETS, env, |lookup| TokenSecrets::load(lookup))
}

/// Who a proof names, once verified: a visitor, or a signed-in user (with their token's claims).
pub(crate) struct Proven {
    pub identity: VisitorIdentity,
    pub user: Option<VerifiedUser>,
}

/// The visitor `credential` proves on `site` at `now_s`, or 401 `invalid_visitor_credential`
/// (why, in the log line only). Routes other than the token's (the start, the end) use it.
pub(crate) fn verified(
    env: &Env,
    secrets: &TokenSecrets,
    site: &Site,
    credential: &str,
    now_s: u64,
) -> Result<Proven, Reply> {
    // A signed-in user proves themselves with the site's user token, not with a credential of
    // ours.
    if is_user_token(credential) {
        let user = verified_user(env, site, credential, now_s)?;
        return Ok(Proven {
            identity: user.identity.clone(),
            user: Some(user),
        });
    }
    secrets
        .visitor_signer
        .verify(credential, &site.id, site.config.credential_policy(), now_s)
        .map(|v| Proven {
            identity: v.identity,
            user: None,
        })
        .map_err(|why| {
            Reply::error(ApiError::new(
                ErrorCode::InvalidVisitorCredential,
                "this visitor credential is not valid for this site: ask for a new token",
            ))
            .with_detail(format!("visitor credential {why}"))
        })
}

/// The user a site's user token names, verified with the secrets the site's
/// `identity_verification` names; 401 `invalid_user_token` saying why, or 503 naming a secret
/// the config names but the Worker lacks.
pub(crate) fn verified_user(
    env: &Env,
    site: &Site,
    token: &str,
    now_s: u64,
) -> Result<VerifiedUser, Reply> {
    let refused =
        |e: UserTokenError| Reply::error(ApiError::new(ErrorCode::InvalidUserToken, e.to_string()));
    let Some(verification) = &site.config.identity_verification else {
        return Err(refused(UserTokenError::NotConfigured));
    };
    let mut secrets = Vec::new();
    for name in verification.names() {
        match env.secret(name) {
            Ok(value) => secrets.push(value.to_string()),
            Err(_) => {
                return Err(Reply::error(ApiError::new(
                    ErrorCode::MissingSecret,
                    format!(
                        "the Worker secret {name}, which this site's identity_verification \
                         names, is not set: run `npx wrangler secret put {name}` (locally, add \
                         it to .dev.vars)"
                    ),
                )))
            }
        }
    }
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    user_token::verify(token, &keys, &site.id, now_s).map_err(refused)
}
