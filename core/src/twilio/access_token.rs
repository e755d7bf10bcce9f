//! Twilio access tokens with a chat grant, the credential the Conversations SDK connects with.
//!
//! Wire format (matched byte for byte against the official `twilio` npm library's `AccessToken`
//! and `ChatGrant`, see `tests/token-oracle.test.mjs`): a JWT signed HS256 with the API key secret,
//!
//! ```text
//! header  {"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}
//! payload {"jti":"SK...-<iat>","grants":{"identity":"...","chat":{"service_sid":"IS...",
//!          "push_credential_sid":"CR..."}},"iat":<now>,"exp":<now+ttl>,"iss":"SK...","sub":"AC..."}
//! ```
//!
//! Field order is part of the format: the structs below declare their fields in the library's order
//! and serde_json writes them in declaration order. The header is written here for that reason
//! (`jsonwebtoken`'s own header puts `typ` before `alg`); the signature is `jsonwebtoken`'s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::ids::sid::{AccountSid, ApiKeySid, PushCredentialSid, ServiceSid};

/// Twilio refuses tokens that live longer than a day.
pub const MAX_TTL_SECONDS: u32 = 24 * 60 * 60;

/// The chat grant: which Conversations service the token opens, and where push notifications go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatGrant {
    pub service_sid: ServiceSid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_credential_sid: Option<PushCredentialSid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    pub identity: String,
    pub chat: ChatGrant,
}

/// The token's claims, in the order the official library writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub jti: String,
    pub grants: Grants,
    pub iat: u64,
    pub exp: u64,
    pub iss: ApiKeySid,
    pub sub: AccountSid,
}

#[derive(Serialize)]
struct Header {
    alg: &'static str,
    typ: &'static str,
    cty: &'static str,
}

const HEADER: Header = Header {
    alg: "HS256",
    typ: "JWT",
    cty: "twilio-fpa;v=1",
};

impl Claims {
    /// Claims for `identity`, issued at `now` (unix seconds) and valid for `ttl_seconds`.
    pub fn new(
        account_sid: AccountSid,
        api_key_sid: ApiKeySid,
        identity: String,
        chat: ChatGrant,
        now: u64,
        ttl_seconds: u32,
    ) -> Claims {
        Claims {
            jti: format!("{api_key_sid}-{now}"),
            grants: Grants { identity, chat },
            iat: now,
            exp: now + u64::from(ttl_seconds),
            iss: api_key_sid,
            sub: account_sid,
        }
    }

    /// The signed JWT. `api_key_secret` is the secret of the key named in `iss`.
    pub fn sign(&self, api_key_secret: &[u8]) -> String {
        let header = serde_json::to_vec(&HEADER).expect("static header serializes");
        let payload = serde_json::to_vec(self).expect("claims hold only strings and integers");
        let mut jwt = String::with_capacity(64 + payload.len() * 4 / 3 + 44);
        jwt.push_str(&URL_SAFE_NO_PAD.encode(header));
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let signature = crate::jwt::sign_hs256(jwt.as_bytes(), api_key_secret);
        jwt.push('.');
        jwt.push_str(&signature);
        jwt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};

    type HmacSha256 = hmac::Hmac<sha2::Sha256>;

    fn claims(push: Option<&str>) -> Claims {
        Claims::new(
            "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().unwrap(),
            "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".parse().unwrap(),
            "visitor:acme:4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11".into(),
            ChatGrant {
                service_sid: "IScccccccccccccccccccccccccccccccc".parse().unwrap(),
                push_credential_sid: push.map(|p| p.parse().unwrap()),
            },
            1_700_000_000,
            3600,
        )
    }

    /// Made once with twilio@6.2.0: `new AccessToken("AC…a", "SK…b", "s3cr3t", {identity, ttl:
    /// 3600})`, a `ChatGrant({serviceSid: "IS…c"})`, and `Date.now = () => 1700000000000`. The
    /// integration suite compares many more inputs against the library itself.
    const LIBRARY_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0.eyJqdGkiOiJTS2JiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiLTE3MDAwMDAwMDAiLCJncmFudHMiOnsiaWRlbnRpdHkiOiJ2aXNpdG9yOmFjbWU6NGYxYzdjMWUtOGE0ZC00YzhlLTlkNTMtMmYwZjNkMGY5YTExIiwiY2hhdCI6eyJzZXJ2aWNlX3NpZCI6IklTY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2MifX0sImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJpc3MiOiJTS2JiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiIiwic3ViIjoiQUNhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYSJ9.UtWxzPXScBwhxk2DpIXYw0b5kS9P-bWdw3i_I8oHVpk";

    #[test]
    fn matches_the_library_byte_for_byte() {
        assert_eq!(claims(None).sign(b"s3cr3t"), LIBRARY_TOKEN);
    }

    #[test]
    fn payload_decodes_to_the_claims() {
        let c = claims(Some("CRdddddddddddddddddddddddddddddddd"));
        let jwt = c.sign(b"s3cr3t");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let decoded: Claims = serde_json::from_slice(&payload).unwrap();
        assert_eq!(decoded, c);
        assert_eq!(decoded.exp - decoded.iat, 3600);
        let text = String::from_utf8(payload).unwrap();
        assert!(text.contains(r#""chat":{"service_sid":"IScccccccccccccccccccccccccccccccc","push_credential_sid":"CRdddddddddddddddddddddddddddddddd"}"#), "{text}");
    }

    #[test]
    fn signature_is_hmac_sha256_over_header_dot_payload() {
        let jwt = claims(None).sign(b"s3cr3t");
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let mut mac = HmacSha256::new_from_slice(b"s3cr3t").unwrap();
        mac.update(signed.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        let mut wrong = HmacSha256::new_from_slice(b"other").unwrap();
        wrong.update(signed.as_bytes());
        assert!(wrong
            .verify_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap())
            .is_err());
    }
}
