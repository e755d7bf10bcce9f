//! Bindings to the Conversations SDK. What they call is declared in widget/sdk-surface.ts, which
//! tests/sdk-types/conformance.ts checks (tsc) against the real @twilio/conversations
//! declarations; nothing checks these bindings against that file, so a binding added here
//! belongs there too.
//! The SDK lives in its own realm ([`crate::realm`]); these are method calls on its objects, and
//! whatever the widget hands it is made in that realm.

use edgechat_core::chat::session::ConversationState;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::realm::Realm;

/// How long `updateToken` may take (a reconnect with the new token) before it counts as failed.
const REFRESH_TIMEOUT_MS: u32 = 10_000;

#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    pub type Client;

    #[wasm_bindgen(method, getter, js_name = connectionState)]
    pub fn connection_state(this: &Client) -> String;

    #[wasm_bindgen(method)]
    pub fn on(this: &Client, event: &str, listener: &Function);

    #[wasm_bindgen(method, js_name = getConversationBySid)]
    fn get_conversation_by_sid(this: &Client, sid: &str) -> Promise;

    #[wasm_bindgen(method, js_name = updateToken)]
    fn update_token(this: &Client, token: &str) -> Promise;

    #[wasm_bindgen(method, js_name = getSubscribedConversations)]
    fn get_subscribed_conversations(this: &Client) -> Promise;

    #[wasm_bindgen(method)]
    fn shutdown(this: &Client) -> Promise;

    #[derive(Clone)]
    pub type Conversation;

    #[wasm_bindgen(method, getter)]
    pub fn sid(this: &Conversation) -> String;

    #[wasm_bindgen(method, getter)]
    fn state(this: &Conversation) -> JsValue;

    #[wasm_bindgen(method, getter)]
    fn status(this: &Conversation) -> JsValue;

    #[wasm_bindgen(method, getter, js_name = lastReadMessageIndex)]
    pub fn last_read_message_index(this: &Conversation) -> Option<f64>;

    #[wasm_bindgen(method, js_name = getMessages)]
    fn get_messages(this: &Conversation, page_size: u32, anchor: &JsValue) -> Promise;

    #[wasm_bindgen(method, js_name = sendMessage)]
    fn send_message(this: &Conversation, body: &JsValue, attributes: &JsValue) -> Promise;

    #[wasm_bindgen(method)]
    fn typing(this: &Conversation) -> Promise;

    #[wasm_bindgen(method, js_name = getParticipants)]
    fn get_participants(this: &Conversation) -> Promise;

    #[wasm_bindgen(method, js_name = advanceLastReadMessageIndex)]
    fn advance_last_read_message_index(this: &Conversation, index: f64) -> Promise;

    #[wasm_bindgen(method, js_name = on)]
    pub fn on_conversation(this: &Conversation, event: &str, listener: &Function);

    pub type Message;

    #[wasm_bindgen(method, getter)]
    fn index(this: &Message) -> f64;

    #[wasm_bindgen(method, getter)]
    fn author(this: &Message) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    fn body(this: &Message) -> Option<String>;

    #[wasm_bindgen(method, getter, js_name = dateCreated)]
    fn date_created(this: &Message) -> Option<js_sys::Date>;

    #[wasm_bindgen(method, getter)]
    fn attributes(this: &Message) -> JsValue;

    #[wasm_bindgen(method, getter, js_name = attachedMedia)]
    fn attached_media(this: &Message) -> JsValue;

    type Media;

    #[wasm_bindgen(method, js_name = getContentTemporaryUrl)]
    fn get_content_temporary_url(this: &Media) -> Promise;

    type Paginator;

    #[wasm_bindgen(method, getter)]
    fn items(this: &Paginator) -> Array;

    #[wasm_bindgen(method, getter, js_name = hasPrevPage)]
    fn has_prev_page(this: &Paginator) -> bool;
}

