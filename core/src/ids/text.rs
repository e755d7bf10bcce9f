//! Text shown to visitors, checked when parsed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Text shown to visitors: not blank, at most `MAX` characters, no control characters but
/// newlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

/// Why a string is not acceptable visitor-facing text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    Blank,
    TooLong { max: usize, chars: usize },
    ControlCharacter,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Blank => {
                f.write_str("must not be empty or blank; leave the field out instead")
            }
            TextError::TooLong { max, chars } => {
                write!(f, "at most {max} characters, got {chars}")
            }
            TextError::ControlCharacter => {
                f.write_str("must not contain control characters (newlines are fine)")
            }
        }
    }
}

impl std::error::Error for TextError {}

impl<const MAX: usize> Text<MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = TextError;

    fn try_from(s: String) -> Result<Self, TextError> {
        if s.trim().is_empty() {
            return Err(TextError::Blank);
        }
        let chars = s.chars().count();
        if chars > MAX {
            return Err(TextError::TooLong { max: MAX, chars });
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(TextError::ControlCharacter);
        }
        Ok(Text(s))
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(t: Text<MAX>) -> String {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_blankness_and_control_characters() {
        assert_eq!(
            Text::<5>::try_from("hi\nyo".to_owned()).unwrap().as_str(),
            "hi\nyo"
        );
        assert_eq!(Text::<5>::try_from(" \n".to_owned()), Err(TextError::Blank));
        assert_eq!(
            Text::<5>::try_from("héllo!".to_owned()),
            Err(TextError::TooLong { max: 5, chars: 6 })
        );
        assert_eq!(
            Text::<5>::try_from("a\tb".to_owned()),
            Err(TextError::ControlCharacter)
        );
        let e = serde_json::from_str::<Text<5>>("\"\"").unwrap_err();
        assert!(e.to_string().contains("must not be empty"), "{e}");
    }
}
