//! Which of the widget's languages a visitor gets, and which way it is written.
//!
//! The wanted tags come in order of preference (the page's `data-locale`, the site's config, the
//! browser's languages); the first one the widget has a language for wins: the exact tag, else
//! the same language (`de-AT` is German, `pt` and `pt-PT` Portuguese as written in Brazil);
//! English when none matches.

pub use crate::i18n::LOCALES;

/// The widget's language for `wanted`, in order of preference.
pub fn negotiate<'a>(wanted: impl IntoIterator<Item = &'a str>) -> &'static str {
    for tag in wanted {
        let tag = tag.trim();
        if let Some(exact) = LOCALES.iter().find(|l| l.eq_ignore_ascii_case(tag)) {
            return exact;
        }
        let language = tag.split(['-', '_']).next().unwrap_or_default();
        // Hebrew's old code, still sent by some systems.
        let language = if language.eq_ignore_ascii_case("iw") {
            "he"
        } else {
            language
        };
        if language.is_empty() {
            continue;
        }
        if let Some(same) = LOCALES.iter().find(|l| {
            l.split('-')
                .next()
                .is_some_and(|base| base.eq_ignore_ascii_case(language))
        }) {
            return same;
        }
    }
    "en"
}

/// Whether the widget's language `locale` (one of [`LOCALES`]) is written right to left.
pub fn is_rtl(locale: &str) -> bool {
    matches!(locale, "ar" | "he")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_wanted_language_the_widget_speaks() {
        assert_eq!(negotiate(["de-AT", "en"]), "de");
        assert_eq!(negotiate(["pt"]), "pt-BR");
        assert_eq!(negotiate(["PT-pt"]), "pt-BR");
        assert_eq!(negotiate(["pt-br"]), "pt-BR");
        assert_eq!(negotiate(["sw", "ja-JP"]), "ja");
        assert_eq!(negotiate(["iw-IL"]), "he");
        assert_eq!(negotiate(["ar_EG"]), "ar");
        assert_eq!(negotiate(["", "  ", "fr-CA"]), "fr");
        assert_eq!(negotiate(["zh-Hans", "ko"]), "en");
        assert_eq!(negotiate([]), "en");
    }

    #[test]
    fn arabic_and_hebrew_are_right_to_left() {
        let rtl: Vec<_> = LOCALES.iter().filter(|l| is_rtl(l)).collect();
        assert_eq!(rtl, [&"ar", &"he"]);
    }
}
