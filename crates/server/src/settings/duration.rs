//! Durations as people write them: `900` (seconds, as every release so far has read them),
//! `30s`, `15m`, `1h`, `30d`.
//!
//! One number and one unit, no fractions and no sums (`1h30m` is `90m`): every lifetime the
//! server has is a round number of one unit, and a tiny grammar leaves nothing to guess. The
//! rate-limit windows (`signin_ip=10/15m`) use the same units, parsed in the core.

use std::time::Duration;

/// The units, longest first, so [`format`] writes `30d` rather than `720h`.
const UNITS: [(&str, u64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];

/// Parses `900`, `30s`, `15m`, `1h` or `30d` (surrounding spaces ignored). The error says
/// what was given and what would do.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{text:?} is not a duration (write seconds, or a number with s, m, h or d: 15m, 1h, 30d)"
        )
    };
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (amount, unit) = trimmed.split_at(digits);
    if amount.is_empty() {
        return Err(bad());
    }
    let amount: u64 = amount.parse().map_err(|_| bad())?;
    let scale = match unit.trim_start() {
        "" => 1,
        unit => UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|&(_, secs)| secs)
            .ok_or_else(bad)?,
    };
    let secs = amount.checked_mul(scale).ok_or_else(bad)?;
    Ok(Duration::from_secs(secs))
}

/// The shortest exact spelling: `15m`, `30d`, `10s`, `0s`.
pub fn format(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (name, size) = UNITS
        .iter()
        .find(|(_, size)| secs != 0 && secs.is_multiple_of(*size))
        .copied()
        .unwrap_or(("s", 1));
    format!("{}{name}", secs / size)
}

/// Whole seconds, as the state and the core count them.
pub fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// For `#[serde(with = "duration::serde")]`: a TOML integer is seconds, a string is parsed
/// as above; written back in the short form.
pub mod serde {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = super::super::text::scalar(d)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_are_seconds_and_units_scale_them() {
        let cases = [
            ("900", 900),
            ("0", 0),
            ("30s", 30),
            ("15m", 900),
            ("1h", 3_600),
            ("30d", 2_592_000),
            (" 7d ", 604_800),
            ("10 m", 600),
        ];
        for (text, secs) in cases {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_text_it_was_given() {
        for text in [
            "",
            "abc",
            "m",
            "15 minutes",
            "1h30m",
            "-5",
            "1.5h",
            "15M",
            "10ms",
            "99999999999999999999",
            "18446744073709551615d",
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with(&format!("{text:?} is not a duration")),
                "{err}"
            );
        }
    }

    #[test]
    fn formatting_picks_the_largest_exact_unit_and_parses_back() {
        for (secs, text) in [
            (900, "15m"),
            (2_592_000, "30d"),
            (10, "10s"),
            (0, "0s"),
            (90, "90s"),
        ] {
            let duration = Duration::from_secs(secs);
            assert_eq!(format(duration), text);
            assert_eq!(parse(text), Ok(duration));
        }
    }
}
