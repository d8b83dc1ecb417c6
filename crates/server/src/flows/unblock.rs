//! The way out of a sign-in block: the single-use link emailed to the owner when the block
//! began (see [`super::password::HARD_BLOCK`]). It ends the failure streak and nothing else:
//! the password is still needed, so the link is worth nothing to whoever is guessing.

use latchkey_core::Error;
use latchkey_core::onetime::Purpose;
use latchkey_store::EventKind;

use super::recovery::usable;
use super::{Ctx, Result};
use crate::limiter::{self, Limit};

/// Spends an unblock link. Counted first against the client address's recovery limit and
/// taken back on success: what the limit counts is wrong tokens.
pub async fn unblock(ctx: &Ctx<'_>, token: &str) -> Result<()> {
    let limiter = &ctx.app.limiter;
    let (verdict, hit) = limiter
        .count(Limit::RecoveryIp, &ctx.client.bucket())
        .await?;
    if !verdict.allowed {
        limiter.refund(hit).await;
        return Err(limiter::refused(&verdict));
    }
    let (record, consume) = usable(ctx, token, Purpose::UnblockSignIn).await?;
    let event = ctx.event(EventKind::SignInUnblocked, &record.user.id, None)?;
    let user = ctx
        .app
        .store
        .one_time
        .unblock(&consume, &event)
        .await?
        .ok_or(Error::InvalidOrExpiredToken)?;
    limiter.refund(hit).await;
    tracing::info!(user_id = %user.id, "sign-in unblocked by the emailed link");
    Ok(())
}
