//! For each JSON line on stdin `{"auth_token", "url", "params": [[k, v], ...], "header"}` prints
//! `<expected signature> <1 if header validates, else 0>`. Used by
//! `tests/twilio-signature-oracle.test.mjs` to compare with the official twilio library.

use std::io::{BufRead, Write};

use edgechat_core::twilio::signature::{expected_signature, is_valid};
use serde::Deserialize;

#[derive(Deserialize)]
struct Input {
    auth_token: String,
    url: String,
    params: Vec<(String, String)>,
    header: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let i: Input = serde_json::from_str(&line?)?;
        let expected = expected_signature(&i.auth_token, &i.url, &i.params);
        let valid = is_valid(&i.auth_token, &i.header, &i.url, &i.params);
        writeln!(out, "{expected} {}", u8::from(valid))?;
    }
    Ok(())
}
