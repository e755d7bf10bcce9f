//! The Twilio REST client: sends the requests `edgechat_core::twilio::rest` builds to
//! `TWILIO_API_BASE` (default Twilio's Conversations API) with HTTP Basic auth (the API key),
//! and retries 429, 5xx, dropped connections and timeouts with backoff and jitter, bounded by
//! `RetryPolicy` in attempts, per-attempt wait and total time.

use std::time::Duration;

use base64::Engine;
use edgechat_core::api::secrets::WebhookSecrets;
use edgechat_core::twilio::rest::{
    is_retryable, Method, RestRequest, RetryPolicy, TwilioError, DEFAULT_API_BASE,
};
use futures_util::future::{select, Either};
use futures_util::pin_mut;
use worker::{AbortController, Delay, Env, Fetch, Headers, Request, RequestInit};

/// How long after the retry budget's end the last attempt may still wait for its answer. With
/// `RetryPolicy::DEFAULT` (4 s) a webhook's calls are all done 4.5 s after it arrived, inside
/// Twilio's 5 s.
pub const ANSWER_GRACE_MS: u64 = 500;

/// The var that points the client at another Conversations API (the local emulator).
pub const API_BASE_VAR: &str = "TWILIO_API_BASE";

pub struct TwilioClient {
    base: String,
    authorization: String,
    policy: RetryPolicy,
    /// When the webhook being answered arrived: the policy's budget counts from then, across
    /// every call made for it, so that the answer reaches Twilio within its 5 s.
    started_ms: u64,
    /// Requests sent, retries included (for the log line).
    pub calls: u32,
}

/// Why a call gave no usable answer.
#[derive(Debug)]
pub enum RestFailure {
    /// Twilio answered with an error that another try will not fix (4xx but 429).
    Rejected(TwilioError),
    /// No useful answer after every attempt the policy allows.
    Unavailable { attempts: u32, last: String },
    /// A 2xx answer that is not the JSON the call returns (a redelivery would not read better).
    Unreadable { what: &'static str, error: String },
}

/// `failure` as a visitor route answers it: Twilio's own refusal (a 4xx but 429: attributes
/// over its size limit, say) is the Worker's 422 `twilio_refused` with Twilio's code and words,
/// since repeating the request cannot help; anything else is `otherwise`'s answer.
pub fn refused_or(
    failure: RestFailure,
    otherwise: impl FnOnce(RestFailure) -> crate::http::Reply,
) -> crate::http::Reply {
    match failure {
        RestFailure::Rejected(e) if e.status != 429 && (400..500).contains(&e.status) => {
            crate::http::Reply::error(edgechat_core::api::ApiError::new(
                edgechat_core::api::ErrorCode::TwilioRefused,
                format!(
                    "Twilio refused it ({}{}): {}",
                    e.status,
                    e.code.map(|c| format!(", error {c}")).unwrap_or_default(),
                    e.message
                ),
            ))
        }
        other => otherwise(other),
    }
}

/// Why one attempt got no HTTP answer.
#[derive(Debug)]
enum AttemptError {
    Build(String),
    NoAnswer(String),
    Timeout { ms: u64 },
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptError::Build(e) => write!(f, "bad request: {e}"),
            AttemptError::NoAnswer(e) => write!(f, "no answer: {e}"),
            AttemptError::Timeout { ms } => write!(f, "no answer within {ms} ms"),
        }
    }
}

impl std::fmt::Display for RestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestFailure::Rejected(e) => write!(f, "Twilio refused: {e}"),
            RestFailure::Unavailable { attempts, last } => {
                write!(
                    f,
                    "Twilio unavailable after {attempts} attempts (last: {last})"
                )
            }
            RestFailure::Unreadable { what, error } => {
                write!(f, "unreadable {what} from Twilio: {error}")
            }
        }
    }
}

impl TwilioClient {
    pub fn new(env: &Env, secrets: &WebhookSecrets, started_ms: u64) -> TwilioClient {
        Self::with_key(
            env,
            &secrets.api_key_sid,
            &secrets.api_key_secret,
            started_ms,
        )
    }

    /// A client that signs with this API key (the token service's copy of it).
    pub fn with_key(
        env: &Env,
        api_key_sid: &dyn std::fmt::Display,
        api_key_secret: &str,
        started_ms: u64,
    ) -> TwilioClient {
        let base = env
            .var(API_BASE_VAR)
            .map(|v| v.to_string())
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
        let credentials = format!("{api_key_sid}:{api_key_secret}");
        TwilioClient {
            base,
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            policy: RetryPolicy::DEFAULT,
            started_ms,
            calls: 0,
        }
    }

