//! Nothing tells whether an address has an account: not the status, not the body, not the
//! time — for forgot-password always, and for registration when verification is required.
//!
//! The timing checks compare medians of interleaved samples against one password hash
//! measured in the same run (the threshold: within 20 % of one hash), so a noisy
//! machine slows both sides alike and no fixed number of milliseconds is assumed.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::email::{RESET, VERIFY, forgot, verify};
use crate::foreign_hashes::{moved_in, vector};
use crate::helpers::{PASSWORD, TestApp, assert_error};

const SAMPLES: usize = 21;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The median time of one argon2id hash at the server's cost, measured now.
async fn one_hash(app: &TestApp) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        app.state.hasher.hash(PASSWORD.to_owned()).await.unwrap();
        samples.push(started.elapsed());
    }
    median(samples)
}

fn assert_alike(what: &str, known: Duration, unknown: Duration, hash: Duration) {
    let gap = known.abs_diff(unknown);
    eprintln!(
        "{what}: median known {known:?}, unknown {unknown:?}, gap {gap:?}; one hash {hash:?}"
    );
    assert!(
        gap.as_secs_f64() < 0.2 * hash.as_secs_f64(),
        "{what}: the medians differ by {gap:?}, more than 20 % of one hash ({hash:?})"
    );
}

