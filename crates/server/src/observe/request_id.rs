//! Request ids. A client could send any `X-Request-Id`, and a forged one could make its
//! requests read like someone else's in the log, so the header is taken only from a trusted
//! proxy (the peer LATCHKEY_TRUSTED_PROXIES names, the same decision that lets a proxy name
//! the client's address), and only when it is short and plain. Otherwise the server makes
//! one.

use std::fmt;

use latchkey_core::random;

/// The header that carries the id, in and out.
pub const HEADER: &str = "x-request-id";

/// The longest id taken from a proxy; nginx's `$request_id` is 32, a UUID 36.
const MAX_LEN: usize = 128;

/// One request's id: 1 to 128 characters of `A-Z a-z 0-9 - _ . : @`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

tokio::task_local! {
    /// The id of the request the current task is serving.
    static CURRENT: RequestId;
}

impl RequestId {
    /// `text` as an id, if it is one: nothing a log reader or a header could misread.
    pub fn parse(text: &str) -> Option<RequestId> {
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@');
        (!text.is_empty() && text.len() <= MAX_LEN && text.chars().all(plain))
            .then(|| RequestId(text.to_owned()))
    }

    /// A fresh id: 128 random bits as 32 hex digits, nginx's `$request_id` form.
    pub fn generate() -> RequestId {
        let bytes = random::bytes::<16>().unwrap_or_else(|_| {
            // The OS refused randomness; an id only has to be unique enough to find lines.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            nanos.to_le_bytes()
        });
        RequestId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The id for a request: the proxy's header when the peer is trusted and the value is
    /// an id, else a fresh one.
    pub fn choose(header: Option<&str>, peer_is_trusted_proxy: bool) -> RequestId {
        header
            .filter(|_| peer_is_trusted_proxy)
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Runs `serve` with this id as the current request's.
    pub async fn scope<F: Future>(self, serve: F) -> F::Output {
        CURRENT.scope(self, serve).await
    }

    /// The id of the request being served, if this task is serving one.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(Clone::clone).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxys_plain_bounded_id_is_taken() {
        assert_eq!(RequestId::choose(Some("abc-123"), true).as_str(), "abc-123");
        assert_ne!(
            RequestId::choose(Some("abc-123"), false).as_str(),
            "abc-123"
        );
        for bad in ["", "a b", "a\nb", "x\"y", "é", &"a".repeat(129)] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
            assert_ne!(RequestId::choose(Some(bad), true).as_str(), bad);
        }
        assert!(RequestId::parse(&"a".repeat(128)).is_some());
    }

    #[test]
    fn generated_ids_are_32_hex_digits_and_differ() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn the_current_id_is_the_scopes_and_none_outside() {
        assert!(RequestId::current().is_none());
        let id = RequestId::parse("r1").unwrap();
        let seen = id.clone().scope(async { RequestId::current() }).await;
        assert_eq!(seen, Some(id));
    }
}
