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

/// A picture URL: `https://` or `http://`, a host, at most 2048 characters, nothing that
/// could break out of an attribute or a header (spaces, quotes, angle brackets, controls).
pub fn image_url(value: &str) -> Result<String, Error> {
    let refuse = || Error::InvalidRequest("image must be an http(s) URL".into());
    let value = value.trim();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(refuse)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let bad =
        |c: char| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\\' | '`');
    if host.is_empty() || value.len() > 2048 || value.chars().any(bad) {
        return Err(refuse());
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

    #[test]
    fn only_plain_http_urls_are_images() {
        assert_eq!(
            image_url(" https://cdn.example.com/a.png ").unwrap(),
            "https://cdn.example.com/a.png"
        );
        assert!(image_url("http://localhost:3000/me.jpg").is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://",
            "https:///path",
            "https://a.example/\"onload=\"x",
            "https://a.example/<svg>",
            "https://a.example/a b",
            "ftp://a.example/a.png",
        ] {
            assert!(image_url(bad).is_err(), "{bad}");
        }
        assert!(image_url(&format!("https://a.example/{}", "x".repeat(2048))).is_err());
    }
}
