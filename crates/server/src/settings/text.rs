//! Reading a setting's value the same way whichever layer gave it.
//!
//! The environment and the command line give text; the file gives TOML values. Every leaf
//! that is not plain text is read here from its text form, so `max_sessions = 50` in the
//! file, `LATCHKEY_MAX_SESSIONS=50` and `--max-sessions 50` cannot mean different things,
//! and one parser per kind writes the error message.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// The value's text: a string as it is, a number or a boolean as written. Lists and tables
/// are refused.
pub fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Scalar)
}

struct Scalar;

impl Visitor<'_> for Scalar {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A whole number (`u16`, `u32`…), from `50` or `"50"`.
pub mod whole {
    use std::str::FromStr;

    use serde::{Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<T, D::Error> {
        let text = super::scalar(d)?;
        super::parse_whole(&text).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer, T: Serialize>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

/// As [`whole`], for a setting that may be left unset.
pub mod whole_option {
    use std::str::FromStr;

    use serde::{Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr,
    {
        super::whole::deserialize(d).map(Some)
    }

    pub fn serialize<S, T>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
    {
        value.serialize(s)
    }
}

fn parse_whole<T: FromStr>(text: &str) -> Result<T, String> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a whole number"));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is too large a number"))
}

/// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`, in any case).
pub mod boolean {
    use serde::{Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let text = super::scalar(d)?;
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "{text:?} is not true or false"
            ))),
        }
    }

    pub fn serialize<S: Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*value)
    }
}

/// A list: a TOML array of strings, or comma-separated text (`a,b`). Items are trimmed and
/// empty ones dropped, so `LATCHKEY_TRUSTED_ORIGINS=` is an empty list.
pub mod list {
    use serde::{Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let items = d.deserialize_any(super::List)?;
        Ok(items
            .iter()
            .flat_map(|item| item.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect())
    }

    pub fn serialize<S: Serializer>(value: &[String], s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

struct List;

impl<'de> Visitor<'de> for List {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of strings, or comma-separated text")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(vec![v.to_owned()])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<String>()? {
            items.push(item);
        }
        Ok(items)
    }
}

/// Implements text parsing for a settings enum: `FromStr` (any case), `Display`, and serde
/// through them, so the file, the environment and flags all accept the same names.
macro_rules! choices {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            /// Every accepted name, for help and error messages.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
        }

        impl std::str::FromStr for $type {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                $(if text.trim().eq_ignore_ascii_case($name) {
                    return Ok($type::$variant);
                })+
                Err(format!("{text:?} is not one of {}", Self::NAMES.join(", ")))
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self { $($type::$variant => $name),+ })
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::settings::text::scalar(d)?.parse().map_err(serde::de::Error::custom)
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

pub(crate) use choices;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_digits_only() {
        assert_eq!(parse_whole::<u16>(" 50 "), Ok(50));
        assert!(
            parse_whole::<u16>("-1")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(
            parse_whole::<u16>("5e3")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(
            parse_whole::<u16>("70000")
                .unwrap_err()
                .contains("too large")
        );
    }
}
