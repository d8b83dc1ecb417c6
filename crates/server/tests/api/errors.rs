//! Bad input of every kind gets the one JSON error shape and a 4xx — never a 500. These do
//! not touch the database, so they run on SQLite only.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use std::sync::Arc;

use latchkey_server::clock::Clock;
use latchkey_store::{
    BlockNotice, Consume, FailureStreak, Login, NewEvent, NewMail, NewSession, NewTask, NewUser,
    OneTimeRecord, OutboxCounts, Outgoing, PendingMail, ProfilePatch, RefreshRecord, Replaced,
    Rotation, SecurityEvent, SessionInfo, SessionSwap, Store, StoreError, Task, TaskPatch,
    Throttle, User,
};

use crate::helpers::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = TestApp::sqlite().await;
    let huge = json!({"email": "a@example.com", "password": "x".repeat(1024 * 1024)});
    let res = app.post("/api/v1/auth/register", &huge, None).await;
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn a_chunked_body_over_one_mebibyte_is_413_too() {
    let app = TestApp::sqlite().await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..20 {
        let frame = format!("{:x}\r\n", chunk.len());
        if stream.write_all(frame.as_bytes()).await.is_err()
            || stream.write_all(&chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break; // the server may answer and close before we finish sending
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_or_400_never_500() {
    let app = TestApp::sqlite().await;
    let url = app.url("/api/v1/auth/signin");
    let res = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let res = app.client.post(&url).body("{}").send().await.unwrap();
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let res = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    let res = app
        .post(
            "/api/v1/auth/signin",
            &json!({"email": "a@example.com"}),
            None,
        )
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn two_content_type_headers_are_415_whichever_is_json() {
    let app = TestApp::sqlite().await;
    for types in [
        ["application/json", "text/plain"],
        ["text/plain", "application/json"],
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/auth/signin"))
            .header("content-type", types[0])
            .header("content-type", types[1])
            .body(json!({"email": "a@example.com", "password": PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        assert_error(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
}

#[tokio::test]
async fn a_mistyped_password_is_never_echoed_in_the_error() {
    let app = TestApp::sqlite().await;
    for password in [
        json!(31415926535_i64),
        json!([31415926535_i64]),
        json!({"p": "31415926535"}),
    ] {
        let body = json!({"email": "a@example.com", "password": password});
        let res = app.post("/api/v1/auth/signin", &body, None).await;
        assert!(
            res.status().is_client_error(),
            "{password}: {}",
            res.status()
        );
        let text = res.text().await.unwrap();
        assert!(text.contains("\"error\""), "{text}");
        assert!(!text.contains("31415926535"), "{password} echoed: {text}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::sqlite().await;
    assert_error(
        app.get("/api/v1/nope", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .client
        .put(app.url("/api/v1/auth/signin"))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

/// A store every call of which fails with the same error. A unit-test helper for the failure
/// paths; the real backends are exercised by every other test (and a real PostgreSQL outage by
/// `scripts/hardening crash`).
struct BrokenStore(fn() -> StoreError);

impl BrokenStore {
    fn gone<T>(&self) -> Result<T, StoreError> {
        Err((self.0)())
    }
}

#[async_trait::async_trait]
impl Store for BrokenStore {
    fn backend(&self) -> &'static str {
        "broken"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.gone()
    }
    async fn register(
        &self,
        _: &NewUser,
        _: Option<&NewSession>,
        _: &NewEvent,
        _: &[Outgoing],
    ) -> Result<User, StoreError> {
        self.gone()
    }
    async fn find_login(&self, _: &str) -> Result<Option<Login>, StoreError> {
        self.gone()
    }
    async fn find_user(&self, _: &str) -> Result<Option<User>, StoreError> {
        self.gone()
    }
    async fn set_password_hash(&self, _: &str, _: &str, _: i64) -> Result<(), StoreError> {
        self.gone()
    }
    async fn create_session(
        &self,
        _: &NewSession,
        _: &NewEvent,
        _: Option<&Replaced<'_>>,
    ) -> Result<(), StoreError> {
        self.gone()
    }
    async fn live_session_expiry(
        &self,
        _: &str,
        _: &str,
        _: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.gone()
    }
    async fn find_refresh(&self, _: &str) -> Result<Option<RefreshRecord>, StoreError> {
        self.gone()
    }
    async fn rotate_refresh(&self, _: &Rotation) -> Result<bool, StoreError> {
        self.gone()
    }
    async fn list_sessions(&self, _: &str, _: i64) -> Result<Vec<SessionInfo>, StoreError> {
        self.gone()
    }
    async fn revoke_session(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: &NewEvent,
    ) -> Result<bool, StoreError> {
        self.gone()
    }
    async fn revoke_other_sessions(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: &NewEvent,
    ) -> Result<Vec<String>, StoreError> {
        self.gone()
    }
    async fn enqueue(&self, _: &[Outgoing], _: Option<&NewEvent>) -> Result<(), StoreError> {
        self.gone()
    }
    async fn enqueue_throttled(
        &self,
        _: &Throttle,
        _: &[Outgoing],
        _: &NewEvent,
    ) -> Result<Option<i64>, StoreError> {
        self.gone()
    }
    async fn find_one_time(
        &self,
        _: &str,
        _: &str,
        _: i64,
    ) -> Result<Option<OneTimeRecord>, StoreError> {
        self.gone()
    }
    async fn sign_in_failed_notifying(
        &self,
        _: &str,
        _: i64,
        _: &NewEvent,
        _: &BlockNotice,
    ) -> Result<(i64, bool), StoreError> {
        self.gone()
    }
    async fn unblock(&self, _: &Consume, _: &NewEvent) -> Result<Option<User>, StoreError> {
        self.gone()
    }
    async fn reset_password(
        &self,
        _: &Consume,
        _: &str,
        _: &NewMail,
        _: &NewEvent,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.gone()
    }
    async fn verify_email(&self, _: &Consume, _: &NewEvent) -> Result<Option<User>, StoreError> {
        self.gone()
    }
    async fn change_email(
        &self,
        _: &Consume,
        _: &str,
        _: &str,
        _: &NewMail,
        _: &NewEvent,
    ) -> Result<Option<User>, StoreError> {
        self.gone()
    }
    async fn change_password(
        &self,
        _: &str,
        _: &str,
        _: &SessionSwap<'_>,
        _: bool,
        _: &NewMail,
        _: &NewEvent,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.gone()
    }
    async fn update_profile(
        &self,
        _: &str,
        _: &ProfilePatch,
        _: i64,
        _: &NewEvent,
    ) -> Result<Option<User>, StoreError> {
        self.gone()
    }
    async fn due_mail(&self, _: i64, _: i64) -> Result<Vec<PendingMail>, StoreError> {
        self.gone()
    }
    async fn claim_mail(&self, _: &str, _: i64, _: i64) -> Result<bool, StoreError> {
        self.gone()
    }
    async fn mail_sent(&self, _: &str, _: i64, _: i64) -> Result<(), StoreError> {
        self.gone()
    }
    async fn mail_not_sent(
        &self,
        _: &str,
        _: i64,
        _: &str,
        _: Option<i64>,
        _: i64,
    ) -> Result<(), StoreError> {
        self.gone()
    }
    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        self.gone()
    }
    async fn failure_streak(&self, _: &str) -> Result<FailureStreak, StoreError> {
        self.gone()
    }
    async fn sign_in_failed(
        &self,
        _: &str,
        _: i64,
        _: Option<&NewEvent>,
    ) -> Result<i64, StoreError> {
        self.gone()
    }
    async fn sign_in_succeeded(&self, _: &str) -> Result<(), StoreError> {
        self.gone()
    }
    async fn rate_hit(&self, _: &str, _: i64, _: i64, _: i64) -> Result<(i64, i64), StoreError> {
        self.gone()
    }
    async fn rate_purge(&self, _: i64) -> Result<u64, StoreError> {
        self.gone()
    }
    async fn record_event(&self, _: &NewEvent) -> Result<(), StoreError> {
        self.gone()
    }
    async fn security_events(&self, _: &str, _: i64) -> Result<Vec<SecurityEvent>, StoreError> {
        self.gone()
    }
    async fn list_tasks(&self, _: &str) -> Result<Vec<Task>, StoreError> {
        self.gone()
    }
    async fn create_task(&self, _: &NewTask) -> Result<Task, StoreError> {
        self.gone()
    }
    async fn find_task(&self, _: &str, _: &str) -> Result<Option<Task>, StoreError> {
        self.gone()
    }
    async fn update_task(
        &self,
        _: &str,
        _: &str,
        _: &TaskPatch,
        _: i64,
    ) -> Result<Option<Task>, StoreError> {
        self.gone()
    }
    async fn delete_task(&self, _: &str, _: &str) -> Result<bool, StoreError> {
        self.gone()
    }
}

#[tokio::test]
async fn a_failed_statement_is_a_generic_500_and_readiness_says_503() {
    let failed = || StoreError::Database(sqlx::Error::RowNotFound);
    let body =
        a_failing_store_answers(failed, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    assert_eq!(
        body["message"],
        "The server could not complete the request."
    );
}

#[tokio::test]
async fn a_database_out_of_reach_is_503_unavailable_on_every_path() {
    let gone = || StoreError::Unavailable(sqlx::Error::PoolTimedOut);
    a_failing_store_answers(gone, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
}

/// Registration, sign-in and a bearer request (whose session look-up fails) all answer
/// `status`/`code` without naming the database's trouble; readiness says 503. Returns the
/// last error body.
async fn a_failing_store_answers(
    error: fn() -> StoreError,
    status: StatusCode,
    code: &str,
) -> Value {
    let app = TestApp::with_store(Arc::new(BrokenStore(error))).await;
    let (token, _) = app
        .state
        .tokens
        .issue(
            &latchkey_core::TokenSubject {
                user_id: "u",
                session_id: "s",
                email: "a@b.co",
                email_verified: false,
            },
            app.clock.now_secs(),
            "j",
        )
        .unwrap();
    let mut last = Value::Null;
    for res in [
        app.register("ann@example.com", PASSWORD).await,
        app.sign_in("ann@example.com", PASSWORD).await,
        app.get("/api/v1/tasks", Some(&token)).await,
    ] {
        last = assert_error(res, status, code).await;
        let text = last.to_string().to_lowercase();
        assert!(!text.contains("pool") && !text.contains("sqlx"), "{last}");
    }
    assert_error(
        app.get("/readyz", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    last
}
