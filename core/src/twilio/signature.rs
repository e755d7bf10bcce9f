//! `X-Twilio-Signature`: how Twilio signs the webhooks it sends, and how we check them.
//!
//! The signature is base64(HMAC-SHA1(auth token, URL + parameters)), where the URL is exactly as
//! Twilio requested it (query string included) and the parameters are the form-encoded POST
//! fields, keys sorted, each written as key followed by value; a repeated key's values are
//! de-duplicated, sorted and each written as key+value. Sorting is JavaScript's default string
//! order (UTF-16 code units), as in the official `twilio` library, whose `validateRequest` this
//! mirrors (see `tests/twilio-signature-oracle.test.mjs`). A JSON body is signed through its
//! URL instead: the URL carries `bodySHA256=<hex SHA-256 of the body>` and no parameters are
//! appended. Validators accept the URL both with and without the scheme's default port, because
//! Twilio has signed both forms.

use std::cmp::Ordering;
use subtle::ConstantTimeEq;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// JavaScript's `Array.prototype.sort()` order for strings.
fn js_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The signature Twilio sends for a request to `url` with form parameters `params`.
pub fn expected_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(signing_mac(auth_token, url, params).finalize().into_bytes())
}

/// The HMAC over everything Twilio signs, before finalizing. Linear after one sort: the pairs
/// are sorted by key, then value (JavaScript's order for both), and exact repeats dropped, which
/// is the library's "keys sorted, each key's values de-duplicated and sorted".
fn signing_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort_by(|a, b| js_order(a.0, b.0).then_with(|| js_order(a.1, b.1)));
    pairs.dedup();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key size");
    mac.update(url.as_bytes());
    for (key, value) in pairs {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Most parameters a webhook may carry. Twilio's Conversations events carry a few dozen; a
/// request with more is refused before any signing work (sorting and hashing cost the Worker
/// CPU for every key an unsigned caller sends).
pub const MAX_PARAMS: usize = 300;

/// Whether `header` can be an `X-Twilio-Signature` at all: base64 of a 20-byte HMAC-SHA1 is
/// exactly 27 base64 characters and one `=`. Checked before any signing work.
pub fn plausible_header(header: &str) -> bool {
    let bytes = header.as_bytes();
    bytes.len() == 28
        && bytes[27] == b'='
        && bytes[..27]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
}

/// How many parameters a form body holds at most (its `&`-separated pieces), counted without
/// decoding it.
pub fn form_param_count(body: &[u8]) -> usize {
    body.iter().filter(|&&b| b == b'&').count() + 1
}

/// The URL split where the official library splits it: scheme, user info, host, port, rest.
struct UrlParts<'a> {
    scheme: &'a str,
    user_info: &'a str,
    host: &'a str,
    port: &'a str,
    rest: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let scheme_end = url.find("://")? + 3;
    let scheme = &url[..scheme_end];
    let first = scheme.as_bytes()[0];
    let scheme_ok = first.is_ascii_alphabetic()
        && scheme[..scheme.len() - 3]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'));
    if !scheme_ok {
        return None;
    }
    let after = &url[scheme_end..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_and_port = &authority[host_start..];
    let search_from = host_and_port.rfind(']').map_or(0, |i| i + 1);
    let port_start = host_and_port[search_from..]
        .find(':')
        .map(|i| i + search_from);
    let (host, port) = match port_start {
        Some(i) => (&host_and_port[..i], &host_and_port[i..]),
        None => (host_and_port, ""),
    };
    Some(UrlParts {
        scheme,
        user_info: &authority[..host_start],
        host,
        port,
        rest: &after[authority_end..],
    })
}

fn with_default_port(url: &str) -> String {
    match split_url(url) {
        Some(p) if p.port.is_empty() => {
            let port = if p.scheme.eq_ignore_ascii_case("https://") {
                ":443"
            } else {
                ":80"
            };
            format!("{}{}{}{}{}", p.scheme, p.user_info, p.host, port, p.rest)
        }
        _ => url.to_owned(),
    }
}

fn without_port(url: &str) -> String {
    match split_url(url) {
        Some(p) => format!("{}{}{}{}", p.scheme, p.user_info, p.host, p.rest),
        None => url.to_owned(),
    }
}

/// `verify_slice` compares in constant time.
fn signature_matches(
    auth_token: &str,
    header: &str,
    url: &str,
    params: &[(String, String)],
) -> bool {
    match STANDARD.decode(header.trim()) {
        Ok(claimed) => signing_mac(auth_token, url, params)
            .verify_slice(&claimed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Whether `header` (the `X-Twilio-Signature` value) signs a form-encoded request to `url` with
/// `params`, with or without the default port in the URL.
pub fn is_valid(auth_token: &str, header: &str, url: &str, params: &[(String, String)]) -> bool {
    [without_port(url), with_default_port(url)]
        .iter()
        .any(|candidate| signature_matches(auth_token, header, candidate, params))
}

/// Whether `header` signs a JSON request to `url` (which carries `bodySHA256`) with body `body`.
pub fn is_valid_json(auth_token: &str, header: &str, url: &str, body: &[u8]) -> bool {
    let Some(claimed_hash) = body_sha256_param(url) else {
        return false;
    };
    let actual_hash = hex_lower(&Sha256::digest(body));
    is_valid(auth_token, header, url, &[])
        && bool::from(claimed_hash.as_bytes().ct_eq(actual_hash.as_bytes()))
}

fn body_sha256_param(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Vectors made with twilio@6.2.0: getExpectedTwilioSignature / validateRequest.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn twilio_doc_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn matches_the_library_vectors() {
        assert_eq!(
            expected_signature(TOKEN, URL, &twilio_doc_params()),
            LIB_DOC_SIGNATURE
        );
        assert_eq!(
            expected_signature(
                TOKEN,
                "https://example.com/hook",
                &params(&[("b", "2"), ("a", "x"), ("a", "1"), ("a", "x")])
            ),
            LIB_REPEATED_SIGNATURE
        );
    }

    #[test]
    fn validates_with_and_without_default_port() {
        assert!(is_valid(
            TOKEN,
            LIB_DOC_SIGNATURE,
            URL,
            &twilio_doc_params()
        ));
        assert!(is_valid(
            TOKEN,
            LIB_DOC_SIGNATURE,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &twilio_doc_params()
        ));
        let with_port = expected_signature(
            TOKEN,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &twilio_doc_params(),
        );
        assert!(is_valid(TOKEN, &with_port, URL, &twilio_doc_params()));
    }

    #[test]
    fn rejects_altered_requests() {
        let p = twilio_doc_params();
        assert!(!is_valid("54321", LIB_DOC_SIGNATURE, URL, &p));
        assert!(!is_valid(
            TOKEN,
            LIB_DOC_SIGNATURE,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &p
        ));
        assert!(!is_valid(
            TOKEN,
            LIB_DOC_SIGNATURE,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &p
        ));
        let mut altered = p.clone();
        altered[2].1 = "4321".into();
        assert!(!is_valid(TOKEN, LIB_DOC_SIGNATURE, URL, &altered));
        let mut extra = p.clone();
        extra.push(("Extra".into(), "1".into()));
        assert!(!is_valid(TOKEN, LIB_DOC_SIGNATURE, URL, &extra));
        assert!(!is_valid(TOKEN, "", URL, &p));
        assert!(!is_valid(TOKEN, "not base64!", URL, &p));
        assert!(!is_valid(TOKEN, &LIB_DOC_SIGNATURE[..20], URL, &p));
    }

    #[test]
    fn json_bodies_are_signed_through_their_hash() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let url = format!(
            "https://mycompany.com/myapp.php?bodySHA256={}",
            hex_lower(&Sha256::digest(body))
        );
        let signature = expected_signature(TOKEN, &url, &[]);
        assert!(is_valid_json(TOKEN, &signature, &url, body));
        assert!(!is_valid_json(
            TOKEN,
            &signature,
            &url,
            br#"{"property": "value", "boolean": false}"#
        ));
        assert!(!is_valid_json(
            TOKEN,
            &signature,
            "https://mycompany.com/myapp.php",
            body
        ));
    }

    #[test]
    fn splits_urls_like_the_library() {
        assert_eq!(
            with_default_port("https://a.com/x?y=1"),
            "https://a.com:443/x?y=1"
        );
        assert_eq!(with_default_port("http://a.com"), "http://a.com:80");
        assert_eq!(
            with_default_port("https://a.com:8443/x"),
            "https://a.com:8443/x"
        );
        assert_eq!(
            without_port("https://u:p@a.com:443/x"),
            "https://u:p@a.com/x"
        );
        assert_eq!(without_port("https://[::1]:8443/x"), "https://[::1]/x");
        assert_eq!(with_default_port("https://[::1]/x"), "https://[::1]:443/x");
        assert_eq!(without_port("not a url"), "not a url");
    }

    #[test]
    fn implausible_headers_and_oversized_forms_are_recognised_before_signing() {
        assert!(plausible_header(LIB_DOC_SIGNATURE));
        assert!(plausible_header(LIB_REPEATED_SIGNATURE));
        for bad in [
            "",
            "unchecked",
            &LIB_DOC_SIGNATURE[..27],
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ==",
            "0/KCTR6DLpKmkAf8muzZqo1nDg-=",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQA",
            " 0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
        ] {
            assert!(!plausible_header(bad), "{bad:?}");
        }
        assert_eq!(form_param_count(b"a=1"), 1);
        assert_eq!(form_param_count(b"a=1&b=2&c"), 3);
        let big = "k=v&".repeat(MAX_PARAMS);
        assert!(form_param_count(big.as_bytes()) > MAX_PARAMS);
    }

    /// The one-sort pass signs what the library signs, whatever the order of the pairs: the
    /// vectors above, and many keys with repeated, shuffled values.
    #[test]
    fn one_sort_signs_like_the_per_key_pass() {
        let mut p = Vec::new();
        for i in 0..50 {
            for v in ["b", "a", "b", "é", "Z"] {
                p.push((format!("K{}", (i * 7) % 50), format!("{v}{}", i % 3)));
            }
        }
        let mut shuffled = p.clone();
        shuffled.reverse();
        shuffled.rotate_left(17);
        assert_eq!(
            expected_signature(TOKEN, URL, &p),
            expected_signature(TOKEN, URL, &shuffled)
        );
        assert_eq!(
            expected_signature(TOKEN, URL, &p),
            reference(TOKEN, URL, &p)
        );
    }

    /// The library's definition, key by key (quadratic; for the test only).
    fn reference(token: &str, url: &str, params: &[(String, String)]) -> String {
        let mut keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_by(|a, b| js_order(a, b));
        keys.dedup();
        let mut data = url.to_owned();
        for key in keys {
            let mut values: Vec<&str> = params
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            values.sort_by(|a, b| js_order(a, b));
            values.dedup();
            for value in values {
                data.push_str(key);
                data.push_str(value);
            }
        }
        let mut mac = HmacSha1::new_from_slice(token.as_bytes()).unwrap();
        mac.update(data.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    const LIB_DOC_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
    const LIB_REPEATED_SIGNATURE: &str = "z/gFhiKqJ8QlcktIsR+1cJbrQD4=";
}
