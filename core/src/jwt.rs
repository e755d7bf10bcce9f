//! JSON Web Tokens, both ways, through one library (`jsonwebtoken`): the Worker signs Twilio access
//! tokens with it ([`sign_hs256`]) and verifies the site's user tokens with it
//! ([`crate::user_token`]).
//!
//! Only HS256 is ever used, so the library runs on a crypto provider of our own that knows HS256
//! alone (RustCrypto's `hmac` and `sha2`, which the core already uses), instead of its
//! `rust_crypto` provider: that one links RSA, ECDSA and EdDSA into the Worker whether they are
//! called or not. Any other algorithm is refused by the provider as well as by the validation.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};

use hmac::{KeyInit, Mac};
use signature::{Signer, Verifier};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// HS256 and nothing else.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

struct Hs256(HmacSha256);

fn hmac_of(family: AlgorithmFamily, key: &[u8], algorithm: &Algorithm) -> Result<Hs256> {
    if *algorithm != Algorithm::HS256 {
        return Err(Error::from(ErrorKind::InvalidAlgorithm));
    }
    if family != AlgorithmFamily::Hmac {
        return Err(Error::from(ErrorKind::InvalidKeyFormat));
    }
    HmacSha256::new_from_slice(key)
        .map(Hs256)
        .map_err(|_| Error::from(ErrorKind::InvalidKeyFormat))
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(hmac_of(key.family(), key.as_bytes(), algorithm)?))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(hmac_of(
        key.family(),
        key.try_get_as_bytes()?,
        algorithm,
    )?))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // Constant time (`hmac`'s `verify_slice`).
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// Makes the HS256 provider the library's (once a process; later calls change nothing).
pub fn install() {
    let _ = HS256_ONLY.install_default();
}

/// The HS256 signature of `signing_input` (`base64url(header).base64url(payload)`), base64url
/// without padding, as a JWT's third part.
pub fn sign_hs256(signing_input: &[u8], secret: &[u8]) -> String {
    install();
    jsonwebtoken::crypto::sign(
        signing_input,
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .expect("HS256 signs with a key of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_rfc_7515_appendix_a1_does() {
        // RFC 7515, A.1: the HS256 example, its key and signing input.
        let key = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        )
        .unwrap();
        let input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        assert_eq!(
            sign_hs256(input.as_bytes(), &key),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn the_provider_knows_no_other_algorithm() {
        install();
        let key = EncodingKey::from_secret(b"k");
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            assert!(jsonwebtoken::crypto::sign(b"x", &key, alg).is_err());
        }
    }
}
