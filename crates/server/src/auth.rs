//! Who is calling: the bearer security scheme.
//!
//! A token is trusted only after two checks: the core verifies the JWT (signature, algorithm,
//! claims, expiry against the injected clock), then the store confirms that the session it
//! names is still live, so signing out takes effect at once on this server.

use std::sync::Arc;

use latchkey_core::{AccessClaims, Error};
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub claims: AccessClaims,
}

/// `Authorization: Bearer <access token>`, as returned by register, sign-in and refresh.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or(ApiError(Error::Internal))?;
    authenticate(state, &bearer.token)
        .await
        .map_err(|e| ApiError(e).into())
}

/// Verifies `token` and checks that its session is live.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, Error> {
    let claims = state.tokens.verify(token, state.clock.now_secs())?;
    let live = state
        .store
        .session_is_live(&claims.sid, &claims.sub, state.clock.now_ms())
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "session look-up failed");
            Error::Internal
        })?;
    if !live {
        return Err(Error::SessionRevoked);
    }
    Ok(Principal {
        user_id: claims.sub.clone(),
        session_id: claims.sid.clone(),
        claims,
    })
}
