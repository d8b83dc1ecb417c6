//! The rows the store hands out, and the inputs it takes.

use latchkey_core::onetime::Purpose;

use crate::EventKind;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub image: Option<String>,
    pub email_verified: bool,
    pub created_at: i64,
    /// The language of their emails, as stored (`None`: the default). The server keeps it
    /// to the locales it ships; the store takes what it is given.
    pub locale: Option<String>,
}

/// A user with their password hash, for sign-in only. No `Debug`: hashes stay out of logs.
#[derive(Clone, sqlx::FromRow)]
pub struct Login {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// Consecutive failed sign-ins for one email key, since the last success or reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureStreak {
    pub failures: i64,
    pub last_failed_at: Option<i64>,
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
    /// The language of their emails (see [`User::locale`]).
    pub locale: Option<String>,
    pub now_ms: i64,
}

impl NewUser {
    /// The user this becomes once registered.
    pub fn user(&self) -> User {
        User {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            image: None,
            email_verified: false,
            created_at: self.now_ms,
            locale: self.locale.clone(),
        }
    }
}

/// A new sign-in session and its first refresh token (generation 0). `Debug` leaves out
/// the seed, half of what derives the session's refresh tokens.
#[derive(Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub now_ms: i64,
    /// The sliding (idle) expiry, already capped by the absolute one.
    pub expires_at_ms: i64,
    pub absolute_expires_at_ms: i64,
    /// The random per-session input the refresh tokens are derived from.
    pub refresh_seed: String,
    /// SHA-256 of the generation-0 refresh token.
    pub refresh_hash: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A live session, as its owner may see it. Nothing here can be used to act as the session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A presented refresh token's record, with its session and user: everything the rotation
/// decision and the new access token need, read in one query. `Debug` leaves out the seed.
#[derive(Clone)]
pub struct RefreshRecord {
    pub user: User,
    pub session_id: String,
    pub refresh_seed: String,
    /// The presented token's generation, and when it was spent (`None`: it is the live one).
    pub token_generation: i64,
    pub spent_at: Option<i64>,
    /// The session's live generation.
    pub session_generation: i64,
    pub revoked: bool,
    pub expires_at: i64,
    pub absolute_expires_at: i64,
}

/// Advance a session from `from_generation` to `from_generation + 1`, if nobody else has.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub session_id: String,
    pub from_generation: i64,
    pub presented_hash: String,
    pub next_hash: String,
    pub now_ms: i64,
    pub expires_at_ms: i64,
}

/// A security event to record (sign-in, refresh-token reuse, revocation, …).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub kind: EventKind,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub now_ms: i64,
}

/// A recorded security event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SecurityEvent {
    pub id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
}

/// A new one-time token (reset, verification or email-change link). `Debug` leaves out the
/// seed, half of what derives the token.
#[derive(Clone)]
pub struct NewOneTimeToken {
    pub id: String,
    pub token_hash: String,
    pub seed: String,
    pub user_id: String,
    pub purpose: Purpose,
    /// The address the link is sent to.
    pub email: String,
    pub now_ms: i64,
    pub expires_at_ms: i64,
    /// An email change that signs out the other sessions when confirmed: the session that
    /// asked, which stays. `None` for every other link.
    pub keep_session: Option<String>,
}

/// An unused, unexpired one-time token's record, with its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OneTimeRecord {
    #[sqlx(flatten)]
    pub user: User,
    /// The address the link was sent to.
    #[sqlx(rename = "sent_to")]
    pub email: String,
}

/// Spend the token with this hash and purpose, if it is `user_id`'s, unused and unexpired
/// at `now_ms`.
#[derive(Debug, Clone)]
pub struct Consume {
    pub token_hash: String,
    pub purpose: Purpose,
    pub user_id: String,
    pub now_ms: i64,
}

/// A profile update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub name: Option<Option<String>>,
    pub image: Option<Option<String>>,
    /// `Some(None)` goes back to the default language.
    pub locale: Option<Option<String>>,
}

/// An email to send, and the token its link is rendered from, written together with the
/// change that caused it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub token: Option<NewOneTimeToken>,
    pub mail: NewMail,
}

/// A message for the outbox. `data` is the template's JSON input (never a token).
#[derive(Debug, Clone)]
pub struct NewMail {
    pub id: String,
    /// The template, e.g. `reset_password`, `password_changed`.
    pub kind: &'static str,
    pub recipient: String,
    pub data: String,
    pub token_id: Option<String>,
    pub now_ms: i64,
}

/// A message waiting in the outbox, with the seed of its token (if it has one and the token
/// still exists). `Debug` leaves out the seed.
#[derive(Clone, sqlx::FromRow)]
pub struct PendingMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub data: String,
    pub attempts: i64,
    pub created_at: i64,
    pub token_id: Option<String>,
    pub token_seed: Option<String>,
    pub token_purpose: Option<String>,
    /// The token's stored hash: which key derived it is checked against this (tokens made
    /// before an upgrade were derived under an earlier key).
    pub token_hash: Option<String>,
}

/// The outbox's counts, for readiness output and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct OutboxCounts {
    /// Not sent yet (including those waiting to be retried).
    pub pending: i64,
    /// Given up after every retry.
    pub failed: i64,
    /// When the oldest message not sent yet was written (Unix ms); `None` when none is.
    pub oldest_pending_at: Option<i64>,
}

/// The connection pool's figures, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Connections handed out (open and not idle).
    pub in_use: u64,
    /// Callers waiting for a connection.
    pub waiting: u64,
}

/// At most one token of `purpose` per `interval_ms` for the user.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub user_id: String,
    pub purpose: Purpose,
    pub interval_ms: i64,
    pub now_ms: i64,
}

/// The email that tells an account's owner their address is now blocked: written with the
/// failed sign-in that crossed `block_at` failures in a row, and only with that one.
#[derive(Debug, Clone)]
pub struct BlockNotice {
    pub block_at: i64,
    /// Skipped (the block stands, silently) if a link of this purpose went to the owner
    /// within the interval.
    pub throttle: Throttle,
    pub outgoing: Outgoing,
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

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("now_ms", &self.now_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("absolute_expires_at_ms", &self.absolute_expires_at_ms)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RefreshRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRecord")
            .field("user", &self.user)
            .field("session_id", &self.session_id)
            .field("token_generation", &self.token_generation)
            .field("spent_at", &self.spent_at)
            .field("session_generation", &self.session_generation)
            .field("revoked", &self.revoked)
            .field("expires_at", &self.expires_at)
            .field("absolute_expires_at", &self.absolute_expires_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewOneTimeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOneTimeToken")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PendingMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .field("token_id", &self.token_id)
            .finish_non_exhaustive()
    }
}

/// The session a new one replaces (re-authentication by a client that held one), possibly
/// another user's, and the event its end records.
#[derive(Debug)]
pub struct Replaced<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub event: &'a NewEvent,
}

/// A session ended and its successor opened in one transaction (re-authentication).
#[derive(Debug)]
pub struct SessionSwap<'a> {
    /// The session that ends.
    pub ends: &'a str,
    pub opens: &'a NewSession,
}
