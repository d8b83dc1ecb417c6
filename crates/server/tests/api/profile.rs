//! The account's own settings: profile, password change, email change.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::email::{NEW_PASSWORD, event_kinds, user_id, wait_for_an_empty_outbox};
use crate::helpers::{APP_URL, PASSWORD, TestApp, assert_error, tokens_of};

const CONFIRM: &str = "Confirm your new email";

both_backends! {
    async fn the_profile_name_and_image_can_be_set_and_cleared(app) {
        let ann = app.signed_up("ann@example.com").await;
        let bob = app.signed_up("bob@example.com").await;
        let res = app
            .patch("/api/v1/auth/me", &json!({ "name": "  Ann Lee ", "image": "https://cdn.example.com/ann.png" }), &ann)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let user: Value = res.json().await.unwrap();
        assert_eq!(user["name"], "Ann Lee");
        assert_eq!(user["image"], "https://cdn.example.com/ann.png");
        // Left out stays; null clears.
        let user: Value = app.patch("/api/v1/auth/me", &json!({ "image": null }), &ann).await.json().await.unwrap();
        assert_eq!(user["name"], "Ann Lee");
        assert_eq!(user["image"], Value::Null);
        let me: Value = app.get("/api/v1/auth/me", Some(&ann)).await.json().await.unwrap();
        assert_eq!(me["name"], "Ann Lee");
        for body in [
            json!({ "image": "javascript:alert(1)" }),
            json!({ "image": "https://a.example/\"><script>" }),
            json!({ "name": "Ann\u{0}" }),
            json!({ "name": "Ann\r\nBcc: x" }),
        ] {
            assert_error(app.patch("/api/v1/auth/me", &body, &ann).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        }
        let other: Value = app.get("/api/v1/auth/me", Some(&bob)).await.json().await.unwrap();
        assert_eq!(other["name"], Value::Null);
        assert!(event_kinds(&app, &user_id(&app, &ann).await).await.contains(&"profile_updated".to_owned()));
    }

    async fn changing_the_password_needs_the_current_one_and_signs_out_other_devices(app) {
        let here = app.signed_up("ann@example.com").await;
        let (there, there_refresh) = app.signed_in("ann@example.com").await;
        let change = |current: &str, new: &str| {
            app.send("/api/v1/auth/change-password", json!({ "currentPassword": current, "newPassword": new }), Some(&here))
        };
        assert_error(change("wrong password!", NEW_PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let id = user_id(&app, &here).await;
        assert!(event_kinds(&app, &id).await.contains(&"password_check_failed".to_owned()));
        assert_error(change(PASSWORD, "short").await, StatusCode::BAD_REQUEST, "password_too_short").await;

        let res = change(PASSWORD, NEW_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        // This device goes on with the new session's tokens; the old ones are dead.
        let (now_here, _) = tokens_of(res).await;
        assert_eq!(app.get("/api/v1/auth/me", Some(&now_here)).await.status(), StatusCode::OK);
        assert_error(app.get("/api/v1/auth/me", Some(&here)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.get("/api/v1/auth/me", Some(&there)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.refresh(&there_refresh).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.sign_in("ann@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert_eq!(app.sign_in("ann@example.com", NEW_PASSWORD).await.status(), StatusCode::OK);
        app.mail.find("ann@example.com", "password was changed").await;
        assert!(event_kinds(&app, &id).await.contains(&"password_changed".to_owned()));
    }

    async fn changing_the_password_can_keep_the_other_devices(app) {
        let here = app.signed_up("ann@example.com").await;
        let (there, _) = app.signed_in("ann@example.com").await;
        let res = app
            .post("/api/v1/auth/change-password", &json!({ "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeOtherSessions": false }), Some(&here))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(app.get("/api/v1/auth/me", Some(&there)).await.status(), StatusCode::OK);
    }

    async fn an_email_change_applies_only_once_the_new_address_confirms(app) {
        let ann = app.signed_up("ann@example.com").await;
        app.signed_up("taken@example.com").await;
        let change = |new: &str, password: &str| {
            app.send("/api/v1/auth/change-email", json!({ "newEmail": new, "password": password }), Some(&ann))
        };
        assert_error(change("ann@new.example", "wrong password!").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert_error(change("ANN@example.com", PASSWORD).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_error(change("not-an-email", PASSWORD).await, StatusCode::BAD_REQUEST, "invalid_email").await;

        // A taken address: the same answer, and nothing sent or changed.
        let taken = change("Taken@example.com", PASSWORD).await;
        let taken = (taken.status(), taken.text().await.unwrap());
        let res = change("ann@new.example", PASSWORD).await;
        assert_eq!((res.status(), res.text().await.unwrap()), taken);
        assert_eq!(taken.0, StatusCode::ACCEPTED);

        let mail = app.mail.find("ann@new.example", CONFIRM).await;
        assert!(mail.link().starts_with(&format!("{APP_URL}/confirm-email#token=")));
        let me: Value = app.get("/api/v1/auth/me", Some(&ann)).await.json().await.unwrap();
        assert_eq!(me["email"], "ann@example.com", "nothing changes before the confirmation");
        wait_for_an_empty_outbox(&app).await;
        assert!(app.mail.to("taken@example.com").iter().all(|m| !m.subject().contains(CONFIRM)));
        let kinds = event_kinds(&app, &user_id(&app, &ann).await).await;
        assert_eq!(kinds.iter().filter(|k| *k == "email_change_requested").count(), 1, "{kinds:?}");
        assert!(kinds.contains(&"email_change_to_taken_address".to_owned()), "{kinds:?}");

        let confirm = |token: &str| app.send("/api/v1/auth/confirm-email-change", json!({ "token": token }), None);
        let res = confirm(&mail.token()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let user: Value = res.json().await.unwrap();
        assert_eq!(user["email"], "ann@new.example");
        assert_eq!(user["emailVerified"], true);

        let notice = app.mail.find("ann@example.com", "new email address").await;
        assert!(notice.text().contains("ann@new.example"));
        assert_error(app.sign_in("ann@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert_eq!(app.sign_in("ann@new.example", PASSWORD).await.status(), StatusCode::OK);
        assert_error(confirm(&mail.token()).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        let kinds = event_kinds(&app, &user_id(&app, &ann).await).await;
        for kind in ["email_change_requested", "email_changed"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
        }
    }

    async fn an_address_taken_before_the_confirmation_is_a_409_and_changes_nothing(app) {
        let ann = app.signed_up("ann@example.com").await;
        let res = app
            .post("/api/v1/auth/change-email", &json!({ "newEmail": "shared@example.com", "password": PASSWORD }), Some(&ann))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let token = app.mail.find("shared@example.com", CONFIRM).await.token();
        app.signed_up("shared@example.com").await;
        let res = app.post("/api/v1/auth/confirm-email-change", &json!({ "token": token }), None).await;
        assert_error(res, StatusCode::CONFLICT, "email_taken").await;
        let me: Value = app.get("/api/v1/auth/me", Some(&ann)).await.json().await.unwrap();
        assert_eq!(me["email"], "ann@example.com");
    }
}

async fn name_seen_by(app: &TestApp, token: &str) -> Value {
    let me: Value = app
        .get("/api/v1/auth/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    me["name"].clone()
}

/// `/me` is cached for the session cache's TTL: the instance that changed the profile shows
/// the change at once, another instance (its own cache, the same database) within the TTL.
#[tokio::test]
async fn a_profile_changed_on_another_instance_shows_here_within_the_cache_ttl() {
    let here = TestApp::sqlite().await;
    let there = TestApp::with_store(here.state.store.clone()).await;
    let token = here.signed_up("ann@example.com").await;
    assert_eq!(name_seen_by(&here, &token).await, Value::Null);
    assert_eq!(name_seen_by(&there, &token).await, Value::Null);

    let res = there
        .patch("/api/v1/auth/me", &json!({ "name": "Ann" }), &token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(name_seen_by(&there, &token).await, "Ann");
    assert_eq!(
        name_seen_by(&here, &token).await,
        Value::Null,
        "still cached here"
    );
    here.advance_secs(5);
    assert_eq!(name_seen_by(&here, &token).await, "Ann");
}
