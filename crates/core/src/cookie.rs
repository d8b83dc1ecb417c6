//! The auth cookies: their names, the exact `Set-Cookie` lines, and reading them back.
//!
//! On HTTPS the names carry the `__Host-` prefix, which browsers only accept with `Secure`,
//! `Path=/` and no `Domain`: a sibling subdomain cannot plant or overwrite them. Plain
//! `http://` is allowed for loopback hosts only (development), where the prefix cannot be
//! used. The server and the npm package both build cookies here, so they are byte-identical.

use crate::Error;

/// Which of the two auth cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieKind {
    /// The access token (a JWT), lifetime of the access token.
    Access,
    /// The refresh token, lifetime of the session.
    Refresh,
}

impl CookieKind {
    /// The error a bad cookie of this kind is reported as.
    fn malformed(self) -> Error {
        match self {
            CookieKind::Access => Error::MalformedToken,
            CookieKind::Refresh => Error::InvalidRefreshToken,
        }
    }
}

/// How cookies are written for one deployment: secure (HTTPS) or loopback development.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    secure: bool,
}

impl Cookies {
    pub const SECURE: Cookies = Cookies { secure: true };
    pub const LOCALHOST: Cookies = Cookies { secure: false };

    /// The cookie mode for an app served at `public_url`: `https://…` is secure;
    /// `http://` is accepted only for `localhost`, `127.0.0.1` and `[::1]`, where browsers
    /// treat the origin as potentially trustworthy.
    pub fn for_public_url(public_url: &str) -> Result<Cookies, Error> {
        let lower = public_url.trim().to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Ok(Cookies::SECURE);
        }
        let Some(rest) = lower.strip_prefix("http://") else {
            return Err(Error::InvalidRequest(
                "the public URL must start with https:// (or http:// for localhost)".into(),
            ));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
            None => authority.split(':').next().map(str::to_owned),
        };
        match host.as_deref() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(Cookies::LOCALHOST),
            _ => Err(Error::InvalidRequest(
                "plain http:// is only allowed for localhost; use https://".into(),
            )),
        }
    }

    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The cookie's name in this mode.
    pub fn name(&self, kind: CookieKind) -> &'static str {
        match (self.secure, kind) {
            (true, CookieKind::Access) => "__Host-latchkey.at",
            (true, CookieKind::Refresh) => "__Host-latchkey.rt",
            (false, CookieKind::Access) => "latchkey.at",
            (false, CookieKind::Refresh) => "latchkey.rt",
        }
    }

    /// The `Set-Cookie` value that stores `value` for `max_age_secs` seconds.
    ///
    /// `value` must be cookie-safe (the tokens are base64url and dots); anything else is
    /// refused rather than escaped, so no header can be split or smuggled.
    pub fn set(&self, kind: CookieKind, value: &str, max_age_secs: i64) -> Result<String, Error> {
        if value.is_empty() || !value.bytes().all(is_token_byte) {
            return Err(kind.malformed());
        }
        Ok(self.line(kind, value, max_age_secs.max(0)))
    }

    /// The `Set-Cookie` value that deletes the cookie.
    pub fn clear(&self, kind: CookieKind) -> String {
        self.line(kind, "", 0)
    }

    fn line(&self, kind: CookieKind, value: &str, max_age_secs: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly{secure}; SameSite=Lax",
            self.name(kind)
        )
    }

    /// Reads this kind's cookie from a `Cookie` header value. `Ok(None)` when absent.
    ///
    /// A name sent twice with different values is refused: it means another cookie was
    /// planted beside ours (e.g. for another path), and guessing which one is ours is how
    /// session-fixation attacks win.
    pub fn read<'a>(
        &self,
        cookie_header: &'a str,
        kind: CookieKind,
    ) -> Result<Option<&'a str>, Error> {
        let name = self.name(kind);
        let mut found: Option<&str> = None;
        for (n, v) in parse_cookie_header(cookie_header) {
            if n != name {
                continue;
            }
            match found {
                Some(previous) if previous != v => return Err(kind.malformed()),
                _ => found = Some(v),
            }
        }
        match found {
            Some("") | None => Ok(None),
            Some(v) if v.bytes().all(is_token_byte) => Ok(Some(v)),
            Some(_) => Err(kind.malformed()),
        }
    }
}

/// The `name=value` pairs of a `Cookie` header, in order. Pairs without `=` are skipped;
/// values may be wrapped in double quotes (RFC 6265), which are removed.
pub fn parse_cookie_header(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some((name.trim(), value))
    })
}

/// base64url, plus `.` for JWTs: everything our cookie values are made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
}

#[cfg(test)]
mod tests;
