//! Request and response bodies (JSON, camelCase).

use latchkey_store::{Task, User};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;

/// Milliseconds since the epoch as an RFC 3339 timestamp.
pub type Timestamp = time::OffsetDateTime;

pub fn timestamp(ms: i64) -> Timestamp {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

// The request bodies that carry a password do not derive `Debug`, so they cannot be logged.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct RegisterRequest {
    pub email: String,
    /// 8–128 characters (the minimum is configurable), not a common password, and not
    /// containing the email's name.
    #[oai(validator(max_length = 1024))]
    pub password: String,
    #[oai(validator(max_length = 100))]
    pub name: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SignInRequest {
    pub email: String,
    /// Capped well above any password the policy allows, so no request buys a costly hash.
    #[oai(validator(max_length = 1024))]
    pub password: String,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
    pub created_at: Timestamp,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id,
            email: user.email,
            name: user.name,
            email_verified: user.email_verified,
            created_at: timestamp(user.created_at),
        }
    }
}

/// What register and sign-in return.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuthSession {
    pub user: UserView,
    /// A JWT (HS256, `typ: at+jwt`) to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        TaskView {
            id: task.id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            created_at: timestamp(task.created_at),
            updated_at: timestamp(task.updated_at),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CreateTaskRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: String,
    #[oai(validator(max_length = 5000))]
    pub description: Option<String>,
}

/// Fields left out stay as they are; `"description": null` clears the description.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct UpdateTaskRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    #[oai(validator(max_length = 5000))]
    pub description: MaybeUndefined<String>,
    pub completed: Option<bool>,
}
