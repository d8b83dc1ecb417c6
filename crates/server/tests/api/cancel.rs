//! Cancellation: a request dropped at the worst moment (the client hung up right after the
//! revocation committed) must leave nothing half done. The store here is the real SQLite
//! store, passed through, except that one revocation waits after its commit until the
//! request is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use latchkey_store::{
    BlockNotice, Consume, FailureStreak, Login, NewEvent, NewMail, NewSession, NewTask, NewUser,
    OneTimeRecord, OutboxCounts, Outgoing, PendingMail, ProfilePatch, RefreshRecord, Replaced,
    Result, Rotation, SecurityEvent, SessionInfo, SessionSwap, Store, Task, TaskPatch, Throttle,
    User,
};
use reqwest::StatusCode;
use tokio::sync::Notify;

use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

struct HangAfterRevoke {
    inner: Arc<dyn Store>,
    hang: AtomicBool,
    committed: Notify,
    dropped: Arc<Notify>,
}

/// Tells the test when the request holding it is dropped.
struct DropSignal(Arc<Notify>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

#[tokio::test]
async fn a_sign_out_cancelled_right_after_its_revocation_commits_still_takes_effect() {
    let path = std::env::temp_dir().join(format!(
        "lk_cancel_{}.db",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ));
    let inner = latchkey_store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let store = Arc::new(HangAfterRevoke {
        inner,
        hang: AtomicBool::new(false),
        committed: Notify::new(),
        dropped: Arc::new(Notify::new()),
    });
    let app = TestApp::with_store(store.clone()).await;
    app.signed_up("ann@example.com").await;
    let res = app.sign_in("ann@example.com", PASSWORD).await;
    let (access, _) = tokens_of(res).await;
    // Remembered as live by the cache.
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&access)).await.status(),
        StatusCode::OK
    );

    store.hang.store(true, Ordering::SeqCst);
    // Over HTTP/2, abandoning a request resets its stream, and the server drops the
    // handler's future wherever it is waiting. (Over HTTP/1 this server lets an abandoned
    // handler run to its end, so the guard matters for HTTP/2 clients and for any future
    // timeout or cancellation layer.)
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let request = {
        let url = app.url("/api/v1/auth/signout");
        let access = access.clone();
        tokio::spawn(async move { client.post(url).bearer_auth(access).send().await })
    };
    let dropped = store.dropped.notified();
    tokio::time::timeout(Duration::from_secs(10), store.committed.notified())
        .await
        .expect("the revocation committed");
    // The client gives up while the server waits after the commit.
    request.abort();
    tokio::time::timeout(Duration::from_secs(10), dropped)
        .await
        .expect("the server dropped the abandoned request");

    let me = app.get("/api/v1/auth/me", Some(&access)).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[async_trait::async_trait]
