//! What an import did: counts, every refused row with where it was and why, and the exit
//! status a script can act on.
//!
//! The exit status is part of the command's contract (README, "Importing users"): 0 when
//! every row was imported or was already here, 3 when some rows were refused (the rest were
//! imported), 1 when the import stopped part-way (what was written before stays).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::{Origin, Refusal};

/// Every row imported or already here.
pub const EXIT_OK: u8 = 0;
/// The import stopped: the source could not be read, or a batch could not be written.
pub const EXIT_STOPPED: u8 = 1;
/// It ran to the end, but some rows were refused.
pub const EXIT_REFUSED: u8 = 3;

#[derive(Debug, Default)]
pub struct Report {
    /// Nothing was written: the numbers are what a real run would do.
    pub dry_run: bool,
    /// Rows read from the source (blank lines aside).
    pub read: u64,
    pub inserted: u64,
    /// Already here with the same id and address, left as they are.
    pub unchanged: u64,
    /// Of those inserted, the users who had no password (another provider's sign-in
    /// only): they set one with "forgot password".
    pub without_password: u64,
    pub refused: Vec<(Origin, Refusal)>,
    /// Something of a row left out (a name, a picture) without refusing the user.
    pub notes: Vec<(Origin, String)>,
    pub sessions: SessionCounts,
    pub elapsed: Duration,
    /// Why the import stopped before the end.
    pub failure: Option<String>,
}

/// Imported sessions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionCounts {
    pub inserted: u64,
    /// Imported before (one already exchanged stays spent).
    pub unchanged: u64,
    /// Over at the time of the import: left out.
    pub expired: u64,
    /// Of users who were refused: left out.
    pub of_refused: u64,
    /// Imported by an earlier run, not exchanged, and over in the source since (or their
    /// user was refused this time): ended.
    pub ended: u64,
}

impl SessionCounts {
    fn any(&self) -> bool {
        self.inserted + self.unchanged + self.expired + self.of_refused + self.ended > 0
    }
}

impl Report {
    pub fn new(dry_run: bool) -> Report {
        Report {
            dry_run,
            ..Report::default()
        }
    }

    pub fn refuse(&mut self, origin: Origin, refusal: Refusal) {
        self.refused.push((origin, refusal));
    }

    pub fn note(&mut self, origin: &Origin, note: String) {
        self.notes.push((origin.clone(), note));
    }

    /// How many rows were refused for `code`.
    pub fn refused_for(&self, code: &str) -> usize {
        self.refused.iter().filter(|(_, r)| r.code == code).count()
    }

    /// 0, 1 or 3: see the module's header.
    pub fn exit_code(&self) -> u8 {
        if self.failure.is_some() {
            EXIT_STOPPED
        } else if self.refused.is_empty() {
            EXIT_OK
        } else {
            EXIT_REFUSED
        }
    }

    /// One line: `imported 99,998 users, 2 unchanged, 1 refused (1 unsupported_password_hash)
    /// in 3.2 s`, with the sessions when there were any.
    pub fn summary(&self) -> String {
        let mut line = String::new();
        let verb = if self.dry_run {
            "dry run: would import"
        } else {
            "imported"
        };
        let _ = write!(
            line,
            "{verb} {} users, {} unchanged, {} refused",
            thousands(self.inserted),
            thousands(self.unchanged),
            thousands(self.refused.len() as u64)
        );
        if !self.refused.is_empty() {
            let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
            for (_, refusal) in &self.refused {
                *codes.entry(refusal.code).or_default() += 1;
            }
            let codes: Vec<String> = codes
                .into_iter()
                .map(|(code, n)| format!("{} {code}", thousands(n)))
                .collect();
            let _ = write!(line, " ({})", codes.join(", "));
        }
        if self.without_password > 0 {
            let _ = write!(
                line,
                ", {} without a password",
                thousands(self.without_password)
            );
        }
        let s = &self.sessions;
        if s.any() {
            let _ = write!(
                line,
                "; sessions: {} imported, {} unchanged, {} expired, {} of refused users",
                thousands(s.inserted),
                thousands(s.unchanged),
                thousands(s.expired),
                thousands(s.of_refused)
            );
            if s.ended > 0 {
                let _ = write!(line, ", {} ended since the last run", thousands(s.ended));
            }
        }
        if !self.dry_run && self.failure.is_none() && self.inserted + s.inserted + s.ended == 0 {
            line.push_str("; nothing changed");
        }
        let _ = write!(line, " in {:.1} s", self.elapsed.as_secs_f64());
        line
    }

    /// Every refusal and note, one per line, then the failure if any, then the summary.
    /// What came from the source is [`escaped`]: one line per row, and nothing a terminal
    /// would act on.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (origin, refusal) in &self.refused {
            let detail = escaped(&refusal.detail);
            let _ = writeln!(out, "{origin}: {}: {detail}", refusal.code);
        }
        for (origin, note) in &self.notes {
            let _ = writeln!(out, "{origin}: {}", escaped(note));
        }
        if let Some(failure) = &self.failure {
            let _ = writeln!(out, "import stopped: {}", escaped(failure));
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }
}

/// `text` as it may be printed to an operator's terminal: control characters (an escape
/// sequence in an id read from another system could rewrite the screen) and the marks that
/// reorder text (U+202E would show an id backwards) written as `\u{1b}`, the rest as it is.
pub fn escaped(text: &str) -> String {
    let reorders = |c: char| matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || reorders(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(99_998), "99,998");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_summary_counts_refusals_by_code_and_the_exit_status_follows() {
        let mut report = Report {
            inserted: 99_998,
            unchanged: 2,
            elapsed: Duration::from_millis(3_240),
            ..Report::default()
        };
        assert_eq!(report.exit_code(), EXIT_OK);
        report.refuse(
            Origin::Line(17),
            Refusal::new("unsupported_password_hash", "md5"),
        );
        assert_eq!(
            report.summary(),
            "imported 99,998 users, 2 unchanged, 1 refused (1 unsupported_password_hash) in 3.2 s"
        );
        assert_eq!(report.exit_code(), EXIT_REFUSED);
        report.failure = Some("the database went away".into());
        assert_eq!(report.exit_code(), EXIT_STOPPED);
    }

    #[test]
    fn control_characters_from_a_source_are_printed_escaped() {
        let mut report = Report::default();
        report.refuse(
            Origin::Id("ab\u{1b}[2Jcd\n".into()),
            Refusal::new("invalid_email", "\u{1b}]0;x\u{7}"),
        );
        let out = report.render();
        assert!(
            out.starts_with("id ab\\u{1b}[2Jcd\\u{a}: invalid_email: \\u{1b}]0;x\\u{7}\n"),
            "{out}"
        );
        assert_eq!(escaped("Zoë <z@example.com>"), "Zoë <z@example.com>");
        assert_eq!(escaped("ab\u{202e}cd"), "ab\\u{202e}cd");
    }

    #[test]
    fn a_rerun_that_changes_nothing_says_so() {
        let report = Report {
            unchanged: 3,
            ..Report::default()
        };
        assert_eq!(
            report.summary(),
            "imported 0 users, 3 unchanged, 0 refused; nothing changed in 0.0 s"
        );
    }
}
