//! The auth cookies: names, exact `Set-Cookie` lines, and reading a `Cookie` header.

use latchkey_core::Error;
use latchkey_core::cookie::{CookieKind, Cookies};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out;

/// Builds and reads Latchkey's auth cookies byte for byte as the server does: on HTTPS
/// `__Host-latchkey.at` / `__Host-latchkey.rt` (HttpOnly; Secure; SameSite=Lax; Path=/), on
/// `http://localhost` the same without the prefix and `Secure`.
#[wasm_bindgen]
pub struct AuthCookies {
    cookies: Cookies,
}

#[wasm_bindgen]
impl AuthCookies {
    /// The cookies for an app served at `publicUrl`: `https://…` is secure; `http://` is
    /// allowed only for localhost, 127.0.0.1 and [::1]. Throws a `LatchkeyError`
    /// (`invalid_request`) for anything else.
    #[wasm_bindgen(js_name = forPublicUrl)]
    pub fn for_public_url(
        #[wasm_bindgen(js_name = publicUrl)] public_url: &str,
    ) -> Result<AuthCookies, JsValue> {
        let cookies = Cookies::for_public_url(public_url).map_err(|e| out::thrown(&e))?;
        Ok(AuthCookies { cookies })
    }

    /// `"secure"` or `"localhost"`.
    #[wasm_bindgen(getter, unchecked_return_type = "CookieMode")]
    pub fn mode(&self) -> String {
        if self.cookies.is_secure() {
            "secure".into()
        } else {
            "localhost".into()
        }
    }

    /// The cookie's name. Throws a `LatchkeyError` unless `kind` is `"access"` or `"refresh"`.
    pub fn name(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CookieKind")] kind: &str,
    ) -> Result<String, JsValue> {
        Ok(self.cookies.name(kind_of(kind)?).to_owned())
    }

    /// The `Set-Cookie` header value storing `value` for `maxAgeSecs` seconds, as
    /// `{ ok: true, setCookie }`. A value that is not a token (`;`, CR/LF, spaces, empty…) is
    /// refused as `{ ok: false, error }` rather than escaped, so no header can be smuggled.
    #[wasm_bindgen(js_name = setCookie, unchecked_return_type = "SetCookieResult")]
    pub fn set_cookie(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CookieKind")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "string")] value: JsValue,
        #[wasm_bindgen(js_name = maxAgeSecs)] max_age_secs: f64,
    ) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Line {
            set_cookie: String,
        }
        let kind = kind_of(kind)?;
        let answer = out::whole(max_age_secs, "maxAgeSecs").and_then(|max_age| {
            let value = out::opt_string(&value).unwrap_or_default();
            self.cookies.set(kind, &value, max_age)
        });
        Ok(out::result(answer.map(|set_cookie| Line { set_cookie })))
    }

    /// The `Set-Cookie` header value that deletes the cookie (`Max-Age=0`).
    #[wasm_bindgen(js_name = clearCookie)]
    pub fn clear_cookie(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CookieKind")] kind: &str,
    ) -> Result<String, JsValue> {
        Ok(self.cookies.clear(kind_of(kind)?))
    }

    /// Reads the cookie from a `Cookie` request header: `{ ok: true, value }` (`value` is
    /// `null` when absent), or `{ ok: false, error }` when it is malformed or sent twice with
    /// different values (a planted cookie beside ours).
    #[wasm_bindgen(unchecked_return_type = "ReadCookieResult")]
    pub fn read(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] header: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CookieKind")] kind: &str,
    ) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Value<'a> {
            value: Option<&'a str>,
        }
        let kind = kind_of(kind)?;
        let header = out::opt_string(&header).unwrap_or_default();
        let answer = self.cookies.read(&header, kind);
        Ok(out::result(answer.map(|value| Value { value })))
    }
}

fn kind_of(kind: &str) -> Result<CookieKind, JsValue> {
    match kind {
        "access" => Ok(CookieKind::Access),
        "refresh" => Ok(CookieKind::Refresh),
        _ => Err(out::thrown(&Error::InvalidRequest(
            "the cookie kind must be \"access\" or \"refresh\"".into(),
        ))),
    }
}
