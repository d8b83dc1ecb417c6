//! Upgrading: a database an earlier release wrote starts under this one, with nothing lost.
//!
//! The fixtures in `tests/fixtures/upgrade/` were written by the `latchkey` binary of an earlier
//! main (`fixture.json` says which) through its HTTP API; `make.py` there regenerates them from
//! any binary. They hold that release's `_sqlx_migrations` rows, so starting on them checks
//! that no shipped migration was edited (sqlx compares each one's checksum) and none dropped.
//! The clock starts just after the data was written, when every session and link is live.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::capture;
use crate::helpers::{TestApp, tokens_of};

const FIXTURE: &str = include_str!("../fixtures/upgrade/fixture.json");
const POSTGRES_DUMP: &str = include_str!("../fixtures/upgrade/postgres.sql");
const SQLITE_DB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/upgrade/sqlite.db"
);

/// What the earlier release was given and gave back, for one backend's database.
struct Written {
    email: String,
    password: String,
    task_title: String,
    user_id: String,
    /// The session registering opened: its first refresh token, never presented.
    registered_refresh_token: String,
    /// The session signing in opened, rotated once: its live refresh token.
    rotated_refresh_token: String,
    /// From the verification email registering sent.
    verification_token: String,
}

/// The fixture's data for `backend`, and the time the test clock starts at.
fn written(backend: &str) -> (Written, i64) {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    capture::secrets_in(&fixture);
    let text = |value: &Value, name: &str| {
        value[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in the fixture"))
            .to_owned()
    };
    let data = &fixture[backend];
    let written = Written {
        email: text(&fixture, "email"),
        password: text(&fixture, "password"),
        task_title: text(&fixture, "taskTitle"),
        user_id: text(data, "userId"),
        registered_refresh_token: text(data, "registeredRefreshToken"),
        rotated_refresh_token: text(data, "rotatedRefreshToken"),
        verification_token: text(data, "verificationToken"),
    };
    // A minute after the last write: every session and link is live.
    let start_ms = data["writtenAtMs"].as_i64().unwrap() + 60_000;
    (written, start_ms)
}

/// Generates each test twice: `sqlite::name` on a copy of the SQLite file, `postgres::name`
/// on a fresh schema loaded from the dump (skipped as the suite's PostgreSQL tests are).
macro_rules! on_both_fixtures {
    ($(async fn $name:ident($app:ident, $written:ident) $body:block)+) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let ($written, start_ms) = written("sqlite");
                    let $app = TestApp::sqlite_copy_of(Path::new(SQLITE_DB), start_ms).await;
                    $body
                }
            )+
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let ($written, start_ms) = written("postgres");
                    let Some($app) = TestApp::postgres_holding(POSTGRES_DUMP, start_ms).await
                    else {
                        return;
                    };
                    $body
                }
            )+
        }
    };
}

fn sub_of(access_token: &str) -> String {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

/// Refreshes, asserting a 200 for the written user; returns the new refresh token.
async fn rotate(app: &TestApp, written: &Written, refresh_token: &str) -> String {
    let res = app.refresh(refresh_token).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "refresh answered {}",
        res.status()
    );
    let (access, refresh) = tokens_of(res).await;
    assert_eq!(sub_of(&access), written.user_id);
    assert_ne!(refresh, refresh_token);
    refresh
}

on_both_fixtures! {
    async fn the_earlier_release_s_user_signs_in_with_the_same_password_as_the_same_user(app, written) {
        // The app started: the earlier release's migration history was accepted.
        let res = app.sign_in(&written.email, &written.password).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        capture::secrets_in(&body);
        assert_eq!(body["user"]["id"], written.user_id.as_str());
        let access = body["accessToken"].as_str().unwrap();
        assert_eq!(sub_of(access), written.user_id);
        let me: Value = app.get("/api/v1/auth/me", Some(access)).await.json().await.unwrap();
        assert_eq!(me["id"], written.user_id.as_str());
        assert_eq!(me["email"], written.email.as_str());
        // And its data is theirs still.
        let tasks: Value = app.get("/api/v1/tasks", Some(access)).await.json().await.unwrap();
        assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
        assert_eq!(tasks[0]["title"], written.task_title.as_str());
    }

    async fn the_earlier_release_s_refresh_tokens_rotate_and_their_successors_rotate_again(app, written) {
        for token in [&written.registered_refresh_token, &written.rotated_refresh_token] {
            let next = rotate(&app, &written, token).await;
            rotate(&app, &written, &next).await;
        }
    }

    async fn the_earlier_release_s_verification_link_still_verifies_the_address(app, written) {
        let res = app
            .post("/api/v1/auth/verify-email", &json!({ "token": written.verification_token }), None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.sign_in(&written.email, &written.password).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        capture::secrets_in(&body);
        assert_eq!(body["user"]["emailVerified"], true);
    }
}
