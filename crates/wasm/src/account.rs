//! The rules a sign-up form can check before sending: email shape and the password policy.

use latchkey_core::{Email, PasswordPolicy};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out;

/// Checks a new password for the account `email` under the server's policy (`minChars`
/// defaults to 8, the server's `LATCHKEY_PASSWORD_MIN_LENGTH`), with the user's display
/// `name` and the site's `contextWords` (the server's `LATCHKEY_APP_NAME` and
/// `LATCHKEY_PASSWORD_CONTEXT_WORDS`) banned too: `{ ok: true }` or `{ ok: false, error }`
/// naming the first rule broken (`password_too_short`, `password_too_long`,
/// `password_too_common`, `password_contains_email`, `password_contains_context`,
/// `invalid_email`).
#[wasm_bindgen(js_name = checkPassword, unchecked_return_type = "CheckResult")]
pub fn check_password(
    password: &str,
    email: &str,
    #[wasm_bindgen(js_name = minChars)] min_chars: Option<u32>,
    name: Option<String>,
    #[wasm_bindgen(js_name = contextWords)] context_words: Option<Vec<String>>,
) -> JsValue {
    let answer = (|| {
        let min = usize::try_from(min_chars.unwrap_or(8)).unwrap_or(usize::MAX);
        let words = context_words.unwrap_or_default();
        let policy = PasswordPolicy::new(min)?.with_context_words(words.iter().map(String::as_str));
        policy.check_for(password, &Email::parse(email)?, name.as_deref())
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
