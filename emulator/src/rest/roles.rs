//! Roles (`/v1/Services/{IS}/Roles`, and `/v1/Roles` for the default service) and the
//! service's Configuration (`/v1/Services/{IS}/Configuration`: which roles new users,
//! participants and a conversation's creator get), in Twilio's JSON. What the roles allow is
//! the model's (`model::roles`); here only the resources.

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
use crate::model::{Account, Role, RoleDefaults, RoleDefaultsUpdate, RoleKind};

fn role_json(r: &Role, account: &Account, ctx: &Ctx) -> Value {
    json!({
        "sid": r.sid,
        "account_sid": account.account_sid,
        "chat_service_sid": ctx.service,
        "friendly_name": r.friendly_name,
        "type": r.kind.name(),
        "permissions": r.permissions,
        "date_created": r.date_created,
        "date_updated": r.date_updated,
        "url": ctx.urls.resource(&format!("Roles/{}", r.sid)),
    })
}

fn role_param(ctx: &Ctx) -> &str {
    ctx.params.get("role").map(String::as_str).unwrap_or("")
}

pub(super) async fn list_roles(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let items: Vec<Value> = {
        let world = app.world();
        world.model.services[&ctx.service]
            .roles
            .iter()
            .map(|r| role_json(r, &app.account, &ctx))
            .collect()
    };
    page(items, "roles", &ctx, &query)
}

/// `FriendlyName`, `Type` (`service` | `conversation`) and `Permission` (repeated), all
/// required; an unknown permission is refused (400 20001) naming it.
pub(super) async fn create_role(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let Some(name) = form.get("FriendlyName") else {
        return twilio_error(400, 20001, "FriendlyName is required");
    };
    let Some(kind) = form.get("Type").and_then(RoleKind::parse) else {
        return twilio_error(400, 20001, "Type is required: service or conversation");
    };
    let permissions = form.all("Permission");
    match app.write(ctx.origin(), |m| {
        m.create_role(&ctx.service, name, kind, permissions)
    }) {
        Ok(r) => created(role_json(&r, &app.account, &ctx)),
        Err(e) => error_response(&e),
    }
}

pub(super) async fn fetch_role(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let world = app.world();
    let result = world
        .model
        .role(&ctx.service, role_param(&ctx))
        .map(|r| Json(role_json(r, &app.account, &ctx)).into_response());
    answer(&ctx, result)
}

/// `Permission` (repeated, required) replaces the role's permissions.
pub(super) async fn update_role(State(app): State<Arc<App>>, ctx: Ctx, body: Bytes) -> Response {
    let permissions = Form::parse(&body).all("Permission");
    let result = app
        .write(ctx.origin(), |m| {
            m.update_role(&ctx.service, role_param(&ctx), permissions)
        })
        .map(|r| Json(role_json(&r, &app.account, &ctx)).into_response());
    answer(&ctx, result)
}

pub(super) async fn delete_role(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let result = app
        .write(ctx.origin(), |m| {
            m.delete_role(&ctx.service, role_param(&ctx))
        })
        .map(|()| StatusCode::NO_CONTENT.into_response());
    answer(&ctx, result)
}

fn configuration_json(d: &RoleDefaults, ctx: &Ctx) -> Value {
    let url = format!(
        "{}/v1/Services/{}/Configuration",
        ctx.urls.base, ctx.service
    );
    json!({
        "chat_service_sid": ctx.service,
        "default_conversation_creator_role_sid": d.conversation_creator_role,
        "default_conversation_role_sid": d.conversation_role,
        "default_chat_service_role_sid": d.chat_service_role,
        "reachability_enabled": false,
        "url": url,
        "links": {
            "notifications": format!("{url}/Notifications"),
            "webhooks": format!("{url}/Webhooks"),
        },
    })
}

pub(super) async fn fetch_configuration(State(app): State<Arc<App>>, ctx: Ctx) -> Response {
    let world = app.world();
    let defaults = &world.model.services[&ctx.service].role_defaults;
    Json(configuration_json(defaults, &ctx)).into_response()
}

/// `DefaultChatServiceRoleSid` (a service role), `DefaultConversationRoleSid` and
/// `DefaultConversationCreatorRoleSid` (conversation roles), each optional, each checked to be
/// a role of the right type in this service (400 20001 otherwise).
pub(super) async fn update_configuration(
    State(app): State<Arc<App>>,
    ctx: Ctx,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let field = |key: &str| form.get(key).map(str::to_owned);
    let update = RoleDefaultsUpdate {
        chat_service_role: field("DefaultChatServiceRoleSid"),
        conversation_role: field("DefaultConversationRoleSid"),
        conversation_creator_role: field("DefaultConversationCreatorRoleSid"),
    };
    match app.write(ctx.origin(), |m| {
        m.update_role_defaults(&ctx.service, update)
    }) {
        Ok(d) => Json(configuration_json(&d, &ctx)).into_response(),
        Err(e) => error_response(&e),
    }
}
