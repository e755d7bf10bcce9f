//! `twilio-emulator`: a local stand-in for Twilio Conversations, for development and tests only
//! (never deployed).
//!
//! One model of conversations (`model`), projected into the Twilio Sync objects the SDK reads
//! (`sync`), behind one write path (`app`); thin transports on top, none importing another:
//! - `rest`: the Conversations REST API (`/v1/...` and `/v1/Services/{IS}/...`), HTTP Basic auth
//!   with the account's auth token or its API key, Twilio's JSON, paging and error codes;
//! - `twilsock`: the realtime endpoint of the real `@twilio/conversations` SDK
//!   (`/v3/wsconnect`: twilsock framing, the tunnelled client API and Sync, pushes, token expiry);
//! - `webhooks`: signed post-event webhooks to the service's post-event URL and to conversation
//!   webhooks;
//! - `console`: an agent console page (`/_emulator/console`) to answer visitors by hand;
//! - `sdk`: a light HTTP client for access-token holders (`/_sdk/...`), which the Worker's
//!   webhook tests and benchmark use;
//! - `control`: test controls (`/_emulator/...`): reset, logs, REST and realtime faults.
//!
//! It listens on 127.0.0.1 only and prints one JSON line, `{"listening": "http://127.0.0.1:PORT"}`,
//! once it accepts connections.

// Handlers return an HTTP answer as `Err(Response)`; boxing it would gain nothing here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

mod app;
mod console;
mod control;
mod countdown;
mod http;
mod model;
mod projection;
mod rest;
mod sdk;
mod tokens;
mod twilsock;
mod webhooks;

use model::{Account, ServiceWebhooks, State};

const USAGE: &str = "\
twilio-emulator: a local Twilio Conversations stand-in (development and tests only)

Options (each also read from the environment variable in brackets):
  --port N                 port on 127.0.0.1; 0 picks a free one        [EMULATOR_PORT, default 8788]
  --account-sid AC...      the account SID                              [TWILIO_ACCOUNT_SID]
  --auth-token T           signs webhooks; Basic auth with the account  [TWILIO_AUTH_TOKEN]
  --api-key-sid SK...      API key for Basic auth and access tokens     [TWILIO_API_KEY_SID]
  --api-key-secret S       its secret                                   [TWILIO_API_KEY_SECRET]
  --service IS...          a Conversations service (repeat for more; the first is the default)
                                                                        [EMULATOR_SERVICES, comma-separated]
  --webhook-url URL        every service's post-event webhook URL       [EMULATOR_WEBHOOK_URL]
  --webhook-filters LIST   its filters, comma-separated                 [EMULATOR_WEBHOOK_FILTERS,
                                                          default onConversationAdded,onMessageAdded]
";

struct Options {
    port: u16,
    account: Account,
    services: Vec<String>,
    webhook_url: Option<String>,
    webhook_filters: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut flags: HashMap<String, Vec<String>> = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            print!("{USAGE}");
            std::process::exit(0);
        }
        let name = arg
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {arg:?}"))?;
        let value = args
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        flags.entry(name.to_owned()).or_default().push(value);
    }
    let known = [
        "port",
        "account-sid",
        "auth-token",
        "api-key-sid",
        "api-key-secret",
        "service",
        "webhook-url",
        "webhook-filters",
    ];
    if let Some(unknown) = flags.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("unknown option --{unknown}"));
    }
    let one = |flag: &str, var: &str| -> Option<String> {
        flags
            .get(flag)
            .and_then(|v| v.last().cloned())
            .or_else(|| std::env::var(var).ok().filter(|v| !v.is_empty()))
    };
    let required = |flag: &str, var: &str| -> Result<String, String> {
        one(flag, var).ok_or_else(|| format!("--{flag} (or {var}) is required"))
    };
    let sid = |flag: &str, var: &str, prefix: &str| -> Result<String, String> {
        let value = required(flag, var)?;
        check_sid(&value, prefix).map_err(|e| format!("--{flag}: {e}"))?;
        Ok(value)
    };
    let port = match one("port", "EMULATOR_PORT") {
        None => 8788,
        Some(p) => p
            .parse()
            .map_err(|_| format!("--port must be a number from 0 to 65535, got {p:?}"))?,
    };
    let mut services: Vec<String> = flags.get("service").cloned().unwrap_or_default();
    if services.is_empty() {
        services = one("service", "EMULATOR_SERVICES")
            .map(|s| s.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
    }
    if services.is_empty() {
        return Err("name at least one --service IS... (or EMULATOR_SERVICES)".into());
    }
    for s in &services {
        check_sid(s, "IS").map_err(|e| format!("--service: {e}"))?;
    }
    let webhook_url = one("webhook-url", "EMULATOR_WEBHOOK_URL");
    if let Some(url) = &webhook_url {
        url::Url::parse(url).map_err(|e| format!("--webhook-url {url:?}: {e}"))?;
    }
    let webhook_filters = one("webhook-filters", "EMULATOR_WEBHOOK_FILTERS")
        .unwrap_or_else(|| "onConversationAdded,onMessageAdded".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    Ok(Options {
        port,
        account: Account {
            account_sid: sid("account-sid", "TWILIO_ACCOUNT_SID", "AC")?,
            auth_token: required("auth-token", "TWILIO_AUTH_TOKEN")?,
            api_key_sid: sid("api-key-sid", "TWILIO_API_KEY_SID", "SK")?,
            api_key_secret: required("api-key-secret", "TWILIO_API_KEY_SECRET")?,
        },
        services,
        webhook_url,
        webhook_filters,
    })
}

pub fn check_sid(value: &str, prefix: &str) -> Result<(), String> {
    let ok = value.len() == 34
        && value.starts_with(prefix)
        && value[2..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a {prefix} SID is {prefix} followed by 32 lowercase hex digits, got {value:?}"
        ))
    }
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("twilio-emulator: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let services = options
        .services
        .iter()
        .map(|sid| {
            let webhooks = ServiceWebhooks {
                pre_webhook_url: None,
                post_webhook_url: options.webhook_url.clone(),
                filters: options.webhook_filters.clone(),
                method: "POST".into(),
                post_webhook_retry_count: 0,
            };
            (sid.clone(), webhooks)
        })
        .collect();
    let app = Arc::new(app::App::new(options.account, State::new(services)));
    let webhooks = webhooks::Webhooks::start(&app);
    let twilsock = twilsock::Twilsock::new(app.clone());
    let controls = control::Controls::new(app.clone(), webhooks, twilsock.clone());
    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "twilio-emulator: cannot listen on {addr}: {e} (is another emulator running? \
                 pick another --port)"
            );
            std::process::exit(1);
        }
    };
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");
    println!(
        "{}",
        serde_json::json!({"listening": format!("http://{local}")})
    );
    let rest = rest::router(app.clone()).layer(axum::middleware::from_fn_with_state(
        controls.clone(),
        control::rest_layer,
    ));
    let router = control::router(controls)
        .merge(console::router(app.clone()))
        .merge(twilsock.router())
        .merge(sdk::router(app.clone()))
        .merge(rest);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // Small frames both ways (twilsock pushes and acks): no Nagle delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("twilio-emulator: server stopped: {e}");
        std::process::exit(1);
    }
}
