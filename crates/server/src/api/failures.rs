//! How errors are written in the contract: the error codes as an enum, and each operation's
//! error responses.
//!
//! Every error body has one shape, [`ErrorBody`], whose `error` is an [`ErrorCode`]: the enum
//! of every stable code (`latchkey_core::error::every_variant`). Each operation lists the
//! statuses it can answer with ([`Statuses`], declared with [`statuses!`]), and each status
//! has a schema of its own (`UnauthorizedError`, …): `ErrorBody` narrowed to the codes
//! [`status_of`] maps to that status. So a client generated from the contract knows that a
//! 409 from register is `email_taken`, and a misspelt code does not type-check.
//!
//! Why per status and not a hand-made list per operation: the statuses are derived from the
//! one mapping in `error.rs`, so the narrowed enums are right by construction. A list of the
//! codes each operation can return would be written by hand, and nothing could check that a
//! flow never returns a code its list left out; a generated client that believed the list
//! would then be wrong, which is worse than being broad.
//!
//! Why each operation repeats its error responses: OpenAPI can share a response under
//! `components/responses`, but poem-openapi (5.1) writes every response inline and has no
//! place to register a shared one. What each repeats is small (a description and a `$ref`
//! to its status's schema); the schemas are shared.

use std::borrow::Cow;

use latchkey_core::Error;
use latchkey_core::error::every_variant;
use poem_openapi::ApiResponse;
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::{Value, json};

use super::json::MEDIA_TYPE;
use crate::error::{ErrorBody, Failure, status_of};

/// A stable error code, as it travels in `ErrorBody.error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct ErrorCode(pub &'static str);

impl ErrorCode {
    pub fn of(error: &Error) -> ErrorCode {
        ErrorCode(error.code())
    }
}

/// Every code, in the core's order (the order of `tests/vectors/error-codes.json`).
fn every_code() -> Vec<&'static str> {
    every_variant().iter().map(Error::code).collect()
}

/// The codes answered with `status`, in the core's order.
pub fn codes_of(status: u16) -> Vec<&'static str> {
    every_variant()
        .iter()
        .filter(|error| status_of(error).as_u16() == status)
        .map(Error::code)
        .collect()
}

impl Type for ErrorCode {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "ErrorCode".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference("ErrorCode".into())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("ErrorCode".into(), |_| MetaSchema {
            description: Some(
                "A stable snake_case code, e.g. `invalid_credentials`, `token_expired`, \
                 `email_taken`, `password_too_short`, `not_found`, `invalid_request`. Match on \
                 it, not on `message`: codes are never renamed or removed within a major \
                 version. Each operation's error responses narrow it to the codes of their \
                 status (`UnauthorizedError`, …).",
            ),
            enum_items: every_code().into_iter().map(Value::from).collect(),
            example: Some(Value::from(Error::InvalidCredentials.code())),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for ErrorCode {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        let known = value
            .as_str()
            .and_then(|text| every_code().into_iter().find(|code| *code == text));
        match known {
            Some(code) => Ok(ErrorCode(code)),
            None => Err(ParseError::expected_type(value)),
        }
    }
}

impl ToJSON for ErrorCode {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(self.0))
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
        impl $crate::api::failures::Statuses for $name {
            const STATUSES: &'static [u16] = &[$($status),+];
        }
    )+};
}

/// The name of the error schema of `status`, after its reason phrase.
fn schema_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "UnauthorizedError",
        403 => "ForbiddenError",
        404 => "NotFoundError",
        405 => "MethodNotAllowedError",
        409 => "ConflictError",
        413 => "PayloadTooLargeError",
        415 => "UnsupportedMediaTypeError",
        429 => "TooManyRequestsError",
        503 => "ServiceUnavailableError",
        _ => "InternalServerError",
    }
}

