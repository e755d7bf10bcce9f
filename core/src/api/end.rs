//! `POST /api/sites/{site}/conversations/{sid}/end`: the visitor ends their conversation, with
//! their rating when the site asks for one.
//!
//! The rating goes into the conversation's attributes, under [`RATING_ATTRIBUTE`], in the same
//! update that closes it: Twilio refuses any update of a closed conversation (closed is final,
//! error 50377), so it cannot be added afterwards.

use serde_json::value::RawValue;

use super::BodyError;
use crate::ids::text::Text;

/// The conversation attribute that holds the visitor's rating.
pub const RATING_ATTRIBUTE: &str = "edgechat_rating";

/// The end route's body: `{"visitor": "<credential>"}`, or with `"rating": {...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndRequest {
    pub visitor: String,
    pub rating: Option<Rating>,
}

/// Thumbs up or down, and what the visitor wrote, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub score: Score,
    pub comment: Option<Text<1000>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Up,
    Down,
}

/// A JSON object's fields, each value kept as its text. The end route reads its body, a
/// rating and a fetched conversation through this one reader (the one the Worker's webhook
/// route reads a JSON event with), not a derived reader for each: each costs the Worker's
/// upload a few KiB.
pub type Fields = std::collections::BTreeMap<String, Box<RawValue>>;

/// `json` as an object's fields.
pub fn fields(json: &str) -> Option<Fields> {
    serde_json::from_slice(json.as_bytes()).ok()
}

/// `fields[name]` as a string, if it is one.
pub(crate) fn string(fields: &Fields, name: &str) -> Result<Option<String>, String> {
    fields
        .get(name)
        .map(|raw| serde_json::from_str(raw.get()).map_err(|_| format!("{name} must be a string")))
        .transpose()
}

pub(crate) fn only(fields: &Fields, known: &[&str]) -> Result<(), String> {
    match fields.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown field {k}")),
        None => Ok(()),
    }
}

impl EndRequest {
    pub fn from_body(body: &[u8]) -> Result<EndRequest, BodyError> {
        let unreadable = BodyError::Unreadable;
        let text = std::str::from_utf8(body).map_err(|_| BodyError::NotUtf8)?;
        let fields = fields(text).ok_or(BodyError::NotAnObject)?;
        only(&fields, &["visitor", "rating"]).map_err(unreadable)?;
        let visitor = string(&fields, "visitor")
            .map_err(unreadable)?
            .ok_or_else(|| unreadable("missing field visitor".into()))?;
        let rating = match fields.get("rating") {
            None => None,
            Some(raw) => Some(Rating::read(raw.get()).map_err(unreadable)?),
        };
        Ok(EndRequest { visitor, rating })
    }
}

impl Rating {
    fn read(json: &str) -> Result<Rating, String> {
        let fields = fields(json).ok_or_else(|| "rating must be an object".to_owned())?;
        only(&fields, &["score", "comment"])?;
        let score = match string(&fields, "score")?.as_deref() {
            Some("up") => Score::Up,
            Some("down") => Score::Down,
            _ => return Err("rating.score must be \"up\" or \"down\"".into()),
        };
        let comment = string(&fields, "comment")?
            .map(|c| Text::try_from(c).map_err(|e| format!("rating.comment: {e}")))
            .transpose()?;
        Ok(Rating { score, comment })
    }
}

/// What a refused end body should have been.
pub const END_BODY: &str = "send {\"visitor\": \"<credential>\"}, with \"rating\": {\"score\": \
                            \"up\" | \"down\", \"comment\": \"...\"} when rating it (a comment \
                            of at most 1000 characters)";

/// The conversation's `attributes` (Twilio's JSON text) with `rating` under [`RATING_ATTRIBUTE`],
/// everything else kept. Attributes that are not a JSON object (Twilio allows any JSON) are kept
/// under `previous_attributes`, as their text.
pub fn with_rating(attributes: &str, rating: &Rating, rated_at: &str) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from("{");
    match fields(attributes) {
        Some(kept) => {
            for (key, value) in kept.iter().filter(|(k, _)| *k != RATING_ATTRIBUTE) {
                out += &format!("{}:{},", quoted(key), value.get());
            }
        }
        // Not an object: kept beside the rating, as text.
        None => {
            let other = attributes.trim();
            if !other.is_empty() && other != "null" {
                out += &format!("\"previous_attributes\":{},", quoted(other));
            }
        }
    }
    let score = match rating.score {
        Score::Up => "up",
        Score::Down => "down",
    };
    out += &format!("\"{RATING_ATTRIBUTE}\":{{\"score\":\"{score}\",");
    if let Some(comment) = &rating.comment {
        out += &format!("\"comment\":{},", quoted(comment.as_str()));
    }
    out += &format!("\"rated_at\":{}}}}}", quoted(rated_at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rating(score: Score, comment: Option<&str>) -> Rating {
        Rating {
            score,
            comment: comment.map(|c| c.to_owned().try_into().unwrap()),
        }
    }

    #[test]
    fn bodies_with_and_without_a_rating() {
        let plain = EndRequest::from_body(br#"{"visitor": "v1.x"}"#).unwrap();
        assert_eq!(plain.rating, None);
        let rated = EndRequest::from_body(
            br#"{"visitor": "v1.x", "rating": {"score": "down", "comment": "slow"}}"#,
        )
        .unwrap();
        assert_eq!(rated.rating, Some(rating(Score::Down, Some("slow"))));
        for bad in [
            &br#"{}"#[..],
            br#"{"visitor": "v1.x", "rating": {"score": "meh"}}"#,
            br#"{"visitor": "v1.x", "rating": {"comment": "no score"}}"#,
            br#"{"visitor": "v1.x", "rating": {"score": "up", "comment": "   "}}"#,
            br#"{"visitor": "v1.x", "rating": {"score": "up", "stars": 5}}"#,
            br#"{"visitor": "v1.x", "extra": 1}"#,
            b"\xff",
        ] {
            assert!(
                EndRequest::from_body(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(
            r#"{{"visitor": "v1.x", "rating": {{"score": "up", "comment": "{}"}}}}"#,
            "é".repeat(1001)
        );
        let e = EndRequest::from_body(long.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("at most 1000 characters"), "{e}");
    }

    #[test]
    fn the_rating_joins_the_attributes_and_keeps_the_rest() {
        let at = "2026-12-04T10:00:00Z";
        let merged = with_rating(
            r#"{"page": "https://a.example/", "edgechat_rating": "old"}"#,
            &rating(Score::Up, Some("Quick and kind")),
            at,
        );
        let value: serde_json::Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(
            value,
            json!({
                "page": "https://a.example/",
                "edgechat_rating": {"score": "up", "comment": "Quick and kind", "rated_at": at},
            })
        );
        let bare: serde_json::Value =
            serde_json::from_str(&with_rating("{}", &rating(Score::Down, None), at)).unwrap();
        assert_eq!(
            bare,
            json!({"edgechat_rating": {"score": "down", "rated_at": at}})
        );
        let odd: serde_json::Value =
            serde_json::from_str(&with_rating("[1]", &rating(Score::Up, None), at)).unwrap();
        assert_eq!(odd["previous_attributes"], json!("[1]"));
        let broken: serde_json::Value =
            serde_json::from_str(&with_rating("not json", &rating(Score::Up, None), at)).unwrap();
        assert_eq!(broken["edgechat_rating"]["score"], "up");
    }
}
