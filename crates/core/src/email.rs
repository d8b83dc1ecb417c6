//! Email addresses: normalised once, at the edge.

use unicode_normalization::UnicodeNormalization;

use crate::Error;

/// A syntactically plausible email address: trimmed, in Unicode NFC, with its domain
/// lower-cased.
///
/// The local part keeps its case as typed (RFC 5321 lets it matter, and users like to see
/// their address as they wrote it), but [`Email::key`] — used for lookups and uniqueness — is
/// the whole address lower-cased, because no real mail provider treats `Ann@x.io` and
/// `ann@x.io` as two people and a careful user expects one account.
///
/// NFC makes a composed and a decomposed "é" one address, not two accounts. The domain must
/// be ASCII (an internationalised domain is written in its `xn--` form): Unicode domains allow
/// look-alike hosts (`exаmple.com` with a Cyrillic `а`) that no user could tell apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;
    const MAX_LOCAL_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Error> {
        let normalized: String = raw.trim().nfc().collect();
        let trimmed = normalized.as_str();
        let invalid = |reason| Err(Error::InvalidEmail { reason });
        if trimmed.is_empty() {
            return invalid("it is empty");
        }
        if trimmed.len() > Self::MAX_LEN {
            return invalid("it is longer than 254 characters");
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
        {
            return invalid("it contains spaces, control or invisible characters");
        }
        let Some((local, domain)) = trimmed.split_once('@') else {
            return invalid("it has no @");
        };
        if domain.contains('@') {
            return invalid("it has more than one @");
        }
        if local.is_empty() || local.len() > Self::MAX_LOCAL_LEN {
            return invalid("the part before @ must be 1 to 64 characters");
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return invalid("the part before @ has a misplaced dot");
        }
        if local.chars().any(|c| "\"(),:;<>[\\]".contains(c)) {
            return invalid("the part before @ contains a character that needs quoting");
        }
        let domain = domain.to_ascii_lowercase();
        if !is_domain(&domain) {
            return invalid("the domain must be an ASCII host name (use the xn-- form)");
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    /// The address as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lookup key: the whole address lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that show as nothing or reorder the text around them: zero-width spaces and
/// joiners, the soft hyphen, bidirectional controls, fillers, tags, the byte-order mark. An
/// address holding one looks exactly like another person's (`a\u{200D}nn@…` is `ann@…` on
/// screen), so it is refused rather than becoming a look-alike account.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{61C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// At least two dot-separated labels of ASCII letters, digits and inner hyphens, none over 63.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases_the_domain_only() {
        let e = Email::parse("  Ann.Lee@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "Ann.Lee@example.com");
        assert_eq!(e.key(), "ann.lee@example.com");
        assert_eq!(e.local_part(), "Ann.Lee");
    }

    #[test]
    fn refuses_what_cannot_be_an_address() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "a@b@c.com",
            "@example.com",
            "ann@",
            "ann@localhost",
            "ann@exa mple.com",
            "ann\u{0}@example.com",
            "ann\r\n@example.com",
            "ann@example..com",
            "ann@-example.com",
            ".ann@example.com",
            "an..n@example.com",
            "<ann>@example.com",
            "ann@exаmple.com", // Cyrillic а
            "a\u{200D}nn@example.com",
            "an\u{200B}n@example.com",
            "\u{202E}ann@example.com",
            "an\u{AD}n@example.com",
            "ann\u{FEFF}@example.com",
            "ann@bücher.de",
            long.as_str(),
        ] {
            assert!(
                matches!(Email::parse(bad), Err(Error::InvalidEmail { .. })),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn composed_and_decomposed_forms_are_one_address() {
        let composed = Email::parse("jos\u{e9}@example.com").unwrap();
        let decomposed = Email::parse("jose\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(
            Email::parse("ann@xn--bcher-kva.de").unwrap().as_str(),
            "ann@xn--bcher-kva.de"
        );
    }

    #[test]
    fn the_length_limit_is_254() {
        let local = "a".repeat(64);
        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(61),
            "c".repeat(61),
            "d".repeat(61)
        );
        let ok = format!("{local}@{domain}");
        assert_eq!(ok.len(), 254);
        assert!(Email::parse(&ok).is_ok());
        let too_long = format!("{local}@x{domain}");
        assert!(Email::parse(&too_long).is_err());
    }
}
