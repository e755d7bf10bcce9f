//! Twilio's contracts, each with its types, parser or encoder and tests together:
//!
//! - [`access_token`]: the access token (JWT, chat grant) the SDK connects with.
//! - [`signature`]: `X-Twilio-Signature` on the webhooks Twilio sends.
//! - [`event`]: the Conversations webhook events Twilio sends, typed.
//! - [`rest`]: the Conversations REST calls the Worker makes, Twilio's errors, retries.

pub mod access_token;
pub mod event;
pub mod rest;
pub mod signature;
