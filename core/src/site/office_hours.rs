//! Office hours for the built-in responder: weekly opening times in the site's time zone.
//!
//! ```json
//! "office_hours": {
//!   "time_zone": "Europe/Berlin",
//!   "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-14:00"]},
//!   "away_message": "We're away right now and answer from 9:00 (Berlin time)."
//! }
//! ```
//! A day left out is closed all day; `24:00` ends a range at midnight. A range never crosses
//! midnight: write `"fri": ["22:00-24:00"], "sat": ["00:00-02:00"]` instead.
//!
//! This module holds no clock and no time zone database: the caller turns "now" into a
//! [`LocalTime`] in [`OfficeHours::time_zone`] (the Worker asks the JavaScript runtime's `Intl`,
//! which knows every IANA zone and its daylight saving rules), so the rules here are pure.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::ids::text::Text;
use crate::ids::Invalid;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHours {
    pub time_zone: TimeZoneName,
    #[serde(default)]
    pub hours: BTreeMap<Weekday, DayHours>,
    pub away_message: Text<1600>,
    /// While closed, ask the visitor for their email (to answer them later): optional or
    /// required. (The auto-responder does not read it.)
    #[serde(default)]
    pub ask_email: Option<AskEmail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AskEmail {
    Optional,
    Required,
}

impl OfficeHours {
    /// Whether people answer at this local time.
    pub fn is_open(&self, at: LocalTime) -> bool {
        self.hours
            .get(&at.weekday)
            .is_some_and(|day| day.0.iter().any(|r| r.contains(at.minute_of_day)))
    }

    /// Minutes of wall-clock time from `at` until the next opening (0 while open), looking a
    /// week ahead; `None` when no day has hours. (A daylight saving change in between moves the
    /// real instant by its hour; the caller formats what it computes, so a visitor may read an
    /// opening an hour off on the night the clocks change.)
    pub fn minutes_until_open(&self, at: LocalTime) -> Option<u32> {
        if self.is_open(at) {
            return Some(0);
        }
        let start = at.weekday.index() * 1440 + u32::from(at.minute_of_day);
        (0..=7u32)
            .flat_map(|ahead| {
                let day = Weekday::ALL[((at.weekday.index() + ahead) % 7) as usize];
                self.hours
                    .get(&day)
                    .into_iter()
                    .flat_map(|hours| hours.0.iter())
                    .map(move |range| (ahead, range.start))
            })
            .map(|(ahead, range_start)| {
                (at.weekday.index() + ahead) * 1440 + u32::from(range_start)
            })
            .filter(|&opening| opening > start)
            .map(|opening| opening - start)
            .min()
    }
}

/// A local wall-clock moment: what office hours are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub weekday: Weekday,
    /// 0..1440.
    pub minute_of_day: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// Monday 0 to Sunday 6.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// From the short English names `Intl.DateTimeFormat` gives with `weekday: "short"`.
    pub fn from_short_name(name: &str) -> Option<Weekday> {
        Some(match name {
            "Mon" => Weekday::Mon,
            "Tue" => Weekday::Tue,
            "Wed" => Weekday::Wed,
            "Thu" => Weekday::Thu,
            "Fri" => Weekday::Fri,
            "Sat" => Weekday::Sat,
            "Sun" => Weekday::Sun,
            _ => return None,
        })
    }
}

/// An IANA time zone name (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`). Only its
/// shape is checked here; whether the zone exists is checked where a zone database is at hand
/// (`npm run site-config -- check`, and the Worker, which logs an unknown zone).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parse(s: &str) -> Result<TimeZoneName, Invalid<TimeZoneError>> {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 30
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
                && p.starts_with(|c: char| c.is_ascii_alphabetic())
        };
        let parts: Vec<&str> = s.split('/').collect();
        let ok = s.len() <= 64 && parts.len() <= 3 && parts.iter().all(|p| part_ok(p));
        Invalid::unless(ok, TimeZoneError, s.to_owned()).map(TimeZoneName)
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = Invalid<TimeZoneError>;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TimeZoneName::parse(&s)
    }
}

/// Why a string is not shaped like an IANA time zone name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneError;

impl fmt::Display for TimeZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a time zone is an IANA name like \"Europe/Berlin\" or \"UTC\"")
    }
}

/// One day's opening ranges, at most 8, none overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayHours(Vec<TimeRange>);

impl<'de> Deserialize<'de> for DayHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        if texts.len() > 8 {
            return Err(de::Error::custom("at most 8 ranges a day"));
        }
        let mut ranges = texts
            .iter()
            .map(|t| TimeRange::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(de::Error::custom)?;
        ranges.sort_by_key(|r| r.start);
        for pair in ranges.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(de::Error::custom(format!(
                    "the ranges {} and {} overlap",
                    pair[0], pair[1]
                )));
            }
        }
        Ok(DayHours(ranges))
    }
}

/// `HH:MM-HH:MM`, start before end, minutes of the day (end may be 24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    start: u16,
    end: u16,
}

impl TimeRange {
    fn contains(&self, minute: u16) -> bool {
        self.start <= minute && minute < self.end
    }

