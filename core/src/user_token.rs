//! Verified users: a site's backend vouches for a signed-in user with an HS256 JWT signed with a
//! secret it shares with the Worker (a Worker secret the site's config names, never its value).
//! The Worker then signs a Twilio token for `user:<site>:<sub>`, the same identity on every
//! device the user signs in on.
//!
//! Claims: `sub` (1–128 characters of `A-Za-z0-9._@+-`), `aud` (the site id), `exp` (at most
//! [`MAX_LIFETIME_SECONDS`] ahead), optional `iat` and `nbf` (not in the future, beyond
//! [`LEEWAY_SECONDS`]), `name` and `email`. Other claims are kept (a pre-chat form's answers).
//! The header's `alg` must be HS256 (`none`, RS*, ES*, PS*, EdDSA and the other HMACs are
//! refused before any key is used), the signature must verify (`jsonwebtoken`'s, see
//! [`crate::jwt`]) with the current or the previous secret (rotation), and `aud` must be this
//! site. Every refusal says which check failed.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::value::RawValue;

use crate::ids::site::SiteId;
use crate::visitor::{VisitorIdentity, MAX_SUB_CHARS};

/// How far ahead a user token may expire: a day.
pub const MAX_LIFETIME_SECONDS: u64 = 24 * 60 * 60;
/// Clock difference tolerated between the site's backend and the Worker.
pub const LEEWAY_SECONDS: u64 = 60;
/// The longest token read at all.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest `name` kept (longer ones are cut at a character boundary).
pub const MAX_NAME_CHARS: usize = 100;

/// Whether a proof a visitor sends is a site's user token (a JWT, whose base64url header always
/// starts `eyJ`, the encoding of `{"`) rather than a visitor credential of ours (`v2.…`).
pub fn is_user_token(proof: &str) -> bool {
    proof.starts_with("eyJ")
}

/// A user token that verified.
#[derive(Debug, Clone)]
pub struct VerifiedUser {
    /// `user:<site>:<sub>`.
    pub identity: VisitorIdentity,
    pub name: Option<String>,
    pub email: Option<String>,
    /// When the token expires (unix seconds).
    pub expires_at: u64,
    /// Every claim but the registered ones (`sub`, `aud`, `exp`, `iat`, `nbf`, `iss`, `jti`),
    /// as their raw JSON: `name`, `email` and whatever else the site put in (a pre-chat form's
    /// answers).
    pub claims: Fields,
}

/// Why a user token was refused; each is a 401 `invalid_user_token` with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserTokenError {
    /// The site's config has no `identity_verification`.
    NotConfigured,
    /// Not three base64url parts with JSON inside, or over [`MAX_TOKEN_BYTES`].
    Malformed,
    /// The header's `alg` is not HS256.
    Algorithm(String),
    /// Neither secret made this signature.
    Signature,
    /// `aud` is missing or names another site.
    Audience,
    /// A required claim is missing or of the wrong type.
    Claim(&'static str),
    Expired,
    /// `exp` is more than a day ahead.
    TooLong,
    /// `nbf` or `iat` is in the future.
    NotYetValid,
    /// `sub` is not 1–128 characters of `A-Za-z0-9._@+-`.
    Subject,
}

impl fmt::Display for UserTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserTokenError::NotConfigured => f.write_str(
                "this site does not verify users: add identity_verification (the name of the \
                 Worker secret your backend signs user tokens with) to its config",
            ),
            UserTokenError::Malformed => {
                f.write_str("the user token is not a JWT (three base64url parts with JSON)")
            }
            UserTokenError::Algorithm(alg) => write!(
                f,
                "the user token is signed with {alg}; only HS256 with the site's secret is accepted"
            ),
            UserTokenError::Signature => f.write_str(
                "the user token's signature does not verify: sign it with the secret the site's \
                 identity_verification names",
            ),
            UserTokenError::Audience => {
                f.write_str("the user token's aud must be this site's id (it names another site)")
            }
            UserTokenError::Claim(claim) => {
                write!(f, "the user token has no usable `{claim}` claim")
            }
            UserTokenError::Expired => f.write_str("the user token has expired: sign a new one"),
            UserTokenError::TooLong => write!(
                f,
                "the user token expires more than {} hours ahead: make exp at most a day after now",
                MAX_LIFETIME_SECONDS / 3600
            ),
            UserTokenError::NotYetValid => {
                f.write_str("the user token is not valid yet (nbf or iat is in the future)")
            }
            UserTokenError::Subject => write!(
                f,
                "the user token's sub must be 1 to {MAX_SUB_CHARS} characters of A-Z a-z 0-9 . _ @ + -"
            ),
        }
    }
}

/// A JSON object read field by field (no `serde_json::Value`: its parser and printer weigh
/// kilobytes of the Worker's upload).
use crate::api::end::Fields;

