//! The SQLite and PostgreSQL stores.
//!
//! Both run the very same SQL, so the method bodies are written once, in `impl_store!`, and
//! stamped out for each backend's pool type. Only connecting differs: SQLite needs its pragmas
//! (WAL, `synchronous=FULL`, foreign keys, a busy timeout) on every connection.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{
    BlockNotice, Consume, FailureStreak, Login, NewEvent, NewMail, NewSession, NewTask, NewUser,
    OneTimeRecord, OutboxCounts, Outgoing, PendingMail, ProfilePatch, RefreshRecord, Replaced,
    Result, Rotation, SecurityEvent, SessionInfo, SessionSwap, Store, Task, TaskPatch, Throttle,
    User,
};

/// SQLite, embedded: the zero-setup default.
pub struct SqliteStore {
    pool: SqlitePool,
    /// Every write goes through this one connection. SQLite has one writer at a time; the
    /// others would wait in its busy handler, which sleeps 1 to 100 ms between retries and
    /// gave refresh a p99 of 85 ms at 16 connections. Queued here instead, in order, a
    /// writer starts the moment the previous one commits; readers (WAL) never wait.
    writer: SqlitePool,
}

/// PostgreSQL (including Neon), for production.
pub struct PgStore {
    pool: PgPool,
    /// The same pool: PostgreSQL's row locks let writers run side by side.
    writer: PgPool,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // WAL lets readers run beside the one writer; FULL makes each commit durable
            // across power loss, not just process crashes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        // An in-memory database is shared-cache, where SQLite's locking differs (no busy
        // handler at all); there, one pool does both.
        let writer = if url.contains(":memory:") || url.contains("mode=memory") {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?
        };
        Ok(SqliteStore { pool, writer })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(PgStore {
            writer: pool.clone(),
            pool,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

// Column lists as macros, so `concat!` can splice them into static SQL strings.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.name, u.image, u.email_verified, u.created_at"
    };
}
/// The same, unqualified, for `RETURNING` (SQLite refuses qualified names there).
macro_rules! user_fields {
    () => {
        "id, email, name, image, email_verified, created_at"
    };
}
macro_rules! task_columns {
    () => {
        "id, title, description, completed, created_at, updated_at"
    };
}

macro_rules! impl_store {
    ($store:ty, $name:literal) => {
        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn register(
                &self,
                user: &NewUser,
                session: Option<&NewSession>,
                event: &NewEvent,
                outgoing: &[Outgoing],
            ) -> Result<User> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO users (id, email, email_key, name, email_verified, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, FALSE, $5, $5)",
                )
                .bind(&user.id)
                .bind(&user.email)
                .bind(&user.email_key)
                .bind(&user.name)
                .bind(user.now_ms)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO credentials (user_id, password_hash, updated_at) VALUES ($1, $2, $3)",
                )
                .bind(&user.id)
                .bind(&user.password_hash)
                .bind(user.now_ms)
                .execute(&mut *tx)
                .await?;
                // Failures counted against the address before it had an account (anyone can
                // run one up to a block) are not the new owner's: they would start blocked,
                // and no unblock email would ever come, the crossing being long past.
                clear_failures!(&user.email_key, &mut *tx);
                if let Some(session) = session {
                    insert_session!(session, &mut *tx);
                }
                insert_event!(event, &mut *tx);
                for out in outgoing {
                    insert_outgoing!(out, &mut *tx);
                }
                tx.commit().await?;
                Ok(User {
                    id: user.id.clone(),
                    email: user.email.clone(),
                    name: user.name.clone(),
                    image: None,
                    email_verified: false,
                    created_at: user.now_ms,
                })
            }

            async fn find_login(&self, email_key: &str) -> Result<Option<Login>> {
                let sql = concat!(
                    "SELECT ", user_columns!(), ", c.password_hash FROM users u
                     JOIN credentials c ON c.user_id = u.id WHERE u.email_key = $1"
                );
                let row: Option<(String, String, Option<String>, Option<String>, bool, i64, String)> =
                    sqlx::query_as(sql).bind(email_key).fetch_optional(&self.pool).await?;
                Ok(row.map(|(id, email, name, image, email_verified, created_at, password_hash)| Login {
                    user: User { id, email, name, image, email_verified, created_at },
                    password_hash,
                }))
            }

            async fn find_user(&self, user_id: &str) -> Result<Option<User>> {
                let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
                Ok(sqlx::query_as(sql).bind(user_id).fetch_optional(&self.pool).await?)
            }

            async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<()> {
                sqlx::query("UPDATE credentials SET password_hash = $1, updated_at = $2 WHERE user_id = $3")
                    .bind(hash)
                    .bind(now_ms)
                    .bind(user_id)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn create_session(
                &self,
                session: &NewSession,
                event: &NewEvent,
                replaces: Option<&Replaced<'_>>,
            ) -> Result<()> {
                let mut tx = self.writer.begin().await?;
                insert_session!(session, &mut *tx);
                insert_event!(event, &mut *tx);
                if let Some(old) = replaces {
                    let ended = sqlx::query(
                        "UPDATE sessions SET revoked_at = $1
                         WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                    )
                    .bind(session.now_ms)
                    .bind(old.session_id)
                    .bind(old.user_id)
                    .execute(&mut *tx)
                    .await?;
                    if ended.rows_affected() == 1 {
                        insert_event!(old.event, &mut *tx);
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn live_session_expiry(
                &self,
                session_id: &str,
                user_id: &str,
                now_ms: i64,
            ) -> Result<Option<i64>> {
                let found: Option<(i64,)> = sqlx::query_as(
                    "SELECT expires_at FROM sessions
                     WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3",
                )
                .bind(session_id)
                .bind(user_id)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.map(|(expires_at,)| expires_at))
            }

            async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
                let sql = concat!(
                    "SELECT ", user_columns!(), ", s.id, s.refresh_seed, r.generation, r.spent_at,
                            s.generation, s.revoked_at, s.expires_at,
                            COALESCE(s.absolute_expires_at, s.expires_at)
                     FROM refresh_tokens r
                     JOIN sessions s ON s.id = r.session_id
                     JOIN users u ON u.id = s.user_id
                     WHERE r.token_hash = $1"
                );
                type Row = (
                    String, String, Option<String>, Option<String>, bool, i64,
                    String, Option<String>, i64, Option<i64>, i64, Option<i64>, i64, i64,
                );
                let row: Option<Row> = sqlx::query_as(sql).bind(token_hash).fetch_optional(&self.pool).await?;
                Ok(row.and_then(|(id, email, name, image, email_verified, created_at,
                                  session_id, seed, token_generation, spent_at,
                                  session_generation, revoked_at, expires_at, absolute_expires_at)| {
                    // A session from before refresh tokens has no seed, and so no tokens.
                    Some(RefreshRecord {
                        user: User { id, email, name, image, email_verified, created_at },
                        session_id,
                        refresh_seed: seed?,
                        token_generation,
                        spent_at,
                        session_generation,
                        revoked: revoked_at.is_some(),
                        expires_at,
                        absolute_expires_at,
                    })
                }))
            }

            async fn rotate_refresh(&self, r: &Rotation) -> Result<bool> {
                let mut tx = self.writer.begin().await?;
                // The compare-and-set comes first: it takes the write lock at once on SQLite
                // (no stale read to upgrade) and the row lock on PostgreSQL, where a
                // concurrent loser re-checks `generation` after the winner commits and finds
                // nothing to update.
                let advanced = sqlx::query(
                    "UPDATE sessions SET generation = $1, last_seen_at = $2, expires_at = $3
                     WHERE id = $4 AND generation = $5 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(r.from_generation + 1)
                .bind(r.now_ms)
                .bind(r.expires_at_ms)
                .bind(&r.session_id)
                .bind(r.from_generation)
                .execute(&mut *tx)
                .await?;
                if advanced.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE refresh_tokens SET spent_at = $1
                     WHERE token_hash = $2 AND session_id = $3 AND spent_at IS NULL",
                )
                .bind(r.now_ms)
                .bind(&r.presented_hash)
                .bind(&r.session_id)
                .execute(&mut *tx)
                .await?;
                insert_refresh_token!(&r.next_hash, &r.session_id, r.from_generation + 1, r.now_ms, &mut *tx);
                tx.commit().await?;
                Ok(true)
            }

            async fn list_sessions(&self, user_id: &str, now_ms: i64) -> Result<Vec<SessionInfo>> {
                Ok(sqlx::query_as(
                    "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
                     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
                     ORDER BY last_seen_at DESC, id",
                )
                .bind(user_id)
                .bind(now_ms)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn revoke_session(
                &self,
                session_id: &str,
                user_id: &str,
                now_ms: i64,
                event: &NewEvent,
            ) -> Result<bool> {
                let mut tx = self.writer.begin().await?;
                let done = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1
                     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                )
                .bind(now_ms)
                .bind(session_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                let revoked = done.rows_affected() == 1;
                if revoked {
                    insert_event!(event, &mut *tx);
                }
                tx.commit().await?;
                Ok(revoked)
            }

            async fn revoke_other_sessions(
                &self,
                user_id: &str,
                keep: &str,
                now_ms: i64,
                event: &NewEvent,
            ) -> Result<Vec<String>> {
                let mut tx = self.writer.begin().await?;
                let revoked: Vec<(String,)> = sqlx::query_as(
                    "UPDATE sessions SET revoked_at = $1
                     WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL
                     RETURNING id",
                )
                .bind(now_ms)
                .bind(user_id)
                .bind(keep)
                .fetch_all(&mut *tx)
                .await?;
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(revoked.into_iter().map(|(id,)| id).collect())
            }

            async fn enqueue(&self, outgoing: &[Outgoing], event: Option<&NewEvent>) -> Result<()> {
                let mut tx = self.writer.begin().await?;
                for out in outgoing {
                    insert_outgoing!(out, &mut *tx);
                }
                if let Some(event) = event {
                    insert_event!(event, &mut *tx);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn enqueue_throttled(
                &self,
                throttle: &Throttle,
                outgoing: &[Outgoing],
                event: &NewEvent,
            ) -> Result<Option<i64>> {
                let mut tx = self.writer.begin().await?;
                // Serialises concurrent requests for one user, so the check below and the
                // insert after it cannot interleave.
                lock_user!(&throttle.user_id, throttle.now_ms, &mut *tx);
                let (last,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MAX(created_at) FROM one_time_tokens WHERE user_id = $1 AND purpose = $2",
                )
                .bind(&throttle.user_id)
                .bind(throttle.purpose)
                .fetch_one(&mut *tx)
                .await?;
                if let Some(last) = last.filter(|at| throttle.now_ms - at < throttle.interval_ms) {
                    tx.rollback().await?;
                    return Ok(Some(last + throttle.interval_ms));
                }
                for out in outgoing {
                    insert_outgoing!(out, &mut *tx);
                }
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(None)
            }

            async fn find_one_time(
                &self,
                token_hash: &str,
                purpose: &str,
                now_ms: i64,
            ) -> Result<Option<OneTimeRecord>> {
                let sql = concat!(
                    "SELECT ", user_columns!(), ", t.email FROM one_time_tokens t
                     JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL
                       AND t.expires_at > $3"
                );
                let row: Option<(String, String, Option<String>, Option<String>, bool, i64, String)> =
                    sqlx::query_as(sql)
                        .bind(token_hash)
                        .bind(purpose)
                        .bind(now_ms)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, email, name, image, email_verified, created_at, sent_to)| OneTimeRecord {
                    user: User { id, email, name, image, email_verified, created_at },
                    email: sent_to,
                }))
            }

            async fn reset_password(
                &self,
                consume: &Consume,
                password_hash: &str,
                mail: &NewMail,
                event: &NewEvent,
            ) -> Result<Option<Vec<String>>> {
                let mut tx = self.writer.begin().await?;
                lock_user!(&consume.user_id, consume.now_ms, &mut *tx);
                if !consume_token!(consume, &mut *tx) {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let now_ms = consume.now_ms;
                sqlx::query("UPDATE credentials SET password_hash = $1, updated_at = $2 WHERE user_id = $3")
                    .bind(password_hash)
                    .bind(now_ms)
                    .bind(&consume.user_id)
                    .execute(&mut *tx)
                    .await?;
                // The link reached the inbox, which proves the address as well as a
                // verification link would; and it lifts a sign-in block.
                clear_user_failures!(&consume.user_id, &mut *tx);
                sqlx::query("UPDATE users SET email_verified = TRUE, updated_at = $1 WHERE id = $2")
                    .bind(now_ms)
                    .bind(&consume.user_id)
                    .execute(&mut *tx)
                    .await?;
                // Whoever asked for other links may be the reason for this reset: a pending
                // move to another address must not outlive it, nor an unblock link (the
                // reset lifted the block; the link would only buy a guesser 100 more tries).
                for purpose in ["reset_password", "change_email", "unblock_sign_in"] {
                    spend_tokens!(&consume.user_id, purpose, now_ms, &mut *tx);
                }
                let revoked = revoke_sessions!(&consume.user_id, "", now_ms, &mut *tx);
                insert_mail!(mail, &mut *tx);
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(Some(revoked))
            }

            async fn verify_email(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>> {
                let mut tx = self.writer.begin().await?;
                lock_user!(&consume.user_id, consume.now_ms, &mut *tx);
                if !consume_token!(consume, &mut *tx) {
                    tx.rollback().await?;
                    return Ok(None);
                }
                // Only the address the link was sent to: after an email change, an old
                // link must not vouch for the new address.
                let sql = concat!(
                    "UPDATE users SET email_verified = TRUE, updated_at = $1
                     WHERE id = $2 AND email = (SELECT email FROM one_time_tokens WHERE token_hash = $3)
                     RETURNING ", user_fields!()
                );
                let user: Option<User> = sqlx::query_as(sql)
                    .bind(consume.now_ms)
                    .bind(&consume.user_id)
                    .bind(&consume.token_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                if user.is_none() {
                    tx.rollback().await?;
                    return Ok(None);
                }
                spend_tokens!(&consume.user_id, "verify_email", consume.now_ms, &mut *tx);
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(user)
            }

            async fn change_email(
                &self,
                consume: &Consume,
                new_email: &str,
                new_email_key: &str,
                mail: &NewMail,
                event: &NewEvent,
            ) -> Result<Option<User>> {
                let mut tx = self.writer.begin().await?;
                lock_user!(&consume.user_id, consume.now_ms, &mut *tx);
                if !consume_token!(consume, &mut *tx) {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let sql = concat!(
                    "UPDATE users SET email = $1, email_key = $2, email_verified = TRUE, updated_at = $3
                     WHERE id = $4 RETURNING ", user_fields!()
                );
                // A unique violation (someone took the address meanwhile) rolls the whole
                // transaction back, token included, and surfaces as a conflict.
                let user: Option<User> = sqlx::query_as(sql)
                    .bind(new_email)
                    .bind(new_email_key)
                    .bind(consume.now_ms)
                    .bind(&consume.user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                // Asked for with revokeOtherSessions: every session but the one that asked
                // ends with the old address (their tokens carry it).
                let (keep,): (Option<String>,) = sqlx::query_as(
                    "SELECT keep_session FROM one_time_tokens WHERE token_hash = $1",
                )
                .bind(&consume.token_hash)
                .fetch_one(&mut *tx)
                .await?;
                if let Some(keep) = keep {
                    let _ended = revoke_sessions!(&consume.user_id, &keep, consume.now_ms, &mut *tx);
                }
                // Links sent to the old address no longer prove anything.
                spend_tokens!(&consume.user_id, "verify_email", consume.now_ms, &mut *tx);
                spend_tokens!(&consume.user_id, "change_email", consume.now_ms, &mut *tx);
                spend_tokens!(&consume.user_id, "reset_password", consume.now_ms, &mut *tx);
                spend_tokens!(&consume.user_id, "unblock_sign_in", consume.now_ms, &mut *tx);
                // As at registration: the new address's streak was run up by someone else.
                clear_failures!(new_email_key, &mut *tx);
                insert_mail!(mail, &mut *tx);
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(user)
            }

            async fn change_password(
                &self,
                user_id: &str,
                password_hash: &str,
                swap: &SessionSwap<'_>,
                revoke_others: bool,
                mail: &NewMail,
                event: &NewEvent,
            ) -> Result<Option<Vec<String>>> {
                let now_ms = swap.opens.now_ms;
                let mut tx = self.writer.begin().await?;
                lock_user!(user_id, now_ms, &mut *tx);
                sqlx::query("UPDATE credentials SET password_hash = $1, updated_at = $2 WHERE user_id = $3")
                    .bind(password_hash)
                    .bind(now_ms)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                insert_session!(swap.opens, &mut *tx);
                let revoked = if revoke_others {
                    revoke_sessions!(user_id, &swap.opens.id, now_ms, &mut *tx)
                } else {
                    let ended: Vec<(String,)> = sqlx::query_as(
                        "UPDATE sessions SET revoked_at = $1
                         WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL
                         RETURNING id",
                    )
                    .bind(now_ms)
                    .bind(swap.ends)
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    ended.into_iter().map(|(id,)| id).collect()
                };
                // Signed out (or revoked) since the request was authenticated: a dead
                // session must not change the password, nor open a new session.
                if !revoked.iter().any(|id| id == swap.ends) {
                    tx.rollback().await?;
                    return Ok(None);
                }
                for purpose in ["reset_password", "change_email"] {
                    spend_tokens!(user_id, purpose, now_ms, &mut *tx);
                }
                insert_mail!(mail, &mut *tx);
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(Some(revoked))
            }

            async fn update_profile(
                &self,
                user_id: &str,
                patch: &ProfilePatch,
                now_ms: i64,
                event: &NewEvent,
            ) -> Result<Option<User>> {
                let mut tx = self.writer.begin().await?;
                let sql = concat!(
                    "UPDATE users SET
                        name = CASE WHEN $1 THEN $2 ELSE name END,
                        image = CASE WHEN $3 THEN $4 ELSE image END,
                        updated_at = $5
                     WHERE id = $6 RETURNING ", user_fields!()
                );
                let user: Option<User> = sqlx::query_as(sql)
                    .bind(patch.name.is_some())
                    .bind(patch.name.clone().flatten())
                    .bind(patch.image.is_some())
                    .bind(patch.image.clone().flatten())
                    .bind(now_ms)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if user.is_some() {
                    insert_event!(event, &mut *tx);
                }
                tx.commit().await?;
                Ok(user)
            }

            async fn due_mail(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingMail>> {
                type Row = (String, String, String, String, i64, i64, Option<String>, Option<String>, Option<String>, Option<String>);
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT o.id, o.kind, o.recipient, o.data, o.attempts, o.created_at, o.token_id, t.seed, t.purpose, t.token_hash
                     FROM mail_outbox o LEFT JOIN one_time_tokens t ON t.id = o.token_id
                     WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
                     ORDER BY o.next_attempt_at, o.created_at, o.id LIMIT $2",
                )
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, kind, recipient, data, attempts, created_at, token_id, token_seed, token_purpose, token_hash)| PendingMail {
                        id, kind, recipient, data, attempts, created_at, token_id, token_seed, token_purpose, token_hash,
                    })
                    .collect())
            }

            async fn claim_mail(&self, id: &str, attempts: i64, lease_until_ms: i64) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1
                     WHERE id = $2 AND attempts = $3 AND sent_at IS NULL AND failed_at IS NULL",
                )
                .bind(lease_until_ms)
                .bind(id)
                .bind(attempts)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn mail_sent(&self, id: &str, attempt: i64, now_ms: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE mail_outbox SET sent_at = $1, last_error = NULL
                     WHERE id = $2 AND attempts = $3 AND sent_at IS NULL",
                )
                .bind(now_ms)
                .bind(id)
                .bind(attempt)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn mail_not_sent(
                &self,
                id: &str,
                attempt: i64,
                error: &str,
                retry_at_ms: Option<i64>,
                now_ms: i64,
            ) -> Result<()> {
                // Only while this attempt still holds the row: a worker whose lease ran out
                // must not undo what the next one did.
                let sql = match retry_at_ms {
                    Some(_) => "UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2
                                WHERE id = $3 AND attempts = $4 AND sent_at IS NULL",
                    None => "UPDATE mail_outbox SET failed_at = $1, last_error = $2
                             WHERE id = $3 AND attempts = $4 AND sent_at IS NULL",
                };
                sqlx::query(sql)
                    .bind(retry_at_ms.unwrap_or(now_ms))
                    .bind(error)
                    .bind(id)
                    .bind(attempt)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn outbox_counts(&self) -> Result<OutboxCounts> {
                // Each count is served by its partial index: sent rows are never scanned.
                let (pending, failed): (i64, i64) = sqlx::query_as(
                    "SELECT
                        (SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL),
                        (SELECT COUNT(*) FROM mail_outbox WHERE failed_at IS NOT NULL)",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(OutboxCounts { pending, failed })
            }

            async fn failure_streak(&self, email_key: &str) -> Result<FailureStreak> {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT failures, last_failed_at FROM sign_in_failures WHERE email_key = $1",
                )
                .bind(email_key)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map_or_else(FailureStreak::default, |(failures, at)| FailureStreak {
                    failures,
                    last_failed_at: Some(at),
                }))
            }

            async fn sign_in_failed(
                &self,
                email_key: &str,
                now_ms: i64,
                event: Option<&NewEvent>,
            ) -> Result<i64> {
                let mut tx = self.writer.begin().await?;
                let failures = count_failure!(email_key, now_ms, &mut *tx);
                if let Some(event) = event {
                    insert_event!(event, &mut *tx);
                }
                tx.commit().await?;
                Ok(failures)
            }

            async fn sign_in_failed_notifying(
                &self,
                email_key: &str,
                now_ms: i64,
                event: &NewEvent,
                notice: &BlockNotice,
            ) -> Result<(i64, bool)> {
                let mut tx = self.writer.begin().await?;
                let failures = count_failure!(email_key, now_ms, &mut *tx);
                insert_event!(event, &mut *tx);
                // Exactly the crossing failure: the upsert above serialises concurrent
                // failures on this row, so only one of them sees `block_at`.
                let mut written = false;
                if failures == notice.block_at {
                    // No user lock: only this one failure of the streak writes an unblock
                    // email, and taking the user row after the streak row would invert the
                    // order password reset takes them in.
                    let throttle = &notice.throttle;
                    let (last,): (Option<i64>,) = sqlx::query_as(
                        "SELECT MAX(created_at) FROM one_time_tokens WHERE user_id = $1 AND purpose = $2",
                    )
                    .bind(&throttle.user_id)
                    .bind(throttle.purpose)
                    .fetch_one(&mut *tx)
                    .await?;
                    if !last.is_some_and(|at| throttle.now_ms - at < throttle.interval_ms) {
                        insert_outgoing!(&notice.outgoing, &mut *tx);
                        written = true;
                    }
                }
                tx.commit().await?;
                Ok((failures, written))
            }

            async fn unblock(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>> {
                let mut tx = self.writer.begin().await?;
                lock_user!(&consume.user_id, consume.now_ms, &mut *tx);
                if !consume_token!(consume, &mut *tx) {
                    tx.rollback().await?;
                    return Ok(None);
                }
                // The address the account signs in with now, as a password reset does.
                clear_user_failures!(&consume.user_id, &mut *tx);
                let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
                let user: Option<User> = sqlx::query_as(sql)
                    .bind(&consume.user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                insert_event!(event, &mut *tx);
                tx.commit().await?;
                Ok(user)
            }

            async fn sign_in_succeeded(&self, email_key: &str) -> Result<()> {
                sqlx::query("DELETE FROM sign_in_failures WHERE email_key = $1")
                    .bind(email_key)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn rate_hit(
                &self,
                bucket: &str,
                window: i64,
                delta: i64,
                expires_at_ms: i64,
            ) -> Result<(i64, i64)> {
                // One upsert: concurrent hits on one counter each get their own count.
                let (current,): (i64,) = sqlx::query_as(
                    "INSERT INTO rate_counters (bucket, win, hits, expires_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (bucket, win) DO UPDATE SET hits = rate_counters.hits + $3
                     RETURNING hits",
                )
                .bind(bucket)
                .bind(window)
                .bind(delta)
                .bind(expires_at_ms)
                .fetch_one(&self.writer)
                .await?;
                let previous: Option<(i64,)> =
                    sqlx::query_as("SELECT hits FROM rate_counters WHERE bucket = $1 AND win = $2")
                        .bind(bucket)
                        .bind(window.saturating_sub(1))
                        .fetch_optional(&self.writer)
                        .await?;
                Ok((previous.map_or(0, |(hits,)| hits), current))
            }

            async fn rate_purge(&self, now_ms: i64) -> Result<u64> {
                let done = sqlx::query("DELETE FROM rate_counters WHERE expires_at < $1")
                    .bind(now_ms)
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn record_event(&self, event: &NewEvent) -> Result<()> {
                insert_event!(event, &self.writer);
                Ok(())
            }

            async fn security_events(&self, user_id: &str, limit: i64) -> Result<Vec<SecurityEvent>> {
                Ok(sqlx::query_as(
                    "SELECT id, kind, user_id, session_id, ip, user_agent, created_at
                     FROM security_events WHERE user_id = $1
                     ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn list_tasks(&self, user_id: &str) -> Result<Vec<Task>> {
                let sql = concat!(
                    "SELECT ", task_columns!(), " FROM tasks WHERE user_id = $1
                     ORDER BY created_at DESC, id DESC"
                );
                Ok(sqlx::query_as(sql).bind(user_id).fetch_all(&self.pool).await?)
            }

            async fn create_task(&self, task: &NewTask) -> Result<Task> {
                sqlx::query(
                    "INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, FALSE, $5, $5)",
                )
                .bind(&task.id)
                .bind(&task.user_id)
                .bind(&task.title)
                .bind(&task.description)
                .bind(task.now_ms)
                .execute(&self.writer)
                .await?;
                Ok(Task {
                    id: task.id.clone(),
                    title: task.title.clone(),
                    description: task.description.clone(),
                    completed: false,
                    created_at: task.now_ms,
                    updated_at: task.now_ms,
                })
            }

            async fn find_task(&self, user_id: &str, task_id: &str) -> Result<Option<Task>> {
                let sql = concat!("SELECT ", task_columns!(), " FROM tasks WHERE id = $1 AND user_id = $2");
                Ok(sqlx::query_as(sql).bind(task_id).bind(user_id).fetch_optional(&self.pool).await?)
            }

            async fn update_task(
                &self,
                user_id: &str,
                task_id: &str,
                patch: &TaskPatch,
                now_ms: i64,
            ) -> Result<Option<Task>> {
                // One statement: the ownership check and the write cannot be separated.
                let sql = concat!(
                    "UPDATE tasks SET
                        title = COALESCE($1, title),
                        description = CASE WHEN $2 THEN $3 ELSE description END,
                        completed = COALESCE($4, completed),
                        updated_at = $5
                     WHERE id = $6 AND user_id = $7
                     RETURNING ", task_columns!()
                );
                Ok(sqlx::query_as(sql)
                    .bind(&patch.title)
                    .bind(patch.description.is_some())
                    .bind(patch.description.clone().flatten())
                    .bind(patch.completed)
                    .bind(now_ms)
                    .bind(task_id)
                    .bind(user_id)
                    .fetch_optional(&self.writer)
                    .await?)
            }

            async fn delete_task(&self, user_id: &str, task_id: &str) -> Result<bool> {
                let done = sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
                    .bind(task_id)
                    .bind(user_id)
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

macro_rules! insert_session {
    ($session:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at,
                                   absolute_expires_at, refresh_seed, generation, user_agent, ip)
             VALUES ($1, $2, $3, $3, $4, $5, $6, 0, $7, $8)",
        )
        .bind(&$session.id)
        .bind(&$session.user_id)
        .bind($session.now_ms)
        .bind($session.expires_at_ms)
        .bind($session.absolute_expires_at_ms)
        .bind(&$session.refresh_seed)
        .bind(&$session.user_agent)
        .bind(&$session.ip)
        .execute(&mut *$executor)
        .await?;
        insert_refresh_token!(&$session.refresh_hash, &$session.id, 0_i64, $session.now_ms, &mut *$executor);
    };
}

macro_rules! insert_refresh_token {
    ($hash:expr, $session_id:expr, $generation:expr, $now_ms:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, generation, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind($hash)
        .bind($session_id)
        .bind($generation)
        .bind($now_ms)
        .execute($executor)
        .await?;
    };
}

/// Spends a one-time token: the compare-and-set that makes it single-use. It must be the
/// first statement of its transaction (the write lock is taken at once on SQLite; on
/// PostgreSQL a concurrent loser re-checks `used_at` after the winner commits). True if
/// this call spent it.
macro_rules! consume_token {
    ($consume:expr, $executor:expr) => {
        sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1
             WHERE token_hash = $2 AND purpose = $3 AND user_id = $4
               AND used_at IS NULL AND expires_at > $1",
        )
        .bind($consume.now_ms)
        .bind(&$consume.token_hash)
        .bind($consume.purpose)
        .bind(&$consume.user_id)
        .execute($executor)
        .await?
        .rows_affected()
            == 1
    };
}

/// Takes the user's row lock first, so every transaction that touches one user's tokens,
/// credentials and sessions locks in the same order (no deadlock between two links of one
/// user used at once) and concurrent ones for a user run one after the other.
macro_rules! lock_user {
    ($user_id:expr, $now_ms:expr, $executor:expr) => {
        sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
            .bind($now_ms)
            .bind($user_id)
            .execute($executor)
            .await?;
    };
}

/// Spends every unused token of the user with this purpose.
macro_rules! spend_tokens {
    ($user_id:expr, $purpose:expr, $now_ms:expr, $executor:expr) => {
        sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1
             WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind($now_ms)
        .bind($user_id)
        .bind($purpose)
        .execute($executor)
        .await?;
    };
}

/// Forgets the failure streak of the address a user signs in with now.
macro_rules! clear_user_failures {
    ($user_id:expr, $executor:expr) => {
        sqlx::query(
            "DELETE FROM sign_in_failures
             WHERE email_key = (SELECT email_key FROM users WHERE id = $1)",
        )
        .bind($user_id)
        .execute($executor)
        .await?;
    };
}

/// Forgets the failure streak of an address.
macro_rules! clear_failures {
    ($email_key:expr, $executor:expr) => {
        sqlx::query("DELETE FROM sign_in_failures WHERE email_key = $1")
            .bind($email_key)
            .execute($executor)
            .await?;
    };
}

/// Adds one failure to the address's streak (creating it); the streak's length after it.
macro_rules! count_failure {
    ($email_key:expr, $now_ms:expr, $executor:expr) => {{
        let (failures,): (i64,) = sqlx::query_as(
            "INSERT INTO sign_in_failures (email_key, failures, last_failed_at) VALUES ($1, 1, $2)
             ON CONFLICT (email_key) DO UPDATE
             SET failures = sign_in_failures.failures + 1, last_failed_at = $2
             RETURNING failures",
        )
        .bind($email_key)
        .bind($now_ms)
        .fetch_one($executor)
        .await?;
        failures
    }};
}

/// Revokes the user's unrevoked sessions other than `keep` ("" keeps none); their ids.
macro_rules! revoke_sessions {
    ($user_id:expr, $keep:expr, $now_ms:expr, $executor:expr) => {{
        let revoked: Vec<(String,)> = sqlx::query_as(
            "UPDATE sessions SET revoked_at = $1
             WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL
             RETURNING id",
        )
        .bind($now_ms)
        .bind($user_id)
        .bind($keep)
        .fetch_all($executor)
        .await?;
        revoked.into_iter().map(|(id,)| id).collect::<Vec<String>>()
    }};
}

macro_rules! insert_outgoing {
    ($out:expr, $executor:expr) => {
        if let Some(token) = &$out.token {
            sqlx::query(
                "INSERT INTO one_time_tokens (id, token_hash, seed, user_id, purpose, email, created_at, expires_at, keep_session)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&token.id)
            .bind(&token.token_hash)
            .bind(&token.seed)
            .bind(&token.user_id)
            .bind(token.purpose)
            .bind(&token.email)
            .bind(token.now_ms)
            .bind(token.expires_at_ms)
            .bind(&token.keep_session)
            .execute(&mut *$executor)
            .await?;
        }
        insert_mail!(&$out.mail, &mut *$executor);
    };
}

macro_rules! insert_mail {
    ($mail:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO mail_outbox (id, kind, recipient, data, token_id, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&$mail.id)
        .bind($mail.kind)
        .bind(&$mail.recipient)
        .bind(&$mail.data)
        .bind(&$mail.token_id)
        .bind($mail.now_ms)
        .execute($executor)
        .await?;
    };
}

macro_rules! insert_event {
    ($event:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO security_events (id, kind, user_id, session_id, ip, user_agent, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&$event.id)
        .bind($event.kind)
        .bind(&$event.user_id)
        .bind(&$event.session_id)
        .bind(&$event.ip)
        .bind(&$event.user_agent)
        .bind($event.now_ms)
        .execute($executor)
        .await?;
    };
}

impl_store!(SqliteStore, "sqlite");
impl_store!(PgStore, "postgres");

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_with_full_synchronous_commits() {
        let dir = std::env::temp_dir().join(format!("latchkey-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/pragmas.db", dir.display());
        let store = SqliteStore::connect(&url).await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "2 is FULL");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A session written before 0002 (no seed, no absolute expiry) keeps working for its
    /// access tokens and the session list; it has no refresh tokens to find.
    #[tokio::test]
    async fn a_session_from_before_refresh_tokens_survives_the_migration() {
        let dir = std::env::temp_dir().join(format!("latchkey-store-0001-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/old.db", dir.display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let only_0001 = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(SQLITE_MIGRATIONS.migrations[..1].to_vec()),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        only_0001.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO users (id, email, email_key, email_verified, created_at, updated_at)
             VALUES ('u', 'a@b.co', 'a@b.co', FALSE, 0, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at)
             VALUES ('s', 'u', 0, 0, 1000000)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = SqliteStore::connect(&url).await.unwrap();
        assert_eq!(
            store.live_session_expiry("s", "u", 10).await.unwrap(),
            Some(1_000_000)
        );
        assert_eq!(store.list_sessions("u", 10).await.unwrap().len(), 1);
        let (absolute,): (Option<i64>,) =
            sqlx::query_as("SELECT absolute_expires_at FROM sessions WHERE id = 's'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(absolute, Some(1_000_000));
        assert!(store.find_refresh("any-hash").await.unwrap().is_none());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_in_memory_database_is_one_migrated_database() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        // Concurrent queries would open more connections if the pool allowed it; each must
        // still find the migrated tables.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let pool = store.pool().clone();
                tokio::spawn(async move {
                    sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM users")
                        .fetch_one(&pool)
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().0, 0);
        }
    }
}
