//! Access-token verification: HS256 under a shared secret, or EdDSA under a JWKS document.

use latchkey_core::keys::Jwks;
use latchkey_core::token::{self, Assessment};
use latchkey_core::{AccessTokens, Error, Secret};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out::{self, Failure};

/// Verifies Latchkey access tokens locally, with no network hop, exactly as the server does.
#[wasm_bindgen]
pub struct Verifier {
    tokens: AccessTokens,
}

#[wasm_bindgen]
impl Verifier {
    /// A verifier for HS256 tokens signed with the server's `LATCHKEY_SECRET`.
    ///
    /// `issuer` and `audience` must match the server's `LATCHKEY_ISSUER` and
    /// `LATCHKEY_AUDIENCE`; `leewaySecs` (default 30, at most 60) is the clock skew allowed.
    /// Throws a `LatchkeyError` (`weak_secret`) if the secret is shorter than 32 bytes.
    pub fn hs256(
        secret: &str,
        issuer: &str,
        audience: &str,
        #[wasm_bindgen(js_name = leewaySecs)] leeway_secs: Option<u32>,
    ) -> Result<Verifier, JsValue> {
        let secret = Secret::parse(secret.as_bytes()).map_err(|e| out::thrown(&e))?;
        let tokens = AccessTokens::new(&secret, issuer, audience);
        Ok(Verifier::with_leeway(tokens, leeway_secs))
    }

    /// A verifier for EdDSA tokens, trusting the Ed25519 keys of a JWKS document (the
    /// server's `/.well-known/jwks.json`), given as its JSON text or as the parsed object.
    ///
    /// A key keeps the `kid` the document gives it (another issuer's random ids included);
    /// a token's `kid` must match one exactly. Throws a `LatchkeyError` (`invalid_key`) if
    /// the document is malformed, names two keys alike, or holds more than 16 keys.
    #[wasm_bindgen(js_name = fromJwks)]
    pub fn from_jwks(
        #[wasm_bindgen(unchecked_param_type = "string | { keys: unknown[] }")] jwks: JsValue,
        issuer: &str,
        audience: &str,
        #[wasm_bindgen(js_name = leewaySecs)] leeway_secs: Option<u32>,
    ) -> Result<Verifier, JsValue> {
        let text = match jwks.as_string() {
            Some(text) => text,
            None => js_sys::JSON::stringify(&jwks)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| out::thrown(&Error::InvalidKey))?,
        };
        let keys = Jwks::parse(&text).map_err(|e| out::thrown(&e))?;
        let tokens = AccessTokens::eddsa(&[], keys, issuer, audience);
        Ok(Verifier::with_leeway(tokens, leeway_secs))
    }

    /// `"HS256"` or `"EdDSA"`.
    #[wasm_bindgen(getter)]
    pub fn algorithm(&self) -> String {
        self.tokens.algorithm().to_owned()
    }

    /// Verifies `token` at `now` (Unix seconds; default: the current time). Returns
    /// `{ ok: true, claims }` or `{ ok: false, error: { code, message } }`; anything that is
    /// not a string is a `malformed_token`.
    #[wasm_bindgen(unchecked_return_type = "VerifyResult")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] token: JsValue,
        now: Option<f64>,
    ) -> JsValue {
        #[derive(Serialize)]
        struct Claims {
            claims: latchkey_core::AccessClaims,
        }
        let answer = out::seconds(now).and_then(|now| {
            let token = out::opt_string(&token).ok_or(Error::MalformedToken)?;
            self.tokens.verify(&token, now)
        });
        out::result(answer.map(|claims| Claims { claims }))
    }

    /// Verifies a JWT from another issuer (the system an app is switching from, such as
    /// Better Auth's JWT plugin) at `now` (Unix seconds; default: the current time): the
    /// same header and signature rules as `verify`, but `typ` may be absent or `JWT`, and the
    /// claims come back as they are once `iss`, `aud`, `sub` and the times check out. Returns
    /// `{ ok: true, claims }` or `{ ok: false, error: { code, message } }`.
    #[wasm_bindgen(js_name = verifyJwt, unchecked_return_type = "JwtResult")]
    pub fn verify_jwt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] token: JsValue,
        now: Option<f64>,
    ) -> JsValue {
        #[derive(Serialize)]
        struct Claims {
            claims: serde_json::Map<String, serde_json::Value>,
        }
        let answer = out::seconds(now).and_then(|now| {
            let token = out::opt_string(&token).ok_or(Error::MalformedToken)?;
            self.tokens.verify_jwt(&token, now)
        });
        out::result(answer.map(|claims| {
            Claims {
                claims: claims
                    .into_iter()
                    .map(|(name, value)| (name, as_javascript_reads(value)))
                    .collect(),
            }
        }))
    }

    /// What to do with a request's access token at `now` (default: the current time):
    /// `valid` (let it through); `refresh` if it is missing, expired, or expires within
    /// `marginSecs` (`claims` is set while it is still valid); `refuse` if it is present but
    /// unacceptable — forged, malformed, for another audience — which must never be refreshed
    /// past.
    #[wasm_bindgen(unchecked_return_type = "Assessment")]
    pub fn assess(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] token: JsValue,
        #[wasm_bindgen(js_name = marginSecs)] margin_secs: f64,
        now: Option<f64>,
    ) -> JsValue {
        #[derive(Serialize)]
        #[serde(tag = "action", rename_all = "lowercase")]
        enum Action {
            Valid {
                claims: latchkey_core::AccessClaims,
            },
            Refresh {
                claims: Option<latchkey_core::AccessClaims>,
            },
            Refuse {
                error: Failure,
            },
        }
        let inputs =
            out::seconds(now).and_then(|now| Ok((now, out::whole(margin_secs, "marginSecs")?)));
        let action = match inputs {
            Err(err) => Action::Refuse {
                error: (&err).into(),
            },
            // A token that is not a string at all is refused like any malformed one.
            Ok(_) if !(token.is_string() || token.is_null() || token.is_undefined()) => {
                Action::Refuse {
                    error: (&Error::MalformedToken).into(),
                }
            }
            Ok((now, margin)) => {
                let token = out::opt_string(&token);
                match self.tokens.assess(token.as_deref(), now, margin) {
                    Assessment::Valid(claims) => Action::Valid { claims },
                    Assessment::Refresh(claims) => Action::Refresh { claims },
                    Assessment::Refuse(err) => Action::Refuse {
                        error: (&err).into(),
                    },
                }
            }
        };
        out::to_js(&action)
    }
}