fn text_of(fields: &Fields, name: &str) -> Option<String> {
    crate::api::end::string(fields, name).ok().flatten()
}

/// Verifies `token` for `site` with the site's secrets (the current one first, then the
/// previous one while a rotation lasts), at `now` (unix seconds).
///
/// The header and claims are read here with serde_json, and the signature checked by
/// `jsonwebtoken::crypto::verify`: its `decode` reads the header into a type that carries a whole
/// JWK, whose parser weighed 40 KiB of the Worker's upload.
pub fn verify(
    token: &str,
    secrets: &[&[u8]],
    site: &SiteId,
    now: u64,
) -> Result<VerifiedUser, UserTokenError> {
    if secrets.is_empty() {
        return Err(UserTokenError::NotConfigured);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(UserTokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(UserTokenError::Malformed);
    };
    let header: Fields = json_part(header)?;
    match text_of(&header, "alg").as_deref() {
        Some("HS256") => {}
        Some(other) => return Err(UserTokenError::Algorithm(other.to_owned())),
        None => return Err(UserTokenError::Malformed),
    }
    // Extensions the token says must be understood: none are.
    if header.contains_key("crit") {
        return Err(UserTokenError::Malformed);
    }
    let claims: Fields = json_part(payload)?;
    crate::jwt::install();
    let signed = &token[..header_and_payload_len(token)];
    let verified = secrets.iter().any(|secret| {
        jsonwebtoken::crypto::verify(
            signature,
            signed.as_bytes(),
            &DecodingKey::from_secret(secret),
            Algorithm::HS256,
        )
        .unwrap_or(false)
    });
    if !verified {
        return Err(UserTokenError::Signature);
    }
    let audience_is_site = claims.get("aud").is_some_and(|aud| {
        serde_json::from_str::<String>(aud.get()).is_ok_and(|a| a == site.as_str())
            || serde_json::from_str::<Vec<Box<RawValue>>>(aud.get()).is_ok_and(|auds| {
                auds.iter().any(|a| {
                    serde_json::from_str::<String>(a.get()).is_ok_and(|a| a == site.as_str())
                })
            })
    });
    if !audience_is_site {
        return Err(UserTokenError::Audience);
    }
    self::claims(claims, site, now)
}

/// The length of `header.payload`, the signed part.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn json_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, UserTokenError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| UserTokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| UserTokenError::Malformed)
}

/// A NumericDate claim: seconds, an integer or not (the fraction dropped).
fn seconds(fields: &Fields, claim: &'static str) -> Result<Option<u64>, UserTokenError> {
    let Some(raw) = fields.get(claim) else {
        return Ok(None);
    };
    // Read as text: an integer, or one with a fraction (dropped); no float parser (it weighs
    // ~10 KiB of the Worker's upload).
    let text = raw.get().trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(UserTokenError::Claim(claim));
    }
    whole
        .parse()
        .map(Some)
        .map_err(|_| UserTokenError::Claim(claim))
}

