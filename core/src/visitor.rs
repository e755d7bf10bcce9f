//! Anonymous visitors: the identities the Worker mints and the credentials that prove them.
//!
//! A visitor identity is `visitor:<site>:<uuid v4>`. The Worker mints the uuid (from the runtime's
//! CSPRNG) and never accepts an identity a caller merely names: a returning visitor presents the
//! *credential* it was given, `v1.<site>.<uuid>.<tag>`, where `tag` is the unpadded base64url
//! HMAC-SHA256, under the visitor-signing secret, of `edgechat visitor v1`, the site and the uuid
//! (newline separated). The site is inside both, so a credential cannot be moved to another site,
//! and a webhook that carries the identity (`ClientIdentity`) names the site it belongs to.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{KeyInit, Mac};
use uuid::Uuid;

use crate::ids::site::SiteId;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const IDENTITY_PREFIX: &str = "visitor:";
const CREDENTIAL_VERSION: &str = "v1";
const TAG_DOMAIN: &[u8] = b"edgechat visitor v1\n";
/// 32 bytes of HMAC-SHA256 in unpadded base64url.
const TAG_LEN: usize = 43;
/// Longest credential we ever mint; anything longer is rejected before any work.
pub const MAX_CREDENTIAL_LEN: usize =
    CREDENTIAL_VERSION.len() + 1 + crate::ids::site::MAX_SITE_ID_LEN + 1 + 36 + 1 + TAG_LEN;
/// The visitor-signing secret must carry at least this many bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// A visitor the Worker minted: which site they chat on and their random id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VisitorIdentity {
    site: SiteId,
    id: Uuid,
}

impl VisitorIdentity {
    /// A new visitor of `site`. `random_uuid` must come from a CSPRNG (the Worker uses
    /// `crypto.randomUUID()`); anything but a v4 uuid is refused.
    pub fn new(site: SiteId, random_uuid: &str) -> Option<VisitorIdentity> {
        parse_v4(random_uuid).map(|id| VisitorIdentity { site, id })
    }

    pub fn site(&self) -> &SiteId {
        &self.site
    }

    /// Reads an identity back, e.g. from a webhook's `ClientIdentity`. Anything that is not exactly
    /// the format the Worker mints is `None`: agents' identities and other apps' users included.
    pub fn parse(identity: &str) -> Option<VisitorIdentity> {
        let rest = identity.strip_prefix(IDENTITY_PREFIX)?;
        let (site, id) = rest.split_once(':')?;
        Some(VisitorIdentity {
            site: site.parse().ok()?,
            id: parse_v4(id)?,
        })
    }
}

impl fmt::Display for VisitorIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{IDENTITY_PREFIX}{}:{}", self.site, self.id.hyphenated())
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
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialError::Malformed => "malformed",
            CredentialError::BadTag => "bad tag",
            CredentialError::OtherSite => "minted for another site",
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

    fn tag(&self, site: &SiteId, id: &Uuid) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(TAG_DOMAIN);
        mac.update(site.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(id.hyphenated().to_string().as_bytes());
        mac
    }

    /// The credential a visitor keeps (in localStorage) to prove `identity` later.
    pub fn credential(&self, identity: &VisitorIdentity) -> String {
        let tag = self
            .tag(&identity.site, &identity.id)
            .finalize()
            .into_bytes();
        format!(
            "{CREDENTIAL_VERSION}.{}.{}.{}",
            identity.site,
            identity.id.hyphenated(),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The identity `credential` proves, if it is genuine and was minted for `site`.
    /// The tag is compared in constant time.
    pub fn verify(
        &self,
        credential: &str,
        site: &SiteId,
    ) -> Result<VisitorIdentity, CredentialError> {
        if credential.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::Malformed);
        }
        let mut parts = credential.split('.');
        let (Some(version), Some(cred_site), Some(id), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CredentialError::Malformed);
        };
        if version != CREDENTIAL_VERSION || tag.len() != TAG_LEN {
            return Err(CredentialError::Malformed);
        }
        let cred_site: SiteId = cred_site.parse().map_err(|_| CredentialError::Malformed)?;
        let id = parse_v4(id).ok_or(CredentialError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CredentialError::Malformed)?;
        self.tag(&cred_site, &id)
            .verify_slice(&tag)
            .map_err(|_| CredentialError::BadTag)?;
        if &cred_site != site {
            return Err(CredentialError::OtherSite);
        }
        Ok(VisitorIdentity {
            site: cred_site,
            id,
        })
    }
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

    fn minted() -> (VisitorIdentity, String) {
        let identity = VisitorIdentity::new(site("acme"), UUID).unwrap();
        let credential = signer().credential(&identity);
        (identity, credential)
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
    fn only_v4_uuids_are_minted() {
        assert!(
            VisitorIdentity::new(site("acme"), "00000000-0000-0000-0000-000000000000").is_none()
        );
        assert!(VisitorIdentity::new(site("acme"), "not a uuid").is_none());
    }

    #[test]
    fn genuine_credential_verifies_to_its_identity() {
        let (identity, credential) = minted();
        assert!(credential.len() <= MAX_CREDENTIAL_LEN);
        assert_eq!(signer().verify(&credential, &site("acme")), Ok(identity));
    }

    #[test]
    fn credential_cannot_move_to_another_site() {
        let (_, credential) = minted();
        assert_eq!(
            signer().verify(&credential, &site("evil")),
            Err(CredentialError::OtherSite)
        );
        // Rewriting the site inside the credential breaks the tag.
        let moved = credential.replacen("v1.acme.", "v1.evil.", 1);
        assert_eq!(
            signer().verify(&moved, &site("evil")),
            Err(CredentialError::BadTag)
        );
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
                assert!(
                    signer().verify(&altered, &site("acme")).is_err(),
                    "accepted {altered}"
                );
            }
        }
    }

    #[test]
    fn truncated_and_extended_credentials_are_refused() {
        let (_, credential) = minted();
        for len in 0..credential.len() {
            assert!(signer().verify(&credential[..len], &site("acme")).is_err());
        }
        assert_eq!(
            signer().verify(&format!("{credential}A"), &site("acme")),
            Err(CredentialError::Malformed)
        );
        assert_eq!(
            signer().verify(&format!("{credential}.x"), &site("acme")),
            Err(CredentialError::Malformed)
        );
    }

    #[test]
    fn another_secret_does_not_verify() {
        let (_, credential) = minted();
        let other = VisitorSigner::new(b"another secret that is long enough!").unwrap();
        assert_eq!(
            other.verify(&credential, &site("acme")),
            Err(CredentialError::BadTag)
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(VisitorSigner::new(b"short").is_err());
        assert!(VisitorSigner::new(&SECRET[..31]).is_err());
    }
}