impl Verifier {
    fn with_leeway(tokens: AccessTokens, leeway_secs: Option<u32>) -> Verifier {
        let leeway = leeway_secs.map_or(AccessTokens::DEFAULT_LEEWAY_SECS, i64::from);
        Verifier {
            tokens: tokens.with_leeway(leeway),
        }
    }
}

/// Reads a token's claims **without verifying anything** — for display only, never to decide
/// who someone is. Returns `{ ok: true, claims }` or `{ ok: false, error }`.
#[wasm_bindgen(js_name = decodeUnverified, unchecked_return_type = "DecodeResult")]
pub fn decode_unverified(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> JsValue {
    #[derive(Serialize)]
    struct Claims {
        claims: serde_json::Map<String, serde_json::Value>,
    }
    let answer = out::opt_string(&token)
        .ok_or(Error::MalformedToken)
        .and_then(|t| token::decode_unverified(&t));
    out::result(answer.map(|claims| Claims { claims }))
}

/// Every stable error code, in the core's order (the same list the server answers with).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    latchkey_core::error::every_variant()
        .iter()
        .map(|e| e.code().to_owned())
        .collect()
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A claim as JavaScript's `JSON.parse` reads it: an integer beyond 2^53 becomes the nearest
/// double. Another issuer may put one in a token (a numeric id, say); handed over exactly it
/// could not become a JavaScript value at all, and the result would be no result.
fn as_javascript_reads(value: serde_json::Value) -> serde_json::Value {
    use serde_json::{Number, Value};
    match value {
        Value::Number(n)
            if n.as_u64()
                .or(n.as_i64().map(i64::unsigned_abs))
                .is_some_and(|m| m > MAX_SAFE_INTEGER) =>
        {
            n.as_f64()
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(as_javascript_reads).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, as_javascript_reads(value)))
                .collect(),
        ),
        other => other,
    }
}
