//! The sign-in block and its way out.
//!
//! After `HARD_BLOCK` (100) failed sign-ins in a row an address is blocked: no password is even
//! checked until the block ends. Anyone can cause that for any address in about five hours
//! (the backoff spaces the guesses), so the block must not cost the owner their account: the
//! failure that crosses the threshold writes, in its own transaction, an email to the owner
//! with a single-use link (a one-time token of its own purpose, kept only as a hash) to
//! `/unblock#token=…`, whose page posts it to `POST /api/v1/auth/unblock`. That ends the
//! streak and nothing else: the password is still needed, so the link is worth nothing to
//! whoever is guessing. A password reset lifts the block too. Unknown addresses are blocked
//! the same way and get no email (nobody to send it to).

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::dto::TokenRequest;
use super::json::Json;
use crate::auth::ClientInfo;
use crate::error::Failure;
use crate::flows::{Ctx, unblock};
use crate::state::AppState;
use crate::statuses;

statuses! {
    UnblockErrors = [400, 413, 415, 429, 500, 503];
}

#[derive(ApiResponse)]
pub enum Unblocked {
    /// The failure streak is over: sign-in with the right password works again.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Default)]
pub struct UnblockApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl UnblockApi {
    /// Lift a sign-in block with the emailed link's token
    ///
    /// After 100 failed sign-ins in a row the address is blocked and its owner is emailed a
    /// link to `/unblock#token=…`; posting that token here ends the streak (single use,
    /// valid 24 hours). A wrong, used or expired token is 400 `invalid_or_expired_token`,
    /// and counts toward the client address's `recovery_ip` limit.
    #[oai(path = "/unblock", method = "post", operation_id = "unblockSignIn")]
    async fn unblock(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<TokenRequest>,
    ) -> Result<Unblocked, Failure<UnblockErrors>> {
        let client = ClientInfo::of(req);
        unblock::unblock(&Ctx::new(&state, &client), &body.0.token).await?;
        Ok(Unblocked::NoContent)
    }
}
