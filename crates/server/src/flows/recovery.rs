//! Recovery by email: asking for a reset link, setting a new password with one.
//!
//! Every link is a one-time token (see `latchkey_core::onetime`): 256 bits, kept only as a
//! hash, bound to its purpose, and spent by one compare-and-set in the same transaction as
//! the change it authorises, so two uses of one link give exactly one success. A wrong, used
//! or expired token always gets the same 400 `invalid_or_expired_token`.

use latchkey_core::onetime::{self, Purpose};
use latchkey_core::{Email, Error};
use latchkey_store::{Consume, EventKind, OneTimeRecord};

use super::mailing::{enqueue_once_a_minute, notice, recipient_refusal, with_link};
use super::{Ctx, Result};
use crate::mail::templates::{Data as MailData, Kind};

/// The work behind forgot-password, done after the answer has gone: a reset link to the
/// address if it has an account, within the address's limits and at most one a minute.
/// Silent either way, so nothing here tells whether the address is known.
pub async fn send_reset_link(ctx: &Ctx<'_>, email: &Email) -> Result<()> {
    if recipient_refusal(ctx, &email.key()).await?.is_some() {
        tracing::info!("password reset not sent: the address's limit is reached");
        return Ok(());
    }
    let found = ctx.app.store.credentials.find_login(&email.key()).await?;
    let Some(login) = found else {
        tracing::info!("password reset asked for an address with no account");
        return Ok(());
    };
    let user = &login.user;
    let link = with_link(
        ctx,
        Kind::ResetPassword,
        Purpose::ResetPassword,
        user,
        &user.email,
    );
    let outgoing = link?;
    let event = ctx.event(EventKind::PasswordResetRequested, &user.id, None)?;
    match enqueue_once_a_minute(ctx, outgoing, &event).await? {
        None => tracing::info!(user_id = %user.id, "password reset link queued"),
        Some(_) => {
            tracing::info!(user_id = %user.id, "password reset link not sent: one went out less than a minute ago")
        }
    }
    Ok(())
}

/// Sets a new password with a reset link's token: the policy first (a refusal leaves the
/// link usable), then, in one transaction, the new hash, the address verified (the link
/// reached it), every session revoked and a notice queued.
pub async fn reset_password(ctx: &Ctx<'_>, token: &str, new_password: String) -> Result<()> {
    let app = ctx.app;
    let (record, consume) = usable(ctx, token, Purpose::ResetPassword).await?;
    let user = &record.user;
    let email = stored_email(&user.email)?;
    app.policy
        .check_for(&new_password, &email, user.name.as_deref())?;
    let password_hash = app.hasher.hash(new_password).await?;
    // The link is spent at the time of the write: it may have expired during the hash.
    let ctx = &ctx.resumed();
    let consume = Consume {
        now_ms: ctx.now_ms,
        ..consume
    };
    let data = MailData::for_user(user);
    let mail = notice(Kind::PasswordChanged, &user.email, &data, ctx.now_ms)?;
    let event = ctx.event(EventKind::PasswordReset, &user.id, None)?;
    let _forget = app.profiles.forget_after(&user.id);
    let _forget_sessions = app.liveness.forget_user_after(&user.id);
    let revoked = app
        .store
        .one_time
        .reset_password(&consume, &password_hash, &mail, &event)
        .await?
        .ok_or(Error::InvalidOrExpiredToken)?;
    tracing::info!(user_id = %user.id, sessions_revoked = revoked.len(), "password reset");
    Ok(())
}

/// The record of a presented token if it is well-formed, unused, unexpired and for
/// `purpose`, and the compare-and-set that will spend it. Anything else is the one answer,
/// `invalid_or_expired_token`.
pub async fn usable(
    ctx: &Ctx<'_>,
    token: &str,
    purpose: Purpose,
) -> Result<(OneTimeRecord, Consume)> {
    onetime::check_shape(token)?;
    let token_hash = onetime::hash(token);
    let record = ctx
        .app
        .store
        .one_time
        .find_one_time(&token_hash, purpose, ctx.now_ms)
        .await?
        .ok_or(Error::InvalidOrExpiredToken)?;
    let consume = Consume {
        token_hash,
        purpose,
        user_id: record.user.id.clone(),
        now_ms: ctx.now_ms,
    };
    Ok((record, consume))
}

/// An address read back from the store; it was validated on the way in.
pub fn stored_email(address: &str) -> Result<Email> {
    Email::parse(address).map_err(|_| {
        tracing::error!("a stored email address no longer parses");
        Error::Internal
    })
}
