//! The widget's chat logic, pure: [`message_log`] (history pages, live messages and own sends
//! merged by index; send states; unread) and [`session`] (the stored session, resume or start
//! over, token refresh timing).

pub mod message_log;
pub mod session;
