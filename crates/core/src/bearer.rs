//! The `Authorization` request header: `Bearer <token>` (RFC 6750 §2.1).

use crate::Error;

/// The token in an `Authorization` header value: the scheme `Bearer` in any case, a space,
/// then the token with surrounding whitespace removed. Any other scheme, or none, is
/// `missing_token`: such a request has not presented a bearer token. The token itself is
/// not checked here; verification refuses anything that is not a token we signed.
pub fn bearer_token(value: &str) -> Result<&str, Error> {
    value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(Error::MissingToken)
}

/// The bearer token of a request, from all its `Authorization` header values (`None` for a
/// value that is not valid text). `Ok(None)` when there is no such header. Two or more
/// headers are refused as `malformed_token`: a proxy and the app may each read a different
/// one, and guessing which the client meant is how confusion attacks win.
pub fn from_headers<'a>(
    mut values: impl Iterator<Item = Option<&'a str>>,
) -> Result<Option<&'a str>, Error> {
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::MalformedToken);
    }
    first
        .ok_or(Error::MissingToken)
        .and_then(bearer_token)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_after_the_scheme_in_any_case() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(bearer_token("bEARER  abc "), Ok("abc"));
        assert_eq!(
            bearer_token("Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
            Err(Error::MissingToken)
        );
        assert_eq!(bearer_token("Bearer"), Err(Error::MissingToken));
        assert_eq!(bearer_token("Bearerabc"), Err(Error::MissingToken));
    }

    #[test]
    fn one_header_at_most() {
        assert_eq!(from_headers([].into_iter()), Ok(None));
        assert_eq!(from_headers([Some("Bearer a")].into_iter()), Ok(Some("a")));
        assert_eq!(from_headers([None].into_iter()), Err(Error::MissingToken));
        assert_eq!(
            from_headers([Some("Bearer a"), Some("Bearer a")].into_iter()),
            Err(Error::MalformedToken)
        );
        assert_eq!(
            from_headers([Some("Bearer a"), None].into_iter()),
            Err(Error::MalformedToken)
        );
    }
}
