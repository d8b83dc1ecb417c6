//! Free-text fields: trimmed, and free of control characters, which no name or title needs
//! and which PostgreSQL refuses outright (NUL) — so they are a clear 400 here, never a 500.

use latchkey_core::Error;

/// A one-line field such as a name or a title.
pub fn plain_text(field: &str, value: &str) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// A multi-line field such as a description: newlines and tabs are allowed.
pub fn multiline_text(field: &str, value: &str) -> Result<String, Error> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::InvalidRequest(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_line_breaks_are_refused_in_one_line_fields() {
        assert!(plain_text("title", "a\u{0}b").is_err());
        assert!(plain_text("title", "a\r\nb").is_err());
        assert_eq!(plain_text("title", "  Buy milk ").unwrap(), "Buy milk");
        assert!(multiline_text("description", "line 1\nline 2").is_ok());
        assert!(multiline_text("description", "nul \u{0}").is_err());
    }
}
