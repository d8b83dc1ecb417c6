//! EdDSA access tokens, the JWKS endpoint, key persistence and rotation.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_server::keys::KeyFile;
use latchkey_server::settings::JwtAlg;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

fn keys_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "latchkey-keys-{}.json",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    ))
}

async fn eddsa(app: TestApp, keys_file: &std::path::Path) -> TestApp {
    let keys_file = keys_file.to_owned();
    app.restart_with(move |s| {
        s.tokens.jwt_alg = JwtAlg::EdDsa;
        s.tokens.keys_file = keys_file;
    })
    .await
}

async fn jwks(app: &TestApp) -> JwkSet {
    let res = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Verifies with the `jsonwebtoken` crate's own JWK support: nothing but the served JWKS.
fn verify_with_jwks(set: &JwkSet, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let kid = jsonwebtoken::decode_header(token)?.kid.unwrap_or_default();
    let jwk = set
        .find(&kid)
        .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["latchkey-tests"]);
    validation.validate_exp = false;
    Ok(jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)?.claims)
}

#[tokio::test]
async fn with_hs256_the_key_set_is_empty() {
    let app = TestApp::sqlite().await;
    let res = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "keys": [] }));
}

both_backends! {
    async fn an_eddsa_token_verifies_with_a_standard_library_from_the_jwks_alone(app) {
        let path = keys_path();
        let app = eddsa(app, &path).await;
        let token = app.signed_up("ann@example.com").await;
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        let set = jwks(&app).await;
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].common.key_id, header.kid);
        let claims = verify_with_jwks(&set, &token).unwrap();
        assert_eq!(claims["email"], "ann@example.com");
        assert_eq!(app.get("/api/v1/auth/me", Some(&token)).await.status(), StatusCode::OK);
        std::fs::remove_file(path).ok();
    }

    async fn keys_survive_a_restart_and_a_rotated_key_verifies_until_its_tokens_expire(app) {
        let path = keys_path();
        let app = eddsa(app, &path).await;
        let old_token = app.signed_up("ann@example.com").await;
        let old_kid = jwks(&app).await.keys[0].common.key_id.clone();

        // A plain restart keeps the key.
        let app = eddsa(app, &path).await;
        assert_eq!(jwks(&app).await.keys[0].common.key_id, old_kid);
        assert_eq!(app.get("/api/v1/auth/me", Some(&old_token)).await.status(), StatusCode::OK);

        // Rotate (what `latchkey keys generate` does: the new key signs an hour later) and
        // restart. The new key is published before it signs anything.
        let mut file = KeyFile::read(&path).unwrap();
        file.rotate(app.clock_ms() / 1000, 3_600).unwrap();
        file.write(&path).unwrap();
        let app = eddsa(app, &path).await;
        assert_eq!(jwks(&app).await.keys.len(), 2);
        let kid_of_sign_in = || async {
            let token = crate::helpers::token_of(app.sign_in("ann@example.com", crate::helpers::PASSWORD).await).await;
            (jsonwebtoken::decode_header(&token).unwrap().kid, token)
        };
        app.clock.advance_secs(3_599);
        let (kid, late_old_token) = kid_of_sign_in().await;
        assert_eq!(kid, old_kid, "the old key signs until the new one activates");
        app.clock.advance_secs(1);
        let (new_kid, _) = kid_of_sign_in().await;
        assert_ne!(new_kid, old_kid, "the new key signs from its activation, no restart needed");

        // The old key's last token stays valid to its expiry, through the JWKS too.
        app.clock.advance_secs(10 * 60);
        assert_eq!(app.get("/api/v1/auth/me", Some(&late_old_token)).await.status(), StatusCode::OK);
        assert!(verify_with_jwks(&jwks(&app).await, &late_old_token).is_ok());

        // Past that (15 min + 30 s leeway after activation) the old key is gone.
        app.clock.advance_secs(5 * 60 + 31);
        let set = jwks(&app).await;
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].common.key_id, new_kid);
        assert_error(app.get("/api/v1/auth/me", Some(&late_old_token)).await, StatusCode::UNAUTHORIZED, "unknown_key").await;
        std::fs::remove_file(path).ok();
    }
}

/// Key confusion: HS256 "signed" with the published public key must not pass for EdDSA.
#[tokio::test]
async fn an_hs256_token_maced_with_the_public_key_is_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};

    let path = keys_path();
    let app = eddsa(TestApp::sqlite().await, &path).await;
    let real = app.signed_up("ann@example.com").await;
    let mut claims = latchkey_core::token::decode_unverified(&real).unwrap();
    claims.insert("sub".into(), json!("someone-else"));
    let set: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    let x = set["keys"][0]["x"].as_str().unwrap();
    let kid = set["keys"][0]["kid"].as_str().unwrap();
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string());
    for key in [
        URL_SAFE_NO_PAD.decode(x).unwrap(),
        x.as_bytes().to_vec(),
        set.to_string().into_bytes(),
    ] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{header}.{payload}").as_bytes());
        let forged = format!(
            "{header}.{payload}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        let res = app.get("/api/v1/auth/me", Some(&forged)).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "unsupported_algorithm").await;
    }
    std::fs::remove_file(path).ok();
}
