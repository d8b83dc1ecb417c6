//! Proving the account's address: following the emailed link, or asking for another.

use latchkey_core::Error;
use latchkey_core::onetime::Purpose;
use latchkey_store::{EventKind, User};

use super::mailing::{enqueue_once_a_minute, verification};
use super::profile::signed_in_user;
use super::recovery::{stored_email, usable};
use super::{Ctx, Result};
use crate::limiter::Limit;

/// Spends a verification link and marks the address it was sent to as verified.
pub async fn verify_email(ctx: &Ctx<'_>, token: &str) -> Result<User> {
    let (record, consume) = usable(ctx, token, Purpose::VerifyEmail).await?;
    let event = ctx.event(EventKind::EmailVerified, &record.user.id, None)?;
    let _forget = ctx.app.profiles.forget_after(&record.user.id);
    let user = ctx
        .app
        .store
        .one_time
        .verify_email(&consume, &event)
        .await?
        .ok_or(Error::InvalidOrExpiredToken)?;
    tracing::info!(user_id = %user.id, "email verified");
    Ok(user)
}

/// Sends the signed-in user's verification email again: 409 `email_already_verified` when
/// there is nothing to verify; within the client's and the address's recovery limits, and
/// at most one a minute (429 with the wait).
pub async fn resend(ctx: &Ctx<'_>, user_id: &str, session_id: &str) -> Result<()> {
    let app = ctx.app;
    let user = signed_in_user(ctx, user_id).await?;
    if user.email_verified {
        return Err(Error::EmailAlreadyVerified);
    }
    app.limiter
        .check(Limit::RecoveryIp, &ctx.client.bucket())
        .await?;
    let key = stored_email(&user.email)?.key();
    for limit in [Limit::RecoveryAddress, Limit::RecoveryAddressHourly] {
        app.limiter.check(limit, &key).await?;
    }
    let outgoing = verification(ctx, &user)?;
    let event = ctx.event(EventKind::VerificationEmailSent, &user.id, Some(session_id))?;
    if let Some(retry_after_secs) = enqueue_once_a_minute(ctx, outgoing, &event).await? {
        return Err(Error::RateLimited {
            retry_after_secs,
            limit: 1,
        });
    }
    Ok(())
}
