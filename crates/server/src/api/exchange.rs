//! Exchanging a session imported from the auth system a team moved from (Better Auth) for
//! a Latchkey session. The Next.js bridge calls it when a request carries Better Auth's
//! session cookie and no Latchkey session; it answers as sign-in does.

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::{respond, wants_cookies};
use super::dto::{AuthSession, ExchangeRequest};
use super::held::held_session;
use super::json::Json;
use super::transport::{Transport, WithCookies};
use crate::auth::ClientInfo;
use crate::error::Failure;
use crate::flows::{self, Ctx};
use crate::state::AppState;
use crate::statuses;

statuses! {
    ExchangeErrors = [400, 401, 403, 404, 413, 415, 429, 500, 503];
}

#[derive(ApiResponse)]
pub enum Exchanged {
    /// Signed in: the imported session is spent, and a Latchkey session opened in its place.
    #[oai(status = 200)]
    Ok(Json<AuthSession>),
}

#[derive(Default)]
pub struct ExchangeApi;

#[OpenApi(prefix_path = "/api/v1/auth/exchange", tag = "ApiTags::Auth")]
impl ExchangeApi {
    /// Exchange a Better Auth session
    ///
    /// For users moving from Better Auth (`latchkey import better-auth --sessions`): trades
    /// the signed value of Better Auth's session cookie, checked under
    /// `LATCHKEY_BETTER_AUTH_SECRET` exactly as Better Auth checks it, for a Latchkey session
    /// of the same user that ends when the Better Auth session would have (each refresh
    /// then slides it as usual). Once only: the imported session is spent. A forged,
    /// tampered, expired, unknown or already exchanged cookie is 401
    /// `invalid_imported_session`; without `LATCHKEY_BETTER_AUTH_SECRET` the answer is 404
    /// `exchange_not_configured`. Every attempt counts toward `exchange_ip` (10 a minute per
    /// client address). Tokens come as for sign-in: in the body, or as cookies with
    /// `X-Latchkey-Transport: cookie`; a session the request still held ends.
    #[oai(
        path = "/better-auth",
        method = "post",
        operation_id = "exchangeBetterAuthSession"
    )]
    async fn better_auth(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// `cookie` to receive the tokens as HttpOnly cookies rather than in the body.
        #[oai(name = "X-Latchkey-Transport")]
        transport: Header<Option<Transport>>,
        body: Json<ExchangeRequest>,
    ) -> Result<WithCookies<Exchanged>, Failure<ExchangeErrors>> {
        let cookies = wants_cookies(&state, req, transport.0)?;
        let held = held_session(&state, req);
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        let opened = flows::exchange::better_auth(&ctx, &body.0.cookie, held).await?;
        let (body, set) = respond(&ctx, opened, cookies)?;
        Ok(WithCookies::new(Exchanged::Ok(Json(body)), set))
    }
}
