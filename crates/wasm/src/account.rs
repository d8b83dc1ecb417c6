//! The rules a sign-up form can check before sending: email shape and the password policy.

use latchkey_core::{Email, PasswordPolicy};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out;

/// Checks a new password for the account `email` under the server's policy (`minChars`
/// defaults to 8, the server's `LATCHKEY_PASSWORD_MIN_LENGTH`): `{ ok: true }` or
/// `{ ok: false, error }` naming the first rule broken (`password_too_short`,
/// `password_too_long`, `password_too_common`, `password_contains_email`, `invalid_email`).
#[wasm_bindgen(js_name = checkPassword, unchecked_return_type = "CheckResult")]
pub fn check_password(
    password: &str,
    email: &str,
    #[wasm_bindgen(js_name = minChars)] min_chars: Option<u32>,
) -> JsValue {
    let answer = (|| {
        let min = usize::try_from(min_chars.unwrap_or(8)).unwrap_or(usize::MAX);
        let policy = PasswordPolicy::new(min)?;
        policy.check(password, &Email::parse(email)?)
    })();
    out::result(answer.map(|()| serde_json::Map::new()))
}

/// The email address as the server stores it (trimmed, domain lower-cased, validated):
/// `{ ok: true, email }` or `{ ok: false, error }` with code `invalid_email`.
#[wasm_bindgen(js_name = normalizeEmail, unchecked_return_type = "EmailResult")]
pub fn normalize_email(email: &str) -> JsValue {
    #[derive(Serialize)]
    struct Normalised {
        email: String,
    }
    let answer = Email::parse(email).map(|e| Normalised {
        email: e.as_str().to_owned(),
    });
    out::result(answer)
}
