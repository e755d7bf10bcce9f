//! edgechat's functional core: every contract the Worker, the widget and the tools share, as pure
//! Rust with no I/O, so it is unit-tested natively with `cargo test`. Grouped by what it is
//! about; a group imports only groups listed above it here, never one below:
//!
//! - [`ids`]: SIDs, site ids and visitor-facing text, checked when parsed.
//! - [`i18n`]: the widget's words in every language (ICU MessageFormat catalogues), and site overrides.
//! - [`retry`]: the one retry policy (bounded attempts, backoff with jitter, a total budget).
//! - [`visitor`]: anonymous visitor identities and the credentials that prove them.
//! - [`twilio`]: Twilio's contracts (access token, webhook signature, webhook events, REST calls).
//! - [`site`]: per-site config in KV, its public part, office hours.
//! - [`api`]: the Worker's request/response bodies, its one error shape, its secrets.
//! - [`responder`]: the built-in auto-responder's decisions.
//! - [`automation`]: what a webhook event asks of the Worker (ignore, attach, reply), decided.
//! - [`chat`]: the widget's message log and stored session.

pub mod api;
pub mod automation;
pub mod chat;
pub mod i18n;
pub mod ids;
pub mod jwt;
pub mod responder;
pub mod retry;
pub mod site;
pub mod twilio;
pub mod user_token;
pub mod visitor;
