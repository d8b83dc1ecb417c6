//! Cross-site request forgery: which cookie-authenticated requests may change state.
//!
//! A browser attaches cookies to cross-site requests; a bearer header it never attaches by
//! itself. So only cookie-authenticated state changes need this check: the request must say
//! where it comes from, and that must be a trusted origin. `Origin` is sent by every current
//! browser on non-GET requests; when it is missing, `Sec-Fetch-Site: same-origin` is accepted.
//! A request that says neither is refused: it is either not from a browser (and should use a
//! bearer token) or from one too old to protect.

use crate::Error;

/// The origins allowed to make cookie-authenticated changes, serialised as browsers send
/// them: `scheme://host[:port]`, lower case, default port omitted, no path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedOrigins(Vec<String>);

impl TrustedOrigins {
    /// Parses a list of origins (e.g. from a comma-separated setting). Each must be an
    /// `http(s)://host[:port]` origin; a path, query, user info or wildcard is refused.
    pub fn parse<'a>(origins: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        let mut list = Vec::new();
        for raw in origins {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let origin = serialize_origin(raw).ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "{raw:?} is not an origin (expected scheme://host[:port])"
                ))
            })?;
            if !list.contains(&origin) {
                list.push(origin);
            }
        }
        Ok(TrustedOrigins(list))
    }

    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// The `scheme://host[:port]` part of a URL, path, query and fragment dropped: the origin
/// an app served at `url` sends. Pass it to [`TrustedOrigins::parse`].
pub fn origin_of_url(url: &str) -> &str {
    let url = url.trim();
    let authority_at = url.find("://").map_or(0, |i| i + 3);
    let end = url[authority_at..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_at + i);
    &url[..end]
}

/// True for methods that may change state (everything but GET, HEAD and OPTIONS).
pub fn is_state_changing(method: &str) -> bool {
    !matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "OPTIONS"
    )
}

/// Checks a cookie-authenticated request. `origin` and `sec_fetch_site` are the raw header
/// values, if sent. Safe methods always pass.
pub fn check(
    method: &str,
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    trusted: &TrustedOrigins,
) -> Result<(), Error> {
    if !is_state_changing(method) {
        return Ok(());
    }
    let allowed = match origin {
        // `Origin: null` (sandboxed frames, some redirects) is never trusted.
        Some(origin) => origin != "null" && trusted.contains(origin.trim()),
        None => sec_fetch_site.is_some_and(|s| s.trim().eq_ignore_ascii_case("same-origin")),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::CsrfRejected)
    }
}

/// `scheme://host[:port]` in the form browsers send, or `None` if `raw` is not an origin.
fn serialize_origin(raw: &str) -> Option<String> {
    let raw = raw.strip_suffix('/').unwrap_or(raw).to_ascii_lowercase();
    let (scheme, authority) = raw.split_once("://")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(allowed) {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    match port {
        Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => None,
        Some(p) if p == default_port => Some(format!("{scheme}://{host}")),
        Some(p) => Some(format!("{scheme}://{host}:{p}")),
        None => Some(format!("{scheme}://{host}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_origins_are_serialised_as_browsers_send_them() {
        let t = TrustedOrigins::parse([
            "https://App.Example.com/",
            "https://app.example.com:443",
            "http://localhost:3000",
            "http://[::1]:8080",
        ])
        .unwrap();
        assert_eq!(
            t.as_slice(),
            [
                "https://app.example.com",
                "http://localhost:3000",
                "http://[::1]:8080"
            ]
        );
    }

    #[test]
    fn a_urls_origin_drops_path_query_and_fragment() {
        assert_eq!(
            origin_of_url(" https://app.example.com/base/?x#y "),
            "https://app.example.com"
        );
        assert_eq!(
            origin_of_url("http://localhost:8080"),
            "http://localhost:8080"
        );
        assert_eq!(origin_of_url("http://[::1]:8080/"), "http://[::1]:8080");
    }

    #[test]
    fn anything_but_an_origin_is_refused_as_configuration() {
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "https://*.example.com",
            "https://user@app.example.com",
            "ftp://example.com",
            "https://",
            "https://host:",
            "https://host:12a",
        ] {
            assert!(TrustedOrigins::parse([bad]).is_err(), "{bad}");
        }
    }
}
