//! # latchkey-store
//!
//! Everything Latchkey keeps, behind one [`Store`] trait with a SQLite and a PostgreSQL
//! implementation. The backend is chosen once, at start-up, from the database URL's scheme
//! ([`connect`]); nothing above this crate knows which one it got.
//!
//! # Layout
//!
//! - [`model`]: the rows the store hands out and the inputs it takes.
//! - [`error`]: [`StoreError`], which separates "the caller asked for something impossible"
//!   (a conflict) from "the database failed".
//! - `sql`: both implementations, generated from one body of SQL (the statements are the same
//!   text on both; `$1` placeholders work on each), with per-backend connection set-up.
//! - `migrations/{sqlite,postgres}/`: the schema per dialect, run on every start.
//!
//! Timestamps are Unix milliseconds in `BIGINT` columns on both backends: the server's clock
//! is injected (tests move it by hand), and plain integers make every comparison the same SQL
//! on SQLite and PostgreSQL. Ids are UUID strings for the same reason.

pub mod error;
pub mod model;
mod sql;

use std::sync::Arc;

pub use error::StoreError;
pub use model::*;
pub use sql::{PgStore, SqliteStore};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database-backed state of Latchkey. Every method that changes more than one row does
/// so in a single transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is ("sqlite" or "postgres"), for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// A trivial round-trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    /// Creates a user, their password credential, their first session (none when the
    /// address must be verified before signing in) with its first refresh token, records
    /// `event` and writes `outgoing` (the verification email), all or nothing. An email
    /// already in use (by [`NewUser::email_key`]) is [`StoreError::Conflict`].
    async fn register(
        &self,
        user: &NewUser,
        session: Option<&NewSession>,
        event: &NewEvent,
        outgoing: &[Outgoing],
    ) -> Result<User>;

    /// The user with this email key and their password hash, if any.
    async fn find_login(&self, email_key: &str) -> Result<Option<Login>>;

    async fn find_user(&self, user_id: &str) -> Result<Option<User>>;

    /// Replaces a user's password hash (e.g. a rehash at higher cost on sign-in).
    async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<()>;

    /// Creates a session with its first refresh token, and records `event`; in the same
    /// transaction ends the session it `replaces` (if still live), recording that one's event.
    async fn create_session(
        &self,
        session: &NewSession,
        event: &NewEvent,
        replaces: Option<&Replaced<'_>>,
    ) -> Result<()>;

    /// When the session ends, if it exists, belongs to `user_id` and is live (not revoked,
    /// not expired) at `now_ms`; `None` otherwise.
    async fn live_session_expiry(
        &self,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
    ) -> Result<Option<i64>>;

    /// The record of the refresh token with this hash, with its session and user.
    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>>;

    /// Rotates in one transaction: compare-and-set the session's generation, mark the
    /// presented token spent, store the successor's hash, slide the expiry. False (and
    /// nothing written) when the session was no longer at `from_generation`, is revoked, or
    /// expired before `now_ms` (the decision was made on an earlier read).
    async fn rotate_refresh(&self, rotation: &Rotation) -> Result<bool>;

    /// The user's live sessions, most recently used first.
    async fn list_sessions(&self, user_id: &str, now_ms: i64) -> Result<Vec<SessionInfo>>;

    /// Revokes one of the user's sessions and records `event`, in one transaction; false
    /// (and no event) if there was no unrevoked session of theirs with that id.
    async fn revoke_session(
        &self,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<bool>;

    /// Revokes every unrevoked session of the user except `keep`, records `event`, and
    /// returns the ids it revoked.
    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: &str,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Vec<String>>;

    /// Writes one-time tokens and their emails to the outbox, and records `event`, in one
    /// transaction.
    async fn enqueue(&self, outgoing: &[Outgoing], event: Option<&NewEvent>) -> Result<()>;

    /// As [`Store::enqueue`], unless the user was given a token of the throttle's purpose
    /// less than its interval ago: then nothing is written and the answer is when the next
    /// may be sent. Check and write are one transaction under the user's row lock, so
    /// parallel requests cannot both pass.
    async fn enqueue_throttled(
        &self,
        throttle: &Throttle,
        outgoing: &[Outgoing],
        event: &NewEvent,
    ) -> Result<Option<i64>>;

    /// The unused, unexpired one-time token with this hash and purpose, with its user.
    async fn find_one_time(
        &self,
        token_hash: &str,
        purpose: &str,
        now_ms: i64,
    ) -> Result<Option<OneTimeRecord>>;

    /// A password reset, in one transaction: spend the token (compare-and-set; `None` and
    /// nothing written if it was no longer usable), set the new hash, mark the address
    /// verified, spend the user's other reset tokens, revoke every session, write `mail`
    /// and record `event`. Returns the revoked sessions' ids.
    async fn reset_password(
        &self,
        consume: &Consume,
        password_hash: &str,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<Vec<String>>>;

    /// Spends a verification token and marks the address it was sent to as verified, if
    /// that is still the account's address; `None` (nothing written) otherwise.
    async fn verify_email(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>>;

    /// Spends an email-change token and switches the account to the new (now verified)
    /// address, writes `mail` (the notice to the old address) and records `event`. `None`
    /// if the token was no longer usable; [`StoreError::Conflict`] (nothing written) if the
    /// address was taken meanwhile.
    async fn change_email(
        &self,
        consume: &Consume,
        new_email: &str,
        new_email_key: &str,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<User>>;

    /// Sets a new password hash and swaps the session it was changed in for a new one
    /// (`swap`), revoking every other session too when `revoke_others`; spends outstanding
    /// reset and email-change links, writes `mail` and records `event`. Returns the revoked
    /// sessions' ids, or `None` (and changes nothing) if the session to end is no longer
    /// live.
    async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        swap: &SessionSwap<'_>,
        revoke_others: bool,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<Vec<String>>>;

    /// Applies a profile patch and records `event`; `None` if there is no such user.
    async fn update_profile(
        &self,
        user_id: &str,
        patch: &ProfilePatch,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Option<User>>;

    /// Up to `limit` outbox messages due at `now_ms`, oldest first.
    async fn due_mail(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingMail>>;

    /// Takes a message for sending until `lease_until_ms` (compare-and-set on its attempt
    /// count, so two workers never both take it); false if another worker has.
    async fn claim_mail(&self, id: &str, attempts: i64, lease_until_ms: i64) -> Result<bool>;

    /// Marks a message sent by attempt number `attempt` (a no-op if another attempt has
    /// taken the row since).
    async fn mail_sent(&self, id: &str, attempt: i64, now_ms: i64) -> Result<()>;

    /// Records that attempt `attempt` failed: retry at `retry_at_ms`, or give up (`None`).
    async fn mail_not_sent(
        &self,
        id: &str,
        attempt: i64,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<()>;

    async fn outbox_counts(&self) -> Result<OutboxCounts>;

    /// The consecutive failed sign-ins for this email key (an account's or not).
    async fn failure_streak(&self, email_key: &str) -> Result<FailureStreak>;

    /// Counts a failed sign-in for the email key and records `event` (for an existing
    /// account), in one transaction; returns the consecutive failures so far.
    async fn sign_in_failed(
        &self,
        email_key: &str,
        now_ms: i64,
        event: Option<&NewEvent>,
    ) -> Result<i64>;

    /// A successful sign-in: the streak starts again from zero.
    async fn sign_in_succeeded(&self, email_key: &str) -> Result<()>;

    /// As [`Store::sign_in_failed`] for an existing account, with `event`; if this failure
    /// is the `notice.block_at`-th in a row, the owner's email is written in the same
    /// transaction (throttled as the notice says). Returns the failures so far and whether
    /// the email was written.
    async fn sign_in_failed_notifying(
        &self,
        email_key: &str,
        now_ms: i64,
        event: &NewEvent,
        notice: &BlockNotice,
    ) -> Result<(i64, bool)>;

    /// An unblock link, in one transaction: spend the token (compare-and-set; `None` and
    /// nothing written if it was no longer usable), end the failure streak of the user's
    /// address and record `event`. Returns the token's user.
    async fn unblock(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>>;

    /// The database rate-limit store: adds `delta` to the counter of (`bucket`, `window`),
    /// creating it to expire at `expires_at_ms`, and returns (the previous window's count,
    /// the new count). The increment is one atomic upsert.
    async fn rate_hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
    ) -> Result<(i64, i64)>;

    /// Deletes counters that expired before `now_ms`; how many.
    async fn rate_purge(&self, now_ms: i64) -> Result<u64>;

    async fn record_event(&self, event: &NewEvent) -> Result<()>;

    /// The user's security events, newest first (at most `limit`).
    async fn security_events(&self, user_id: &str, limit: i64) -> Result<Vec<SecurityEvent>>;

    /// The user's tasks, newest first.
    async fn list_tasks(&self, user_id: &str) -> Result<Vec<Task>>;

    async fn create_task(&self, task: &NewTask) -> Result<Task>;

    /// The task if it exists *and* belongs to `user_id`.
    async fn find_task(&self, user_id: &str, task_id: &str) -> Result<Option<Task>>;

    /// Applies `patch` to the user's task; `None` if the user has no such task.
    async fn update_task(
        &self,
        user_id: &str,
        task_id: &str,
        patch: &TaskPatch,
        now_ms: i64,
    ) -> Result<Option<Task>>;

    /// Deletes the user's task; false if the user has no such task.
    async fn delete_task(&self, user_id: &str, task_id: &str) -> Result<bool>;
}

/// Connects to `database_url` (`sqlite://…` or `postgres://…`/`postgresql://…`), runs that
/// backend's migrations, and returns the store.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>> {
    let scheme = database_url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(database_url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::connect(database_url).await?)),
        _ => Err(StoreError::UnsupportedUrl),
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_url_for_another_database_is_refused_clearly() {
        for url in ["mysql://localhost/db", "latchkey.db", ""] {
            let err = super::connect(url).await.err().expect("refused");
            assert!(
                matches!(err, super::StoreError::UnsupportedUrl),
                "{url}: {err}"
            );
        }
    }
}
