//! Users who moved in with another system's password hash — bcrypt made by Python's `bcrypt`
//! and passlib, Better Auth's scrypt — sign in with the password they had, and that first
//! sign-in replaces the hash with argon2id at today's cost, in the same request. A stored
//! hash that cannot be used (a format Latchkey does not verify, or one costing more than it
//! allows) fails as a wrong password does: 401, never a 500, the row left as it was, and a
//! log line naming the format, never the hash.
//!
//! The hashes are the real libraries' own, from `tests/vectors/foreign-hashes.json`.

use latchkey_core::hash;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::all_backends;
use crate::helpers::{TestApp, assert_error};
use crate::process::Server;

const TODAYS_ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// The hash and password of the vector case called `name`.
pub fn vector(name: &str) -> (String, String) {
    let vectors: Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/foreign-hashes.json"
    ))
    .unwrap();
    let case = vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector case {name:?}"));
    let text = |field: &str| case[field].as_str().unwrap().to_owned();
    (text("hash"), text("password"))
}

/// Registers `email` and overwrites its password hash with `stored`, as an import would
/// have written it. Returns the user's id.
pub async fn moved_in(app: &TestApp, email: &str, stored: &str) -> String {
    app.signed_up(email).await;
    let user_id = stored_login(app, email).await.0;
    app.state
        .store
        .credentials
        .set_password_hash(&user_id, stored, app.clock_ms())
        .await
        .unwrap();
    user_id
}

/// The user's id and stored password hash.
async fn stored_login(app: &TestApp, email: &str) -> (String, String) {
    let login = app
        .state
        .store
        .credentials
        .find_login(email)
        .await
        .unwrap()
        .unwrap();
    (login.user.id, login.password_hash)
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    stored_login(app, email).await.1
}

