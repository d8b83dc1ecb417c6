//! Abuse of a signed-in session's account settings: guessing the password through
//! change-password and change-email (each check counts like a failed sign-in, and per
//! session), and flooding an address nobody has proven with change-email mail.

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::email::{NEW_PASSWORD, event_kinds, user_id, wait_for_an_empty_outbox};
use crate::helpers::{PASSWORD, TestApp, assert_error};
use crate::limits::{assert_limited, limited, sign_in_from};

const WRONG: &str = "not the password!";
const CONFIRM: &str = "Confirm your new email";
const STRANGER: &str = "stranger@example.net";

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    let body = json!({ "currentPassword": current, "newPassword": new });
    app.post("/api/v1/auth/change-password", &body, Some(token))
        .await
}

async fn change_email(app: &TestApp, token: &str, new_email: &str, password: &str) -> Response {
    let body = json!({ "newEmail": new_email, "password": password });
    app.post("/api/v1/auth/change-email", &body, Some(token))
        .await
}

both_backends! {
    async fn the_sixth_wrong_current_password_is_refused_and_shuts_sign_in_too(app) {
        let app = limited(app, |_| {}).await;
        let ann = app.signed_up("ann@example.com").await;
        for _ in 0..5 {
            let res = change_password(&app, &ann, WRONG, NEW_PASSWORD).await;
            assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        }
        // The sixth guess is refused before the password is looked at: even the right one.
        assert_limited(change_password(&app, &ann, PASSWORD, NEW_PASSWORD).await).await;
        assert_limited(change_email(&app, &ann, "ann@new.example", PASSWORD).await).await;
        // The guesses count toward the account's sign-in rule, from any address.
        assert_limited(sign_in_from(&app, "203.0.113.7", "ann@example.com", PASSWORD).await).await;
        let kinds = event_kinds(&app, &user_id(&app, &ann).await).await;
        assert_eq!(kinds.iter().filter(|k| *k == "password_check_failed").count(), 5, "{kinds:?}");
    }

    async fn one_session_gets_five_wrong_passwords_even_where_the_account_rules_allow_more(app) {
        let app = limited(app, |s| {
            s.limits.rules = "signin_ip=100/15m,signin_account=100/15m".into();
        })
        .await;
        let ann = app.signed_up("ann@example.com").await;
        for _ in 0..5 {
            let res = change_email(&app, &ann, "ann@new.example", WRONG).await;
            assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        }
        // Past the account's back-off (five failures in a row wait a second, doubling)…
        app.advance_secs(60);
        // …this session is still shut out, by its own rule…
        assert_limited(change_password(&app, &ann, PASSWORD, NEW_PASSWORD).await).await;
        // …while its owner signs in elsewhere, which ends the failure streak.
        assert_eq!(app.sign_in("ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn the_new_password_is_judged_before_the_current_one_is_checked(app) {
        let app = limited(app, |_| {}).await;
        let ann = app.signed_up("ann@example.com").await;
        // A weak new password answers the same whether the current one is right or wrong…
        for current in [WRONG, PASSWORD] {
            let res = change_password(&app, &ann, current, "short").await;
            assert_error(res, StatusCode::BAD_REQUEST, "password_too_short").await;
        }
        // …and no guess was counted: six more policy refusals still reach the policy.
        for _ in 0..6 {
            let res = change_password(&app, &ann, WRONG, "short").await;
            assert_error(res, StatusCode::BAD_REQUEST, "password_too_short").await;
        }
        let kinds = event_kinds(&app, &user_id(&app, &ann).await).await;
        assert!(!kinds.iter().any(|k| k == "password_check_failed"), "{kinds:?}");
        let res = change_password(&app, &ann, PASSWORD, NEW_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    async fn change_email_mails_one_unproven_address_at_most_once_a_minute_and_five_times_an_hour(app) {
        let app = limited(app, |s| s.limits.rules = "email_change_account=100/1d".into()).await;
        let ann = app.signed_up("ann@example.com").await;
        assert_eq!(change_email(&app, &ann, STRANGER, PASSWORD).await.status(), StatusCode::ACCEPTED);
        // Again within the minute: refused, visibly (the requester is signed in).
        assert_limited(change_email(&app, &ann, STRANGER, PASSWORD).await).await;
        for _ in 0..4 {
            app.advance_secs(61);
            assert_eq!(change_email(&app, &ann, STRANGER, PASSWORD).await.status(), StatusCode::ACCEPTED);
        }
        app.advance_secs(61);
        assert_limited(change_email(&app, &ann, STRANGER, PASSWORD).await).await;
        wait_for_an_empty_outbox(&app).await;
        assert_eq!(app.mail.to(STRANGER).len(), 5);
        // The same limits whether or not the address is taken, so a 429 tells nothing.
        app.signed_up("taken@example.com").await;
        assert_eq!(change_email(&app, &ann, "taken@example.com", PASSWORD).await.status(), StatusCode::ACCEPTED);
        assert_limited(change_email(&app, &ann, "taken@example.com", PASSWORD).await).await;
    }

    async fn an_account_may_ask_for_five_email_changes_a_day(app) {
        let app = limited(app, |_| {}).await;
        let ann = app.signed_up("ann@example.com").await;
        for n in 0..5 {
            let res = change_email(&app, &ann, &format!("new{n}@example.net"), PASSWORD).await;
            assert_eq!(res.status(), StatusCode::ACCEPTED);
        }
        assert_limited(change_email(&app, &ann, "new5@example.net", PASSWORD).await).await;
        // The window slides: a day after the last request, half of the earlier day's
        // requests still count; two days on, none do.
        app.advance_secs(2 * 24 * 3600);
        let (ann, _) = app.signed_in("ann@example.com").await;
        let res = change_email(&app, &ann, "new5@example.net", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }

    async fn the_confirmation_sent_to_an_unproven_address_carries_no_display_name(app) {
        let ann = app.signed_up("ann@example.com").await;
        // A verified account, so its own mail would greet it by name.
        let token = app.mail.find("ann@example.com", "Confirm your email address").await.token();
        let res = app.post("/api/v1/auth/verify-email", &json!({ "token": token }), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let name = "Win a prize at spam.example";
        let res = app.patch("/api/v1/auth/me", &json!({ "name": name }), &ann).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(change_email(&app, &ann, STRANGER, PASSWORD).await.status(), StatusCode::ACCEPTED);
        let mail = app.mail.find(STRANGER, CONFIRM).await;
        assert!(!mail.text().contains("prize") && !mail.html().contains("prize"), "{}", mail.text());
    }
}
