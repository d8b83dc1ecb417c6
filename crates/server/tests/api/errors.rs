//! Bad input of every kind gets the one JSON error shape and a 4xx — never a 500. These do
//! not touch the database, so they run on SQLite only.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use latchkey_server::clock::Clock;
use latchkey_store::{SqlStore, Store};

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

/// A real SQLite store, in a file of its own.
async fn sqlite_store(name: &str) -> (SqlStore, String) {
    let path = std::env::temp_dir().join(format!(
        "lk_{name}_{}.db",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ));
    let url = format!("sqlite://{}", path.display());
    (SqlStore::connect(&url).await.unwrap(), url)
}

#[tokio::test]
async fn a_failed_statement_is_a_generic_500_and_readiness_says_503() {
    // Every statement fails: the schema is gone from under a running server.
    let (store, url) = sqlite_store("dropped").await;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut conn)
        .await
        .unwrap();
    for (table,) in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE \"{table}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let body = a_failing_store_answers(
        Store::sql(store),
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
    )
    .await;
    assert_eq!(
        body["message"],
        "The server could not complete the request."
    );
}

#[tokio::test]
async fn a_database_out_of_reach_is_503_unavailable_on_every_path() {
    // No connection to be had: what every call meets while the database is down.
    let (store, _) = sqlite_store("closed").await;
    store.close().await;
    a_failing_store_answers(
        Store::sql(store),
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
}

/// Registration, sign-in and a bearer request (whose session look-up fails) all answer
/// `status`/`code` without naming the database's trouble; readiness says 503. Returns the
/// last error body.
async fn a_failing_store_answers(store: Store, status: StatusCode, code: &str) -> Value {
    let app = TestApp::with_store(store).await;
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