both_backends! {
    async fn forgot_password_answers_alike_for_known_unknown_and_unverified_addresses(app) {
        app.signed_up("unverified@example.com").await;
        app.signed_up("verified@example.com").await;
        let token = app.mail.find("verified@example.com", VERIFY).await.token();
        assert_eq!(verify(&app, &token).await.status(), StatusCode::OK);

        let mut answers = Vec::new();
        for email in ["unverified@example.com", "verified@example.com", "nobody@example.com"] {
            let res = forgot(&app, email).await;
            answers.push((res.status(), res.text().await.unwrap()));
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
        assert_eq!(answers[0].0, StatusCode::ACCEPTED);
        let body: Value = serde_json::from_str(&answers[0].1).unwrap();
        assert!(body["message"].as_str().unwrap().starts_with("If an account uses this address"));

        app.mail.find("unverified@example.com", RESET).await;
        app.mail.find("verified@example.com", RESET).await;
        assert!(app.mail.to("nobody@example.com").is_empty());
        // An address that is not an address is a 400 for everyone alike.
        assert_error(forgot(&app, "not-an-email").await, StatusCode::BAD_REQUEST, "invalid_email").await;
    }

    async fn with_verification_required_registration_reveals_nothing_and_sign_in_waits(app) {
        let app = app.restart_with(|s| s.accounts.require_email_verification = true).await;
        let mut answers = Vec::new();
        for (email, password) in [
            ("ann@example.com", PASSWORD),
            ("ann@example.com", "a different fine passphrase"),
            ("ANN@example.com", PASSWORD),
            ("bob@example.com", PASSWORD),
        ] {
            let res = app.register(email, password).await;
            assert!(res.headers().get("set-cookie").is_none());
            answers.push((res.status(), res.text().await.unwrap()));
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
        assert_eq!(answers[0].0, StatusCode::ACCEPTED);

        // The owner hears of the attempts; nothing about the account changed.
        let notice = app.mail.find("ann@example.com", "already have").await;
        assert!(notice.text().contains("already has one"));
        assert_error(app.sign_in("ann@example.com", PASSWORD).await, StatusCode::FORBIDDEN, "email_not_verified").await;
        assert_error(app.sign_in("ann@example.com", "a different fine passphrase").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let token = app.mail.find("ann@example.com", VERIFY).await.token();
        assert_eq!(verify(&app, &token).await.status(), StatusCode::OK);
        assert_eq!(app.sign_in("ann@example.com", PASSWORD).await.status(), StatusCode::OK);
    }

    async fn with_verification_required_a_sign_in_resends_the_link_at_most_once_a_minute(app) {
        let app = app.restart_with(|s| s.accounts.require_email_verification = true).await;
        app.register("ann@example.com", PASSWORD).await;
        app.mail.find("ann@example.com", VERIFY).await;
        assert_error(app.sign_in("ann@example.com", PASSWORD).await, StatusCode::FORBIDDEN, "email_not_verified").await;
        app.advance_secs(61);
        assert_error(app.sign_in("ann@example.com", PASSWORD).await, StatusCode::FORBIDDEN, "email_not_verified").await;
        let second = app.mail.nth("ann@example.com", VERIFY, 2).await.token();
        assert_eq!(verify(&app, &second).await.status(), StatusCode::OK);
        let links = app.mail.to("ann@example.com").iter().filter(|m| m.subject().contains(VERIFY)).count();
        assert_eq!(links, 2, "the sign-in inside the minute sent nothing");
    }

}

// The timing checks run alone (`#[ignore]`d here; scripts/test runs them with
// `--ignored --test-threads=1`): beside a hundred other tests hashing passwords on two
// cores, a median measures the neighbours more than the code.

async fn forgot_password_timing(app: TestApp) {
    app.signed_up("ann@example.com").await;
    let hash = one_hash(&app).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES {
        let order = if i % 2 == 0 {
            ["ann@example.com", "nobody@example.com"]
        } else {
            ["nobody@example.com", "ann@example.com"]
        };
        for email in order {
            let started = Instant::now();
            assert_eq!(forgot(&app, email).await.status(), StatusCode::ACCEPTED);
            let took = started.elapsed();
            if email.starts_with("ann") {
                known.push(took)
            } else {
                unknown.push(took)
            }
        }
    }
    assert_alike("forgot-password", median(known), median(unknown), hash);
}

async fn quiet_registration_timing(app: TestApp) {
    let app = app
        .restart_with(|s| s.accounts.require_email_verification = true)
        .await;
    app.register("ann@example.com", PASSWORD).await;
    let hash = one_hash(&app).await;
    let (mut taken, mut new) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES {
        for existing in if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        } {
            let email = if existing {
                "ann@example.com".to_owned()
            } else {
                format!("new{i}@example.com")
            };
            let started = Instant::now();
            assert_eq!(
                app.register(&email, PASSWORD).await.status(),
                StatusCode::ACCEPTED
            );
            let took = started.elapsed();
            if existing {
                taken.push(took)
            } else {
                new.push(took)
            }
        }
    }
    assert_alike(
        "register (verification required)",
        median(taken),
        median(new),
        hash,
    );
}

/// A wrong password on an account that moved in with a bcrypt-12 hash (from Python's
/// `bcrypt`, about 0.25 s to check) against an unknown address (one argon2id dummy, about
/// 0.03 s, then padded): the same time.
async fn bcrypt_account_timing(app: TestApp) {
    let (foreign, _) = vector("bcrypt cost 12: the right password");
    moved_in(&app, "ann@example.com", &foreign).await;
    // Restarted, as after an import: the start-up times the bcrypt hash it finds.
    let app = app.restart_with(|_| {}).await;
    let hash = one_hash(&app).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // The first rounds settle the averages, as a server's first minutes would.
    for i in 0..SAMPLES + 3 {
        let order = if i % 2 == 0 {
            ["ann@example.com", "nobody@example.com"]
        } else {
            ["nobody@example.com", "ann@example.com"]
        };
        for email in order {
            let started = Instant::now();
            let res = app.sign_in(email, "not the password at all").await;
            let took = started.elapsed();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            let samples = if email.starts_with("ann") {
                &mut known
            } else {
                &mut unknown
            };
            if i >= 3 {
                samples.push(took);
            }
            // Past any back-off the failure streak has reached.
            app.advance_secs(16 * 60);
        }
    }
    assert_eq!(known.len(), SAMPLES);
    assert_alike(
        "sign-in, bcrypt account vs unknown address",
        median(known),
        median(unknown),
        hash,
    );
}

#[tokio::test]
#[ignore = "a timing check: scripts/test runs these alone"]
async fn a_wrong_password_on_a_bcrypt_account_takes_the_time_of_an_unknown_address_on_sqlite() {
    bcrypt_account_timing(TestApp::sqlite().await).await;
}

#[tokio::test]
#[ignore = "a timing check: scripts/test runs these alone"]
async fn a_wrong_password_on_a_bcrypt_account_takes_the_time_of_an_unknown_address_on_postgres() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    bcrypt_account_timing(app).await;
}

#[tokio::test]
#[ignore = "a timing check: scripts/test runs these alone"]
async fn forgot_password_takes_the_same_time_for_known_and_unknown_addresses_on_sqlite() {
    forgot_password_timing(TestApp::sqlite().await).await;
}

#[tokio::test]
#[ignore = "a timing check: scripts/test runs these alone"]
async fn forgot_password_takes_the_same_time_for_known_and_unknown_addresses_on_postgres() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    forgot_password_timing(app).await;
}

#[tokio::test]
#[ignore = "a timing check: scripts/test runs these alone"]
async fn with_verification_required_registration_takes_the_same_time_for_new_and_taken_addresses_on_sqlite()
 {
    quiet_registration_timing(TestApp::sqlite().await).await;
}

#[tokio::test]
#[ignore = "a timing check: scripts/test runs these alone"]
async fn with_verification_required_registration_takes_the_same_time_for_new_and_taken_addresses_on_postgres()
 {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    quiet_registration_timing(app).await;
}
