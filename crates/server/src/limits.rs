//! Limits on every request: the body size (anything over 1 MiB is refused with 413 before
//! it is parsed), and a per-address ceiling on calls under `/api/v1/auth/`.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::auth::{bucket_of, client_addr};
use crate::error::ApiError;
use crate::limiter::Limit;
use crate::state::AppState;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Buffers the body up to the limit (a declared `Content-Length` over it fails at once; a
/// chunked body fails as soon as it crosses it), so no handler ever sees more. A body
/// declared with two `Content-Type` headers is refused (415) before it is read. GET, HEAD,
/// DELETE and OPTIONS carry no body in this API; theirs is never read, so never buffered.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    use poem::http::Method;
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    ) {
        return Ok(next.call(req).await?.into_response());
    }
    // Two Content-Type headers: the body's type is whichever one a reader happens to take,
    // so neither is trusted.
    if req
        .headers()
        .get_all(poem::http::header::CONTENT_TYPE)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(ApiError(latchkey_core::Error::UnsupportedMediaType).into());
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

/// The ceiling on auth calls per client address (`auth_ip`, 100 per 10 s by default), before
/// any handler runs. Health, JWKS and the contract are outside `/api/v1/auth/`, so exempt.
pub async fn limit_auth_calls<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    if req.uri().path().starts_with("/api/v1/auth/")
        && let Some(state) = req.data::<Arc<AppState>>()
    {
        let bucket = bucket_of(client_addr(&req));
        state
            .limiter
            .check(Limit::AuthIp, &bucket)
            .await
            .map_err(|e| poem::Error::from(ApiError(e)))?;
    }
    Ok(next.call(req).await?.into_response())
}
