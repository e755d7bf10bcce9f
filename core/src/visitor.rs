//! Anonymous visitors: the identities the Worker mints and the credentials that prove them.
//!
//! A visitor identity is `visitor:<site>:<uuid v4>`. The Worker mints the uuid (from the runtime's
//! CSPRNG) and never accepts an identity a caller merely names: a returning visitor presents the
//! *credential* it was given, `v2.<site>.<uuid>.<epoch>.<issued>.<tag>`, where `tag` is the
//! unpadded base64url HMAC-SHA256, under the visitor-signing secret, of `edgechat visitor v2`, the
//! site, the uuid, the site's revocation epoch and the issue time in unix seconds (newline
//! separated). The site is inside both, so a credential cannot be moved to another site, and a
//! webhook that carries the identity (`ClientIdentity`) names the site it belongs to.
//!
//! A credential is renewed (issued anew) with every token, so one that is in use never ages; one
//! left idle longer than the site's `visitor_idle_days` is refused, and so is every credential
//! issued under an older `visitor_epoch` (the site's operator raises it to sign out that site's
//! visitors, and no other site's). Credentials of the first format (`v1.`, no issue time) are
//! refused: such a visitor starts again as a new one, as after a rotated secret.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{KeyInit, Mac};
use uuid::Uuid;

use crate::ids::site::SiteId;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const IDENTITY_PREFIX: &str = "visitor:";
const CREDENTIAL_VERSION: &str = "v2";
const TAG_DOMAIN: &[u8] = b"edgechat visitor v2\n";
/// Digits of a u32 epoch and of a u64 issue time, at most.
const EPOCH_DIGITS: usize = 10;
const ISSUED_DIGITS: usize = 20;
/// A credential issued this far ahead of the verifier's clock is refused (clocks of isolates
/// differ by little; anything more is not ours).
const MAX_CLOCK_SKEW_SECONDS: u64 = 300;
/// 32 bytes of HMAC-SHA256 in unpadded base64url.
const TAG_LEN: usize = 43;
/// Longest credential we ever mint; anything longer is rejected before any work.
pub const MAX_CREDENTIAL_LEN: usize = CREDENTIAL_VERSION.len()
    + 1
    + crate::ids::site::MAX_SITE_ID_LEN
    + 1
    + 36
    + 1
    + EPOCH_DIGITS
    + 1
    + ISSUED_DIGITS
    + 1
    + TAG_LEN;
/// The visitor-signing secret must carry at least this many bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Who chats on a site: a visitor the Worker minted (`visitor:<site>:<uuid>`, proven by a
/// credential), or a user the site signed in (`user:<site>:<sub>`, proven by the site's user
/// token, see [`crate::user_token`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VisitorIdentity {
    site: SiteId,
    who: Who,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Anonymous(Uuid),
    User(String),
}

const USER_PREFIX: &str = "user:";
/// The longest `sub` of a signed-in user.
pub const MAX_SUB_CHARS: usize = 128;

fn valid_sub(sub: &str) -> bool {
    (1..=MAX_SUB_CHARS).contains(&sub.len())
        && sub
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b))
}

impl VisitorIdentity {
    /// A new visitor of `site`, their id a v4 uuid made (by `uuid`) from 16 bytes of a CSPRNG (the
    /// Worker's `getrandom`, that is `crypto.getRandomValues`).
    pub fn new(site: SiteId, random: [u8; 16]) -> VisitorIdentity {
        let id = uuid::Builder::from_random_bytes(random).into_uuid();
        VisitorIdentity {
            site,
            who: Who::Anonymous(id),
        }
    }

    /// The user the site calls `sub` (1–128 of `A-Za-z0-9._@+-`), signed in on `site`.
    pub fn user(site: SiteId, sub: &str) -> Option<VisitorIdentity> {
        valid_sub(sub).then(|| VisitorIdentity {
            site,
            who: Who::User(sub.to_owned()),
        })
    }

    /// The site's own id of a signed-in user; `None` for an anonymous visitor.
    pub fn user_sub(&self) -> Option<&str> {
        match &self.who {
            Who::User(sub) => Some(sub),
            Who::Anonymous(_) => None,
        }
    }

    pub fn site(&self) -> &SiteId {
        &self.site
    }

    /// The visitor a conversation's attributes name (`visitor`, as the Worker writes them on a
    /// conversation it starts), if they name one of ours.
    pub fn named_in_attributes(attributes: &str) -> Option<VisitorIdentity> {
        let fields: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(attributes).ok()?;
        let visitor: String = serde_json::from_str(fields.get("visitor")?.get()).ok()?;
        VisitorIdentity::parse(&visitor)
    }

    /// The id within the site, as unique names write it: the random id, or `user-<sub>`.
    pub fn id_text(&self) -> String {
        match &self.who {
            Who::Anonymous(id) => id.hyphenated().to_string(),
            Who::User(sub) => format!("user-{sub}"),
        }
    }

