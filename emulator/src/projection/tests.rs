//! The projection natively: item paging against a reference, each kind of write as the events
//! subscribers hear, replay after an event id, and who may read what.

use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::{ItemQuery, Kind, Notification, Projection, Reader, SubscriptionRequest, KEPT_EVENTS};
use crate::model::{
    ConversationUpdate, NewConversation, NewParticipant, RoleKind, ServiceWebhooks, State,
    TwilioError, UserUpdate, Written,
};

const IS: &str = "IS00000000000000000000000000000001";
const OTHER: &str = "IS00000000000000000000000000000002";
const BASE: &str = "http://127.0.0.1:8788";

/// The model and its projection, written to as `App::write` does: the mutation, then each of
/// its changes carried into the projection with the model as it is after the write.
struct World {
    model: State,
    projection: Projection,
    next_subscriber: u64,
}

impl World {
    fn new() -> World {
        World {
            model: State::new(vec![
                (IS.to_owned(), ServiceWebhooks::default()),
                (OTHER.to_owned(), ServiceWebhooks::default()),
            ]),
            projection: Projection::default(),
            next_subscriber: 0,
        }
    }

    fn write<T>(&mut self, f: impl FnOnce(&mut State) -> Written<T>) -> T {
        let (value, changes) = f(&mut self.model).expect("the write is allowed");
        for change in &changes {
            self.projection.apply(&self.model, change);
        }
        value
    }

    fn conversation(&mut self) -> String {
        self.write(|m| m.create_conversation(IS, NewConversation::default()))
            .sid
    }

    fn join(&mut self, conversation: &str, identity: &str) {
        self.write(|m| {
            m.add_participant(IS, conversation, NewParticipant::identity(identity), true)
        });
    }

    fn say(&mut self, conversation: &str, identity: &str, body: &str) {
        self.write(|m| {
            m.append_message(IS, conversation, identity, Some(body.into()), None, false)
        });
    }

    /// The SID of `conversation`'s messages list, roster map and document.
    fn objects(&self, conversation: &str) -> (String, String, String) {
        let o = self
            .projection
            .conversation_objects(conversation)
            .expect("the conversation is projected");
        (o.messages.clone(), o.roster.clone(), o.document.clone())
    }

    /// A connected client of `identity`, subscribed to `objects` from `since` (event id).
    fn subscriber(
        &mut self,
        identity: &str,
        objects: &[(&str, &str)],
        since: Option<u64>,
    ) -> (u64, UnboundedReceiver<Notification>) {
        self.next_subscriber += 1;
        let id = self.next_subscriber;
        let (tx, rx) = unbounded_channel();
        self.projection.register(id, IS, identity, tx);
        let requests: Vec<SubscriptionRequest> = objects
            .iter()
            .map(|(sid, kind)| SubscriptionRequest {
                object_sid: (*sid).to_owned(),
                object_type: (*kind).to_owned(),
                last_event_id: since,
            })
            .collect();
        self.projection
            .subscribe(id, "establish", &json!(7), &requests, &self.model)
            .expect("the subscriber is registered");
        (id, rx)
    }

    fn page(&self, list: &str, identity: &str, query: ItemQuery) -> Result<Value, TwilioError> {
        let reader = Reader {
            service: IS,
            identity,
        };
        self.projection
            .items(Kind::List, list, &query, &self.model, reader, BASE)
    }
}

/// Every notification waiting, as `(event_type, event)` (typing indicators as their type).
fn drain(rx: &mut UnboundedReceiver<Notification>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    while let Ok(n) = rx.try_recv() {
        let kind = n.payload["event_type"]
            .as_str()
            .unwrap_or(n.message_type)
            .to_owned();
        out.push((kind, n.payload["event"].clone()));
    }
    out
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(t, _)| t.as_str()).collect()
}

fn indexes(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["index"].as_u64().unwrap())
        .collect()
}

fn token(page: &Value, which: &str) -> Option<String> {
    page["meta"][which].as_str().map(str::to_owned)
}

fn query(order: Option<&str>, from: Option<u64>, size: Option<usize>) -> ItemQuery {
    ItemQuery {
        order: order.map(str::to_owned),
        from: from.map(|f| f.to_string()),
        page_size: size.map(|s| s.to_string()),
        ..ItemQuery::default()
    }
}

