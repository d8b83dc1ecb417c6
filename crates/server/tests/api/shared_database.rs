//! `LATCHKEY_DATABASE_SCHEMA`: Latchkey beside an app's own tables in one PostgreSQL
//! database — the seeds' FastAPI app owns `users` and `tasks` in `public` — and what the
//! option refuses. The same over PgBouncer is in `pgbouncer.rs`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{latchkey, temp_dir};
use crate::helpers::{PASSWORD, TestApp, test_settings};

/// The seeds' FastAPI schema (auth-security-layer-plan.md: `users (id, email,
/// password_hash, created_at, updated_at)`, UUID ids; better-auth-jwt-plan.md: `task (id,
/// title, …, user_id FK → user.id)`), with rows of its own.
const SEEDS_TABLES: &str = r#"
CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE tasks (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    completed BOOLEAN NOT NULL DEFAULT FALSE,
    user_id UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES
    ('6f1c2a52-0a6e-4d55-9a43-2b1f4f0c9d01', 'ann@example.com', '$2b$12$seedsbcrypthashofann', '2026-01-01', '2026-01-01'),
    ('6f1c2a52-0a6e-4d55-9a43-2b1f4f0c9d02', 'bob@example.com', '$2b$12$seedsbcrypthashofbob', '2026-01-02', '2026-01-02');
INSERT INTO tasks (title, description, completed, user_id, created_at) VALUES
    ('Buy milk', NULL, FALSE, '6f1c2a52-0a6e-4d55-9a43-2b1f4f0c9d01', '2026-01-03'),
    ('Write report', 'Q4', TRUE, '6f1c2a52-0a6e-4d55-9a43-2b1f4f0c9d02', '2026-01-04');
"#;

/// A database of its own (`public` is the app's, so no schema per test will do), holding
/// the seeds' tables; dropped when the value is.
pub struct SeedsDatabase {
    admin_url: String,
    pub name: String,
}

impl SeedsDatabase {
    pub async fn create() -> Option<SeedsDatabase> {
        let Ok(admin_url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
            eprintln!("SKIPPED on PostgreSQL: LATCHKEY_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!(
            "lk_seeds_{}",
            uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
        );
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
        // The name is ours (a prefix and hex), not input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let db = SeedsDatabase { admin_url, name };
        let seeds = sqlx::PgPool::connect(&db.url_on(&db.admin_url))
            .await
            .unwrap();
        sqlx::raw_sql(SEEDS_TABLES).execute(&seeds).await.unwrap();
        seeds.close().await;
        Some(db)
    }

    /// This database on the server (or pooler) of `url`.
    pub fn url_on(&self, url: &str) -> String {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("{server}/{}{query}", self.name)
    }

    /// Every column and row of the app's two tables, as text, in a fixed order.
    pub async fn seeds_snapshot(&self) -> Vec<String> {
        let pool = sqlx::PgPool::connect(&self.url_on(&self.admin_url))
            .await
            .unwrap();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text
             FROM information_schema.columns WHERE table_schema = 'public'
             ORDER BY table_name, ordinal_position",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT row_to_json(u)::text FROM public.users u
             UNION ALL SELECT row_to_json(t)::text FROM public.tasks t ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        columns
            .into_iter()
            .map(|(t, c, d)| format!("{t}.{c} {d}"))
            .chain(rows.into_iter().map(|(r,)| r))
            .collect()
    }

    /// The emails in Latchkey's own `users`, in `schema`.
    pub async fn latchkey_emails(&self, schema: &str) -> Vec<String> {
        let pool = sqlx::PgPool::connect(&self.url_on(&self.admin_url))
            .await
            .unwrap();
        // The schema name is the test's literal.
        let emails: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT email FROM {schema}.users ORDER BY email"
        )))
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        emails.into_iter().map(|(e,)| e).collect()
    }
}

impl Drop for SeedsDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&admin_url).await?;
                // FORCE ends the connections left to it (a pooler's too).
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&admin)
                .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database: {dropped:?}");
        }
    }
}

/// Registers, signs in, refreshes and reads `/me` as `email`; then a restart (the
/// migrations run again, and must find their lock free) and a sign-in on it.
pub async fn latchkey_works_beside_the_seeds(app: TestApp, email: &str) {
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({ "email": email, "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (access, refresh) = app.signed_in(email).await;
    let me: Value = app
        .get("/api/v1/auth/me", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], email);
    let res = app
        .post(
            "/api/v1/auth/refresh",
            &json!({ "refreshToken": refresh }),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let app = app.restart_with(|_| {}).await;
    let (access, _) = app.signed_in(email).await;
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn latchkey_in_its_own_schema_leaves_the_apps_users_and_tasks_untouched() {
    let Some(db) = SeedsDatabase::create().await else {
        return;
    };
    let before = db.seeds_snapshot().await;
    assert_eq!(before.len(), 11 + 4, "the seeds' columns and rows");
    let url = db.url_on(&std::env::var("LATCHKEY_TEST_POSTGRES_URL").unwrap());
    // The same email as one of the app's own users: Latchkey's is another table.
    let app = TestApp::custom(&url, |settings| {
        settings.database.schema = Some("latchkey".into());
    })
    .await;
    latchkey_works_beside_the_seeds(app, "ann@example.com").await;
    assert_eq!(db.seeds_snapshot().await, before);
    assert_eq!(db.latchkey_emails("latchkey").await, ["ann@example.com"]);
}

#[test]
fn a_schema_name_that_is_not_a_plain_identifier_is_refused_at_start() {
    let dir = temp_dir("schema-name");
    for name in [
        "Latchkey",
        "auth-db",
        "x\"; DROP TABLE users; --",
        "pg_auth",
    ] {
        let env = [
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
            ("LATCHKEY_DATABASE_SCHEMA", name),
        ];
        let out = latchkey(&dir, &env, &[]);
        assert!(!out.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("LATCHKEY_DATABASE_SCHEMA"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
}

#[test]
fn the_schema_and_pooler_options_are_refused_with_sqlite() {
    let dir = temp_dir("schema-sqlite");
    for (var, value) in [
        ("LATCHKEY_DATABASE_SCHEMA", "latchkey"),
        ("LATCHKEY_DATABASE_POOLER", "transaction"),
    ] {
        let out = latchkey(&dir, &[(var, value)], &[]);
        assert!(!out.status.success(), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(var) && stderr.contains("PostgreSQL only"),
            "{stderr}"
        );
    }
    let out = latchkey(&dir, &[("LATCHKEY_DATABASE_POOLER", "session")], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LATCHKEY_DATABASE_POOLER"), "{stderr}");
}

#[test]
fn the_settings_table_and_test_settings_agree_on_the_database_options() {
    let settings = test_settings("postgres://localhost/x", 25);
    let options = settings.database_options().unwrap();
    assert_eq!(options.pooler, latchkey_store::Pooler::None);
    assert!(options.schema.is_none());
}
