//! Sign-in failure streaks: consecutive failed sign-ins per address, the block they build
//! up to, and the email that tells the owner.

use crate::db::{On, Tx, sql};
use crate::events::insert_event;
use crate::one_time::last_issued;
use crate::outbox::insert_outgoing;
use crate::{BlockNotice, FailureStreak, NewEvent, Result, SqlStore};

#[async_trait::async_trait]
pub trait Streaks: Send + Sync {
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

    /// As [`Streaks::sign_in_failed`] for an existing account, with `event`; if this
    /// failure is the `notice.block_at`-th in a row, the owner's email is written in the
    /// same transaction (throttled as the notice says). Returns the failures so far and
    /// whether the email was written.
    async fn sign_in_failed_notifying(
        &self,
        email_key: &str,
        now_ms: i64,
        event: &NewEvent,
        notice: &BlockNotice,
    ) -> Result<(i64, bool)>;

    /// A successful sign-in: the streak starts again from zero.
    async fn sign_in_succeeded(&self, email_key: &str) -> Result<()>;
}

#[async_trait::async_trait]
impl Streaks for SqlStore {
    async fn failure_streak(&self, email_key: &str) -> Result<FailureStreak> {
        let row: Option<(i64, i64)> =
            sql("SELECT failures, last_failed_at FROM sign_in_failures WHERE email_key = $1")
                .bind(email_key)
                .fetch_optional(&mut self.db.read().await?)
                .await?;
        Ok(
            row.map_or_else(FailureStreak::default, |(failures, at)| FailureStreak {
                failures,
                last_failed_at: Some(at),
            }),
        )
    }

    async fn sign_in_failed(
        &self,
        email_key: &str,
        now_ms: i64,
        event: Option<&NewEvent>,
    ) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        let failures = count_failure(&mut tx, email_key, now_ms).await?;
        if let Some(event) = event {
            insert_event(&mut tx, event).await?;
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
        let mut tx = self.db.begin().await?;
        let failures = count_failure(&mut tx, email_key, now_ms).await?;
        insert_event(&mut tx, event).await?;
        // Exactly the crossing failure: the upsert above serialises concurrent failures on
        // this row, so only one of them sees `block_at`.
        let mut written = false;
        if failures == notice.block_at {
            // No user lock: only this one failure of the streak writes an unblock email,
            // and taking the user row after the streak row would invert the order password
            // reset takes them in.
            let throttle = &notice.throttle;
            let last = last_issued(&mut tx, &throttle.user_id, throttle.purpose).await?;
            if last.is_none_or(|at| throttle.now_ms - at >= throttle.interval_ms) {
                insert_outgoing(&mut tx, &notice.outgoing).await?;
                written = true;
            }
        }
        tx.commit().await?;
        Ok((failures, written))
    }

    async fn sign_in_succeeded(&self, email_key: &str) -> Result<()> {
        clear_failures(&mut self.db.write().await?, email_key).await
    }
}

/// Forgets the failure streak of an address.
pub(crate) async fn clear_failures(on: &mut impl On, email_key: &str) -> Result<()> {
    sql("DELETE FROM sign_in_failures WHERE email_key = $1")
        .bind(email_key)
        .execute(on)
        .await?;
    Ok(())
}

/// Forgets the failure streak of the address a user signs in with now.
pub(crate) async fn clear_user_failures(tx: &mut Tx, user_id: &str) -> Result<()> {
    sql("DELETE FROM sign_in_failures
         WHERE email_key = (SELECT email_key FROM users WHERE id = $1)")
    .bind(user_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Adds one failure to the address's streak (creating it); the streak's length after it.
async fn count_failure(tx: &mut Tx, email_key: &str, now_ms: i64) -> Result<i64> {
    let (failures,): (i64,) = sql(
        "INSERT INTO sign_in_failures (email_key, failures, last_failed_at) VALUES ($1, 1, $2)
         ON CONFLICT (email_key) DO UPDATE
         SET failures = sign_in_failures.failures + 1, last_failed_at = $2
         RETURNING failures",
    )
    .bind(email_key)
    .bind(now_ms)
    .fetch_one(tx)
    .await?;
    Ok(failures)
}
