//! The CSRF origin rule for cookie-authenticated requests that change state.

use latchkey_core::{Error, csrf};
use wasm_bindgen::prelude::*;

use crate::out;

/// The origins allowed to make cookie-authenticated changes (`scheme://host[:port]`).
#[wasm_bindgen]
pub struct TrustedOrigins {
    origins: csrf::TrustedOrigins,
}

#[wasm_bindgen]
impl TrustedOrigins {
    /// Parses a list of origins such as `["https://app.example.com"]`, normalised the way
    /// browsers send them. Throws a `LatchkeyError` (`invalid_request`) for anything that is
    /// not an origin (a path, a wildcard, user info, another scheme).
    pub fn parse(
        #[wasm_bindgen(unchecked_param_type = "string[]")] origins: JsValue,
    ) -> Result<TrustedOrigins, JsValue> {
        let list: Vec<String> = serde_wasm_bindgen::from_value(origins).map_err(|_| {
            out::thrown(&Error::InvalidRequest(
                "trusted origins must be an array of strings".into(),
            ))
        })?;
        let origins = csrf::TrustedOrigins::parse(list.iter().map(String::as_str))
            .map_err(|e| out::thrown(&e))?;
        Ok(TrustedOrigins { origins })
    }

    /// The normalised origins.
    #[wasm_bindgen(getter)]
    pub fn origins(&self) -> Vec<String> {
        self.origins.as_slice().to_vec()
    }

    /// Checks a cookie-authenticated request: safe methods (GET, HEAD, OPTIONS) always pass;
    /// others need an `Origin` header naming a trusted origin or, without one,
    /// `Sec-Fetch-Site: same-origin`. Returns `{ ok: true }` or `{ ok: false, error }` with
    /// code `csrf_rejected`.
    #[wasm_bindgen(unchecked_return_type = "CheckResult")]
    pub fn check(
        &self,
        method: &str,
        origin: Option<String>,
        #[wasm_bindgen(js_name = secFetchSite)] sec_fetch_site: Option<String>,
    ) -> JsValue {
        let answer = csrf::check(
            method,
            origin.as_deref(),
            sec_fetch_site.as_deref(),
            &self.origins,
        );
        out::result(answer.map(|()| serde_json::Map::new()))
    }
}

/// The origin (`scheme://host[:port]`) of a URL: path, query and fragment dropped.
#[wasm_bindgen(js_name = originOfUrl)]
pub fn origin_of_url(url: &str) -> String {
    csrf::origin_of_url(url).to_owned()
}
