//! Users (`/v1/Services/{IS}/Users`, and `/v1/Users` for the default service), in Twilio's
//! JSON: the backend makes one with a role before its first connection, or changes a user's
//! role (`RoleSid`), name and attributes. A user named in a path may be given by SID or
//! identity, as Twilio takes it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{answer, created, page, Ctx};
use crate::app::App;
use crate::http::{error_response, twilio_error, Form};
use crate::model::{Account, User, UserUpdate};

fn user_json(u: &User, account: &Account, ctx: &Ctx) -> Value {
    let url = ctx.urls.resource(&format!("Users/{}", u.sid));
    json!({
        "sid": u.sid,
        "account_sid": account.account_sid,
        "chat_service_sid": ctx.service,
        "role_sid": u.role_sid,
        "identity": u.identity,
        "friendly_name": u.friendly_name,
        "attributes": u.attributes,
        "is_online": null,
        "is_notifiable": null,
        "date_created": u.date_created,
        "date_updated": u.date_updated,
        "url": url,
        "links": {"user_conversations": format!("{url}/Conversations")},
    })
}

fn update_from(form: &Form) -> UserUpdate {
    UserUpdate {
        friendly_name: form.get("FriendlyName").map(str::to_owned),
        attributes: form.get("Attributes").map(str::to_owned),
        role_sid: form.get("RoleSid").map(str::to_owned),
    }
}

fn user_param(ctx: &Ctx) -> &str {
    ctx.params.get("user").map(String::as_str).unwrap_or("")
}

pub(super) async fn list_users(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items: Vec<Value> = {
        let world = app.world();
        world.model.services[&ctx.service]
            .users
            .values()
            .map(|u| user_json(u, &app.account, &ctx))
            .collect()
    };
    page(items, "users", &ctx, &query)
}

/// `Identity` (required), `RoleSid` (a service role; the default one if absent),
/// `FriendlyName`, `Attributes`; an identity that is a user already is 409 50201.
pub(super) async fn create_user(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let Some(identity) = form.get("Identity") else {
        return twilio_error(400, 20001, "Identity is required");
    };
    let update = update_from(&form);
    match app.write(ctx.origin(), |m| {
        m.create_user(&ctx.service, identity, update)
    }) {
        Ok(u) => created(user_json(&u, &app.account, &ctx)),
        Err(e) => error_response(&e),
    }
}

pub(super) async fn fetch_user(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let world = app.world();
    let result = world
        .model
        .find_user(&ctx.service, user_param(&ctx))
        .map(|u| Json(user_json(u, &app.account, &ctx)).into_response());
    answer(&ctx, result)
}

/// `RoleSid`, `FriendlyName`, `Attributes` of an existing user.
pub(super) async fn update_user(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let update = update_from(&Form::parse(&body));
    let result = app
        .write(ctx.origin(), |m| {
            let identity = m
                .find_user(&ctx.service, user_param(&ctx))?
                .identity
                .clone();
            m.update_user(&ctx.service, &identity, update)
        })
        .map(|u| Json(user_json(&u, &app.account, &ctx)).into_response());
    answer(&ctx, result)
}

pub(super) async fn delete_user(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let result = app
        .write(ctx.origin(), |m| {
            m.delete_user(&ctx.service, user_param(&ctx))
        })
        .map(|()| StatusCode::NO_CONTENT.into_response());
    answer(&ctx, result)
}
