//! Accounts: creating one, reading it, changing its profile.

use crate::db::{On, Tx, sql};
use crate::outbox::insert_outgoing;
use crate::sessions::insert_session;
use crate::streaks::clear_failures;
use crate::{NewEvent, NewSession, NewUser, Outgoing, ProfilePatch, Result, SqlStore, User};

#[async_trait::async_trait]
pub trait Accounts: Send + Sync {
    /// Creates a user, their password credential, their first session (none when the
    /// address must be verified before signing in) with its first refresh token, records
    /// `event` and writes `outgoing` (the verification email), all or nothing. An email
    /// already in use (by [`NewUser::email_key`]) is [`crate::StoreError::Conflict`].
    async fn register(
        &self,
        user: &NewUser,
        session: Option<&NewSession>,
        event: &NewEvent,
        outgoing: &[Outgoing],
    ) -> Result<User>;

    async fn find_user(&self, user_id: &str) -> Result<Option<User>>;

    /// Applies a profile patch and records `event`; `None` if there is no such user.
    async fn update_profile(
        &self,
        user_id: &str,
        patch: &ProfilePatch,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Option<User>>;
}

#[async_trait::async_trait]
impl Accounts for SqlStore {
    async fn register(
        &self,
        user: &NewUser,
        session: Option<&NewSession>,
        event: &NewEvent,
        outgoing: &[Outgoing],
    ) -> Result<User> {
        let mut tx = self.db.begin().await?;
        sql("INSERT INTO users
                 (id, email, email_key, name, email_verified, created_at, updated_at, locale)
             VALUES ($1, $2, $3, $4, FALSE, $5, $5, $6)")
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.email_key)
        .bind(&user.name)
        .bind(user.now_ms)
        .bind(&user.locale)
        .execute(&mut tx)
        .await?;
        sql("INSERT INTO credentials (user_id, password_hash, updated_at) VALUES ($1, $2, $3)")
            .bind(&user.id)
            .bind(&user.password_hash)
            .bind(user.now_ms)
            .execute(&mut tx)
            .await?;
        // Failures counted against the address before it had an account (anyone can run
        // one up to a block) are not the new owner's: they would start blocked, and no
        // unblock email would ever come, the crossing being long past.
        clear_failures(&mut tx, &user.email_key).await?;
        if let Some(session) = session {
            insert_session(&mut tx, session).await?;
        }
        crate::events::insert_event(&mut tx, event).await?;
        for out in outgoing {
            insert_outgoing(&mut tx, out).await?;
        }
        tx.commit().await?;
        Ok(user.user())
    }

    async fn find_user(&self, user_id: &str) -> Result<Option<User>> {
        user_by_id(&mut self.db.read().await?, user_id).await
    }

    async fn update_profile(
        &self,
        user_id: &str,
        patch: &ProfilePatch,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Option<User>> {
        let mut tx = self.db.begin().await?;
        let user: Option<User> = sql("UPDATE users SET
                name = CASE WHEN $1 THEN $2 ELSE name END,
                image = CASE WHEN $3 THEN $4 ELSE image END,
                locale = CASE WHEN $7 THEN $8 ELSE locale END,
                updated_at = $5
             WHERE id = $6 RETURNING id, email, name, image, email_verified, created_at, locale")
        .bind(patch.name.is_some())
        .bind(patch.name.as_ref().and_then(|name| name.as_deref()))
        .bind(patch.image.is_some())
        .bind(patch.image.as_ref().and_then(|image| image.as_deref()))
        .bind(now_ms)
        .bind(user_id)
        .bind(patch.locale.is_some())
        .bind(patch.locale.as_ref().and_then(|locale| locale.as_deref()))
        .fetch_optional(&mut tx)
        .await?;
        if user.is_some() {
            crate::events::insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(user)
    }
}

pub(crate) async fn user_by_id(on: &mut impl On, user_id: &str) -> Result<Option<User>> {
    sql("SELECT id, email, name, image, email_verified, created_at, locale FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(on)
        .await
}

/// Takes the user's row lock first, so every transaction that touches one user's tokens,
/// credentials and sessions locks in the same order (no deadlock between two links of one
/// user used at once) and concurrent ones for a user run one after the other.
pub(crate) async fn lock_user(tx: &mut Tx, user_id: &str, now_ms: i64) -> Result<()> {
    sql("UPDATE users SET updated_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(user_id)
        .execute(tx)
        .await?;
    Ok(())
}
