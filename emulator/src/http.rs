//! What the HTTP transports share: Twilio's error JSON, form bodies and HTTP Basic credentials.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use crate::model::TwilioError;

/// Twilio's error JSON with its status.
pub fn twilio_error(status: u16, code: u32, message: impl Into<String>) -> Response {
    error_response(&TwilioError::new(status, code, message))
}

pub fn error_response(e: &TwilioError) -> Response {
    let body = json!({
        "code": e.code,
        "message": e.message,
        "more_info": format!("https://www.twilio.com/docs/errors/{}", e.code),
        "status": e.status,
    });
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// A parsed form body; keys may repeat.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The user and password of an `Authorization: Basic` header.
pub fn basic_user(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}
