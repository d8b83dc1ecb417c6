//! The example of every request and response body in the contract (`#[oai(example)]` on
//! each `Object`). Swagger UI fills its forms with them, generators put them in doc comments,
//! and contract fuzzing sends the request examples as they are, so they are real: one user,
//! Ann, through one afternoon, and the request examples pass every check of their schema.

use poem_openapi::types::{Example, MaybeUndefined};

use super::dto::{
    Accepted, AuthSession, ChangeEmailRequest, ChangePasswordRequest, CreateTaskRequest,
    ExchangeRequest, ForgotPasswordRequest, RefreshRequest, RegisterRequest, ResetPasswordRequest,
    RevokedCount, SessionView, SignInRequest, TaskView, Text, TokenRequest, UpdateProfileRequest,
    UpdateTaskRequest, UserView, timestamp,
};
use super::failures::ErrorCode;
use super::health::{Health, NotReady, Readiness};
use super::jwks::{JwkSet, JwkView};
use crate::error::ErrorBody;

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a new passphrase, long enough";
/// A one-time link's token and a refresh token have this form: 256 bits, base64url.
const TOKEN: &str = "bLRCHluTcm9V0vqQiShvNqlzDjvHdHhW2cSkHRxMLJY";
const REFRESH_TOKEN: &str = "QW8eIcMnNA1_wP6gd2nWoU-pNtjnL86P_I571uYBpiA";
/// 2026-11-02T09:30:00Z, when Ann registered.
const REGISTERED_MS: i64 = 1_793_611_800_000;
/// 2026-12-06T12:00:00Z, now.
const NOW_MS: i64 = 1_796_558_400_000;
const REQUEST_ID: &str = "4f3c2a1b9d8e7f60a5b4c3d2e1f00918";

fn text<F>(value: &str) -> Text<F> {
    Text::new(value)
}

impl Example for RegisterRequest {
    fn example() -> Self {
        RegisterRequest {
            email: text(EMAIL),
            password: text(PASSWORD),
            name: Some(text("Ann Example")),
        }
    }
}

impl Example for SignInRequest {
    fn example() -> Self {
        SignInRequest {
            email: text(EMAIL),
            password: text(PASSWORD),
        }
    }
}

impl Example for UserView {
    fn example() -> Self {
        UserView {
            id: "0b6d3f0e-6a43-4c55-9d8e-2f1c7a9b1e42".into(),
            email: text(EMAIL),
            name: Some("Ann Example".into()),
            image: Some(text("https://images.example.com/ann.png")),
            email_verified: true,
            created_at: timestamp(REGISTERED_MS),
            locale: "en".into(),
        }
    }
}

impl Example for AuthSession {
    fn example() -> Self {
        AuthSession {
            user: UserView::example(),
            access_token: Some(
                "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6IkU3LVlJa2dVTnF2ZkZnMmQybGE1eDNzSjlXMlppYmh4anE5YUllZEhmc0kifQ.eyJzdWIiOiIwYjZkM2YwZS02YTQzLTRjNTUtOWQ4ZS0yZjFjN2E5YjFlNDIifQ.c2lnbmF0dXJl"
                    .into(),
            ),
            refresh_token: Some(REFRESH_TOKEN.into()),
            token_type: "Bearer".into(),
            expires_in: 900,
            refresh_expires_in: 604_800,
        }
    }
}

impl Example for RefreshRequest {
    fn example() -> Self {
        RefreshRequest {
            refresh_token: Some(text(REFRESH_TOKEN)),
        }
    }
}

impl Example for ExchangeRequest {
    fn example() -> Self {
        ExchangeRequest {
            cookie: text(
                "k3J9mQ2xV7pL4nR8sT1wY6zA0bC5dE9f.Zx1cWm0rT4u8yB2nQ6vK9pL3sD7fH1jA5gE0iO4tR8w%3D",
            ),
        }
    }
}