#[wasm_bindgen(module = "/early.js")]
extern "C" {
    /// The Client early.js started for a token, with what it reported before the app came.
    pub type EarlyClient;

    #[wasm_bindgen(js_name = take_client)]
    fn take_early_client(token: &str, frame: &web_sys::HtmlIFrameElement) -> Option<EarlyClient>;

    #[wasm_bindgen(method, getter)]
    pub fn client(this: &EarlyClient) -> Client;

    /// `Some(true)` after `initialized`, `Some(false)` after `initFailed`.
    #[wasm_bindgen(method, getter)]
    pub fn initialized(this: &EarlyClient) -> Option<bool>;

    /// The last `connectionStateChanged` state.
    #[wasm_bindgen(method, getter)]
    pub fn link(this: &EarlyClient) -> Option<String>;

    /// The stored conversation early.js started to resume, when the Client initialized before
    /// the app took it.
    #[wasm_bindgen(method, getter, js_name = resume)]
    fn early_resume(this: &EarlyClient) -> Option<EarlyResume>;

    /// A stored conversation's lookup and newest page, asked for by early.js.
    type EarlyResume;

    #[wasm_bindgen(method, getter)]
    fn sid(this: &EarlyResume) -> String;

    #[wasm_bindgen(method, getter, js_name = conversation)]
    fn conversation_promise(this: &EarlyResume) -> Promise;

    #[wasm_bindgen(method, getter, js_name = page)]
    fn page_promise(this: &EarlyResume) -> Promise;

    /// Ends early.js's listening; once its page is in, `listener` (if any) gets the messages
    /// added meanwhile that the page does not hold.
    #[wasm_bindgen(method)]
    fn stop(this: &EarlyResume, listener: Option<&Function>);
}

impl EarlyClient {
    /// The stored conversation early.js began to resume, when the Client initialized before
    /// the app took it.
    pub fn resume(&self) -> Option<Resume> {
        self.early_resume().map(Resume)
    }
}

/// A stored conversation's lookup and newest page, begun by early.js with the Client the app
/// took; its listening ends when this is dropped.
pub struct Resume(EarlyResume);

impl Resume {
    pub fn sid(&self) -> String {
        self.0.sid()
    }

    /// The app listens to the conversation now: early.js stops, and hands `listener` the
    /// messages it heard that its page does not hold.
    pub fn hand_over(&self, listener: &Function) {
        self.0.stop(Some(listener));
    }
}

impl Drop for Resume {
    fn drop(&mut self) {
        self.0.stop(None);
    }
}

/// The Client early.js started for `token` in `realm` while the wasm loaded, if any (once;
/// after this call early.js starts none).
pub fn take_client(realm: &Realm, token: &str) -> Option<EarlyClient> {
    take_early_client(token, realm.frame())
}

/// A listener for an SDK event. It lives as long as the page, as the one Client does.
pub fn listener(f: impl FnMut(JsValue) + 'static) -> Function {
    Closure::<dyn FnMut(JsValue)>::new(f)
        .into_js_value()
        .unchecked_into()
}