/// A wrong password is refused and changes nothing; the right one signs in and leaves
/// today's argon2id of that same password behind, which then signs in as any other.
async fn signs_in_once_and_is_upgraded(
    app: &TestApp,
    email: &str,
    case: &str,
    scheme: hash::Scheme,
) {
    let (foreign, password) = vector(case);
    assert_eq!(hash::identify(&foreign), Ok(scheme));
    moved_in(app, email, &foreign).await;

    let wrong = app.sign_in(email, &format!("{password}?")).await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(
        stored_hash(app, email).await,
        foreign,
        "a wrong password changes nothing"
    );

    assert_eq!(app.sign_in(email, &password).await.status(), StatusCode::OK);
    let upgraded = stored_hash(app, email).await;
    assert!(upgraded.starts_with(TODAYS_ARGON2ID), "{upgraded}");
    assert_eq!(hash::verify_password(&password, &upgraded), Ok(true));

    assert_eq!(app.sign_in(email, &password).await.status(), StatusCode::OK);
    assert_eq!(
        stored_hash(app, email).await,
        upgraded,
        "nothing left to upgrade"
    );
    let wrong = app.sign_in(email, &format!("{password}?")).await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

all_backends! {
    async fn a_passlib_bcrypt_user_signs_in_with_their_password_and_leaves_argon2id_behind(app) {
        signs_in_once_and_is_upgraded(&app, "ann@example.com", "passlib bcrypt cost 12: the right password", hash::Scheme::Bcrypt).await;
    }

    async fn a_73_byte_bcrypt_password_signs_in_as_python_bcrypt_would_and_is_kept_whole(app) {
        let (foreign, password) = vector("bcrypt, a 73-byte password: itself");
        assert_eq!(password.len(), 73);
        moved_in(&app, "bo@example.com", &foreign).await;
        // bcrypt reads 72 bytes: the password with another 73rd byte is the same to it.
        let other_tail = format!("{}?", &password[..72]);
        assert_eq!(app.sign_in("bo@example.com", &other_tail).await.status(), StatusCode::OK);
        // The upgrade hashed what was typed, all 73 bytes; argon2id reads every one.
        let upgraded = stored_hash(&app, "bo@example.com").await;
        assert!(upgraded.starts_with(TODAYS_ARGON2ID), "{upgraded}");
        assert_eq!(app.sign_in("bo@example.com", &other_tail).await.status(), StatusCode::OK);
        assert_error(app.sign_in("bo@example.com", &password).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }

    async fn a_better_auth_user_signs_in_with_their_password_and_leaves_argon2id_behind(app) {
        signs_in_once_and_is_upgraded(&app, "cy@example.com", "better-auth scrypt: the right password", hash::Scheme::Scrypt).await;
    }

    async fn a_better_auth_password_typed_in_another_unicode_form_signs_in_as_better_auth_would(app) {
        let (foreign, _) = vector("better-auth scrypt, non-ASCII: the same text");
        let (_, twin) = vector("better-auth scrypt, non-ASCII: NFD and no ligature, the same after NFKC");
        moved_in(&app, "di@example.com", &foreign).await;
        assert_eq!(app.sign_in("di@example.com", &twin).await.status(), StatusCode::OK);
        assert!(stored_hash(&app, "di@example.com").await.starts_with(TODAYS_ARGON2ID));
    }

    async fn a_passlib_scrypt_user_signs_in_and_leaves_argon2id_behind(app) {
        signs_in_once_and_is_upgraded(&app, "ed@example.com", "passlib scrypt, non-ASCII: the right password", hash::Scheme::Scrypt).await;
    }

    async fn a_stored_hash_that_cannot_be_used_fails_as_a_wrong_password_and_is_left_as_it_was(app) {
        let (_, password) = vector("bcrypt cost 31 (a valid cost, days of work)");
        for (i, case) in [
            "bcrypt cost 31 (a valid cost, days of work)",
            "scrypt N=2^30 (passlib's form): refused without being run",
            "passlib pbkdf2-sha256, a format Latchkey does not verify",
            "bcrypt $2x$ (crypt_blowfish's bug-compatible variant)",
            "plain text",
        ].into_iter().enumerate() {
            let email = format!("user{i}@example.com");
            let (stored, _) = vector(case);
            moved_in(&app, &email, &stored).await;
            let before = app.state.hasher.verifications();
            let res = app.sign_in(&email, &password).await;
            assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
            // Refused as a wrong password is: after the work of one check.
            assert_eq!(app.state.hasher.verifications() - before, 1, "{case}");
            assert_eq!(stored_hash(&app, &email).await, stored, "{case}: the row is untouched");
        }
    }

    async fn with_a_bcrypt_account_every_refusal_is_padded_to_its_time_from_the_start(app) {
        let (foreign, _) = vector("bcrypt cost 12: the right password");
        assert_eq!(app.state.hasher.refusal_floor(), None, "argon2id alone: no padding");
        moved_in(&app, "fi@example.com", &foreign).await;
        // A restart finds the bcrypt hash in the store and times it before the first request.
        let app = app.restart_with(|_| {}).await;
        let floor = app.state.hasher.refusal_floor().expect("a floor for bcrypt 12");
        let started = std::time::Instant::now();
        let res = app.sign_in("nobody@example.com", "a guess at a password").await;
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert!(started.elapsed() >= floor, "an unknown email waited {:?}, the floor is {floor:?}", started.elapsed());
    }
}

/// The real binary, logging as in production: a sign-in on an unusable stored hash writes a
/// line naming the format and why, and nothing of the hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_stored_hash_is_logged_by_its_format_never_by_its_text() {
    let path = std::env::temp_dir().join(format!(
        "latchkey-foreign-{}.db",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let server = Server::start(&[
        ("RUST_LOG", "info".into()),
        (
            "LATCHKEY_SECRET",
            "foreign-hashes-secret-0123456789abcdef".into(),
        ),
        ("DATABASE_URL", url.clone()),
        ("LATCHKEY_MAILER", "file".into()),
    ])
    .await;
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1/auth/{path}", server.url);
    let (pbkdf2, password) = vector("passlib pbkdf2-sha256, a format Latchkey does not verify");
    let (costly, _) = vector("bcrypt cost 31 (a valid cost, days of work)");
    let store = latchkey_store::connect(&url).await.unwrap();
    for (email, stored) in [("ann@example.com", &pbkdf2), ("bo@example.com", &costly)] {
        let body = json!({ "email": email, "password": "a fine long passphrase" });
        let res = client
            .post(api("register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let user_id = store
            .credentials
            .find_login(email)
            .await
            .unwrap()
            .unwrap()
            .user
            .id;
        store
            .credentials
            .set_password_hash(&user_id, stored, 0)
            .await
            .unwrap();
        let body = json!({ "email": email, "password": password });
        let res = client.post(api("signin")).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_credentials");
    }
    let log = server.stop_and_read_log();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cannot be used"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("passlib pbkdf2") && lines[0].contains("unsupported_password_hash"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("bcrypt") && lines[1].contains("password_hash_too_costly"),
        "{}",
        lines[1]
    );
    for secret in [
        &pbkdf2,
        &costly,
        &pbkdf2[15..40].to_owned(),
        &costly[7..29].to_owned(),
        &password,
    ] {
        assert!(!log.contains(secret.as_str()), "the log holds {secret:?}");
    }
}
