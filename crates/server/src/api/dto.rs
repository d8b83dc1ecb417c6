//! Request and response bodies (JSON, camelCase). Every one carries an example in the
//! contract (`api/examples.rs`).

use latchkey_store::{SessionInfo, Task, User};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;

pub use super::text::Text;
use super::text::{Email, Uri, Uuid};
use crate::mail::locale::Locale;

/// Milliseconds since the epoch as an RFC 3339 timestamp.
pub type Timestamp = time::OffsetDateTime;

pub fn timestamp(ms: i64) -> Timestamp {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

// The request bodies that carry a password do not derive `Debug`, so they cannot be logged.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct RegisterRequest {
    pub email: Text<Email>,
    /// 8–128 characters (the minimum is configurable), not a common password, and not
    /// containing the email's name.
    #[oai(validator(max_length = 1024))]
    pub password: Text,
    /// `null` is the same as leaving it out.
    #[oai(validator(max_length = 100), nullable)]
    pub name: Option<Text>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct SignInRequest {
    pub email: Text<Email>,
    /// Capped well above any password the policy allows, so no request buys a costly hash.
    #[oai(validator(max_length = 1024))]
    pub password: Text,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct UserView {
    /// Not always a UUID: an imported user keeps the id the old system gave them.
    pub id: String,
    pub email: Text<Email>,
    #[oai(nullable)]
    pub name: Option<String>,
    /// A picture URL (http or https) the app may show; Latchkey never fetches it.
    #[oai(nullable)]
    pub image: Option<Text<Uri>>,
    pub email_verified: bool,
    pub created_at: Timestamp,
    /// The language of the user's emails (`en`, `de`): chosen at registration from
    /// `Accept-Language`, changed with `PATCH /me`.
    pub locale: String,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id,
            email: user.email.into(),
            name: user.name,
            image: user.image.map(Text::from),
            email_verified: user.email_verified,
            created_at: timestamp(user.created_at),
            locale: Locale::or_default(user.locale.as_deref())
                .as_str()
                .to_owned(),
        }
    }
}

/// What register, sign-in and refresh return. No `Debug`: it carries tokens.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct AuthSession {
    pub user: UserView,
    /// A JWT (`typ: at+jwt`, HS256 or EdDSA) to send as `Authorization: Bearer …`. Absent
    /// with cookie transport, where it is in the access cookie instead.
    #[oai(skip_serializing_if_is_none)]
    pub access_token: Option<String>,
    /// Opaque (256 bits, base64url); trade it at `/api/v1/auth/refresh` for new tokens.
    /// Single use. Absent with cookie transport, where it is in the refresh cookie instead.
    #[oai(skip_serializing_if_is_none)]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Seconds until the session ends unless refreshed (idle expiry, capped by the absolute
    /// lifetime).
    pub refresh_expires_in: i64,
}

/// The refresh token to trade. Leave it out (send `{}`) to use the refresh cookie.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct RefreshRequest {
    #[oai(validator(max_length = 256), nullable)]
    pub refresh_token: Option<Text>,
}

/// A Better Auth session cookie to exchange. No `Debug`: it is a credential.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ExchangeRequest {
    /// The value of the `better-auth.session_token` cookie (`__Secure-better-auth.session_token`
    /// on https) exactly as the browser sent it: the session token, a dot and its signature,
    /// URL-encoded (URL-decoded is read the same).
    pub cookie: Text,
}

/// One of the caller's live sessions (a signed-in device). Never carries a token.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct SessionView {
    pub id: Text<Uuid>,
    pub created_at: Timestamp,
    /// When the session last signed in or refreshed.
    pub last_used_at: Timestamp,
    /// When it ends unless refreshed before then.
    pub expires_at: Timestamp,
    #[oai(nullable)]
    pub ip_address: Option<String>,
    #[oai(nullable)]
    pub user_agent: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}

