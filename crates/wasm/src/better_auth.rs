//! Better Auth's session cookies, for apps moving from it: finding them in a request and
//! clearing them, as the core does (the server checks their signature, never the package).

use latchkey_core::better_auth::{DEFAULT_COOKIE_PREFIX, SessionCookies};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::out;

/// Better Auth's session cookies: `better-auth.session_token`, and
/// `__Secure-better-auth.session_token` where Better Auth ran on https.
#[wasm_bindgen]
pub struct BetterAuthCookies {
    cookies: SessionCookies,
}

#[wasm_bindgen]
impl BetterAuthCookies {
    /// The cookies under `prefix` (Better Auth's `advanced.cookiePrefix`; default
    /// `better-auth`) on `domain` (its `crossSubDomainCookies` domain; default none), for an
    /// app served over https when `secure` (default true, the safe guess: there only the
    /// `__Secure-` name is read; on http only the plain one). Throws a `LatchkeyError` (`invalid_request`) for a
    /// prefix or domain that cannot be in a cookie line.
    pub fn new(
        prefix: Option<String>,
        domain: Option<String>,
        secure: Option<bool>,
    ) -> Result<BetterAuthCookies, JsValue> {
        let prefix = prefix.as_deref().unwrap_or(DEFAULT_COOKIE_PREFIX);
        let cookies = SessionCookies::new(prefix, domain.as_deref(), secure.unwrap_or(true))
            .map_err(|e| out::thrown(&e))?;
        Ok(BetterAuthCookies { cookies })
    }

    /// The two cookie names, plain first.
    pub fn names(&self) -> Vec<String> {
        self.cookies.names().map(str::to_owned).to_vec()
    }

    /// Better Auth's session cookies in a `Cookie` header: `value`, the one to exchange (the
    /// one under the name of the app's scheme; `null` if it was not sent, or came twice with
    /// different values), and `names`, every one sent, to clear.
    #[wasm_bindgen(unchecked_return_type = "BetterAuthFound")]
    pub fn find(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] header: JsValue,
    ) -> JsValue {
        #[derive(Serialize)]
        struct Found<'a> {
            value: Option<&'a str>,
            names: Vec<&'a str>,
        }
        let header = out::opt_string(&header).unwrap_or_default();
        let found = self.cookies.find(&header);
        out::to_js(&Found {
            value: found.value,
            names: found.names,
        })
    }

    /// The `Set-Cookie` header value that deletes cookie `name` (one of `names()`), as Better
    /// Auth's own sign-out writes it. Throws a `LatchkeyError` for any other name.
    #[wasm_bindgen(js_name = clearCookie)]
    pub fn clear_cookie(&self, name: &str) -> Result<String, JsValue> {
        self.cookies.clear(name).map_err(|e| out::thrown(&e))
    }
}
