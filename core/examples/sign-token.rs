//! Signs access tokens with edgechat's `Claims::sign` for inputs read as JSON lines on stdin, one
//! token per output line. `tests/token-oracle.test.mjs` feeds it generated inputs and compares
//! every token with the official twilio library's.

use std::io::{BufRead, Write};

use edgechat_core::twilio::access_token::{ChatGrant, Claims};
use serde::Deserialize;

#[derive(Deserialize)]
struct Input {
    account_sid: String,
    api_key_sid: String,
    api_key_secret: String,
    identity: String,
    service_sid: String,
    push_credential_sid: Option<String>,
    now: u64,
    ttl: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let input: Input = serde_json::from_str(&line?)?;
        let push_credential_sid = match input.push_credential_sid {
            Some(sid) => Some(sid.parse()?),
            None => None,
        };
        let claims = Claims::new(
            input.account_sid.parse()?,
            input.api_key_sid.parse()?,
            input.identity,
            ChatGrant {
                service_sid: input.service_sid.parse()?,
                push_credential_sid,
            },
            input.now,
            input.ttl,
        );
        writeln!(out, "{}", claims.sign(input.api_key_secret.as_bytes()))?;
    }
    Ok(())
}
