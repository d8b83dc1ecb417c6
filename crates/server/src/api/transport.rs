//! Bearer or cookies: how an auth response hands over its tokens.
//!
//! API clients get the tokens in the JSON body. Browsers ask for cookies with
//! `X-Latchkey-Transport: cookie` (or refresh with the refresh cookie); then the tokens go
//! into HttpOnly cookies built by the core and are left out of the body, so no script on
//! the page can read them.

use poem::http::HeaderValue;
use poem::http::header::SET_COOKIE;
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaHeader, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum};

/// The value of the `X-Latchkey-Transport` request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Transport {
    /// Tokens in the JSON body (the default).
    Bearer,
    /// Tokens in HttpOnly cookies; the body carries no token.
    Cookie,
}

/// A response plus the `Set-Cookie` lines to send with it.
pub struct WithCookies<T> {
    pub response: T,
    pub cookies: Vec<String>,
}

impl<T> WithCookies<T> {
    pub fn new(response: T, cookies: Vec<String>) -> Self {
        WithCookies { response, cookies }
    }
}

impl<T: IntoResponse> IntoResponse for WithCookies<T> {
    fn into_response(self) -> Response {
        let mut response = self.response.into_response();
        for line in self.cookies {
            // The core only builds lines from base64url/JWT characters, so this cannot fail;
            // if it ever did, dropping the cookie beats answering with a broken header.
            if let Ok(value) = HeaderValue::from_str(&line) {
                response.headers_mut().append(SET_COOKIE, value);
            }
        }
        response
    }
}

impl<T: ApiResponse> ApiResponse for WithCookies<T> {
    fn meta() -> MetaResponses {
        let mut meta = T::meta();
        for response in &mut meta.responses {
            if response.status.is_some_and(|s| (200..300).contains(&s)) {
                response.headers.push(MetaHeader {
                    name: "Set-Cookie".into(),
                    description: Some(
                        "With cookie transport: the access and refresh cookies \
                         (`__Host-latchkey.at`, `__Host-latchkey.rt`; `latchkey.at`, \
                         `latchkey.rt` on http://localhost), HttpOnly, SameSite=Lax, Path=/. \
                         Sign-out clears both."
                            .into(),
                    ),
                    required: false,
                    deprecated: false,
                    schema: String::schema_ref(),
                });
            }
        }
        meta
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}
