//! Refresh-token rotation, reuse detection, expiry, and session management.

use latchkey_core::refresh;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::all_backends;
use crate::helpers::{PASSWORD, TestApp, assert_error, tokens_of};

const DAY: i64 = 24 * 3600;

/// Refreshes and returns (access, refresh), asserting a 200.
async fn rotate(app: &TestApp, refresh_token: &str) -> (String, String) {
    let res = app.refresh(refresh_token).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "refresh answered {}",
        res.status()
    );
    tokens_of(res).await
}

/// The session's live generation and the presented token's record, read from the store.
async fn generation_of(app: &TestApp, refresh_token: &str) -> (i64, i64, Option<i64>) {
    let record = app
        .state
        .store
        .sessions
        .find_refresh(&refresh::hash(refresh_token))
        .await
        .unwrap()
        .expect("token is on record");
    (
        record.session_generation,
        record.token_generation,
        record.spent_at,
    )
}

all_backends! {
    async fn register_and_sign_in_return_a_refresh_token_stored_only_as_a_hash(app) {
        let res = app.register("ann@example.com", PASSWORD).await;
        let body: Value = res.json().await.unwrap();
        let rt = body["refreshToken"].as_str().unwrap();
        assert_eq!(rt.len(), 43);
        assert!(refresh::check_shape(rt).is_ok());
        assert_eq!(body["refreshExpiresIn"], 7 * DAY);
        // The store finds it by hash; the token itself is nowhere in the record.
        let record = app.state.store.sessions.find_refresh(&refresh::hash(rt)).await.unwrap().unwrap();
        assert_eq!(record.token_generation, 0);
        assert!(!format!("{record:?}").contains(rt));
        let (_, rt2) = app.signed_in("ann@example.com").await;
        assert_ne!(rt, rt2);
    }

    async fn a_rotation_chain_hands_out_a_new_token_each_time(app) {
        app.signed_up("ann@example.com").await;
        let (_, rt0) = app.signed_in("ann@example.com").await;
        let (at1, rt1) = rotate(&app, &rt0).await;
        let (at2, rt2) = rotate(&app, &rt1).await;
        assert!(rt0 != rt1 && rt1 != rt2 && rt0 != rt2);
        for access in [&at1, &at2] {
            assert_eq!(app.get("/api/v1/auth/me", Some(access)).await.status(), StatusCode::OK);
        }
        assert_eq!(generation_of(&app, &rt2).await, (2, 2, None));
        assert_eq!(generation_of(&app, &rt0).await.2, Some(app.clock_ms()));
    }

    async fn a_spent_token_inside_the_grace_window_gets_the_live_token_unchanged(app) {
        app.signed_up("ann@example.com").await;
        let (_, rt0) = app.signed_in("ann@example.com").await;
        let (_, rt1) = rotate(&app, &rt0).await;
        app.clock.advance_secs(9);
        // The other tab, late with RT0: the same successor, not a second branch.
        let (at, again) = rotate(&app, &rt0).await;
        assert_eq!(again, rt1);
        assert_eq!(app.get("/api/v1/auth/me", Some(&at)).await.status(), StatusCode::OK);
        assert_eq!(generation_of(&app, &rt1).await, (1, 1, None));
        // Each resend is on record.
        let user_id = app.state.store.credentials.find_login("ann@example.com").await.unwrap().unwrap().user.id;
        let events = app.state.store.events.security_events(&user_id, 10).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "refresh_token_resent").count(), 1, "{events:?}");
    }

    async fn an_older_spent_token_inside_its_window_is_reuse_once_its_successor_rotated(app) {
        app.signed_up("ann@example.com").await;
        let (_, rt0) = app.signed_in("ann@example.com").await;
        let (_, rt1) = rotate(&app, &rt0).await;
        let (at2, rt2) = rotate(&app, &rt1).await;
        app.clock.advance_secs(1);
        // RT0 is two generations back: whoever still holds it copied it before RT1 was
        // rotated, so it must not collect RT2.
        assert_error(app.refresh(&rt0).await, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
        assert_error(app.refresh(&rt2).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.get("/api/v1/auth/me", Some(&at2)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }

    async fn reuse_after_the_window_revokes_the_whole_session(app) {
        app.signed_up("ann@example.com").await;
        let (_, rt0) = app.signed_in("ann@example.com").await;
        let (_, rt1) = rotate(&app, &rt0).await;
        let (at2, rt2) = rotate(&app, &rt1).await;
        // Used (so remembered as live) before the theft is detected.
        assert_eq!(app.get("/api/v1/auth/me", Some(&at2)).await.status(), StatusCode::OK);
        app.clock.advance_secs(11);
        assert_error(app.refresh(&rt0).await, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
        // Every descendant dies with it, and so do the session's access tokens.
        assert_error(app.refresh(&rt2).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.get("/api/v1/auth/me", Some(&at2)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        // …and the theft is on record.
        let user_id = app.state.store.credentials.find_login("ann@example.com").await.unwrap().unwrap().user.id;
        let events = app.state.store.events.security_events(&user_id, 10).await.unwrap();
        let reused: Vec<_> = events.iter().filter(|e| e.kind == "refresh_token_reused").collect();
        assert_eq!(reused.len(), 1, "{events:?}");
        assert_eq!(reused[0].ip.as_deref(), Some("127.0.0.1"));
    }

    async fn with_a_zero_grace_window_any_reuse_revokes(app) {
        let app = app.restart_with(|s| s.sessions.refresh_grace = std::time::Duration::ZERO).await;
        app.signed_up("ann@example.com").await;
        let (_, rt0) = app.signed_in("ann@example.com").await;
        let (_, rt1) = rotate(&app, &rt0).await;
        assert_error(app.refresh(&rt0).await, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
        assert_error(app.refresh(&rt1).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }

    async fn fifty_concurrent_refreshes_never_fork_the_family(app) {
        app.signed_up("ann@example.com").await;
        let (_, rt0) = app.signed_in("ann@example.com").await;
        let requests = (0..50).map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/refresh");
            let body = json!({ "refreshToken": rt0 });
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap() })
        });
        let mut successors = std::collections::HashSet::new();
        for request in requests.collect::<Vec<_>>() {
            let res = request.await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "every refresh succeeds");
            successors.insert(tokens_of(res).await.1);
        }
        assert_eq!(successors.len(), 1, "every 200 carries the same successor");
        let rt1 = successors.into_iter().next().unwrap();
        // The generation advanced exactly once and RT1 is the one live token.
        assert_eq!(generation_of(&app, &rt1).await, (1, 1, None));
        assert_eq!(generation_of(&app, &rt0).await.1, 0);
        let (_, rt2) = rotate(&app, &rt1).await;
        assert_eq!(generation_of(&app, &rt2).await, (2, 2, None));
    }

    async fn an_idle_session_expires_and_refreshing_slides_the_idle_window(app) {
        app.signed_up("ann@example.com").await;
        let (_, idle) = app.signed_in("ann@example.com").await;
        let (_, mut active) = app.signed_in("ann@example.com").await;
        for _ in 0..4 {
            app.clock.advance_secs(6 * DAY);
            active = rotate(&app, &active).await.1;
        }
        // 24 days on: the idle session ended at day 7, the active one lives on.
        assert_error(app.refresh(&idle).await, StatusCode::UNAUTHORIZED, "session_expired").await;
        // Day 30 is the absolute end however active the session is.
        app.clock.advance_secs(5 * DAY);
        let res = app.refresh(&active).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["refreshExpiresIn"], DAY, "capped by the absolute lifetime");
        active = body["refreshToken"].as_str().unwrap().to_owned();
        app.clock.advance_secs(DAY);
        assert_error(app.refresh(&active).await, StatusCode::UNAUTHORIZED, "session_expired").await;
    }

    async fn sign_out_then_refresh_is_401(app) {
        app.signed_up("ann@example.com").await;
        let (access, rt) = app.signed_in("ann@example.com").await;
        let res = app.post("/api/v1/auth/signout", &json!({}), Some(&access)).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_error(app.refresh(&rt).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }

    async fn unknown_and_malformed_refresh_tokens_are_401_invalid_refresh_token(app) {
        let unknown = refresh::RefreshKey::new(&latchkey_core::Secret::parse("x".repeat(32)).unwrap())
            .token("s", "seed", 0);
        for bad in ["abc", "", &"A".repeat(43), &unknown, &"é".repeat(30)] {
            assert_error(app.refresh(bad).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
        }
        // No token in the body and no cookie.
        let res = app.post("/api/v1/auth/refresh", &json!({}), None).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    }

    async fn the_session_list_shows_live_devices_and_marks_this_one(app) {
        let a = app.signed_up("ann@example.com").await;
        for agent in ["Firefox/130", "Safari/18"] {
            let res = app.client.post(app.url("/api/v1/auth/signin"))
                .header("user-agent", agent)
                .json(&json!({"email": "ann@example.com", "password": PASSWORD}))
                .send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        let res = app.get("/api/v1/sessions", Some(&a)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        let list: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
        let agents: Vec<_> = list.iter().filter_map(|s| s["userAgent"].as_str()).collect();
        assert!(agents.contains(&"Firefox/130") && agents.contains(&"Safari/18"), "{agents:?}");
        for s in &list {
            assert_eq!(s["ipAddress"], "127.0.0.1");
            assert_eq!(s["createdAt"], "2027-01-01T00:00:00Z");
            assert_eq!(s["expiresAt"], "2027-01-08T00:00:00Z");
            for key in ["id", "lastUsedAt"] {
                assert!(s.get(key).is_some(), "{key} in {s}");
            }
        }
        assert!(!text.to_lowercase().contains("token"), "no token field: {text}");
    }

    async fn revoking_a_session_refuses_its_tokens_on_the_very_next_request(app) {
        let a = app.signed_up("ann@example.com").await;
        let (b, b_refresh) = app.signed_in("ann@example.com").await;
        // B is used (and so remembered as live) before it is revoked.
        assert_eq!(app.get("/api/v1/auth/me", Some(&b)).await.status(), StatusCode::OK);
        let b_id = session_id_of(&b);
        let res = app.delete(&format!("/api/v1/sessions/{b_id}"), &a).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_error(app.get("/api/v1/auth/me", Some(&b)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.refresh(&b_refresh).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        // Revoking it again, or a made-up id, is a 404.
        assert_error(app.delete(&format!("/api/v1/sessions/{b_id}"), &a).await, StatusCode::NOT_FOUND, "not_found").await;
        assert_error(app.delete("/api/v1/sessions/nope", &a).await, StatusCode::NOT_FOUND, "not_found").await;
        let list: Vec<Value> = app.get("/api/v1/sessions", Some(&a)).await.json().await.unwrap();
        assert_eq!(list.len(), 1);
    }

    async fn another_users_session_is_a_404_and_stays_live(app) {
        let ann = app.signed_up("ann@example.com").await;
        let bob = app.signed_up("bob@example.com").await;
        let res = app.delete(&format!("/api/v1/sessions/{}", session_id_of(&ann)), &bob).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(app.get("/api/v1/auth/me", Some(&ann)).await.status(), StatusCode::OK);
        let list: Vec<Value> = app.get("/api/v1/sessions", Some(&bob)).await.json().await.unwrap();
        assert_eq!(list.len(), 1, "bob sees only his own");
    }

    async fn revoking_the_others_keeps_the_current_session(app) {
        let a = app.signed_up("ann@example.com").await;
        let (b, _) = app.signed_in("ann@example.com").await;
        let (c, c_refresh) = app.signed_in("ann@example.com").await;
        let bob = app.signed_up("bob@example.com").await;
        assert_eq!(app.get("/api/v1/auth/me", Some(&c)).await.status(), StatusCode::OK);
        let res = app.client.delete(app.url("/api/v1/sessions")).bearer_auth(&a).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"revoked": 2}));
        for gone in [&b, &c] {
            assert_error(app.get("/api/v1/auth/me", Some(gone)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        }
        assert_error(app.refresh(&c_refresh).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_eq!(app.get("/api/v1/auth/me", Some(&a)).await.status(), StatusCode::OK);
        assert_eq!(app.get("/api/v1/auth/me", Some(&bob)).await.status(), StatusCode::OK, "other users untouched");
        let list: Vec<Value> = app.get("/api/v1/sessions", Some(&a)).await.json().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["current"], true);
    }
}

/// The `sid` claim of an access token.
fn session_id_of(access_token: &str) -> String {
    latchkey_core::token::decode_unverified(access_token).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}
