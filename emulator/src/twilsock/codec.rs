//! Twilsock V3.0 framing: every frame, both ways, is one binary WebSocket message
//!
//! ```text
//! TWILSOCK V3.0 <header byte length>\r\n<JSON header>\r\n<payload bytes>
//! ```
//!
//! The header is a JSON object; `payload_size` is the payload's length in bytes and
//! `payload_type` says how to read it. Lengths count UTF-8 bytes, not characters. Bytes after
//! the payload are ignored, as the SDK ignores them.

use serde_json::{Map, Value};

const MAGIC: &str = "TWILSOCK V3.0 ";
/// The longest magic line we read before giving up ("TWILSOCK V3.0 " + digits + "\r\n").
const MAX_MAGIC: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn method(&self) -> &str {
        self.header
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn id(&self) -> &str {
        self.header.get("id").and_then(Value::as_str).unwrap_or("")
    }
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// No `\r\n` ends the magic line within its first bytes.
    NoMagicLine,
    /// The magic line is not `TWILSOCK V3.0 <n>`.
    NotTwilsockV3(String),
    /// The header is cut short: it should be `expected` bytes, `available` are there.
    HeaderTruncated { expected: usize, available: usize },
    /// The header is not a JSON object.
    HeaderNotJson(String),
    /// `payload_size` is missing its payload: `expected` bytes, `available` there.
    PayloadTruncated { expected: usize, available: usize },
    /// `payload_size` is not a non-negative integer.
    BadPayloadSize,
    /// No `\r\n` between header and payload.
    NoSeparator,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::NoMagicLine => write!(f, "no TWILSOCK magic line ending in \\r\\n"),
            DecodeError::NotTwilsockV3(line) => {
                write!(
                    f,
                    "the magic line {line:?} is not TWILSOCK V3.0 <header length>"
                )
            }
            DecodeError::HeaderTruncated {
                expected,
                available,
            } => write!(
                f,
                "the header should be {expected} bytes but only {available} follow the magic line"
            ),
            DecodeError::HeaderNotJson(e) => write!(f, "the header is not a JSON object: {e}"),
            DecodeError::PayloadTruncated {
                expected,
                available,
            } => write!(
                f,
                "payload_size says {expected} bytes but only {available} follow the header"
            ),
            DecodeError::BadPayloadSize => write!(f, "payload_size is not a non-negative integer"),
            DecodeError::NoSeparator => write!(f, "no \\r\\n between the header and the payload"),
        }
    }
}

pub fn decode(bytes: &[u8]) -> Result<Frame, DecodeError> {
    let window = &bytes[..bytes.len().min(MAX_MAGIC)];
    let end = window
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(DecodeError::NoMagicLine)?;
    let line = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let header_len: usize = line
        .strip_prefix(MAGIC)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| DecodeError::NotTwilsockV3(line.clone()))?;
    let header_start = end + 2;
    let available = bytes.len() - header_start;
    if available < header_len {
        return Err(DecodeError::HeaderTruncated {
            expected: header_len,
            available,
        });
    }
    let header_bytes = &bytes[header_start..header_start + header_len];
    let header: Map<String, Value> = match serde_json::from_slice::<Value>(header_bytes) {
        Ok(Value::Object(map)) => map,
        Ok(other) => return Err(DecodeError::HeaderNotJson(format!("got {other}"))),
        Err(e) => return Err(DecodeError::HeaderNotJson(e.to_string())),
    };
    let payload_size = match header.get("payload_size") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().ok_or(DecodeError::BadPayloadSize)? as usize,
    };
    let rest = &bytes[header_start + header_len..];
    if payload_size == 0 {
        return Ok(Frame {
            header,
            payload: Vec::new(),
        });
    }
    let payload = rest.strip_prefix(b"\r\n").ok_or(DecodeError::NoSeparator)?;
    if payload.len() < payload_size {
        return Err(DecodeError::PayloadTruncated {
            expected: payload_size,
            available: payload.len(),
        });
    }
    Ok(Frame {
        header,
        payload: payload[..payload_size].to_vec(),
    })
}

