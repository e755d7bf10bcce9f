//! Attachments: what a site lets its visitors send (its `attachments` policy), what a file is
//! (judged from its first bytes, never from its name or what the browser claims), and which
//! received media may be drawn inline.
//!
//! ```json
//! "attachments": {"max_size_mb": 16, "max_files": 1, "types": ["jpg", "png", "gif", "heic", "pdf", "txt", "mp3", "mp4", "amr"]}
//! ```
//! Every key is optional; the defaults are Flex Webchat's (16 MB, one file per message, the nine
//! types above). `"enabled": false` turns attachments off. 16 MB is Twilio's own limit for a
//! Conversations media message.
//!
//! Pure: the widget reads the first bytes ([`SNIFF_BYTES`]) and the size, and asks [`Policy::check`].

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// How many leading bytes [`sniff`] reads.
pub const SNIFF_BYTES: usize = 512;
/// Twilio's limit for one media item of a Conversations message, in MB.
pub const MAX_SIZE_MB: u32 = 16;
/// Twilio's limit of media items on one message.
pub const MAX_FILES: u8 = 10;

/// A kind of file the widget knows by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Heic,
    Pdf,
    Txt,
    Mp3,
    Mp4,
    Amr,
}

impl FileType {
    pub const ALL: [FileType; 10] = [
        FileType::Jpeg,
        FileType::Png,
        FileType::Gif,
        FileType::Webp,
        FileType::Heic,
        FileType::Pdf,
        FileType::Txt,
        FileType::Mp3,
        FileType::Mp4,
        FileType::Amr,
    ];

    /// Its name in a site's config (and in messages to visitors): the usual extension.
    pub fn name(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Gif => "gif",
            FileType::Webp => "webp",
            FileType::Heic => "heic",
            FileType::Pdf => "pdf",
            FileType::Txt => "txt",
            FileType::Mp3 => "mp3",
            FileType::Mp4 => "mp4",
            FileType::Amr => "amr",
        }
    }

    /// The content type it is uploaded with.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
            FileType::Heic => "image/heic",
            FileType::Pdf => "application/pdf",
            FileType::Txt => "text/plain",
            FileType::Mp3 => "audio/mpeg",
            FileType::Mp4 => "video/mp4",
            FileType::Amr => "audio/amr",
        }
    }

    pub fn from_name(name: &str) -> Option<FileType> {
        let name = name
            .trim_matches(|c: char| c.is_ascii_whitespace())
            .to_ascii_lowercase();
        let name = if name == "jpeg" { "jpg" } else { name.as_str() };
        FileType::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// What a file's first bytes say it is: a type the widget knows, something it refuses by name
/// (markup that a browser could run, a program), or nothing it recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Known(FileType),
    /// SVG, HTML, XML or a program: named in the refusal.
    Refused(&'static str),
    Unknown,
}

/// Judges a file from its first bytes (at least [`SNIFF_BYTES`] of them when the file is that
/// long). Text is UTF-8 with no control characters but tab, newline, carriage return and form
/// feed, and does not start like markup.
pub fn sniff(head: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if starts(b"\xFF\xD8\xFF") {
        return Sniffed::Known(FileType::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Known(FileType::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::Known(FileType::Gif);
    }
    if starts(b"RIFF") && at(8, b"WEBP") {
        return Sniffed::Known(FileType::Webp);
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        return match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                Sniffed::Known(FileType::Heic)
            }
            _ => Sniffed::Known(FileType::Mp4),
        };
    }
    if starts(b"%PDF-") {
        return Sniffed::Known(FileType::Pdf);
    }
    if starts(b"#!AMR") {
        return Sniffed::Known(FileType::Amr);
    }
    if starts(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        return Sniffed::Known(FileType::Mp3);
    }
    if starts(b"MZ") {
        return Sniffed::Refused("a Windows program");
    }
    if starts(b"\x7fELF") {
        return Sniffed::Refused("a Linux program");
    }
    if starts(b"\xCF\xFA\xED\xFE") || starts(b"\xCE\xFA\xED\xFE") || starts(b"\xCA\xFE\xBA\xBE") {
        return Sniffed::Refused("a macOS program");
    }
    if starts(b"PK\x03\x04") {
        return Sniffed::Refused("a ZIP archive");
    }
    // Text: the head may end inside a character (it is cut at SNIFF_BYTES).
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return Sniffed::Unknown,
    };
    // (Bytes, not chars: Unicode's tables would cost the widget kilobytes.)
    if text
        .bytes()
        .any(|b| (b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
    {
        return Sniffed::Unknown;
    }
    let lead = text
        .trim_start_matches(|c: char| c == '\u{feff}' || c.is_ascii_whitespace())
        .to_ascii_lowercase();
    if lead.starts_with("#!") {
        return Sniffed::Refused("a script");
    }
    if lead.starts_with('<') {
        return Sniffed::Refused(if lead.contains("<svg") {
            "an SVG image"
        } else {
            "HTML or XML"
        });
    }
    if head.is_empty() {
        return Sniffed::Unknown;
    }
    Sniffed::Known(FileType::Txt)
}

/// A site's attachments policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The largest file, in bytes.
    pub max_bytes: u64,
    /// How many files one send may carry (each goes as its own message).
    pub max_files: u8,
    #[serde(serialize_with = "type_names")]
    pub types: Vec<FileType>,
}

fn type_names<S: serde::Serializer>(types: &[FileType], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(types.iter().map(|t| t.name()))
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_bytes: u64::from(MAX_SIZE_MB) * 1024 * 1024,
            max_files: 1,
            types: vec![
                FileType::Jpeg,
                FileType::Png,
                FileType::Gif,
                FileType::Heic,
                FileType::Pdf,
                FileType::Txt,
                FileType::Mp3,
                FileType::Mp4,
                FileType::Amr,
            ],
        }
    }
}

