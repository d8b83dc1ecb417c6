//! Cookie transport: exact `Set-Cookie` lines, cookie authentication, and the CSRF rule.

use reqwest::header::{COOKIE, ORIGIN};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error};

const APP: &str = "https://app.example.com";

/// An app whose public URL is https (secure cookies), trusting one more origin.
async fn https_app() -> TestApp {
    TestApp::sqlite()
        .await
        .restart_with(|s| {
            s.http.public_url = APP.into();
            s.http.trusted_origins = vec!["http://localhost:3000".into()];
        })
        .await
}

/// Signs up with cookie transport from `origin`.
async fn cookie_register(app: &TestApp, email: &str, origin: &str) -> Response {
    app.client
        .post(app.url("/api/v1/auth/register"))
        .header("x-latchkey-transport", "cookie")
        .header(ORIGIN, origin)
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
}

fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// A GET that sends `cookies` and nothing else.
async fn get_with(app: &TestApp, path: &str, cookies: &str) -> Response {
    app.client
        .get(app.url(path))
        .header(COOKIE, cookies)
        .send()
        .await
        .unwrap()
}

/// A POST with body `{}` that sends `cookies` from `origin`, as a browser page would.
async fn post_with(app: &TestApp, path: &str, cookies: &str, origin: &str) -> Response {
    app.client
        .post(app.url(path))
        .header(COOKIE, cookies)
        .header(ORIGIN, origin)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

/// `name=value` of a `Set-Cookie` line, ready for a `Cookie` header.
fn pair(line: &str) -> String {
    line.split(';').next().unwrap().to_owned()
}

/// The `Cookie` header a browser would send back after `res`.
fn cookie_header_from(res: &Response) -> String {
    set_cookies(res)
        .iter()
        .map(|l| pair(l))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn https_cookies_are_host_prefixed_secure_and_the_body_carries_no_token() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let lines = set_cookies(&res);
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("accessToken").is_none() && body.get("refreshToken").is_none(),
        "{body}"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    let at = lines[0]
        .strip_prefix("__Host-latchkey.at=")
        .expect("access cookie first");
    let at = at.split(';').next().unwrap();
    assert_eq!(
        lines[0],
        format!("__Host-latchkey.at={at}; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Lax")
    );
    assert_eq!(at.split('.').count(), 3, "a JWT");
    let rt = lines[1]
        .strip_prefix("__Host-latchkey.rt=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert_eq!(rt.len(), 43);
    assert_eq!(
        lines[1],
        format!("__Host-latchkey.rt={rt}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax")
    );
}

#[tokio::test]
async fn localhost_cookies_have_plain_names_and_no_secure_flag() {
    let app = TestApp::sqlite().await;
    let res = cookie_register(&app, "ann@example.com", "http://localhost:8080").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let lines = set_cookies(&res);
    assert!(lines[0].starts_with("latchkey.at=ey"), "{lines:?}");
    assert!(lines[0].ends_with("; Path=/; Max-Age=900; HttpOnly; SameSite=Lax"));
    assert!(lines[1].starts_with("latchkey.rt="));
    assert!(lines[1].ends_with("; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax"));
    assert!(lines.iter().all(|l| !l.contains("Secure")));
}

#[tokio::test]
async fn cookie_authenticated_changes_need_a_trusted_origin() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    let cookies = cookie_header_from(&res);
    let post_task = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/tasks"))
            .header(COOKIE, &cookies)
            .json(&json!({ "title": "t" }));
        if let Some(origin) = origin {
            req = req.header(ORIGIN, origin);
        }
        if let Some(site) = fetch_site {
            req = req.header("sec-fetch-site", site);
        }
        req.send()
    };
    // Reading needs no origin: a GET changes nothing.
    let me = get_with(&app, "/api/v1/auth/me", &cookies).await;
    assert_eq!(me.status(), StatusCode::OK);

    for (origin, site) in [
        (Some("https://evil.example"), Some("cross-site")),
        (Some("https://evil.example"), Some("same-origin")),
        (Some("null"), None),
        (None, None),
        (None, Some("same-site")),
    ] {
        let res = post_task(origin, site).await.unwrap();
        assert_error(res, StatusCode::FORBIDDEN, "csrf_rejected").await;
    }
    for (origin, site) in [
        (Some(APP), None),
        (Some("http://localhost:3000"), None),
        (None, Some("same-origin")),
    ] {
        let res = post_task(origin, site).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{origin:?} {site:?}");
    }
    let tasks: Vec<Value> = app
        .client
        .get(app.url("/api/v1/tasks"))
        .header(COOKIE, &cookies)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks.len(), 3, "only the trusted requests wrote anything");
}

