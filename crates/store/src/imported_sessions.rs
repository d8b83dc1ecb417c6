//! Sessions imported from the auth system a team switches from (migration 0007): writing
//! them, finding one by the hash of its old token, and exchanging it once for a Latchkey
//! session.
//!
//! A row is spent by the compare-and-set that sets `exchanged_at`, in the transaction that
//! opens the new session, so two requests with one cookie give one session. What ends a
//! user's sessions (a password reset or change, an email change, signing out the others)
//! also ends their rows not yet exchanged ([`forget_pending`]): an old cookie must not
//! open a session after the user ended every other one.

use crate::accounts::lock_user;
use crate::db::{Tx, sql};
use crate::events::insert_event;
use crate::sessions::{end_session, insert_session};
use crate::{NewEvent, NewSession, Replaced, Result, SqlStore, User};

#[async_trait::async_trait]
pub trait ImportedSessions: Send + Sync {
    /// Writes the rows in one transaction; a row whose token hash is already there is left
    /// as it is (an import run twice). Returns how many were new.
    async fn insert_imported_sessions(&self, rows: &[NewImportedSession]) -> Result<u64>;

    /// The unexchanged session from `source` with this token hash, live at `now_ms`, with
    /// its user.
    async fn find_imported_session(
        &self,
        token_hash: &str,
        source: &str,
        now_ms: i64,
    ) -> Result<Option<ImportedSession>>;

    /// The exchange, in one transaction: takes the user's lock, spends the row
    /// (compare-and-set: still unexchanged, still live at `session.now_ms`, still
    /// `session.user_id`'s), opens `session` and records `event`, and ends the session the
    /// client held (`replaces`), recording that one's event. False, and nothing written, if
    /// the row was no longer there to spend.
    async fn exchange_imported_session(
        &self,
        exchange: &Exchange<'_>,
        session: &NewSession,
        event: &NewEvent,
        replaces: Option<&Replaced<'_>>,
    ) -> Result<bool>;
}

/// One imported session: the hash of the old system's token (never the token), whose it
/// is, and when it began and ends (Unix ms).
#[derive(Debug, Clone)]
pub struct NewImportedSession {
    pub token_hash: String,
    /// The system it came from (`latchkey_core::better_auth::SOURCE`).
    pub source: String,
    pub user_id: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// An imported session that can still be exchanged, with its user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportedSession {
    #[sqlx(flatten)]
    pub user: User,
    /// When the old system would have ended it.
    #[sqlx(rename = "session_expires_at")]
    pub expires_at_ms: i64,
}

/// Which row an exchange spends.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub token_hash: &'a str,
    pub source: &'a str,
}

#[async_trait::async_trait]
impl ImportedSessions for SqlStore {
    async fn insert_imported_sessions(&self, rows: &[NewImportedSession]) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let inserted = insert_imported_sessions(&mut tx, rows).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn find_imported_session(
        &self,
        token_hash: &str,
        source: &str,
        now_ms: i64,
    ) -> Result<Option<ImportedSession>> {
        sql(
            "SELECT u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.locale,
                    i.expires_at AS session_expires_at
             FROM imported_sessions i JOIN users u ON u.id = i.user_id
             WHERE i.token_hash = $1 AND i.source = $2 AND i.exchanged_at IS NULL
               AND i.expires_at > $3",
        )
        .bind(token_hash)
        .bind(source)
        .bind(now_ms)
        .fetch_optional(&mut self.db.read().await?)
        .await
    }

    async fn exchange_imported_session(
        &self,
        exchange: &Exchange<'_>,
        session: &NewSession,
        event: &NewEvent,
        replaces: Option<&Replaced<'_>>,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        // The user's lock first, as a password reset takes it: one that commits first has
        // ended the row (nothing to spend here), one that waits revokes the session made
        // here.
        lock_user(&mut tx, &session.user_id, session.now_ms).await?;
        // The compare-and-set that makes the exchange single-use: on PostgreSQL a
        // concurrent loser re-checks `exchanged_at` after the winner commits.
        let spent = sql("UPDATE imported_sessions SET exchanged_at = $1
             WHERE token_hash = $2 AND source = $3 AND user_id = $4
               AND exchanged_at IS NULL AND expires_at > $1")
        .bind(session.now_ms)
        .bind(exchange.token_hash)
        .bind(exchange.source)
        .bind(&session.user_id)
        .execute(&mut tx)
        .await?;
        if spent != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_session(&mut tx, session).await?;
        insert_event(&mut tx, event).await?;
        if let Some(old) = replaces
            && end_session(&mut tx, old.session_id, old.user_id, session.now_ms).await?
        {
            insert_event(&mut tx, old.event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Writes imported sessions inside a transaction of the caller's (an import writes its
/// users in the same one); see [`ImportedSessions::insert_imported_sessions`].
pub(crate) async fn insert_imported_sessions(
    tx: &mut Tx,
    rows: &[NewImportedSession],
) -> Result<u64> {
    let mut inserted = 0;
    for row in rows {
        inserted += sql("INSERT INTO imported_sessions
                 (token_hash, source, user_id, created_at, expires_at, user_agent, ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (token_hash) DO NOTHING")
        .bind(&row.token_hash)
        .bind(&row.source)
        .bind(&row.user_id)
        .bind(row.created_at_ms)
        .bind(row.expires_at_ms)
        .bind(&row.user_agent)
        .bind(&row.ip)
        .execute(tx)
        .await?;
    }
    Ok(inserted)
}

/// Ends these imported sessions (by token hash) if they are not exchanged yet, as
/// [`forget_pending`] does; how many.
pub(crate) async fn expire_pending(tx: &mut Tx, token_hashes: &[String]) -> Result<u64> {
    let mut ended = 0;
    for hash in token_hashes {
        ended += sql("UPDATE imported_sessions SET expires_at = 0
             WHERE token_hash = $1 AND exchanged_at IS NULL")
        .bind(hash)
        .execute(tx)
        .await?;
    }
    Ok(ended)
}

/// Ends the user's imported sessions not yet exchanged, inside the transaction of the
/// change that ends their sessions. The rows stay, expired rather than deleted: a re-run of
/// the import writes a session only where its token hash is not already here, so a deleted
/// row would come back, and with it the old cookie the change was meant to end.
pub(crate) async fn forget_pending(tx: &mut Tx, user_id: &str) -> Result<u64> {
    sql("UPDATE imported_sessions SET expires_at = 0 WHERE user_id = $1 AND exchanged_at IS NULL")
        .bind(user_id)
        .execute(tx)
        .await
}
