//! The mail outbox: messages written with the change that caused them, then claimed, sent
//! and marked by the delivery workers.

use crate::accounts::lock_user;
use crate::db::{Tx, sql};
use crate::events::insert_event;
use crate::one_time::{insert_token, last_issued};
use crate::{NewEvent, NewMail, OutboxCounts, Outgoing, PendingMail, Result, SqlStore, Throttle};

#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Writes one-time tokens and their emails to the outbox, and records `event`, in one
    /// transaction.
    async fn enqueue(&self, outgoing: &[Outgoing], event: Option<&NewEvent>) -> Result<()>;

    /// As [`Outbox::enqueue`], unless the user was given a token of the throttle's purpose
    /// less than its interval ago: then nothing is written and the answer is when the next
    /// may be sent. Check and write are one transaction under the user's row lock, so
    /// parallel requests cannot both pass.
    async fn enqueue_throttled(
        &self,
        throttle: &Throttle,
        outgoing: &[Outgoing],
        event: &NewEvent,
    ) -> Result<Option<i64>>;

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
}

#[async_trait::async_trait]
impl Outbox for SqlStore {
    async fn enqueue(&self, outgoing: &[Outgoing], event: Option<&NewEvent>) -> Result<()> {
        let mut tx = self.db.begin().await?;
        for out in outgoing {
            insert_outgoing(&mut tx, out).await?;
        }
        if let Some(event) = event {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await
    }

    async fn enqueue_throttled(
        &self,
        throttle: &Throttle,
        outgoing: &[Outgoing],
        event: &NewEvent,
    ) -> Result<Option<i64>> {
        let mut tx = self.db.begin().await?;
        // Serialises concurrent requests for one user, so the check below and the insert
        // after it cannot interleave.
        lock_user(&mut tx, &throttle.user_id, throttle.now_ms).await?;
        let last = last_issued(&mut tx, &throttle.user_id, throttle.purpose).await?;
        if let Some(last) = last.filter(|at| throttle.now_ms - at < throttle.interval_ms) {
            tx.rollback().await?;
            return Ok(Some(last + throttle.interval_ms));
        }
        for out in outgoing {
            insert_outgoing(&mut tx, out).await?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(None)
    }

    async fn due_mail(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingMail>> {
        sql(
            "SELECT o.id, o.kind, o.recipient, o.data, o.attempts, o.created_at, o.token_id,
                    t.seed AS token_seed, t.purpose AS token_purpose, t.token_hash
             FROM mail_outbox o LEFT JOIN one_time_tokens t ON t.id = o.token_id
             WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
             ORDER BY o.next_attempt_at, o.created_at, o.id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut self.db.read().await?)
        .await
    }

    async fn claim_mail(&self, id: &str, attempts: i64, lease_until_ms: i64) -> Result<bool> {
        let claimed = sql(
            "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1
             WHERE id = $2 AND attempts = $3 AND sent_at IS NULL AND failed_at IS NULL",
        )
        .bind(lease_until_ms)
        .bind(id)
        .bind(attempts)
        .execute(&mut self.db.write().await?)
        .await?;
        Ok(claimed == 1)
    }

    async fn mail_sent(&self, id: &str, attempt: i64, now_ms: i64) -> Result<()> {
        sql("UPDATE mail_outbox SET sent_at = $1, last_error = NULL
             WHERE id = $2 AND attempts = $3 AND sent_at IS NULL")
        .bind(now_ms)
        .bind(id)
        .bind(attempt)
        .execute(&mut self.db.write().await?)
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
        // Only while this attempt still holds the row: a worker whose lease ran out must not
        // undo what the next one did.
        let statement = match retry_at_ms {
            Some(_) => {
                "UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2
                 WHERE id = $3 AND attempts = $4 AND sent_at IS NULL"
            }
            None => {
                "UPDATE mail_outbox SET failed_at = $1, last_error = $2
                 WHERE id = $3 AND attempts = $4 AND sent_at IS NULL"
            }
        };
        sql(statement)
            .bind(retry_at_ms.unwrap_or(now_ms))
            .bind(error)
            .bind(id)
            .bind(attempt)
            .execute(&mut self.db.write().await?)
            .await?;
        Ok(())
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts> {
        // Each count is served by its partial index: sent rows are never scanned.
        sql("SELECT
                (SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL)
                    AS pending,
                (SELECT COUNT(*) FROM mail_outbox WHERE failed_at IS NOT NULL) AS failed,
                (SELECT MIN(created_at) FROM mail_outbox
                    WHERE sent_at IS NULL AND failed_at IS NULL) AS oldest_pending_at")
        .fetch_one(&mut self.db.read().await?)
        .await
    }
}

/// Writes an email, and the one-time token its link carries if it has one.
pub(crate) async fn insert_outgoing(tx: &mut Tx, out: &Outgoing) -> Result<()> {
    if let Some(token) = &out.token {
        insert_token(tx, token).await?;
    }
    insert_mail(tx, &out.mail).await
}

pub(crate) async fn insert_mail(tx: &mut Tx, mail: &NewMail) -> Result<()> {
    tx.wrote_mail();
    sql(
        "INSERT INTO mail_outbox (id, kind, recipient, data, token_id, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&mail.id)
    .bind(mail.kind)
    .bind(&mail.recipient)
    .bind(&mail.data)
    .bind(&mail.token_id)
    .bind(mail.now_ms)
    .execute(tx)
    .await?;
    Ok(())
}
