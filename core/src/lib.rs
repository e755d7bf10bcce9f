//! edgechat's functional core: every contract the Worker, the widget and the tools share, as pure
//! Rust with no I/O, so it is unit-tested natively with `cargo test`.
//!
//! - [`access_token`]: the Twilio access token (JWT, chat grant) the SDK connects with.
//! - [`visitor`]: anonymous visitor identities and the credentials that prove them.
//! - [`config`]: per-site config in KV and its public part.
//! - [`api`]: the Worker's request/response bodies and its one error shape.
//! - [`secrets`]: the Worker secrets and how each is checked.
//! - [`twilio_signature`]: `X-Twilio-Signature` on the webhooks Twilio sends.
//! - [`webhook_event`]: the Conversations webhook events Twilio sends, typed.
//! - [`twilio_rest`]: the Conversations REST calls the Worker makes, Twilio's errors, retries.
//! - [`responder`], [`office_hours`]: the built-in auto-responder's decisions.
//! - [`message_log`]: the widget's message log (history pages, live messages, own sends).
//! - [`chat_session`]: the widget's stored session, conversation resume and token refresh timing.
//! - [`sid`], [`site`]: identifiers, checked when parsed.

pub mod access_token;
pub mod api;
pub mod chat_session;
pub mod config;
pub mod message_log;
pub mod office_hours;
pub mod responder;
pub mod secrets;
pub mod sid;
pub mod site;
pub mod twilio_rest;
pub mod twilio_signature;
pub mod visitor;
pub mod webhook_event;
