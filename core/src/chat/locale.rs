//! Which of the widget's languages a visitor gets, and which way it is written.
//!
//! The wanted tags come in order of preference (the page's `data-locale`, the site's config, the
//! browser's languages); the first one the widget has a language for wins: the exact tag, else
//! the same language (`de-AT` is German, `pt` and `pt-PT` Portuguese as written in Brazil);
//! English when none matches.

pub use crate::i18n::LOCALES;

/// A language tag as pages, sites and browsers write them, read leniently and written as BCP 47
/// (the form `Intl` accepts): `de_DE` and `de_DE.UTF-8@euro` (POSIX, as WordPress's
/// `get_locale()` and many CMSs print) are `de-DE`, subtags take their usual case (`zh-hant-tw`
/// is `zh-Hant-TW`). `None` for what is no language at all: empty, `C` and `POSIX` (a system
/// without a locale, as WebKit reports it), or anything not shaped like a tag. The caller asks
/// `Intl.getCanonicalLocales` last, so that nothing it refuses reaches `Intl`.
pub fn lenient_tag(raw: &str) -> Option<String> {
    let tag = raw.trim();
    // POSIX's codeset and modifier: `de_DE.UTF-8@euro`.
    let tag = tag.split(['.', '@']).next().unwrap_or_default();
    if tag.eq_ignore_ascii_case("c") || tag.eq_ignore_ascii_case("posix") || tag.len() > 35 {
        return None;
    }
    let mut out = String::with_capacity(tag.len());
    for (i, part) in tag.split(['-', '_']).enumerate() {
        let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
        let shaped =
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric());
        if !shaped || (i == 0 && !(alpha && matches!(part.len(), 2 | 3 | 5..=8))) {
            return None;
        }
        if i > 0 {
            out.push('-');
        }
        match (i, part.len()) {
            (0, _) => out.push_str(&part.to_ascii_lowercase()),
            // A script: `Hant`.
            (_, 4) if alpha => {
                out.push_str(&part[..1].to_ascii_uppercase());
                out.push_str(&part[1..].to_ascii_lowercase());
            }
            // A region: `DE`, `419`.
            (_, 2) | (_, 3) if alpha || part.bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str(&part.to_ascii_uppercase())
            }
            _ => out.push_str(&part.to_ascii_lowercase()),
        }
    }
    Some(out)
}

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
    fn tags_are_read_leniently_and_written_as_bcp_47() {
        for (raw, tag) in [
            ("de_DE", "de-DE"),
            ("de_DE.UTF-8", "de-DE"),
            ("de_DE.UTF-8@euro", "de-DE"),
            (" en-us ", "en-US"),
            ("ZH_hant_tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("pt", "pt"),
            ("sr-Latn-RS", "sr-Latn-RS"),
        ] {
            assert_eq!(lenient_tag(raw).as_deref(), Some(tag), "{raw}");
        }
        for none in [
            "",
            "C",
            "c",
            "POSIX",
            "C.UTF-8",
            "e",
            "de_DE_x_toolongsubtag",
            "1de",
            "de--DE",
            "de-",
            "de DE",
            "<script>",
            "😀",
        ] {
            assert_eq!(lenient_tag(none), None, "{none:?}");
        }
        // What it keeps, the widget speaks: de_DE is German.
        assert_eq!(negotiate([lenient_tag("de_DE").unwrap().as_str()]), "de");
    }

    #[test]
    fn arabic_and_hebrew_are_right_to_left() {
        let rtl: Vec<_> = LOCALES.iter().filter(|l| is_rtl(l)).collect();
        assert_eq!(rtl, [&"ar", &"he"]);
    }
}