/// Why a file cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLarge {
        max_bytes: u64,
    },
    /// Its bytes say it is a type the site does not accept (named when known).
    Type {
        found: Option<&'static str>,
    },
}

impl Policy {
    /// Whether a file of `size` bytes starting with `head` may be sent; its type if so.
    pub fn check(&self, size: u64, head: &[u8]) -> Result<FileType, Refusal> {
        if size == 0 {
            return Err(Refusal::Empty);
        }
        if size > self.max_bytes {
            return Err(Refusal::TooLarge {
                max_bytes: self.max_bytes,
            });
        }
        match sniff(head) {
            Sniffed::Known(t) if self.types.contains(&t) => Ok(t),
            Sniffed::Known(t) => Err(Refusal::Type {
                found: Some(t.name()),
            }),
            Sniffed::Refused(what) => Err(Refusal::Type { found: Some(what) }),
            Sniffed::Unknown => Err(Refusal::Type { found: None }),
        }
    }

    /// The accepted types, for messages ("jpg, png, pdf").
    pub fn type_list(&self) -> String {
        self.types
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A policy from the public config's parts (the widget reads them as the browser parsed
    /// them); types it does not know are left out; `None` when none is left.
    pub fn from_parts<'a>(
        max_bytes: u64,
        max_files: u8,
        types: impl IntoIterator<Item = &'a str>,
    ) -> Option<Policy> {
        let types: Vec<FileType> = types.into_iter().filter_map(FileType::from_name).collect();
        (!types.is_empty() && max_bytes > 0 && max_files > 0).then_some(Policy {
            max_bytes,
            max_files: max_files.min(MAX_FILES),
            types,
        })
    }
}

/// Whether received media of `content_type` is drawn inline: raster images only. SVG (which can
/// carry script), HTML and everything else is a download link.
pub fn shows_inline(content_type: &str) -> bool {
    let base = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        base.as_str(),
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

/// Whether `url` may be used as a media link: `https:` (Twilio's media service), or `http:` on
/// this machine (the local emulator). Never `javascript:`, `data:` or `blob:` from a message.
/// (Read by hand: the `url` crate's parser would add 90 KiB to the widget.)
pub fn is_media_url(url: &str) -> bool {
    let host_of = |rest: &str| {
        rest.split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let host = host_of(rest);
        return !host.is_empty() && !host.contains('@');
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let host = host_of(rest);
        let name = host.rsplit_once(':').map_or(host.as_str(), |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                ""
            }
        });
        return matches!(name, "127.0.0.1" | "localhost" | "[::1]");
    }
    false
}

/// The `attachments` key of a site's config, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    max_size_mb: Option<u32>,
    #[serde(default)]
    max_files: Option<u8>,
    #[serde(default)]
    types: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// A site's `attachments` setting: a policy, or off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachments(pub Option<Policy>);

