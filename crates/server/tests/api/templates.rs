//! Email templates the operator owns, and the language each email is written in: overrides
//! through the real outbox into the SMTP sink, broken overrides refused by the real binary,
//! and the locale from `Accept-Language` and the profile.

use std::path::PathBuf;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, HeaderValue};
use serde_json::{Value, json};

use crate::both_backends;
use crate::cli::{latchkey, temp_dir};
use crate::helpers::{PASSWORD, TestApp, assert_error, token_of};

const VERIFY_EN: &str = "Confirm your email address for Latchkey Tests";
const VERIFY_DE: &str = "Bestätigen Sie Ihre E-Mail-Adresse für Latchkey Tests";

/// A fresh folder holding `files` (`(name, source)`), for `LATCHKEY_TEMPLATES_DIR`.
fn templates_dir(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "latchkey-templates-{}",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ));
    for (name, source) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, source).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Registers with this `Accept-Language` header (raw bytes: a header need not be text).
async fn register_speaking(
    app: &TestApp,
    email: &str,
    accept_language: &[u8],
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/register"))
        .header(
            ACCEPT_LANGUAGE,
            HeaderValue::from_bytes(accept_language).unwrap(),
        )
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
}

async fn me(app: &TestApp, access: &str) -> Value {
    let res = app.get("/api/v1/auth/me", Some(access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

both_backends! {
    async fn an_override_replaces_the_built_in_template_in_the_mail_sent(app) {
        let dir = templates_dir(&[
            ("en/verify_email.subject.txt", "Welcome to {{ app }}: one click left\n"),
            ("en/verify_email.txt", "Hi from the operator's own template.\n\nOpen {{ link }} to finish.\n"),
        ]);
        let app = app.restart_with(|s| s.mail.templates_dir = Some(dir.clone())).await;
        app.signed_up("ann@example.com").await;
        let mail = app.mail.find("ann@example.com", "Welcome to Latchkey Tests").await;
        assert_eq!(mail.subject(), "Welcome to Latchkey Tests: one click left");
        assert!(mail.text().starts_with("Hi from the operator's own template."), "{}", mail.text());
        let link = mail.link();
        assert!(link.starts_with("http://app.test/verify-email#token="), "{link}");
        // The HTML part was not overridden: the built-in one, with the same link.
        assert!(mail.html().contains(&link));
        assert!(mail.html().contains("Confirm my address"));
        // The token in the overridden text works.
        let res = app.post("/api/v1/auth/verify-email", &json!({ "token": mail.token() }), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        std::fs::remove_dir_all(dir).ok();
    }

    async fn a_hostile_name_is_escaped_in_an_operators_html_template(app) {
        let dir = templates_dir(&[(
            "en/reset_password.html",
            "{% extends \"layout.html\" %}{% block body %}<h1>Welcome back, {{ name }}</h1>\
             <a href=\"{{ link }}\">Reset</a>{% endblock %}",
        )]);
        let app = app.restart_with(|s| s.mail.templates_dir = Some(dir.clone())).await;
        let hostile = "<img src=x onerror=alert(1)>\"'&";
        let res = app
            .post(
                "/api/v1/auth/register",
                &json!({ "email": "ann@example.com", "password": PASSWORD, "name": hostile }),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        // The name is used in emails once the address is verified.
        let token = app.mail.find("ann@example.com", "Confirm your email").await.token();
        let res = app.post("/api/v1/auth/verify-email", &json!({ "token": token }), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app
            .post("/api/v1/auth/forgot-password", &json!({ "email": "ann@example.com" }), None)
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let mail = app.mail.find("ann@example.com", "Reset your").await;
        let html = mail.html();
        assert!(
            html.contains("<h1>Welcome back, &lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;</h1>"),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
        // The text part is not HTML: the name as written.
        assert!(mail.text().contains(hostile), "{}", mail.text());
        std::fs::remove_dir_all(dir).ok();
    }

    async fn accept_language_chooses_german_and_the_profile_switches_back_to_english(app) {
        let res = register_speaking(&app, "ann@example.com", b"de-DE,de;q=0.9,en;q=0.8").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let access = token_of(res).await;
        assert_eq!(me(&app, &access).await["locale"], "de");
        let mail = app.mail.find("ann@example.com", "Bestätigen Sie").await;
        assert_eq!(mail.subject(), VERIFY_DE);
        assert!(mail.text().starts_with("Hallo,"), "{}", mail.text());
        assert!(mail.text().contains("Der Link ist 24 Stunden lang gültig."));
        assert!(mail.html().contains("<html lang=\"de\">"));

        let res = app.patch("/api/v1/auth/me", &json!({ "locale": "en" }), &access).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["locale"], "en");
        assert_eq!(me(&app, &access).await["locale"], "en");
        // A minute later (the resend throttle), the next email is in English.
        app.advance_secs(61);
        let res = app.post("/api/v1/auth/resend-verification", &json!({}), Some(&access)).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let mail = app.mail.find("ann@example.com", VERIFY_EN).await;
        assert!(mail.text().starts_with("Hello,"), "{}", mail.text());
        assert_eq!(app.mail.to("ann@example.com").len(), 2);
    }

    async fn the_new_address_in_an_email_change_is_written_to_in_the_users_language(app) {
        let res = register_speaking(&app, "ann@example.com", b"de").await;
        let access = token_of(res).await;
        let res = app
            .post(
                "/api/v1/auth/change-email",
                &json!({ "newEmail": "ann@new.example", "password": PASSWORD }),
                Some(&access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let mail = app.mail.find("ann@new.example", "Bestätigen Sie Ihre neue E-Mail-Adresse").await;
        let res = app
            .post("/api/v1/auth/confirm-email-change", &json!({ "token": mail.token() }), None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let notice = app.mail.find("ann@example.com", "hat eine neue E-Mail-Adresse").await;
        assert!(notice.text().contains("verwendet jetzt ann@new.example"), "{}", notice.text());
    }

    async fn an_unknown_locale_is_refused_with_a_stable_code_and_null_means_the_default(app) {
        let res = register_speaking(&app, "ann@example.com", b"de").await;
        let access = token_of(res).await;
        for locale in ["xx", "de-DE", "", "en\u{0}"] {
            let res = app.patch("/api/v1/auth/me", &json!({ "locale": locale }), &access).await;
            assert_error(res, StatusCode::BAD_REQUEST, "unsupported_locale").await;
        }
        let res = app.patch("/api/v1/auth/me", &json!({ "locale": 7 }), &access).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_eq!(me(&app, &access).await["locale"], "de", "unchanged by the refusals");
        // Case does not matter; what is stored is the server's spelling.
        let res = app.patch("/api/v1/auth/me", &json!({ "locale": "DE", "name": "Ann" }), &access).await;
        assert_eq!(res.json::<Value>().await.unwrap()["locale"], "de");
        let res = app.patch("/api/v1/auth/me", &json!({ "locale": null }), &access).await;
        assert_eq!(res.json::<Value>().await.unwrap()["locale"], "en");
        // Leaving it out leaves it.
        let res = app.patch("/api/v1/auth/me", &json!({ "name": "Ann B" }), &access).await;
        assert_eq!(res.json::<Value>().await.unwrap()["locale"], "en");
    }

    async fn an_unreadable_accept_language_means_english_never_an_error(app) {
        let headers: [&[u8]; 6] = [b"", b"*", b";;q=,,de;q=2", b"\xff\xfe", b"zz-ZZ;q=0.9", b"de;q=0"];
        for (i, header) in headers.iter().enumerate() {
            let email = format!("user{i}@example.com");
            let res = register_speaking(&app, &email, header).await;
            assert_eq!(res.status(), StatusCode::CREATED, "{header:?}");
            assert_eq!(me(&app, &token_of(res).await).await["locale"], "en", "{header:?}");
            app.mail.find(&email, VERIFY_EN).await;
        }
    }
}

/// `latchkey config` and a start, with `LATCHKEY_TEMPLATES_DIR` holding one broken file:
/// both refuse, with one line naming the file and the problem.
#[test]
fn a_broken_override_is_refused_at_start_naming_the_file() {
    // (the file, its text, the path the refusal names, the problem it names)
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "en/reset_password.html",
            "{% if name %}<p>unclosed",
            "en/reset_password.html",
            "syntax error",
        ),
        (
            "de/verify_email.txt",
            "Hallo {{ nmae }}\n\n{{ link }}",
            "de/verify_email.txt",
            "undefined value",
        ),
        (
            "en/reset_pasword.html",
            "misspelt name",
            "en/reset_pasword.html",
            "matches no template",
        ),
        (
            "fr/reset_password.html",
            "pas encore",
            "fr",
            "is not a locale's folder",
        ),
        (
            "en/sign_in_blocked.subject.txt",
            "Blocked\n\nfor {{ app }}",
            "en/sign_in_blocked.subject.txt",
            "line break after rendering",
        ),
        // The layout's error is the layout's, whichever template extends it.
        (
            "layout.html",
            "<html>{{ link | no_such_filter }}</html>",
            "layout.html",
            "unknown filter",
        ),
    ];
    for (file, source, named, problem) in cases {
        let dir = temp_dir("templates");
        let templates = templates_dir(&[(file, source)]);
        let env = [("LATCHKEY_TEMPLATES_DIR", templates.to_str().unwrap())];
        let named = templates.join(named);
        for args in [&["config"][..], &[][..]] {
            let out = latchkey(&dir, &env, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success(),
                "{file} was accepted by {args:?}: {stderr}"
            );
            let lines: Vec<&str> = stderr
                .lines()
                .filter(|l| l.contains("LATCHKEY_TEMPLATES_DIR"))
                .collect();
            assert_eq!(lines.len(), 1, "{stderr}");
            let expected = format!("LATCHKEY_TEMPLATES_DIR: {}: ", named.display());
            assert!(lines[0].contains(&expected), "{expected:?} not in {stderr}");
            assert!(lines[0].contains(problem), "{problem:?} not in {stderr}");
        }
        std::fs::remove_dir_all(dir).ok();
        std::fs::remove_dir_all(templates).ok();
    }
}

/// A copy of the built-in folder is a valid override (the README tells operators to start
/// from it), and a folder that does not exist is refused by name.
#[test]
fn a_copy_of_the_built_in_templates_starts_and_a_missing_folder_does_not() {
    let dir = temp_dir("templates-copy");
    let builtin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let out = latchkey(
        &dir,
        &[("LATCHKEY_TEMPLATES_DIR", builtin.to_str().unwrap())],
        &["config"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("templates_dir"),
        "latchkey config shows it: {stdout}"
    );

    let missing = dir.join("no-such-folder");
    let out = latchkey(
        &dir,
        &[("LATCHKEY_TEMPLATES_DIR", missing.to_str().unwrap())],
        &["config"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "LATCHKEY_TEMPLATES_DIR: {}: cannot read the folder",
        missing.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    std::fs::remove_dir_all(dir).ok();
}
