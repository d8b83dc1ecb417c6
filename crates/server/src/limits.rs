//! The request-body limit: anything over 1 MiB is refused with 413 before it is parsed.

use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::error::ApiError;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Buffers the body up to the limit (a declared `Content-Length` over it fails at once; a
/// chunked body fails as soon as it crosses it), so no handler ever sees more. GET, HEAD,
/// DELETE and OPTIONS carry no body in this API; theirs is never read, so never buffered.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    use poem::http::Method;
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    ) {
        return Ok(next.call(req).await?.into_response());
    }
    let too_large = || poem::Error::from(ApiError(latchkey_core::Error::PayloadTooLarge));
    let declared = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let body = req.take_body();
    let bytes = body
        .into_bytes_limit(MAX_BODY_BYTES)
        .await
        .map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => too_large(),
            other => poem::Error::from(other),
        })?;
    req.set_body(bytes);
    Ok(next.call(req).await?.into_response())
}