impl Default for Attachments {
    fn default() -> Attachments {
        Attachments(Some(Policy::default()))
    }
}

/// Why an `attachments` setting is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentsError {
    Size(u32),
    Files(u8),
    NoTypes,
    UnknownType(String),
}

impl fmt::Display for AttachmentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachmentsError::Size(n) => write!(
                f,
                "attachments.max_size_mb is {n}: use 1 to {MAX_SIZE_MB} (Twilio's limit)"
            ),
            AttachmentsError::Files(n) => {
                write!(f, "attachments.max_files is {n}: use 1 to {MAX_FILES}")
            }
            AttachmentsError::NoTypes => f.write_str(
                "attachments.types is empty: list at least one type, or set \"enabled\": false",
            ),
            AttachmentsError::UnknownType(t) => {
                write!(
                    f,
                    "attachments.types has {t:?}, which edgechat cannot check; use "
                )?;
                let names: Vec<&str> = FileType::ALL.iter().map(|t| t.name()).collect();
                f.write_str(&names.join(", "))?;
                f.write_str(" (SVG and HTML are never accepted: a browser could run them)")
            }
        }
    }
}

impl TryFrom<RawPolicy> for Attachments {
    type Error = AttachmentsError;

    fn try_from(raw: RawPolicy) -> Result<Attachments, AttachmentsError> {
        if !raw.enabled {
            return Ok(Attachments(None));
        }
        let mut policy = Policy::default();
        if let Some(mb) = raw.max_size_mb {
            if !(1..=MAX_SIZE_MB).contains(&mb) {
                return Err(AttachmentsError::Size(mb));
            }
            policy.max_bytes = u64::from(mb) * 1024 * 1024;
        }
        if let Some(n) = raw.max_files {
            if !(1..=MAX_FILES).contains(&n) {
                return Err(AttachmentsError::Files(n));
            }
            policy.max_files = n;
        }
        if let Some(types) = raw.types {
            if types.is_empty() {
                return Err(AttachmentsError::NoTypes);
            }
            policy.types = types
                .iter()
                .map(|t| {
                    FileType::from_name(t).ok_or_else(|| AttachmentsError::UnknownType(t.clone()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            policy.types.dedup();
        }
        Ok(Attachments(Some(policy)))
    }
}

impl<'de> Deserialize<'de> for Attachments {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attachments, D::Error> {
        let raw = RawPolicy::deserialize(d)?;
        Attachments::try_from(raw).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<Attachments, String> {
        serde_json::from_str::<Attachments>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn files_are_judged_by_their_bytes() {
        let cases: [(&[u8], Sniffed); 16] = [
            (
                b"\xFF\xD8\xFF\xE0\0\x10JFIF",
                Sniffed::Known(FileType::Jpeg),
            ),
            (
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
                Sniffed::Known(FileType::Png),
            ),
            (b"GIF89a\x01\0", Sniffed::Known(FileType::Gif)),
            (b"RIFF\x24\0\0\0WEBPVP8 ", Sniffed::Known(FileType::Webp)),
            (
                b"\0\0\0\x18ftypheic\0\0\0\0",
                Sniffed::Known(FileType::Heic),
            ),
            (
                b"\0\0\0\x20ftypisom\0\0\x02\0",
                Sniffed::Known(FileType::Mp4),
            ),
            (b"%PDF-1.7\n", Sniffed::Known(FileType::Pdf)),
            (b"#!AMR\n", Sniffed::Known(FileType::Amr)),
            (b"ID3\x04\0", Sniffed::Known(FileType::Mp3)),
            (
                "Grüße, order 123\r\n\tthanks".as_bytes(),
                Sniffed::Known(FileType::Txt),
            ),
            (b"MZ\x90\0\x03", Sniffed::Refused("a Windows program")),
            (b"\x7fELF\x02\x01", Sniffed::Refused("a Linux program")),
            (
                b"  <?xml version=\"1.0\"?><svg xmlns=",
                Sniffed::Refused("an SVG image"),
            ),
            (b"<!DOCTYPE html><script>", Sniffed::Refused("HTML or XML")),
            (b"#!/bin/sh\nrm -rf", Sniffed::Refused("a script")),
            (b"text\0with a NUL", Sniffed::Unknown),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), want, "{bytes:?}");
        }
        // A head cut inside a character is still text.
        let cut = "ü".repeat(300);
        assert_eq!(sniff(&cut.as_bytes()[..511]), Sniffed::Known(FileType::Txt));
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }

    #[test]
    fn the_policy_refuses_with_the_reason() {
        let p = Policy::default();
        assert_eq!(p.check(10, b"%PDF-1.4"), Ok(FileType::Pdf));
        assert_eq!(p.check(0, b""), Err(Refusal::Empty));
        assert_eq!(
            p.check(16 * 1024 * 1024 + 1, b"%PDF-1.4"),
            Err(Refusal::TooLarge {
                max_bytes: 16 * 1024 * 1024
            })
        );
        // A program named photo.png is refused by what it is.
        assert_eq!(
            p.check(100, b"MZ\x90\0"),
            Err(Refusal::Type {
                found: Some("a Windows program")
            })
        );
        // webp is known but not in Flex's defaults.
        assert_eq!(
            p.check(100, b"RIFF\x24\0\0\0WEBPVP8 "),
            Err(Refusal::Type {
                found: Some("webp")
            })
        );
        assert_eq!(
            p.check(100, b"\x01\x02\x03"),
            Err(Refusal::Type { found: None })
        );
        assert_eq!(
            p.type_list(),
            "jpg, png, gif, heic, pdf, txt, mp3, mp4, amr"
        );
    }

    #[test]
    fn a_sites_setting_is_checked() {
        assert_eq!(policy("{}").unwrap(), Attachments::default());
        assert_eq!(policy(r#"{"enabled": false}"#).unwrap(), Attachments(None));
        let set = policy(r#"{"max_size_mb": 5, "max_files": 3, "types": ["JPEG", "pdf"]}"#)
            .unwrap()
            .0
            .unwrap();
        assert_eq!(set.max_bytes, 5 * 1024 * 1024);
        assert_eq!(set.max_files, 3);
        assert_eq!(set.types, vec![FileType::Jpeg, FileType::Pdf]);
        let refused = |json: &str, says: &str| {
            let e = policy(json).unwrap_err();
            assert!(e.contains(says), "{json}: {e}");
        };
        refused(r#"{"max_size_mb": 17}"#, "use 1 to 16");
        refused(r#"{"max_size_mb": 0}"#, "use 1 to 16");
        refused(r#"{"max_files": 11}"#, "use 1 to 10");
        refused(r#"{"types": []}"#, "list at least one type");
        refused(
            r#"{"types": ["svg"]}"#,
            "\"svg\", which edgechat cannot check; use jpg, png",
        );
        refused(r#"{"size": 1}"#, "unknown field");
    }

    #[test]
    fn only_raster_images_show_inline_and_only_media_service_links_are_used() {
        assert!(shows_inline("image/png"));
        assert!(shows_inline("IMAGE/JPEG; charset=binary"));
        assert!(!shows_inline("image/svg+xml"));
        assert!(!shows_inline("text/html"));
        assert!(!shows_inline("image/heic"));
        assert!(is_media_url(
            "https://media.us1.twilio.com/v1/Services/IS1/Media/ME1/Content?x=1"
        ));
        assert!(is_media_url(
            "http://127.0.0.1:8788/v1/Services/IS1/Media/ME1/Content"
        ));
        assert!(!is_media_url("http://evil.example/x.png"));
        assert!(!is_media_url("javascript:alert(1)"));
        assert!(!is_media_url("data:image/png;base64,AAAA"));
        assert!(!is_media_url("http://127.0.0.1.evil.example/x"));
        assert!(!is_media_url("http://localhost@evil.example/x"));
        assert!(!is_media_url("https://user@evil.example/x"));
        assert!(
            !is_media_url("HTTPS://media.twilio.com/x"),
            "only as the SDK gives it"
        );
        assert!(!is_media_url("https://"));
    }

    #[test]
    fn the_widget_reads_a_policy_from_the_public_config() {
        let p = Policy::from_parts(1024, 2, ["png", "exe", "pdf"]).unwrap();
        assert_eq!(p.types, vec![FileType::Png, FileType::Pdf]);
        assert_eq!(Policy::from_parts(1024, 2, ["exe"]), None);
        assert_eq!(
            serde_json::to_value(Policy::default()).unwrap()["types"][0],
            serde_json::json!("jpg")
        );
    }
}