impl Store for HangAfterRevoke {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }
    async fn register(
        &self,
        user: &NewUser,
        session: Option<&NewSession>,
        event: &NewEvent,
        outgoing: &[Outgoing],
    ) -> Result<User> {
        self.inner.register(user, session, event, outgoing).await
    }
    async fn find_login(&self, email_key: &str) -> Result<Option<Login>> {
        self.inner.find_login(email_key).await
    }
    async fn find_user(&self, user_id: &str) -> Result<Option<User>> {
        self.inner.find_user(user_id).await
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<()> {
        self.inner.set_password_hash(user_id, hash, now_ms).await
    }
    async fn create_session(
        &self,
        session: &NewSession,
        event: &NewEvent,
        replaces: Option<&Replaced<'_>>,
    ) -> Result<()> {
        self.inner.create_session(session, event, replaces).await
    }
    async fn live_session_expiry(
        &self,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        self.inner
            .live_session_expiry(session_id, user_id, now_ms)
            .await
    }
    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        self.inner.find_refresh(token_hash).await
    }
    async fn rotate_refresh(&self, rotation: &Rotation) -> Result<bool> {
        self.inner.rotate_refresh(rotation).await
    }
    async fn list_sessions(&self, user_id: &str, now_ms: i64) -> Result<Vec<SessionInfo>> {
        self.inner.list_sessions(user_id, now_ms).await
    }
    async fn revoke_session(
        &self,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<bool> {
        let revoked = self
            .inner
            .revoke_session(session_id, user_id, now_ms, event)
            .await?;
        if self.hang.swap(false, Ordering::SeqCst) {
            // Committed. Now wait here until the request is dropped (the client hung up).
            self.committed.notify_one();
            let _signal = DropSignal(self.dropped.clone());
            std::future::pending::<()>().await;
        }
        Ok(revoked)
    }
    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: &str,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Vec<String>> {
        self.inner
            .revoke_other_sessions(user_id, keep, now_ms, event)
            .await
    }
    async fn enqueue(&self, outgoing: &[Outgoing], event: Option<&NewEvent>) -> Result<()> {
        self.inner.enqueue(outgoing, event).await
    }
    async fn enqueue_throttled(
        &self,
        throttle: &Throttle,
        outgoing: &[Outgoing],
        event: &NewEvent,
    ) -> Result<Option<i64>> {
        self.inner
            .enqueue_throttled(throttle, outgoing, event)
            .await
    }
    async fn find_one_time(
        &self,
        token_hash: &str,
        purpose: &str,
        now_ms: i64,
    ) -> Result<Option<OneTimeRecord>> {
        self.inner.find_one_time(token_hash, purpose, now_ms).await
    }
    async fn reset_password(
        &self,
        consume: &Consume,
        password_hash: &str,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<Vec<String>>> {
        self.inner
            .reset_password(consume, password_hash, mail, event)
            .await
    }
    async fn verify_email(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>> {
        self.inner.verify_email(consume, event).await
    }
    async fn change_email(
        &self,
        consume: &Consume,
        new_email: &str,
        new_email_key: &str,
        mail: &NewMail,
        event: &NewEvent,
    ) -> Result<Option<User>> {
        self.inner
            .change_email(consume, new_email, new_email_key, mail, event)
            .await
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
        self.inner
            .change_password(user_id, password_hash, swap, revoke_others, mail, event)
            .await
    }
    async fn update_profile(
        &self,
        user_id: &str,
        patch: &ProfilePatch,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Option<User>> {
        self.inner
            .update_profile(user_id, patch, now_ms, event)
            .await
    }
    async fn due_mail(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingMail>> {
        self.inner.due_mail(now_ms, limit).await
    }
    async fn claim_mail(&self, id: &str, attempts: i64, lease_until_ms: i64) -> Result<bool> {
        self.inner.claim_mail(id, attempts, lease_until_ms).await
    }
    async fn mail_sent(&self, id: &str, attempt: i64, now_ms: i64) -> Result<()> {
        self.inner.mail_sent(id, attempt, now_ms).await
    }
    async fn mail_not_sent(
        &self,
        id: &str,
        attempt: i64,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<()> {
        self.inner
            .mail_not_sent(id, attempt, error, retry_at_ms, now_ms)
            .await
    }
    async fn outbox_counts(&self) -> Result<OutboxCounts> {
        self.inner.outbox_counts().await
    }
    async fn failure_streak(&self, email_key: &str) -> Result<FailureStreak> {
        self.inner.failure_streak(email_key).await
    }
    async fn sign_in_failed(
        &self,
        email_key: &str,
        now_ms: i64,
        event: Option<&NewEvent>,
    ) -> Result<i64> {
        self.inner.sign_in_failed(email_key, now_ms, event).await
    }
    async fn sign_in_succeeded(&self, email_key: &str) -> Result<()> {
        self.inner.sign_in_succeeded(email_key).await
    }
    async fn sign_in_failed_notifying(
        &self,
        email_key: &str,
        now_ms: i64,
        event: &NewEvent,
        notice: &BlockNotice,
    ) -> Result<(i64, bool)> {
        self.inner
            .sign_in_failed_notifying(email_key, now_ms, event, notice)
            .await
    }
    async fn unblock(&self, consume: &Consume, event: &NewEvent) -> Result<Option<User>> {
        self.inner.unblock(consume, event).await
    }
    async fn rate_hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
    ) -> Result<(i64, i64)> {
        self.inner
            .rate_hit(bucket, window, delta, expires_at_ms)
            .await
    }
    async fn rate_purge(&self, now_ms: i64) -> Result<u64> {
        self.inner.rate_purge(now_ms).await
    }
    async fn record_event(&self, event: &NewEvent) -> Result<()> {
        self.inner.record_event(event).await
    }
    async fn security_events(&self, user_id: &str, limit: i64) -> Result<Vec<SecurityEvent>> {
        self.inner.security_events(user_id, limit).await
    }
    async fn list_tasks(&self, user_id: &str) -> Result<Vec<Task>> {
        self.inner.list_tasks(user_id).await
    }
    async fn create_task(&self, task: &NewTask) -> Result<Task> {
        self.inner.create_task(task).await
    }
    async fn find_task(&self, user_id: &str, task_id: &str) -> Result<Option<Task>> {
        self.inner.find_task(user_id, task_id).await
    }
    async fn update_task(
        &self,
        user_id: &str,
        task_id: &str,
        patch: &TaskPatch,
        now_ms: i64,
    ) -> Result<Option<Task>> {
        self.inner
            .update_task(user_id, task_id, patch, now_ms)
            .await
    }
    async fn delete_task(&self, user_id: &str, task_id: &str) -> Result<bool> {
        self.inner.delete_task(user_id, task_id).await
    }
}
