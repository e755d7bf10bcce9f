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

fn api(base: String) -> Api {
    Api {
        base,
        http: reqwest::Client::new(),
    }
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key].as_str().unwrap_or_default()
}

#[tokio::test]
async fn roles_are_listed_made_changed_and_deleted_as_twilio_does() {
    let (base, _app) = serve().await;
    let api = api(base);
    let roles = format!("/v1/Services/{IS}/Roles");
    let (status, list) = api.call("GET", &roles, &[]).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["meta"]["key"], "roles");
    let names: Vec<&str> = list["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text(r, "friendly_name"))
        .collect();
    assert_eq!(
        names,
        [
            "service admin",
            "service user",
            "channel admin",
            "channel user"
        ]
    );
    let (_, default_flavour) = api.call("GET", "/v1/Roles", &[]).await;
    assert_eq!(default_flavour["roles"].as_array().map(Vec::len), Some(4));

    let bad = [
        (
            "no type",
            vec![("FriendlyName", "r"), ("Permission", "sendMessage")],
            "Type",
        ),
        (
            "no name",
            vec![("Type", "conversation"), ("Permission", "sendMessage")],
            "FriendlyName",
        ),
        (
            "no permission",
            vec![("FriendlyName", "r"), ("Type", "conversation")],
            "Permission",
        ),
        (
            "an unknown permission",
            vec![
                ("FriendlyName", "r"),
                ("Type", "conversation"),
                ("Permission", "flyAway"),
            ],
            "\"flyAway\"",
        ),
        (
            "a service permission on a conversation role",
            vec![
                ("FriendlyName", "r"),
                ("Type", "conversation"),
                ("Permission", "joinConversation"),
            ],
            "\"joinConversation\"",
        ),
    ];
    for (case, form, says) in &bad {
        let answer = api.call("POST", &roles, form).await;
        refused(case, &answer, 400, 20001, says);
    }

    let made = api
        .created(
            &roles,
            &[
                ("FriendlyName", "visitor"),
                ("Type", "conversation"),
                ("Permission", "sendMessage"),
                ("Permission", "sendMediaMessage"),
            ],
        )
        .await;
    let sid = text(&made, "sid").to_owned();
    assert!(sid.starts_with("RL"));
    assert_eq!(made["type"], "conversation");
    assert_eq!(made["chat_service_sid"], IS);
    assert_eq!(
        made["permissions"],
        serde_json::json!(["sendMessage", "sendMediaMessage"])
    );
    assert!(text(&made, "url").ends_with(&format!("/v1/Services/{IS}/Roles/{sid}")));
    let one = format!("{roles}/{sid}");
    let (status, fetched) = api.call("GET", &one, &[]).await;
    assert_eq!((status, text(&fetched, "sid")), (200, sid.as_str()));
    let (status, updated) = api
        .call("POST", &one, &[("Permission", "leaveConversation")])
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["permissions"],
        serde_json::json!(["leaveConversation"])
    );
    let emptied = api.call("POST", &one, &[]).await;
    refused(
        "an update with no permission",
        &emptied,
        400,
        20001,
        "Permission",
    );
    let (status, _) = api.call("DELETE", &one, &[]).await;
    assert_eq!(status, 204);
    let gone = api.call("GET", &one, &[]).await;
    refused("a deleted role", &gone, 404, 20404, &sid);
    let default_role = text(&list["roles"][3], "sid").to_owned();
    let in_use = api
        .call("DELETE", &format!("{roles}/{default_role}"), &[])
        .await;
    refused("a default role", &in_use, 400, 20001, "default");
}

#[tokio::test]
async fn the_configuration_names_the_default_roles_and_takes_only_fitting_ones() {
    let (base, _app) = serve().await;
    let api = api(base);
    let config = format!("/v1/Services/{IS}/Configuration");
    let (status, before) = api.call("GET", &config, &[]).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["chat_service_sid"], IS);
    assert_eq!(before["reachability_enabled"], false);
    let (_, roles) = api
        .call("GET", &format!("/v1/Services/{IS}/Roles"), &[])
        .await;
    let sid_of = |i: usize| text(&roles["roles"][i], "sid").to_owned();
    assert_eq!(before["default_chat_service_role_sid"], sid_of(1));
    assert_eq!(before["default_conversation_creator_role_sid"], sid_of(2));
    assert_eq!(before["default_conversation_role_sid"], sid_of(3));
    let admin = sid_of(0);
    let wrong = api
        .call("POST", &config, &[("DefaultConversationRoleSid", &admin)])
        .await;
    refused(
        "a service role as the conversation default",
        &wrong,
        400,
        20001,
        "DefaultConversationRoleSid",
    );
    let unknown = api
        .call("POST", &config, &[("DefaultChatServiceRoleSid", "RL0")])
        .await;
    refused(
        "a role that is none",
        &unknown,
        400,
        20001,
        "DefaultChatServiceRoleSid",
    );
    let (status, after) = api
        .call("POST", &config, &[("DefaultChatServiceRoleSid", &admin)])
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["default_chat_service_role_sid"], admin);
    assert_eq!(
        after["default_conversation_role_sid"],
        sid_of(3),
        "the others stay"
    );
    let (status, hooks) = api.call("GET", &format!("{config}/Webhooks"), &[]).await;
    assert_eq!(status, 200, "the webhook settings' route stays: {hooks}");
}

