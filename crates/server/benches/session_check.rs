//! What does "is this session still live?" cost per authenticated request? Prints the time of
//! one full check (JWT verify + liveness) with the liveness cache on and off, beside a bare
//! JWT verify, interleaved in one run so machine noise hits all alike.
//!
//!     cargo bench -p latchkey-server --bench session_check
//!
//! SQLite always (a temporary file); PostgreSQL too when LATCHKEY_TEST_POSTGRES_URL is set.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::TokenSubject;
use latchkey_server::auth::authenticate;
use latchkey_server::clock::SystemClock;
use latchkey_server::settings::Settings;
use latchkey_server::startup;
use latchkey_server::state::AppState;
use latchkey_store::{NewEvent, NewSession, NewUser};

const ROUNDS: usize = 2_000;
const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";

#[tokio::main]
async fn main() {
    let (dir, urls) = common::database_urls("check");
    println!("{ROUNDS} checks each, median and p99 per check\n");
    println!(
        "{:<10} {:<28} {:>10} {:>10}",
        "backend", "check", "median", "p99"
    );
    for (backend, url) in urls {
        let cached = state(&url, 5).await;
        let uncached = state(&url, 0).await;
        let token = signed_in(&cached).await;
        let mut samples = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            let start = Instant::now();
            cached.tokens.verify(&token, now_secs()).unwrap();
            samples[0].push(start.elapsed());
            let start = Instant::now();
            authenticate(&cached, &token, false).await.unwrap();
            samples[1].push(start.elapsed());
            let start = Instant::now();
            authenticate(&uncached, &token, false).await.unwrap();
            samples[2].push(start.elapsed());
        }
        let names = [
            "JWT verify only",
            "full check, cache on (5 s)",
            "full check, cache off",
        ];
        for (name, mut s) in names.into_iter().zip(samples) {
            s.sort();
            println!(
                "{backend:<10} {name:<28} {:>10} {:>10}",
                show(s[s.len() / 2]),
                show(s[s.len() * 99 / 100])
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

async fn state(url: &str, cache_ttl: i64) -> Arc<AppState> {
    let mut settings = Settings::for_tests(url, SECRET);
    settings.sessions.cache_ttl = std::time::Duration::from_secs(cache_ttl.unsigned_abs());
    startup::build_state(&settings, Arc::new(SystemClock))
        .await
        .unwrap()
}

/// A user with one live session, made through the store; returns an access token for it.
async fn signed_in(state: &AppState) -> String {
    let now_ms = now_secs() * 1000;
    let id = |n: u8| {
        format!(
            "00000000-0000-4000-8000-{:012}",
            u64::from(n) + now_ms as u64 % 1_000_000
        )
    };
    let user = NewUser {
        id: id(1),
        email: format!("bench-{now_ms}@example.com"),
        email_key: format!("bench-{now_ms}@example.com"),
        name: None,
        password_hash: "not-a-real-hash".into(),
        locale: None,
        now_ms,
    };
    let session = NewSession {
        id: id(2),
        user_id: user.id.clone(),
        now_ms,
        expires_at_ms: now_ms + 3_600_000,
        absolute_expires_at_ms: now_ms + 3_600_000,
        refresh_seed: "seed".into(),
        refresh_hash: format!("bench-{now_ms}"),
        user_agent: None,
        ip: None,
    };
    let event = NewEvent {
        id: id(3),
        kind: latchkey_store::EventKind::Registered,
        user_id: Some(user.id.clone()),
        session_id: Some(session.id.clone()),
        ip: None,
        user_agent: None,
        now_ms,
    };
    state
        .store
        .accounts
        .register(&user, Some(&session), &event, &[])
        .await
        .unwrap();
    let subject = TokenSubject {
        user_id: &user.id,
        session_id: &session.id,
        email: &user.email,
        email_verified: false,
    };
    state.tokens.issue(&subject, now_secs(), "bench").unwrap().0
}

fn now_secs() -> i64 {
    use latchkey_server::clock::Clock;
    SystemClock.now_secs()
}

fn show(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