#[tokio::test]
async fn a_second_origin_or_fetch_site_header_is_refused_whichever_comes_first() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    let cookies = cookie_header_from(&res);
    for (name, [first, second]) in [
        ("origin", [APP, "https://evil.example"]),
        ("origin", ["https://evil.example", APP]),
        ("origin", [APP, APP]),
        ("sec-fetch-site", ["same-origin", "cross-site"]),
    ] {
        // reqwest appends: both values go out as separate header lines.
        let res = app
            .client
            .post(app.url("/api/v1/tasks"))
            .header(COOKIE, &cookies)
            .header(name, first)
            .header(name, second)
            .json(&json!({ "title": "planted" }))
            .send()
            .await
            .unwrap();
        assert_error(res, StatusCode::FORBIDDEN, "csrf_rejected").await;
    }
    let tasks: Vec<Value> = get_with(&app, "/api/v1/tasks", &cookies)
        .await
        .json()
        .await
        .unwrap();
    assert!(tasks.is_empty(), "{tasks:?}");
}

#[tokio::test]
async fn bearer_requests_are_not_subject_to_the_origin_rule() {
    let app = https_app().await;
    let token = app.signed_up("ann@example.com").await;
    let res = app
        .client
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&token)
        .header(ORIGIN, "https://evil.example")
        .json(&json!({ "title": "t" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn asking_for_cookies_from_an_untrusted_origin_is_refused() {
    let app = https_app().await;
    // Login CSRF: a hostile page must not sign the visitor in to an account of its choosing.
    let res = cookie_register(&app, "ann@example.com", "https://evil.example").await;
    assert_error(res, StatusCode::FORBIDDEN, "csrf_rejected").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/signin"))
        .header("x-latchkey-transport", "cookie")
        .json(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::FORBIDDEN, "csrf_rejected").await;
}

#[tokio::test]
async fn the_refresh_cookie_rotates_from_a_trusted_origin_only() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    let rt = pair(&set_cookies(&res)[1]);
    let res = post_with(&app, "/api/v1/auth/refresh", &rt, "https://evil.example").await;
    assert_error(res, StatusCode::FORBIDDEN, "csrf_rejected").await;
    // The refused attempt spent nothing: the cookie still rotates.
    let res = post_with(&app, "/api/v1/auth/refresh", &rt, APP).await;
    assert_eq!(res.status(), StatusCode::OK);
    let lines = set_cookies(&res);
    assert!(
        lines[0].starts_with("__Host-latchkey.at=") && lines[1].starts_with("__Host-latchkey.rt=")
    );
    assert_ne!(pair(&lines[1]), rt);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("refreshToken").is_none(), "{body}");
}

#[tokio::test]
async fn sign_out_by_cookie_clears_both_cookies() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    let lines = set_cookies(&res);
    let cookies = format!("{}; {}", pair(&lines[0]), pair(&lines[1]));
    let res = post_with(&app, "/api/v1/auth/signout", &cookies, APP).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        set_cookies(&res),
        [
            "__Host-latchkey.at=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
            "__Host-latchkey.rt=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
        ]
    );
    let me = get_with(&app, "/api/v1/auth/me", &cookies).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn a_planted_second_access_cookie_is_refused() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    let at = pair(&set_cookies(&res)[0]);
    let planted = format!("{at}; __Host-latchkey.at=eyJhbGciOiJIUzI1NiJ9.e30.x");
    let res = get_with(&app, "/api/v1/auth/me", &planted).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "malformed_token").await;
    // Without any cookie or header: missing_token.
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "missing_token").await;
}

#[tokio::test]
async fn once_the_access_cookie_has_expired_the_refresh_cookie_still_signs_out() {
    let app = https_app().await;
    let res = cookie_register(&app, "ann@example.com", APP).await;
    let lines = set_cookies(&res);
    let cookies = format!("{}; {}", pair(&lines[0]), pair(&lines[1]));
    app.clock.advance_secs(16 * 60);
    let res = post_with(
        &app,
        "/api/v1/auth/signout",
        &cookies,
        "https://evil.example",
    )
    .await;
    assert_error(res, StatusCode::FORBIDDEN, "csrf_rejected").await;
    let res = post_with(&app, "/api/v1/auth/signout", &cookies, APP).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(set_cookies(&res).len(), 2);
    let refresh = post_with(&app, "/api/v1/auth/refresh", &pair(&lines[1]), APP).await;
    assert_error(refresh, StatusCode::UNAUTHORIZED, "session_revoked").await;
    // With nothing to name a session, sign-out is still a 401.
    let res = app
        .client
        .post(app.url("/api/v1/auth/signout"))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "missing_token").await;
}
