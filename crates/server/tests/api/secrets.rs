//! The server's own secret: refresh tokens and emailed links come from it, not from the
//! app's secret; and what earlier releases derived from the app's secret keeps working
//! until it expires.

use latchkey_core::onetime::{self, OneTimeKey, Purpose};
use latchkey_core::refresh::{self, RefreshKey};
use latchkey_core::{Secret, random};
use latchkey_store::{NewEvent, NewMail, NewOneTimeToken, NewSession, Outgoing, Rotation};
use reqwest::StatusCode;

use crate::both_backends;
use crate::email::{NEW_PASSWORD, RESET, forgot, reset, user_id};
use crate::helpers::{PASSWORD, SECRET, TestApp, assert_error, tokens_of};

/// The app's secret, which the Next.js app holds too.
fn app_secret() -> Secret {
    Secret::parse(SECRET).unwrap()
}

fn new_id() -> String {
    uuid::Uuid::from_bytes(random::bytes().unwrap()).to_string()
}

fn event(kind: latchkey_store::EventKind, user_id: &str, now_ms: i64) -> NewEvent {
    NewEvent {
        id: new_id(),
        kind,
        user_id: Some(user_id.to_owned()),
        session_id: None,
        ip: None,
        user_agent: None,
        now_ms,
    }
}

/// The id and seed of the one-time token with this hash, read straight from the database
/// (what someone holding a copy of it sees).
async fn one_time_row(app: &TestApp, token_hash: &str) -> (String, String) {
    let sql = "SELECT id, seed FROM one_time_tokens WHERE token_hash = $1";
    if app.database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        let row = sqlx::query_as(sql).bind(token_hash).fetch_one(&pool).await;
        pool.close().await;
        row.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        let row = sqlx::query_as(sql).bind(token_hash).fetch_one(&pool).await;
        pool.close().await;
        row.unwrap()
    }
}

both_backends! {
    async fn the_apps_secret_and_the_database_no_longer_make_a_refresh_token_or_a_link(app) {
        app.signed_up("ann@example.com").await;
        let (_, refresh_token) = app.signed_in("ann@example.com").await;
        // Everything the database knows about the session, as a thief with a copy has it.
        let record = app
            .state
            .store
            .sessions
            .find_refresh(&refresh::hash(&refresh_token))
            .await
            .unwrap()
            .unwrap();
        let forged = RefreshKey::new(&app_secret()).token(
            &record.session_id,
            &record.refresh_seed,
            record.session_generation,
        );
        assert_ne!(forged, refresh_token, "the app's secret derived the live token");
        assert_error(app.refresh(&forged).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

        assert_eq!(forgot(&app, "ann@example.com").await.status(), StatusCode::ACCEPTED);
        let link = app.mail.find("ann@example.com", RESET).await.token();
        let (id, seed) = one_time_row(&app, &onetime::hash(&link)).await;
        let forged = OneTimeKey::new(&app_secret()).token(&id, &seed, Purpose::ResetPassword);
        assert_ne!(forged, link, "the app's secret derived the link");
        assert_error(reset(&app, &forged, NEW_PASSWORD).await, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
        // The real link still works.
        assert_eq!(reset(&app, &link, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    }

    async fn a_session_and_a_queued_reset_link_from_before_the_upgrade_keep_working(app) {
        let access = app.signed_up("ann@example.com").await;
        let user = user_id(&app, &access).await;
        let legacy = RefreshKey::new(&app_secret());
        let now = app.clock_ms();

        // A session made by the previous release, its token rotated once just now: tokens
        // of generations 0 and 1 under the app's secret.
        let (session_id, seed) = (new_id(), refresh::seed_from(random::bytes().unwrap()));
        let first = legacy.token(&session_id, &seed, 0);
        let second = legacy.token(&session_id, &seed, 1);
        let session = NewSession {
            id: session_id.clone(),
            user_id: user.clone(),
            now_ms: now,
            expires_at_ms: now + 7 * 24 * 3_600_000,
            absolute_expires_at_ms: now + 30 * 24 * 3_600_000,
            refresh_seed: seed.clone(),
            refresh_hash: refresh::hash(&first),
            user_agent: None,
            ip: None,
        };
        app.state.store.sessions.create_session(&session, &event(latchkey_store::EventKind::SignedIn, &user, now), None).await.unwrap();
        let rotation = Rotation {
            session_id: session_id.clone(),
            from_generation: 0,
            presented_hash: refresh::hash(&first),
            next_hash: refresh::hash(&second),
            now_ms: now,
            expires_at_ms: session.expires_at_ms,
        };
        assert!(app.state.store.sessions.rotate_refresh(&rotation).await.unwrap());

        // A second tab presents the spent token inside the grace window: it gets the same
        // (pre-upgrade) successor, not an error and not a fork.
        let res = app.refresh(&first).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (_, resent) = tokens_of(res).await;
        assert_eq!(resent, second);
        // The live pre-upgrade token rotates, now under the server's key.
        let res = app.refresh(&second).await;
        assert_eq!(res.status(), StatusCode::OK);
        let (_, third) = tokens_of(res).await;
        assert_ne!(third, legacy.token(&session_id, &seed, 2));
        assert_eq!(app.refresh(&third).await.status(), StatusCode::OK);

        // A reset email queued by the previous release, not sent yet: its link is derived
        // under the app's secret, and the outbox still renders that very link.
        let (token_id, token_seed) = (new_id(), refresh::seed_from(random::bytes().unwrap()));
        let link = OneTimeKey::new(&app_secret()).token(&token_id, &token_seed, Purpose::ResetPassword);
        let outgoing = Outgoing {
            token: Some(NewOneTimeToken {
                id: token_id.clone(),
                token_hash: onetime::hash(&link),
                seed: token_seed,
                user_id: user.clone(),
                purpose: Purpose::ResetPassword,
                email: "ann@example.com".into(),
                now_ms: now,
                expires_at_ms: now + Purpose::ResetPassword.lifetime_ms(),
                keep_session: None,
            }),
            mail: NewMail {
                id: new_id(),
                kind: "reset_password",
                recipient: "ann@example.com".into(),
                data: "{}".into(),
                token_id: Some(token_id),
                now_ms: now,
            },
        };
        app.state.store.outbox.enqueue(&[outgoing], None).await.unwrap();
        app.state.outbox.wake();
        let mail = app.mail.find("ann@example.com", RESET).await;
        assert_eq!(mail.token(), link);
        assert_eq!(reset(&app, &link, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.sign_in("ann@example.com", NEW_PASSWORD).await.status(), StatusCode::OK);
        assert_eq!(app.sign_in("ann@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    }
}
