//! Cancellation: a request dropped at the worst moment (the client hung up right after the
//! revocation committed) must leave nothing half done. The store here is the real SQLite
//! store, passed through, except that one revocation waits after its commit until the
//! request is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use latchkey_store::{
    NewEvent, NewSession, RefreshRecord, Replaced, Result, Rotation, SessionInfo, Sessions, Store,
};
use reqwest::StatusCode;
use tokio::sync::Notify;

use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

struct HangAfterRevoke {
    inner: Arc<dyn Sessions>,
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
    let real = latchkey_store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let store = Arc::new(HangAfterRevoke {
        inner: real.sessions.clone(),
        hang: AtomicBool::new(false),
        committed: Notify::new(),
        dropped: Arc::new(Notify::new()),
    });
    let app = TestApp::with_store(Store {
        sessions: store.clone(),
        ..real
    })
    .await;
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

/// The real sessions, passed through, but for the one revocation that hangs.
#[async_trait::async_trait]
impl Sessions for HangAfterRevoke {
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
        keep: Option<&str>,
        now_ms: i64,
        event: &NewEvent,
    ) -> Result<Vec<String>> {
        self.inner
            .revoke_other_sessions(user_id, keep, now_ms, event)
            .await
    }
}
