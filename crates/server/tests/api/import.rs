//! `latchkey import`: users from a JSONL file, Better Auth's database and a users table,
//! into a running app's database, then used over HTTP — their old ids in their tokens and
//! their tasks, their passwords, a reset for those who had none. The import function is
//! called directly here; `the_binary_imports_a_file_and_exits_with_the_reports_status`
//! runs the real `latchkey import`.

use latchkey_core::better_auth::session_token_hash;
use latchkey_core::hash::{DEFAULT_COST, hash_password};
use latchkey_server::import::{self, Feed, Options, Progress, Report};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::capture;
use crate::cli::{latchkey, temp_dir};
use crate::email::{NEW_PASSWORD, RESET, forgot, reset};
use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

/// A Better Auth id: 32 random letters and digits, not a UUID.
const BA_ID: &str = "Xk3pQ9vTz7LmN2bR8sYw4HdJ6cFa1EgU";

fn argon2id(password: &str) -> String {
    let hash = hash_password(
        password,
        &latchkey_core::random::bytes().unwrap(),
        DEFAULT_COST,
    );
    let hash = hash.unwrap();
    capture::secret(&hash);
    hash
}

/// A fresh name for a file or schema.
fn unique() -> String {
    let bytes: [u8; 16] = latchkey_core::random::bytes().unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Writes `lines` to a file and imports it into `app`'s database as of the app's clock.
async fn import_lines(app: &TestApp, lines: &[String], options: Options) -> Report {
    let dir = temp_dir("import-jsonl");
    let path = dir.join(format!("{}.jsonl", unique()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let feed = import::jsonl::open(&path).unwrap();
    let report = run(app, feed, options).await;
    std::fs::remove_file(path).ok();
    report
}

async fn run(app: &TestApp, feed: Feed, options: Options) -> Report {
    let store = &app.state.store;
    import::run(
        store,
        feed,
        &options,
        app.clock_ms(),
        &mut Progress::hidden(),
    )
    .await
}

fn dry_run() -> Options {
    Options {
        dry_run: true,
        ..Options::default()
    }
}

fn user_line(id: &str, email: &str, hash: Option<&str>) -> String {
    json!({"id": id, "email": email, "name": "Imported", "email_verified": true,
           "created_at": "2024-05-01T12:00:00Z", "password_hash": hash})
    .to_string()
}

/// Options for a fixture's own connection that leave its statements out of the log: they
/// carry password hashes as literals, which the log-hygiene check rightly flags.
fn quiet_sqlite(url: &str) -> sqlx::sqlite::SqliteConnectOptions {
    use sqlx::ConnectOptions;
    url.parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .disable_statement_logging()
}

fn quiet_postgres(url: &str) -> sqlx::postgres::PgConnectOptions {
    use sqlx::ConnectOptions;
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .disable_statement_logging()
}

/// Runs `sqlite` or `postgres` on the app's database, beside the server.
async fn execute(app: &TestApp, sqlite: &str, postgres: &str) {
    let url = &app.database_url;
    execute_at(
        url,
        if url.starts_with("sqlite") {
            sqlite
        } else {
            postgres
        },
    )
    .await;
}

/// Runs `sql` on the database at `url` (the app's, or a source's).
async fn execute_at(url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect_with(quiet_sqlite(url))
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect_with(quiet_postgres(url))
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
}

/// The app's users, by id.
async fn user_ids(app: &TestApp) -> Vec<String> {
    let sql = "SELECT id FROM users ORDER BY id";
    let rows: Vec<(String,)> = if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    };
    rows.into_iter().map(|(id,)| id).collect()
}

/// token_hash, user_id, created_at, expires_at, user_agent, ip, exchanged_at.
type SessionRow = (
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
);

async fn imported_sessions(app: &TestApp) -> Vec<SessionRow> {
    let sql = "SELECT token_hash, user_id, created_at, expires_at, user_agent, ip, exchanged_at
               FROM imported_sessions WHERE source = 'better-auth' ORDER BY expires_at";
    if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    }
}

/// Better Auth's tables exactly as its migrations (better-auth 1.7, `getMigrations`) create
/// them on SQLite and on PostgreSQL.
const BETTER_AUTH_SQLITE: &str = r#"
CREATE TABLE "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" integer not null, "image" text, "createdAt" date not null, "updatedAt" date not null);
CREATE TABLE "session" ("id" text not null primary key, "expiresAt" date not null, "token" text not null unique, "createdAt" date not null, "updatedAt" date not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade);
CREATE TABLE "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" date, "refreshTokenExpiresAt" date, "scope" text, "password" text, "createdAt" date not null, "updatedAt" date not null);
CREATE TABLE "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" date not null, "createdAt" date not null, "updatedAt" date not null);
CREATE INDEX "session_userId_idx" on "session" ("userId");
CREATE INDEX "account_userId_idx" on "account" ("userId");
"#;

