//! Imports: users moved over from another system (`latchkey import`), with their ids, their
//! password hashes and, from Better Auth, their live sessions.
//!
//! A batch is one transaction, so a failure part-way leaves nothing of that batch behind.
//! Each user is inserted unless their id or address is already here: the same id with the
//! same address is the same user, imported before, and left exactly as it is now (a re-run
//! changes nothing, and a password changed since in Latchkey is kept); any other overlap is
//! a conflict, reported and not written. A dry run is the same batch rolled back, so what it
//! reports is what a real run would do.
//!
//! Sessions are written where their token hash is not here yet (one exchanged stays
//! spent). A run that brings a source's sessions brings every live one, so once it has read
//! the whole source, a session imported before and still waiting to be exchanged that it did
//! not bring has ended there since — signed out, revoked, its user banned or deleted — and is
//! ended here too ([`Imports::end_sessions_not_brought`]).

use std::collections::HashSet;

use crate::db::{Tx, sql};
use crate::imported_sessions::{expire_pending, insert_imported_sessions};
use crate::streaks::clear_failures;
use crate::{NewImportedSession, Result, SqlStore};

#[async_trait::async_trait]
pub trait Imports: Send + Sync {
    /// Writes `users` (each with a credential, and their sessions) in one transaction and
    /// says what became of each, in order. With `dry_run` the transaction is rolled back.
    async fn import_users(&self, users: &[ImportedUser], dry_run: bool) -> Result<BatchOutcome>;

    /// Ends, in one transaction, every session from `source` still waiting to be exchanged
    /// whose token hash is not in `brought` (the sessions a complete run found live); how
    /// many. With `dry_run`, only counts them.
    async fn end_sessions_not_brought(
        &self,
        source: &str,
        brought: &HashSet<String>,
        dry_run: bool,
    ) -> Result<u64>;
}

/// A user to import, already checked by the caller: the address parsed and normalised as
/// registration does, the hash one sign-in can verify. No `Debug`: it carries the hash.
#[derive(Clone)]
pub struct ImportedUser {
    /// The id the other system gave them, kept: it is the `sub` of their tokens, and the
    /// app's own rows refer to it.
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub name: Option<String>,
    pub image: Option<String>,
    pub email_verified: bool,
    pub created_at_ms: i64,
    pub password_hash: String,
    /// Their live sessions, each with `user_id` this user's `id`. Written only if the user
    /// is (or already was) here.
    pub sessions: Vec<NewImportedSession>,
    /// When the import ran (the rows' `updated_at`).
    pub now_ms: i64,
}

/// What became of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// Written now.
    Inserted,
    /// Already here with this id and address; left as it was.
    Unchanged,
    /// The address belongs to a user with another id.
    EmailTaken,
    /// The id belongs to a user with another address.
    IdTaken,
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// One per user, in the batch's order.
    pub users: Vec<Imported>,
    /// Sessions written now, and those already here (imported before; an exchanged one
    /// stays spent).
    pub sessions_inserted: u64,
    pub sessions_unchanged: u64,
}

#[async_trait::async_trait]
impl Imports for SqlStore {
    async fn import_users(&self, users: &[ImportedUser], dry_run: bool) -> Result<BatchOutcome> {
        let mut tx = self.db.begin().await?;
        let mut outcome = BatchOutcome::default();
        for user in users {
            let imported = import_user(&mut tx, user).await?;
            if matches!(imported, Imported::Inserted | Imported::Unchanged) {
                let inserted = insert_imported_sessions(&mut tx, &user.sessions).await?;
                outcome.sessions_inserted += inserted;
                outcome.sessions_unchanged += user.sessions.len() as u64 - inserted;
            }
            outcome.users.push(imported);
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn end_sessions_not_brought(
        &self,
        source: &str,
        brought: &HashSet<String>,
        dry_run: bool,
    ) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let pending: Vec<(String,)> = sql("SELECT token_hash FROM imported_sessions
             WHERE source = $1 AND exchanged_at IS NULL AND expires_at > 0")
        .bind(source)
        .fetch_all(&mut tx)
        .await?;
        let gone: Vec<String> = pending
            .into_iter()
            .map(|(hash,)| hash)
            .filter(|hash| !brought.contains(hash))
            .collect();
        if dry_run {
            tx.rollback().await?;
            return Ok(gone.len() as u64);
        }
        let ended = expire_pending(&mut tx, &gone).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

async fn import_user(tx: &mut Tx, user: &ImportedUser) -> Result<Imported> {
    // DO NOTHING on either unique column (id, email_key): no error aborts the transaction,
    // and the look-up below tells which one it was.
    let inserted = sql("INSERT INTO users
             (id, email, email_key, name, image, email_verified, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT DO NOTHING")
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.email_key)
    .bind(&user.name)
    .bind(&user.image)
    .bind(user.email_verified)
    .bind(user.created_at_ms)
    .bind(user.now_ms)
    .execute(tx)
    .await?;
    if inserted == 1 {
        sql("INSERT INTO credentials (user_id, password_hash, updated_at) VALUES ($1, $2, $3)")
            .bind(&user.id)
            .bind(&user.password_hash)
            .bind(user.now_ms)
            .execute(tx)
            .await?;
        // As at registration: failures counted against the address before it had an
        // account are not the new owner's.
        clear_failures(tx, &user.email_key).await?;
        return Ok(Imported::Inserted);
    }
    let same_id: Option<(String,)> = sql("SELECT email_key FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_optional(tx)
        .await?;
    Ok(match same_id {
        Some((key,)) if key == user.email_key => Imported::Unchanged,
        Some(_) => Imported::IdTaken,
        None => Imported::EmailTaken,
    })
}