async fn call<T: JsCast>(promise: Promise) -> Result<T, JsValue> {
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

impl Client {
    /// `new Client(token, options)` in the SDK's realm; `realtime_url` points the SDK at the
    /// local emulator instead of Twilio.
    pub fn start(
        realm: &Realm,
        token: &str,
        realtime_url: Option<&str>,
    ) -> Result<Client, JsValue> {
        let ctor = realm
            .constructor()
            .ok_or_else(|| JsValue::from_str("the SDK is not loaded"))?;
        let options = realm.object(&[])?;
        if let Some(uri) = realtime_url {
            Reflect::set(
                &options,
                &"Twilsock".into(),
                &realm.object(&[("uri", uri)])?,
            )?;
        }
        let args = js_sys::Array::of2(&token.into(), &options);
        Ok(Reflect::construct(&ctor, &args)?.unchecked_into())
    }

    /// The conversation `sid`, or the answer to early.js's lookup of it (`early`).
    pub async fn conversation(
        &self,
        sid: &str,
        early: Option<&Resume>,
    ) -> Result<Conversation, JsValue> {
        call(match early {
            Some(early) => early.0.conversation_promise(),
            None => self.get_conversation_by_sid(sid),
        })
        .await
    }

    /// The newest open conversation of `site` the user is in (their conversation on another
    /// device): the first page of those the SDK follows, by attributes' `site`, newest updated.
    pub async fn newest_open(&self, site: &str) -> Option<Conversation> {
        let page: JsValue = call(self.get_subscribed_conversations()).await.ok()?;
        Array::from(&crate::net::get(&page, "items"))
            .iter()
            .map(JsCast::unchecked_into::<Conversation>)
            .filter(|c| c.current_state() != Some(ConversationState::Closed))
            .filter(|c| {
                crate::net::get(
                    &Reflect::get(c.as_ref(), &"attributes".into()).unwrap_or_default(),
                    "site",
                )
                .as_string()
                .as_deref()
                    == Some(site)
            })
            .max_by_key(|c| {
                let updated = Reflect::get(c.as_ref(), &"dateUpdated".into()).unwrap_or_default();
                updated
                    .dyn_ref::<js_sys::Date>()
                    .map_or(0, |d| d.get_time() as u64)
            })
    }

    /// `updateToken`, when the SDK can take it: after `tokenExpired` (`expired`; Twilio's
    /// `close` 410) the SDK reaches `disconnected` only by its own 3 s timer, and an
    /// `updateToken` before that never settles, so it waits for `disconnected` first (its
    /// `connectionState` may still say `connected` when `tokenExpired` fires). Bounded, so a
    /// renewal can never hang the session.
    pub async fn refresh(&self, token: &str, expired: bool) -> Result<(), JsValue> {
        if expired {
            for _ in 0..80 {
                if self.connection_state() == "disconnected" {
                    break;
                }
                crate::net::sleep(100).await;
            }
        }
        let update = JsFuture::from(self.update_token(token));
        let timeout = Box::pin(crate::net::sleep(REFRESH_TIMEOUT_MS));
        match futures_util::future::select(update, timeout).await {
            futures_util::future::Either::Left((result, _)) => result.map(drop),
            futures_util::future::Either::Right(_) => {
                Err(JsValue::from_str("updateToken timed out"))
            }
        }
    }

    pub async fn close(&self) {
        let _ = JsFuture::from(self.shutdown()).await;
    }
}

/// A message the service stored, read into the core's shape.
pub fn read_message(value: JsValue) -> edgechat_core::chat::message_log::Message {
    let m: Message = value.unchecked_into();
    let attributes = m.attributes();
    let local_id = Reflect::get(
        &attributes,
        &edgechat_core::chat::message_log::LOCAL_ID_ATTRIBUTE.into(),
    )
    .ok()
    .and_then(|v| v.as_f64())
    .map(|v| v as u64);
    // `Array::from(undefined)` throws: a message without media has `null` or `[]`.
    let list = m.attached_media();
    let media = if list.is_object() {
        Array::from(&list)
            .iter()
            .filter_map(|item| {
                let sid = crate::net::get_str(&item, "sid")?;
                MEDIA.with(|all| all.borrow_mut().insert(sid.clone(), item.clone()));
                Some(edgechat_core::chat::message_log::Media {
                    sid,
                    content_type: crate::net::get_str(&item, "contentType").unwrap_or_default(),
                    filename: crate::net::get_str(&item, "filename"),
                    size: crate::net::get(&item, "size").as_f64().unwrap_or(0.0) as u64,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    edgechat_core::chat::message_log::Message {
        index: m.index() as u64,
        author: m.author().unwrap_or_default(),
        body: m.body().unwrap_or_default(),
        created_ms: m.date_created().map_or(0, |d| d.get_time() as u64),
        local_id,
        media,
    }
}

thread_local! {
    /// The SDK's media objects by sid, as messages brought them: a link to the bytes is asked
    /// of them when an attachment is drawn (links expire; the objects do not).
    static MEDIA: std::cell::RefCell<std::collections::HashMap<String, JsValue>> =
        Default::default();
}

/// A fresh link to media `sid`'s bytes from the media service, if it is one the widget may use
/// (`https:`, or the local emulator's `http:`; never `javascript:` or `data:`).
pub async fn media_url(sid: &str) -> Option<String> {
    let media: Media = MEDIA
        .with(|all| all.borrow().get(sid).cloned())?
        .unchecked_into();
    let url = JsFuture::from(media.get_content_temporary_url())
        .await
        .ok()?
        .as_string()?;
    edgechat_core::site::attachments::is_media_url(&url).then_some(url)
}

pub struct Page {
    pub messages: Vec<edgechat_core::chat::message_log::Message>,
    pub has_older: bool,
}

impl Conversation {
    /// Whether the visitor is a participant: the SDK answers a conversation they are not in
    /// (any more) with a peek, `status: notParticipating`, instead of rejecting.
    pub fn joined(&self) -> bool {
        self.status().as_string().as_deref() == Some("joined")
    }

    /// How far the others (agents, bots) have read: the highest read horizon among the
    /// participants who are not `me`.
    pub async fn others_read(&self, me: &str) -> Option<u64> {
        let list = JsFuture::from(self.get_participants()).await.ok()?;
        js_sys::Array::from(&list)
            .iter()
            .filter(|p| participant_identity(p).as_deref() != Some(me))
            .filter_map(|p| {
                Reflect::get(&p, &"lastReadMessageIndex".into())
                    .ok()?
                    .as_f64()
            })
            .map(|i| i as u64)
            .max()
    }

    /// `lastMessage.index`: the newest message the conversation names (it moves with every
    /// message, in the conversation's own update, apart from `messageAdded`).
    pub fn last_message_index(&self) -> Option<u64> {
        let last = Reflect::get(self.as_ref(), &"lastMessage".into()).ok()?;
        crate::net::get(&last, "index").as_f64().map(|i| i as u64)
    }

    /// `state.current`, when the SDK knows it (and names a state we know).
    pub fn current_state(&self) -> Option<ConversationState> {
        Reflect::get(&self.state(), &"current".into())
            .ok()
            .and_then(|v| v.as_string())
            .and_then(|s| ConversationState::parse(&s))
    }

    /// The newest page (`before` = None; early.js's, when it asked: `early`) or the page of
    /// messages before index `before`.
    pub async fn page(
        &self,
        size: u32,
        before: Option<u64>,
        early: Option<&Resume>,
    ) -> Result<Page, JsValue> {
        let anchor = match before {
            None => JsValue::UNDEFINED,
            Some(0) => {
                return Ok(Page {
                    messages: Vec::new(),
                    has_older: false,
                })
            }
            Some(index) => JsValue::from_f64((index - 1) as f64),
        };
        // (The early page failed: asked again here.)
        let early = match early {
            Some(early) if before.is_none() => call(early.0.page_promise()).await.ok(),
            _ => None,
        };
        let page: Paginator = match early {
            Some(page) => page,
            None => call(self.get_messages(size, &anchor)).await?,
        };
        Ok(Page {
            messages: page.items().iter().map(read_message).collect(),
            has_older: page.has_prev_page(),
        })
    }

    /// Sends `body` with the widget's local id in its attributes; resolves to its index.
    pub async fn send(&self, realm: &Realm, body: &str, local_id: u64) -> Result<u64, JsValue> {
        let attributes = local_id_attributes(realm, local_id)?;
        let index = JsFuture::from(self.send_message(&body.into(), &attributes)).await?;
        Ok(index.as_f64().unwrap_or(0.0) as u64)
    }

    /// Sends `file` as a media message (uploaded by the SDK to the media service as
    /// `content_type`, the type its bytes showed), with the widget's local id; resolves to its
    /// index. The SDK checks `instanceof Blob` in its own realm: the file goes as a Blob made
    /// there (its bytes are not copied).
    pub async fn send_file(
        &self,
        realm: &Realm,
        file: &web_sys::Blob,
        content_type: &str,
        filename: &str,
        local_id: u64,
    ) -> Result<u64, JsValue> {
        let attributes = local_id_attributes(realm, local_id)?;
        let options = realm.object(&[("type", content_type)])?;
        let blob = realm.construct("Blob", &[Array::of1(file).into(), options])?;
        let media = realm.object(&[("contentType", content_type), ("filename", filename)])?;
        Reflect::set(&media, &"media".into(), &blob)?;
        let index = JsFuture::from(self.send_message(&media, &attributes)).await?;
        Ok(index.as_f64().unwrap_or(0.0) as u64)
    }

    /// Read up to `index` (never back). Not `setAllMessagesRead`: it asks for the newest page,
    /// and the SDK drops the added event of a message that page brought first (a message
    /// arriving as the visitor reads could then never show).
    pub async fn read_up_to(&self, index: u64) {
        let _ = JsFuture::from(self.advance_last_read_message_index(index as f64)).await;
    }

    pub async fn notify_typing(&self) {
        let _ = JsFuture::from(self.typing()).await;
    }
}

/// A message's attributes with the widget's local id, made in the SDK's realm.
fn local_id_attributes(realm: &Realm, local_id: u64) -> Result<JsValue, JsValue> {
    let attributes = realm.object(&[])?;
    Reflect::set(
        &attributes,
        &edgechat_core::chat::message_log::LOCAL_ID_ATTRIBUTE.into(),
        &JsValue::from_f64(local_id as f64),
    )?;
    Ok(attributes)
}

/// The identity of a participant an SDK event carries (`typingStarted` passes the participant).
pub fn participant_identity(value: &JsValue) -> Option<String> {
    Reflect::get(value, &"identity".into())
        .ok()
        .and_then(|v| v.as_string())
}
