//! The signed-in user's sessions: signing this one out, listing them, ending one or all the
//! others.

use latchkey_core::Error;
use latchkey_store::{EventKind, SessionInfo};

use super::{Ctx, Result};

/// Ends the caller's own session.
pub async fn sign_out(ctx: &Ctx<'_>, user_id: &str, session_id: &str) -> Result<()> {
    ctx.end_session(user_id, session_id, EventKind::SignedOut)
        .await?;
    tracing::info!(%user_id, %session_id, "signed out");
    Ok(())
}

/// The user's live sessions, most recently used first.
pub async fn list(ctx: &Ctx<'_>, user_id: &str) -> Result<Vec<SessionInfo>> {
    Ok(ctx
        .app
        .store
        .sessions
        .list_sessions(user_id, ctx.now_ms)
        .await?)
}

/// Ends one of the user's sessions; 404 `not_found` for another user's, or one already
/// ended.
pub async fn revoke(ctx: &Ctx<'_>, user_id: &str, session_id: &str) -> Result<()> {
    if !ctx
        .end_session(user_id, session_id, EventKind::SessionRevoked)
        .await?
    {
        return Err(Error::NotFound);
    }
    tracing::info!(%user_id, %session_id, "session revoked");
    Ok(())
}

/// Ends every session of the user but `keep`; how many ended.
pub async fn revoke_others(ctx: &Ctx<'_>, user_id: &str, keep: &str) -> Result<usize> {
    let event = ctx.event(EventKind::OtherSessionsRevoked, user_id, Some(keep))?;
    let _forget = ctx.app.liveness.forget_user_after(user_id);
    let revoked = ctx
        .app
        .store
        .sessions
        .revoke_other_sessions(user_id, Some(keep), ctx.now_ms, &event)
        .await?;
    tracing::info!(%user_id, count = revoked.len(), "other sessions revoked");
    Ok(revoked.len())
}
