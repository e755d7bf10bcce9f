//! Media, as Twilio's media service (MCS) keeps it: uploaded first (by an SDK client with its
//! token, or over REST with the account's credentials), then attached to one message. In memory,
//! with limits: 16 MiB an item (Twilio's limit for a Conversations media message), 10 items a
//! message, 256 MiB in all (an upload past it is 507; restart the emulator to empty it).

use axum::body::Bytes;

use super::{new_sid, now_iso, Message, State, TwilioError, Written};

pub const MAX_ITEM_BYTES: usize = 16 * 1024 * 1024;
pub const MAX_TOTAL_BYTES: usize = 256 * 1024 * 1024;
pub const MAX_PER_MESSAGE: usize = 10;

#[derive(Clone, Debug)]
pub struct Media {
    pub sid: String,
    pub service_sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub author: String,
    pub bytes: Bytes,
    pub date_created: String,
    /// The conversation and message it is attached to, once it is.
    pub attached: Option<(String, String)>,
}

/// What a message says of each of its media (the Sync item's `medias`, REST's `media`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub size: usize,
}

impl Media {
    pub fn as_ref(&self) -> MediaRef {
        MediaRef {
            sid: self.sid.clone(),
            content_type: self.content_type.clone(),
            filename: self.filename.clone(),
            size: self.bytes.len(),
        }
    }
}

impl State {
    /// Keeps an upload; its author is the uploading client's identity (`system` over REST).
    pub fn upload_media(
        &mut self,
        service: &str,
        author: &str,
        content_type: &str,
        filename: Option<String>,
        bytes: Bytes,
    ) -> Result<Media, TwilioError> {
        if !self.services.contains_key(service) {
            return Err(TwilioError::new(
                404,
                20404,
                format!("no service {service}"),
            ));
        }
        if bytes.is_empty() {
            return Err(TwilioError::new(400, 41000, "the media is empty"));
        }
        if bytes.len() > MAX_ITEM_BYTES {
            return Err(TwilioError::new(
                413,
                41001,
                format!("media may be at most {MAX_ITEM_BYTES} bytes"),
            ));
        }
        let stored: usize = self.media.values().map(|m| m.bytes.len()).sum();
        if stored + bytes.len() > MAX_TOTAL_BYTES {
            return Err(TwilioError::new(
                507,
                41002,
                "the emulator holds 256 MiB of media already: restart it to empty it",
            ));
        }
        let content_type = content_type.trim();
        if content_type.is_empty() || !content_type.contains('/') {
            return Err(TwilioError::new(400, 41003, "Content-Type is required"));
        }
        let media = Media {
            sid: new_sid("ME"),
            service_sid: service.to_owned(),
            content_type: content_type.to_owned(),
            filename: filename.filter(|f| !f.is_empty()),
            author: author.to_owned(),
            bytes,
            date_created: now_iso(),
            attached: None,
        };
        self.media.insert(media.sid.clone(), media.clone());
        Ok(media)
    }

    /// The media `sid` of `service`, for a reader: its uploader, a participant of the
    /// conversation it is attached to, or (`None`) the account itself.
    pub fn media_for(
        &self,
        service: &str,
        sid: &str,
        reader: Option<&str>,
    ) -> Result<&Media, TwilioError> {
        let not_found = || TwilioError::new(404, 20404, format!("no media {sid}"));
        let media = self
            .media
            .get(sid)
            .filter(|m| m.service_sid == service)
            .ok_or_else(not_found)?;
        let Some(reader) = reader else {
            return Ok(media);
        };
        let participant = media.attached.as_ref().is_some_and(|(conversation, _)| {
            self.find(service, conversation)
                .is_ok_and(|c| c.participant(reader).is_some())
        });
        if media.author == reader || participant {
            Ok(media)
        } else {
            Err(TwilioError::new(
                403,
                50400,
                format!("{reader} may not read media {sid}"),
            ))
        }
    }

    /// A message with `media` (uploaded, not yet attached, of this service; by `author` when the
    /// SDK sends, any over REST) and an optional body.
    #[allow(clippy::too_many_arguments)]
    pub fn append_media_message(
        &mut self,
        service: &str,
        id: &str,
        author: &str,
        body: Option<String>,
        attributes: Option<String>,
        media: &[String],
        own_media_only: bool,
    ) -> Written<Message> {
        if media.is_empty() || media.len() > MAX_PER_MESSAGE {
            return Err(TwilioError::invalid(format!(
                "a message carries 1 to {MAX_PER_MESSAGE} media"
            )));
        }
        let mut refs = Vec::new();
        for sid in media {
            let m = self
                .media
                .get(sid)
                .filter(|m| m.service_sid == service)
                .ok_or_else(|| TwilioError::new(400, 50513, format!("no media {sid}")))?;
            if m.attached.is_some() {
                return Err(TwilioError::new(
                    400,
                    50514,
                    format!("media {sid} is on a message already"),
                ));
            }
            if own_media_only && m.author != author {
                return Err(TwilioError::new(
                    403,
                    50107,
                    format!("media {sid} was uploaded by someone else"),
                ));
            }
            refs.push(m.as_ref());
        }
        let (message, changes) =
            self.append_message_with(service, id, author, body, attributes, own_media_only, refs)?;
        for sid in media {
            if let Some(m) = self.media.get_mut(sid) {
                m.attached = Some((id.to_owned(), message.sid.clone()));
            }
        }
        Ok((message, changes))
    }
}
