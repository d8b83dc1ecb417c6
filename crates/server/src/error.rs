//! Errors become HTTP here, and only here.
//!
//! Handlers return [`Failure<S>`], a core [`Error`] tagged with the set `S` of statuses the
//! operation documents (how they are written in the contract is `api/failures.rs`);
//! [`status_of`] decides the status; [`into_json_response`] writes the
//! one error shape, `{"error": code, "message": text, "requestId": id}`. Errors raised by poem itself (bad
//! JSON, wrong content type, unknown route) are rewritten into the same shape by
//! [`normalize`], installed around the whole app. A 5xx logs its detail and answers with a
//! generic body.

use std::marker::PhantomData;

use latchkey_core::Error;
use latchkey_store::StoreError;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;

use crate::api::failures::ErrorCode;
use crate::observe::RequestId;

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename_all = "camelCase", example)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    // No doc comment: poem-openapi would wrap the `$ref` in an `allOf` to carry it, and
    // generators then name the type less plainly. `ErrorCode`'s schema says it.
    pub error: ErrorCode,
    /// A human-readable sentence; wording may change between releases.
    pub message: String,
    /// This request's id, also in the `X-Request-Id` response header and on every server
    /// log line about it: quote it to the operator.
    pub request_id: String,
}

impl ErrorBody {
    /// The body for `code` and `message`, naming the request being served.
    pub fn new(error: &Error, message: String) -> ErrorBody {
        ErrorBody {
            error: ErrorCode::of(error),
            message,
            // Outside a request (never while serving one) an id of its own, so the field
            // is never empty.
            request_id: RequestId::current()
                .unwrap_or_else(RequestId::generate)
                .to_string(),
        }
    }
}

/// The HTTP status for each error: the one mapping in the codebase. Exhaustive on purpose:
/// a new error variant does not compile until someone decides its status.
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::InvalidEmail { .. }
        | Error::PasswordTooShort { .. }
        | Error::PasswordTooLong { .. }
        | Error::PasswordTooCommon
        | Error::PasswordContainsEmail
        | Error::PasswordContainsContext
        | Error::UnsupportedLocale
        | Error::InvalidRequest(_) => StatusCode::BAD_REQUEST,
        Error::MalformedToken
        | Error::UnsupportedAlgorithm
        | Error::ForbiddenTokenHeader
        | Error::WrongTokenType
        | Error::InvalidSignature
        | Error::InvalidClaims
        | Error::TokenExpired
        | Error::TokenNotYetValid
        | Error::UnknownKey
        | Error::MissingToken
        | Error::SessionRevoked
        | Error::SessionExpired
        | Error::InvalidRefreshToken
        | Error::RefreshTokenReused
        | Error::InvalidImportedSession
        | Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
        Error::InvalidOrExpiredToken => StatusCode::BAD_REQUEST,
        Error::CsrfRejected | Error::EmailNotVerified => StatusCode::FORBIDDEN,
        Error::EmailAlreadyVerified => StatusCode::CONFLICT,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        // The exchange is not a resource this server has until its secret is set: nothing
        // in the request can make it work, so not 400; nothing is broken, so not 5xx.
        Error::NotFound | Error::ExchangeNotConfigured => StatusCode::NOT_FOUND,
        Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Error::EmailTaken => StatusCode::CONFLICT,
        Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::Unavailable | Error::RateLimitUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        // Configuration and stored-data faults: never the client's doing.
        Error::WeakSecret { .. }
        | Error::InvalidKey
        | Error::InvalidPasswordPolicy { .. }
        | Error::UnsupportedPasswordHash
        | Error::PasswordHashTooCostly
        | Error::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON error response for `error`.
