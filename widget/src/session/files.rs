//! Attachments the visitor sends: files picked with the attach button, dropped on the panel or
//! pasted into the composer, each judged by its own bytes against the site's policy
//! (`site::attachments`) before anything is uploaded, shown above the composer (a thumbnail for
//! an image) until Send, then sent one message each through the outbox: a failed upload keeps
//! the file with Retry, and after a reload the outbox asks for the file to be chosen again.

use dioxus::prelude::*;
use edgechat_core::chat::message_log::{FileInfo, FILE_GONE};
use edgechat_core::chat::outbox::Pending;
use edgechat_core::i18n::Arg;
use edgechat_core::site::attachments::{shows_inline, Refusal, SNIFF_BYTES};
use wasm_bindgen_futures::JsFuture;

use super::Session;
use crate::i18n::{size, tf};
use crate::net;

/// A file chosen and checked, waiting for Send.
#[derive(Clone, PartialEq)]
pub struct Chosen {
    pub id: u64,
    pub file: web_sys::File,
    pub name: String,
    pub info: FileInfo,
    /// A local link to an image's bytes, for its thumbnail (revoked when it goes).
    pub preview: Option<String>,
}

/// The first bytes of `file`, to judge what it is.
async fn head(file: &web_sys::File) -> Vec<u8> {
    let Ok(part) = file.slice_with_f64_and_f64(0.0, SNIFF_BYTES as f64) else {
        return Vec::new();
    };
    match JsFuture::from(part.array_buffer()).await {
        Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
        Err(_) => Vec::new(),
    }
}

impl Session {
    /// Files the visitor picked, dropped or pasted: each that the site's policy accepts (by
    /// its bytes, its size, how many) waits above the composer; the first refusal says why.
    pub fn choose(&self, files: Vec<web_sys::File>) {
        let Some(policy) = self.view.attachments.peek().clone() else {
            return;
        };
        let session = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut chosen = session.view.chosen;
            let mut problem = None;
            for file in files {
                let name = file.name();
                if chosen.peek().len() >= usize::from(policy.max_files) {
                    problem = Some(tf(
                        "file.many",
                        &[("max", Arg::Num(f64::from(policy.max_files)))],
                    ));
                    break;
                }
                let bytes = file.size() as u64;
                match policy.check(bytes, &head(&file).await) {
                    Ok(kind) => {
                        let preview = shows_inline(kind.mime())
                            .then(|| web_sys::Url::create_object_url_with_blob(&file).ok())
                            .flatten();
                        let id = net::now_ms() * 1000 + chosen.peek().len() as u64;
                        chosen.write().push(Chosen {
                            id,
                            file,
                            name,
                            info: FileInfo {
                                size: bytes,
                                content_type: kind.mime().to_owned(),
                            },
                            preview,
                        });
                    }
                    Err(refusal) => {
                        let name = Arg::Str(&name);
                        problem.get_or_insert(match refusal {
                            Refusal::Empty => tf("file.empty", &[("name", name)]),
                            Refusal::TooLarge { max_bytes } => tf(
                                "file.large",
                                &[("name", name), ("max", Arg::Str(&size(max_bytes)))],
                            ),
                            Refusal::Type { .. } => tf(
                                "file.type",
                                &[("name", name), ("types", Arg::Str(&policy.type_list()))],
                            ),
                        });
                    }
                }
            }
            session.view.draft_error.clone().set(problem);
        });
    }

    /// The visitor removed a chosen file before sending it.
    pub fn unchoose(&self, id: u64) {
        let mut chosen = self.view.chosen;
        chosen.write().retain(|c| {
            if c.id == id {
                revoke(c);
            }
            c.id != id
        });
    }

    /// Send: each chosen file becomes a message in the outbox, in order.
    pub(super) fn send_chosen(&self) {
        let files = std::mem::take(&mut *self.view.chosen.clone().write());
        for c in files {
            revoke(&c);
            let (local_id, name) = self
                .view
                .log
                .clone()
                .write()
                .start_send_file(&c.name, c.info.clone());
            self.store.save_pending(&Pending {
                local_id,
                typed_ms: net::now_ms(),
                conversation: self.conversation().and_then(|c| c.sid().parse().ok()),
                refused: false,
                body: name,
                file: Some(c.info),
            });
            self.state.borrow_mut().files.insert(local_id, c.file);
            self.queued(local_id);
        }
    }

    /// Shows what the outbox holds (typed before a reload, or in another tab); a file whose
    /// bytes this page does not have says it must be chosen again.
    pub(super) fn restore_pending(&self, p: &Pending) {
        let mut log = self.view.log;
        log.write()
            .restore(p.local_id, &p.body, p.refused, p.file.clone());
        if p.file.is_some() && !self.state.borrow().files.contains_key(&p.local_id) {
            log.write().send_failed(p.local_id, FILE_GONE);
        }
    }
}

fn revoke(c: &Chosen) {
    if let Some(url) = &c.preview {
        let _ = web_sys::Url::revoke_object_url(url);
    }
}
