//! The caller's sessions: list them, revoke one, revoke all the others.
//!
//! Every statement is scoped by the caller's id, so another user's session id is a 404.
//! Revoking clears the session from this server's liveness cache at once.

use std::sync::Arc;

use latchkey_core::Error;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::AuthenticatedErrors;
use super::dto::{RevokedCount, SessionView};
use super::json::Json;
use super::text::{Text, Uuid};
use crate::auth::{Caller, ClientInfo};
use crate::error::Failure;
use crate::flows::{self, Ctx, ids::canonical};
use crate::state::AppState;
use crate::statuses;

statuses! {
    RevokeErrors = [401, 403, 404, 500, 503];
    RevokeOthersErrors = [401, 403, 500, 503];
}

#[derive(ApiResponse)]
pub enum SessionList {
    /// The caller's live sessions, most recently used first.
    #[oai(status = 200)]
    Ok(Json<Vec<SessionView>>),
}

#[derive(ApiResponse)]
pub enum SessionRevoked {
    /// The session is revoked; its tokens are refused from now on.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum OthersRevoked {
    /// Every other session of the caller is revoked; the current one is kept.
    #[oai(status = 200)]
    Ok(Json<RevokedCount>),
}

#[derive(Default)]
pub struct SessionsApi;

#[OpenApi(prefix_path = "/api/v1/sessions", tag = "ApiTags::Sessions")]
impl SessionsApi {
    /// List my sessions
    ///
    /// One entry per signed-in device that has not signed out, been revoked or expired. The
    /// session making the request is marked `current`. Tokens are never returned.
    #[oai(path = "/", method = "get", operation_id = "listSessions")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
    ) -> Result<SessionList, Failure<AuthenticatedErrors>> {
        let me = auth.0;
        let client = ClientInfo::of(req);
        let sessions = flows::sessions::list(&Ctx::new(&state, &client), &me.user_id).await?;
        Ok(SessionList::Ok(Json(
            sessions
                .into_iter()
                .map(|s| SessionView::new(s, &me.session_id))
                .collect(),
        )))
    }

    /// Revoke one of my sessions
    ///
    /// Signs that device out. Another user's session, or one already ended, is a 404.
    #[oai(path = "/:id", method = "delete", operation_id = "revokeSession")]
    async fn revoke(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
        id: Path<Text<Uuid>>,
    ) -> Result<SessionRevoked, Failure<RevokeErrors>> {
        let me = auth.0;
        let id = canonical(&id.0).ok_or(Error::NotFound)?;
        let client = ClientInfo::of(req);
        flows::sessions::revoke(&Ctx::new(&state, &client), &me.user_id, &id).await?;
        Ok(SessionRevoked::NoContent)
    }

    /// Revoke all my other sessions
    ///
    /// Signs out every other device; the session making the request stays signed in.
    #[oai(path = "/", method = "delete", operation_id = "revokeOtherSessions")]
    async fn revoke_others(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
    ) -> Result<OthersRevoked, Failure<RevokeOthersErrors>> {
        let me = auth.0;
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        let revoked = flows::sessions::revoke_others(&ctx, &me.user_id, &me.session_id).await?;
        Ok(OthersRevoked::Ok(Json(RevokedCount {
            revoked: i64::try_from(revoked).unwrap_or(i64::MAX),
        })))
    }
}
