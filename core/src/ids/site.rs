//! The site id: the name a site owner picks for one widget installation (`data-site="acme"`).
//!
//! It appears in URLs (`/api/sites/acme/token`), in the KV key (`site:acme`), in every visitor
//! identity and credential, so it is kept to a small alphabet that needs no escaping anywhere and
//! never contains the `.` and `:` separators those formats use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Invalid;

pub const MAX_SITE_ID_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteIdError;

impl fmt::Display for SiteIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a site id is 1 to {MAX_SITE_ID_LEN} characters of a-z, 0-9 and '-', \
             starting and ending with a letter or digit"
        )
    }
}

impl std::error::Error for SiteIdError {}

impl SiteId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The KV key under which this site's config is stored.
    pub fn kv_key(&self) -> String {
        format!("site:{}", self.0)
    }
}

impl FromStr for SiteId {
    type Err = SiteIdError;
    fn from_str(s: &str) -> Result<Self, SiteIdError> {
        let bytes = s.as_bytes();
        let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_SITE_ID_LEN
            && bytes.iter().all(allowed)
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-';
        if ok {
            Ok(SiteId(s.to_owned()))
        } else {
            Err(SiteIdError)
        }
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SiteId {
    type Error = Invalid<SiteIdError>;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.parse() {
            Ok(id) => Ok(id),
            Err(reason) => Err(Invalid { reason, value: s }),
        }
    }
}

impl From<SiteId> for String {
    fn from(id: SiteId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_simple_ids() {
        for ok in ["a", "acme", "acme-shop", "shop2", "0", &"a".repeat(40)] {
            assert_eq!(ok.parse::<SiteId>().unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_separators_case_and_length() {
        for bad in [
            "",
            "-acme",
            "acme-",
            "Acme",
            "ac.me",
            "ac:me",
            "ac me",
            "ac/me",
            "acmé",
            &"a".repeat(41),
        ] {
            assert!(bad.parse::<SiteId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kv_key_is_prefixed() {
        assert_eq!("acme".parse::<SiteId>().unwrap().kv_key(), "site:acme");
    }
}
