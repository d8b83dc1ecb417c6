//! Context-specific words (NIST SP 800-63B): wherever a password is set — registration,
//! reset, change — it may not contain the product's name, the operator's words or the
//! user's display name.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::email::{RESET, forgot, reset};
use crate::helpers::{PASSWORD, TestApp, assert_error, token_of};

const CONTEXT: &str = "password_contains_context";

async fn register_named(app: &TestApp, password: &str) -> reqwest::Response {
    let body =
        json!({ "email": "kim@example.com", "password": password, "name": "Marianne Smith" });
    app.post("/api/v1/auth/register", &body, None).await
}

both_backends! {
    async fn a_password_with_the_product_name_an_operator_word_or_the_users_name_is_refused_everywhere(app) {
        // The test settings name the product "Latchkey Tests".
        let app = app.restart_with(|s| s.accounts.password_context_words = vec!["Springfield".into(), "Acme Corp".into()]).await;
        for password in ["i love latchkey tests", "LATCHKEY-2024-x", "springfield forever", "acme corp rules!", "hello marianne 99"] {
            assert_error(register_named(&app, password).await, StatusCode::BAD_REQUEST, CONTEXT).await;
        }
        let res = register_named(&app, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let access = token_of(res).await;

        // Changing the password: the same rules, with the account's name.
        for new in ["smith family 2024", "springfield forever"] {
            let body = json!({ "currentPassword": PASSWORD, "newPassword": new });
            let res = app.post("/api/v1/auth/change-password", &body, Some(&access)).await;
            assert_error(res, StatusCode::BAD_REQUEST, CONTEXT).await;
        }

        // Resetting it: the same again, and the refusal leaves the link usable.
        assert_eq!(forgot(&app, "kim@example.com").await.status(), StatusCode::ACCEPTED);
        let token = app.mail.find("kim@example.com", RESET).await.token();
        assert_error(reset(&app, &token, "marianne's new pass").await, StatusCode::BAD_REQUEST, CONTEXT).await;
        assert_error(reset(&app, &token, "latchkeytests4ever").await, StatusCode::BAD_REQUEST, CONTEXT).await;
        assert_eq!(reset(&app, &token, "a brand new passphrase").await.status(), StatusCode::NO_CONTENT);
    }
}
