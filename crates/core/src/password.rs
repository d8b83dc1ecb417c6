//! The password policy, following NIST SP 800-63B: length, a blocklist, no composition rules,
//! and no context-specific words (§5.1.1.2 of 800-63B-3: "the name of the service, the
//! username, and derivatives thereof"): the email's name part, the user's display name, the
//! product's name and the operator's own list.

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

/// How long a password must be, in Unicode code points, and the site's context words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_chars: usize,
    /// The product's name and the operator's words, as [`fragments`]: what no password on
    /// this site may contain.
    site_words: Vec<String>,
}

impl PasswordPolicy {
    /// NIST's floor; the configurable minimum may rise above it, never fall below.
    pub const FLOOR: usize = 8;
    /// Long enough for any passphrase, short enough that hashing stays cheap to bound.
    pub const MAX_CHARS: usize = 128;
    /// A local part shorter than this is too generic to ban ("jo" would ban "joker12345").
    const MIN_LOCAL_TO_BAN: usize = 3;
    /// A context word, or a word of one, shorter than this is too generic to ban ("Ann Lee"
    /// bans "annlee", not "ann", which would ban "annual report").
    const MIN_WORD_TO_BAN: usize = 4;

    pub fn new(min_chars: usize) -> Result<Self, Error> {
        if !(Self::FLOOR..=Self::MAX_CHARS).contains(&min_chars) {
            return Err(Error::InvalidPasswordPolicy {
                floor: Self::FLOOR,
                max: Self::MAX_CHARS,
            });
        }
        Ok(PasswordPolicy {
            min_chars,
            site_words: Vec::new(),
        })
    }

    /// The policy with these site-wide context words (the product's name, the operator's
    /// list) banned too. Each word bans itself and its parts of four characters or more,
    /// whatever the case, spaces or punctuation.
    pub fn with_context_words<'a>(mut self, words: impl IntoIterator<Item = &'a str>) -> Self {
        for word in words {
            for fragment in fragments(word) {
                if !self.site_words.contains(&fragment) {
                    self.site_words.push(fragment);
                }
            }
        }
        self
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Checks `password` for the account `email`; the error names the first rule it breaks.
    pub fn check(&self, password: &str, email: &Email) -> Result<(), Error> {
        self.check_for(password, email, None)
    }

    /// As [`PasswordPolicy::check`], for an account that also has a display name.
    pub fn check_for(
        &self,
        password: &str,
        email: &Email,
        name: Option<&str>,
    ) -> Result<(), Error> {
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
        // Compared without case, spaces or punctuation: "Latch-Key 2024" contains "latchkey".
        let squashed = squash(password);
        let name_words = name.map(fragments).unwrap_or_default();
        if self
            .site_words
            .iter()
            .chain(&name_words)
            .any(|word| squashed.contains(word.as_str()))
        {
            return Err(Error::PasswordContainsContext);
        }
        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_chars: Self::FLOOR,
            site_words: Vec::new(),
        }
    }
}

/// Lower-case letters and digits only.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a context word bans: the whole word squashed ("Latchkey Cloud" → "latchkeycloud"),
/// and each of its parts ("latchkey", "cloud"), those of at least four characters.
fn fragments(word: &str) -> Vec<String> {
    let whole = squash(word);
    let parts = word.split(|c: char| !c.is_alphanumeric()).map(squash);
    let mut out: Vec<String> = Vec::new();
    for fragment in std::iter::once(whole).chain(parts) {
        if fragment.chars().count() >= PasswordPolicy::MIN_WORD_TO_BAN && !out.contains(&fragment) {
            out.push(fragment);
        }
    }
    out
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

    #[test]
    fn the_product_name_and_the_operators_words_are_refused_in_any_spelling() {
        let policy = PasswordPolicy::default().with_context_words(["Acme Cloud", "Springfield"]);
        for password in [
            "i love acme cloud",
            "ACME-CLOUD-2024",
            "my cloud is safe",
            "acme1234567",
            "Spring.Field!99",
        ] {
            assert_eq!(
                policy.check(password, &email()),
                Err(Error::PasswordContainsContext),
                "{password}"
            );
        }
        assert_eq!(policy.check("correct horse battery", &email()), Ok(()));
        // Without the words, the same passwords are fine.
        assert_eq!(
            PasswordPolicy::default().check("i love acme cloud", &email()),
            Ok(())
        );
    }

    #[test]
    fn the_users_name_is_refused_but_its_short_parts_are_not() {
        let policy = PasswordPolicy::default();
        let check = |password: &str, name: &str| policy.check_for(password, &email(), Some(name));
        assert_eq!(
            check("Marianne Smith 99", "Marianne Smith"),
            Err(Error::PasswordContainsContext)
        );
        assert_eq!(
            check("xx-marianne-xx", "Marianne Smith"),
            Err(Error::PasswordContainsContext)
        );
        assert_eq!(
            check("bo-jo-lee-annlee", "Ann Lee"),
            Err(Error::PasswordContainsContext)
        );
        // "Ann" and "Lee" alone are too generic to ban.
        assert_eq!(check("annual leeway report", "Ann Lee"), Ok(()));
        assert_eq!(check("annual leeway report", ""), Ok(()));
        // The email's name part keeps its own, more precise code.
        assert_eq!(
            check("ann.lee rocks", "Ann Lee"),
            Err(Error::PasswordContainsEmail)
        );
    }

    #[test]
    fn short_or_empty_context_words_ban_nothing() {
        let policy = PasswordPolicy::default().with_context_words(["", "  ", "ab", "x y z"]);
        assert_eq!(policy.check("abcdefgh xyz", &email()), Ok(()));
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
        /// The user's display name.
        #[serde(default)]
        name: Option<String>,
        /// The site's context words (the product's name, the operator's list).
        #[serde(default)]
        context_words: Vec<String>,
        expect: String,
    }

    #[test]
    fn every_shared_password_vector_gives_its_expected_answer() {
        let raw = include_str!("../../../tests/vectors/password-policy.json");
        let vectors: Vectors = serde_json::from_str(raw).unwrap();
        for case in vectors.cases {
            let policy = PasswordPolicy::new(case.min_chars.unwrap_or(8))
                .unwrap()
                .with_context_words(case.context_words.iter().map(String::as_str));
            let email = Email::parse(&case.email).unwrap();
            let got = match policy.check_for(&case.password, &email, case.name.as_deref()) {
                Ok(()) => "ok",
                Err(e) => e.code(),
            };
            assert_eq!(got, case.expect, "password {:?}", case.password);
        }
    }
}
