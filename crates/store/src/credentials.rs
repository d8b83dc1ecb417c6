//! Passwords: the hash sign-in checks, and changing it while signed in.

use latchkey_core::onetime::Purpose;

use crate::accounts::lock_user;
use crate::db::{On, sql};
use crate::events::insert_event;
use crate::imported_sessions::forget_pending;
use crate::one_time::spend_tokens;
use crate::outbox::insert_mail;
use crate::sessions::{end_session, insert_session, revoke_sessions};
use crate::{Login, NewEvent, NewMail, Result, SessionSwap, SqlStore};

/// The characters of a salt or digest in the `$`-separated formats (standard base64, and
/// the `.` of bcrypt's and passlib's alphabets).
const BASE64_CHARACTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/.";

#[async_trait::async_trait]
pub trait Credentials: Send + Sync {
    /// The user with this email key and their password hash, if any.
    async fn find_login(&self, email_key: &str) -> Result<Option<Login>>;

    /// Replaces a user's password hash (e.g. a rehash at higher cost on sign-in).
    async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<()>;

    /// Replaces a user's password hash with `new` only if it is still `old`; whether it did.
    /// A rehash on sign-in must not undo a password change that landed between the check of
    /// the old hash and this write.
    async fn upgrade_password_hash(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
        now_ms: i64,
    ) -> Result<bool>;

    /// One stored password hash of each kind present — a format and its parameters, told
    /// apart by the text before the salt — at most 100 of them. The server verifies a guess
    /// against each at start-up to learn what a wrong password costs in every format there.
    async fn hash_kinds(&self) -> Result<Vec<String>>;

    /// Sets a new password hash and swaps the session it was changed in for a new one
    /// (`swap`), revoking every other session too when `revoke_others`; deletes imported
    /// sessions not yet exchanged, spends outstanding reset and email-change links, writes
    /// `mail` and records `event`. Returns the revoked
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
}

#[async_trait::async_trait]
impl Credentials for SqlStore {
    async fn find_login(&self, email_key: &str) -> Result<Option<Login>> {
        sql(
            "SELECT u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.locale,
                    c.password_hash
             FROM users u JOIN credentials c ON c.user_id = u.id WHERE u.email_key = $1",
        )
        .bind(email_key)
        .fetch_optional(&mut self.db.read().await?)
        .await
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<()> {
        set_hash(&mut self.db.write().await?, user_id, hash, now_ms).await
    }

    async fn upgrade_password_hash(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let changed = sql("UPDATE credentials SET password_hash = $1, updated_at = $2
                           WHERE user_id = $3 AND password_hash = $4")
        .bind(new)
        .bind(now_ms)
        .bind(user_id)
        .bind(old)
        .execute(&mut self.db.write().await?)
        .await?;
        Ok(changed == 1)
    }

    async fn hash_kinds(&self) -> Result<Vec<String>> {
        // The kind is the text before the salt, in SQL both databases run: bcrypt's first
        // seven characters (`$2b$12$`); for a `$`-separated string the rest once the digest,
        // a `$` and the salt are trimmed off its end (`$argon2id$v=19$m=19456,t=2,p=1$`,
        // `$scrypt$ln=16,r=8,p=1$`); Better Auth's `<32 hex>:<128 hex>` by its shape. A full
        // scan, at start-up and every five minutes after (an import may run while the server
        // serves): under a second for 100,000 rows on a busy two-core machine.
        let kinds: Vec<(String,)> = sql("SELECT MIN(password_hash) FROM (
                 SELECT password_hash, CASE
                     WHEN length(password_hash) = 161 AND substr(password_hash, 33, 1) = ':'
                         THEN 'better-auth'
                     WHEN substr(password_hash, 1, 1) <> '$' THEN 'other'
                     WHEN substr(password_hash, 1, 2) = '$2' THEN substr(password_hash, 1, 7)
                     ELSE rtrim(rtrim(rtrim(password_hash, $1), '$'), $1)
                 END AS kind
                 FROM credentials
             ) AS kinds
             GROUP BY kind ORDER BY kind LIMIT 100")
        .bind(BASE64_CHARACTERS)
        .fetch_all(&mut self.db.read().await?)
        .await?;
        Ok(kinds.into_iter().map(|(hash,)| hash).collect())
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
        let mut tx = self.db.begin().await?;
        lock_user(&mut tx, user_id, now_ms).await?;
        set_hash(&mut tx, user_id, password_hash, now_ms).await?;
        // Sessions imported from the old system are not in the user's list, so keeping the
        // others cannot mean keeping them: a new password ends them.
        forget_pending(&mut tx, user_id).await?;
        insert_session(&mut tx, swap.opens).await?;
        let revoked = if revoke_others {
            revoke_sessions(&mut tx, user_id, Some(&swap.opens.id), now_ms).await?
        } else if end_session(&mut tx, swap.ends, user_id, now_ms).await? {
            vec![swap.ends.to_owned()]
        } else {
            Vec::new()
        };
        // Signed out (or revoked) since the request was authenticated: a dead session must
        // not change the password, nor open a new session.
        if !revoked.iter().any(|id| id == swap.ends) {
            tx.rollback().await?;
            return Ok(None);
        }
        for purpose in [Purpose::ResetPassword, Purpose::ChangeEmail] {
            spend_tokens(&mut tx, user_id, purpose, now_ms).await?;
        }
        insert_mail(&mut tx, mail).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Some(revoked))
    }
}

pub(crate) async fn set_hash(
    on: &mut impl On,
    user_id: &str,
    hash: &str,
    now_ms: i64,
) -> Result<()> {
    sql("UPDATE credentials SET password_hash = $1, updated_at = $2 WHERE user_id = $3")
        .bind(hash)
        .bind(now_ms)
        .bind(user_id)
        .execute(on)
        .await?;
    Ok(())
}
