//! What only this crate can see: connection settings and old schemas.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::db::{Pools, SQLITE_MIGRATIONS};
use crate::{Sessions, SqlStore, StoreError};

fn temp_url(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("latchkey-store-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/{name}.db", dir.display());
    (dir, url)
}

fn sqlite_pool(store: &SqlStore) -> SqlitePool {
    match &store.db.pools {
        Pools::Sqlite { read, .. } => read.clone(),
        Pools::Postgres(_) => unreachable!("a SQLite URL"),
    }
}

#[tokio::test]
async fn a_url_for_another_database_is_refused_clearly() {
    for url in ["mysql://localhost/db", "latchkey.db", ""] {
        let err = crate::connect(url).await.err().expect("refused");
        assert!(matches!(err, StoreError::UnsupportedUrl), "{url}: {err}");
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_synchronous_commits() {
    let (dir, url) = temp_url("pragmas");
    let store = SqlStore::connect(&url).await.unwrap();
    let pool = sqlite_pool(&store);
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "2 is FULL");
    std::fs::remove_dir_all(&dir).ok();
}

/// A session written before 0002 (no seed, no absolute expiry) keeps working for its access
/// tokens and the session list; it has no refresh tokens to find.
#[tokio::test]
async fn a_session_from_before_refresh_tokens_survives_the_migration() {
    let (dir, url) = temp_url("0001");
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    let only_0001 = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(SQLITE_MIGRATIONS.migrations[..1].to_vec()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    only_0001.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO users (id, email, email_key, email_verified, created_at, updated_at)
         VALUES ('u', 'a@b.co', 'a@b.co', FALSE, 0, 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at)
         VALUES ('s', 'u', 0, 0, 1000000)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(
        store.live_session_expiry("s", "u", 10).await.unwrap(),
        Some(1_000_000)
    );
    assert_eq!(store.list_sessions("u", 10).await.unwrap().len(), 1);
    let (absolute,): (Option<i64>,) =
        sqlx::query_as("SELECT absolute_expires_at FROM sessions WHERE id = 's'")
            .fetch_one(&sqlite_pool(&store))
            .await
            .unwrap();
    assert_eq!(absolute, Some(1_000_000));
    assert!(store.find_refresh("any-hash").await.unwrap().is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_in_memory_database_is_one_migrated_database() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    // Concurrent queries would open more connections if the pool allowed it; each must still
    // find the migrated tables.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let pool = sqlite_pool(&store);
            tokio::spawn(async move {
                sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM users")
                    .fetch_one(&pool)
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().0, 0);
    }
}

/// The two dialect folders hold the same migrations, byte for byte, except where a file
/// says why it differs: nothing else keeps them in step.
#[test]
fn the_sqlite_and_postgres_migrations_agree() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |dialect: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dialect))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"), "the same migrations");
    for name in names("sqlite") {
        let sqlite = std::fs::read_to_string(root.join("sqlite").join(&name)).unwrap();
        let postgres = std::fs::read_to_string(root.join("postgres").join(&name)).unwrap();
        // A migration that must differ starts with a comment saying so in both dialects.
        let explained = sqlite.starts_with("-- dialect-specific:")
            && postgres.starts_with("-- dialect-specific:");
        assert!(
            explained || sqlite == postgres,
            "{name} differs between dialects"
        );
    }
}

#[tokio::test]
async fn the_pool_counts_connections_in_use_and_callers_waiting_for_one() {
    let (dir, url) = temp_url("pool");
    let store = SqlStore::connect(&url).await.unwrap();
    let idle = crate::Health::pool(&store);
    assert_eq!((idle.in_use, idle.waiting), (0, 0));
    // SQLite writes go through one connection: hold it, and a second writer must queue.
    let held = store.db.begin().await.unwrap();
    assert_eq!(crate::Health::pool(&store).in_use, 1);
    let db = store.db.clone();
    let queued = tokio::spawn(async move { db.begin().await.map(drop) });
    while crate::Health::pool(&store).waiting == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(crate::Health::pool(&store).waiting, 1);
    held.rollback().await.unwrap();
    queued.await.unwrap().unwrap();
    assert_eq!(crate::Health::pool(&store).waiting, 0);
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