fn describe(status: u16) -> &'static str {
    match status {
        400 => {
            "The input breaks a rule; `error` names it (e.g. `invalid_email`, `password_too_short`, `invalid_request`, `invalid_or_expired_token`)."
        }
        401 => {
            "Not authenticated: `missing_token`, `malformed_token`, `invalid_signature`, `token_expired`, `session_revoked`, `session_expired`, `invalid_refresh_token`, `refresh_token_reused`, `invalid_credentials`, …"
        }
        403 => {
            "Refused: a cookie-authenticated change from an origin that is not trusted (`csrf_rejected`; send `Origin` from an origin in LATCHKEY_TRUSTED_ORIGINS, or use a bearer token), or sign-in before the address is verified (`email_not_verified`)."
        }
        404 => "No such resource for this user (`not_found`).",
        409 => "Conflicts with existing data (`email_taken`, `email_already_verified`).",
        429 => {
            "Too many requests (`rate_limited`); the `Retry-After` header says how many seconds to wait."
        }
        413 => "The request body is over 1 MiB (`payload_too_large`).",
        415 => "The request body is not `application/json` (`unsupported_media_type`).",
        503 => {
            "A dependency is unavailable: the database (`unavailable`) or the rate-limit store (`rate_limit_unavailable`)."
        }
        _ => "An unexpected server error (`internal_error`); the details are in the server log.",
    }
}

/// `ErrorBody` with `error` narrowed to the codes of `status`. An `allOf` rather than a copy,
/// so `ErrorBody` stays the one shape and generators type `error` as the narrowed union.
fn register_status(registry: &mut Registry, status: u16) {
    let codes = codes_of(status);
    let example = every_variant()
        .into_iter()
        .find(|error| status_of(error).as_u16() == status)
        .map(|error| example_body(&error));
    registry.create_schema::<ErrorBody, _>(schema_name(status).into(), |registry| {
        ErrorBody::register(registry);
        let narrowed = MetaSchema {
            required: vec!["error"],
            properties: vec![(
                "error",
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    enum_items: codes.into_iter().map(Value::from).collect(),
                    ..MetaSchema::new("string")
                })),
            )],
            ..MetaSchema::new("object")
        };
        MetaSchema {
            description: Some(describe(status)),
            all_of: vec![
                ErrorBody::schema_ref(),
                MetaSchemaRef::Inline(Box::new(narrowed)),
            ],
            example,
            ..MetaSchema::ANY
        }
    });
}

/// The body `error` is answered with, with a fixed request id.
fn example_body(error: &Error) -> Value {
    let message = if status_of(error).is_server_error() {
        "The server could not complete the request.".to_owned()
    } else {
        error.to_string()
    };
    json!({
        "error": error.code(),
        "message": message,
        "requestId": "4f3c2a1b9d8e7f60a5b4c3d2e1f00918",
    })
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
                        content_type: MEDIA_TYPE,
                        schema: MetaSchemaRef::Reference(schema_name(status).into()),
                    }],
                    headers: if status == 429 {
                        rate_limit_headers()
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        for &status in S::STATUSES {
            register_status(registry, status);
        }
    }
}

/// The headers of a 429, documented on every rate-limited operation.
fn rate_limit_headers() -> Vec<MetaHeader> {
    let header = |name: &str, description: &str| MetaHeader {
        name: name.into(),
        description: Some(description.into()),
        required: true,
        deprecated: false,
        schema: u64::schema_ref(),
    };
    vec![
        header("Retry-After", "Seconds to wait before trying again."),
        header(
            "RateLimit-Limit",
            "The limit that was reached (events per window).",
        ),
        header("RateLimit-Remaining", "Events left in the window: 0."),
        header(
            "RateLimit-Reset",
            "Seconds until the limit allows another event.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_an_operation_lists_has_codes_and_a_schema_name_of_its_own() {
        let mut names = std::collections::HashSet::new();
        for status in [400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503] {
            assert!(!codes_of(status).is_empty(), "{status} has no code");
            assert!(names.insert(schema_name(status)), "{status} shares a name");
        }
    }

    #[test]
    fn the_narrowed_enums_split_every_code_once() {
        let mut split: Vec<_> = [400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503]
            .into_iter()
            .flat_map(codes_of)
            .collect();
        split.sort_unstable();
        let mut all = every_code();
        all.sort_unstable();
        assert_eq!(split, all);
    }

    #[test]
    fn a_code_parses_only_if_it_is_one_of_the_stable_codes() {
        let parse = |v: Value| ErrorCode::parse_from_json(Some(v));
        assert_eq!(
            parse(json!("email_taken")).unwrap(),
            ErrorCode("email_taken")
        );
        assert!(parse(json!("invalid_credentails")).is_err());
        assert!(parse(json!(3)).is_err());
    }
}
