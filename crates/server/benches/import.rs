//! How fast does `latchkey import` move users in? Imports 100,000 users from a JSONL file
//! (each with a pre-made password hash: argon2id and bcrypt, alternately — nothing is
//! hashed at import time), then imports the same file again (every user unchanged), and
//! prints users/s and the total time of each run.
//!
//!     cargo bench -p latchkey-server --bench import
//!
//! SQLite always (a temporary file); PostgreSQL too when LATCHKEY_TEST_POSTGRES_URL is set
//! (in a schema of its own, dropped afterwards). LATCHKEY_BENCH_IMPORT_USERS changes the
//! count.

mod common;

use std::io::Write;
use std::time::Instant;

use latchkey_core::hash::{DEFAULT_COST, hash_password};
use latchkey_server::import::{self, Options, Progress};

const BCRYPT: &str = "$2b$10$C6UzMDM.H6dfI/f/IKcEeO5nq/6R1Sg1h3WQ3vvvUU2h7sP/YS/J.";

#[tokio::main]
async fn main() {
    let users: u64 = std::env::var("LATCHKEY_BENCH_IMPORT_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let (dir, urls) = common::database_urls("import");
    let file = dir.join("users.jsonl");
    write_users(&file, users);
    println!(
        "{users} users from a JSONL file, batches of {}\n",
        import::DEFAULT_BATCH_SIZE
    );
    println!(
        "{:<10} {:<22} {:>12} {:>10}",
        "backend", "run", "users/s", "seconds"
    );
    for (backend, url) in urls {
        let (url, schema) = match backend {
            "postgres" => {
                let (url, schema) = fresh_schema(&url).await;
                (url, Some(schema))
            }
            _ => (url, None),
        };
        let store = latchkey_store::connect(&url).await.unwrap();
        for run in ["first import", "re-run (all unchanged)"] {
            let feed = import::jsonl::open(&file).unwrap();
            let now_ms = 1_800_000_000_000;
            let started = Instant::now();
            let options = Options::default();
            let report = import::run(&store, feed, &options, now_ms, &mut Progress::hidden()).await;
            let secs = started.elapsed().as_secs_f64();
            assert!(
                report.failure.is_none() && report.refused.is_empty(),
                "{}",
                report.render()
            );
            assert_eq!(report.inserted + report.unchanged, users);
            println!(
                "{backend:<10} {run:<22} {:>12.0} {:>10.2}",
                users as f64 / secs,
                secs
            );
        }
        if let Some(schema) = schema {
            drop_schema(&schema).await;
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `users` lines, each a user with a Better Auth style id and a pre-made hash.
fn write_users(path: &std::path::Path, users: u64) {
    let argon2id = hash_password("bench password", &[7; 16], DEFAULT_COST).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for n in 0..users {
        let hash = if n % 2 == 0 {
            argon2id.as_str()
        } else {
            BCRYPT
        };
        let line = serde_json::json!({
            "id": format!("bench{n:027}"),
            "email": format!("user{n}@example.com"),
            "email_verified": true,
            "name": format!("User {n}"),
            "created_at": "2025-06-01T12:00:00Z",
            "password_hash": hash,
        });
        writeln!(out, "{line}").unwrap();
    }
    out.flush().unwrap();
}

async fn fresh_schema(admin_url: &str) -> (String, String) {
    let schema = format!("lk_bench_import_{}", std::process::id());
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    // The name is ours, not input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    (
        format!("{admin_url}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    )
}

async fn drop_schema(schema: &str) {
    let admin_url = std::env::var("LATCHKEY_TEST_POSTGRES_URL").unwrap();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