    /// Reads an identity back, e.g. from a webhook's `ClientIdentity`. Anything that is not exactly
    /// the format the Worker mints is `None`: agents' identities and other apps' users included.
    pub fn parse(identity: &str) -> Option<VisitorIdentity> {
        if let Some(rest) = identity.strip_prefix(USER_PREFIX) {
            let (site, sub) = rest.split_once(':')?;
            return VisitorIdentity::user(site.parse().ok()?, sub);
        }
        let rest = identity.strip_prefix(IDENTITY_PREFIX)?;
        let (site, id) = rest.split_once(':')?;
        Some(VisitorIdentity {
            site: site.parse().ok()?,
            who: Who::Anonymous(parse_v4(id)?),
        })
    }
}

impl fmt::Display for VisitorIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.who {
            Who::Anonymous(id) => write!(f, "{IDENTITY_PREFIX}{}:{}", self.site, id.hyphenated()),
            Who::User(sub) => write!(f, "{USER_PREFIX}{}:{sub}", self.site),
        }
    }
}

/// Only the canonical lower-case hyphenated form of a version 4 uuid.
fn parse_v4(s: &str) -> Option<Uuid> {
    let id = Uuid::try_parse(s).ok()?;
    let canonical = id.hyphenated().to_string();
    (id.get_version_num() == 4 && canonical == s).then_some(id)
}

/// Why a presented credential was refused. The Worker answers every one of these with the same
/// 401; the variants exist for its log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    /// Not `v1.<site>.<uuid>.<tag>`: truncated, padded, wrong version or alphabet.
    Malformed,
    /// Well formed, but the tag is not ours: altered or forged.
    BadTag,
    /// Genuine, but minted for another site.
    OtherSite,
    /// Genuine, but not renewed for longer than the site's idle time.
    Expired,
    /// Genuine, but issued under an older revocation epoch of the site.
    Revoked,
}

/// What a site says about its visitors' credentials (`visitor_epoch`, `visitor_idle_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialPolicy {
    /// Only credentials issued under this epoch are accepted.
    pub epoch: u32,
    /// How long a credential may go without renewal.
    pub idle_seconds: u64,
}

/// A credential that verified: whose it is and when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: VisitorIdentity,
    pub issued_s: u64,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialError::Malformed => "malformed",
            CredentialError::BadTag => "bad tag",
            CredentialError::OtherSite => "minted for another site",
            CredentialError::Expired => "expired: not renewed within the site's idle time",
            CredentialError::Revoked => "revoked: issued under an older visitor_epoch",
        })
    }
}

/// Why the visitor-signing secret cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakSecret;

/// Mints and verifies visitor credentials with the Worker's visitor-signing secret.
#[derive(Clone)]
pub struct VisitorSigner {
    mac: HmacSha256,
}

