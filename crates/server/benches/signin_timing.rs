//! Does sign-in timing tell an unknown email from a wrong password? Prints the latency of
//! each kind of failed sign-in, interleaved so machine noise hits all alike.
//!
//!     cargo bench -p latchkey-server --bench signin_timing
//!
//! Runs the real server on SQLite in a temporary directory, over loopback HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_server::clock::SystemClock;
use latchkey_server::settings::Settings;
use latchkey_server::startup;
use serde_json::json;

const ROUNDS: usize = 60;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("latchkey-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/bench.db", dir.display());
    let settings = Settings::for_tests(&url, "bench-secret-0123456789abcdef-0123456789");
    let state = startup::build_state(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(startup::run(listener, state, std::future::pending()));

    let client = reqwest::Client::new();
    let password = "correct horse battery staple";
    let register = json!({"email": "ann@example.com", "password": password});
    let res = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&register)
        .send()
        .await;
    assert_eq!(res.unwrap().status(), 201);

    let cases = [
        ("unknown email", "nobody@example.com", password),
        (
            "wrong password",
            "ann@example.com",
            "not the right password",
        ),
        ("right password", "ann@example.com", password),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for round in 0..ROUNDS + 5 {
        for (i, (_, email, pw)) in cases.iter().enumerate() {
            let body = json!({"email": email, "password": pw});
            let start = Instant::now();
            let res = client
                .post(format!("{base}/api/v1/auth/signin"))
                .json(&body)
                .send()
                .await;
            let status = res.unwrap().status();
            let took = start.elapsed();
            assert_eq!(status == 200, i == 2);
            if round >= 5 {
                samples[i].push(took); // the first rounds warm up caches and connections
            }
        }
    }

    println!(
        "{:<16} {:>10} {:>10} {:>10}   ({ROUNDS} each, interleaved)",
        "sign-in", "p10", "median", "p90"
    );
    for ((name, _, _), mut times) in cases.iter().zip(samples) {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{name:<16} {:>10.2?} {:>10.2?} {:>10.2?}",
            at(0.1),
            at(0.5),
            at(0.9)
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
