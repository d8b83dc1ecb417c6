//! Rate-limit counters kept in the database (when no Redis is configured).

use crate::db::sql;
use crate::{Result, SqlStore};

#[async_trait::async_trait]
pub trait RateCounters: Send + Sync {
    /// Adds `delta` to the counter of (`bucket`, `window`), creating it to expire at
    /// `expires_at_ms`, and returns (the previous window's count, the new count). The
    /// increment is one atomic upsert.
    async fn rate_hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
    ) -> Result<(i64, i64)>;

    /// Deletes counters that expired before `now_ms`; how many.
    async fn rate_purge(&self, now_ms: i64) -> Result<u64>;
}

#[async_trait::async_trait]
impl RateCounters for SqlStore {
    async fn rate_hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
    ) -> Result<(i64, i64)> {
        let mut conn = self.db.write().await?;
        // One upsert: concurrent hits on one counter each get their own count.
        let (current,): (i64,) = sql(
            "INSERT INTO rate_counters (bucket, win, hits, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (bucket, win) DO UPDATE SET hits = rate_counters.hits + $3
             RETURNING hits",
        )
        .bind(bucket)
        .bind(window)
        .bind(delta)
        .bind(expires_at_ms)
        .fetch_one(&mut conn)
        .await?;
        let previous: Option<(i64,)> =
            sql("SELECT hits FROM rate_counters WHERE bucket = $1 AND win = $2")
                .bind(bucket)
                .bind(window.saturating_sub(1))
                .fetch_optional(&mut conn)
                .await?;
        Ok((previous.map_or(0, |(hits,)| hits), current))
    }

    async fn rate_purge(&self, now_ms: i64) -> Result<u64> {
        sql("DELETE FROM rate_counters WHERE expires_at < $1")
            .bind(now_ms)
            .execute(&mut self.db.write().await?)
            .await
    }
}
