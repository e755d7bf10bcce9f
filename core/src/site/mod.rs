//! A site's configuration: [`config`] (the KV document, validated with field paths, and its
//! public part) and [`office_hours`] (weekly opening times, checked against a local time the
//! caller supplies), [`page`] (the page address kept in a conversation's attributes) and
//! [`attachments`] (what visitors may send, judged by a file's bytes).

pub mod attachments;
pub mod config;
pub mod office_hours;
pub mod page;
pub mod pre_chat;
