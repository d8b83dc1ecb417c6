//! What does counting one request against a rate limit cost, per store? Prints the time of
//! one `Limiter::count` (increment + read of the previous window + the verdict) for the
//! in-memory counters, the database (SQLite, and PostgreSQL when LATCHKEY_TEST_POSTGRES_URL
//! is set) and Redis (when LATCHKEY_TEST_REDIS_URL is set), interleaved in one run.
//!
//!     cargo bench -p latchkey-server --bench rate_limit

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_server::clock::SystemClock;
use latchkey_server::limiter::memory::MemoryCounters;
use latchkey_server::limiter::redis::RedisCounters;
use latchkey_server::limiter::{Counters, DatabaseCounters, Limit, Limiter, Rules};

const ROUNDS: usize = 3_000;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("latchkey-bench-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple();
    let mut stores: Vec<(&str, Arc<dyn Counters>)> =
        vec![("memory", Arc::new(MemoryCounters::new(100_000)))];
    let sqlite = latchkey_store::connect(&format!("sqlite://{}/bench.db", dir.display()))
        .await
        .unwrap();
    stores.push(("database (SQLite)", Arc::new(DatabaseCounters::new(sqlite))));
    match std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        Ok(url) => {
            let pg = latchkey_store::connect(&url).await.unwrap();
            stores.push(("database (PostgreSQL)", Arc::new(DatabaseCounters::new(pg))));
        }
        Err(_) => println!("(PostgreSQL skipped: set LATCHKEY_TEST_POSTGRES_URL to include it)"),
    }
    match std::env::var("LATCHKEY_TEST_REDIS_URL") {
        Ok(url) => {
            let redis = RedisCounters::connect(&url, &format!("latchkey-bench:{run}:"), None)
                .await
                .unwrap();
            stores.push(("redis", Arc::new(redis)));
        }
        Err(_) => println!("(Redis skipped: set LATCHKEY_TEST_REDIS_URL to include it)"),
    }
    let limiters: Vec<(&str, Limiter)> = stores
        .into_iter()
        .map(|(name, counters)| {
            (
                name,
                Limiter::new(counters, Rules::default(), Arc::new(SystemClock)),
            )
        })
        .collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); limiters.len()];
    for round in 0..ROUNDS {
        // A new key every 50 rounds: both the insert and the update paths are measured.
        let key = format!("{run}-{}", round / 50);
        for (i, (_, limiter)) in limiters.iter().enumerate() {
            let started = Instant::now();
            limiter.count(Limit::AuthIp, &key).await.unwrap();
            samples[i].push(started.elapsed());
        }
    }
    println!("{ROUNDS} counted requests per store, interleaved\n");
    println!(
        "{:<24} {:>10} {:>10} {:>12}",
        "store", "median", "p99", "requests/s"
    );
    for ((name, _), mut s) in limiters.iter().zip(samples) {
        s.sort();
        let total: Duration = s.iter().sum();
        println!(
            "{name:<24} {:>10.1?} {:>10.1?} {:>12.0}",
            s[s.len() / 2],
            s[s.len() * 99 / 100],
            s.len() as f64 / total.as_secs_f64()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
