//! "Now" as a local weekday and time in an IANA time zone, from the runtime's `Intl` (full ICU in
//! workerd, with every zone and its daylight saving rules), so the Worker carries no time zone
//! database of its own.

use edgechat_core::site::office_hours::{LocalTime, Weekday};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type DateTimeFormat;

    /// Throws a RangeError for an unknown time zone, hence `catch`.
    #[wasm_bindgen(constructor, js_namespace = Intl, js_class = DateTimeFormat, catch)]
    fn new(locale: &str, options: &Object) -> Result<DateTimeFormat, JsValue>;

    #[wasm_bindgen(method, js_name = formatToParts)]
    fn format_to_parts(this: &DateTimeFormat, date: &js_sys::Date) -> Array;
}

/// Why the local time in a zone cannot be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockError {
    UnknownZone(String),
    /// The runtime's `Intl` answered without a weekday and a time.
    NoParts(String),
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::UnknownZone(zone) => {
                write!(f, "the time zone {zone:?} is not one the runtime knows")
            }
            ClockError::NoParts(zone) => write!(f, "Intl gave no weekday and time for {zone:?}"),
        }
    }
}

/// The local time now in `zone`, or why it cannot be told (an unknown zone).
pub fn local_now(zone: &str) -> Result<LocalTime, ClockError> {
    let options = Object::new();
    for (key, value) in [
        ("timeZone", zone),
        ("weekday", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("hourCycle", "h23"),
    ] {
        Reflect::set(&options, &key.into(), &value.into())
            .map_err(|_| ClockError::NoParts(zone.to_owned()))?;
    }
    let format = DateTimeFormat::new("en-US", &options)
        .map_err(|_| ClockError::UnknownZone(zone.to_owned()))?;
    let parts = format.format_to_parts(&js_sys::Date::new_0());
    let (mut weekday, mut hour, mut minute) = (None, None, None);
    for part in parts.iter() {
        let field = |name: &str| {
            Reflect::get(&part, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let (Some(kind), Some(value)) = (field("type"), field("value")) else {
            continue;
        };
        match kind.as_str() {
            "weekday" => weekday = Weekday::from_short_name(&value),
            "hour" => hour = value.parse::<u16>().ok(),
            "minute" => minute = value.parse::<u16>().ok(),
            _ => {}
        }
    }
    match (weekday, hour, minute) {
        (Some(weekday), Some(hour), Some(minute)) if hour < 24 && minute < 60 => Ok(LocalTime {
            weekday,
            minute_of_day: hour * 60 + minute,
        }),
        _ => Err(ClockError::NoParts(zone.to_owned())),
    }
}
