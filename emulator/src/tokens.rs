//! Access tokens checked as Twilio checks them, with `jsonwebtoken`: the header says HS256 and
//! `cty: twilio-fpa;v=1`; the signature verifies with the secret of the API key named in `iss`;
//! `sub` is the account; not expired (nor before `nbf`); an identity; a chat grant for a service
//! the account has. Refusals carry Twilio's codes: 20101 invalid, 20103 issuer or subject,
//! 20104 expired, 20107 signature.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::model::{Account, State, TwilioError};

/// Who a valid token speaks for, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub identity: String,
    pub service_sid: String,
    /// Unix seconds.
    pub expires_at: u64,
    pub issued_at: u64,
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    #[serde(default)]
    iat: Option<u64>,
    grants: Grants,
}

#[derive(Deserialize)]
struct Grants {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    chat: Option<ChatGrant>,
}

#[derive(Deserialize)]
struct ChatGrant {
    #[serde(default)]
    service_sid: Option<String>,
}

fn denied(code: u32, message: impl Into<String>) -> TwilioError {
    TwilioError::new(401, code, message)
}

pub fn expired() -> TwilioError {
    denied(20104, "Access Token expired or expiration date invalid")
}

/// Checks `token` (at the current time) against `account` and the services in `model`.
pub fn verify(account: &Account, model: &State, token: &str) -> Result<Client, TwilioError> {
    let invalid = |why: &str| denied(20101, format!("Invalid Access Token: {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("not a JWT"))?;
    if header.alg != Algorithm::HS256 || header.cty.as_deref() != Some("twilio-fpa;v=1") {
        return Err(invalid(
            "the header must say alg HS256 and cty twilio-fpa;v=1",
        ));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_issuer(&[&account.api_key_sid]);
    validation.sub = Some(account.account_sid.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let key = DecodingKey::from_secret(account.api_key_secret.as_bytes());
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => denied(20107, "Invalid Access Token signature"),
            ErrorKind::ExpiredSignature => expired(),
            ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => {
                denied(20103, "Invalid Access Token issuer/subject")
            }
            ErrorKind::ImmatureSignature => invalid("not valid yet (nbf)"),
            _ => invalid(&e.to_string()),
        })?
        .claims;
    let identity = claims
        .grants
        .identity
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("no identity in grants"))?;
    let service_sid = claims
        .grants
        .chat
        .and_then(|c| c.service_sid)
        .ok_or_else(|| invalid("no chat grant with a service_sid"))?;
    if !model.services.contains_key(&service_sid) {
        return Err(invalid(
            "the chat grant names a service this account does not have",
        ));
    }
    Ok(Client {
        identity,
        service_sid,
        expires_at: claims.exp,
        issued_at: claims.iat.unwrap_or(claims.exp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceWebhooks;
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    use serde_json::json;

    const IS: &str = "IS00000000000000000000000000000001";

    fn account() -> Account {
        Account {
            account_sid: "AC00000000000000000000000000000001".into(),
            auth_token: "auth".into(),
            api_key_sid: "SK00000000000000000000000000000001".into(),
            api_key_secret: "secret".into(),
        }
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// A token as the twilio library signs one (header and claims in its order).
    fn token(header: serde_json::Value, claims: serde_json::Value, secret: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signing = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(signing.as_bytes());
        format!("{signing}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    fn claims(exp: u64) -> serde_json::Value {
        json!({"jti": "SK-1", "grants": {"identity": "ana", "chat": {"service_sid": IS}},
               "iat": exp - 60, "exp": exp, "iss": account().api_key_sid, "sub": account().account_sid})
    }

    fn header() -> serde_json::Value {
        json!({"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"})
    }

    #[test]
    fn checks_as_twilio_does() {
        let model = State::new(vec![(IS.into(), ServiceWebhooks::default())]);
        let a = account();
        let ok = verify(&a, &model, &token(header(), claims(now() + 60), "secret")).unwrap();
        assert_eq!(ok.identity, "ana");
        assert_eq!(ok.expires_at - ok.issued_at, 60);
        let code = |t: &str| verify(&a, &model, t).unwrap_err().code;
        assert_eq!(code(&token(header(), claims(now() + 60), "other")), 20107);
        assert_eq!(code(&token(header(), claims(now() - 1), "secret")), 20104);
        let mut wrong_iss = claims(now() + 60);
        wrong_iss["iss"] = json!("SK00000000000000000000000000000002");
        assert_eq!(code(&token(header(), wrong_iss, "secret")), 20103);
        let no_cty = json!({"alg": "HS256", "typ": "JWT"});
        assert_eq!(code(&token(no_cty, claims(now() + 60), "secret")), 20101);
        let mut other_service = claims(now() + 60);
        other_service["grants"]["chat"]["service_sid"] =
            json!("IS00000000000000000000000000000009");
        assert_eq!(code(&token(header(), other_service, "secret")), 20101);
        assert_eq!(code("not.a.jwt"), 20101);
    }
}
