//! Rate limits and brute-force defence, with the injected clock: each default rule, the
//! account rule across many addresses, the backoff and the hard block, client addresses
//! behind proxies (and attempts to spoof them), atomicity on every counter store, and
//! failing closed when the counters cannot answer.

use std::sync::Arc;

use latchkey_server::limiter::{CounterError, Counters};
use latchkey_server::settings::{RateLimitStore, Settings};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::email::{NEW_PASSWORD, RESET, reset, wait_for_an_empty_outbox};
use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

const WRONG: &str = "not the password!";

/// The app with the default rules on, trusting 127.0.0.1 as a proxy so each test can speak
/// for any client address through `X-Forwarded-For`; `configure` may change more.
pub async fn limited(app: TestApp, configure: impl FnOnce(&mut Settings)) -> TestApp {
    app.restart_with(|s| {
        s.limits.rules = String::new();
        s.proxies.trusted = vec!["127.0.0.1".into()];
        configure(s);
    })
    .await
}

pub async fn post_from(app: &TestApp, ip: &str, path: &str, body: Value) -> Response {
    app.client
        .post(app.url(path))
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn sign_in_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Response {
    let body = json!({ "email": email, "password": password });
    post_from(app, ip, "/api/v1/auth/signin", body).await
}

async fn register_from(app: &TestApp, ip: &str, email: &str) -> Response {
    let body = json!({ "email": email, "password": PASSWORD });
    post_from(app, ip, "/api/v1/auth/register", body).await
}

async fn forgot_from(app: &TestApp, ip: &str, email: &str) -> Response {
    post_from(
        app,
        ip,
        "/api/v1/auth/forgot-password",
        json!({ "email": email }),
    )
    .await
}

/// `/readyz` as seen with one request header set: what the server resolved the client to,
/// and its rate-limit store.
async fn readiness_with(app: &TestApp, header: &str, value: &str) -> Value {
    let res = app.client.get(app.url("/readyz")).header(header, value);
    res.send().await.unwrap().json().await.unwrap()
}

/// Asserts a 429 with its headers; returns Retry-After.
pub async fn assert_limited(res: Response) -> i64 {
    let header = |name: &str| -> i64 {
        res.headers()
            .get(name)
            .unwrap_or_else(|| panic!("{name} on the 429"))
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let retry_after = header("retry-after");
    assert!(retry_after >= 1);
    assert_eq!(header("ratelimit-reset"), retry_after);
    assert_eq!(header("ratelimit-remaining"), 0);
    assert!(header("ratelimit-limit") >= 1);
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    retry_after
}

both_backends! {
    async fn the_sixth_failed_sign_in_from_one_address_within_15_minutes_is_429_until_it_may_pass(app) {
        let app = limited(app, |_| {}).await;
        app.signed_up("ann@example.com").await;
        for i in 0..5 {
            let res = sign_in_from(&app, "203.0.113.9", &format!("guess{i}@example.com"), WRONG).await;
            assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        }
        // The address is spent, for any account, right password or not.
        let retry_after = assert_limited(sign_in_from(&app, "203.0.113.9", "ann@example.com", PASSWORD).await).await;
        assert!((900..=1800).contains(&retry_after), "{retry_after}");
        assert_eq!(sign_in_from(&app, "198.51.100.4", "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
        app.advance_secs(retry_after - 1);
        assert_limited(sign_in_from(&app, "203.0.113.9", "ann@example.com", PASSWORD).await).await;
        app.advance_secs(1800);
        assert_eq!(sign_in_from(&app, "203.0.113.9", "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn five_failures_against_one_account_from_five_addresses_shut_out_the_sixth(app) {
        let app = limited(app, |_| {}).await;
        app.signed_up("ann@example.com").await;
        for i in 1..=5 {
            let res = sign_in_from(&app, &format!("203.0.113.{i}"), "ann@example.com", WRONG).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let retry_after = assert_limited(sign_in_from(&app, "203.0.113.6", "ANN@example.com", PASSWORD).await).await;
        // An unknown account is limited the same way: nothing tells the two apart.
        for i in 1..=5 {
            sign_in_from(&app, &format!("192.0.2.{i}"), "nobody@example.com", WRONG).await;
        }
        assert_limited(sign_in_from(&app, "192.0.2.6", "nobody@example.com", WRONG).await).await;
        app.advance_secs(retry_after);
        assert_eq!(sign_in_from(&app, "203.0.113.7", "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn the_backoff_treats_known_and_unknown_addresses_alike(app) {
        let app = limited(app, |_| {}).await;
        app.signed_up("ann@example.com").await;
        let mut answers = Vec::new();
        for email in ["ann@example.com", "nobody@example.com"] {
            for i in 0..5 {
                sign_in_from(&app, &format!("203.0.{}.{i}", email.len()), email, WRONG).await;
            }
        }
        // The windows have passed; the streaks of five failures have not.
        app.advance_secs(45 * 60);
        for email in ["ann@example.com", "nobody@example.com"] {
            let first = sign_in_from(&app, "198.51.100.1", email, WRONG).await.status();
            let second = sign_in_from(&app, "198.51.100.2", email, WRONG).await;
            answers.push((first, second.status(), second.headers().get("retry-after").cloned()));
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].1, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn successful_sign_ins_do_not_count_as_failures(app) {
        let app = limited(app, |_| {}).await;
        app.signed_up("ann@example.com").await;
        for _ in 0..8 {
            assert_eq!(sign_in_from(&app, "203.0.113.9", "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
        }
        for _ in 0..4 {
            sign_in_from(&app, "203.0.113.9", "ann@example.com", WRONG).await;
        }
        assert_eq!(sign_in_from(&app, "203.0.113.9", "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn an_account_backs_off_after_five_failures_in_a_row_and_is_blocked_at_a_hundred_until_a_reset(app) {
        // Window rules out of the way: this is about failures in a row.
        let app = limited(app, |s| s.limits.rules = "signin_ip=100000/15m,signin_account=100000/15m".into()).await;
        app.signed_up("ann@example.com").await;
        let mut failures = 0;
        let mut waits = Vec::new();
        while failures < 100 {
            let res = sign_in_from(&app, &format!("10.1.{}.{}", failures / 200, failures % 200), "ann@example.com", WRONG).await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                let wait = assert_limited(res).await;
                waits.push(wait);
                app.advance_secs(wait);
            } else {
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
                failures += 1;
            }
        }
        assert_eq!(&waits[..4], &[1, 2, 4, 8], "the wait doubles from 1 s");
        assert_eq!(*waits.iter().max().unwrap(), 900, "and is capped at 15 minutes");
        // Blocked: the right password gets the same answer, however long one waits.
        app.advance_secs(24 * 3600);
        assert_limited(sign_in_from(&app, "10.9.9.9", "ann@example.com", PASSWORD).await).await;
        // The reset path stays open and lifts the block.
        let asked = post_from(&app, "10.9.9.9", "/api/v1/auth/forgot-password", json!({ "email": "ann@example.com" })).await;
        assert_eq!(asked.status(), StatusCode::ACCEPTED);
        let token = app.mail.find("ann@example.com", RESET).await.token();
        assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(sign_in_from(&app, "10.9.9.9", "ann@example.com", NEW_PASSWORD).await.status(), StatusCode::OK);
    }

    async fn registration_is_limited_to_ten_an_hour_per_address(app) {
        let app = limited(app, |_| {}).await;
        for i in 0..10 {
            assert_eq!(register_from(&app, "203.0.113.9", &format!("user{i}@example.com")).await.status(), StatusCode::CREATED);
        }
        assert_limited(register_from(&app, "203.0.113.9", "user10@example.com").await).await;
        assert_eq!(register_from(&app, "198.51.100.4", "user10@example.com").await.status(), StatusCode::CREATED);
        app.advance_secs(2 * 3600);
        assert_eq!(register_from(&app, "203.0.113.9", "user11@example.com").await.status(), StatusCode::CREATED);
    }

    async fn recovery_emails_are_limited_per_address_silently_and_per_client_visibly(app) {
        let app = limited(app, |_| {}).await;
        app.signed_up("ann@example.com").await;
        for _ in 0..3 {
            assert_eq!(forgot_from(&app, "203.0.113.9", "ann@example.com").await.status(), StatusCode::ACCEPTED);
        }
        assert_limited(forgot_from(&app, "203.0.113.9", "ann@example.com").await).await;
        app.mail.find("ann@example.com", RESET).await;
        wait_for_an_empty_outbox(&app).await;
        let resets = |app: &TestApp| app.mail.to("ann@example.com").iter().filter(|m| m.subject().contains(RESET)).count();
        assert_eq!(resets(&app), 1, "one email a minute per address");
        // Five an hour per address, from any number of clients.
        for i in 1..=6 {
            app.advance_secs(61);
            assert_eq!(forgot_from(&app, &format!("192.0.2.{i}"), "ann@example.com").await.status(), StatusCode::ACCEPTED);
            // The work happens after the answer: let it run at this moment of the clock.
            wait_for_an_empty_outbox(&app).await;
        }
        wait_for_an_empty_outbox(&app).await;
        assert_eq!(resets(&app), 5, "the sixth within the hour is not sent");
    }

    async fn refresh_is_limited_to_sixty_a_minute_per_session(app) {
        let app = limited(app, |_| {}).await;
        app.signed_up("ann@example.com").await;
        let (_, mut refresh_token) = app.signed_in("ann@example.com").await;
        for _ in 0..60 {
            let res = app.refresh(&refresh_token).await;
            assert_eq!(res.status(), StatusCode::OK);
            refresh_token = tokens_of(res).await.1;
        }
        assert_limited(app.refresh(&refresh_token).await).await;
        // Another session is not affected.
        let (_, other) = app.signed_in("ann@example.com").await;
        assert_eq!(app.refresh(&other).await.status(), StatusCode::OK);
        app.advance_secs(120);
        assert_eq!(app.refresh(&refresh_token).await.status(), StatusCode::OK);
    }

    async fn the_auth_ceiling_counts_every_auth_call_per_address_and_spares_health_keys_and_contract(app) {
        let app = limited(app, |s| s.limits.rules = "auth_ip=5/10s".into()).await;
        let get_from = |ip: &'static str, path: &'static str| {
            app.client.get(app.url(path)).header("x-forwarded-for", ip).send()
        };
        for _ in 0..5 {
            assert_eq!(get_from("203.0.113.9", "/api/v1/auth/me").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        assert_limited(get_from("203.0.113.9", "/api/v1/auth/me").await.unwrap()).await;
        assert_limited(forgot_from(&app, "203.0.113.9", "ann@example.com").await).await;
        for path in ["/healthz", "/readyz", "/.well-known/jwks.json", "/openapi.json"] {
            assert_eq!(get_from("203.0.113.9", path).await.unwrap().status(), StatusCode::OK, "{path}");
        }
        assert_eq!(get_from("198.51.100.4", "/api/v1/auth/me").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        app.advance_secs(20);
        assert_eq!(get_from("203.0.113.9", "/api/v1/auth/me").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }

    async fn with_one_slot_left_two_parallel_requests_let_exactly_one_through_on_the_database_store(app) {
        let app = limited(app, |s| s.limits.store = Some(RateLimitStore::Database)).await;
        exactly_one_of_two_takes_the_last_slot(&app).await;
    }
}

/// Recovery requests allow 3 a minute per address: for each of several addresses, two
/// go in one by one, then two at once; exactly one of the pair may pass.
pub async fn exactly_one_of_two_takes_the_last_slot(app: &TestApp) {
    for round in 0..8 {
        let ip = format!("203.0.113.{round}");
        for _ in 0..2 {
            assert_eq!(
                forgot_from(app, &ip, "ann@example.com").await.status(),
                StatusCode::ACCEPTED
            );
        }
        let (a, b) = tokio::join!(
            forgot_from(app, &ip, "ann@example.com"),
            forgot_from(app, &ip, "ann@example.com")
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [202, 429], "round {round}");
    }
}

#[tokio::test]
async fn with_one_slot_left_two_parallel_requests_let_exactly_one_through_in_memory() {
    let app = limited(TestApp::sqlite().await, |_| {}).await;
    let ready = readiness_with(&app, "x-forwarded-for", "192.0.2.1").await;
    assert_eq!(ready["rateLimitStore"], "memory");
    exactly_one_of_two_takes_the_last_slot(&app).await;
}

/// `Some(url)` of the Redis to test against, or `None` (and a note) when there is none,
/// unless LATCHKEY_REQUIRE_ALL is set (CI), when its absence is a failure.
pub fn redis_url() -> Option<String> {
    match std::env::var("LATCHKEY_TEST_REDIS_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("LATCHKEY_REQUIRE_ALL").is_none(),
                "LATCHKEY_REQUIRE_ALL is set but LATCHKEY_TEST_REDIS_URL is not"
            );
            eprintln!("SKIPPED on Redis: LATCHKEY_TEST_REDIS_URL is not set");
            None
        }
    }
}

/// A key prefix no other test or run shares.
pub fn fresh_prefix() -> String {
    format!(
        "latchkey-test:{}:",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    )
}

#[tokio::test]
async fn with_one_slot_left_two_parallel_requests_let_exactly_one_through_on_redis() {
    let Some(url) = redis_url() else { return };
    let app = limited(TestApp::sqlite().await, |s| {
        s.limits.store = Some(RateLimitStore::Redis);
        s.limits.redis_url = Some(latchkey_server::settings::SecretText::new(url));
        s.limits.redis_prefix = fresh_prefix();
    })
    .await;
    let ready = readiness_with(&app, "x-forwarded-for", "192.0.2.1").await;
    assert_eq!(ready["rateLimitStore"], "redis");
    exactly_one_of_two_takes_the_last_slot(&app).await;
}

#[tokio::test]
async fn from_an_untrusted_peer_a_rotating_x_forwarded_for_does_not_escape_the_limit() {
    let app = limited(TestApp::sqlite().await, |s| s.proxies.trusted = Vec::new()).await;
    for i in 0..5 {
        let res = sign_in_from(
            &app,
            &format!("203.0.113.{i}"),
            &format!("guess{i}@example.com"),
            WRONG,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(sign_in_from(&app, "198.51.100.77", "other@example.com", WRONG).await).await;
    let seen = readiness_with(&app, "x-forwarded-for", "198.51.100.77").await;
    assert_eq!(
        seen["clientIp"], "127.0.0.1",
        "the header is ignored from an untrusted peer"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_clients_get_their_own_buckets_and_ipv6_is_grouped_by_64() {
    let app = limited(TestApp::sqlite().await, |_| {}).await;
    for i in 0..5 {
        let res = sign_in_from(
            &app,
            "198.51.100.7, 203.0.113.9",
            &format!("guess{i}@example.com"),
            WRONG,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The right-most untrusted hop is the client: the spoofable left part does not matter.
    assert_limited(sign_in_from(&app, "1.2.3.4, 203.0.113.9", "x@example.com", WRONG).await).await;
    assert_eq!(
        sign_in_from(&app, "203.0.113.10", "x@example.com", WRONG)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // One /64 is one client.
    for i in 0..5 {
        let ip = format!("2001:db8:1:2::{i:x}");
        assert_eq!(
            sign_in_from(&app, &ip, &format!("v6-{i}@example.com"), WRONG)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_limited(sign_in_from(&app, "2001:db8:1:2:ffff::1", "v6@example.com", WRONG).await).await;
    assert_eq!(
        sign_in_from(&app, "2001:db8:1:3::1", "v6@example.com", WRONG)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Only the header the proxy writes is read: a client's own `Forwarded` is ignored…
    let forwarded = "for=\"[2001:db8::9]:4711\"";
    let body = readiness_with(&app, "forwarded", forwarded).await;
    assert_eq!(body["clientIp"], "127.0.0.1");
    // …unless the proxy is configured to write that one.
    let app = app
        .restart_with(|s| {
            s.proxies.trusted = vec!["127.0.0.1".into()];
            s.proxies.header = latchkey_server::settings::ForwardedHeader::Forwarded;
        })
        .await;
    let body = readiness_with(&app, "forwarded", forwarded).await;
    assert_eq!(body["clientIp"], "2001:db8::9");
}

/// Counters that fail for buckets starting with `prefix` and count nothing elsewhere: the
/// store going down under one limit while the auth ceiling still answers.
struct DownCounters(&'static str);

#[async_trait::async_trait]
impl Counters for DownCounters {
    fn name(&self) -> &'static str {
        "down"
    }

    async fn hit(
        &self,
        bucket: &str,
        _: i64,
        _: i64,
        _: i64,
        _: i64,
    ) -> Result<(u64, u64), CounterError> {
        if bucket.starts_with(self.0) {
            Err(CounterError("connection refused".into()))
        } else {
            Ok((0, 1))
        }
    }
}

#[tokio::test]
async fn when_the_counters_cannot_answer_sign_in_is_refused_with_503_not_let_through() {
    let app = TestApp::with_counters(Arc::new(DownCounters("signin_"))).await;
    app.signed_up("ann@example.com").await;
    let res = app.sign_in("ann@example.com", PASSWORD).await;
    let body = assert_error(
        res,
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limit_unavailable",
    )
    .await;
    assert!(
        !body.to_string().contains("refused"),
        "no internals in the body: {body}"
    );
    // Everything else still answers.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    let everything = TestApp::with_counters(Arc::new(DownCounters(""))).await;
    assert_error(
        everything.get("/api/v1/auth/me", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "rate_limit_unavailable",
    )
    .await;
    assert_eq!(
        everything.get("/readyz", None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn when_the_recipient_counters_cannot_answer_no_reset_email_goes_out() {
    let app = TestApp::with_counters(Arc::new(DownCounters("recovery_address"))).await;
    app.signed_up("ann@example.com").await;
    let asked = app
        .post(
            "/api/v1/auth/forgot-password",
            &json!({ "email": "ann@example.com" }),
            None,
        )
        .await;
    assert_eq!(
        asked.status(),
        StatusCode::ACCEPTED,
        "the answer never varies"
    );
    wait_for_an_empty_outbox(&app).await;
    let resets = app.mail.to("ann@example.com");
    assert!(resets.iter().all(|m| !m.subject().contains(RESET)));
}
