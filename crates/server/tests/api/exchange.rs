//! Exchanging a Better Auth session for a Latchkey one: the cookies are the real Better
//! Auth's (tests/vectors/better-auth-cookies.json, made by running it), the users and
//! imported sessions are written as an import writes them, with Better Auth's ids.

use latchkey_core::{Email, better_auth};
use latchkey_store::{EventKind, NewEvent, NewImportedSession, NewUser};
use reqwest::header::ORIGIN;
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::all_backends;
use crate::email::{NEW_PASSWORD, RESET, event_kinds, forgot, reset};
use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

const PATH: &str = "/api/v1/auth/exchange/better-auth";
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Better Auth's ids are 32 random letters and digits, not UUIDs.
const BA_USER: &str = "8gUaiMkuyeRT0XfvKZcvE0F8kpQS66zc";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    secret: String,
    signed: Vec<Signed>,
}

#[derive(Deserialize)]
struct Signed {
    name: String,
    cookie: String,
    token: Option<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!(
        "../../../../tests/vectors/better-auth-cookies.json"
    ))
    .unwrap()
}

/// The (cookie, token) pairs Better Auth made, in the order of the file.
fn valid_cookies() -> Vec<(String, String)> {
    vectors()
        .signed
        .into_iter()
        .filter_map(|case| Some((case.cookie, case.token?)))
        .collect()
}

/// The app with Better Auth's secret set, as LATCHKEY_BETTER_AUTH_SECRET would.
async fn with_secret(app: TestApp) -> TestApp {
    app.restart_with(|s| {
        s.secrets.better_auth = Some(latchkey_server::settings::SecretText::new(vectors().secret))
    })
    .await
}

/// A user as an import writes one: Better Auth's id, and a password that works.
async fn imported_user(app: &TestApp, id: &str, email: &str) {
    let password_hash = app.state.hasher.hash(PASSWORD.into()).await.unwrap();
    let now_ms = app.clock_ms();
    let user = NewUser {
        id: id.into(),
        email: email.into(),
        email_key: Email::parse(email).unwrap().key(),
        name: Some("Ann".into()),
        password_hash,
        locale: None,
        now_ms,
    };
    let event = NewEvent {
        id: uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).to_string(),
        kind: EventKind::Registered,
        user_id: Some(id.into()),
        session_id: None,
        ip: None,
        user_agent: None,
        now_ms,
    };
    app.state
        .store
        .accounts
        .register(&user, None, &event, &[])
        .await
        .unwrap();
}

/// Writes the imported session of `token` for `user_id`, ending `expires_in_ms` from now.
async fn imported_session(app: &TestApp, user_id: &str, token: &str, expires_in_ms: i64) {
    let row = NewImportedSession {
        token_hash: better_auth::session_token_hash(token),
        source: better_auth::SOURCE.into(),
        user_id: user_id.into(),
        created_at_ms: app.clock_ms() - 2 * DAY_MS,
        expires_at_ms: app.clock_ms() + expires_in_ms,
        user_agent: Some("Mozilla/5.0".into()),
        ip: Some("203.0.113.9".into()),
    };
    let inserted = app
        .state
        .store
        .imported_sessions
        .insert_imported_sessions(&[row])
        .await
        .unwrap();
    assert_eq!(inserted, 1);
}

/// An imported user with one imported session; returns its cookie.
async fn moved_over(app: &TestApp) -> String {
    let (cookie, token) = valid_cookies().remove(0);
    imported_user(app, BA_USER, "ann@example.com").await;
    imported_session(app, BA_USER, &token, 5 * DAY_MS).await;
    cookie
}

/// Posts the cookie (recorded for the log-hygiene check, with the token inside it).
async fn exchange(app: &TestApp, cookie: &str) -> Response {
    record(cookie);
    app.post(PATH, &json!({ "cookie": cookie }), None).await
}

