//! How long does a password-reset email take to arrive? From the forgot-password request to
//! the message accepted by a real SMTP listener on 127.0.0.1, through the durable outbox and
//! its worker, for many requests at once. Prints p50/p95/p99/max per backend.
//!
//!     cargo bench -p latchkey-server --bench mail_delivery
//!
//! SQLite always (a temporary file); PostgreSQL too when LATCHKEY_TEST_POSTGRES_URL is set.

#[path = "../tests/api/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_server::clock::SystemClock;
use latchkey_server::config::{MailerKind, Settings, SmtpTls};
use latchkey_server::startup;
use latchkey_store::NewEvent;

const USERS: usize = 200;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;
const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("latchkey-bench-mail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![("sqlite", format!("sqlite://{}/bench.db", dir.display()))];
    if let Ok(url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        urls.push(("postgres", url));
    } else {
        println!("(PostgreSQL skipped: set LATCHKEY_TEST_POSTGRES_URL to include it)");
    }
    println!("{USERS} password-reset emails per backend, {CONCURRENCY} requests in flight\n");
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "backend", "p50", "p95", "p99", "max", "emails/s"
    );
    for (backend, url) in urls {
        let (latencies, rate) = run(&url).await;
        let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        println!(
            "{backend:<10} {:>10.1?} {:>10.1?} {:>10.1?} {:>10.1?} {:>12.0}",
            pick(0.5),
            pick(0.95),
            pick(0.99),
            latencies[latencies.len() - 1],
            rate
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Sorted request-to-arrival latencies, and emails per second over the whole batch.
async fn run(url: &str) -> (Vec<Duration>, f64) {
    let sink = smtp::SmtpSink::start().await;
    let mut settings = Settings::for_tests(url, SECRET);
    settings.mailer = Some(MailerKind::Smtp);
    settings.smtp_host = Some("127.0.0.1".into());
    settings.smtp_port = Some(sink.port);
    settings.smtp_tls = SmtpTls::None;
    let state = startup::build_state(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    // Accounts straight into the store: the bench is about mail, not password hashing.
    let run_id = uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple();
    let emails: Vec<String> = (0..USERS)
        .map(|i| format!("bench{i}-{run_id}@example.com"))
        .collect();
    for (i, email) in emails.iter().enumerate() {
        let user = latchkey_store::NewUser {
            id: format!("{run_id}-{i}"),
            email: email.clone(),
            email_key: email.clone(),
            name: None,
            password_hash: "unused".into(),
            now_ms: 0,
        };
        let event = NewEvent {
            id: format!("{run_id}-e{i}"),
            kind: "registered",
            user_id: Some(user.id.clone()),
            session_id: None,
            ip: None,
            user_agent: None,
            now_ms: 0,
        };
        state
            .store
            .register(&user, None, &event, &[])
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(startup::run(listener, state, std::future::pending()));

    let client = reqwest::Client::new();
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut sent_at = Vec::new();
    let mut requests = Vec::new();
    for email in &emails {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        sent_at.push(Instant::now());
        let request = client
            .post(format!("{address}/api/v1/auth/forgot-password"))
            .json(&serde_json::json!({ "email": email }))
            .send();
        requests.push(tokio::spawn(async move {
            let res = request.await.unwrap();
            assert_eq!(res.status(), 202);
            drop(permit);
        }));
    }
    for request in requests {
        request.await.unwrap();
    }
    let mut latencies = Vec::new();
    for (email, sent) in emails.iter().zip(sent_at) {
        let arrived = sink.find(email, "Reset your").await.at;
        latencies.push(arrived - sent);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    (latencies, USERS as f64 / elapsed)
}
