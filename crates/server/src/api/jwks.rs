//! `/.well-known/jwks.json`: the public keys access tokens are signed with (EdDSA).
//!
//! With HS256 there is no public key and the set is empty: the secret is shared, never
//! published. A rotated-out key stays listed until the last token it signed has expired.

use std::sync::Arc;

use latchkey_core::keys::Jwks;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::json::Json;
use crate::state::AppState;

/// A JSON Web Key Set (RFC 7517) of Ed25519 public keys.
#[derive(Debug, Object)]
#[oai(example)]
pub struct JwkSet {
    pub keys: Vec<JwkView>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Object)]
#[oai(example)]
pub struct JwkView {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id tokens name in their header: the key's RFC 7638 thumbprint.
    pub kid: String,
    /// `EdDSA`.
    pub alg: String,
    /// `sig`.
    #[oai(rename = "use")]
    pub key_use: String,
}

#[derive(ApiResponse)]
pub enum KeySet {
    /// The keys that verify access tokens now.
    #[oai(status = 200)]
    Ok(Json<JwkSet>),
}

#[derive(Default)]
pub struct JwksApi;

#[OpenApi(tag = "ApiTags::Keys")]
impl JwksApi {
    /// Public signing keys (JWKS)
    ///
    /// Verify EdDSA access tokens with these, by the token's `kid`, without calling the
    /// server. Empty when the server signs with HS256.
    #[oai(path = "/.well-known/jwks.json", method = "get", operation_id = "jwks")]
    async fn jwks(&self, state: Data<&Arc<AppState>>) -> KeySet {
        let now = state.clock.now_secs();
        let keys = Jwks::publish(state.tokens.public_keys(now), now)
            .keys
            .into_iter()
            .map(|k| JwkView {
                kty: k.kty,
                crv: k.crv,
                x: k.x,
                kid: k.kid.unwrap_or_default(),
                alg: k.alg.unwrap_or_default(),
                key_use: k.key_use.unwrap_or_default(),
            })
            .collect();
        KeySet::Ok(Json(JwkSet { keys }))
    }
}
