//! Sessions and their refresh tokens: opening, checking, rotating, ending.

use crate::db::{On, Tx, sql};
use crate::events::insert_event;
use crate::imported_sessions::forget_pending;
use crate::{
    NewEvent, NewSession, RefreshRecord, Replaced, Result, Rotation, SessionInfo, SqlStore, User,
};

#[async_trait::async_trait]
pub trait Sessions: Send + Sync {
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

    /// Revokes every unrevoked session of the user except `keep` (none kept: `None`),
    /// deletes their imported sessions not yet exchanged, records `event`, and returns the
    /// ids it revoked.
    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Vec<String>>;
}

/// A refresh token's row joined with its session and user.
#[derive(sqlx::FromRow)]
struct RefreshRow {
    #[sqlx(flatten)]
    user: User,
    session_id: String,
    refresh_seed: Option<String>,
    token_generation: i64,
    spent_at: Option<i64>,
    session_generation: i64,
    revoked_at: Option<i64>,
    expires_at: i64,
    absolute_expires_at: i64,
}

#[async_trait::async_trait]
impl Sessions for SqlStore {
    async fn create_session(
        &self,
        session: &NewSession,
        event: &NewEvent,
        replaces: Option<&Replaced<'_>>,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        insert_session(&mut tx, session).await?;
        insert_event(&mut tx, event).await?;
        if let Some(old) = replaces
            && end_session(&mut tx, old.session_id, old.user_id, session.now_ms).await?
        {
            insert_event(&mut tx, old.event).await?;
        }
        tx.commit().await
    }

    async fn live_session_expiry(
        &self,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        let found: Option<(i64,)> = sql("SELECT expires_at FROM sessions
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3")
        .bind(session_id)
        .bind(user_id)
        .bind(now_ms)
        .fetch_optional(&mut self.db.read().await?)
        .await?;
        Ok(found.map(|(expires_at,)| expires_at))
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        let row: Option<RefreshRow> = sql(
            "SELECT u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.locale,
                    s.id AS session_id, s.refresh_seed, r.generation AS token_generation,
                    r.spent_at, s.generation AS session_generation, s.revoked_at, s.expires_at,
                    COALESCE(s.absolute_expires_at, s.expires_at) AS absolute_expires_at
             FROM refresh_tokens r
             JOIN sessions s ON s.id = r.session_id
             JOIN users u ON u.id = s.user_id
             WHERE r.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut self.db.read().await?)
        .await?;
        Ok(row.and_then(|row| {
            // A session from before refresh tokens has no seed, and so no tokens.
            Some(RefreshRecord {
                user: row.user,
                session_id: row.session_id,
                refresh_seed: row.refresh_seed?,
                token_generation: row.token_generation,
                spent_at: row.spent_at,
                session_generation: row.session_generation,
                revoked: row.revoked_at.is_some(),
                expires_at: row.expires_at,
                absolute_expires_at: row.absolute_expires_at,
            })
        }))
    }

    async fn rotate_refresh(&self, r: &Rotation) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        // The compare-and-set comes first: it takes the write lock at once on SQLite (no
        // stale read to upgrade) and the row lock on PostgreSQL, where a concurrent loser
        // re-checks `generation` after the winner commits and finds nothing to update.
        let advanced = sql(
            "UPDATE sessions SET generation = $1, last_seen_at = $2, expires_at = $3
             WHERE id = $4 AND generation = $5 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(r.from_generation + 1)
        .bind(r.now_ms)
        .bind(r.expires_at_ms)
        .bind(&r.session_id)
        .bind(r.from_generation)
        .execute(&mut tx)
        .await?;
        if advanced != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sql("UPDATE refresh_tokens SET spent_at = $1
             WHERE token_hash = $2 AND session_id = $3 AND spent_at IS NULL")
        .bind(r.now_ms)
        .bind(&r.presented_hash)
        .bind(&r.session_id)
        .execute(&mut tx)
        .await?;
        let generation = r.from_generation + 1;
        insert_refresh_token(&mut tx, &r.next_hash, &r.session_id, generation, r.now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_sessions(&self, user_id: &str, now_ms: i64) -> Result<Vec<SessionInfo>> {
        sql(
            "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
             ORDER BY last_seen_at DESC, id",
        )
        .bind(user_id)
        .bind(now_ms)
        .fetch_all(&mut self.db.read().await?)
        .await
    }

    async fn revoke_session(
        &self,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let revoked = end_session(&mut tx, session_id, user_id, now_ms).await?;
        if revoked {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Vec<String>> {
        let mut tx = self.db.begin().await?;
        // First: an exchange holding the row makes this wait, and the revocation below then
        // sees the session it opened.
        forget_pending(&mut tx, user_id).await?;
        let revoked = revoke_sessions(&mut tx, user_id, keep, now_ms).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(revoked)
    }
}

/// Writes a session and its generation-0 refresh token.
pub(crate) async fn insert_session(tx: &mut Tx, session: &NewSession) -> Result<()> {
    sql(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at,
                               absolute_expires_at, refresh_seed, generation, user_agent, ip)
         VALUES ($1, $2, $3, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(&session.id)
    .bind(&session.user_id)
    .bind(session.now_ms)
    .bind(session.expires_at_ms)
    .bind(session.absolute_expires_at_ms)
    .bind(&session.refresh_seed)
    .bind(&session.user_agent)
    .bind(&session.ip)
    .execute(tx)
    .await?;
    insert_refresh_token(tx, &session.refresh_hash, &session.id, 0, session.now_ms).await
}

async fn insert_refresh_token(
    tx: &mut Tx,
    hash: &str,
    session_id: &str,
    generation: i64,
    now_ms: i64,
) -> Result<()> {
    sql(
        "INSERT INTO refresh_tokens (token_hash, session_id, generation, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(session_id)
    .bind(generation)
    .bind(now_ms)
    .execute(tx)
    .await?;
    Ok(())
}

/// Revokes one of the user's sessions; whether it was live (unrevoked) until now.
pub(crate) async fn end_session(
    on: &mut impl On,
    session_id: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<bool> {
    let ended = sql("UPDATE sessions SET revoked_at = $1
         WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
    .bind(now_ms)
    .bind(session_id)
    .bind(user_id)
    .execute(on)
    .await?;
    Ok(ended == 1)
}

/// Revokes the user's unrevoked sessions other than `keep`; their ids.
pub(crate) async fn revoke_sessions(
    tx: &mut Tx,
    user_id: &str,
    keep: Option<&str>,
    now_ms: i64,
) -> Result<Vec<String>> {
    // No session has an empty id, so "keep none" is `id <> ''`: one statement either way.
    let revoked: Vec<(String,)> = sql("UPDATE sessions SET revoked_at = $1
         WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL
         RETURNING id")
    .bind(now_ms)
    .bind(user_id)
    .bind(keep.unwrap_or(""))
    .fetch_all(tx)
    .await?;
    Ok(revoked.into_iter().map(|(id,)| id).collect())
}
