use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::all_backends;
use crate::helpers::{PASSWORD, SECRET, assert_error, token_of};

/// HS256 by hand (hmac + sha2), independent of the JWT library the server uses.
fn hs256(header: &Value, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

all_backends! {
    async fn registering_returns_201_with_the_user_and_a_bearer_token(app) {
        let res = app
            .post("/api/v1/auth/register", &json!({"email": " Ann@Example.COM ", "password": PASSWORD, "name": "Ann"}), None)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["tokenType"], "Bearer");
        assert_eq!(body["expiresIn"], 900);
        assert_eq!(body["user"]["email"], "Ann@example.com");
        assert_eq!(body["user"]["name"], "Ann");
        assert_eq!(body["user"]["emailVerified"], false);
        assert_eq!(body["user"]["createdAt"], "2027-01-01T00:00:00Z");
        let claims = claims_of(body["accessToken"].as_str().unwrap());
        assert_eq!(claims["sub"], body["user"]["id"]);
        assert_eq!(claims["email"], "Ann@example.com");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
        for claim in ["iss", "aud", "sid", "email_verified", "nbf", "jti"] {
            assert!(claims.get(claim).is_some(), "missing {claim}");
        }
    }

    async fn registering_an_email_that_exists_in_any_case_is_409_email_taken(app) {
        app.signed_up("ann@example.com").await;
        let res = app.register("ANN@example.com", "another good passphrase").await;
        assert_error(res, StatusCode::CONFLICT, "email_taken").await;
    }

    async fn registering_with_a_weak_password_is_400_naming_the_rule(app) {
        let cases = [
            ("short", "password_too_short"),
            ("password1", "password_too_common"),
            ("my name is annabelle!", "password_contains_email"),
        ];
        for (password, code) in cases {
            let res = app.register("annabelle@example.com", password).await;
            assert_error(res, StatusCode::BAD_REQUEST, code).await;
        }
        let long = "x".repeat(129);
        assert_error(app.register("annabelle@example.com", &long).await, StatusCode::BAD_REQUEST, "password_too_long").await;
        // Nothing was created by the refusals.
        app.signed_up("annabelle@example.com").await;
    }

    async fn registering_with_an_invalid_email_is_400_invalid_email(app) {
        for email in ["not-an-email", "a@b", "ann@exa mple.com", "ann\u{0}@example.com", ""] {
            assert_error(app.register(email, PASSWORD).await, StatusCode::BAD_REQUEST, "invalid_email").await;
        }
    }

    async fn signing_in_with_the_right_password_returns_a_token_for_me(app) {
        app.signed_up("bo@example.com").await;
        let res = app.sign_in("BO@example.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let token = token_of(res).await;
        let me: Value = app.get("/api/v1/auth/me", Some(&token)).await.json().await.unwrap();
        assert_eq!(me["email"], "bo@example.com");
        assert_eq!(me["emailVerified"], false);
        assert!(me["id"].as_str().is_some());
        assert!(me.get("createdAt").is_some());
    }

    async fn an_unknown_email_and_a_wrong_password_get_the_same_401(app) {
        app.signed_up("cy@example.com").await;
        let wrong = app.sign_in("cy@example.com", "not the password at all").await;
        let unknown = app.sign_in("nobody@example.com", PASSWORD).await;
        let (wrong_headers, unknown_headers) = (wrong.headers().clone(), unknown.headers().clone());
        let mut wrong = assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let mut unknown = assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        // Each names its own request (ids of one length); the rest is identical.
        assert_eq!(wrong["requestId"].as_str().map(str::len), unknown["requestId"].as_str().map(str::len));
        wrong.as_object_mut().unwrap().remove("requestId");
        unknown.as_object_mut().unwrap().remove("requestId");
        assert_eq!(wrong, unknown);
        assert_eq!(wrong_headers.get("content-length"), unknown_headers.get("content-length"));
    }

    async fn two_authorization_headers_are_refused_even_when_one_is_valid(app) {
        let token = app.signed_up("two@example.com").await;
        for other in [format!("Bearer {token}"), "Bearer not-a-token".into(), "Basic YTpi".into()] {
            let res = app
                .client
                .get(app.url("/api/v1/auth/me"))
                .header("authorization", format!("Bearer {token}"))
                .header("authorization", other)
                .send()
                .await
                .unwrap();
            assert_error(res, StatusCode::UNAUTHORIZED, "malformed_token").await;
        }
        assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), StatusCode::OK);
    }

    async fn an_unknown_email_costs_one_password_verification_like_a_wrong_password(app) {
        app.signed_up("hal@example.com").await;
        let count = || app.state.hasher.verifications();
        let before = count();
        assert_eq!(app.sign_in("nobody@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
        let after_unknown = count();
        assert_eq!(app.sign_in("hal@example.com", "not the password").await.status(), StatusCode::UNAUTHORIZED);
        let after_wrong = count();
        assert_eq!(after_unknown - before, 1, "the unknown email must pay for a verification");
        assert_eq!(after_wrong - after_unknown, 1);
    }

    async fn me_refuses_missing_malformed_tampered_and_expired_tokens_with_stable_codes(app) {
        let token = app.signed_up("di@example.com").await;
        let missing = app.get("/api/v1/auth/me", None).await;
        assert_eq!(missing.headers()["cache-control"], "no-store");
        assert_error(missing, StatusCode::UNAUTHORIZED, "missing_token").await;
        assert_error(app.get("/api/v1/auth/me", Some("garbage")).await, StatusCode::UNAUTHORIZED, "malformed_token").await;
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_error(app.get("/api/v1/auth/me", Some(&tampered)).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#), token.split('.').nth(1).unwrap());
        assert_error(app.get("/api/v1/auth/me", Some(&none)).await, StatusCode::UNAUTHORIZED, "malformed_token").await;
        // alg none that keeps the original signature: refused on the algorithm, not the shape.
        let signature = token.rsplit('.').next().unwrap();
        let none_signed = format!("{none}{signature}");
        assert_error(app.get("/api/v1/auth/me", Some(&none_signed)).await, StatusCode::UNAUTHORIZED, "unsupported_algorithm").await;

        assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), StatusCode::OK);
        app.clock.advance_secs(15 * 60 + 30); // the lifetime plus the whole leeway
        assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), StatusCode::OK);
        app.clock.advance_secs(1);
        let res = app.get("/api/v1/auth/me", Some(&token)).await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert_error(res, StatusCode::UNAUTHORIZED, "token_expired").await;
    }

    async fn signing_out_revokes_the_session_so_the_same_token_is_refused(app) {
        let first = app.signed_up("ed@example.com").await;
        let second = token_of(app.sign_in("ed@example.com", PASSWORD).await).await;
        let res = app.post("/api/v1/auth/signout", &json!({}), Some(&first)).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_error(app.get("/api/v1/auth/me", Some(&first)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_error(app.post("/api/v1/auth/signout", &json!({}), Some(&first)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
        // The other device's session is untouched.
        assert_eq!(app.get("/api/v1/auth/me", Some(&second)).await.status(), StatusCode::OK);
    }

    async fn a_token_signed_by_another_hs256_implementation_is_accepted(app) {
        let token = app.signed_up("fay@example.com").await;
        let mut claims = claims_of(&token);
        claims["jti"] = json!("minted-elsewhere");
        let foreign = hs256(&json!({"alg": "HS256", "typ": "at+jwt"}), &claims);
        let me = app.get("/api/v1/auth/me", Some(&foreign)).await;
        assert_eq!(me.status(), StatusCode::OK);
        // ...and the same claims with a key embedded in the header are not.
        let forged = hs256(&json!({"alg": "HS256", "typ": "at+jwt", "jwk": {"kty": "oct", "k": "AA"}}), &claims);
        assert_error(app.get("/api/v1/auth/me", Some(&forged)).await, StatusCode::UNAUTHORIZED, "forbidden_token_header").await;
    }

    async fn a_server_token_verifies_under_a_hand_rolled_hs256_check(app) {
        let token = app.signed_up("gus@example.com").await;
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).expect("signature verifies");
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "HS256", "typ": "at+jwt"}));
    }
}
