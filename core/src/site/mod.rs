//! A site's configuration: [`config`] (the KV document, validated with field paths, and its
//! public part) and [`office_hours`] (weekly opening times, checked against a local time the
//! caller supplies).

pub mod config;
pub mod office_hours;