impl VisitorSigner {
    pub fn new(secret: &[u8]) -> Result<VisitorSigner, WeakSecret> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(WeakSecret);
        }
        Ok(VisitorSigner {
            mac: HmacSha256::new_from_slice(secret).map_err(|_| WeakSecret)?,
        })
    }

    fn tag(&self, site: &SiteId, id: &Uuid, epoch: u32, issued_s: u64) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(TAG_DOMAIN);
        mac.update(site.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(id.hyphenated().to_string().as_bytes());
        mac.update(b"\n");
        mac.update(epoch.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(issued_s.to_string().as_bytes());
        mac
    }

    /// The credential a visitor keeps (in localStorage) to prove `identity` later, issued at
    /// `issued_s` (unix seconds) under the site's `epoch`. A signed-in user has none: the site's
    /// user token proves them, each time.
    pub fn credential(
        &self,
        identity: &VisitorIdentity,
        epoch: u32,
        issued_s: u64,
    ) -> Option<String> {
        let Who::Anonymous(id) = &identity.who else {
            return None;
        };
        let tag = self
            .tag(&identity.site, id, epoch, issued_s)
            .finalize()
            .into_bytes();
        Some(format!(
            "{CREDENTIAL_VERSION}.{}.{}.{epoch}.{issued_s}.{}",
            identity.site,
            id.hyphenated(),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    /// The identity `credential` proves, if it is genuine, was minted for `site`, was issued
    /// under the site's current epoch and renewed within its idle time (at `now_s`). The tag
    /// is compared in constant time, before anything but the credential's shape is judged.
    pub fn verify(
        &self,
        credential: &str,
        site: &SiteId,
        policy: CredentialPolicy,
        now_s: u64,
    ) -> Result<Verified, CredentialError> {
        if credential.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::Malformed);
        }
        let parts: Vec<&str> = credential.split('.').collect();
        let [version, cred_site, id, epoch, issued, tag] = parts.as_slice() else {
            return Err(CredentialError::Malformed);
        };
        if *version != CREDENTIAL_VERSION || tag.len() != TAG_LEN {
            return Err(CredentialError::Malformed);
        }
        let cred_site: SiteId = cred_site.parse().map_err(|_| CredentialError::Malformed)?;
        let id = parse_v4(id).ok_or(CredentialError::Malformed)?;
        let epoch: u32 = canonical_number(epoch).ok_or(CredentialError::Malformed)?;
        let issued_s: u64 = canonical_number(issued).ok_or(CredentialError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CredentialError::Malformed)?;
        self.tag(&cred_site, &id, epoch, issued_s)
            .verify_slice(&tag)
            .map_err(|_| CredentialError::BadTag)?;
        if &cred_site != site {
            return Err(CredentialError::OtherSite);
        }
        if epoch != policy.epoch {
            return Err(CredentialError::Revoked);
        }
        if issued_s > now_s.saturating_add(MAX_CLOCK_SKEW_SECONDS)
            || now_s.saturating_sub(issued_s) > policy.idle_seconds
        {
            return Err(CredentialError::Expired);
        }
        Ok(Verified {
            identity: VisitorIdentity {
                site: cred_site,
                who: Who::Anonymous(id),
            },
            issued_s,
        })
    }
}

/// A decimal number written as the signer writes it (no sign, no leading zero, no padding), so
/// that one credential has one spelling.
fn canonical_number<T: std::str::FromStr + ToString>(s: &str) -> Option<T> {
    let n: T = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const UUID: &str = "4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11";

    fn site(s: &str) -> SiteId {
        s.parse().unwrap()
    }

    fn signer() -> VisitorSigner {
        VisitorSigner::new(SECRET).unwrap()
    }

    const NOW: u64 = 1_800_000_000;
    const POLICY: CredentialPolicy = CredentialPolicy {
        epoch: 0,
        idle_seconds: 90 * 86_400,
    };

    fn minted() -> (VisitorIdentity, String) {
        let identity = VisitorIdentity::parse(&format!("visitor:acme:{UUID}")).unwrap();
        let credential = signer().credential(&identity, 0, NOW).unwrap();
        (identity, credential)
    }

    fn verify(credential: &str, s: &str) -> Result<VisitorIdentity, CredentialError> {
        signer()
            .verify(credential, &site(s), POLICY, NOW)
            .map(|v| v.identity)
    }

    #[test]
    fn identity_format_round_trips() {
        let (identity, _) = minted();
        assert_eq!(identity.to_string(), format!("visitor:acme:{UUID}"));
        assert_eq!(
            VisitorIdentity::parse(&identity.to_string()),
            Some(identity)
        );
    }

    #[test]
    fn identity_parse_refuses_anything_else() {
        for other in [
            "agent@acme.com",
            "visitor:acme",
            "visitor:Acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11",
            "visitor:acme:4F1C7C1E-8A4D-4C8E-9D53-2F0F3D0F9A11",
            "visitor:acme:4f1c7c1e-8a4d-1c8e-9d53-2f0f3d0f9a11",
            "visitor:acme:4f1c7c1e8a4d4c8e9d532f0f3d0f9a11",
            "visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11:x",
            "xvisitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11",
        ] {
            assert_eq!(VisitorIdentity::parse(other), None, "{other}");
        }
    }

    #[test]
    fn signed_in_users_have_an_identity_and_no_credential() {
        let user = VisitorIdentity::user(site("acme"), "ada@acme.com").unwrap();
        assert_eq!(user.to_string(), "user:acme:ada@acme.com");
        assert_eq!(
            VisitorIdentity::parse("user:acme:ada@acme.com"),
            Some(user.clone())
        );
        assert_eq!(user.site().as_str(), "acme");
        assert_eq!(user.id_text(), "user-ada@acme.com");
        assert_eq!(signer().credential(&user, 0, NOW), None);
        for bad in [
            "user:acme:",
            "user:acme:has space",
            "user:acme:a:b",
            "user::x",
            "user:acme",
        ] {
            assert_eq!(VisitorIdentity::parse(bad), None, "{bad}");
        }
        assert_eq!(VisitorIdentity::user(site("acme"), &"x".repeat(129)), None);
    }

    #[test]
    fn minted_ids_are_v4_uuids_whatever_the_bytes() {
        for bytes in [[0u8; 16], [0xff; 16], *b"0123456789abcdef"] {
            let minted = VisitorIdentity::new(site("acme"), bytes);
            let parsed = VisitorIdentity::parse(&minted.to_string());
            assert_eq!(parsed, Some(minted), "a v4 uuid, as parse accepts");
        }
        assert_ne!(
            VisitorIdentity::new(site("acme"), [1; 16]),
            VisitorIdentity::new(site("acme"), [2; 16])
        );
    }

    #[test]
    fn genuine_credential_verifies_to_its_identity() {
        let (identity, credential) = minted();
        assert!(credential.len() <= MAX_CREDENTIAL_LEN);
        assert_eq!(verify(&credential, "acme"), Ok(identity));
    }

    #[test]
    fn credential_cannot_move_to_another_site() {
        let (_, credential) = minted();
        assert_eq!(verify(&credential, "evil"), Err(CredentialError::OtherSite));
        // Rewriting the site inside the credential breaks the tag.
        let moved = credential.replacen("v2.acme.", "v2.evil.", 1);
        assert_eq!(verify(&moved, "evil"), Err(CredentialError::BadTag));
    }

    #[test]
    fn every_single_character_change_is_refused() {
        let (_, credential) = minted();
        let alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:";
        for i in 0..credential.len() {
            for c in alphabet.chars() {
                let mut altered = credential.clone();
                altered.replace_range(i..i + 1, &c.to_string());
                if altered == credential {
                    continue;
                }
                assert!(verify(&altered, "acme").is_err(), "accepted {altered}");
            }
        }
    }

    #[test]
    fn truncated_and_extended_credentials_are_refused() {
        let (_, credential) = minted();
        for len in 0..credential.len() {
            assert!(verify(&credential[..len], "acme").is_err());
        }
        assert_eq!(
            verify(&format!("{credential}A"), "acme"),
            Err(CredentialError::Malformed)
        );
        assert_eq!(
            verify(&format!("{credential}.x"), "acme"),
            Err(CredentialError::Malformed)
        );
    }

    #[test]
    fn another_secret_does_not_verify() {
        let (_, credential) = minted();
        let other = VisitorSigner::new(b"another secret that is long enough!").unwrap();
        assert_eq!(
            other
                .verify(&credential, &site("acme"), POLICY, NOW)
                .map(|v| v.identity),
            Err(CredentialError::BadTag)
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(VisitorSigner::new(b"short").is_err());
        assert!(VisitorSigner::new(&SECRET[..31]).is_err());
    }

    #[test]
    fn a_credential_expires_when_idle_and_a_renewal_starts_its_time_again() {
        let identity = VisitorIdentity::parse(&format!("visitor:acme:{UUID}")).unwrap();
        let idle = POLICY.idle_seconds;
        let old = signer().credential(&identity, 0, NOW - idle).unwrap();
        assert!(
            verify(&old, "acme").is_ok(),
            "exactly the idle time is still in"
        );
        let older = signer().credential(&identity, 0, NOW - idle - 1).unwrap();
        assert_eq!(verify(&older, "acme"), Err(CredentialError::Expired));
        let renewed = signer().credential(&identity, 0, NOW).unwrap();
        assert_eq!(verify(&renewed, "acme"), Ok(identity.clone()));
        let ahead = signer()
            .credential(&identity, 0, NOW + MAX_CLOCK_SKEW_SECONDS + 1)
            .unwrap();
        assert_eq!(verify(&ahead, "acme"), Err(CredentialError::Expired));
        let short = CredentialPolicy {
            idle_seconds: 60,
            ..POLICY
        };
        let minute_old = signer().credential(&identity, 0, NOW - 61).unwrap();
        assert_eq!(
            signer().verify(&minute_old, &site("acme"), short, NOW),
            Err(CredentialError::Expired)
        );
    }

    #[test]
    fn another_epoch_is_revoked_and_the_epoch_cannot_be_rewritten() {
        let identity = VisitorIdentity::parse(&format!("visitor:acme:{UUID}")).unwrap();
        let at_0 = signer().credential(&identity, 0, NOW).unwrap();
        let bumped = CredentialPolicy { epoch: 1, ..POLICY };
        assert_eq!(
            signer().verify(&at_0, &site("acme"), bumped, NOW),
            Err(CredentialError::Revoked)
        );
        let forged = at_0.replacen(".0.", ".1.", 1);
        assert_eq!(
            signer().verify(&forged, &site("acme"), bumped, NOW),
            Err(CredentialError::BadTag)
        );
        let at_1 = signer().credential(&identity, 1, NOW).unwrap();
        assert!(signer().verify(&at_1, &site("acme"), bumped, NOW).is_ok());
        // Numbers have one spelling: a padded one is not the signer's.
        let padded = at_1.replacen(".1.", ".01.", 1);
        assert_eq!(
            signer().verify(&padded, &site("acme"), bumped, NOW),
            Err(CredentialError::Malformed)
        );
    }

    #[test]
    fn first_format_credentials_are_refused() {
        let v1 = format!("v1.acme.{UUID}.{}", "A".repeat(TAG_LEN));
        assert_eq!(verify(&v1, "acme"), Err(CredentialError::Malformed));
    }
}