    /// Sends `request` and reads its answer as `T` (`what` names it in the failure).
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &mut self,
        request: &RestRequest,
        what: &'static str,
    ) -> Result<T, RestFailure> {
        let text = self.send(request).await?;
        serde_json::from_str(&text).map_err(|e| RestFailure::Unreadable {
            what,
            error: e.to_string(),
        })
    }

    /// Sends `request` and returns the answer's JSON text (2xx).
    pub async fn send(&mut self, request: &RestRequest) -> Result<String, RestFailure> {
        let started = self.started_ms;
        let elapsed = worker::Date::now().as_millis().saturating_sub(started);
        if elapsed >= self.policy.budget_ms {
            return Err(RestFailure::Unavailable {
                attempts: 0,
                last: format!(
                    "no time left: {elapsed} ms of the {} ms budget spent",
                    self.policy.budget_ms
                ),
            });
        }
        let mut attempt = 1;
        loop {
            let (failure, retry_after_ms, status) = match self.attempt(request).await {
                Ok((status, body)) if (200..300).contains(&status) => return Ok(body.text),
                Ok((status, body)) => {
                    let error = TwilioError::from_response(status, &body.text);
                    if !is_retryable(status) {
                        return Err(RestFailure::Rejected(error));
                    }
                    (error.to_string(), body.retry_after_ms, Some(status))
                }
                Err(e) => (e.to_string(), None, None),
            };
            if !request.may_retry(status) {
                // It may have taken effect: the redelivery looks before it creates again.
                return Err(RestFailure::Unavailable {
                    attempts: attempt,
                    last: format!("{failure}; {} is not sent twice", request.action),
                });
            }
            let elapsed = worker::Date::now().as_millis().saturating_sub(started);
            let jitter = crate::random_fraction();
            attempt += 1;
            let Some(delay) = self
                .policy
                .delay_before(attempt, jitter, retry_after_ms, elapsed)
            else {
                return Err(RestFailure::Unavailable {
                    attempts: attempt - 1,
                    last: failure,
                });
            };
            let warning = RetryWarning {
                warning: "twilio call failed, retrying",
                action: request.action,
                attempt: attempt - 1,
                error: &failure,
                retry_in_ms: delay,
            };
            if let Ok(line) = serde_json::to_string(&warning) {
                worker::console_warn!("{line}");
            }
            Delay::from(Duration::from_millis(delay)).await;
        }
    }

    async fn attempt(&mut self, request: &RestRequest) -> Result<(u16, Answer), AttemptError> {
        self.calls += 1;
        let headers = Headers::new();
        let set = |name: &str, value: &str| {
            headers
                .set(name, value)
                .map_err(|e| AttemptError::Build(format!("header {name}: {e}")))
        };
        set("Authorization", &self.authorization)?;
        set("Accept", "application/json")?;
        let mut init = RequestInit::new();
        match request.method {
            Method::Get => {
                init.with_method(worker::Method::Get);
            }
            Method::Post => {
                init.with_method(worker::Method::Post);
                set("Content-Type", "application/x-www-form-urlencoded")?;
                init.with_body(request.body().map(Into::into));
            }
        }
        if request.announce {
            set("X-Twilio-Webhook-Enabled", "true")?;
        }
        init.with_headers(headers);
        let req = Request::new_with_init(&request.url(&self.base), &init)
            .map_err(|e| AttemptError::Build(e.to_string()))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(req);
        let call = async {
            let mut response = fetch.send_with_signal(&signal).await?;
            let status = response.status_code();
            let retry_after_ms = response
                .headers()
                .get("Retry-After")
                .ok()
                .flatten()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000));
            let text = response.text().await?;
            Ok::<_, worker::Error>((
                status,
                Answer {
                    text,
                    retry_after_ms,
                },
            ))
        };
        // No attempt runs past the answer's deadline: the budget plus one last attempt's grace.
        let now = worker::Date::now().as_millis();
        let deadline = self.started_ms + self.policy.budget_ms + ANSWER_GRACE_MS;
        let wait_ms = self
            .policy
            .attempt_timeout_ms
            .min(deadline.saturating_sub(now))
            .max(1);
        let timeout = Delay::from(Duration::from_millis(wait_ms));
        pin_mut!(call);
        match select(call, timeout).await {
            Either::Left((Ok(answer), _)) => Ok(answer),
            Either::Left((Err(e), _)) => Err(AttemptError::NoAnswer(e.to_string())),
            Either::Right(_) => {
                controller.abort();
                Err(AttemptError::Timeout { ms: wait_ms })
            }
        }
    }
}

#[derive(serde::Serialize)]
struct RetryWarning<'a> {
    warning: &'static str,
    action: &'static str,
    attempt: u32,
    error: &'a str,
    retry_in_ms: u64,
}

struct Answer {
    text: String,
    retry_after_ms: Option<u64>,
}
