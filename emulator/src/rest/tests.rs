//! The REST API's error answers, natively, through the router on a local port: each refusal with
//! Twilio's status, code and JSON shape, and nothing stored when a request is refused.

use std::sync::Arc;

use serde_json::Value;

use super::router;
use crate::app::App;
use crate::model::{Account, ServiceWebhooks, State};

const IS: &str = "IS00000000000000000000000000000001";

/// The REST router on 127.0.0.1 (port chosen by the OS), stopped when the test's runtime ends.
async fn serve() -> (String, Arc<App>) {
    let account = Account {
        account_sid: "AC00000000000000000000000000000001".into(),
        auth_token: "token".into(),
        api_key_sid: "SK00000000000000000000000000000001".into(),
        api_key_secret: "secret".into(),
    };
    let app = Arc::new(App::new(
        account,
        State::new(vec![(IS.to_owned(), ServiceWebhooks::default())]),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = router(app.clone());
    tokio::spawn(async move { axum::serve(listener, routes).await });
    (base, app)
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form)
                        .finish(),
                ),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
        };
        (status, body)
    }

    async fn created(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.call("POST", path, form).await;
        assert_eq!(status, 201, "{path}: {body}");
        body
    }
}

/// Twilio's error JSON: `status` equal to the answer's, the `code`, a `message` that says `says`,
/// and `more_info` pointing at the code's page.
fn refused(case: &str, (status, body): &(u16, Value), want: u16, code: u64, says: &str) {
    assert_eq!(*status, want, "{case}: {body}");
    assert_eq!(
        body["status"].as_u64(),
        Some(u64::from(want)),
        "{case}: {body}"
    );
    assert_eq!(body["code"].as_u64(), Some(code), "{case}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(says),
        "{case}: {message:?} should say {says:?}"
    );
    let more = body["more_info"].as_str().unwrap_or_default();
    assert!(
        more.ends_with(&code.to_string()),
        "{case}: more_info {more:?}"
    );
}

/// A refused request: what it is, method, path, form, and the status, code and words expected.
type Case<'a> = (
    &'a str,
    &'a str,
    String,
    Vec<(&'a str, &'a str)>,
    u16,
    u64,
    &'a str,
);

