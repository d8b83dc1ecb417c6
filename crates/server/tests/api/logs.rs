//! Log hygiene: the real binary, logging at debug level, runs every flow that handles a
//! secret — register, sign-in, refresh, verification, password reset, password and email
//! change, sign-out — over real SMTP, and no password, token, link or secret it saw may
//! appear anywhere in what it printed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::PASSWORD;
use crate::process::Server;
use crate::smtp::SmtpSink;

const SECRET: &str = "log-hygiene-secret-0123456789abcdef-XYZ";
const SECOND: &str = "second secret passphrase";
const THIRD: &str = "third secret passphrase";

async fn post(url: &str, body: Value, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn field(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_link_or_secret_reaches_the_log() {
    let mail = SmtpSink::start().await;
    let server = Server::start(&[
        ("RUST_LOG", "debug".into()),
        ("LATCHKEY_SECRET", SECRET.into()),
        ("DATABASE_URL", "sqlite://logs.db".into()),
        ("LATCHKEY_SMTP_HOST", "127.0.0.1".into()),
        ("LATCHKEY_SMTP_PORT", mail.port.to_string()),
        ("LATCHKEY_SMTP_TLS", "none".into()),
    ])
    .await;
    let api = |path: &str| format!("{}/api/v1/auth/{path}", server.url);
    let mut secrets: Vec<String> =
        vec![SECRET.into(), PASSWORD.into(), SECOND.into(), THIRD.into()];

    let (status, body) = post(
        &api("register"),
        json!({ "email": "ann@example.com", "password": PASSWORD, "name": "Ann" }),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    secrets.extend([field(&body, "accessToken"), field(&body, "refreshToken")]);
    let verification = mail.find("ann@example.com", "Confirm your email").await;
    secrets.extend([verification.link(), verification.token()]);
    assert_eq!(
        post(
            &api("verify-email"),
            json!({ "token": verification.token() }),
            None
        )
        .await
        .0,
        StatusCode::OK
    );

    // A wrong password, then the right one, then a refresh.
    assert_eq!(
        post(
            &api("signin"),
            json!({ "email": "ann@example.com", "password": SECOND }),
            None
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let (_, body) = post(
        &api("signin"),
        json!({ "email": "ann@example.com", "password": PASSWORD }),
        None,
    )
    .await;
    let refresh_token = field(&body, "refreshToken");
    secrets.extend([field(&body, "accessToken"), refresh_token.clone()]);
    let (_, body) = post(
        &api("refresh"),
        json!({ "refreshToken": refresh_token }),
        None,
    )
    .await;
    secrets.extend([field(&body, "accessToken"), field(&body, "refreshToken")]);
    // A malformed token and a mistyped password body must not be echoed either.
    post(
        &api("refresh"),
        json!({ "refreshToken": format!("{refresh_token}x") }),
        None,
    )
    .await;
    post(
        &api("signin"),
        json!({ "email": "ann@example.com", "password": 31415926 }),
        None,
    )
    .await;
    secrets.push("31415926".into());

    // Password reset by email.
    assert_eq!(
        post(
            &api("forgot-password"),
            json!({ "email": "ann@example.com" }),
            None
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    let reset = mail.find("ann@example.com", "Reset your").await;
    secrets.extend([reset.link(), reset.token()]);
    assert_eq!(
        post(
            &api("reset-password"),
            json!({ "token": reset.token(), "newPassword": SECOND }),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    // Password and email change, while signed in.
    let (_, body) = post(
        &api("signin"),
        json!({ "email": "ann@example.com", "password": SECOND }),
        None,
    )
    .await;
    let access = field(&body, "accessToken");
    secrets.extend([access.clone(), field(&body, "refreshToken")]);
    let change = json!({ "currentPassword": SECOND, "newPassword": THIRD });
    let (status, body) = post(&api("change-password"), change, Some(&access)).await;
    assert_eq!(status, StatusCode::OK);
    // The password change replaced the session: go on with the new one's tokens.
    let access = field(&body, "accessToken");
    secrets.extend([access.clone(), field(&body, "refreshToken")]);
    let change = json!({ "newEmail": "ann@new.example", "password": THIRD });
    assert_eq!(
        post(&api("change-email"), change, Some(&access)).await.0,
        StatusCode::ACCEPTED
    );
    let confirm = mail.find("ann@new.example", "Confirm your new email").await;
    secrets.extend([confirm.link(), confirm.token()]);
    assert_eq!(
        post(
            &api("confirm-email-change"),
            json!({ "token": confirm.token() }),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    mail.find("ann@example.com", "new email address").await;
    assert_eq!(
        post(&api("signout"), json!({}), Some(&access)).await.0,
        StatusCode::NO_CONTENT
    );

    let log = server.stop_and_read_log();
    assert!(log.contains("email sent"), "the log was captured: {log}");
    assert!(log.contains("DEBUG"), "debug level is on");
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !log.contains(secret.as_str()),
            "a secret reached the log: {secret:?}"
        );
    }
    eprintln!(
        "{} log lines checked against {} secrets",
        log.lines().count(),
        secrets.len()
    );
}

/// A client's text never starts a log line of its own, and a secret sent with the wrong
/// type (which the JSON parser would quote) never reaches the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_text_cannot_start_a_log_line() {
    let server = Server::start(&[
        ("RUST_LOG", "debug".into()),
        ("LATCHKEY_SECRET", SECRET.into()),
        ("DATABASE_URL", "sqlite://lines.db".into()),
        ("LATCHKEY_MAILER", "file".into()),
    ])
    .await;
    let api = |path: &str| format!("{}/api/v1/auth/{path}", server.url);
    let forged = "\r\n2026-01-01T00:00:00.000000Z ERROR forged: ";
    let wrong_type_password = 31_415_926_535u64;
    let bodies = [
        (
            "register",
            json!({ "email": format!("ann@example.com{forged}"), "password": PASSWORD }),
        ),
        (
            "register",
            json!({ "email": "ann@example.com", "password": PASSWORD, "name": format!("Ann{forged}") }),
        ),
        (
            "signin",
            json!({ "email": format!("ann{forged}@example.com"), "password": format!("{PASSWORD}{forged}") }),
        ),
        (
            "signin",
            json!({ "email": "ann@example.com", "password": wrong_type_password }),
        ),
        (
            "signin",
            json!({ format!("email{forged}"): "ann@example.com", "password": PASSWORD }),
        ),
        ("refresh", json!({ "refreshToken": format!("x{forged}") })),
        (
            "forgot-password",
            json!({ "email": format!("ann@example.com\n{forged}") }),
        ),
        (
            "reset-password",
            json!({ "token": forged, "newPassword": forged }),
        ),
        ("verify-email", json!({ "token": [forged] })),
    ];
    for (path, body) in bodies {
        let (status, _) = post(&api(path), body, Some(forged.trim())).await;
        assert!(
            status.is_client_error() || status.is_success(),
            "{path}: {status}"
        );
    }

    let log = server.stop_and_read_log();
    assert!(
        log.contains("request refused"),
        "the log was captured: {log}"
    );
    for line in log.lines() {
        // Each line starts as the formatter starts an event: `2026-12-01T22:50:01.123456Z`.
        let starts_an_event = line.get(..20).is_some_and(|t| {
            t.as_bytes()[4] == b'-' && t.as_bytes()[10] == b'T' && t.as_bytes()[13] == b':'
        });
        assert!(
            starts_an_event,
            "a line that is not a whole event: {line:?}"
        );
        assert!(
            !line.starts_with("2026-01-01T00:00:00"),
            "a forged line: {line:?}"
        );
    }
    assert!(
        !log.contains(&wrong_type_password.to_string()),
        "a wrong-typed password reached the log"
    );
}
