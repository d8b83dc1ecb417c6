//! Behind PgBouncer in transaction mode (what Neon's pooled endpoint is), started by
//! `scripts/pgbouncer` and named by `LATCHKEY_TEST_PGBOUNCER_URL`: the start-up check that
//! refuses an undeclared pooler, migrations from instances starting at once, and a shared
//! database. Sign-up, sign-in, the refresh race and reset run here too, from `auth.rs`,
//! `sessions.rs` and `email.rs` (their `pgbouncer::` tests).

use std::sync::Arc;

use latchkey_server::clock::ManualClock;
use latchkey_server::settings::DatabasePooler;
use latchkey_server::startup;

use crate::cli::{latchkey, temp_dir};
use crate::helpers::{TestApp, pooled, test_settings};
use crate::shared_database::{SeedsDatabase, latchkey_works_beside_the_seeds};

/// PgBouncer's URL and the direct one, or `None` (skipped) without them.
fn urls() -> Option<(String, String)> {
    match (
        std::env::var("LATCHKEY_TEST_PGBOUNCER_URL"),
        std::env::var("LATCHKEY_TEST_POSTGRES_URL"),
    ) {
        (Ok(pgbouncer), Ok(direct)) => Some((pgbouncer, direct)),
        _ => {
            eprintln!(
                "SKIPPED through PgBouncer: LATCHKEY_TEST_PGBOUNCER_URL and LATCHKEY_TEST_POSTGRES_URL are not both set"
            );
            None
        }
    }
}

fn fresh_schema() -> String {
    format!(
        "lk_pool_{}",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    )
}

async fn drop_schema(direct: &str, schema: &str) {
    let admin = sqlx::PgPool::connect(direct).await.unwrap();
    // The test's own name.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&admin)
    .await
    .unwrap();
}

/// Without `LATCHKEY_DATABASE_POOLER=transaction`, sqlx's named statements and the
/// migrator's session lock would fail at random under load; the binary finds the pooler
/// before it runs a migration, and says which setting to change, in one line.
#[test]
fn an_undeclared_transaction_pooler_is_refused_at_start_naming_the_setting() {
    let Some((pgbouncer, direct)) = urls() else {
        return;
    };
    let schema = fresh_schema();
    let dir = temp_dir("undeclared-pooler");
    for _ in 0..3 {
        let env = [
            ("DATABASE_URL", pgbouncer.as_str()),
            ("LATCHKEY_DATABASE_SCHEMA", schema.as_str()),
        ];
        let out = latchkey(&dir, &env, &[]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("transaction pooler")
                && stderr.contains("LATCHKEY_DATABASE_POOLER=transaction"),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    // Refused before anything was written.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(&direct).await.unwrap();
        let found: Option<(String,)> =
            sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname = $1")
                .bind(&schema)
                .fetch_optional(&admin)
                .await
                .unwrap();
        assert_eq!(found, None, "no schema created");
    });
}

/// The check has no false alarm: straight to PostgreSQL, the same settings start.
#[tokio::test]
async fn a_direct_connection_passes_the_pooler_check() {
    let Some((_, direct)) = urls() else { return };
    let schema = fresh_schema();
    let mut settings = test_settings(&direct, 25);
    settings.database.schema = Some(schema.clone());
    assert_eq!(settings.database.pooler, DatabasePooler::None);
    let clock = Arc::new(ManualClock::new(0));
    let state = startup::build_state(&settings, clock).await;
    drop_schema(&direct, &schema).await;
    assert!(state.is_ok(), "{:?}", state.err());
}

/// Instances starting together through the pooler: one migrates, the others wait for its
/// transaction's lock and find nothing left to do. A session lock taken on one server
/// session and released on another would leave every later start waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_at_once_through_the_pooler_migrate_once() {
    let Some((pgbouncer, direct)) = urls() else {
        return;
    };
    let schema = fresh_schema();
    let mut settings = test_settings(&pgbouncer, 25);
    pooled(&mut settings, &schema);
    let starts = (0..4).map(|_| {
        let settings = settings.clone();
        tokio::spawn(async move {
            startup::build_state(&settings, Arc::new(ManualClock::new(0)))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    });
    let results: Vec<_> = futures_util::future::join_all(starts).await;
    // And once more, after them: the lock is free.
    let again = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        startup::build_state(&settings, Arc::new(ManualClock::new(0))),
    )
    .await;
    let admin = sqlx::PgPool::connect(&direct).await.unwrap();
    let applied: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}._sqlx_migrations WHERE success"
    )))
    .fetch_one(&admin)
    .await
    .unwrap();
    drop_schema(&direct, &schema).await;
    for result in results {
        let result = result.unwrap();
        assert!(result.is_ok(), "every instance starts: {result:?}");
    }
    assert!(
        matches!(again, Ok(Ok(_))),
        "a later start is not kept waiting"
    );
    let expected = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../store/migrations/postgres"
    ))
    .unwrap()
    .count() as i64;
    assert_eq!(applied.0, expected, "each migration recorded once");
}

#[tokio::test]
async fn through_the_pooler_latchkey_in_its_own_schema_leaves_the_apps_tables_untouched() {
    let Some((pgbouncer, _)) = urls() else { return };
    let Some(db) = SeedsDatabase::create().await else {
        return;
    };
    let before = db.seeds_snapshot().await;
    let url = db.url_on(&pgbouncer);
    let app = TestApp::custom(&url, |settings| pooled(settings, "auth")).await;
    latchkey_works_beside_the_seeds(app, "bob@example.com").await;
    assert_eq!(db.seeds_snapshot().await, before);
    assert_eq!(db.latchkey_emails("auth").await, ["bob@example.com"]);
}
