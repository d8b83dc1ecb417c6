//! `TestApp`: a real server on an ephemeral port, a fresh database, a hand-moved clock.

use std::sync::Arc;

use latchkey_server::clock::ManualClock;
use latchkey_server::settings::{DatabasePooler, MailerKind, Settings, SmtpTls};
use latchkey_server::startup;
use latchkey_server::state::AppState;
use latchkey_store::Store;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::capture;
use crate::smtp::SmtpSink;

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";
/// 2027-01-01T00:00:00Z: tests start here and move the clock by hand.
const START_MS: i64 = 1_798_761_600_000;
/// Where links in test emails point.
pub const APP_URL: &str = "http://app.test";

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
                }
            )+
        }
    };
}

/// As `both_backends!`, and a third time through PgBouncer in transaction mode
/// (`pgbouncer::name`), when `LATCHKEY_TEST_PGBOUNCER_URL` is set: `scripts/pgbouncer` starts
/// one, and scripts/test runs these as a suite of their own.
#[macro_export]
macro_rules! all_backends {
    ($(async fn $name:ident($app:ident) $body:block)+) => {
        $crate::both_backends! { $(async fn $name($app) $body)+ }
        mod pgbouncer {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some($app) = $crate::helpers::TestApp::pgbouncer().await else { return };
                    $body
                }
            )+
        }
    };
}

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    /// The database settings a restart keeps, when a test chose more than the URL (a
    /// pooler, a schema).
    database: Option<latchkey_server::settings::Database>,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: Arc<AppState>,
    /// The SMTP listener this app's emails go to.
    pub mail: Arc<SmtpSink>,
    server: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
    cleanup: Cleanup,
}

/// The settings every test server starts from: the test secret, and real SMTP delivery
/// to `smtp_port` on 127.0.0.1.
pub fn test_settings(database_url: &str, smtp_port: u16) -> Settings {
    let mut settings = Settings::for_tests(database_url, SECRET);
    settings.mail.mailer = Some(MailerKind::Smtp);
    settings.mail.smtp_host = Some("127.0.0.1".into());
    settings.mail.smtp_port = Some(smtp_port);
    settings.mail.smtp_tls = SmtpTls::None;
    settings.mail.link_url = Some(APP_URL.into());
    settings.mail.app_name = "Latchkey Tests".into();
    settings
}

/// The settings of an app behind PgBouncer in transaction mode, in `schema`.
pub fn pooled(settings: &mut Settings, schema: &str) {
    settings.database.pooler = DatabasePooler::Transaction;
    settings.database.schema = Some(schema.to_owned());
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    /// `pooled`: the app reached it through PgBouncer, whose server sessions other tests'
    /// apps share, so none is ended; a lock timeout bounds the wait instead.
    PostgresSchema {
        admin_url: String,
        schema: String,
        pooled: bool,
    },
    Nothing,
}