#[tokio::test]
async fn each_refusal_has_twilios_status_code_and_shape_and_stores_nothing() {
    let (base, app) = serve().await;
    let api = Api {
        base,
        http: reqwest::Client::new(),
    };
    let c = api
        .created("/v1/Conversations", &[("UniqueName", "taken")])
        .await;
    let sid = c["sid"].as_str().unwrap().to_owned();
    let at = |tail: &str| format!("/v1/Conversations/{sid}{tail}");
    api.created(&at("/Participants"), &[("Identity", "ana")])
        .await;
    let missing = "/v1/Conversations/CH00000000000000000000000000000000";
    let other_service = "/v1/Services/IS0000000000000000000000000000000f/Conversations";

    let cases: Vec<Case> = vec![
        (
            "a missing conversation",
            "GET",
            missing.into(),
            vec![],
            404,
            20404,
            missing,
        ),
        (
            "a missing conversation's messages",
            "GET",
            format!("{missing}/Messages"),
            vec![],
            404,
            20404,
            "was not found",
        ),
        (
            "a service the account lacks",
            "GET",
            other_service.into(),
            vec![],
            404,
            20404,
            other_service,
        ),
        (
            "a path that is no resource",
            "GET",
            "/v1/Nowhere".into(),
            vec![],
            404,
            20404,
            "/v1/Nowhere",
        ),
        (
            "a page of none",
            "GET",
            "/v1/Conversations?PageSize=0".into(),
            vec![],
            400,
            20001,
            "PageSize must be a number from 1 to 1000",
        ),
        (
            "a page too large",
            "GET",
            "/v1/Conversations?PageSize=1001".into(),
            vec![],
            400,
            20001,
            "PageSize",
        ),
        (
            "a page token not given out",
            "GET",
            "/v1/Conversations?PageToken=XY".into(),
            vec![],
            400,
            20001,
            "PageToken",
        ),
        (
            "an order that is none",
            "GET",
            at("/Messages?Order=sideways"),
            vec![],
            400,
            20001,
            "Order must be asc or desc",
        ),
        (
            "a unique name taken",
            "POST",
            "/v1/Conversations".into(),
            vec![("UniqueName", "taken")],
            409,
            50353,
            "taken already exists",
        ),
        (
            "attributes that are not JSON",
            "POST",
            at(""),
            vec![("Attributes", "{nope")],
            400,
            20001,
            "Attributes must be valid JSON",
        ),
        (
            "a state that is none",
            "POST",
            at(""),
            vec![("State", "asleep")],
            400,
            20001,
            "State must be active, inactive or closed",
        ),
        (
            "a participant twice",
            "POST",
            at("/Participants"),
            vec![("Identity", "ana")],
            409,
            50433,
            "Participant already exists: ana",
        ),
        (
            "a message with no body",
            "POST",
            at("/Messages"),
            vec![("Author", "ana")],
            400,
            20001,
            "Body is required",
        ),
        (
            "a studio webhook with no flow",
            "POST",
            at("/Webhooks"),
            vec![("Target", "studio")],
            400,
            20001,
            "FlowSid is required",
        ),
        (
            "a studio webhook with a bad flow",
            "POST",
            at("/Webhooks"),
            vec![("Target", "studio"), ("Configuration.FlowSid", "FWnope")],
            400,
            20001,
            "\"FW\" followed by 32",
        ),
        (
            "a webhook with a relative URL",
            "POST",
            at("/Webhooks"),
            vec![("Target", "webhook"), ("Configuration.Url", "/hook")],
            400,
            20001,
            "Configuration.Url must be an absolute URL",
        ),
        (
            "a webhook with a PUT",
            "POST",
            at("/Webhooks"),
            vec![
                ("Target", "webhook"),
                ("Configuration.Url", "http://127.0.0.1/h"),
                ("Configuration.Method", "put"),
            ],
            400,
            20001,
            "GET or POST",
        ),
        (
            "a retry count above 3",
            "POST",
            format!("/v2/Services/{IS}"),
            vec![("PostWebhookRetryCount", "4")],
            400,
            20001,
            "from 0 to 3, got \"4\"",
        ),
        (
            "a negative retry count",
            "POST",
            format!("/v2/Services/{IS}"),
            vec![("PostWebhookRetryCount", "-1")],
            400,
            20001,
            "from 0 to 3",
        ),
        (
            "a post-event URL that is no URL",
            "POST",
            format!("/v1/Services/{IS}/Configuration/Webhooks"),
            vec![("PostWebhookUrl", "nope")],
            400,
            20001,
            "PostWebhookUrl must be an absolute URL",
        ),
    ];
    for (case, method, path, form, status, code, says) in &cases {
        let answer = api.call(method, path, form).await;
        refused(case, &answer, *status, *code, says);
    }

    // Nothing refused was stored: one conversation, its one participant, no message, no webhook,
    // the service's settings as they were.
    let world = app.world();
    let service = world.model.service(IS).unwrap();
    assert_eq!(service.conversations.len(), 1);
    let c = &service.conversations[0];
    assert_eq!(c.participants.len(), 1);
    assert!(c.messages.is_empty() && c.webhooks.is_empty());
    assert_eq!(c.state, "active");
    assert_eq!(c.attributes, "{}");
    assert_eq!(service.webhooks.post_webhook_retry_count, 0);
    assert_eq!(service.webhooks.post_webhook_url, None);
}

#[tokio::test]
async fn a_sixth_conversation_webhook_is_refused() {
    let (base, _app) = serve().await;
    let api = Api {
        base,
        http: reqwest::Client::new(),
    };
    let c = api.created("/v1/Conversations", &[]).await;
    let sid = c["sid"].as_str().unwrap().to_owned();
    let hooks = format!("/v1/Conversations/{sid}/Webhooks");
    for n in 0..5 {
        let url = format!("http://127.0.0.1/h{n}");
        api.created(
            &hooks,
            &[("Target", "webhook"), ("Configuration.Url", &url)],
        )
        .await;
    }
    let sixth = api
        .call(
            "POST",
            &hooks,
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "http://127.0.0.1/h5"),
            ],
        )
        .await;
    refused("a sixth webhook", &sixth, 400, 50361, "(5)");
}
