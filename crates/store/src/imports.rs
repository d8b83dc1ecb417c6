//! Imports: users moved over from another system (`latchkey import`), with their ids, their
//! password hashes and, from Better Auth, their live sessions.
//!
//! A batch is one transaction, so a failure part-way leaves nothing of that batch behind.
//! Each user is inserted unless their id or address is already here: the same id with the
//! same address is the same user, imported before, and left exactly as it is now (a re-run
//! changes nothing, and a password changed since in Latchkey is kept); any other overlap is
//! a conflict, reported and not written. A dry run is the same batch rolled back, so what it
//! reports is what a real run would do.

use crate::db::{On, Tx, sql};
use crate::streaks::clear_failures;
use crate::{Result, SqlStore};

#[async_trait::async_trait]
pub trait Imports: Send + Sync {
    /// Writes `users` (each with a credential, and their sessions) in one transaction and
    /// says what became of each, in order. With `dry_run` the transaction is rolled back.
    async fn import_users(&self, users: &[ImportedUser], dry_run: bool) -> Result<BatchOutcome>;
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
    /// Written only if the user is (or already was) here.
    pub sessions: Vec<ImportedSession>,
    /// When the import ran (the rows' `updated_at`).
    pub now_ms: i64,
}

/// A session of the other system, for the exchange to spend once. No `Debug`: the hash
/// finds the session.
#[derive(Clone)]
pub struct ImportedSession {
    /// What the exchange looks the old token up by (never the token itself).
    pub token_hash: String,
    /// The system it came from, e.g. `better-auth`.
    pub source: &'static str,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
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
                for session in &user.sessions {
                    if insert_session(&mut tx, &user.id, session).await? {
                        outcome.sessions_inserted += 1;
                    } else {
                        outcome.sessions_unchanged += 1;
                    }
                }
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

/// Whether the session was written now (false: its hash is here already).
async fn insert_session(on: &mut impl On, user_id: &str, s: &ImportedSession) -> Result<bool> {
    let inserted = sql("INSERT INTO imported_sessions
             (token_hash, source, user_id, created_at, expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (token_hash) DO NOTHING")
    .bind(&s.token_hash)
    .bind(s.source)
    .bind(user_id)
    .bind(s.created_at_ms)
    .bind(s.expires_at_ms)
    .bind(&s.user_agent)
    .bind(&s.ip)
    .execute(on)
    .await?;
    Ok(inserted == 1)
}