/// A conversation with `n` messages (indexes 0..n), `ana` in it; its messages list's SID.
fn list_of(w: &mut World, n: u64) -> String {
    let c = w.conversation();
    w.join(&c, "ana");
    for i in 0..n {
        w.say(&c, "ana", &format!("m{i}"));
    }
    w.objects(&c).0
}

#[test]
fn paging_walks_every_order_bound_and_size_like_a_reference() {
    for n in [0u64, 1, 2, 5, 7] {
        let mut w = World::new();
        let list = list_of(&mut w, n);
        for descending in [false, true] {
            let froms = [None, Some(0), Some(1), Some(n / 2), Some(n), Some(n + 3)];
            for from in froms {
                for size in [1usize, 2, 3, 50] {
                    let order = descending.then_some("desc");
                    let label = format!("n={n} desc={descending} from={from:?} size={size}");
                    // The reference: every index on the From side, in the query's order.
                    let mut expected: Vec<u64> = (0..n)
                        .filter(|i| match from {
                            None => true,
                            Some(f) if descending => *i <= f,
                            Some(f) => *i >= f,
                        })
                        .collect();
                    if descending {
                        expected.reverse();
                    }
                    // Forward through next_token.
                    let mut page = w
                        .page(&list, "ana", query(order, from, Some(size)))
                        .unwrap();
                    assert_eq!(
                        token(&page, "previous_token").is_some(),
                        {
                            // Something lies before the first page only when From cut it off.
                            let first = indexes(&page).first().copied();
                            first.is_some_and(|f| if descending { f < n - 1 } else { f > 0 })
                        },
                        "{label}: previous_token of the first page"
                    );
                    let mut seen = indexes(&page);
                    let mut pages = vec![page.clone()];
                    while let Some(next) = token(&page, "next_token") {
                        assert!(pages.len() <= n as usize + 1, "{label}: paging ends");
                        let q = ItemQuery {
                            page_token: Some(next),
                            page_size: Some(size.to_string()),
                            ..ItemQuery::default()
                        };
                        page = w.page(&list, "ana", q).unwrap();
                        assert!(
                            !indexes(&page).is_empty(),
                            "{label}: a next page is never empty"
                        );
                        seen.extend(indexes(&page));
                        pages.push(page.clone());
                    }
                    assert_eq!(seen, expected, "{label}");
                    assert!(pages.iter().all(|p| indexes(p).len() <= size), "{label}");
                    // Back from the last page through previous_token, to the first page.
                    if pages.len() > 1 {
                        let mut back = pages.last().unwrap().clone();
                        for expected_page in pages.iter().rev().skip(1) {
                            let q = ItemQuery {
                                page_token: token(&back, "previous_token"),
                                page_size: Some(size.to_string()),
                                ..ItemQuery::default()
                            };
                            assert!(q.page_token.is_some(), "{label}: a way back");
                            back = w.page(&list, "ana", q).unwrap();
                            assert_eq!(indexes(&back), indexes(expected_page), "{label}: back");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn single_items_and_bad_queries_are_answered_as_sync_answers() {
    let mut w = World::new();
    let list = list_of(&mut w, 3);
    let one = ItemQuery {
        index: Some("1".into()),
        ..ItemQuery::default()
    };
    let page = w.page(&list, "ana", one).unwrap();
    assert_eq!(indexes(&page), [1]);
    assert_eq!(page["items"][0]["data"]["text"], "m1");
    assert_eq!(
        page["items"][0]["url"],
        format!("{BASE}/v3/Lists/{list}/Items/1")
    );
    let missing = ItemQuery {
        index: Some("9".into()),
        ..ItemQuery::default()
    };
    assert_eq!(
        indexes(&w.page(&list, "ana", missing).unwrap()),
        [] as [u64; 0]
    );
    let bad = |q: ItemQuery| w.page(&list, "ana", q).unwrap_err();
    for size in ["0", "1001", "x", "-1"] {
        let e = bad(query(None, None, None).with_size(size));
        assert_eq!((e.status, e.code), (400, 20001), "PageSize {size}");
        assert_eq!(e.message, "PageSize must be a number from 1 to 1000");
    }
    assert_eq!(
        bad(query(Some("sideways"), None, None)).message,
        "Order must be asc or desc"
    );
    let e = bad(ItemQuery {
        from: Some("first".into()),
        ..ItemQuery::default()
    });
    assert_eq!(e.message, "From must be an item index");
    for t in ["nonsense", "asc.after", "asc.after.x"] {
        let e = bad(ItemQuery {
            page_token: Some(t.into()),
            ..ItemQuery::default()
        });
        assert_eq!(e.status, 400, "token {t:?}");
    }
    // A page larger than Sync serves is cut to 100 items.
    let mut w = World::new();
    let list = list_of(&mut w, 120);
    let page = w.page(&list, "ana", query(None, None, Some(1000))).unwrap();
    assert_eq!(indexes(&page), (0..100).collect::<Vec<_>>());
    assert_eq!(token(&page, "next_token").as_deref(), Some("asc.after.99"));
}

trait WithSize {
    fn with_size(self, size: &str) -> Self;
}

impl WithSize for ItemQuery {
    fn with_size(mut self, size: &str) -> Self {
        self.page_size = Some(size.to_owned());
        self
    }
}

#[test]
fn each_write_reaches_subscribers_as_the_events_the_sdk_expects() {
    let mut w = World::new();
    let c = w.conversation();
    w.join(&c, "ana");
    let (messages, roster, document) = w.objects(&c);
    let mine = w
        .projection
        .user_objects(IS, "ana")
        .expect("joining made the user")
        .clone();
    let (_, mut rx) = w.subscriber(
        "ana",
        &[
            (&messages, "list"),
            (&roster, "map"),
            (&document, "document"),
            (&mine.my_conversations, "map"),
            (&mine.info, "map"),
        ],
        None,
    );
    let established = drain(&mut rx);
    let count = |t: &str| established.iter().filter(|(e, _)| e == t).count();
    assert_eq!(
        count("subscription_established"),
        5,
        "{:?}",
        types(&established)
    );
    assert!(
        established
            .iter()
            .filter(|(t, _)| t == "subscription_established")
            .all(|(_, e)| e["replay_status"] == "completed"),
        "nothing was cut off: {established:?}"
    );
    // A replayed event is heard before its object's subscription is said to be established.
    for (i, (t, e)) in established.iter().enumerate() {
        if t != "subscription_established" {
            let sid = e["list_sid"]
                .as_str()
                .or(e["map_sid"].as_str())
                .or(e["document_sid"].as_str());
            let later = established[i..].iter().any(|(t2, e2)| {
                t2 == "subscription_established" && sid.is_some_and(|s| e2["object_sid"] == s)
            });
            assert!(later, "{t} replayed after its subscription was established");
        }
    }
    drop(established);

    w.say(&c, "ana", "hello");
    let heard = drain(&mut rx);
    assert_eq!(types(&heard), ["list_item_added", "document_updated"]);
    assert_eq!(heard[0].1["item_index"], 0);
    assert_eq!(heard[0].1["item_data"]["text"], "hello");
    assert_eq!(heard[0].1["list_sid"], json!(messages));

    w.write(|m| {
        m.update_conversation(
            IS,
            &c,
            ConversationUpdate {
                friendly_name: Some("Support".into()),
                ..ConversationUpdate::default()
            },
        )
    });
    let heard = drain(&mut rx);
    assert_eq!(types(&heard), ["document_updated", "map_item_updated"]);
    assert_eq!(heard[0].1["document_data"]["friendlyName"], "Support");

    w.write(|m| m.set_read_horizon(IS, &c, "ana", Some(0)));
    assert_eq!(
        types(&drain(&mut rx)),
        ["map_item_updated", "map_item_updated"],
        "the roster's item and ana's conversation item"
    );

    w.write(|m| {
        let update = UserUpdate {
            friendly_name: Some("Ana".into()),
            ..UserUpdate::default()
        };
        m.update_user(IS, "ana", update)
    });
    let heard = drain(&mut rx);
    assert_eq!(types(&heard), ["map_item_updated", "map_item_updated"]);
    assert!(
        heard.iter().all(|(_, e)| e["map_sid"] == json!(mine.info)),
        "ana's info map"
    );
    assert_eq!(heard[0].1["item_key"], "friendlyName");
    assert_eq!(heard[0].1["item_data"]["value"], "Ana");
    assert_eq!(heard[1].1["item_key"], "attributes");

    w.join(&c, "bob");
    let heard = drain(&mut rx);
    assert_eq!(types(&heard), ["map_item_added"], "bob in the roster");
    let defaults = w.model.service(IS).unwrap().role_defaults.clone();
    assert_eq!(
        heard[0].1["item_data"]["roleSid"],
        json!(defaults.conversation_role)
    );
    let admin = defaults.conversation_creator_role;
    w.write(|m| m.set_participant_role(IS, &c, "bob", &admin));
    let heard = drain(&mut rx);
    assert_eq!(types(&heard), ["map_item_updated"], "bob's new role");
    assert_eq!(heard[0].1["item_data"]["roleSid"], json!(admin));
    w.write(|m| m.typing(IS, &c, "bob"));
    let typing = drain(&mut rx);
    assert_eq!(types(&typing), ["twilio.ipmsg.typing_indicator"]);
    w.write(|m| m.typing(IS, &c, "ana"));
    assert_eq!(drain(&mut rx), [], "no one hears their own typing");

    w.write(|m| m.remove_participant(IS, &c, "bob"));
    assert_eq!(types(&drain(&mut rx)), ["map_item_removed"]);

    w.write(|m| m.delete_conversation(IS, &c));
    let heard = drain(&mut rx);
    assert_eq!(
        types(&heard),
        [
            "map_item_removed",
            "list_removed",
            "map_removed",
            "document_removed"
        ]
    );
    assert!(w.projection.conversation_objects(&c).is_none());
}

#[test]
fn a_subscription_replays_what_the_client_missed_then_is_established() {
    let mut w = World::new();
    let c = w.conversation();
    w.join(&c, "ana");
    for i in 0..4 {
        w.say(&c, "ana", &format!("m{i}"));
    }
    let (messages, ..) = w.objects(&c);
    // Events 1..=4 are the four messages; a client that saw up to 2 hears 3 and 4.
    let (_, mut rx) = w.subscriber("ana", &[(&messages, "list")], Some(2));
    let heard = drain(&mut rx);
    assert_eq!(
        types(&heard),
        [
            "list_item_added",
            "list_item_added",
            "subscription_established"
        ]
    );
    assert_eq!(
        heard
            .iter()
            .take(2)
            .map(|(_, e)| e["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert_eq!(heard[2].1["replay_status"], "completed");
    assert_eq!(heard[2].1["last_event_id"], 4);
    // Up to date: nothing replayed. From the start: everything.
    let (_, mut rx) = w.subscriber("ana", &[(&messages, "list")], Some(4));
    assert_eq!(types(&drain(&mut rx)), ["subscription_established"]);
    let (_, mut rx) = w.subscriber("ana", &[(&messages, "list")], None);
    assert_eq!(drain(&mut rx).len(), 5);
    // Cancelled: no longer hears the list.
    let (id, mut rx) = w.subscriber("ana", &[(&messages, "list")], Some(4));
    drain(&mut rx);
    let cancel = [SubscriptionRequest {
        object_sid: messages.clone(),
        object_type: "list".into(),
        last_event_id: None,
    }];
    w.projection
        .subscribe(id, "cancel", &json!(8), &cancel, &w.model)
        .unwrap();
    assert_eq!(types(&drain(&mut rx)), ["subscription_canceled"]);
    assert_eq!(w.projection.subscriptions_of(id), 0);
    w.say(&c, "ana", "unheard");
    assert_eq!(drain(&mut rx), []);
}

#[test]
fn a_client_further_behind_than_the_log_reads_afresh() {
    let mut w = World::new();
    let list = list_of(&mut w, KEPT_EVENTS as u64 + 3);
    let (_, mut rx) = w.subscriber("ana", &[(&list, "list")], Some(1));
    let heard = drain(&mut rx);
    assert_eq!(types(&heard), ["subscription_established"]);
    assert_eq!(heard[0].1["replay_status"], "interrupted");
    // Within what is kept, replay still completes.
    let (_, mut rx) = w.subscriber("ana", &[(&list, "list")], Some(KEPT_EVENTS as u64));
    assert_eq!(drain(&mut rx).len(), 4);
}

#[test]
fn who_may_read_what() {
    let mut w = World::new();
    let c = w.conversation();
    w.join(&c, "ana");
    w.write(|m| m.ensure_user(IS, "eve"));
    let (messages, roster, document) = w.objects(&c);
    let ana = w.projection.user_objects(IS, "ana").unwrap().clone();
    let read = |w: &World, kind: Kind, sid: &str, service: &str, identity: &str| {
        let reader = Reader { service, identity };
        w.projection
            .descriptor(kind, sid, false, &w.model, reader, BASE)
            .map(|_| ())
            .map_err(|e| (e.status, e.code))
    };
    // The document: participants and whoever of the service may join (the SDK peeks), by SID
    // or unique name; not a user whose role may not join, until they are a participant.
    assert_eq!(read(&w, Kind::Document, &document, IS, "eve"), Ok(()));
    let no_join = w.write(|m| {
        m.create_role(
            IS,
            "no join",
            RoleKind::Service,
            vec!["editOwnUserInfo".into()],
        )
    });
    w.write(|m| {
        let update = UserUpdate {
            role_sid: Some(no_join.sid.clone()),
            ..UserUpdate::default()
        };
        m.update_user(IS, "vic", update)
    });
    assert_eq!(
        read(&w, Kind::Document, &document, IS, "vic"),
        Err((403, 54007))
    );
    w.join(&c, "vic");
    assert_eq!(read(&w, Kind::Document, &document, IS, "vic"), Ok(()));
    w.write(|m| m.remove_participant(IS, &c, "vic"));
    let name = w.projection.unique_name(&document).unwrap().to_owned();
    assert_eq!(name, format!("{c}.channel"));
    assert_eq!(read(&w, Kind::Document, &name, IS, "eve"), Ok(()));
    assert_eq!(
        read(&w, Kind::Document, &document, OTHER, "eve"),
        Err((403, 54007))
    );
    // Messages and roster: participants only.
    assert_eq!(read(&w, Kind::List, &messages, IS, "ana"), Ok(()));
    assert_eq!(
        read(&w, Kind::List, &messages, IS, "eve"),
        Err((403, 54007))
    );
    assert_eq!(read(&w, Kind::Map, &roster, IS, "eve"), Err((403, 54007)));
    // A user's conversations: that user only; a user's info: anyone of the service.
    assert_eq!(
        read(&w, Kind::Map, &ana.my_conversations, IS, "ana"),
        Ok(())
    );
    assert_eq!(
        read(&w, Kind::Map, &ana.my_conversations, IS, "eve"),
        Err((403, 54007))
    );
    assert_eq!(read(&w, Kind::Map, &ana.info, IS, "eve"), Ok(()));
    // The wrong kind, or a name that is nothing, is not found (each kind its own code).
    assert_eq!(read(&w, Kind::Map, &messages, IS, "ana"), Err((404, 54300)));
    assert_eq!(
        read(&w, Kind::List, "nothing", IS, "ana"),
        Err((404, 54150))
    );
    assert_eq!(
        read(&w, Kind::Document, "nothing", IS, "ana"),
        Err((404, 54100))
    );
    // A subscription to what the client may not read fails, and nothing is followed.
    let (id, mut rx) = w.subscriber("eve", &[(&messages, "list"), ("ES404", "list")], None);
    let heard = drain(&mut rx);
    assert_eq!(
        types(&heard),
        ["subscription_failed", "subscription_failed"]
    );
    assert_eq!(heard[0].1["error"]["code"], 54007);
    assert_eq!(heard[1].1["error"]["code"], 54100);
    assert_eq!(w.projection.subscriptions_of(id), 0);
    // Once removed, nothing of the conversation can be read.
    w.write(|m| m.delete_conversation(IS, &c));
    assert_eq!(
        read(&w, Kind::Document, &document, IS, "ana"),
        Err((404, 54100))
    );
    assert_eq!(
        read(&w, Kind::List, &messages, IS, "ana"),
        Err((404, 54150))
    );
}
