//! The password policy, following NIST SP 800-63B: length, a blocklist, no composition rules.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::{Email, Error};

/// The ~11,600 most common passwords of 8+ characters (from zxcvbn's frequency list, MIT).
/// Shorter entries are left out: the length rule refuses them before the list is consulted.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().filter(|l| !l.is_empty()).collect())
}

/// How long a password must be, in Unicode code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_chars: usize,
}

impl PasswordPolicy {
    /// NIST's floor; the configurable minimum may rise above it, never fall below.
    pub const FLOOR: usize = 8;
    /// Long enough for any passphrase, short enough that hashing stays cheap to bound.
    pub const MAX_CHARS: usize = 128;
    /// A local part shorter than this is too generic to ban ("jo" would ban "joker12345").
    const MIN_LOCAL_TO_BAN: usize = 3;

    pub fn new(min_chars: usize) -> Result<Self, Error> {
        if !(Self::FLOOR..=Self::MAX_CHARS).contains(&min_chars) {
            return Err(Error::InvalidPasswordPolicy {
                floor: Self::FLOOR,
                max: Self::MAX_CHARS,
            });
        }
        Ok(PasswordPolicy { min_chars })
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Checks `password` for the account `email`; the error names the first rule it breaks.
    pub fn check(&self, password: &str, email: &Email) -> Result<(), Error> {
        let chars = password.chars().count();
        if chars < self.min_chars {
            return Err(Error::PasswordTooShort {
                min: self.min_chars,
            });
        }
        if chars > Self::MAX_CHARS {
            return Err(Error::PasswordTooLong {
                max: Self::MAX_CHARS,
            });
        }
        let lowered = password.to_lowercase();
        if common_passwords().contains(lowered.as_str()) {
            return Err(Error::PasswordTooCommon);
        }
        // "ann.lee+news" → check "ann.lee": the tag is not part of the person's name.
        let local = email.local_part();
        let local = local.split('+').next().unwrap_or(local).to_lowercase();
        if local.chars().count() >= Self::MIN_LOCAL_TO_BAN && lowered.contains(&local) {
            return Err(Error::PasswordContainsEmail);
        }
        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_chars: Self::FLOOR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("ann.lee@example.com").unwrap()
    }

    #[test]
    fn the_blocklist_has_at_least_ten_thousand_entries() {
        assert!(
            common_passwords().len() >= 10_000,
            "{}",
            common_passwords().len()
        );
    }

    #[test]
    fn the_floor_cannot_go_below_eight() {
        let invalid = Err(Error::InvalidPasswordPolicy { floor: 8, max: 128 });
        assert_eq!(PasswordPolicy::new(7), invalid);
        assert_eq!(PasswordPolicy::new(129), invalid);
        assert_eq!(PasswordPolicy::new(12).unwrap().min_chars(), 12);
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        let policy = PasswordPolicy::default();
        // 7 code points, 28 bytes: too short.
        assert_eq!(
            policy.check("🦀🦀🦀🦀🦀🦀🦀", &email()),
            Err(Error::PasswordTooShort { min: 8 })
        );
        assert_eq!(policy.check("🦀🦀🦀🦀🦀🦀🦀🦀", &email()), Ok(()));
        let long = "ü".repeat(129);
        assert_eq!(
            policy.check(&long, &email()),
            Err(Error::PasswordTooLong { max: 128 })
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check("password", &email()),
            Err(Error::PasswordTooCommon)
        );
        assert_eq!(
            policy.check("PassWord1", &email()),
            Err(Error::PasswordTooCommon)
        );
    }

    #[test]
    fn a_password_containing_the_email_name_is_refused() {
        let policy = PasswordPolicy::default();
        let plus = Email::parse("Ann.Lee+news@example.com").unwrap();
        assert_eq!(
            policy.check("my ANN.LEE rocks", &plus),
            Err(Error::PasswordContainsEmail)
        );
        let short = Email::parse("jo@example.com").unwrap();
        assert_eq!(policy.check("jolly roger sails", &short), Ok(()));
    }
}

#[cfg(test)]
mod vector_tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Case {
        password: String,
        email: String,
        min_chars: Option<usize>,
        expect: String,
    }

    #[test]
    fn every_shared_password_vector_gives_its_expected_answer() {
        let raw = include_str!("../../../tests/vectors/password-policy.json");
        let vectors: Vectors = serde_json::from_str(raw).unwrap();
        for case in vectors.cases {
            let policy = PasswordPolicy::new(case.min_chars.unwrap_or(8)).unwrap();
            let email = Email::parse(&case.email).unwrap();
            let got = match policy.check(&case.password, &email) {
                Ok(()) => "ok",
                Err(e) => e.code(),
            };
            assert_eq!(got, case.expect, "password {:?}", case.password);
        }
    }
}
