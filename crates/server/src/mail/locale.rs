//! The languages emails are written in, and choosing one from an `Accept-Language` header.
//!
//! A locale is one of [`LOCALES`]: the server ships every template in each of them, so a
//! user's stored locale always has its emails. Registration takes the best match for the
//! browser's `Accept-Language` (RFC 9110 §12.5.4: language ranges with q-values); anything
//! unreadable there means the default, never an error — a header is a hint, not input the
//! user typed.

use latchkey_core::Error;

/// The default locale: an account with none stored (every one made before locales existed)
/// gets its emails in English.
pub const DEFAULT: &str = "en";

/// Every locale the built-in templates are written in, the default first.
pub const LOCALES: [&str; 2] = [DEFAULT, "de"];

/// A locale the server has templates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale(&'static str);

impl Locale {
    /// A shipped locale, by its tag (`de`); case does not matter. Anything else is the
    /// stable `unsupported_locale`.
    pub fn parse(tag: &str) -> Result<Locale, Error> {
        LOCALES
            .into_iter()
            .find(|locale| locale.eq_ignore_ascii_case(tag.trim()))
            .map(Locale)
            .ok_or(Error::UnsupportedLocale)
    }

    /// A stored locale, or the default when there is none (or it is no longer shipped).
    pub fn or_default(stored: Option<&str>) -> Locale {
        stored
            .and_then(|tag| Locale::parse(tag).ok())
            .unwrap_or(Locale(DEFAULT))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The best shipped locale for an `Accept-Language` header: the highest q-value whose
    /// language (the range's first subtag: `de-DE` is `de`) is shipped, the earlier of two
    /// equal ones; the default when none is, when the header is absent, or unreadable.
    pub fn negotiate(accept_language: Option<&str>) -> Locale {
        let mut best: Option<(Locale, u16)> = None;
        // A header is at most a few ranges; a client sending thousands gets the default
        // rather than a loop over them.
        for range in accept_language.unwrap_or_default().split(',').take(32) {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let language = tag.split(['-', '_']).next().unwrap_or_default();
            let Ok(locale) = Locale::parse(language) else {
                continue;
            };
            let Some(q) = quality(parts) else { continue };
            if q > 0 && best.is_none_or(|(_, best_q)| q > best_q) {
                best = Some((locale, q));
            }
        }
        best.map_or(Locale(DEFAULT), |(locale, _)| locale)
    }
}

/// A range's weight in thousandths (`q=0.8` is 800; absent is 1000); `None` when its
/// parameters do not read as RFC 9110's `weight`, so a garbled range counts for nothing.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut q = 1000;
    for param in params {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        let value = value.trim();
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        if !matches!(whole, "0" | "1")
            || fraction.len() > 3
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
        q = match whole {
            "0" => thousandths,
            _ if thousandths == 0 => 1000,
            // Above 1.
            _ => return None,
        };
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(header: &str) -> &'static str {
        Locale::negotiate(Some(header)).as_str()
    }

    #[test]
    fn the_highest_weighted_shipped_language_wins() {
        assert_eq!(pick("de-DE,de;q=0.9,en;q=0.8"), "de");
        assert_eq!(pick("en-US,en;q=0.9,de;q=0.8"), "en");
        assert_eq!(pick("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4"), "de");
        assert_eq!(pick("en;q=0.5, de;q=0.7"), "de");
        assert_eq!(pick("DE-at"), "de");
        assert_eq!(pick("de;q=1.0"), "de");
    }

    #[test]
    fn a_refused_language_and_equal_weights_follow_the_rfc() {
        // q=0 means "not this one".
        assert_eq!(pick("de;q=0,en;q=0.1"), "en");
        assert_eq!(pick("de;q=0"), "en");
        // Equal weights: the first listed.
        assert_eq!(pick("de,en"), "de");
        assert_eq!(pick("en,de"), "en");
    }

    #[test]
    fn garbage_means_the_default_never_an_error() {
        for header in [
            "",
            "*",
            "zz",
            ";;;,,,",
            "de;q=2",
            "de;q=abc",
            "de;q=0.12345",
            "de;q",
            "\u{0}\u{ff}",
            &"zz-".repeat(10_000),
            &"x,".repeat(10_000),
        ] {
            assert_eq!(pick(header), "en", "{header:?}");
        }
        assert_eq!(Locale::negotiate(None).as_str(), "en");
    }

    #[test]
    fn a_stored_locale_is_read_back_and_an_unknown_one_is_the_default() {
        assert_eq!(Locale::or_default(Some("de")).as_str(), "de");
        assert_eq!(Locale::or_default(Some("xx")).as_str(), "en");
        assert_eq!(Locale::or_default(None).as_str(), "en");
        assert_eq!(Locale::parse("DE").map(Locale::as_str), Ok("de"));
        assert_eq!(Locale::parse("de-DE"), Err(Error::UnsupportedLocale));
        assert_eq!(Locale::parse(""), Err(Error::UnsupportedLocale));
    }
}