fn claims(mut all: Fields, site: &SiteId, now: u64) -> Result<VerifiedUser, UserTokenError> {
    let expires_at = seconds(&all, "exp")?.ok_or(UserTokenError::Claim("exp"))?;
    if expires_at <= now {
        return Err(UserTokenError::Expired);
    }
    if expires_at > now + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS {
        return Err(UserTokenError::TooLong);
    }
    for claim in ["nbf", "iat"] {
        if seconds(&all, claim)?.is_some_and(|t| t > now + LEEWAY_SECONDS) {
            return Err(UserTokenError::NotYetValid);
        }
    }
    let sub = text_of(&all, "sub").ok_or(UserTokenError::Claim("sub"))?;
    let identity = VisitorIdentity::user(site.clone(), &sub).ok_or(UserTokenError::Subject)?;
    for registered in ["sub", "aud", "exp", "iat", "nbf", "iss", "jti"] {
        all.remove(registered);
    }
    let text = |claim: &str| {
        text_of(&all, claim)
            .map(|s| s.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    Ok(VerifiedUser {
        identity,
        name: text("name"),
        email: text("email").filter(|e| e.contains('@')),
        expires_at,
        claims: all,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::{json, Value};

    const NOW: u64 = 1_800_000_000;
    const SECRET: &[u8] = b"a-site-secret-of-32-bytes-or-more!!";
    const OLD: &[u8] = b"the-previous-secret-of-the-site!!!!";

    fn site(s: &str) -> SiteId {
        s.parse().unwrap()
    }

    fn token(header: Value, claims: Value, secret: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = crate::jwt::sign_hs256(input.as_bytes(), secret);
        format!("{input}.{signature}")
    }

    fn hs256(claims: Value) -> String {
        token(json!({"alg": "HS256", "typ": "JWT"}), claims, SECRET)
    }

    fn good() -> Value {
        json!({"sub": "user-42@acme.com", "aud": "acme", "exp": NOW + 3600, "iat": NOW,
               "name": "Ada Lovelace", "email": "ada@acme.com", "plan": "pro"})
    }

    fn check(t: &str) -> Result<VerifiedUser, UserTokenError> {
        verify(t, &[SECRET], &site("acme"), NOW)
    }

    #[test]
    fn a_good_token_names_the_user_on_this_site() {
        let user = check(&hs256(good())).unwrap();
        assert_eq!(user.identity.to_string(), "user:acme:user-42@acme.com");
        assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(user.email.as_deref(), Some("ada@acme.com"));
        assert_eq!(user.expires_at, NOW + 3600);
        assert_eq!(user.claims.get("plan").map(|r| r.get()), Some("\"pro\""));
        assert!(!user.claims.contains_key("sub") && !user.claims.contains_key("aud"));
        assert_eq!(user.identity.user_sub(), Some("user-42@acme.com"));
        assert_eq!(
            VisitorIdentity::parse("user:acme:user-42@acme.com"),
            Some(user.identity)
        );
    }

    #[test]
    fn the_previous_secret_still_verifies_during_a_rotation() {
        let t = token(json!({"alg": "HS256"}), good(), OLD);
        assert_eq!(check(&t).err(), Some(UserTokenError::Signature));
        assert!(verify(&t, &[SECRET, OLD], &site("acme"), NOW).is_ok());
        assert_eq!(
            verify(&t, &[], &site("acme"), NOW).err(),
            Some(UserTokenError::NotConfigured)
        );
    }

    #[test]
    fn every_attack_is_refused_with_its_reason() {
        let mut other_site = good();
        other_site["aud"] = json!("other");
        let mut no_aud = good();
        no_aud.as_object_mut().unwrap().remove("aud");
        let mut expired = good();
        expired["exp"] = json!(NOW);
        let mut too_long = good();
        too_long["exp"] = json!(NOW + 2 * 86_400);
        let mut future = good();
        future["nbf"] = json!(NOW + 3600);
        let mut future_iat = good();
        future_iat["iat"] = json!(NOW + 3600);
        let mut bad_sub = good();
        bad_sub["sub"] = json!("has space");
        let mut long_sub = good();
        long_sub["sub"] = json!("x".repeat(129));
        let mut no_exp = good();
        no_exp.as_object_mut().unwrap().remove("exp");
        let mut fraction = good();
        fraction["exp"] = json!(1_800_003_600.5);
        assert_eq!(check(&hs256(fraction)).unwrap().expires_at, NOW + 3600);
        let mut text_exp = good();
        text_exp["exp"] = json!("tomorrow");
        let signed = hs256(good());
        let (head, rest) = signed.split_once('.').unwrap();
        let (_, sig) = rest.rsplit_once('.').unwrap();
        let mut forged_claims = good();
        forged_claims["sub"] = json!("admin");
        let forged = format!(
            "{head}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(forged_claims.to_string())
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(good().to_string())
        );
        let cases: Vec<(String, UserTokenError)> = vec![
            (hs256(other_site), UserTokenError::Audience),
            (hs256(no_aud), UserTokenError::Audience),
            (hs256(expired), UserTokenError::Expired),
            (hs256(too_long), UserTokenError::TooLong),
            (hs256(future), UserTokenError::NotYetValid),
            (hs256(future_iat), UserTokenError::NotYetValid),
            (hs256(bad_sub), UserTokenError::Subject),
            (hs256(long_sub), UserTokenError::Subject),
            (hs256(no_exp), UserTokenError::Claim("exp")),
            (hs256(text_exp), UserTokenError::Claim("exp")),
            (
                token(json!({"alg": "HS256"}), good(), b"wrong"),
                UserTokenError::Signature,
            ),
            (forged, UserTokenError::Signature),
            (none, UserTokenError::Algorithm("none".into())),
            (
                token(json!({"alg": "HS512"}), good(), SECRET),
                UserTokenError::Algorithm("HS512".into()),
            ),
            (
                token(json!({"alg": "RS256"}), good(), SECRET),
                UserTokenError::Algorithm("RS256".into()),
            ),
            (
                token(json!({"alg": "ES256"}), good(), SECRET),
                UserTokenError::Algorithm("ES256".into()),
            ),
            ("not.a.jwt".into(), UserTokenError::Malformed),
            ("".into(), UserTokenError::Malformed),
            ("x".repeat(MAX_TOKEN_BYTES + 1), UserTokenError::Malformed),
        ];
        for (t, expected) in cases {
            assert_eq!(check(&t).err(), Some(expected.clone()), "{expected}");
            assert!(!expected.to_string().is_empty());
        }
    }
}