impl Example for SessionView {
    fn example() -> Self {
        SessionView {
            id: text("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
            created_at: timestamp(NOW_MS - 3_600_000),
            last_used_at: timestamp(NOW_MS),
            expires_at: timestamp(NOW_MS + 604_800_000),
            ip_address: Some("203.0.113.7".into()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0".into(),
            ),
            current: true,
        }
    }
}

impl Example for RevokedCount {
    fn example() -> Self {
        RevokedCount { revoked: 2 }
    }
}

impl Example for TaskView {
    fn example() -> Self {
        TaskView {
            id: text("f47ac10b-58cc-4372-a567-0e02b2c3d479"),
            title: "Buy milk".into(),
            description: Some("Oat, two litres.".into()),
            completed: false,
            created_at: timestamp(NOW_MS - 600_000),
            updated_at: timestamp(NOW_MS),
        }
    }
}

impl Example for CreateTaskRequest {
    fn example() -> Self {
        CreateTaskRequest {
            title: text("Buy milk"),
            description: Some(text("Oat, two litres.")),
        }
    }
}

impl Example for UpdateTaskRequest {
    fn example() -> Self {
        UpdateTaskRequest {
            title: Some(text("Buy oat milk")),
            description: MaybeUndefined::Undefined,
            completed: Some(true),
        }
    }
}

impl Example for Accepted {
    fn example() -> Self {
        Accepted::new(super::recovery::RESET_REQUESTED)
    }
}

impl Example for ForgotPasswordRequest {
    fn example() -> Self {
        ForgotPasswordRequest { email: text(EMAIL) }
    }
}

impl Example for ResetPasswordRequest {
    fn example() -> Self {
        ResetPasswordRequest {
            token: text(TOKEN),
            new_password: text(NEW_PASSWORD),
        }
    }
}

impl Example for TokenRequest {
    fn example() -> Self {
        TokenRequest { token: text(TOKEN) }
    }
}

impl Example for UpdateProfileRequest {
    fn example() -> Self {
        UpdateProfileRequest {
            name: MaybeUndefined::Value(text("Ann Example")),
            image: MaybeUndefined::Value(text("https://images.example.com/ann.png")),
            locale: MaybeUndefined::Value(text("de")),
        }
    }
}

impl Example for ChangePasswordRequest {
    fn example() -> Self {
        ChangePasswordRequest {
            current_password: text(PASSWORD),
            new_password: text(NEW_PASSWORD),
            revoke_other_sessions: Some(true),
        }
    }
}

impl Example for ChangeEmailRequest {
    fn example() -> Self {
        ChangeEmailRequest {
            new_email: text("ann@new.example.com"),
            password: text(PASSWORD),
            revoke_other_sessions: Some(true),
        }
    }
}

impl Example for Health {
    fn example() -> Self {
        Health {
            status: "ok".into(),
        }
    }
}

impl Example for Readiness {
    fn example() -> Self {
        Readiness {
            status: "ok".into(),
            database: "postgres".into(),
            mailer: "smtp".into(),
            mail_pending: 0,
            mail_failed: 0,
            rate_limit_store: "redis".into(),
            client_ip: Some("203.0.113.7".into()),
        }
    }
}

impl Example for NotReady {
    fn example() -> Self {
        NotReady {
            error: ErrorCode("unavailable"),
            message: "Not ready: database failing.".into(),
            request_id: REQUEST_ID.into(),
            failing: vec!["database".into()],
        }
    }
}

impl Example for JwkSet {
    fn example() -> Self {
        JwkSet {
            keys: vec![JwkView::example()],
        }
    }
}

impl Example for JwkView {
    fn example() -> Self {
        JwkView {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
            kid: "E7-YIkgUNqvfFg2d2la5x3sJ9W2Zibhxjq9aIedHfsI".into(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
        }
    }
}

impl Example for ErrorBody {
    fn example() -> Self {
        ErrorBody {
            error: ErrorCode("invalid_credentials"),
            message: "the email or password is wrong".into(),
            request_id: REQUEST_ID.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use latchkey_core::password::PasswordPolicy;
    use latchkey_core::{Email, Error};

    use super::*;

    /// Contract fuzzing sends these as they are: they must pass the server's own checks, not
    /// only the schema's.
    #[test]
    fn the_request_examples_pass_the_servers_checks() {
        for email in [EMAIL, "ann@new.example.com"] {
            assert!(Email::parse(email).is_ok(), "{email}");
        }
        let ann = Email::parse(EMAIL).unwrap();
        for password in [PASSWORD, NEW_PASSWORD] {
            assert_eq!(PasswordPolicy::default().check(password, &ann), Ok(()));
        }
        let image = UserView::example().image.unwrap();
        assert!(crate::flows::text::image_url(&image).is_ok());
        assert!(crate::flows::ids::canonical(&SessionView::example().id).is_some());
        assert!(crate::flows::ids::canonical(&TaskView::example().id).is_some());
    }

    #[test]
    fn the_error_examples_carry_the_message_the_server_writes() {
        assert_eq!(
            ErrorBody::example().message,
            Error::InvalidCredentials.to_string()
        );
    }
}
