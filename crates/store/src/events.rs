//! The security-event trail of each account.

use crate::db::{On, sql};
use crate::{NewEvent, Result, SecurityEvent, SqlStore};

#[async_trait::async_trait]
pub trait Events: Send + Sync {
    async fn record_event(&self, event: &NewEvent) -> Result<()>;

    /// The user's security events, newest first (at most `limit`).
    async fn security_events(&self, user_id: &str, limit: i64) -> Result<Vec<SecurityEvent>>;
}

#[async_trait::async_trait]
impl Events for SqlStore {
    async fn record_event(&self, event: &NewEvent) -> Result<()> {
        insert_event(&mut self.db.write().await?, event).await
    }

    async fn security_events(&self, user_id: &str, limit: i64) -> Result<Vec<SecurityEvent>> {
        sql(
            "SELECT id, kind, user_id, session_id, ip, user_agent, created_at
             FROM security_events WHERE user_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&mut self.db.read().await?)
        .await
    }
}

pub(crate) async fn insert_event(on: &mut impl On, event: &NewEvent) -> Result<()> {
    sql(
        "INSERT INTO security_events (id, kind, user_id, session_id, ip, user_agent, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&event.id)
    .bind(event.kind.as_str())
    .bind(&event.user_id)
    .bind(&event.session_id)
    .bind(&event.ip)
    .bind(&event.user_agent)
    .bind(event.now_ms)
    .execute(on)
    .await?;
    Ok(())
}
