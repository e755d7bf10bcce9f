//! Twilio Sync ("CDS") as the SDK calls it through the tunnel: object descriptors, item queries
//! and `POST /v4/Subscriptions`. The answers come from the projection (`crate::projection`); the
//! subscriptions' replay and live events reach this connection through its push channel.

use serde_json::{json, Value};

use super::{Caller, Reply, Request};
use crate::app::App;
use crate::model::TwilioError;
use crate::projection::{ItemQuery, Kind, Reader, SubscriptionRequest};

pub fn route(app: &App, caller: &Caller, req: &Request) -> Option<Reply> {
    let segments = req.segments();
    let kind = |name: &str| match name {
        "Documents" => Some(Kind::Document),
        "Lists" => Some(Kind::List),
        "Maps" => Some(Kind::Map),
        _ => None,
    };
    let result = match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["v3", collection, id]) => {
            let kind = kind(collection)?;
            descriptor(app, caller, req, kind, id)
        }
        ("GET", ["v3", collection, id, "Items"]) => {
            let kind = kind(collection).filter(|k| *k != Kind::Document)?;
            items(app, caller, req, kind, id)
        }
        ("POST", ["v4", "Subscriptions"]) => subscriptions(app, caller, req),
        _ => return None,
    };
    Some(result.unwrap_or_else(|e| Reply::error(&e)))
}

fn base(req: &Request) -> String {
    format!("https://{}", req.host)
}

fn reader(caller: &Caller) -> Reader<'_> {
    Reader {
        service: &caller.service,
        identity: &caller.identity,
    }
}

fn descriptor(
    app: &App,
    caller: &Caller,
    req: &Request,
    kind: Kind,
    id: &str,
) -> Result<Reply, TwilioError> {
    let world = app.world();
    let include = req
        .param("Include")
        .is_some_and(|i| i.eq_ignore_ascii_case("items"));
    let body =
        world
            .projection
            .descriptor(kind, id, include, &world.model, reader(caller), &base(req))?;
    Ok(Reply::ok(body))
}

fn items(
    app: &App,
    caller: &Caller,
    req: &Request,
    kind: Kind,
    id: &str,
) -> Result<Reply, TwilioError> {
    let query = ItemQuery {
        key: req.param("Key"),
        index: req.param("Index"),
        from: req.param("From"),
        order: req.param("Order"),
        page_size: req.param("PageSize"),
        page_token: req.param("PageToken"),
    };
    let world = app.world();
    let body =
        world
            .projection
            .items(kind, id, &query, &world.model, reader(caller), &base(req))?;
    Ok(Reply::ok(body))
}

/// Accepted at once (202, as Sync answers); the outcome of each request arrives as
/// `subscription_established` / `_failed` / `_canceled` pushes after any replayed events.
fn subscriptions(app: &App, caller: &Caller, req: &Request) -> Result<Reply, TwilioError> {
    let body = req.json_object()?;
    let action = body.get("action").and_then(Value::as_str).unwrap_or("");
    let correlation_id = body.get("correlation_id").cloned().unwrap_or(Value::Null);
    let requests: Vec<SubscriptionRequest> = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| TwilioError::invalid("requests must be a list"))?
        .iter()
        .map(|r| SubscriptionRequest {
            object_sid: r
                .get("object_sid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            object_type: r
                .get("object_type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            last_event_id: r.get("last_event_id").and_then(Value::as_u64),
        })
        .collect();
    let mut guard = app.world();
    let world = &mut *guard;
    world.projection.subscribe(
        caller.conn,
        action,
        &correlation_id,
        &requests,
        &world.model,
    )?;
    Ok(Reply::with_status(
        202,
        json!({"estimated_delivery_in_ms": 5000, "max_batch_size": 100, "ttl_in_s": -1}),
    ))
}
