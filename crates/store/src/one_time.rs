//! One-time links (reset, verification, email change, unblock): finding one, and spending
//! one together with the change it authorises.

use latchkey_core::onetime::Purpose;

use crate::accounts::lock_user;
use crate::credentials::set_hash;
use crate::db::{Tx, sql};
use crate::events::insert_event;
use crate::imported_sessions::forget_pending;
use crate::outbox::insert_mail;
use crate::sessions::revoke_sessions;
use crate::streaks::{clear_failures, clear_user_failures};
use crate::{Consume, NewEvent, NewMail, NewOneTimeToken, OneTimeRecord, Result, SqlStore, User};

#[async_trait::async_trait]
pub trait OneTimeTokens: Send + Sync {
    /// The unused, unexpired one-time token with this hash and purpose, with its user.
    async fn find_one_time(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now_ms: i64,
    ) -> Result<Option<OneTimeRecord>>;

    /// A password reset, in one transaction: spend the token (compare-and-set; `None` and
    /// nothing written if it was no longer usable), set the new hash, mark the address
    /// verified, spend the user's other reset tokens, revoke every session (and delete the
    /// imported ones not yet exchanged), write `mail` and record `event`. Returns the revoked sessions' ids.
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
    /// address, deletes imported sessions not yet exchanged, writes `mail` (the notice to the old address) and records `event`. `None`
    /// if the token was no longer usable; [`crate::StoreError::Conflict`] (nothing written)
    /// if the address was taken meanwhile.
    async fn change_email(
        &self,
        consume: &Consume,
        new_email: &str,
        new_email_key: &str,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<User>>;

    /// An unblock link, in one transaction: spend the token (compare-and-set; `None` and
    /// nothing written if it was no longer usable), end the failure streak of the user's
    /// address and record `event`. Returns the token's user.
    async fn unblock(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>>;
}

#[async_trait::async_trait]
impl OneTimeTokens for SqlStore {
    async fn find_one_time(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now_ms: i64,
    ) -> Result<Option<OneTimeRecord>> {
        sql(
            "SELECT u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.locale,
                    t.email AS sent_to
             FROM one_time_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL
               AND t.expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now_ms)
        .fetch_optional(&mut self.db.read().await?)
        .await
    }

    async fn reset_password(
        &self,
        consume: &Consume,
        password_hash: &str,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<Vec<String>>> {
        let Some(mut tx) = self.spend(consume).await? else {
            return Ok(None);
        };
        let (user_id, now_ms) = (&consume.user_id, consume.now_ms);
        set_hash(&mut tx, user_id, password_hash, now_ms).await?;
        // The link reached the inbox, which proves the address as well as a verification
        // link would; and it lifts a sign-in block.
        clear_user_failures(&mut tx, user_id).await?;
        sql("UPDATE users SET email_verified = TRUE, updated_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(user_id)
            .execute(&mut tx)
            .await?;
        // Whoever asked for other links may be the reason for this reset: a pending move to
        // another address must not outlive it, nor an unblock link (the reset lifted the
        // block; the link would only buy a guesser 100 more tries).
        for purpose in [
            Purpose::ResetPassword,
            Purpose::ChangeEmail,
            Purpose::UnblockSignIn,
        ] {
            spend_tokens(&mut tx, user_id, purpose, now_ms).await?;
        }
        // Before the revocation: an exchange waiting on a row deleted here finds nothing.
        forget_pending(&mut tx, user_id).await?;
        let revoked = revoke_sessions(&mut tx, user_id, None, now_ms).await?;
        insert_mail(&mut tx, mail).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Some(revoked))
    }

    async fn verify_email(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>> {
        let Some(mut tx) = self.spend(consume).await? else {
            return Ok(None);
        };
        // Only the address the link was sent to: after an email change, an old link must
        // not vouch for the new address.
        let user: Option<User> = sql("UPDATE users SET email_verified = TRUE, updated_at = $1
             WHERE id = $2
               AND email = (SELECT email FROM one_time_tokens WHERE token_hash = $3)
             RETURNING id, email, name, image, email_verified, created_at, locale")
        .bind(consume.now_ms)
        .bind(&consume.user_id)
        .bind(&consume.token_hash)
        .fetch_optional(&mut tx)
        .await?;
        if user.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        spend_tokens(
            &mut tx,
            &consume.user_id,
            Purpose::VerifyEmail,
            consume.now_ms,
        )
        .await?;
        insert_event(&mut tx, event).await?;
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
        let Some(mut tx) = self.spend(consume).await? else {
            return Ok(None);
        };
        let (user_id, now_ms) = (&consume.user_id, consume.now_ms);
        // A unique violation (someone took the address meanwhile) rolls the whole
        // transaction back, token included, and surfaces as a conflict.
        let user: Option<User> = sql("UPDATE users
             SET email = $1, email_key = $2, email_verified = TRUE, updated_at = $3
             WHERE id = $4 RETURNING id, email, name, image, email_verified, created_at, locale")
        .bind(new_email)
        .bind(new_email_key)
        .bind(now_ms)
        .bind(user_id)
        .fetch_optional(&mut tx)
        .await?;
        // A session imported from the old system was opened under the old address, and the
        // user cannot see it to end it: it goes whatever was asked.
        forget_pending(&mut tx, user_id).await?;
        // Asked for with revokeOtherSessions: every session but the one that asked ends
        // with the old address (their tokens carry it).
        let (keep,): (Option<String>,) =
            sql("SELECT keep_session FROM one_time_tokens WHERE token_hash = $1")
                .bind(&consume.token_hash)
                .fetch_one(&mut tx)
                .await?;
        if let Some(keep) = keep {
            revoke_sessions(&mut tx, user_id, Some(&keep), now_ms).await?;
        }
        // Links sent to the old address no longer prove anything.
        for purpose in Purpose::ALL {
            spend_tokens(&mut tx, user_id, purpose, now_ms).await?;
        }
        // As at registration: the new address's streak was run up by someone else.
        clear_failures(&mut tx, new_email_key).await?;
        insert_mail(&mut tx, mail).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn unblock(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>> {
        let Some(mut tx) = self.spend(consume).await? else {
            return Ok(None);
        };
        // The address the account signs in with now, as a password reset does.
        clear_user_failures(&mut tx, &consume.user_id).await?;
        let user = crate::accounts::user_by_id(&mut tx, &consume.user_id).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(user)
    }
}

impl SqlStore {
    /// Opens the transaction a link's change happens in: takes the user's lock, then spends
    /// the token. `None` (and nothing written) if the token was no longer usable.
    async fn spend(&self, consume: &Consume) -> Result<Option<Tx>> {
        let mut tx = self.db.begin().await?;
        lock_user(&mut tx, &consume.user_id, consume.now_ms).await?;
        // The compare-and-set that makes a token single-use: on PostgreSQL a concurrent
        // loser re-checks `used_at` after the winner commits.
        let spent = sql("UPDATE one_time_tokens SET used_at = $1
             WHERE token_hash = $2 AND purpose = $3 AND user_id = $4
               AND used_at IS NULL AND expires_at > $1")
        .bind(consume.now_ms)
        .bind(&consume.token_hash)
        .bind(consume.purpose.as_str())
        .bind(&consume.user_id)
        .execute(&mut tx)
        .await?;
        if spent != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(tx))
    }
}

pub(crate) async fn insert_token(tx: &mut Tx, token: &NewOneTimeToken) -> Result<()> {
    sql(
        "INSERT INTO one_time_tokens (id, token_hash, seed, user_id, purpose, email, created_at,
                                      expires_at, keep_session)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&token.id)
    .bind(&token.token_hash)
    .bind(&token.seed)
    .bind(&token.user_id)
    .bind(token.purpose.as_str())
    .bind(&token.email)
    .bind(token.now_ms)
    .bind(token.expires_at_ms)
    .bind(&token.keep_session)
    .execute(tx)
    .await?;
    Ok(())
}

/// Spends every unused token of the user with this purpose.
pub(crate) async fn spend_tokens(
    tx: &mut Tx,
    user_id: &str,
    purpose: Purpose,
    now_ms: i64,
) -> Result<()> {
    sql("UPDATE one_time_tokens SET used_at = $1
         WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
    .bind(now_ms)
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(tx)
    .await?;
    Ok(())
}

/// When the user was last given a token of this purpose.
pub(crate) async fn last_issued(
    tx: &mut Tx,
    user_id: &str,
    purpose: Purpose,
) -> Result<Option<i64>> {
    let (last,): (Option<i64>,) =
        sql("SELECT MAX(created_at) FROM one_time_tokens WHERE user_id = $1 AND purpose = $2")
            .bind(user_id)
            .bind(purpose.as_str())
            .fetch_one(tx)
            .await?;
    Ok(last)
}
