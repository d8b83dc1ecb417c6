//! Two server processes on one PostgreSQL database: the sign-in limit holds across them,
//! with the database counters and with Redis. Each instance sees only some of the attempts,
//! so a per-process limit would let all of them through.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, SECRET, TestApp};
use crate::limits::{fresh_prefix, redis_url};
use crate::process::Server;

async fn sign_in(server: &Server, password: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signin", server.url))
        .json(&json!({ "email": "ann@example.com", "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

/// Starts two instances with `store` (and `extra` settings) on a fresh schema, with the
/// sign-in rules at 3 failures (below the 5 after which an address's own backoff, kept in
/// the database, would refuse anyway), makes three failed sign-ins alternating between
/// them, and returns what each then answers to the right password (`None` without
/// PostgreSQL).
async fn after_three_failures_across_two_instances(
    store: &str,
    extra: &[(&str, String)],
) -> Option<(StatusCode, StatusCode)> {
    let app = TestApp::postgres().await?;
    let mut env = vec![
        ("DATABASE_URL", app.database_url.clone()),
        ("LATCHKEY_SECRET", SECRET.to_owned()),
        ("LATCHKEY_RATE_LIMIT_STORE", store.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        (
            "LATCHKEY_RATE_LIMITS",
            "signin_ip=3/15m,signin_account=3/15m".to_owned(),
        ),
    ];
    env.extend(extra.iter().cloned());
    let (a, b) = (Server::start(&env).await, Server::start(&env).await);
    let registered = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", a.url))
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    for i in 0..3 {
        let server = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            sign_in(server, "not the password!").await,
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    // Two attempts went to one, one to the other: only a shared count reaches three.
    let answers = (sign_in(&b, PASSWORD).await, sign_in(&a, PASSWORD).await);
    a.stop_and_read_log();
    b.stop_and_read_log();
    Some(answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_with_memory_counters_do_not_share_the_limit_which_is_why_the_others_exist() {
    if let Some(answers) = after_three_failures_across_two_instances("memory", &[]).await {
        assert_eq!(answers, (StatusCode::OK, StatusCode::OK));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_sign_in_limit_through_the_database() {
    if let Some(answers) = after_three_failures_across_two_instances("database", &[]).await {
        assert_eq!(
            answers,
            (StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_sign_in_limit_through_redis() {
    let Some(url) = redis_url() else { return };
    let extra = [
        ("REDIS_URL", url),
        ("LATCHKEY_REDIS_PREFIX", fresh_prefix()),
    ];
    if let Some(answers) = after_three_failures_across_two_instances("redis", &extra).await {
        assert_eq!(
            answers,
            (StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS)
        );
    }
}
