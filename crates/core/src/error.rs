//! One error enum for the whole core, with stable codes.
//!
//! The code (`Error::code`) is the contract: the server puts it in every error body as
//! `{"error": code}` and the npm package returns it to JavaScript. Messages may be reworded;
//! codes may not. Errors never carry secrets, tokens or passwords.

/// Everything that can go wrong in Latchkey's logic.
///
/// Deliberately not `#[non_exhaustive]`: the server maps every variant to a status in one
/// exhaustive `match`, so a new variant cannot silently become a 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    // --- access tokens -------------------------------------------------------------------
    #[error("the token is not a well-formed compact JWT")]
    MalformedToken,
    #[error("the token's algorithm is not the one this key is pinned to")]
    UnsupportedAlgorithm,
    #[error("the token header carries a key or key reference (jwk, jku, x5u, x5c) or a crit list")]
    ForbiddenTokenHeader,
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongTokenType,
    #[error("the token signature does not match")]
    InvalidSignature,
    #[error("the token's claims are missing, mistyped, or for another issuer or audience")]
    InvalidClaims,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token is not valid yet")]
    TokenNotYetValid,
    #[error("the token names a signing key that is not (or no longer) trusted")]
    UnknownKey,
    #[error("the signing key material is malformed")]
    InvalidKey,

    // --- secrets -------------------------------------------------------------------------
    #[error("the secret must be at least {min} bytes long")]
    WeakSecret { min: usize },

    // --- emails and passwords ------------------------------------------------------------
    #[error("the email address is not valid: {reason}")]
    InvalidEmail { reason: &'static str },
    #[error("the password must be at least {min} characters long")]
    PasswordTooShort { min: usize },
    #[error("the password must be at most {max} characters long")]
    PasswordTooLong { max: usize },
    #[error("the password is one of the most common passwords; choose another")]
    PasswordTooCommon,
    #[error("the password must not contain the email address's name")]
    PasswordContainsEmail,
    #[error(
        "the password must not contain your name, the product's name or another word tied to this site"
    )]
    PasswordContainsContext,
    #[error("the minimum password length must be between {floor} and {max} characters")]
    InvalidPasswordPolicy { floor: usize, max: usize },
    #[error("the stored password hash is malformed or uses an unsupported algorithm")]
    UnsupportedPasswordHash,
    #[error("the stored password hash asks for more work than this server allows")]
    PasswordHashTooCostly,

    // --- flows (raised by the server, coded here so every client sees one vocabulary) ------
    #[error("the email or password is wrong")]
    InvalidCredentials,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("authentication is required")]
    MissingToken,
    #[error("the session has ended; sign in again")]
    SessionRevoked,
    #[error("the session has expired; sign in again")]
    SessionExpired,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; the session is revoked, sign in again")]
    RefreshTokenReused,
    #[error("a cookie-authenticated change must come from a trusted origin")]
    CsrfRejected,
    #[error("the link is invalid, already used or expired; ask for a new one")]
    InvalidOrExpiredToken,
    #[error("the imported session is not valid, has expired or was already exchanged; sign in")]
    InvalidImportedSession,
    #[error("this server does not exchange imported sessions (no secret of the old system is set)")]
    ExchangeNotConfigured,
    #[error("the email address is not verified yet; follow the link in the verification email")]
    EmailNotVerified,
    #[error("the email address is already verified")]
    EmailAlreadyVerified,
    #[error("emails are not written in that language here; choose one of the server's locales")]
    UnsupportedLocale,
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64, limit: u32 },
    #[error("the rate limiter cannot answer right now; try again shortly")]
    RateLimitUnavailable,
    #[error("not found")]
    NotFound,
    #[error("the request is not valid: {0}")]
    InvalidRequest(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("the service is not ready")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl Error {
    /// The stable, snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MalformedToken => "malformed_token",
            Error::UnsupportedAlgorithm => "unsupported_algorithm",
            Error::ForbiddenTokenHeader => "forbidden_token_header",
            Error::WrongTokenType => "wrong_token_type",
            Error::InvalidSignature => "invalid_signature",
            Error::InvalidClaims => "invalid_claims",
            Error::TokenExpired => "token_expired",
            Error::TokenNotYetValid => "token_not_yet_valid",
            Error::UnknownKey => "unknown_key",
            Error::InvalidKey => "invalid_key",
            Error::WeakSecret { .. } => "weak_secret",
            Error::InvalidEmail { .. } => "invalid_email",
            Error::PasswordTooShort { .. } => "password_too_short",
            Error::PasswordTooLong { .. } => "password_too_long",
            Error::PasswordTooCommon => "password_too_common",
            Error::PasswordContainsEmail => "password_contains_email",
            Error::PasswordContainsContext => "password_contains_context",
            Error::InvalidPasswordPolicy { .. } => "invalid_password_policy",
            Error::UnsupportedPasswordHash => "unsupported_password_hash",
            Error::PasswordHashTooCostly => "password_hash_too_costly",
            Error::InvalidCredentials => "invalid_credentials",
            Error::EmailTaken => "email_taken",
            Error::MissingToken => "missing_token",
            Error::SessionRevoked => "session_revoked",
            Error::SessionExpired => "session_expired",
            Error::InvalidRefreshToken => "invalid_refresh_token",
            Error::RefreshTokenReused => "refresh_token_reused",
            Error::CsrfRejected => "csrf_rejected",
            Error::InvalidOrExpiredToken => "invalid_or_expired_token",
            Error::InvalidImportedSession => "invalid_imported_session",
            Error::ExchangeNotConfigured => "exchange_not_configured",
            Error::EmailNotVerified => "email_not_verified",
            Error::EmailAlreadyVerified => "email_already_verified",
            Error::UnsupportedLocale => "unsupported_locale",
            Error::RateLimited { .. } => "rate_limited",
            Error::RateLimitUnavailable => "rate_limit_unavailable",
            Error::NotFound => "not_found",
            Error::InvalidRequest(_) => "invalid_request",
            Error::PayloadTooLarge => "payload_too_large",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Unavailable => "unavailable",
            Error::Internal => "internal_error",
        }
    }
}