    fn parse(s: &str) -> Result<TimeRange, Invalid<TimeRangeError>> {
        let invalid = |reason| Invalid {
            reason,
            value: s.to_owned(),
        };
        let bad = || invalid(TimeRangeError::Shape);
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let minute = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (start, end) = (minute(a).ok_or_else(bad)?, minute(b).ok_or_else(bad)?);
        if start >= end {
            return Err(invalid(TimeRangeError::Backwards));
        }
        Ok(TimeRange { start, end })
    }
}

/// Why a string is not an opening range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRangeError {
    Shape,
    Backwards,
}

impl fmt::Display for TimeRangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeRangeError::Shape => {
                "a range is \"HH:MM-HH:MM\" (24-hour clock, e.g. \"09:00-17:30\")"
            }
            TimeRangeError::Backwards => {
                "the range ends before it starts; a range cannot cross midnight: split it over two days"
            }
        })
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_opening_is_found_across_days_and_the_week_end() {
        let hours: OfficeHours = serde_json::from_str(
            r#"{"time_zone": "Europe/Berlin", "away_message": "Away",
                "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["09:00-15:00"]}}"#,
        )
        .unwrap();
        let at = |weekday, h: u16, m: u16| LocalTime {
            weekday,
            minute_of_day: h * 60 + m,
        };
        assert_eq!(hours.minutes_until_open(at(Weekday::Mon, 10, 0)), Some(0));
        assert_eq!(
            hours.minutes_until_open(at(Weekday::Mon, 12, 30)),
            Some(30),
            "lunch"
        );
        assert_eq!(hours.minutes_until_open(at(Weekday::Mon, 8, 59)), Some(1));
        assert_eq!(
            hours.minutes_until_open(at(Weekday::Mon, 17, 0)),
            Some((3 * 24 + 16) * 60),
            "to Friday 9:00"
        );
        assert_eq!(
            hours.minutes_until_open(at(Weekday::Fri, 15, 0)),
            Some((2 * 24 + 18) * 60),
            "over the week end"
        );
        assert_eq!(
            hours.minutes_until_open(at(Weekday::Sun, 23, 59)),
            Some(9 * 60 + 1)
        );
        let never: OfficeHours =
            serde_json::from_str(r#"{"time_zone": "UTC", "away_message": "Away"}"#).unwrap();
        assert_eq!(never.minutes_until_open(at(Weekday::Mon, 10, 0)), None);
    }

    fn hours(json: &str) -> Result<OfficeHours, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    fn at(weekday: Weekday, h: u16, m: u16) -> LocalTime {
        LocalTime {
            weekday,
            minute_of_day: h * 60 + m,
        }
    }

    const BERLIN: &str = r#"{"time_zone": "Europe/Berlin", "away_message": "Back at 9.",
        "hours": {"mon": ["09:00-12:00", "13:00-17:30"], "sat": ["22:00-24:00"]}}"#;

    #[test]
    fn open_inside_ranges_closed_outside_them() {
        let h = hours(BERLIN).unwrap();
        assert!(h.is_open(at(Weekday::Mon, 9, 0)));
        assert!(h.is_open(at(Weekday::Mon, 11, 59)));
        assert!(!h.is_open(at(Weekday::Mon, 12, 0)), "the end is exclusive");
        assert!(!h.is_open(at(Weekday::Mon, 12, 30)));
        assert!(h.is_open(at(Weekday::Mon, 17, 29)));
        assert!(!h.is_open(at(Weekday::Mon, 17, 30)));
        assert!(!h.is_open(at(Weekday::Mon, 8, 59)));
        assert!(
            !h.is_open(at(Weekday::Tue, 10, 0)),
            "a missing day is closed"
        );
        assert!(
            h.is_open(at(Weekday::Sat, 23, 59)),
            "24:00 ends at midnight"
        );
        assert!(!h.is_open(at(Weekday::Sun, 0, 0)));
    }

    #[test]
    fn no_hours_means_always_closed() {
        let h = hours(r#"{"time_zone": "UTC", "away_message": "Closed."}"#).unwrap();
        assert!(!h.is_open(at(Weekday::Wed, 12, 0)));
    }

    #[test]
    fn bad_hours_are_explained() {
        for (json, needle) in [
            (r#""hours": {"mon": ["9-17"]}"#, "HH:MM-HH:MM"),
            (
                r#""hours": {"mon": ["17:00-09:00"]}"#,
                "cannot cross midnight",
            ),
            (
                r#""hours": {"mon": ["09:00-12:00", "11:00-13:00"]}"#,
                "overlap",
            ),
            (r#""hours": {"mon": ["24:30-25:00"]}"#, "HH:MM-HH:MM"),
            (r#""hours": {"monday": ["09:00-17:00"]}"#, "unknown variant"),
        ] {
            let json = format!(r#"{{"time_zone": "UTC", "away_message": "x", {json}}}"#);
            let e = hours(&json).unwrap_err();
            assert!(e.contains(needle), "{json}: {e}");
        }
        assert!(hours(r#"{"time_zone": "UTC"}"#)
            .unwrap_err()
            .contains("away_message"));
    }

    #[test]
    fn time_zone_names_are_checked_for_shape() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(TimeZoneName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Europe/",
            "/Berlin",
            "Europe Berlin",
            "../etc",
            "a/b/c/d",
            "+01:00",
        ] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekday_names_from_intl() {
        assert_eq!(Weekday::from_short_name("Sun"), Some(Weekday::Sun));
        assert_eq!(Weekday::from_short_name("sun"), None);
    }
}
