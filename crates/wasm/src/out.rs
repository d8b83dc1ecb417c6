//! Turning core answers into JavaScript values without ever panicking.

use latchkey_core::Error;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// The `error` member of a failed result.
#[derive(Serialize)]
pub struct Failure {
    code: &'static str,
    message: String,
}

impl From<&Error> for Failure {
    fn from(err: &Error) -> Self {
        // Core errors never carry secrets or tokens, so the message is safe to hand out.
        Failure {
            code: err.code(),
            message: err.to_string(),
        }
    }
}

/// Any serialisable value as plain JavaScript (objects, not `Map`s; numbers, not `BigInt`s).
/// Serialising our own plain structs cannot fail; if it somehow did, `null` beats a trap.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// `{ ok: true, ...fields }`.
pub fn ok<T: Serialize>(fields: T) -> JsValue {
    #[derive(Serialize)]
    struct Ok<T> {
        ok: bool,
        #[serde(flatten)]
        fields: T,
    }
    to_js(&Ok { ok: true, fields })
}

/// `{ ok: false, error: { code, message } }`.
pub fn failed(err: &Error) -> JsValue {
    #[derive(Serialize)]
    struct Failed {
        ok: bool,
        error: Failure,
    }
    to_js(&Failed {
        ok: false,
        error: err.into(),
    })
}

/// `ok(fields)` or `failed(err)`.
pub fn result<T: Serialize>(answer: Result<T, Error>) -> JsValue {
    match answer {
        Ok(fields) => ok(fields),
        Err(err) => failed(&err),
    }
}

/// A `LatchkeyError` to throw for a configuration mistake: a JS `Error` with the core's `code`.
pub fn thrown(err: &Error) -> JsValue {
    let error = js_sys::Error::new(&err.to_string());
    error.set_name("LatchkeyError");
    // Setting a property on a fresh, extensible Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &err.code().into());
    error.into()
}

/// A string argument that JavaScript may have left out or got wrong: `None` unless a string.
pub fn opt_string(value: &JsValue) -> Option<String> {
    value.as_string()
}

/// The current time in Unix seconds, or the caller's `now` if it is a finite number.
pub fn seconds(now: Option<f64>) -> Result<i64, Error> {
    let secs = match now {
        None => js_sys::Date::now() / 1000.0,
        Some(n) => n,
    };
    whole(secs, "now")
}

/// A finite JavaScript number as whole units (`as` saturates, it never panics).
pub fn whole(n: f64, what: &str) -> Result<i64, Error> {
    if n.is_finite() {
        Ok(n.floor() as i64)
    } else {
        Err(Error::InvalidRequest(format!(
            "{what} must be a finite number"
        )))
    }
}