/// One value of every variant, for tests that must cover them all (the error-code golden
/// file, the server's status mapping).
pub fn every_variant() -> Vec<Error> {
    vec![
        Error::MalformedToken,
        Error::UnsupportedAlgorithm,
        Error::ForbiddenTokenHeader,
        Error::WrongTokenType,
        Error::InvalidSignature,
        Error::InvalidClaims,
        Error::TokenExpired,
        Error::TokenNotYetValid,
        Error::UnknownKey,
        Error::InvalidKey,
        Error::WeakSecret { min: 32 },
        Error::InvalidEmail { reason: "x" },
        Error::PasswordTooShort { min: 8 },
        Error::PasswordTooLong { max: 128 },
        Error::PasswordTooCommon,
        Error::PasswordContainsEmail,
        Error::PasswordContainsContext,
        Error::InvalidPasswordPolicy { floor: 8, max: 128 },
        Error::UnsupportedPasswordHash,
        Error::PasswordHashTooCostly,
        Error::InvalidCredentials,
        Error::EmailTaken,
        Error::MissingToken,
        Error::SessionRevoked,
        Error::SessionExpired,
        Error::InvalidRefreshToken,
        Error::RefreshTokenReused,
        Error::CsrfRejected,
        Error::InvalidOrExpiredToken,
        Error::InvalidImportedSession,
        Error::ExchangeNotConfigured,
        Error::EmailNotVerified,
        Error::EmailAlreadyVerified,
        Error::UnsupportedLocale,
        Error::RateLimited {
            retry_after_secs: 60,
            limit: 1,
        },
        Error::RateLimitUnavailable,
        Error::NotFound,
        Error::InvalidRequest(String::new()),
        Error::PayloadTooLarge,
        Error::UnsupportedMediaType,
        Error::MethodNotAllowed,
        Error::Unavailable,
        Error::Internal,
    ]
}

#[cfg(test)]
mod tests {
    use super::every_variant;

    #[test]
    fn codes_are_snake_case_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for e in every_variant() {
            let code = e.code();
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!(seen.insert(code), "duplicate code {code}");
        }
    }

    /// Codes are a contract with every client: renaming one must be a deliberate change to
    /// `tests/vectors/error-codes.json`, which the npm package's tests read too.
    #[test]
    fn the_codes_are_exactly_the_published_list() {
        #[derive(serde::Deserialize)]
        struct Published {
            codes: Vec<String>,
        }
        let raw = include_str!("../../../tests/vectors/error-codes.json");
        let published: Published = serde_json::from_str(raw).unwrap();
        let ours: Vec<&str> = every_variant().iter().map(|e| e.code()).collect();
        assert_eq!(ours, published.codes);
    }
}
