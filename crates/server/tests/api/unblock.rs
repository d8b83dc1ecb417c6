//! The sign-in block's email and unblock link: the failure that blocks an address emails its
//! owner once, the link lifts the block once, and the next block sends a new one.

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::email::wait_for_an_empty_outbox;
use crate::helpers::{APP_URL, PASSWORD, TestApp, assert_error};
use crate::limits::limited;

const WRONG: &str = "not the password!";
const BLOCKED: &str = "is blocked";

async fn unblock(app: &TestApp, token: &str) -> Response {
    app.post("/api/v1/auth/unblock", &json!({ "token": token }), None)
        .await
}

/// Fails to sign in until `email` has 100 failures in a row, waiting out each backoff on
/// the clock.
async fn fail_until_blocked(app: &TestApp, email: &str) {
    let mut failures = 0;
    while failures < 100 {
        let res = app.sign_in(email, WRONG).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            app.advance_secs(900);
        } else {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            failures += 1;
        }
    }
    // Blocked: the right password gets 429 however long one waits (here, past the longest
    // backoff; the link in the email lives a day).
    app.advance_secs(3600);
    assert_eq!(
        app.sign_in(email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn block_emails(app: &TestApp, email: &str) -> usize {
    wait_for_an_empty_outbox(app).await;
    app.mail
        .to(email)
        .iter()
        .filter(|m| m.subject().contains(BLOCKED))
        .count()
}

both_backends! {
    async fn a_blocked_owner_is_emailed_once_and_the_single_use_link_lifts_the_block(app) {
        // The default limits, but the window rules out of the way: this is about the streak.
        let app = limited(app, |s| s.limits.rules = "signin_ip=100000/15m,signin_account=100000/15m".into()).await;
        app.signed_up("ann@example.com").await;
        fail_until_blocked(&app, "ann@example.com").await;
        assert_eq!(block_emails(&app, "ann@example.com").await, 1, "exactly one email per block");
        let mail = app.mail.find("ann@example.com", BLOCKED).await;
        assert_eq!(mail.subject(), "Sign-in to your Latchkey Tests account is blocked");
        let link = mail.link();
        assert!(link.starts_with(&format!("{APP_URL}/unblock#token=")), "{link}");
        assert!(mail.html().contains(&link), "the HTML part has the same link");
        let token = mail.token();

        assert_eq!(unblock(&app, &token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.sign_in("ann@example.com", PASSWORD).await.status(), StatusCode::OK);
        // Single use.
        assert_error(unblock(&app, &token).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;

        // A second block: a new email with a new link, and the old link does not lift it.
        fail_until_blocked(&app, "ann@example.com").await;
        assert_eq!(block_emails(&app, "ann@example.com").await, 2);
        let second = app.mail.nth("ann@example.com", BLOCKED, 2).await.token();
        assert_ne!(second, token);
        assert_error(unblock(&app, &token).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        assert_eq!(unblock(&app, &second).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.sign_in("ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn an_address_blocked_before_it_had_an_account_starts_clean(app) {
        let app = limited(app, |s| s.limits.rules = "signin_ip=100000/15m,signin_account=100000/15m".into()).await;
        // Someone runs up a block on an address nobody has registered yet…
        fail_until_blocked(&app, "bob@example.com").await;
        // …then its owner signs up: the stranger's failures are not theirs.
        app.signed_up("bob@example.com").await;
        assert_eq!(app.sign_in("bob@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn the_block_email_goes_out_even_when_a_reset_request_spent_the_address_mail_limit(app) {
        let app = limited(app, |s| s.limits.rules = "signin_ip=100000/15m,signin_account=100000/15m".into()).await;
        app.signed_up("ann@example.com").await;
        let mut failures = 0;
        while failures < 99 {
            let res = app.sign_in("ann@example.com", WRONG).await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                app.advance_secs(900);
            } else {
                failures += 1;
            }
        }
        app.advance_secs(900);
        // Anyone's forgot-password takes the address's one recovery email of the minute…
        let res = app.post("/api/v1/auth/forgot-password", &json!({ "email": "ann@example.com" }), None).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        app.mail.find("ann@example.com", "Reset").await;
        // …and the failure that blocks the address still tells its owner.
        assert_eq!(app.sign_in("ann@example.com", WRONG).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(block_emails(&app, "ann@example.com").await, 1);
    }

    async fn a_password_reset_lifts_the_block_and_spends_the_unblock_link(app) {
        let app = limited(app, |s| s.limits.rules = "signin_ip=100000/15m,signin_account=100000/15m".into()).await;
        app.signed_up("ann@example.com").await;
        fail_until_blocked(&app, "ann@example.com").await;
        let token = app.mail.find("ann@example.com", BLOCKED).await.token();
        let res = app.post("/api/v1/auth/forgot-password", &json!({ "email": "ann@example.com" }), None).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let reset = app.mail.find("ann@example.com", "Reset").await.token();
        let body = json!({ "token": reset, "newPassword": "a brand new passphrase" });
        assert_eq!(app.post("/api/v1/auth/reset-password", &body, None).await.status(), StatusCode::NO_CONTENT);
        assert_error(unblock(&app, &token).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    }

    async fn an_unknown_address_is_blocked_the_same_way_and_nobody_is_emailed(app) {
        fail_until_blocked(&app, "nobody@example.com").await;
        assert_eq!(block_emails(&app, "nobody@example.com").await, 0);
        assert!(app.mail.to("nobody@example.com").is_empty());
    }

    async fn wrong_unblock_tokens_are_the_one_answer_and_count_toward_the_recovery_limit(app) {
        let app = limited(app, |s| s.limits.rules = "recovery_ip=3/1m".into()).await;
        for token in ["short", &"A".repeat(43), &"B".repeat(43)] {
            assert_error(unblock(&app, token).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        }
        let res = unblock(&app, &"C".repeat(43)).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}