#[tokio::test]
async fn users_are_made_with_a_role_found_changed_and_deleted() {
    let (base, _app) = serve().await;
    let api = api(base);
    let users = format!("/v1/Services/{IS}/Users");
    let (_, roles) = api
        .call("GET", &format!("/v1/Services/{IS}/Roles"), &[])
        .await;
    let admin = text(&roles["roles"][0], "sid").to_owned();
    let member = text(&roles["roles"][3], "sid").to_owned();
    let nameless = api.call("POST", &users, &[]).await;
    refused("a user with no identity", &nameless, 400, 20001, "Identity");
    let wrong = api
        .call("POST", &users, &[("Identity", "ana"), ("RoleSid", &member)])
        .await;
    refused(
        "a conversation role for a user",
        &wrong,
        400,
        20001,
        "RoleSid",
    );
    let ana = api
        .created(
            &users,
            &[
                ("Identity", "ana"),
                ("RoleSid", &admin),
                ("FriendlyName", "Ana"),
            ],
        )
        .await;
    assert_eq!(ana["role_sid"], admin);
    assert_eq!(ana["friendly_name"], "Ana");
    let twice = api.call("POST", &users, &[("Identity", "ana")]).await;
    refused("a user twice", &twice, 409, 50201, "ana");
    let us = text(&ana, "sid").to_owned();
    let (status, by_sid) = api.call("GET", &format!("{users}/{us}"), &[]).await;
    assert_eq!((status, text(&by_sid, "identity")), (200, "ana"));
    let default_role = text(&roles["roles"][1], "sid").to_owned();
    let (status, changed) = api
        .call(
            "POST",
            &format!("{users}/ana"),
            &[("RoleSid", &default_role)],
        )
        .await;
    assert_eq!(
        (status, text(&changed, "role_sid")),
        (200, default_role.as_str())
    );
    let (_, list) = api.call("GET", "/v1/Users", &[]).await;
    assert_eq!(list["meta"]["key"], "users");
    assert_eq!(list["users"].as_array().map(Vec::len), Some(1));
    let (status, _) = api.call("DELETE", &format!("{users}/{us}"), &[]).await;
    assert_eq!(status, 204);
    let gone = api.call("GET", &format!("{users}/ana"), &[]).await;
    refused("a deleted user", &gone, 404, 20404, "ana");
}

