//! The visitor's words: every string the widget shows comes from [`t`] or [`tf`], by key, in the
//! negotiated language. The site's overrides come first, then that language's catalogue
//! (fetched on demand, under its content-hashed name), then English, which is built in (it is
//! the source every catalogue translates). Messages are ICU MessageFormat, formatted by
//! `edgechat_core::i18n` with the browser's `Intl.PluralRules` and number formatting: no plural
//! rules or locale data are compiled into the wasm.
//!
//! The language is decided with the site's config, and the look (`View::look`) is set right
//! after its catalogue has arrived: every component that shows words reads the look, so it
//! renders again in the new language.

use std::cell::RefCell;

use edgechat_core::i18n::{Arg, Message, Rules, ENGLISH};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

#[wasm_bindgen::prelude::wasm_bindgen(module = "/early.js")]
extern "C" {
    /// The catalogue's file name for `locale`, as the build named it (`de.<hash>.json`); none
    /// for English (built in). early.js holds the names: it fetches one before the wasm is in.
    #[wasm_bindgen(js_name = catalogue_file)]
    fn file(locale: &str) -> Option<String>;
}

struct Words {
    locale: &'static str,
    /// Where a message is looked for, in order: the site's overrides for this language, its
    /// catalogue, the site's English overrides (English itself comes last, built in).
    layers: [JsValue; 3],
    plural: Option<js_sys::Intl::PluralRules>,
}

thread_local! {
    static WORDS: RefCell<Words> = const {
        RefCell::new(Words {
            locale: "en",
            layers: [JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED],
            plural: None,
        })
    };
    static ENGLISH_JS: JsValue = js_sys::JSON::parse(ENGLISH).unwrap_or(JsValue::UNDEFINED);
}

impl Rules for Words {
    fn plural(&self, n: f64) -> String {
        match &self.plural {
            Some(rules) => rules.select(n).into(),
            None if n == 1.0 => "one".into(),
            None => "other".into(),
        }
    }

    fn number(&self, n: f64) -> String {
        js_sys::Number::from(n).to_locale_string(self.locale).into()
    }
}

impl Words {
    fn source(&self, key: &str) -> String {
        let key = JsValue::from_str(key);
        self.layers
            .iter()
            .filter(|layer| layer.is_object())
            .find_map(|layer| Reflect::get(layer, &key).ok()?.as_string())
            .or_else(|| ENGLISH_JS.with(|en| Reflect::get(en, &key).ok()?.as_string()))
            .unwrap_or_default()
    }
}

/// The message `key` in the visitor's language.
pub fn t(key: &str) -> String {
    tf(key, &[])
}

/// The message `key` in the visitor's language, with `args`.
pub fn tf(key: &str, args: &[(&str, Arg)]) -> String {
    #[cfg(not(target_arch = "wasm32"))]
    {
        // Native unit tests: English, without the browser.
        return native_english(key, args);
    }
    #[allow(unreachable_code)]
    WORDS.with(|words| {
        let words = words.borrow();
        let source = words.source(key);
        match Message::parse(&source) {
            Ok(message) => message.format(args, &*words),
            Err(_) => source,
        }
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn native_english(key: &str, args: &[(&str, Arg)]) -> String {
    use edgechat_core::i18n::English;
    let english = edgechat_core::i18n::catalogue(ENGLISH).expect("the English catalogue");
    Message::parse(&english[key])
        .expect("English messages parse")
        .format(args, &English)
}

thread_local! {
    /// How many times `speak` was called: a call that is no longer the latest changes nothing.
    static ASKED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A file size in the visitor's language: `850 KB`, `2.4 MB`.
pub fn size(bytes: u64) -> String {
    let (value, unit) = if bytes < 1024 * 1024 {
        ((bytes as f64 / 1024.0).ceil(), " KB")
    } else {
        ((bytes as f64 / 104_857.6).round() / 10.0, " MB")
    };
    let locale = WORDS.with(|w| w.borrow().locale);
    let mut text: String = js_sys::Number::from(value).to_locale_string(locale).into();
    text.push_str(unit);
    text
}

/// Speaks `locale` from now on, with the site's `overrides` (its config's `strings`, an
/// object by language): fetches the language's catalogue first (from `base`), unless it is
/// English. When the fetch fails, the words stay as they were, and the language does not
/// change (half a language is worse than English). When two calls overlap, the later call's
/// language wins, whichever catalogue arrives first.
pub async fn speak(locale: &'static str, overrides: JsValue, base: &str) {
    let turn = ASKED.with(|a| {
        a.set(a.get() + 1);
        a.get()
    });
    let same = WORDS.with(|w| w.borrow().locale == locale);
    let catalogue = match file(locale) {
        Some(_) if same => WORDS.with(|w| w.borrow().layers[1].clone()),
        Some(name) => match crate::net::catalogue(&format!("{base}widget/i18n/{name}")).await {
            Ok(c) => c,
            Err(_) => return,
        },
        None => JsValue::UNDEFINED,
    };
    if ASKED.with(|a| a.get()) != turn {
        return;
    }
    let of =
        |tag: &str| Reflect::get(&overrides, &JsValue::from_str(tag)).unwrap_or(JsValue::UNDEFINED);
    WORDS.with(|words| {
        let mut words = words.borrow_mut();
        words.layers = [of(locale), catalogue, of("en")];
        words.locale = locale;
        let tags = Array::of1(&JsValue::from_str(locale));
        words.plural = Some(js_sys::Intl::PluralRules::new(&tags, &Object::new()));
    });
    let _ = crate::crash_words(&t("crash.text"), &t("crash.reload"));
}