impl SessionView {
    pub fn new(session: SessionInfo, current_id: &str) -> Self {
        SessionView {
            current: session.id == current_id,
            id: session.id.into(),
            created_at: timestamp(session.created_at),
            last_used_at: timestamp(session.last_seen_at),
            expires_at: timestamp(session.expires_at),
            ip_address: session.ip,
            user_agent: session.user_agent,
        }
    }
}

/// How many sessions were revoked.
#[derive(Debug, Object)]
#[oai(example)]
pub struct RevokedCount {
    pub revoked: i64,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct TaskView {
    pub id: Text<Uuid>,
    pub title: String,
    #[oai(nullable)]
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        TaskView {
            id: task.id.into(),
            title: task.title,
            description: task.description,
            completed: task.completed,
            created_at: timestamp(task.created_at),
            updated_at: timestamp(task.updated_at),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CreateTaskRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: Text,
    /// `null` is the same as leaving it out.
    #[oai(validator(max_length = 5000), nullable)]
    pub description: Option<Text>,
}

/// Fields left out stay as they are; `"description": null` clears the description.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct UpdateTaskRequest {
    /// `null` is the same as leaving it out.
    #[oai(validator(min_length = 1, max_length = 200), nullable)]
    pub title: Option<Text>,
    #[oai(validator(max_length = 5000), nullable)]
    pub description: MaybeUndefined<Text>,
    /// `null` is the same as leaving it out.
    #[oai(nullable)]
    pub completed: Option<bool>,
}

/// The request was taken; what happens next arrives by email.
#[derive(Debug, Object)]
#[oai(example)]
pub struct Accepted {
    /// A sentence to show the user. It is the same whether or not an account exists.
    pub message: String,
}

impl Accepted {
    pub fn new(message: &str) -> Self {
        Accepted {
            message: message.to_owned(),
        }
    }
}

#[derive(Debug, Object)]
#[oai(example)]
pub struct ForgotPasswordRequest {
    pub email: Text<Email>,
}

/// No `Debug`: it carries a password and a token.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ResetPasswordRequest {
    /// The token from the emailed link (the part after `#token=`).
    #[oai(validator(max_length = 256))]
    pub token: Text,
    /// The new password; the policy applies.
    #[oai(validator(max_length = 1024))]
    pub new_password: Text,
}

/// The token from an emailed link (the part after `#token=`). No `Debug`.
#[derive(Object)]
#[oai(example)]
pub struct TokenRequest {
    #[oai(validator(max_length = 256))]
    pub token: Text,
}

/// Fields left out stay as they are; `null` clears one.
#[derive(Debug, Object)]
#[oai(example)]
pub struct UpdateProfileRequest {
    #[oai(validator(max_length = 100), nullable)]
    pub name: MaybeUndefined<Text>,
    /// An `https://` (or `http://`) URL of at most 2048 characters.
    #[oai(validator(max_length = 2048), nullable)]
    pub image: MaybeUndefined<Text<Uri>>,
    /// The language of the user's emails: one of the server's locales (`en`, `de`), else
    /// 400 `unsupported_locale`. `null` goes back to the default, `en`.
    #[oai(nullable)]
    pub locale: MaybeUndefined<Text>,
}

/// No `Debug`: it carries passwords.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ChangePasswordRequest {
    #[oai(validator(max_length = 1024))]
    pub current_password: Text,
    /// The new password; the policy applies.
    #[oai(validator(max_length = 1024))]
    pub new_password: Text,
    /// Sign out every other device (the default, also when `null`). This session is
    /// replaced by a new one either way.
    #[oai(nullable)]
    pub revoke_other_sessions: Option<bool>,
}

/// No `Debug`: it carries a password.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ChangeEmailRequest {
    pub new_email: Text<Email>,
    /// The current password, so a borrowed session cannot take the account.
    #[oai(validator(max_length = 1024))]
    pub password: Text,
    /// Once the change is confirmed, sign out every other device (the default, also when
    /// `null`), keeping this one.
    #[oai(nullable)]
    pub revoke_other_sessions: Option<bool>,
}