fn record(cookie: &str) {
    crate::capture::secret(cookie);
    if let Some((token, _)) = cookie.rsplit_once('.') {
        crate::capture::secret(token);
    }
}

async fn refused(app: &TestApp, cookie: &str) {
    let res = exchange(app, cookie).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_imported_session").await;
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

all_backends! {
    async fn a_better_auth_cookie_is_exchanged_once_for_a_session_ending_when_the_old_one_would(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        let res = exchange(&app, &cookie).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        crate::capture::secrets_in(&body);
        // Five days left of the Better Auth session: the Latchkey session ends then too.
        assert_eq!(body["refreshExpiresIn"], 5 * 24 * 3600);
        assert_eq!(body["user"]["id"], BA_USER);
        let access = body["accessToken"].as_str().unwrap();
        assert_eq!(claims_of(access)["sub"], BA_USER);
        let me: Value = app.get("/api/v1/auth/me", Some(access)).await.json().await.unwrap();
        assert_eq!(me["id"], BA_USER);
        assert_eq!(me["email"], "ann@example.com");
        let sessions: Value = app.get("/api/v1/sessions", Some(access)).await.json().await.unwrap();
        assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
        // Once only, however it is presented again.
        refused(&app, &cookie).await;
        refused(&app, &urlencoding_decoded(&cookie)).await;
        // The session it opened is an ordinary one: it refreshes.
        let refresh = body["refreshToken"].as_str().unwrap();
        assert_eq!(app.refresh(refresh).await.status(), StatusCode::OK);
        let kinds = event_kinds(&app, BA_USER).await;
        assert!(kinds.contains(&"session_exchanged".to_owned()), "{kinds:?}");
    }

    async fn with_cookie_transport_the_tokens_come_as_latchkey_cookies(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        record(&cookie);
        let res = app
            .client
            .post(app.url(PATH))
            .header("x-latchkey-transport", "cookie")
            .header(ORIGIN, "http://localhost:8080")
            .json(&json!({ "cookie": cookie }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let lines: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("latchkey.at="), "{lines:?}");
        let refresh_max_age = format!("Max-Age={}", 5 * 24 * 3600);
        assert!(lines[1].starts_with("latchkey.rt=") && lines[1].contains(&refresh_max_age), "{lines:?}");
        let body: Value = res.json().await.unwrap();
        assert!(body.get("accessToken").is_none() && body.get("refreshToken").is_none(), "{body}");
    }

    async fn forged_tampered_and_foreign_cookies_are_refused_alike_and_spend_nothing(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        let mut tried = 0;
        for case in vectors().signed.iter().filter(|case| case.token.is_none()) {
            let res = exchange(&app, &case.cookie).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{}", case.name);
            assert_error(res, StatusCode::UNAUTHORIZED, "invalid_imported_session").await;
            tried += 1;
        }
        assert!(tried >= 10);
        // Right signature, but a token nobody imported.
        let (other, _) = valid_cookies().remove(1);
        refused(&app, &other).await;
        // Not a string, or no cookie at all: the request is malformed.
        let res = app.post(PATH, &json!({ "cookie": 5 }), None).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
        // None of it spent the real one.
        assert_eq!(exchange(&app, &cookie).await.status(), StatusCode::OK);
    }

    async fn the_right_cookie_under_another_secret_is_refused(app) {
        let app = app
            .restart_with(|s| {
                s.secrets.better_auth = Some(latchkey_server::settings::SecretText::new(
                    "not-the-secret-better-auth-signed-with-0123",
                ))
            })
            .await;
        let cookie = moved_over(&app).await;
        refused(&app, &cookie).await;
    }

    async fn an_expired_imported_session_is_refused(app) {
        let app = with_secret(app).await;
        let (cookie, token) = valid_cookies().remove(0);
        imported_user(&app, BA_USER, "ann@example.com").await;
        imported_session(&app, BA_USER, &token, 60_000).await;
        app.advance_secs(60);
        refused(&app, &cookie).await;
    }

    async fn without_the_secret_the_exchange_is_not_offered(app) {
        let cookie = moved_over(&app).await;
        let res = exchange(&app, &cookie).await;
        assert_error(res, StatusCode::NOT_FOUND, "exchange_not_configured").await;
        // Nothing was spent: once the secret is set, it works.
        let app = with_secret(app).await;
        assert_eq!(exchange(&app, &cookie).await.status(), StatusCode::OK);
    }

    async fn a_password_reset_removes_the_pending_imported_session(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        forgot(&app, "ann@example.com").await;
        let token = app.mail.find("ann@example.com", RESET).await.token();
        assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        refused(&app, &cookie).await;
    }

    async fn signing_out_the_other_sessions_removes_the_pending_imported_session(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        let (access, _) = app.signed_in("ann@example.com").await;
        let res = app.delete("/api/v1/sessions", &access).await;
        assert_eq!(res.status(), StatusCode::OK);
        refused(&app, &cookie).await;
    }

    async fn a_password_change_removes_the_pending_imported_session_even_keeping_other_sessions(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        let (access, _) = app.signed_in("ann@example.com").await;
        let body = json!({ "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeOtherSessions": false });
        let res = app.post("/api/v1/auth/change-password", &body, Some(&access)).await;
        assert_eq!(res.status(), StatusCode::OK);
        refused(&app, &cookie).await;
    }

    async fn an_email_change_removes_the_pending_imported_session(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        let (access, _) = app.signed_in("ann@example.com").await;
        let body = json!({ "newEmail": "ann@new.example", "password": PASSWORD, "revokeOtherSessions": false });
        let res = app.post("/api/v1/auth/change-email", &body, Some(&access)).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let token = app.mail.find("ann@new.example", "Confirm your new email").await.token();
        let res = app.post("/api/v1/auth/confirm-email-change", &json!({ "token": token }), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        refused(&app, &cookie).await;
    }

    async fn an_exchange_ends_the_session_the_request_held(app) {
        let app = with_secret(app).await;
        let cookie = moved_over(&app).await;
        let (held_access, held_refresh) = app.signed_in("ann@example.com").await;
        record(&cookie);
        let res = app.post(PATH, &json!({ "cookie": cookie }), Some(&held_access)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (access, _) = tokens_of(res).await;
        assert_error(app.refresh(&held_refresh).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_eq!(app.get("/api/v1/auth/me", Some(&access)).await.status(), StatusCode::OK);
    }

    async fn when_addresses_must_be_verified_an_unverified_user_gets_no_session(app) {
        let app = app
            .restart_with(|s| {
                s.secrets.better_auth = Some(latchkey_server::settings::SecretText::new(vectors().secret));
                s.accounts.require_email_verification = true;
            })
            .await;
        let cookie = moved_over(&app).await;
        let res = exchange(&app, &cookie).await;
        assert_error(res, StatusCode::FORBIDDEN, "email_not_verified").await;
    }

    async fn every_exchange_attempt_counts_toward_exchange_ip(app) {
        let app = app
            .restart_with(|s| {
                s.secrets.better_auth = Some(latchkey_server::settings::SecretText::new(vectors().secret));
                s.limits.rules = "exchange_ip=3/1m".into();
            })
            .await;
        let cookie = moved_over(&app).await;
        refused(&app, "forged.cookie").await;
        refused(&app, "forged.cookie").await;
        // A success counts too: the cookie is a secret being checked either way.
        assert_eq!(exchange(&app, &cookie).await.status(), StatusCode::OK);
        let res = exchange(&app, &cookie).await;
        assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        app.advance_secs(120);
        refused(&app, &cookie).await;
    }
}

/// The cookie as a parser that URL-decodes would hand it over.
fn urlencoding_decoded(cookie: &str) -> String {
    cookie
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=")
}