#[tokio::test]
async fn a_conversation_is_made_with_its_participants_and_their_roles_in_one_write() {
    let (base, app) = serve().await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    app.observe(Box::new(move |_, change, origin| {
        let announced = matches!(origin, crate::app::Origin::Api { announce: true });
        log.lock().unwrap().push((format!("{change:?}"), announced));
    }));
    let api = api(base);
    let (_, roles) = api
        .call("GET", &format!("/v1/Services/{IS}/Roles"), &[])
        .await;
    let admin = text(&roles["roles"][2], "sid").to_owned();
    let member = text(&roles["roles"][3], "sid").to_owned();
    let path = format!("/v1/Services/{IS}/ConversationWithParticipants");
    let visitor =
        format!(r#"{{"identity":"visitor:acme:1","roleSid":"{member}","attributes":"{{}}"}}"#);
    let agent = format!(r#"{{"identity":"agent","role_sid":"{admin}"}}"#);
    let bad_role = format!(
        r#"{{"identity":"x","roleSid":"{}"}}"#,
        text(&roles["roles"][0], "sid")
    );
    let refusals = [
        (
            "a participant that is no JSON",
            "{nope".to_owned(),
            400,
            20001,
            "not JSON",
        ),
        (
            "a participant with no identity",
            r#"{"roleSid":"RL0"}"#.to_owned(),
            400,
            20001,
            "identity",
        ),
        (
            "a service role for a participant",
            bad_role,
            400,
            20001,
            "RoleSid",
        ),
    ];
    for (case, participant, status, code, says) in refusals {
        let form = [
            ("UniqueName", "u1"),
            ("Participant", visitor.as_str()),
            ("Participant", participant.as_str()),
        ];
        let answer = api.call("POST", &path, &form).await;
        refused(case, &answer, status, code, says);
    }
    assert!(app
        .world()
        .model
        .service(IS)
        .unwrap()
        .conversations
        .is_empty());
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing refused was written"
    );

    let url = format!("{}{path}", api.base);
    let form = [
        ("FriendlyName", "Support"),
        ("UniqueName", "u1"),
        ("Attributes", r#"{"site":"acme"}"#),
        ("Participant", visitor.as_str()),
        ("Participant", agent.as_str()),
    ];
    let response = api
        .http
        .post(&url)
        .header("x-twilio-webhook-enabled", "true")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let made: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(made["unique_name"], "u1");
    assert_eq!(made["attributes"], r#"{"site":"acme"}"#);
    let sid = text(&made, "sid").to_owned();
    let (_, listed) = api
        .call("GET", &format!("/v1/Conversations/{sid}/Participants"), &[])
        .await;
    let got: Vec<(&str, &str)> = listed["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (text(p, "identity"), text(p, "role_sid")))
        .collect();
    assert_eq!(
        got,
        [
            ("visitor:acme:1", member.as_str()),
            ("agent", admin.as_str())
        ]
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(_, announced)| *announced), "{seen:?}");
    let kinds: Vec<&str> = seen
        .iter()
        .map(|(c, _)| c.split(' ').next().unwrap_or_default())
        .filter(|k| !k.starts_with("User"))
        .collect();
    assert_eq!(
        kinds,
        ["ConversationAdded", "ParticipantAdded", "ParticipantAdded"]
    );
    let taken = api
        .call(
            "POST",
            "/v1/ConversationWithParticipants",
            &[("UniqueName", "u1")],
        )
        .await;
    refused("a unique name taken", &taken, 409, 50353, "u1");
}

#[tokio::test]
async fn a_users_conversations_are_listed_and_participants_take_roles() {
    let (base, _app) = serve().await;
    let api = api(base);
    let (_, roles) = api
        .call("GET", &format!("/v1/Services/{IS}/Roles"), &[])
        .await;
    let admin = text(&roles["roles"][2], "sid").to_owned();
    let member = text(&roles["roles"][3], "sid").to_owned();
    let c = api
        .created("/v1/Conversations", &[("FriendlyName", "first")])
        .await;
    let sid = text(&c, "sid").to_owned();
    let participants = format!("/v1/Conversations/{sid}/Participants");
    let ana = api
        .created(&participants, &[("Identity", "ana"), ("RoleSid", &admin)])
        .await;
    assert_eq!(ana["role_sid"], admin);
    let bo = api.created(&participants, &[("Identity", "bo")]).await;
    assert_eq!(bo["role_sid"], member, "the default conversation role");
    let wrong = api
        .call(
            "POST",
            &participants,
            &[("Identity", "cy"), ("RoleSid", "RL0")],
        )
        .await;
    refused("a role that is none", &wrong, 400, 20001, "RoleSid");
    let (status, changed) = api
        .call(
            "POST",
            &format!("{participants}/bo"),
            &[("RoleSid", &admin)],
        )
        .await;
    assert_eq!((status, text(&changed, "role_sid")), (200, admin.as_str()));
    let nothing = api.call("POST", &format!("{participants}/bo"), &[]).await;
    refused("an update of nothing", &nothing, 400, 20001, "RoleSid");

    let list = format!("/v1/Services/{IS}/ParticipantConversations");
    let nobody = api.call("GET", &list, &[]).await;
    refused("no identity", &nobody, 400, 20001, "Identity");
    let (status, mine) = api.call("GET", &format!("{list}?Identity=ana"), &[]).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["meta"]["key"], "conversations");
    let item = &mine["conversations"][0];
    assert_eq!(item["conversation_sid"], sid);
    assert_eq!(item["participant_sid"], ana["sid"]);
    assert_eq!(item["participant_identity"], "ana");
    assert_eq!(item["conversation_friendly_name"], "first");
    assert_eq!(item["conversation_created_by"], "system");
    assert_eq!(item["conversation_state"], "active");
    assert!(text(item, "participant_user_sid").starts_with("US"));
    assert!(text(&item["links"], "participant").ends_with(text(&ana, "sid")));
    assert!(text(&mine["meta"], "url").contains("Identity=ana"));
    let (_, none) = api
        .call("GET", "/v1/ParticipantConversations?Identity=eve", &[])
        .await;
    assert_eq!(none["conversations"], serde_json::json!([]));
}
