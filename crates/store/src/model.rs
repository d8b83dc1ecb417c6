//! The rows the store hands out, and the inputs it takes.

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
    pub created_at: i64,
}

/// A user with their password hash, for sign-in only. No `Debug`: hashes stay out of logs.
#[derive(Clone)]
pub struct Login {
    pub user: User,
    pub password_hash: String,
}

/// A new account. `email_key` is the lower-cased address that uniqueness is enforced on.
/// No `Debug`: it carries the password hash.
#[derive(Clone)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub now_ms: i64,
}

/// A new sign-in session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub now_ms: i64,
    pub expires_at_ms: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A user's task (the seeds' per-user resource).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub now_ms: i64,
}

/// A partial update: `None` leaves a field as it is; `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub completed: Option<bool>,
}
