//! Re-authentication ends what it replaces (ASVS 7.2.4): signing in while holding a session,
//! changing the password, confirming an email change; and the cap on live sessions per user.

use reqwest::header::{COOKIE, ORIGIN};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::email::{NEW_PASSWORD, event_kinds, user_id};
use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

const CONFIRM: &str = "Confirm your new email";

async fn assert_dead(app: &TestApp, access: &str, refresh: &str) {
    let me = app.get("/api/v1/auth/me", Some(access)).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let res = app.refresh(refresh).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

async fn assert_live(app: &TestApp, access: &str) {
    assert_eq!(
        app.get("/api/v1/auth/me", Some(access)).await.status(),
        StatusCode::OK
    );
}

/// Signs in presenting `access` as the bearer token; returns the new (access, refresh).
async fn sign_in_holding(app: &TestApp, email: &str, access: &str) -> (String, String) {
    let body = json!({ "email": email, "password": PASSWORD });
    let res = app.post("/api/v1/auth/signin", &body, Some(access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    tokens_of(res).await
}

fn cookie_value(res: &Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("{name} cookie set"))
        .to_owned()
}

both_backends! {
    async fn signing_in_while_holding_a_session_ends_that_session(app) {
        app.signed_up("ann@example.com").await;
        let (old_access, old_refresh) = app.signed_in("ann@example.com").await;
        let (new_access, _) = sign_in_holding(&app, "ann@example.com", &old_access).await;
        assert_dead(&app, &old_access, &old_refresh).await;
        assert_live(&app, &new_access).await;
        let kinds = event_kinds(&app, &user_id(&app, &new_access).await).await;
        assert!(kinds.contains(&"session_replaced".to_owned()), "{kinds:?}");
        // Another account's session held by the same client ends as well: the client
        // is switching accounts, and nothing will use the old session again.
        app.signed_up("bob@example.com").await;
        let (bob_access, bob_refresh) = app.signed_in("bob@example.com").await;
        sign_in_holding(&app, "ann@example.com", &bob_access).await;
        assert_dead(&app, &bob_access, &bob_refresh).await;
    }

    async fn a_failed_sign_in_ends_nothing(app) {
        app.signed_up("ann@example.com").await;
        let (access, _) = app.signed_in("ann@example.com").await;
        let body = json!({ "email": "ann@example.com", "password": "not the password!" });
        let res = app.post("/api/v1/auth/signin", &body, Some(&access)).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert_live(&app, &access).await;
    }

    async fn a_browser_signing_in_again_with_only_its_refresh_cookie_ends_the_old_session(app) {
        app.signed_up("ann@example.com").await;
        let origin = "http://localhost:8080";
        let sign_in = |cookies: Option<String>| {
            let mut req = app
                .client
                .post(app.url("/api/v1/auth/signin"))
                .header("x-latchkey-transport", "cookie")
                .header(ORIGIN, origin)
                .json(&json!({ "email": "ann@example.com", "password": PASSWORD }));
            if let Some(cookies) = cookies {
                req = req.header(COOKIE, cookies);
            }
            req.send()
        };
        let first = sign_in(None).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let (old_access, old_refresh) = (cookie_value(&first, "latchkey.at"), cookie_value(&first, "latchkey.rt"));
        // The access cookie has expired in the browser; the refresh cookie is still sent.
        let again = sign_in(Some(format!("latchkey.rt={old_refresh}"))).await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        assert_dead(&app, &old_access, &old_refresh).await;
    }

    async fn a_password_change_replaces_the_session_it_was_made_in(app) {
        app.signed_up("ann@example.com").await;
        let (here, here_refresh) = app.signed_in("ann@example.com").await;
        let (there, _) = app.signed_in("ann@example.com").await;
        let body = json!({ "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeOtherSessions": false });
        let res = app.post("/api/v1/auth/change-password", &body, Some(&here)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (access, refresh) = tokens_of(res).await;
        // A copy of the old refresh token taken before the change is dead after it.
        assert_dead(&app, &here, &here_refresh).await;
        assert_live(&app, &access).await;
        assert_eq!(app.refresh(&refresh).await.status(), StatusCode::OK);
        // Asked to keep the other devices: they stay.
        assert_live(&app, &there).await;
    }

    async fn a_password_change_from_a_revoked_session_changes_nothing(app) {
        app.signed_up("ann@example.com").await;
        let (here, here_refresh) = app.signed_in("ann@example.com").await;
        // Revoked on the server (signed out elsewhere); the cache has not seen it yet on
        // another instance — here, the store's own check refuses the swap.
        let id = user_id(&app, &here).await;
        let session: Value = app.get("/api/v1/sessions", Some(&here)).await.json().await.unwrap();
        let sid = session
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .and_then(|s| s["id"].as_str())
            .unwrap()
            .to_owned();
        let event = latchkey_store::NewEvent {
            id: "test-revocation".into(), kind: latchkey_store::EventKind::SessionRevoked, user_id: Some(id), session_id: None,
            ip: None, user_agent: None, now_ms: app.clock_ms(),
        };
        assert!(app.state.store.sessions.revoke_session(&sid, &user_id(&app, &here).await, app.clock_ms(), &event).await.unwrap());
        let swap_session = latchkey_store::NewSession {
            id: "would-be-new".into(), user_id: event.user_id.clone().unwrap(), now_ms: app.clock_ms(),
            expires_at_ms: app.clock_ms() + 60_000, absolute_expires_at_ms: app.clock_ms() + 60_000,
            refresh_seed: "seed".into(), refresh_hash: "0".repeat(64), user_agent: None, ip: None,
        };
        let swap = latchkey_store::SessionSwap { ends: &sid, opens: &swap_session };
        let mail = latchkey_store::NewMail {
            id: "m".into(), kind: "password_changed", recipient: "ann@example.com".into(),
            data: "{}".into(), token_id: None, now_ms: app.clock_ms(),
        };
        let changed = app.state.store
            .credentials
            .change_password(&swap_session.user_id, "$argon2id$not-used", &swap, true, &mail, &event)
            .await
            .unwrap();
        assert!(changed.is_none(), "a dead session swaps for nothing");
        assert_error(app.refresh(&here_refresh).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_eq!(app.sign_in("ann@example.com", PASSWORD).await.status(), StatusCode::OK, "the password is unchanged");
    }

    async fn a_confirmed_email_change_signs_out_the_other_sessions_unless_asked_not_to(app) {
        app.signed_up("ann@example.com").await;
        let (here, _) = app.signed_in("ann@example.com").await;
        let (there, there_refresh) = app.signed_in("ann@example.com").await;
        let change = |to: &str, revoke: Option<bool>| {
            let mut body = json!({ "newEmail": to, "password": PASSWORD });
            if let Some(revoke) = revoke {
                body["revokeOtherSessions"] = json!(revoke);
            }
            app.send("/api/v1/auth/change-email", body, Some(&here))
        };
        let confirm = |token: String| app.send("/api/v1/auth/confirm-email-change", json!({ "token": token }), None);

        assert_eq!(change("ann@kept.example", Some(false)).await.status(), StatusCode::ACCEPTED);
        let token = app.mail.find("ann@kept.example", CONFIRM).await.token();
        assert_eq!(confirm(token).await.status(), StatusCode::OK);
        assert_live(&app, &there).await;

        app.advance_secs(61);
        assert_eq!(change("ann@new.example", None).await.status(), StatusCode::ACCEPTED);
        let token = app.mail.find("ann@new.example", CONFIRM).await.token();
        assert_eq!(confirm(token).await.status(), StatusCode::OK);
        assert_dead(&app, &there, &there_refresh).await;
        // The session that asked stays signed in.
        assert_live(&app, &here).await;
    }

    async fn past_the_cap_signing_in_ends_the_least_recently_used_session(app) {
        let app = app.restart_with(|s| s.sessions.max_per_user = 3).await;
        app.signed_up("ann@example.com").await; // one session
        app.advance_secs(1);
        let (second, second_refresh) = app.signed_in("ann@example.com").await;
        app.advance_secs(1);
        let (third, _) = app.signed_in("ann@example.com").await;
        app.advance_secs(1);
        // The second session is used again, so the registration's is now the least recent.
        let (second, _) = {
            let _ = second;
            let res = app.refresh(&second_refresh).await;
            assert_eq!(res.status(), StatusCode::OK);
            tokens_of(res).await
        };
        app.advance_secs(1);
        let (fourth, _) = app.signed_in("ann@example.com").await;
        let sessions: Value = app.get("/api/v1/sessions", Some(&fourth)).await.json().await.unwrap();
        assert_eq!(sessions.as_array().unwrap().len(), 3, "{sessions}");
        for live in [&second, &third, &fourth] {
            assert_live(&app, live).await;
        }
        let kinds = event_kinds(&app, &user_id(&app, &fourth).await).await;
        assert_eq!(kinds.iter().filter(|k| *k == "session_evicted").count(), 1, "{kinds:?}");
    }
}