/// Encodes `header` (a JSON object; its `payload_size` is set here) and `payload`.
pub fn encode(mut header: Map<String, Value>, payload: &[u8]) -> Vec<u8> {
    header.insert("payload_size".into(), Value::from(payload.len()));
    let header = Value::Object(header).to_string();
    let mut out = format!("{MAGIC}{}\r\n{header}\r\n", header.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A frame as a client might write it: the magic line counts `header`'s bytes.
    fn raw(header: &str, rest: &str) -> Vec<u8> {
        format!("TWILSOCK V3.0 {}\r\n{header}{rest}", header.len()).into_bytes()
    }

    fn header(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn round_trips_and_counts_bytes_not_characters() {
        let payload = "{\"body\":\"héllo 👋\"}".as_bytes();
        let bytes = encode(header(json!({"method": "reply", "id": "TMé"})), payload);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let header_text = text.split("\r\n").nth(1).unwrap();
        assert!(text.starts_with(&format!("TWILSOCK V3.0 {}\r\n", header_text.len())));
        assert_ne!(
            header_text.len(),
            header_text.chars().count(),
            "the test needs a multi-byte header"
        );
        let frame = decode(&bytes).unwrap();
        assert_eq!(frame.method(), "reply");
        assert_eq!(frame.id(), "TMé");
        assert_eq!(frame.payload, payload);
        assert_eq!(frame.header["payload_size"], json!(payload.len()));
    }

    #[test]
    fn reads_what_the_sdk_sends() {
        // A frame as twilsock 1.0.2 writes it (transcript), with no payload and a trailing \r\n.
        let bytes = raw(
            "{\"id\":\"TM1\",\"method\":\"close\",\"payload_size\":0}",
            "\r\n\r\n",
        );
        let frame = decode(&bytes).unwrap();
        assert_eq!(frame.method(), "close");
        assert!(frame.payload.is_empty());
        // Bytes after the payload are ignored.
        let mut bytes = encode(header(json!({"method": "message"})), b"ChannelSid=CH1");
        bytes.extend_from_slice(b"\r\n");
        assert_eq!(decode(&bytes).unwrap().payload, b"ChannelSid=CH1");
    }

    #[test]
    fn refuses_partial_and_malformed_frames_with_a_reason() {
        let good = encode(
            header(json!({"method": "message", "id": "TM2"})),
            b"{\"a\":1}",
        );
        for cut in [0, 5, 17, 30, good.len() - 3] {
            let e = decode(&good[..cut]).unwrap_err();
            assert!(
                matches!(
                    e,
                    DecodeError::NoMagicLine
                        | DecodeError::HeaderTruncated { .. }
                        | DecodeError::PayloadTruncated { .. }
                ),
                "cut at {cut}: {e:?}"
            );
            assert!(!e.to_string().is_empty());
        }
        assert!(matches!(
            decode(b"TWILSOCK V2.0 2\r\n{}"),
            Err(DecodeError::NotTwilsockV3(_))
        ));
        assert!(matches!(
            decode(b"HTTP/1.1 200 OK\r\n"),
            Err(DecodeError::NotTwilsockV3(_))
        ));
        assert!(matches!(
            decode(&raw("[1]", "")),
            Err(DecodeError::HeaderNotJson(_))
        ));
        assert!(matches!(
            decode(&raw("{\"a\":", "")),
            Err(DecodeError::HeaderNotJson(_))
        ));
        assert!(matches!(
            decode(&raw("{\"payload_size\":-1}", "")),
            Err(DecodeError::BadPayloadSize)
        ));
        assert!(matches!(
            decode(&raw("{\"payload_size\":2}", "xx")),
            Err(DecodeError::NoSeparator)
        ));
        // Invalid UTF-8 in the header is not JSON.
        let mut bad_utf8 = raw("{\"a\":\"..\"}", "");
        let at = bad_utf8.len() - 3;
        bad_utf8[at] = 0xff;
        assert!(matches!(
            decode(&bad_utf8),
            Err(DecodeError::HeaderNotJson(_))
        ));
        let magic_too_long = format!("TWILSOCK V3.0 {}\r\n", "9".repeat(60));
        assert_eq!(
            decode(magic_too_long.as_bytes()),
            Err(DecodeError::NoMagicLine)
        );
    }
}
