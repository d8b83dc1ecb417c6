//! Request ids and readiness: whose `X-Request-Id` is taken, that the id is in the header,
//! the error body and the request's log lines, and that `/readyz` names each failing
//! dependency (the database, Redis, the mailer). The metrics' figures after real traffic are
//! checked by tests/observe/observe_check.py, with the Prometheus project's own parser.

use latchkey_server::settings::RateLimitStore;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::both_backends;
use crate::helpers::{PASSWORD, TestApp, assert_error};
use crate::process::Server;

/// GET `path` with `X-Request-Id: sent`: the response's id and body.
async fn with_request_id(app: &TestApp, path: &str, sent: &str) -> (String, Value) {
    let res = app
        .client
        .get(app.url(path))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    (id, res.json().await.unwrap_or(Value::Null))
}

both_backends! {
    async fn a_client_cannot_choose_its_request_id_but_a_trusted_proxy_can(app) {
        // Not a trusted proxy (none is configured): the client's id is replaced.
        let (id, body) = with_request_id(&app, "/api/v1/sessions", "client-chosen").await;
        assert_ne!(id, "client-chosen");
        assert_eq!(id.len(), 32, "{id}");
        assert_eq!(body["requestId"], id.as_str());
        // Two requests, two ids.
        let (other, _) = with_request_id(&app, "/healthz", "client-chosen").await;
        assert_ne!(other, id);

        let app = app
            .restart_with(|s| s.proxies.trusted = vec!["127.0.0.1".into()])
            .await;
        let (id, body) = with_request_id(&app, "/api/v1/sessions", "proxy-id-42").await;
        assert_eq!(id, "proxy-id-42");
        assert_eq!(body["requestId"], "proxy-id-42");
        // From a trusted proxy too, only a plain, bounded id is taken.
        for unsafe_id in ["two words", &"x".repeat(129), "a\"b"] {
            let (id, _) = with_request_id(&app, "/healthz", unsafe_id).await;
            assert_ne!(id, unsafe_id);
        }
    }

    async fn an_unknown_route_and_a_bad_body_answer_with_the_ids_of_their_requests(app) {
        let res = app.get("/no/such/route", None).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .client
            .post(app.url("/api/v1/auth/signin"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn every_line_logged_while_serving_a_request_names_it_and_one_is_the_access_line() {
    // The real binary, logging JSON, behind "a proxy" (this test, from 127.0.0.1).
    let server = Server::start(&[
        ("DATABASE_URL", "sqlite://observe.db".into()),
        ("LATCHKEY_LOG_FORMAT", "json".into()),
        ("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1".into()),
        ("LATCHKEY_RATE_LIMITS", "signin_account=1/15m".into()),
        ("RUST_LOG", "info".into()),
    ])
    .await;
    let client = reqwest::Client::new();
    let account = serde_json::json!({ "email": "ann@example.com", "password": PASSWORD });
    let res = client
        .post(format!("{}/api/v1/auth/register", server.url))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let wrong = serde_json::json!({ "email": "ann@example.com", "password": "wrong password" });
    for _ in 0..2 {
        client
            .post(format!(
                "{}/api/v1/auth/signin?token=in-the-query",
                server.url
            ))
            .header("x-request-id", "refused-one")
            .json(&wrong)
            .send()
            .await
            .unwrap();
    }
    let text = server.stop_and_read_log();
    let events: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|event: &Value| event["span"]["request_id"] == "refused-one")
        .collect();
    assert!(
        events.iter().any(|e| e["message"] == "password refused"),
        "{text}"
    );
    let access: Vec<&Value> = events
        .iter()
        .filter(|e| e["target"] == "latchkey::access")
        .collect();
    // Two requests sent with the same id: one access line each.
    assert_eq!(access.len(), 2, "{text}");
    assert_eq!(access[1]["route"], "/api/v1/auth/signin");
    assert_eq!(access[1]["method"], "POST");
    assert_eq!(access[1]["status"], 429);
    assert_eq!(access[1]["client"], "127.0.0.1");
    assert!(access[1]["duration_ms"].as_f64().is_some());
    assert!(
        !text.contains("in-the-query"),
        "a query string reached the log"
    );
    // Every line the binary printed is one JSON object.
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("{line}"));
        assert!(
            event["timestamp"].is_string() && event["level"].is_string(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn readiness_names_a_mailer_whose_last_send_failed() {
    let app = TestApp::sqlite().await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    // Nothing listens on the port the mail now goes to.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = app.restart_with(|s| s.mail.smtp_port = Some(port)).await;
    app.register("ann@example.com", PASSWORD).await;
    // The verification email's first attempt (the worker may be making it too).
    app.state.outbox.deliver_due().await.unwrap();
    let body = wait_until_not_ready(&app).await;
    assert_eq!(body["failing"], serde_json::json!(["mailer"]), "{body}");
}

#[tokio::test]
async fn a_recipient_the_relay_refuses_leaves_the_mailer_ready() {
    // Anyone can register an address that bounces: its refusal is about that message, not
    // the relay, and must not take every instance out of the load balancer.
    let app = TestApp::sqlite().await;
    app.register("mallory@bounce.example", PASSWORD).await;
    app.state.outbox.deliver_due().await.unwrap();
    assert!(!app.state.outbox.last_send_failed());
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    // The relay did refuse it, for good: nothing reached the inbox.
    assert!(app.mail.to("mallory@bounce.example").is_empty());
}

#[tokio::test]
async fn readiness_names_a_database_out_of_reach() {
    let path = std::env::temp_dir().join(format!(
        "lk_ready_{}.db",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let store = latchkey_store::SqlStore::connect(&url).await.unwrap();
    store.close().await;
    let app = TestApp::with_store(latchkey_store::Store::sql(store)).await;
    let res = app.get("/readyz", None).await;
    let body = assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    assert_eq!(body["failing"], serde_json::json!(["database"]), "{body}");
}

#[tokio::test]
async fn readiness_names_a_redis_that_stopped_answering() {
    let Some(redis) = crate::limits::redis_url() else {
        return;
    };
    // Redis reached through a forwarder this test can take away: then nothing listens on
    // the port the server connected to.
    let target = redis
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut forwarder = JoinSet::new();
    forwarder.spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            connections.spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    let app = TestApp::sqlite()
        .await
        .restart_with(|s| {
            s.limits.store = Some(RateLimitStore::Redis);
            s.limits.redis_url = Some(latchkey_server::settings::SecretText::new(format!(
                "redis://127.0.0.1:{port}"
            )));
        })
        .await;
    let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["rateLimitStore"], "redis", "{ready}");
    // Dropping the accept task drops its connections: the listener and every connection close.
    forwarder.shutdown().await;
    let body = wait_until_not_ready(&app).await;
    assert_eq!(body["failing"], serde_json::json!(["redis"]), "{body}");
}

/// Asks `/readyz` until it answers 503 and returns that body, checked as an error body. A
/// wait for work in the background (a send in flight on the worker, a dropped connection
/// noticed), not for time: no clock decides it.
async fn wait_until_not_ready(app: &TestApp) -> Value {
    for _ in 0..200 {
        let res = app.get("/readyz", None).await;
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            return assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("/readyz never said 503");
}

#[test]
fn a_bad_or_taken_metrics_address_is_refused_at_start_naming_the_setting() {
    let dir = crate::cli::temp_dir("metrics-listen");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    for (listen, metrics, says) in [
        ("127.0.0.1:0", "not an address", "invalid socket address"),
        (
            "127.0.0.1:18080",
            "127.0.0.1:18080",
            "is the public listener",
        ),
        ("127.0.0.1:18080", "0.0.0.0:18080", "is the public listener"),
        ("127.0.0.1:0", taken.as_str(), "in use"),
    ] {
        let out = crate::cli::latchkey(
            &dir,
            &[
                ("LATCHKEY_LISTEN", listen),
                ("LATCHKEY_METRICS_LISTEN", metrics),
            ],
            &[],
        );
        assert!(!out.status.success(), "{metrics}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr.lines().last().unwrap_or_default();
        assert!(
            line.starts_with("latchkey: LATCHKEY_METRICS_LISTEN") && line.contains(says),
            "{metrics}: {stderr}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
