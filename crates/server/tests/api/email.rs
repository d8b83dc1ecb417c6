//! Email flows over real SMTP: password reset, address verification, resending, the
//! verification-required mode, and delivery through an SMTP outage and a restart.

use latchkey_core::onetime;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::all_backends;
use crate::helpers::{APP_URL, PASSWORD, TestApp, assert_error, token_of, tokens_of};

pub const NEW_PASSWORD: &str = "a brand new passphrase";
pub const RESET: &str = "Reset your";
pub const VERIFY: &str = "Confirm your email";

pub async fn forgot(app: &TestApp, email: &str) -> Response {
    app.post(
        "/api/v1/auth/forgot-password",
        &json!({ "email": email }),
        None,
    )
    .await
}

pub async fn reset(app: &TestApp, token: &str, password: &str) -> Response {
    app.post(
        "/api/v1/auth/reset-password",
        &json!({ "token": token, "newPassword": password }),
        None,
    )
    .await
}

pub async fn verify(app: &TestApp, token: &str) -> Response {
    app.post(
        "/api/v1/auth/verify-email",
        &json!({ "token": token }),
        None,
    )
    .await
}

/// The kinds of the user's security events, newest first.
pub async fn event_kinds(app: &TestApp, user_id: &str) -> Vec<String> {
    let events = app
        .state
        .store
        .events
        .security_events(user_id, 50)
        .await
        .unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

pub async fn user_id(app: &TestApp, access_token: &str) -> String {
    let me: Value = app
        .get("/api/v1/auth/me", Some(access_token))
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_owned()
}

/// Waits until every background task of forgot-password has finished and the outbox has
/// nothing left to send, so a test can assert that some email was *not* sent.
pub async fn wait_for_an_empty_outbox(app: &TestApp) {
    for _ in 0..500 {
        let idle = app.state.background.available_permits() == 64;
        let counts = app.state.store.outbox.outbox_counts().await.unwrap();
        if idle && counts.pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the outbox did not drain");
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
    async fn a_password_reset_by_email_works_end_to_end(app) {
        let access = app.signed_up("ann@example.com").await;
        let id = user_id(&app, &access).await;
        let (_, refresh_token) = app.signed_in("ann@example.com").await;
        let res = forgot(&app, "ANN@example.com").await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);

        let mail = app.mail.find("ann@example.com", RESET).await;
        assert_eq!(mail.subject(), "Reset your Latchkey Tests password");
        assert!(mail.message_id().is_some_and(|id| id.contains('@')), "a Message-ID");
        let link = mail.link();
        assert!(link.starts_with(&format!("{APP_URL}/reset-password#token=")), "{link}");
        assert!(mail.html().contains(&link), "the HTML part has the same link");
        let token = mail.token();
        assert_eq!(token.len(), 43);
        // The database knows the token only by its hash.
        let record = app
            .state
            .store
            .one_time
            .find_one_time(&onetime::hash(&token), latchkey_store::Purpose::ResetPassword, app.clock_ms())
            .await
            .unwrap()
            .expect("a live reset token");
        assert_eq!(record.user.id, id);

        assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        // Every session is over, by access token and by refresh token.
        assert_error(app.get("/api/v1/auth/me", Some(&access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.refresh(&refresh_token).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.sign_in("ann@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let signed_in = app.sign_in("ann@example.com", NEW_PASSWORD).await;
        assert_eq!(signed_in.status(), StatusCode::OK);
        // The link reached the inbox, so the address counts as verified.
        assert_eq!(claims_of(&token_of(signed_in).await)["email_verified"], true);

        let notice = app.mail.find("ann@example.com", "password was changed").await;
        assert!(notice.text().contains("was just changed"));
        assert_error(reset(&app, &token, "yet another passphrase").await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        let kinds = event_kinds(&app, &id).await;
        for kind in ["password_reset_requested", "password_reset"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
        }
    }

    async fn a_weak_new_password_is_refused_and_the_link_stays_usable(app) {
        app.signed_up("ann@example.com").await;
        forgot(&app, "ann@example.com").await;
        let token = app.mail.find("ann@example.com", RESET).await.token();
        assert_error(reset(&app, &token, "short").await, StatusCode::BAD_REQUEST, "password_too_short").await;
        assert_error(reset(&app, &token, "password1").await, StatusCode::BAD_REQUEST, "password_too_common").await;
        assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    }

    async fn one_reset_link_used_in_parallel_succeeds_exactly_once(app) {
        app.signed_up("ann@example.com").await;
        forgot(&app, "ann@example.com").await;
        let token = app.mail.find("ann@example.com", RESET).await.token();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let client = app.client.clone();
                let url = app.url("/api/v1/auth/reset-password");
                let body = json!({ "token": token, "newPassword": format!("{NEW_PASSWORD} {i}") });
                tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            let res = task.await.unwrap();
            if res.status() == StatusCode::NO_CONTENT {
                winners += 1;
            } else {
                assert_error(res, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
            }
        }
        assert_eq!(winners, 1);
    }

    async fn wrong_used_expired_and_misdirected_tokens_get_one_identical_answer(app) {
        app.signed_up("ann@example.com").await;
        let verification = app.mail.find("ann@example.com", VERIFY).await.token();
        forgot(&app, "ann@example.com").await;
        let used = app.mail.nth("ann@example.com", RESET, 1).await.token();
        assert_eq!(reset(&app, &used, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        app.advance_secs(61);
        forgot(&app, "ann@example.com").await;
        let expired = app.mail.nth("ann@example.com", RESET, 2).await.token();
        app.advance_secs(3601);

        let mut answers = Vec::new();
        for token in [
            "A".repeat(43),
            "not a token".to_owned(),
            String::new(),
            used,
            expired,
            verification.clone(),
        ] {
            let res = reset(&app, &token, "one more fine passphrase").await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST);
            answers.push(res.text().await.unwrap());
        }
        let res = verify(&app, &"B".repeat(43)).await;
        answers.push(res.text().await.unwrap());
        // Identical but for each answer's own request id.
        let answers: Vec<Value> = answers
            .iter()
            .map(|text| {
                let mut body: Value = serde_json::from_str(text).unwrap();
                assert!(body.as_object_mut().unwrap().remove("requestId").is_some());
                body
            })
            .collect();
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
        let body = answers[0].clone();
        assert_eq!(body["error"], "invalid_or_expired_token");
        // The misdirected verification token was not spent by the attempt: it still verifies
        // (within its 24 hours).
        assert_eq!(verify(&app, &verification).await.status(), StatusCode::OK);
    }

    async fn an_email_is_verified_by_its_link_and_the_next_token_says_so(app) {
        let res = app.register("ann@example.com", PASSWORD).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["user"]["emailVerified"], false);
        let refresh_token = body["refreshToken"].as_str().unwrap().to_owned();
        let access = body["accessToken"].as_str().unwrap().to_owned();
        let mail = app.mail.find("ann@example.com", VERIFY).await;
        assert!(mail.link().starts_with(&format!("{APP_URL}/verify-email#token=")));
        let token = mail.token();

        let res = verify(&app, &token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let user: Value = res.json().await.unwrap();
        assert_eq!(user["emailVerified"], true);
        let me: Value = app.get("/api/v1/auth/me", Some(&access)).await.json().await.unwrap();
        assert_eq!(me["emailVerified"], true);
        let (fresh, _) = tokens_of(app.refresh(&refresh_token).await).await;
        assert_eq!(claims_of(&fresh)["email_verified"], true);
        assert_error(verify(&app, &token).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        assert!(event_kinds(&app, &user_id(&app, &fresh).await).await.contains(&"email_verified".to_owned()));
    }

    async fn a_verification_link_lives_a_day_and_a_reset_link_an_hour(app) {
        app.signed_up("ann@example.com").await;
        let day_old = app.mail.find("ann@example.com", VERIFY).await.token();
        app.signed_up("bob@example.com").await;
        let fresh = app.mail.find("bob@example.com", VERIFY).await.token();
        forgot(&app, "bob@example.com").await;
        let reset_token = app.mail.find("bob@example.com", RESET).await.token();
        app.advance_secs(3599);
        assert_eq!(reset(&app, &reset_token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        app.advance_secs(24 * 3600 - 3599 - 1);
        assert_eq!(verify(&app, &fresh).await.status(), StatusCode::OK, "one second before a day");
        app.advance_secs(1);
        assert_error(verify(&app, &day_old).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    }

    async fn resending_verification_is_allowed_once_a_minute(app) {
        let access = app.signed_up("ann@example.com").await;
        app.mail.find("ann@example.com", VERIFY).await;
        let resend = || app.send("/api/v1/auth/resend-verification", json!({}), Some(&access));
        let res = resend().await;
        assert_eq!(res.headers()["retry-after"], "60");
        assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        app.advance_secs(30);
        assert_eq!(resend().await.headers()["retry-after"], "30");
        app.advance_secs(31);
        let res = resend().await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let second = app.mail.nth("ann@example.com", VERIFY, 2).await.token();
        assert_eq!(verify(&app, &second).await.status(), StatusCode::OK);
        assert_error(resend().await, StatusCode::CONFLICT, "email_already_verified").await;
        assert_error(
            app.post("/api/v1/auth/resend-verification", &json!({}), None).await,
            StatusCode::UNAUTHORIZED,
            "missing_token",
        )
        .await;
    }

    async fn a_reset_email_survives_an_smtp_outage_and_a_restart(app) {
        app.signed_up("ann@example.com").await;
        app.mail.find("ann@example.com", VERIFY).await;
        app.mail.stop().await;
        assert_eq!(forgot(&app, "ann@example.com").await.status(), StatusCode::ACCEPTED);
        // The worker tries, fails against the closed port, and schedules a retry.
        let mut tried = false;
        for _ in 0..500 {
            let due = app.state.store.outbox.due_mail(i64::MAX, 10).await.unwrap();
            if due.iter().any(|m| m.kind == "reset_password" && m.attempts >= 1) {
                tried = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(tried, "the worker never tried to send the reset email");

        let app = app.restart_with(|_| {}).await;
        app.mail.restart().await;
        app.advance_secs(10);
        let token = app.mail.find("ann@example.com", RESET).await.token();
        assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        let counts = app.state.store.outbox.outbox_counts().await.unwrap();
        assert_eq!(counts.failed, 0);
    }

    async fn two_links_of_one_account_used_at_once_never_fail_with_a_500(app) {
        app.signed_up("ann@example.com").await;
        forgot(&app, "ann@example.com").await;
        let first = app.mail.nth("ann@example.com", RESET, 1).await.token();
        app.advance_secs(61);
        forgot(&app, "ann@example.com").await;
        let second = app.mail.nth("ann@example.com", RESET, 2).await.token();
        let verification = app.mail.find("ann@example.com", VERIFY).await.token();
        let (a, b, c) = tokio::join!(
            reset(&app, &first, NEW_PASSWORD),
            reset(&app, &second, "another fine passphrase"),
            verify(&app, &verification),
        );
        let statuses = [a.status(), b.status()];
        // Whichever reset commits first spends the other link.
        assert!(statuses.contains(&StatusCode::NO_CONTENT), "{statuses:?}");
        assert!(statuses.contains(&StatusCode::BAD_REQUEST), "{statuses:?}");
        assert_eq!(c.status(), StatusCode::OK);
    }

    async fn a_password_reset_spends_a_pending_email_change(app) {
        let access = app.signed_up("ann@example.com").await;
        // Someone with the password asks to move the account to their own address…
        let res = app
            .post("/api/v1/auth/change-email", &json!({ "newEmail": "mallory@example.com", "password": PASSWORD }), Some(&access))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let stolen = app.mail.find("mallory@example.com", "Confirm your new email").await.token();
        // …and the owner takes the account back with a reset.
        forgot(&app, "ann@example.com").await;
        let token = app.mail.find("ann@example.com", RESET).await.token();
        assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        let res = app.post("/api/v1/auth/confirm-email-change", &json!({ "token": stolen }), None).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        assert_eq!(app.sign_in("ann@example.com", NEW_PASSWORD).await.status(), StatusCode::OK);
    }

    async fn forgot_password_sends_one_link_a_minute_per_account_silently(app) {
        app.signed_up("ann@example.com").await;
        for _ in 0..3 {
            assert_eq!(forgot(&app, "ann@example.com").await.status(), StatusCode::ACCEPTED);
        }
        app.mail.find("ann@example.com", RESET).await;
        wait_for_an_empty_outbox(&app).await;
        assert_eq!(app.mail.to("ann@example.com").iter().filter(|m| m.subject().contains(RESET)).count(), 1);
        app.advance_secs(60);
        forgot(&app, "ann@example.com").await;
        app.mail.nth("ann@example.com", RESET, 2).await;
    }
}

/// Development's default mailer: each email is an `.eml` file, readable by its owner only,
/// whose link works like a sent one.
#[tokio::test]
async fn in_development_emails_become_private_eml_files_whose_links_work() {
    use std::os::unix::fs::PermissionsExt;

    use latchkey_server::settings::MailerKind;

    let dir = std::env::temp_dir().join(format!(
        "latchkey-outbox-{}",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ));
    let app = TestApp::sqlite().await;
    let outbox = dir.clone();
    let app = app
        .restart_with(move |s| {
            s.mail.mailer = Some(MailerKind::File);
            s.mail.outbox_dir = outbox;
        })
        .await;
    app.signed_up("ann@example.com").await;
    forgot(&app, "ann@example.com").await;

    let mut reset_token = None;
    for _ in 0..500 {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let raw = std::fs::read(&path).unwrap();
            let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            if message.subject().is_some_and(|s| s.contains(RESET)) {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
                let text = message.body_text(0).unwrap().into_owned();
                let (_, token) = text.split_once("#token=").expect("a link");
                reset_token = Some(token.split_whitespace().next().unwrap().to_owned());
            }
        }
        if reset_token.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let token = reset_token.expect("the reset email was written to the folder");
    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(app.mail.messages().is_empty(), "nothing went over SMTP");
    std::fs::remove_dir_all(&dir).ok();
}