pub fn into_json_response(error: &Error) -> Response {
    let status = status_of(error);
    let message = if status.is_server_error() {
        // The detail went to the log; the client learns nothing about internals.
        "The server could not complete the request.".to_owned()
    } else {
        error.to_string()
    };
    let body = ErrorBody::new(error, message);
    let mut response = poem::web::Json(body).with_status(status).into_response();
    // RFC 7235 §3.1: every 401 names the scheme that would be accepted.
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            "www-authenticate",
            poem::http::HeaderValue::from_static("Bearer"),
        );
    }
    if let Error::RateLimited {
        retry_after_secs,
        limit,
    } = error
    {
        // Retry-After (RFC 9110) and the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers).
        let headers = response.headers_mut();
        headers.insert("retry-after", (*retry_after_secs).into());
        headers.insert("ratelimit-limit", (*limit).into());
        headers.insert("ratelimit-remaining", 0_u32.into());
        headers.insert("ratelimit-reset", (*retry_after_secs).into());
    }
    response
}

/// An error from a handler, documented in the OpenAPI document as the statuses in `S`.
pub struct Failure<S> {
    pub error: Error,
    statuses: PhantomData<S>,
}

impl<S> std::fmt::Debug for Failure<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<S> From<Error> for Failure<S> {
    fn from(error: Error) -> Self {
        Failure {
            error,
            statuses: PhantomData,
        }
    }
}

/// A store failure, logged where it becomes an [`Error`] (in the store crate).
impl<S> From<StoreError> for Failure<S> {
    fn from(err: StoreError) -> Self {
        Error::from(err).into()
    }
}

/// The carrier that lets a [`Failure`] travel as a `poem::Error` to [`normalize`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub Error);

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn as_response(&self) -> Response {
        into_json_response(&self.0)
    }
}

impl<S> From<Failure<S>> for poem::Error {
    fn from(failure: Failure<S>) -> Self {
        poem::Error::from(ApiError(failure.error))
    }
}

/// Rewrites any error that escaped a handler into the JSON error shape.
pub fn normalize(err: poem::Error) -> Response {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return into_json_response(&api.0);
    }
    let status = err.status();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => Error::MissingToken,
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        s if s.is_client_error() => {
            // The parser's text can quote the value (a password sent as a number): the log
            // gets what the client gets, never the value.
            let reason = describe_rejection(&err.to_string());
            tracing::debug!(status = s.as_u16(), %reason, "request refused");
            Error::InvalidRequest(reason)
        }
        _ => {
            tracing::error!(error = %err, "unhandled error");
            Error::Internal
        }
    };
    into_json_response(&error)
}

/// A fixed sentence for a body or parameter that did not parse. The parser's own text quotes
/// the offending value, which may be a password sent with the wrong type, so it is never
/// echoed; only a missing field's name (which comes from our schema) is passed on.
fn describe_rejection(detail: &str) -> String {
    let missing = detail
        .split_once("field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name)
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()));
    match missing {
        Some(name) if detail.contains("missing field") => {
            format!("the body does not match this operation's schema: `{name}` is missing")
        }
        _ => "the body or a parameter does not match this operation's schema (see /openapi.json)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_never_quote_the_value_only_a_missing_fields_name() {
        let typed = "parse request payload error: Expected input type \"string\", found 31415926. \
                     (occurred while parsing \"SignInRequest\")";
        assert!(!describe_rejection(typed).contains("31415926"));
        let missing = "parse request payload error: missing field `password`";
        assert!(describe_rejection(missing).contains("`password` is missing"));
        let sneaky = "missing field `hunter2 secret`";
        assert!(!describe_rejection(sneaky).contains("hunter2"));
    }

    #[test]
    fn an_unreachable_database_is_503_and_a_failed_statement_500() {
        let down = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        assert_eq!(
            status_of(&Error::from(down)),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let broken = StoreError::Database(sqlx::Error::RowNotFound);
        assert_eq!(
            status_of(&Error::from(broken)),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn only_server_side_faults_are_5xx() {
        for error in latchkey_core::error::every_variant() {
            let server_side = matches!(
                error,
                Error::WeakSecret { .. }
                    | Error::InvalidKey
                    | Error::InvalidPasswordPolicy { .. }
                    | Error::UnsupportedPasswordHash
                    | Error::PasswordHashTooCostly
                    | Error::Internal
                    | Error::Unavailable
                    | Error::RateLimitUnavailable
            );
            assert_eq!(
                status_of(&error).is_server_error(),
                server_side,
                "{error:?}"
            );
        }
    }
}
