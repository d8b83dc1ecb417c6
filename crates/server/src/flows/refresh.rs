//! Trading a refresh token for the session's next one, under the rotation policy: rotate,
//! resend within the grace window, or treat the token as stolen and end the session.

use latchkey_core::Error;
use latchkey_core::refresh::{self, Decision, PresentedToken, SessionState};
use latchkey_store::{EventKind, RefreshRecord, Rotation};

use super::resend::live_token;
use super::{Ctx, Opened, Result};
use crate::limiter::Limit;

/// Applies the rotation policy to a presented refresh token: the session, the refresh token
/// to hand out and the session's (new) expiry.
pub async fn refresh(ctx: &Ctx<'_>, token: &str) -> Result<Opened> {
    refresh::check_shape(token)?;
    let hash = refresh::hash(token);
    // A lost compare-and-set means another request rotated first; reading again turns this
    // request into a grace-window resend of that request's token. One re-read settles it;
    // the third try only guards against a session rotated again in between. Past that the
    // request gives up with 503 rather than loop.
    for attempt in 0..3 {
        let record = ctx
            .app
            .store
            .sessions
            .find_refresh(&hash)
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        if attempt == 0 {
            ctx.app
                .limiter
                .check(Limit::RefreshSession, &record.session_id)
                .await?;
        }
        if let Some(opened) = decide(ctx, &hash, record).await? {
            return Ok(opened);
        }
    }
    Err(Error::Unavailable)
}

/// One reading of the token's record, decided. `None` when another request rotated the
/// session between the read and the write.
async fn decide(ctx: &Ctx<'_>, hash: &str, record: RefreshRecord) -> Result<Option<Opened>> {
    let session = SessionState {
        generation: record.session_generation,
        revoked: record.revoked,
        expires_at_ms: record.expires_at,
        absolute_expires_at_ms: record.absolute_expires_at,
    };
    let presented = PresentedToken {
        generation: record.token_generation,
        spent_at_ms: record.spent_at,
    };
    match refresh::decide(&session, &presented, ctx.now_ms, &ctx.app.refresh_policy)? {
        Decision::Rotate {
            generation,
            expires_at_ms,
        } => rotate(ctx, hash, record, generation, expires_at_ms).await,
        Decision::Resend { generation } => {
            let live = live_token(ctx.app, &record, generation)
                .await?
                .ok_or(Error::InvalidRefreshToken)?;
            // Handing out a live token again is worth a line in the audit trail: a stream
            // of resends is what a token thief racing its victim looks like.
            let kind = EventKind::RefreshTokenResent;
            let event = ctx.event(kind, &record.user.id, Some(&record.session_id))?;
            ctx.app.store.events.record_event(&event).await?;
            tracing::info!(session_id = %record.session_id, generation, "live refresh token sent again (grace window)");
            Ok(Some(Opened {
                expires_at_ms: record.expires_at,
                user: record.user,
                session_id: record.session_id,
                refresh_token: live,
            }))
        }
        Decision::Revoke => {
            let kind = EventKind::RefreshTokenReused;
            ctx.end_session(&record.user.id, &record.session_id, kind)
                .await?;
            tracing::warn!(
                user_id = %record.user.id,
                session_id = %record.session_id,
                "spent refresh token presented after the grace window; session revoked"
            );
            ctx.app.metrics.refresh_reuses.inc();
            Err(Error::RefreshTokenReused)
        }
    }
}

async fn rotate(
    ctx: &Ctx<'_>,
    hash: &str,
    record: RefreshRecord,
    generation: i64,
    expires_at_ms: i64,
) -> Result<Option<Opened>> {
    let key = &ctx.app.refresh_key;
    let next = key.token(&record.session_id, &record.refresh_seed, generation);
    let rotation = Rotation {
        session_id: record.session_id.clone(),
        from_generation: record.session_generation,
        presented_hash: hash.to_owned(),
        next_hash: refresh::hash(&next),
        now_ms: ctx.now_ms,
        expires_at_ms,
    };
    if !ctx.app.store.sessions.rotate_refresh(&rotation).await? {
        return Ok(None);
    }
    ctx.app.metrics.refresh_rotations.inc();
    tracing::debug!(session_id = %record.session_id, generation, "refresh token rotated");
    Ok(Some(Opened {
        user: record.user,
        session_id: record.session_id,
        refresh_token: next,
        expires_at_ms,
    }))
}
