//! Errors become HTTP here, and only here.
//!
//! Handlers return [`Failure<S>`], a core [`Error`] tagged with the set `S` of statuses the
//! operation documents; [`status_of`] decides the status; [`into_json_response`] writes the
//! one error shape, `{"error": code, "message": text}`. Errors raised by poem itself (bad
//! JSON, wrong content type, unknown route) are rewritten into the same shape by
//! [`normalize`], installed around the whole app. A 5xx logs its detail and answers with a
//! generic body.

use std::marker::PhantomData;

use latchkey_core::Error;
use latchkey_store::StoreError;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Object)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `invalid_credentials`, `token_expired`, `email_taken`,
    /// `password_too_short`, `not_found`, `invalid_request`. Match on this, not on `message`.
    pub error: String,
    /// A human-readable sentence; wording may change between releases.
    pub message: String,
}

/// The HTTP status for each error: the one mapping in the codebase.
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::InvalidEmail { .. }
        | Error::PasswordTooShort { .. }
        | Error::PasswordTooLong { .. }
        | Error::PasswordTooCommon
        | Error::PasswordContainsEmail
        | Error::InvalidRequest(_) => StatusCode::BAD_REQUEST,
        e if e.is_token_error() => StatusCode::UNAUTHORIZED,
        Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::EmailTaken => StatusCode::CONFLICT,
        Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
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
    let body = serde_json::json!({ "error": error.code(), "message": message });
    let mut response = poem::web::Json(body).with_status(status).into_response();
    if status == StatusCode::UNAUTHORIZED && error.is_token_error() {
        response.headers_mut().insert(
            "www-authenticate",
            poem::http::HeaderValue::from_static("Bearer"),
        );
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

impl<S> From<StoreError> for Failure<S> {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "store failure");
        Error::Internal.into()
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

/// A set of error statuses an operation can answer with.
pub trait Statuses: Send + Sync + 'static {
    const STATUSES: &'static [u16];
}

/// Declares a marker type listing the error statuses of one or more operations.
#[macro_export]
macro_rules! statuses {
    ($($name:ident = [$($status:literal),+ $(,)?];)+) => {$(
        pub struct $name;
        impl $crate::error::Statuses for $name {
            const STATUSES: &'static [u16] = &[$($status),+];
        }
    )+};
}

fn describe(status: u16) -> &'static str {
    match status {
        400 => {
            "The input breaks a rule; `error` names it (e.g. `invalid_email`, `password_too_short`, `invalid_request`)."
        }
        401 => {
            "Not authenticated: `missing_token`, `malformed_token`, `invalid_signature`, `token_expired`, `session_revoked`, `invalid_credentials`, …"
        }
        404 => "No such resource for this user (`not_found`).",
        409 => "Conflicts with existing data (`email_taken`).",
        413 => "The request body is over 1 MiB (`payload_too_large`).",
        415 => "The request body is not `application/json` (`unsupported_media_type`).",
        503 => "A dependency (the database) is unavailable (`unavailable`).",
        _ => "An unexpected server error (`internal_error`); the details are in the server log.",
    }
}

impl<S: Statuses> ApiResponse for Failure<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::STATUSES
                .iter()
                .map(|&status| MetaResponse {
                    description: describe(status),
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
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
        StatusCode::METHOD_NOT_ALLOWED => {
            return json_status(
                status,
                "method_not_allowed",
                "This method is not allowed here.",
            );
        }
        s if s.is_client_error() => Error::InvalidRequest(redact_values(&err.to_string())),
        _ => {
            tracing::error!(error = %err, "unhandled error");
            Error::Internal
        }
    };
    into_json_response(&error)
}

fn json_status(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message });
    poem::web::Json(body).with_status(status).into_response()
}

/// Parse errors quote the offending value (serde: "invalid type: integer `12345678`, expected
/// a string"; poem-openapi: "Expected input type \"string\", found [12345678]"). A password
/// sent with the wrong type must not come back in an error body, so values are cut out.
fn redact_values(message: &str) -> String {
    // (what introduces a value, how much of that to keep, what follows the value)
    const VALUES: [(&str, usize, &str); 3] = [
        ("invalid type: ", 12, ", expected"),
        ("invalid value: ", 13, ", expected"),
        (", found ", 0, ". (occurred"),
    ];
    let mut out = message.to_owned();
    for (intro, keep, follow) in VALUES {
        let mut searched = 0;
        while let Some(at) = out[searched..].find(intro).map(|i| searched + i) {
            let value_start = at + intro.len();
            let value_end = out[value_start..]
                .find(follow)
                .map_or(out.len(), |i| value_start + i);
            out.replace_range(at + keep..value_end, "");
            searched = at;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_the_offending_value_but_keeps_the_expectation() {
        assert_eq!(
            redact_values("parse error: invalid type: integer `12345678`, expected a string"),
            "parse error: invalid type, expected a string"
        );
        assert_eq!(
            redact_values("missing field `password`"),
            "missing field `password`"
        );
        assert_eq!(
            redact_values("invalid value: string \"x\""),
            "invalid value"
        );
        assert_eq!(
            redact_values(
                "Expected input type \"string\", found [1234]. (occurred while parsing \"X\")"
            ),
            "Expected input type \"string\". (occurred while parsing \"X\")"
        );
    }

    #[test]
    fn every_core_error_has_a_status_and_only_internal_ones_are_5xx() {
        assert_eq!(status_of(&Error::EmailTaken), StatusCode::CONFLICT);
        assert_eq!(status_of(&Error::TokenExpired), StatusCode::UNAUTHORIZED);
        assert_eq!(
            status_of(&Error::Internal),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            status_of(&Error::WeakSecret { min: 32 }),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
