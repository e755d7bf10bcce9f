//! One structured log line per request: route template, method, status, site, duration, and for
//! failures the error code and a detail. Never a path, body, token, credential or secret.

use serde::Serialize;

use crate::http::Reply;

#[derive(Serialize)]
pub struct RequestLog<'a> {
    method: &'a str,
    route: &'static str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip)]
    started_ms: u64,
}

impl<'a> RequestLog<'a> {
    pub fn new(method: &'a str, route: &'static str, reply: &Reply, started_ms: u64) -> Self {
        RequestLog {
            method,
            route,
            status: 0,
            site: reply.site.clone(),
            ms: 0,
            code: reply.error_code().map(|c| c.as_str()),
            detail: reply.detail.clone(),
            started_ms,
        }
    }

    pub fn emit(mut self, status: u16) {
        self.status = status;
        self.ms = worker::Date::now()
            .as_millis()
            .saturating_sub(self.started_ms);
        if let Ok(line) = serde_json::to_string(&self) {
            worker::console_log!("{line}");
        }
    }
}
