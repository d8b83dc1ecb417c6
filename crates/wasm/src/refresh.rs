//! Refresh tokens. Apps need only `refreshTokenShape` (to refuse garbage before a network
//! call); the derivation and the rotation rule are the server's, exported so the package is
//! checked against the same vectors as the server.

use latchkey_core::refresh::{
    self, Decision, PresentedToken, RefreshKey, RefreshPolicy, SessionState,
};
use latchkey_core::{Error, Secret};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out;

/// Whether `token` has the shape of a refresh token (43 base64url characters):
/// `{ ok: true }` or `{ ok: false, error }` with code `invalid_refresh_token`.
#[wasm_bindgen(js_name = refreshTokenShape, unchecked_return_type = "CheckResult")]
pub fn refresh_token_shape(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> JsValue {
    let answer = out::opt_string(&token)
        .ok_or(Error::InvalidRefreshToken)
        .and_then(|t| refresh::check_shape(&t));
    out::result(answer.map(|()| serde_json::Map::new()))
}

/// The SHA-256 (hex) under which the server stores a refresh token.
#[wasm_bindgen(js_name = hashRefreshToken)]
pub fn hash_refresh_token(token: &str) -> String {
    refresh::hash(token)
}

/// The server's derivation of a session's refresh token of `generation` (for parity tests;
/// apps never hold the server's secret). `{ ok: true, token }` or `{ ok: false, error }`.
#[wasm_bindgen(js_name = deriveRefreshToken, unchecked_return_type = "TokenResult")]
pub fn derive_refresh_token(
    secret: &str,
    #[wasm_bindgen(js_name = sessionId)] session_id: &str,
    seed: &str,
    generation: f64,
) -> JsValue {
    #[derive(Serialize)]
    struct Token {
        token: String,
    }
    let answer = Secret::parse(secret.as_bytes()).and_then(|secret| {
        let generation = out::whole(generation, "generation")?;
        let token = RefreshKey::new(&secret).token(session_id, seed, generation);
        Ok(Token { token })
    });
    out::result(answer)
}

/// The server's rotation rule (for parity tests): what presenting a refresh token whose
/// stored record is `token` does to `session` at `nowMs` under `policy`.
#[wasm_bindgen(js_name = decideRefresh, unchecked_return_type = "RefreshDecision")]
pub fn decide_refresh(
    #[wasm_bindgen(unchecked_param_type = "SessionState")] session: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PresentedToken")] token: JsValue,
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    #[wasm_bindgen(unchecked_param_type = "RefreshPolicy")] policy: JsValue,
) -> JsValue {
    #[derive(Serialize)]
    #[serde(tag = "action", rename_all = "lowercase")]
    enum Action {
        #[serde(rename_all = "camelCase")]
        Rotate {
            generation: i64,
            expires_at_ms: i64,
        },
        Resend {
            generation: i64,
        },
        Revoke,
    }
    let answer = (|| {
        let session: SessionState = shaped("session", session)?;
        let token: PresentedToken = shaped("token", token)?;
        let policy: RefreshPolicy = shaped("policy", policy)?;
        let now_ms = out::whole(now_ms, "nowMs")?;
        Ok(match refresh::decide(&session, &token, now_ms, &policy)? {
            Decision::Rotate {
                generation,
                expires_at_ms,
            } => Action::Rotate {
                generation,
                expires_at_ms,
            },
            Decision::Resend { generation } => Action::Resend { generation },
            Decision::Revoke => Action::Revoke,
        })
    })();
    out::result(answer)
}

fn shaped<T: serde::de::DeserializeOwned>(what: &str, value: JsValue) -> Result<T, Error> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|_| Error::InvalidRequest(format!("{what} has the wrong shape")))
}