/// Runs when a test ends, passed or failed, so no database is left behind either way.
impl Drop for TestApp {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.cleanup, Cleanup::Nothing) {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            // Drop cannot await; a helper thread with its own runtime drops the schema.
            Cleanup::PostgresSchema {
                admin_url,
                schema,
                pooled,
            } => {
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async {
                        use sqlx::Connection;
                        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                        // The test's own runtime is blocked in this Drop, so a transaction
                        // its server left open (background mail work, say) would never
                        // finish and DROP SCHEMA would wait on its locks forever. The test is
                        // over: end its connections first (they carry the schema's name).
                        // Through PgBouncer, a server session carries the name of the client
                        // it last served, so only those inside a transaction (which PgBouncer
                        // never hands to another client) are surely this test's.
                        let terminate = if pooled {
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                             WHERE application_name = $1 AND pid <> pg_backend_pid()
                             AND state LIKE 'idle in transaction%'"
                        } else {
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                             WHERE application_name = $1 AND pid <> pg_backend_pid()"
                        };
                        sqlx::query("SET lock_timeout = '2s'")
                            .execute(&mut admin)
                            .await?;
                        // The name is ours (lk_test_ + hex), not input.
                        let sql = format!("DROP SCHEMA {schema} CASCADE");
                        let mut attempts = 0;
                        loop {
                            sqlx::query(terminate)
                                .bind(&schema)
                                .execute(&mut admin)
                                .await?;
                            match sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                                .execute(&mut admin)
                                .await
                            {
                                Ok(_) => break,
                                Err(_) if attempts < 10 => attempts += 1,
                                Err(err) => return Err(err.into()),
                            }
                        }
                        anyhow::Ok(())
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop a test schema: {dropped:?}");
                }
            }
            Cleanup::Nothing => {}
        }
    }
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
        Self::spawn(&url, Cleanup::SqliteFile(path), START_MS).await
    }

    /// A SQLite app over a copy of the database file `source` (one an earlier release
    /// wrote), its clock starting at `start_ms`.
    pub async fn sqlite_copy_of(source: &std::path::Path, start_ms: i64) -> TestApp {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        std::fs::copy(source, &path).expect("copy the SQLite database");
        let url = format!("sqlite://{}", path.display());
        Self::spawn(&url, Cleanup::SqliteFile(path), start_ms).await
    }

    /// `None` (and a note on stderr) when no PostgreSQL is configured for tests — unless
    /// `LATCHKEY_REQUIRE_ALL` is set (CI sets it), when a missing PostgreSQL is a failure.
    pub async fn postgres() -> Option<TestApp> {
        Self::postgres_holding("", START_MS).await
    }

    /// As [`TestApp::postgres`], its fresh schema first given what `sql` (statements without
    /// schema names: a dump an earlier release's database gave) creates, and its clock
    /// starting at `start_ms`.
    pub async fn postgres_holding(sql: &str, start_ms: i64) -> Option<TestApp> {
        let Ok(admin_url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("LATCHKEY_REQUIRE_ALL").is_none(),
                "LATCHKEY_REQUIRE_ALL is set but LATCHKEY_TEST_POSTGRES_URL is not"
            );
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
        let url = format!(
            "{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        if !sql.is_empty() {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            // The test's own fixture, not input.
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&pool)
                .await
                .expect("load the SQL into the test schema");
            pool.close().await;
        }
        let cleanup = Cleanup::PostgresSchema {
            admin_url,
            schema,
            pooled: false,
        };
        Some(Self::spawn(&url, cleanup, start_ms).await)
    }

    /// An app on PostgreSQL through PgBouncer in transaction mode
    /// (`LATCHKEY_TEST_PGBOUNCER_URL`), declared with `LATCHKEY_DATABASE_POOLER=transaction`
    /// and given a fresh schema with `LATCHKEY_DATABASE_SCHEMA` (a startup `search_path`
    /// would not pass PgBouncer). `None` when no PgBouncer is configured: scripts/test starts
    /// one, or names these tests as skipped.
    pub async fn pgbouncer() -> Option<TestApp> {
        let (Ok(pgbouncer_url), Ok(admin_url)) = (
            std::env::var("LATCHKEY_TEST_PGBOUNCER_URL"),
            std::env::var("LATCHKEY_TEST_POSTGRES_URL"),
        ) else {
            eprintln!(
                "SKIPPED through PgBouncer: LATCHKEY_TEST_PGBOUNCER_URL and LATCHKEY_TEST_POSTGRES_URL are not both set"
            );
            return None;
        };
        let schema = unique_name();
        let sep = if pgbouncer_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{pgbouncer_url}{sep}application_name={schema}");
        let mail = Arc::new(SmtpSink::start().await);
        let mut settings = test_settings(&url, mail.port);
        pooled(&mut settings, &schema);
        let clock = Arc::new(ManualClock::new(START_MS));
        let state = startup::build_state(&settings, clock.clone())
            .await
            .expect("build state through PgBouncer");
        let cleanup = Cleanup::PostgresSchema {
            admin_url,
            schema: schema.clone(),
            pooled: true,
        };
        let mut app = Self::serve(state, clock, mail, cleanup, &url).await;
        app.database = Some(settings.database);
        Some(app)
    }

    /// An app on `database_url` with the test settings as `configure` changes them, kept
    /// across restarts; the caller owns the database and cleans it up.
    pub async fn custom(database_url: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mail = Arc::new(SmtpSink::start().await);
        let mut settings = test_settings(database_url, mail.port);
        configure(&mut settings);
        let clock = Arc::new(ManualClock::new(START_MS));
        let state = startup::build_state(&settings, clock.clone())
            .await
            .expect("build state");
        let mut app = Self::serve(state, clock, mail, Cleanup::Nothing, database_url).await;
        app.database = Some(settings.database);
        app
    }

    async fn spawn(database_url: &str, cleanup: Cleanup, start_ms: i64) -> TestApp {
        let mail = Arc::new(SmtpSink::start().await);
        let settings = test_settings(database_url, mail.port);
        let clock = Arc::new(ManualClock::new(start_ms));
        let state = startup::build_state(&settings, clock.clone())
            .await
            .expect("build state");
        Self::serve(state, clock, mail, cleanup, database_url).await
    }

    /// Stops this server (its outbox worker too) and serves the same database, clock and
    /// SMTP listener from a fresh one built from the test settings as changed by
    /// `configure` — a restart, or a differently configured instance.
    pub async fn restart_with(mut self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        self.stop().await;
        let mut settings = test_settings(&self.database_url, self.mail.port);
        if let Some(database) = &self.database {
            settings.database = database.clone();
        }
        configure(&mut settings);
        let state = startup::build_state(&settings, self.clock.clone())
            .await
            .expect("build state");
        let cleanup = std::mem::replace(&mut self.cleanup, Cleanup::Nothing);
        let mail = self.mail.clone();
        let mut app =
            Self::serve(state, self.clock.clone(), mail, cleanup, &self.database_url).await;
        app.database = self.database.take();
        app
    }

    /// Shuts the server down (graceful, as on SIGTERM) and waits until it has stopped.
    pub async fn stop(&mut self) {
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            server.await.unwrap().unwrap();
        }
    }

    /// A SQLite app whose rate limits count in `counters` (e.g. ones that fail on purpose),
    /// with the default rules on.
    pub async fn with_counters(counters: Arc<dyn latchkey_server::limiter::Counters>) -> TestApp {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let url = format!("sqlite://{}", path.display());
        let mail = Arc::new(SmtpSink::start().await);
        let settings = test_settings(&url, mail.port);
        let clock = Arc::new(ManualClock::new(START_MS));
        let secret = settings.load_secret().unwrap();
        let server_secret = settings.load_server_secret(&secret).unwrap();
        let store = latchkey_store::connect(&url).await.unwrap();
        let mut state =
            AppState::new(&settings, &secret, &server_secret, store, clock.clone()).unwrap();
        state.limiter = latchkey_server::limiter::Limiter::new(
            counters,
            latchkey_server::limiter::Rules::default(),
            clock.clone(),
        );
        state.hasher.warm_up(&[]).await.unwrap();
        Self::serve(
            Arc::new(state),
            clock,
            mail,
            Cleanup::SqliteFile(path),
            &url,
        )
        .await
    }

    /// An app over a store of the test's choosing (e.g. one that fails on purpose).
    pub async fn with_store(store: Store) -> TestApp {
        let mail = Arc::new(SmtpSink::start().await);
        let settings = test_settings("sqlite::memory:", mail.port);
        let clock = Arc::new(ManualClock::new(START_MS));
        let secret = settings.load_secret().unwrap();
        let server_secret = settings.load_server_secret(&secret).unwrap();
        let state = Arc::new(
            AppState::new(&settings, &secret, &server_secret, store, clock.clone()).unwrap(),
        );
        Self::serve(state, clock, mail, Cleanup::Nothing, "sqlite::memory:").await
    }

    async fn serve(
        state: Arc<AppState>,
        clock: Arc<ManualClock>,
        mail: Arc<SmtpSink>,
        cleanup: Cleanup,
        database_url: &str,
    ) -> TestApp {
        // Server logs go to the log-hygiene capture, or to the test's output with RUST_LOG.
        capture::init();
        capture::secret(SECRET);
        capture::secret(latchkey_server::settings::TEST_SERVER_SECRET);
        capture::secret(PASSWORD);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(startup::run(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        TestApp {
            address,
            database_url: database_url.to_owned(),
            database: None,
            client: reqwest::Client::new(),
            clock,
            state,
            mail,
            server: Some((stop, server)),
            cleanup,
        }
    }

    /// Moves the clock and lets the outbox worker see the new time at once.
    pub fn advance_secs(&self, secs: i64) {
        self.clock.advance_secs(secs);
        self.state.outbox.wake();
    }

    /// The injected clock's time, in Unix milliseconds.
    pub fn clock_ms(&self) -> i64 {
        latchkey_server::clock::Clock::now_ms(&*self.clock)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        capture::secrets_in(body);
        if let Some(token) = token {
            capture::secret(token);
        }
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    /// As [`TestApp::post`], owning the body (for closures that build it).
    pub async fn send(&self, path: &str, body: Value, token: Option<&str>) -> Response {
        self.post(path, &body, token).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: &str) -> Response {
        capture::secrets_in(body);
        capture::secret(token);
        self.client
            .patch(self.url(path))
            .json(body)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        if let Some(token) = token {
            capture::secret(token);
        }
        let mut req = self.client.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        capture::secret(token);
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

    /// Trades a refresh token (bearer transport).
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/api/v1/auth/refresh",
            &json!({ "refreshToken": refresh_token }),
            None,
        )
        .await
    }

    /// Signs in with the standard password and returns (access token, refresh token).
    pub async fn signed_in(&self, email: &str) -> (String, String) {
        let res = self.sign_in(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        tokens_of(res).await
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

/// The access and refresh tokens of an auth response's body.
pub async fn tokens_of(res: Response) -> (String, String) {
    let body: Value = res.json().await.unwrap();
    capture::secrets_in(&body);
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {body}"))
            .to_owned()
    };
    (field("accessToken"), field("refreshToken"))
}

pub async fn token_of(res: Response) -> String {
    let body: Value = res.json().await.unwrap();
    capture::secrets_in(&body);
    body["accessToken"]
        .as_str()
        .expect("accessToken in body")
        .to_owned()
}

/// Asserts the status and the stable error code of an error response, and that its body's
/// `requestId` is its `X-Request-Id`; returns the body.
pub async fn assert_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status for {code}");
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["error"], code, "body: {body}");
    // Every error names its request, as the response header does.
    assert!(request_id.is_some(), "no X-Request-Id with {body}");
    assert_eq!(body["requestId"].as_str(), request_id.as_deref(), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    body
}