const BETTER_AUTH_POSTGRES: &str = r#"
CREATE TABLE "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" boolean not null, "image" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null);
CREATE TABLE "session" ("id" text not null primary key, "expiresAt" timestamptz not null, "token" text not null unique, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade);
CREATE TABLE "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text, "password" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null);
CREATE INDEX "session_userId_idx" on "session" ("userId");
CREATE INDEX "account_userId_idx" on "account" ("userId");
"#;

/// Ann signs in with a password (argon2id: Better Auth configured with its own hash),
/// Gil only ever used Google, Ida's address is already taken here. The app's clock starts
/// at 2027-01-01, so one of Ann's sessions is live and one is over.
fn better_auth_rows(ann_hash: &str) -> String {
    format!(
        r#"
INSERT INTO "user" VALUES ('{BA_ID}', 'Ann', 'ann@example.com', TRUE, 'https://cdn.example.com/ann.png', '2026-03-04T05:06:07.890Z', '2026-03-04T05:06:07.890Z');
INSERT INTO "user" VALUES ('GiL0000000000000000000000000000g', 'Gil', 'gil@example.com', FALSE, NULL, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
INSERT INTO "user" VALUES ('IdA0000000000000000000000000000i', 'Ida', 'ida@example.com', TRUE, NULL, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
INSERT INTO account VALUES ('acc1', '{BA_ID}', 'credential', '{BA_ID}', NULL, NULL, NULL, NULL, NULL, NULL, '{ann_hash}', '2026-03-04T05:06:07.890Z', '2026-03-04T05:06:07.890Z');
INSERT INTO account VALUES ('acc2', '1099', 'google', 'GiL0000000000000000000000000000g', 'ya29.secret', NULL, NULL, NULL, NULL, 'email', NULL, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
INSERT INTO account VALUES ('acc3', 'IdA0000000000000000000000000000i', 'credential', 'IdA0000000000000000000000000000i', NULL, NULL, NULL, NULL, NULL, NULL, '442e635a47226d6e86a8b340e3674f1b:717088ac00b2a27dc45738b5a129a963fc2c73853e27bed718586adc0247f787a9a75704283e71bf727aaed5328f9464838a10026e5fab1a5378298c67c7e745', '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
INSERT INTO session VALUES ('s1', '2027-01-05T00:00:00.000Z', 'vfmcbQrJpujkcqpHIYNkiaiBoBUAfMil', '2026-12-29T00:00:00.000Z', '2026-12-29T00:00:00.000Z', '203.0.113.9', 'Firefox', '{BA_ID}');
INSERT INTO session VALUES ('s2', '2026-12-20T00:00:00.000Z', 'N4UaVhXBBNUmnqcIj0Bx7XicqYyW8knX', '2026-12-13T00:00:00.000Z', '2026-12-13T00:00:00.000Z', NULL, NULL, '{BA_ID}');
INSERT INTO session VALUES ('s3', '2027-01-06T00:00:00.000Z', 'xPzSpobJ6hcns4mkjlBZrIMKaJAwjWS2', '2026-12-30T00:00:00.000Z', '2026-12-30T00:00:00.000Z', NULL, NULL, 'IdA0000000000000000000000000000i');
"#
    )
}

/// The columns of the admin and two-factor plugins (better-auth 1.7, `admin()`,
/// `twoFactor()`), on SQLite and PostgreSQL.
const PLUGINS_SQLITE: &str = r#"
ALTER TABLE "user" ADD COLUMN "role" text;
ALTER TABLE "user" ADD COLUMN "banned" integer;
ALTER TABLE "user" ADD COLUMN "banReason" text;
ALTER TABLE "user" ADD COLUMN "banExpires" date;
ALTER TABLE "user" ADD COLUMN "twoFactorEnabled" integer;
ALTER TABLE "session" ADD COLUMN "impersonatedBy" text;
"#;

const PLUGINS_POSTGRES: &str = r#"
ALTER TABLE "user" ADD COLUMN "role" text, ADD COLUMN "banned" boolean,
    ADD COLUMN "banReason" text, ADD COLUMN "banExpires" timestamptz,
    ADD COLUMN "twoFactorEnabled" boolean;
ALTER TABLE "session" ADD COLUMN "impersonatedBy" text;
"#;

/// With the plugins: Ben banned for good, Cat's ban over by the app's clock (2027-01-01)
/// and a second factor on, Dan's ban not over yet, Eve never banned and signed in on two
/// browsers, and impersonated by an admin on a third.
const PLUGINS_ROWS: &str = r#"
INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt", banned, "banExpires", "twoFactorEnabled") VALUES
    ('BeN0000000000000000000000000000b', 'Ben', 'ben@example.com', TRUE, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', TRUE, NULL, FALSE),
    ('CaT0000000000000000000000000000c', 'Cat', 'cat@example.com', TRUE, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', TRUE, '2026-12-01T00:00:00.000Z', TRUE),
    ('DaN0000000000000000000000000000d', 'Dan', 'dan@example.com', TRUE, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', TRUE, '2027-02-01T00:00:00.000Z', FALSE),
    ('EvE0000000000000000000000000000e', 'Eve', 'eve@example.com', TRUE, '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', FALSE, NULL, NULL);
INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt") VALUES
    ('acc-cat', 'CaT0000000000000000000000000000c', 'credential', 'CaT0000000000000000000000000000c', '442e635a47226d6e86a8b340e3674f1b:717088ac00b2a27dc45738b5a129a963fc2c73853e27bed718586adc0247f787a9a75704283e71bf727aaed5328f9464838a10026e5fab1a5378298c67c7e745', '2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
INSERT INTO session ("id", "expiresAt", "token", "createdAt", "updatedAt", "userId", "impersonatedBy") VALUES
    ('e1', '2027-01-05T00:00:00.000Z', 'EveLaptop000000000000000000000e1', '2026-12-29T00:00:00.000Z', '2026-12-29T00:00:00.000Z', 'EvE0000000000000000000000000000e', NULL),
    ('e2', '2027-01-05T00:00:00.000Z', 'EvePhone0000000000000000000000e2', '2026-12-29T00:00:00.000Z', '2026-12-29T00:00:00.000Z', 'EvE0000000000000000000000000000e', NULL),
    ('e3', '2027-01-01T01:00:00.000Z', 'AdminAsEve000000000000000000000e3', '2026-12-31T23:30:00.000Z', '2026-12-31T23:30:00.000Z', 'EvE0000000000000000000000000000e', 'BeN0000000000000000000000000000b');
"#;

/// A Better Auth SQLite file made by `sql`; its URL.
async fn sqlite_source(sql: &str) -> (String, std::path::PathBuf) {
    let path = temp_dir("import-ba").join(format!("{}.db", unique()));
    execute_at(&format!("sqlite://{}?mode=rwc", path.display()), sql).await;
    (format!("sqlite://{}", path.display()), path)
}

/// A Better Auth SQLite file holding [`better_auth_rows`]; its URL.
async fn better_auth_sqlite(ann_hash: &str) -> (String, std::path::PathBuf) {
    sqlite_source(&format!(
        "{BETTER_AUTH_SQLITE}{}",
        better_auth_rows(ann_hash)
    ))
    .await
}

/// A schema of its own in the test PostgreSQL, made by `sql`; its URL and name, or `None`
/// without a test PostgreSQL.
async fn postgres_source(sql: &str) -> Option<(String, String)> {
    let admin_url = std::env::var("LATCHKEY_TEST_POSTGRES_URL").ok()?;
    let schema = format!("lk_src_{}", unique());
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    // The name is ours, not input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
    let pool = sqlx::PgPool::connect_with(quiet_postgres(&url))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    Some((url, schema))
}

async fn drop_postgres_source(schema: &str) {
    let admin_url = std::env::var("LATCHKEY_TEST_POSTGRES_URL").unwrap();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let sql = format!("DROP SCHEMA {schema} CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&admin)
        .await
        .unwrap();
}

/// What both Better Auth sources with plugins must give: users banned now left out, a
/// second factor's user without a password, no impersonation; and a re-run ends a session
/// signed out in Better Auth since the first.
async fn better_auth_plugins_and_ended_sessions(app: &TestApp, from: &str) {
    let feed = import::better_auth::open(from, true, app.clock_ms());
    let report = run(app, feed.await.unwrap(), Options::default()).await;
    assert_eq!(report.inserted, 2, "Cat and Eve: {}", report.render());
    assert_eq!(report.refused_for("banned"), 2, "Ben and Dan");
    assert_eq!(
        report.sessions.inserted, 2,
        "Eve's own two, not the admin's"
    );
    assert!(
        app.state
            .store
            .accounts
            .find_user("BeN0000000000000000000000000000b")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        report.without_password, 2,
        "Cat (two-factor) and Eve (none)"
    );
    assert!(
        report
            .render()
            .contains("id CaT0000000000000000000000000000c: had two-factor sign-in"),
        "{}",
        report.render()
    );
    let cat = app
        .state
        .store
        .credentials
        .find_login("cat@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(!cat.password_hash.contains(':'), "not Better Auth's hash");

    execute_at(from, "DELETE FROM session WHERE id = 'e1'").await;
    let feed = import::better_auth::open(from, true, app.clock_ms());
    let again = run(app, feed.await.unwrap(), Options::default()).await;
    let s = again.sessions;
    assert_eq!(
        (s.inserted, s.unchanged, s.ended),
        (0, 1, 1),
        "{}",
        again.render()
    );
    assert!(
        again.summary().contains(", 1 ended since the last run"),
        "{}",
        again.summary()
    );
    let live = |token: &str| {
        let hash = session_token_hash(token);
        let now = app.clock_ms();
        async move {
            let found =
                app.state
                    .store
                    .imported_sessions
                    .find_imported_session(&hash, "better-auth", now);
            found.await.unwrap().is_some()
        }
    };
    assert!(
        !live("EveLaptop000000000000000000000e1").await,
        "signed out in Better Auth"
    );
    assert!(live("EvePhone0000000000000000000000e2").await);

    // Without --sessions, a run says nothing about sessions and ends none.
    let feed = import::better_auth::open(from, false, app.clock_ms());
    let plain = run(app, feed.await.unwrap(), Options::default()).await;
    assert_eq!(plain.sessions.ended, 0);
    assert!(live("EvePhone0000000000000000000000e2").await);
}

/// What both Better Auth sources must give: Ann with her id, hash and live session, Gil
/// without a password until he resets it, Ida refused (her address is taken here); a re-run
/// changes nothing and leaves an exchanged session spent.
async fn better_auth_import_checks(app: &TestApp, from: &str, ann_hash: &str) {
    app.signed_up("IDA@example.com").await;
    let feed = import::better_auth::open(from, true, app.clock_ms())
        .await
        .unwrap();
    let report = run(app, feed, Options::default()).await;
    assert_eq!(
        (report.inserted, report.unchanged),
        (2, 0),
        "{}",
        report.render()
    );
    assert_eq!(report.without_password, 1, "Gil");
    assert_eq!(report.refused_for("email_taken"), 1, "{}", report.render());
    assert_eq!(
        report.refused[0].0.to_string(),
        "id IdA0000000000000000000000000000i"
    );
    let s = report.sessions;
    assert_eq!(
        (s.inserted, s.unchanged, s.expired, s.of_refused),
        (1, 0, 1, 1)
    );
    assert_eq!(report.exit_code(), 3);

    let ann = app
        .state
        .store
        .accounts
        .find_user(BA_ID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.email, "ann@example.com");
    assert_eq!(ann.name.as_deref(), Some("Ann"));
    assert_eq!(
        ann.image.as_deref(),
        Some("https://cdn.example.com/ann.png")
    );
    assert!(ann.email_verified);
    assert_eq!(
        ann.created_at, 1_772_600_767_890,
        "2026-03-04T05:06:07.890Z"
    );
    let login = app
        .state
        .store
        .credentials
        .find_login("ann@example.com")
        .await
        .unwrap();
    assert_eq!(login.unwrap().password_hash, ann_hash);
    let sessions = imported_sessions(app).await;
    assert_eq!(
        sessions.len(),
        1,
        "only the live session of an imported user"
    );
    let (hash, user_id, created_at, expires_at, user_agent, ip, exchanged_at) = &sessions[0];
    assert_eq!(
        hash,
        &session_token_hash("vfmcbQrJpujkcqpHIYNkiaiBoBUAfMil")
    );
    assert_eq!(user_id, BA_ID);
    assert_eq!(
        (*created_at, *expires_at),
        (1_798_502_400_000, 1_799_107_200_000)
    );
    assert_eq!(
        (user_agent.as_deref(), ip.as_deref()),
        (Some("Firefox"), Some("203.0.113.9"))
    );
    assert_eq!(*exchanged_at, None);

    // Ann signs in with the password she had, as the id she had.
    let res = app.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (access, _) = tokens_of(res).await;
    assert_eq!(claims_of(&access)["sub"], BA_ID);

    // Gil had no password: signing in fails like any wrong password, a reset gives him one.
    assert_error(
        app.sign_in("gil@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        forgot(app, "gil@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    let token = app.mail.find("gil@example.com", RESET).await.token();
    assert_eq!(
        reset(app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    let res = app.sign_in("gil@example.com", NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        claims_of(&tokens_of(res).await.0)["sub"],
        "GiL0000000000000000000000000000g"
    );

    // The exchange spends Ann's session; a re-run neither duplicates nor revives it.
    execute(
        app,
        "UPDATE imported_sessions SET exchanged_at = 1",
        "UPDATE imported_sessions SET exchanged_at = 1",
    )
    .await;
    let feed = import::better_auth::open(from, true, app.clock_ms())
        .await
        .unwrap();
    let again = run(app, feed, Options::default()).await;
    assert_eq!(
        (again.inserted, again.unchanged),
        (0, 2),
        "{}",
        again.render()
    );
    assert_eq!((again.sessions.inserted, again.sessions.unchanged), (0, 1));
    assert!(
        again
            .summary()
            .starts_with("imported 0 users, 2 unchanged, 1 refused"),
        "{}",
        again.summary()
    );
    let sessions = imported_sessions(app).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].6, Some(1), "still spent");
    assert!(
        app.sign_in("gil@example.com", NEW_PASSWORD)
            .await
            .status()
            .is_success(),
        "Gil's new password kept"
    );
}

both_backends! {
    async fn a_jsonl_import_keeps_ids_and_passwords_and_a_rerun_changes_nothing(app) {
        let hash = argon2id(PASSWORD);
        let lines = [
            user_line(BA_ID, "Ann@Example.com", Some(&hash)),
            user_line("auth0|5f7c8ec7c33c6c004bbafe82", "bo@example.com", Some(&hash)),
            user_line("0b8f5c1e-3a52-4f8e-9c4d-2f1a6b7c8d9e", "cy@example.com", None),
        ];
        let report = import_lines(&app, &lines, Options::default()).await;
        assert_eq!((report.read, report.inserted, report.unchanged), (3, 3, 0), "{}", report.render());
        assert_eq!((report.without_password, report.exit_code()), (1, 0));
        assert!(report.summary().starts_with("imported 3 users, 0 unchanged, 0 refused, 1 without a password in "), "{}", report.summary());

        let again = import_lines(&app, &lines, Options::default()).await;
        assert_eq!((again.inserted, again.unchanged, again.exit_code()), (0, 3, 0));
        assert!(again.summary().starts_with("imported 0 users, 3 unchanged, 0 refused; nothing changed in "), "{}", again.summary());

        let res = app.sign_in("ann@example.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        capture::secrets_in(&body);
        assert_eq!(body["user"]["id"], BA_ID);
        assert_eq!(body["user"]["email"], "Ann@example.com", "normalised as registration does");
        assert_eq!(body["user"]["emailVerified"], true);
        assert_eq!(body["user"]["createdAt"], "2024-05-01T12:00:00Z");
        let res = app.sign_in("bo@example.com", PASSWORD).await;
        assert_eq!(claims_of(&tokens_of(res).await.0)["sub"], "auth0|5f7c8ec7c33c6c004bbafe82");
    }

    async fn a_user_with_a_better_auth_id_signs_in_refreshes_and_owns_their_tasks(app) {
        let lines = [user_line(BA_ID, "ann@example.com", Some(&argon2id(PASSWORD)))];
        assert_eq!(import_lines(&app, &lines, Options::default()).await.inserted, 1);
        let (access, refresh) = tokens_of(app.sign_in("ann@example.com", PASSWORD).await).await;
        let claims = claims_of(&access);
        assert_eq!(claims["sub"], BA_ID);
        assert!(uuid::Uuid::try_parse(claims["sid"].as_str().unwrap()).is_ok(), "sessions keep Latchkey's ids");
        let me: Value = app.get("/api/v1/auth/me", Some(&access)).await.json().await.unwrap();
        assert_eq!(me["id"], BA_ID);

        let task = app.create_task(&access, "Carry on").await;
        assert!(uuid::Uuid::try_parse(task["id"].as_str().unwrap()).is_ok());
        let listed: Value = app.get("/api/v1/tasks", Some(&access)).await.json().await.unwrap();
        assert_eq!(listed, json!([task]));
        // The row the app's own tables would join on.
        let owners = app.state.store.tasks.list_tasks(BA_ID).await.unwrap();
        assert_eq!(owners.len(), 1);

        let res = app.refresh(&refresh).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (access, _) = tokens_of(res).await;
        assert_eq!(claims_of(&access)["sub"], BA_ID);
        let sessions: Value = app.get("/api/v1/sessions", Some(&access)).await.json().await.unwrap();
        assert_eq!(sessions.as_array().unwrap().len(), 1);
    }

    async fn a_dry_run_reports_what_would_happen_and_writes_nothing(app) {
        app.signed_up("taken@example.com").await;
        let before = user_ids(&app).await;
        let hash = argon2id(PASSWORD);
        let lines = [
            user_line("u1", "new@example.com", Some(&hash)),
            user_line("u2", "TAKEN@example.com", Some(&hash)),
            user_line("u3", "not-an-address", Some(&hash)),
            user_line("u4", "md5@example.com", Some("5f4dcc3b5aa765d61d8327deb882cf99")),
            user_line("u5", "New@Example.com", None),
        ];
        let report = import_lines(&app, &lines, dry_run()).await;
        assert!(report.dry_run);
        assert_eq!((report.read, report.inserted), (5, 1), "{}", report.render());
        let by_line: Vec<(String, &str)> = report.refused.iter().map(|(o, r)| (o.to_string(), r.code)).collect();
        assert_eq!(by_line, [
            ("line 3".to_owned(), "invalid_email"),
            ("line 4".to_owned(), "unsupported_password_hash"),
            ("line 5".to_owned(), "duplicate_email"),
            ("line 2".to_owned(), "email_taken"),
        ]);
        assert!(report.refused[2].1.detail.contains("line 1"), "{:?}", report.refused[2]);
        assert!(report.summary().starts_with("dry run: would import 1 users, 0 unchanged, 4 refused (1 duplicate_email, 1 email_taken, 1 invalid_email, 1 unsupported_password_hash)"), "{}", report.summary());
        assert_eq!(report.exit_code(), 3, "what the real run would exit with");
        assert_eq!(user_ids(&app).await, before, "nothing written");
        assert!(!report.render().contains(&hash), "no hash in the report");
    }

    async fn collisions_with_each_other_and_with_existing_users_are_refused_by_line(app) {
        let access = app.signed_up("ann@example.com").await;
        let existing: Value = app.get("/api/v1/auth/me", Some(&access)).await.json().await.unwrap();
        let existing_id = existing["id"].as_str().unwrap();
        let hash = argon2id(PASSWORD);
        let lines = [
            user_line("bo-1", "Bo@Example.com", Some(&hash)),
            user_line("bo-2", "bo@example.COM", Some(&hash)),
            user_line(existing_id, "someone-else@example.com", Some(&hash)),
            user_line("ann-2", " ANN@example.com ", Some(&hash)),
            user_line("bo-1", "bo.again@example.com", Some(&hash)),
        ];
        let report = import_lines(&app, &lines, Options::default()).await;
        let by_line: Vec<(String, &str)> = report.refused.iter().map(|(o, r)| (o.to_string(), r.code)).collect();
        assert_eq!(by_line, [
            ("line 2".to_owned(), "duplicate_email"),
            ("line 5".to_owned(), "duplicate_id"),
            ("line 3".to_owned(), "id_taken"),
            ("line 4".to_owned(), "email_taken"),
        ], "{}", report.render());
        assert_eq!(report.inserted, 1);
        assert_eq!(report.exit_code(), 3);
        // The account that was here is untouched, and the first Bo is the one imported.
        let res = app.sign_in("ann@example.com", PASSWORD).await;
        assert_eq!(claims_of(&tokens_of(res).await.0)["sub"], existing_id);
        let me: Value = app.get("/api/v1/auth/me", Some(&access)).await.json().await.unwrap();
        assert_eq!(me["email"], "ann@example.com");
        let bo = app.state.store.accounts.find_user("bo-1").await.unwrap().unwrap();
        assert_eq!(bo.email, "Bo@example.com");
        assert!(app.state.store.accounts.find_user("bo-2").await.unwrap().is_none());
    }

    async fn bad_rows_are_reported_with_their_line_numbers_and_the_rest_imported(app) {
        let hash = argon2id(PASSWORD);
        let too_costly = "$2b$20$C6UzMDM.H6dfI/f/IKcEeO5nq/6R1Sg1h3WQ3vvvUU2h7sP/YS/J.";
        let lines = [
            user_line("ok-1", "ok1@example.com", Some(&hash)),
            "{not json".to_owned(),
            String::new(),
            json!({"email": "noid@example.com"}).to_string(),
            json!({"id": "x", "email": "x@example.com", "email_verified": "yes"}).to_string(),
            user_line("bcrypt-20", "slow@example.com", Some(too_costly)),
            user_line("has space", "space@example.com", Some(&hash)),
            json!({"id": "img", "email": "img@example.com", "image": "javascript:alert(1)", "name": "a\u{0}b"}).to_string(),
            user_line("ok-2", "ok2@example.com", Some("$2b$10$C6UzMDM.H6dfI/f/IKcEeO5nq/6R1Sg1h3WQ3vvvUU2h7sP/YS/J.")),
        ];
        let report = import_lines(&app, &lines, Options::default()).await;
        let by_line: Vec<(String, &str)> = report.refused.iter().map(|(o, r)| (o.to_string(), r.code)).collect();
        assert_eq!(by_line, [
            ("line 2".to_owned(), "invalid_json"),
            ("line 4".to_owned(), "invalid_id"),
            ("line 5".to_owned(), "invalid_field"),
            ("line 6".to_owned(), "password_hash_too_costly"),
            ("line 7".to_owned(), "invalid_id"),
        ], "{}", report.render());
        assert_eq!((report.read, report.inserted), (8, 3), "the blank line is no row");
        let notes: Vec<String> = report.notes.iter().map(|(o, n)| format!("{o}: {n}")).collect();
        assert_eq!(notes, ["line 8: name left out: it holds control characters", "line 8: image left out: not an http(s) URL"]);
        let img = app.state.store.accounts.find_user("img").await.unwrap().unwrap();
        assert_eq!((img.name, img.image), (None, None));
        assert_eq!(report.exit_code(), 3);
    }

    async fn a_batch_that_fails_writes_nothing_of_itself_and_keeps_the_batches_before(app) {
        // The database refuses one address, so the second batch fails after writing its
        // first user: that user must not be kept.
        execute(&app,
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON users
             WHEN NEW.email_key = 'boom@example.com'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.email_key = 'boom@example.com' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER refuse_boom BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
        ).await;
        let hash = argon2id(PASSWORD);
        let lines = [
            user_line("a", "a@example.com", Some(&hash)),
            user_line("b", "b@example.com", Some(&hash)),
            user_line("c", "c@example.com", Some(&hash)),
            user_line("boom", "boom@example.com", Some(&hash)),
            user_line("d", "d@example.com", Some(&hash)),
        ];
        let options = Options { batch_size: 2, ..Options::default() };
        let report = import_lines(&app, &lines, options).await;
        assert_eq!(user_ids(&app).await, ["a", "b"], "{}", report.render());
        assert_eq!(report.inserted, 2);
        let failure = report.failure.as_deref().unwrap();
        assert!(failure.starts_with("writing the batch from line 3 to line 4 failed, so none of its 2 users were written"), "{failure}");
        assert_eq!(report.exit_code(), 1);
        assert!(report.render().contains("import stopped: "), "{}", report.render());

        // Fixed, a re-run carries on where it stopped.
        execute(&app, "DROP TRIGGER refuse_boom", "DROP TRIGGER refuse_boom ON users").await;
        let again = import_lines(&app, &lines, options_of(2)).await;
        assert_eq!((again.inserted, again.unchanged, again.exit_code()), (3, 2, 0));
    }

    async fn better_auth_from_sqlite_brings_users_credentials_and_live_sessions(app) {
        let ann_hash = argon2id(PASSWORD);
        let (from, path) = better_auth_sqlite(&ann_hash).await;
        better_auth_import_checks(&app, &from, &ann_hash).await;
        std::fs::remove_file(path).ok();
    }

    async fn better_auth_from_postgres_brings_users_credentials_and_live_sessions(app) {
        let ann_hash = argon2id(PASSWORD);
        let sql = format!("{BETTER_AUTH_POSTGRES}{}", better_auth_rows(&ann_hash));
        let Some((from, schema)) = postgres_source(&sql).await else { return };
        better_auth_import_checks(&app, &from, &ann_hash).await;
        drop_postgres_source(&schema).await;
    }

    async fn better_auth_on_sqlite_with_plugins_gives_no_one_an_easier_way_in(app) {
        let sql = format!("{BETTER_AUTH_SQLITE}{PLUGINS_SQLITE}{PLUGINS_ROWS}");
        let (from, path) = sqlite_source(&sql).await;
        better_auth_plugins_and_ended_sessions(&app, &from).await;
        std::fs::remove_file(path).ok();
    }

    async fn better_auth_on_postgres_with_plugins_gives_no_one_an_easier_way_in(app) {
        let sql = format!("{BETTER_AUTH_POSTGRES}{PLUGINS_POSTGRES}{PLUGINS_ROWS}");
        let Some((from, schema)) = postgres_source(&sql).await else { return };
        better_auth_plugins_and_ended_sessions(&app, &from).await;
        drop_postgres_source(&schema).await;
    }

    async fn the_seeds_users_table_on_postgres_is_imported_with_its_uuids_and_bcrypt_hashes(app) {
        let bcrypt = "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5nq/6R1Sg1h3WQ3vvvUU2h7sP/YS/J.";
        capture::secret(bcrypt);
        let sql = format!("
            CREATE TABLE users (
                id UUID PRIMARY KEY,
                email VARCHAR(255) NOT NULL UNIQUE,
                password_hash VARCHAR(255) NOT NULL,
                created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
            );
            INSERT INTO users (id, email, password_hash, created_at) VALUES
                ('0b8f5c1e-3a52-4f8e-9c4d-2f1a6b7c8d9e', 'ann@example.com', '{bcrypt}', '2025-02-03 04:05:06.789'),
                ('1c9f6d2f-4b63-4f9f-8d5e-3f2b7c8d9e0f', 'Bo@Example.com', '{bcrypt}', '2025-02-04 00:00:00'),
                ('2d0a7e3a-5c74-4a0a-9e6f-4a3c8d9e0f1a', 'bo@example.com', '{bcrypt}', '2025-02-05 00:00:00');
        ");
        let Some((from, schema)) = postgres_source(&sql).await else { return };
        let feed = import::users_table::open(&from, "users").await.unwrap();
        let report = run(&app, feed, Options::default()).await;
        assert_eq!((report.inserted, report.exit_code()), (2, 3), "{}", report.render());
        assert_eq!(report.refused[0].0.to_string(), "id 2d0a7e3a-5c74-4a0a-9e6f-4a3c8d9e0f1a");
        assert_eq!(report.refused[0].1.code, "duplicate_email");
        let ann = app.state.store.accounts.find_user("0b8f5c1e-3a52-4f8e-9c4d-2f1a6b7c8d9e").await.unwrap().unwrap();
        assert_eq!((ann.email.as_str(), ann.email_verified), ("ann@example.com", false));
        assert_eq!(ann.created_at, 1_738_555_506_789, "2025-02-03T04:05:06.789Z");
        let login = app.state.store.credentials.find_login("bo@example.com").await.unwrap().unwrap();
        assert_eq!(login.password_hash, bcrypt);
        let again = run(&app, import::users_table::open(&from, "users").await.unwrap(), Options::default()).await;
        assert_eq!((again.inserted, again.unchanged), (0, 2));
        assert!(import::users_table::open(&from, "users; DROP TABLE users").await.is_err());
        drop_postgres_source(&schema).await;
    }
}

fn options_of(batch_size: usize) -> Options {
    Options {
        batch_size,
        ..Options::default()
    }
}

#[test]
fn the_binary_imports_a_file_and_exits_with_the_reports_status() {
    let dir = temp_dir("import-binary");
    let hash = argon2id(PASSWORD);
    let good = [
        user_line(BA_ID, "ann@example.com", Some(&hash)),
        user_line("2", "bo@example.com", None),
    ]
    .join("\n");
    std::fs::write(dir.join("users.jsonl"), format!("{good}\n")).unwrap();
    let env = [("DATABASE_URL", "sqlite://import.db")];

    let out = latchkey(&dir, &env, &["import", "jsonl", "users.jsonl", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // stderr is the binary's log; stdout is the import's report, not log lines.
    capture::process_log(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "dry run: would import 2 users, 0 unchanged, 0 refused, 1 without a password in "
        ),
        "{stdout}"
    );

    let out = latchkey(
        &dir,
        &env,
        &["import", "jsonl", "users.jsonl", "--batch-size", "1"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("imported 2 users, 0 unchanged, 0 refused, 1 without a password in "),
        "{stdout}"
    );
    assert!(!stdout.contains(&hash), "no hash printed");

    let bad = format!("{good}\n{}\n", user_line("3", "ANN@example.com", None));
    std::fs::write(dir.join("users.jsonl"), bad).unwrap();
    let out = latchkey(&dir, &env, &["import", "jsonl", "users.jsonl"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("line 3: duplicate_email: ANN@example.com is the same address, once normalised, as line 1's, which came first"), "{stdout}");
    assert!(
        stdout.contains(
            "imported 0 users, 2 unchanged, 1 refused (1 duplicate_email); nothing changed in "
        ),
        "{stdout}"
    );

    let out = latchkey(
        &dir,
        &env,
        &["import", "better-auth", "--from", "sqlite://missing.db"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot open --from missing.db"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).ok();
}
