//! The caller's sessions: list them, revoke one, revoke all the others.
//!
//! Every statement is scoped by the caller's id, so another user's session id is a 404.
//! Revoking clears the session from this server's liveness cache at once.

use latchkey_store::EventKind;
use std::sync::Arc;

use latchkey_core::Error;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::{AuthenticatedErrors, event};
use super::dto::{RevokedCount, SessionView};
use super::ids::canonical;
use crate::auth::{Caller, ClientInfo};
use crate::error::Failure;
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
        auth: Caller,
    ) -> Result<SessionList, Failure<AuthenticatedErrors>> {
        let me = auth.0;
        let sessions = state
            .store
            .sessions
            .list_sessions(&me.user_id, state.clock.now_ms())
            .await?;
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
        id: Path<String>,
    ) -> Result<SessionRevoked, Failure<RevokeErrors>> {
        let me = auth.0;
        let id = canonical(&id.0).ok_or(Error::NotFound)?;
        let now_ms = state.clock.now_ms();
        let event = event(
            EventKind::SessionRevoked,
            &me.user_id,
            Some(&id),
            &ClientInfo::of(req),
            now_ms,
        )?;
        let _forget = state.liveness.forget_after(&id);
        if !state
            .store
            .sessions
            .revoke_session(&id, &me.user_id, now_ms, &event)
            .await?
        {
            return Err(Error::NotFound.into());
        }
        tracing::info!(user_id = %me.user_id, session_id = %id, "session revoked");
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
        let now_ms = state.clock.now_ms();
        let event = event(
            EventKind::OtherSessionsRevoked,
            &me.user_id,
            Some(&me.session_id),
            &ClientInfo::of(req),
            now_ms,
        )?;
        let _forget = state.liveness.forget_user_after(&me.user_id);
        let revoked = state
            .store
            .sessions
            .revoke_other_sessions(&me.user_id, Some(&me.session_id), now_ms, &event)
            .await?;
        tracing::info!(user_id = %me.user_id, count = revoked.len(), "other sessions revoked");
        Ok(OthersRevoked::Ok(Json(RevokedCount {
            revoked: i64::try_from(revoked.len()).unwrap_or(i64::MAX),
        })))
    }
}
