//! The widget's chat logic, pure: [`connection`] (connecting, ready, failed; the SDK's link and
//! the token's renewal as one state machine), [`message_log`] (history pages, live messages and own sends
//! merged by index; send states; unread) and [`session`] (the stored session, resume or start
//! over, token refresh timing), [`text`] (links in a message), [`outbox`] (what was typed and has
//! not gone out, as stored) and [`locale`] (the visitor's language and its direction).

pub mod connection;
pub mod locale;
pub mod message_log;
pub mod outbox;
pub mod session;
pub mod text;
