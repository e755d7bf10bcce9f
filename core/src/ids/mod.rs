//! Identifiers and checked strings: each is validated when parsed, so a value of one of these
//! types is always well formed.
//!
//! - [`sid`]: Twilio SIDs (`ServiceSid`, `ConversationSid`, ...), prefix and shape checked.
//! - [`site`]: the site id a host page names in `data-site`.
//! - [`text`]: text shown to visitors, bounded and without control characters.

pub mod sid;
pub mod site;
pub mod text;

use std::fmt;

/// A value that did not parse: the reason, then the value as given (serde's message for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid<E> {
    pub reason: E,
    pub value: String,
}

impl<E> Invalid<E> {
    /// `value` when `ok`, else the error naming `reason` and the value: every validated string
    /// newtype's `try_from` in one line (`Invalid::unless(ok, ColorError, s).map(Color)`).
    pub fn unless(ok: bool, reason: E, value: String) -> Result<String, Invalid<E>> {
        if ok {
            Ok(value)
        } else {
            Err(Invalid { reason, value })
        }
    }
}

impl<E: fmt::Display> fmt::Display for Invalid<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, got {:?}", self.reason, self.value)
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Invalid<E> {}
