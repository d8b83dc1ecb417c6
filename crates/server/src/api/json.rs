//! JSON bodies under the plain media type `application/json`.
//!
//! poem-openapi's own `Json` names its media type `application/json; charset=utf-8` in the
//! contract. JSON has no charset parameter (RFC 8259 §11), and generators that pick JSON
//! bodies by the exact key `application/json` saw none. This payload is poem-openapi's with
//! the plain name; parsing and the answer's `Content-Type` header are poem-openapi's, so
//! nothing on the wire changes.

use poem::{IntoResponse, Request, RequestBody, Response, Result};
use poem_openapi::payload::{self, ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use poem_openapi::{ApiResponse, impl_apirequest_for_payload};

/// The media type every body of the contract is listed under.
pub const MEDIA_TYPE: &str = "application/json";

/// A JSON request or response body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = MEDIA_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        payload::Json::<T>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for Json<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        let parsed = payload::Json::<T>::from_request(request, body).await?;
        Ok(Json(parsed.0))
    }
}

impl<T: ToJSON> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        payload::Json(self.0).into_response()
    }
}

impl<T: ToJSON> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: MEDIA_TYPE,
                    schema: T::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl_apirequest_for_payload!(Json<T>, T: ParseFromJSON);
