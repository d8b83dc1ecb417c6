//! `TestApp`: a real server on an ephemeral port, a fresh database, a hand-moved clock.

use std::sync::Arc;

use latchkey_server::clock::ManualClock;
use latchkey_server::config::Settings;
use latchkey_server::startup;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";
/// 2027-01-01T00:00:00Z: tests start here and move the clock by hand.
const START_MS: i64 = 1_798_761_600_000;

/// Generates each test twice: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)+) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $app = $crate::helpers::TestApp::sqlite().await;
                    $body
                    $app.finish().await;
                }
            )+
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some($app) = $crate::helpers::TestApp::postgres().await else { return };
                    $body
                    $app.finish().await;
                }
            )+
        }
    };
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresSchema { admin_url: String, schema: String },
}

fn unique_name() -> String {
    format!(
        "lk_test_{}",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    )
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let url = format!("sqlite://{}", path.display());
        Self::spawn(&url, Cleanup::SqliteFile(path)).await
    }

    /// `None` (and a note on stderr) when no PostgreSQL is configured for tests.
    pub async fn postgres() -> Option<TestApp> {
        let Ok(admin_url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
            eprintln!("SKIPPED on PostgreSQL: LATCHKEY_TEST_POSTGRES_URL is not set");
            return None;
        };
        // A schema per test keeps tests apart without CREATE DATABASE, which PostgreSQL
        // serialises (and refuses while another CREATE DATABASE copies template1).
        let schema = unique_name();
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to test PostgreSQL");
        // The name is ours (lk_test_ + hex), not input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(Self::spawn(&url, Cleanup::PostgresSchema { admin_url, schema }).await)
    }

    async fn spawn(database_url: &str, cleanup: Cleanup) -> TestApp {
        // Server logs show up with the test's output when RUST_LOG is set (e.g. RUST_LOG=error).
        if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let settings = Settings::for_tests(database_url, SECRET);
        let clock = Arc::new(ManualClock::new(START_MS));
        let state = startup::build_state(&settings, clock.clone())
            .await
            .expect("build state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(startup::run(listener, state, std::future::pending()));
        TestApp {
            address,
            client: reqwest::Client::new(),
            clock,
            cleanup,
        }
    }

    pub async fn finish(self) {
        match self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresSchema { admin_url, schema } => {
                let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .ok();
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, body: &Value, token: &str) -> Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/register",
            &json!({ "email": email, "password": password }),
            None,
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/signin",
            &json!({ "email": email, "password": password }),
            None,
        )
        .await
    }

    /// Registers `email` with the standard password and returns the access token.
    pub async fn signed_up(&self, email: &str) -> String {
        let res = self.register(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        token_of(res).await
    }

    pub async fn create_task(&self, token: &str, title: &str) -> Value {
        let res = self
            .post("/api/v1/tasks", &json!({ "title": title }), Some(token))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }
}

pub async fn token_of(res: Response) -> String {
    let body: Value = res.json().await.unwrap();
    body["accessToken"]
        .as_str()
        .expect("accessToken in body")
        .to_owned()
}

/// Asserts the status and the stable error code of an error response; returns the body.
pub async fn assert_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status for {code}");
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["error"], code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    body
}
