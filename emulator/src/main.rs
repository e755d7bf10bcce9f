//! `twilio-emulator`: a local stand-in for Twilio Conversations, for development and tests only
//! (never deployed).
//!
//! One model of conversations (`model`), projected into the Twilio Sync objects the SDK reads
//! (`projection`), behind one write path (`app`); thin transports on top, none importing another:
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

use std::net::SocketAddr;
use std::sync::Arc;

mod app;
mod console;
mod control;
mod countdown;
mod http;
mod mcs;
mod model;
mod projection;
mod rest;
mod sdk;
mod tokens;
mod twilsock;
mod webhooks;

use edgechat_core::ids::sid::{AccountSid, ApiKeySid, ServiceSid};
use model::{Account, ServiceWebhooks, State};

/// twilio-emulator: a local Twilio Conversations stand-in (development and tests only).
///
/// Every option can also be given by the environment variable shown with it.
#[derive(clap::Parser, Debug)]
#[command(name = "twilio-emulator", version, about, long_about = None)]
struct Options {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, env = "EMULATOR_PORT", default_value_t = 8788)]
    port: u16,
    /// The account SID (AC...).
    #[arg(long, env = "TWILIO_ACCOUNT_SID", value_name = "AC...")]
    account_sid: AccountSid,
    /// The account's auth token: signs webhooks, and Basic auth with the account SID.
    #[arg(
        long,
        env = "TWILIO_AUTH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    auth_token: String,
    /// An API key (SK...) for Basic auth; access tokens it signs are accepted.
    #[arg(long, env = "TWILIO_API_KEY_SID", value_name = "SK...")]
    api_key_sid: ApiKeySid,
    /// The API key's secret.
    #[arg(
        long,
        env = "TWILIO_API_KEY_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    api_key_secret: String,
    /// A Conversations service (IS...); repeat for more, the first is the default.
    #[arg(
        long = "service",
        env = "EMULATOR_SERVICES",
        value_name = "IS...",
        value_delimiter = ',',
        required = true
    )]
    services: Vec<ServiceSid>,
    /// Every service's post-event webhook URL.
    #[arg(long, env = "EMULATOR_WEBHOOK_URL", value_name = "URL")]
    webhook_url: Option<url::Url>,
    /// The post-event webhook's filters.
    #[arg(
        long,
        env = "EMULATOR_WEBHOOK_FILTERS",
        value_name = "EVENT,...",
        value_delimiter = ',',
        default_value = "onConversationAdded,onMessageAdded"
    )]
    webhook_filters: Vec<String>,
}

#[tokio::main]
async fn main() {
    let options = <Options as clap::Parser>::parse();
    let account = Account {
        account_sid: options.account_sid.to_string(),
        auth_token: options.auth_token,
        api_key_sid: options.api_key_sid.to_string(),
        api_key_secret: options.api_key_secret,
    };
    let webhook_filters: Vec<String> = options
        .webhook_filters
        .iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    let services = options
        .services
        .iter()
        .map(|sid| {
            let webhooks = ServiceWebhooks {
                pre_webhook_url: None,
                post_webhook_url: options.webhook_url.as_ref().map(|u| u.to_string()),
                filters: webhook_filters.clone(),
                method: "POST".into(),
                post_webhook_retry_count: 0,
            };
            (sid.to_string(), webhooks)
        })
        .collect();
    let app = Arc::new(app::App::new(account, State::new(services)));
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
    app.set_public_base(format!("http://{local}"));
    let rest = rest::router(app.clone()).layer(axum::middleware::from_fn_with_state(
        controls.clone(),
        control::rest_layer,
    ));
    let router = control::router(controls)
        .merge(console::router(app.clone()))
        .merge(twilsock.router())
        .merge(sdk::router(app.clone()))
        .merge(mcs::router(app.clone()))
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

#[cfg(test)]
mod options_tests {
    use super::Options;
    use clap::{CommandFactory, Parser};

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const SK: &str = "SK0123456789abcdef0123456789abcdef";
    const IS1: &str = "IS0123456789abcdef0123456789abcdef";
    const IS2: &str = "ISfedcba9876543210fedcba9876543210";

    fn parse(extra: &[&str]) -> Result<Options, clap::Error> {
        let mut args = vec![
            "twilio-emulator",
            "--account-sid",
            AC,
            "--auth-token",
            "t",
            "--api-key-sid",
            SK,
            "--api-key-secret",
            "s",
        ];
        args.extend_from_slice(extra);
        Options::try_parse_from(args)
    }

    #[test]
    fn the_declaration_is_consistent() {
        Options::command().debug_assert();
    }

    #[test]
    fn services_repeat_or_come_comma_separated_and_keep_their_order() {
        let o = parse(&["--service", IS2, "--service", IS1]).unwrap();
        let sids: Vec<String> = o.services.iter().map(|s| s.to_string()).collect();
        assert_eq!(sids, [IS2, IS1]);
        let o = parse(&["--service", &format!("{IS1},{IS2}")]).unwrap();
        assert_eq!(o.services.len(), 2);
        assert_eq!(o.services[0].as_str(), IS1);
        assert_eq!(o.port, 8788, "the documented default port");
        assert_eq!(o.webhook_filters, ["onConversationAdded", "onMessageAdded"]);
        assert!(o.webhook_url.is_none());
    }

    #[test]
    fn a_wrong_sid_names_the_flag_and_the_expected_shape() {
        let e = parse(&["--service", "CH0123456789abcdef0123456789abcdef"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--service"), "{e}");
        assert!(
            e.contains("\"IS\" followed by 32 lower-case hex digits"),
            "{e}"
        );
        let e = parse(&["--service", IS1, "--port", "70000"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--port"), "{e}");
        let e = parse(&["--service", IS1, "--webhook-url", "not a url"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--webhook-url"), "{e}");
    }

    #[test]
    fn a_service_is_required() {
        let e = parse(&[]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
