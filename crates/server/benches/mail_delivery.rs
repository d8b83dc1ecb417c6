//! How long does a password-reset email take to arrive? From the forgot-password request to
//! the message accepted by a real SMTP listener on 127.0.0.1, through the durable outbox and
//! its worker: one request at a time (each email awaited before the next), and a burst of
//! many at once. Prints p50/p95/p99/max and throughput per backend.
//!
//!     cargo bench -p latchkey-server --bench mail_delivery
//!
//! SQLite always (a temporary file); PostgreSQL too when LATCHKEY_TEST_POSTGRES_URL is set.

// The SMTP listener tells the log-hygiene capture about tokens; here it stays off.
#[path = "../tests/api/capture.rs"]
#[allow(dead_code)]
mod capture;
#[path = "../tests/api/smtp.rs"]
#[allow(dead_code)]
mod smtp;

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_server::clock::SystemClock;
use latchkey_server::settings::{MailerKind, Settings, SmtpTls};
use latchkey_server::startup;
use latchkey_store::NewEvent;

/// (name, emails, requests in flight; 0 means one at a time, each email awaited).
const SCENARIOS: [(&str, usize, usize); 2] = [("one at a time", 30, 0), ("burst", 200, 16)];
const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";

#[tokio::main]
async fn main() {
    // Retries and failures show up, so a slow figure can be explained.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let (dir, urls) = common::database_urls("mail");
    println!("password-reset emails, request sent -> message accepted by the SMTP listener\n");
    println!(
        "{:<10} {:<26} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "backend", "load", "p50", "p95", "p99", "max", "emails/s"
    );
    for (backend, url) in urls {
        for (name, users, in_flight) in SCENARIOS {
            let (latencies, rate) = run(&url, users, in_flight).await;
            let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
            let load = if in_flight == 0 {
                format!("{name} ({users})")
            } else {
                format!("{name} ({users}, {in_flight} in flight)")
            };
            println!(
                "{backend:<10} {load:<26} {:>9.1?} {:>9.1?} {:>9.1?} {:>9.1?} {:>9.0}",
                pick(0.5),
                pick(0.95),
                pick(0.99),
                latencies[latencies.len() - 1],
                rate
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Sorted request-to-arrival latencies, and emails per second over the whole batch.
async fn run(url: &str, users: usize, in_flight: usize) -> (Vec<Duration>, f64) {
    let sink = smtp::SmtpSink::start().await;
    let mut settings = Settings::for_tests(url, SECRET);
    settings.mail.mailer = Some(MailerKind::Smtp);
    settings.mail.smtp_host = Some("127.0.0.1".into());
    settings.mail.smtp_port = Some(sink.port);
    settings.mail.smtp_tls = SmtpTls::None;
    let state = startup::build_state(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    // Accounts straight into the store: the bench is about mail, not password hashing.
    let run_id = uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple();
    let emails: Vec<String> = (0..users)
        .map(|i| format!("bench{i}-{run_id}@example.com"))
        .collect();
    for (i, email) in emails.iter().enumerate() {
        let user = latchkey_store::NewUser {
            id: format!("{run_id}-{i}"),
            email: email.clone(),
            email_key: email.clone(),
            name: None,
            password_hash: "unused".into(),
            locale: None,
            now_ms: 0,
        };
        let event = NewEvent {
            id: format!("{run_id}-e{i}"),
            kind: latchkey_store::EventKind::Registered,
            user_id: Some(user.id.clone()),
            session_id: None,
            ip: None,
            user_agent: None,
            now_ms: 0,
        };
        state
            .store
            .accounts
            .register(&user, None, &event, &[])
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    // Stopped at the end, worker included: the next run's mail must not reach this one's.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(startup::run(listener, state, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
    let mut sent_at = Vec::new();
    let mut requests = Vec::new();
    for email in &emails {
        if in_flight == 0 {
            let sent = Instant::now();
            let res = client
                .post(format!("{address}/api/v1/auth/forgot-password"))
                .json(&serde_json::json!({ "email": email }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 202);
            sink.find(email, "Reset your").await;
            sent_at.push(sent);
            continue;
        }
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
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    latencies.sort();
    (latencies, users as f64 / elapsed)
}
