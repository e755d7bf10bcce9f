//! What every dynamic response has in common: the JSON body or the one error shape, `no-store`,
//! CORS for the site's own origins, and what the request log needs to know.

use edgechat_core::api::{ApiError, ErrorCode};
use futures_util::StreamExt;
use serde::Serialize;
use worker::{Headers, Request, Response, Result};

/// A handler's answer, turned into a `Response` (and a log line) in one place.
#[derive(Debug)]
pub struct Reply {
    pub outcome: std::result::Result<Payload, ApiError>,
    /// `Access-Control-Allow-Origin` for this response: set only for a site's allowed origin.
    pub allow_origin: Option<String>,
    /// The response depends on `Origin` (every site route), so caches must key on it.
    pub vary_origin: bool,
    /// Extra headers (`Allow`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
    /// For the log line only: which site, and why a request failed (never a secret or token).
    pub site: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug)]
pub enum Payload {
    Json(u16, Vec<u8>),
    /// A CORS preflight's answer.
    Preflight {
        methods: &'static str,
    },
}

impl Reply {
    fn from_outcome(outcome: std::result::Result<Payload, ApiError>) -> Reply {
        Reply {
            outcome,
            allow_origin: None,
            vary_origin: false,
            headers: Vec::new(),
            site: None,
            detail: None,
        }
    }

    pub fn json<T: Serialize>(status: u16, body: &T) -> Reply {
        match serde_json::to_vec(body) {
            Ok(bytes) => Reply::from_outcome(Ok(Payload::Json(status, bytes))),
            Err(e) => Reply::error(ApiError::new(
                ErrorCode::Internal,
                "could not encode the response",
            ))
            .with_detail(e.to_string()),
        }
    }

    pub fn preflight(methods: &'static str) -> Reply {
        Reply::from_outcome(Ok(Payload::Preflight { methods }))
    }

    pub fn error(error: ApiError) -> Reply {
        Reply::from_outcome(Err(error))
    }

    pub fn not_found() -> Reply {
        Reply::error(ApiError::new(
            ErrorCode::NotFound,
            "no such route; the API is GET /api/sites/{site}/config, POST /api/sites/{site}/token \
             and POST /webhooks/conversations (for Twilio)",
        ))
    }

    pub fn method_not_allowed(allow: &'static str) -> Reply {
        Reply::error(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("this route takes {allow}"),
        ))
        .with_header("Allow", allow.to_owned())
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Reply {
        self.detail = Some(detail.into());
        self
    }

    pub fn error_code(&self) -> Option<ErrorCode> {
        self.outcome.as_ref().err().map(|e| e.code)
    }

    pub fn into_response(self) -> Result<Response> {
        let headers = Headers::new();
        headers.set("Cache-Control", "no-store")?;
        headers.set("X-Content-Type-Options", "nosniff")?;
        if self.vary_origin {
            headers.set("Vary", "Origin")?;
        }
        if let Some(origin) = &self.allow_origin {
            headers.set("Access-Control-Allow-Origin", origin)?;
            if self.headers.iter().any(|(name, _)| *name == "Retry-After") {
                // A 429's wait, readable by the page (not a CORS-safelisted header).
                headers.set("Access-Control-Expose-Headers", "Retry-After")?;
            }
        }
        for (name, value) in &self.headers {
            headers.set(name, value)?;
        }
        let response = match self.outcome {
            Ok(Payload::Json(status, body)) => json_response(status, body, &headers)?,
            Ok(Payload::Preflight { methods }) => {
                headers.set("Access-Control-Allow-Methods", methods)?;
                headers.set("Access-Control-Allow-Headers", "Content-Type")?;
                headers.set("Access-Control-Max-Age", "600")?;
                Response::empty()?.with_status(204)
            }
            Err(error) => {
                let body = serde_json::to_vec(&error.body())?;
                json_response(error.code.status(), body, &headers)?
            }
        };
        Ok(response.with_headers(headers))
    }
}

fn json_response(status: u16, body: Vec<u8>, headers: &Headers) -> Result<Response> {
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    Ok(Response::from_bytes(body)?.with_status(status))
}

/// The body, refused with 413 as soon as it exceeds `max` bytes (a declared length is checked
/// before reading anything). `unreadable` is the error code for a body that cannot be read.
pub async fn read_body(
    req: &mut Request,
    max: usize,
    unreadable_code: ErrorCode,
) -> Result<Vec<u8>, Reply> {
    let too_large = || {
        Reply::error(ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the body must be at most {max} bytes"),
        ))
    };
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let unreadable = |e: worker::Error| {
        Reply::error(ApiError::new(
            unreadable_code,
            "the request body could not be read",
        ))
        .with_detail(e.to_string())
    };
    if declared.is_some() {
        // Length known and within the limit: one read, no stream iteration.
        return req.bytes().await.map_err(unreadable);
    }
    let mut stream = match req.stream() {
        Ok(stream) => stream,
        // No body at all.
        Err(_) => return Ok(Vec::new()),
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(unreadable)?);
        if body.len() > max {
            // Answering while the client is still sending a chunked body breaks the connection
            // (wrangler dev then fails the next request), so a modest remainder is read and
            // dropped first; a huge one is cut off.
            let mut drained = body.len();
            while drained < MAX_DRAINED_BYTES {
                match stream.next().await {
                    Some(Ok(chunk)) => drained += chunk.len(),
                    _ => break,
                }
            }
            return Err(too_large());
        }
    }
    Ok(body)
}

/// How much of an oversized chunked body is read (and dropped) before answering 413.
const MAX_DRAINED_BYTES: usize = 1024 * 1024;
