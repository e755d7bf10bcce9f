//! What the Worker counts its token requests by. Keys are strings for the rate limiting
//! bindings; a site's limit of N a minute is N / [`LIMIT_STEP`] buckets of the binding's
//! [`LIMIT_STEP`], tried in turn, so limits are per site although a binding's own limit is fixed.
//!
//! - New visitors (minting), and requests with a credential that does not verify: per site and
//!   client address, an IPv6 address counted by its /64 (one household or phone has a whole /64).
//! - Renewals of a valid credential: per site and visitor, so a shared address (an office, a
//!   mobile carrier) does not share one budget.
//! - New conversations: per site and visitor (a burst), and for the whole site, with new
//!   visitors of the whole site (what caps a site's Twilio cost however many addresses ask).
//! - Unknown site ids (a KV read each; the answer is cached briefly too): per client address,
//!   for every site together, so that probing ids costs the prober, not the Worker. Over the
//!   budget, the address's lookups of ids not in the cache are refused before any KV read.

use std::net::IpAddr;

use crate::ids::site::SiteId;
pub use crate::site::config::LIMIT_STEP;

/// `Retry-After` for a refused request: the bindings count per minute.
pub const RETRY_AFTER_SECONDS: u32 = 60;

/// The address a client is counted by: an IPv4 address as it is, an IPv6 address as its /64.
pub fn client_address(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => "unknown".to_owned(),
    }
}

/// What one token request is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Budget {
    NewVisitor {
        site: SiteId,
        address: String,
    },
    Renewal {
        site: SiteId,
        visitor: String,
    },
    SiteLookup {
        address: String,
    },
    /// New conversations of one visitor.
    NewConversation {
        site: SiteId,
        visitor: String,
    },
    /// New visitors of a whole site, whatever their addresses.
    SiteNewVisitors {
        site: SiteId,
    },
    /// New conversations of a whole site.
    SiteNewConversations {
        site: SiteId,
    },
}

impl Budget {
    /// The binding key for bucket `bucket` of this budget.
    pub fn key(&self, bucket: u32) -> String {
        match self {
            Budget::NewVisitor { site, address } => format!("new:{site}:{address}:{bucket}"),
            Budget::Renewal { site, visitor } => format!("renew:{site}:{visitor}:{bucket}"),
            Budget::SiteLookup { address } => format!("lookup:{address}:{bucket}"),
            Budget::NewConversation { site, visitor } => format!("conv:{site}:{visitor}:{bucket}"),
            Budget::SiteNewVisitors { site } => format!("site-new:{site}:{bucket}"),
            Budget::SiteNewConversations { site } => format!("site-conv:{site}:{bucket}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_ipv4_as_they_are() {
        assert_eq!(client_address("203.0.113.7"), "203.0.113.7");
        assert_eq!(
            client_address("2001:db8:aa:bb:1:2:3:4"),
            client_address("2001:0db8:00aa:00bb:ffff:ffff:ffff:ffff")
        );
        assert_eq!(client_address("2001:db8:aa:bb::1"), "2001:db8:aa:bb::/64");
        assert_ne!(
            client_address("2001:db8:aa:bb::1"),
            client_address("2001:db8:aa:bc::1")
        );
        assert_eq!(client_address("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(client_address(""), "unknown");
        assert_eq!(client_address("not-an-ip"), "unknown");
    }

    #[test]
    fn budgets_have_keys_of_their_own() {
        let site: SiteId = "acme".parse().unwrap();
        let new = Budget::NewVisitor {
            site: site.clone(),
            address: client_address("2001:db8::1"),
        };
        assert_eq!(new.key(2), "new:acme:2001:db8:0:0::/64:2");
        let renew = Budget::Renewal {
            site,
            visitor: "visitor:acme:x".into(),
        };
        assert_ne!(renew.key(0), new.key(0));
        assert_eq!(
            Budget::SiteLookup {
                address: "203.0.113.7".into()
            }
            .key(0),
            "lookup:203.0.113.7:0"
        );
    }
}
