//! Changing the account's address: asked for while signed in (with the current password),
//! done only when a link sent to the new address is followed; the old address is told.

use latchkey_core::onetime::Purpose;
use latchkey_core::{Email, Error};
use latchkey_store::{EventKind, StoreError, User};

use super::mailing::{notice, recipient_refusal, with_link};
use super::reauth::{current_password, own_address_and_name};
use super::recovery::{stored_email, usable};
use super::{Ctx, Result};
use crate::limiter::Limit;
use crate::mail::templates::{Data as MailData, Kind};

pub struct EmailChange {
    pub new_email: String,
    pub password: String,
    pub revoke_other_sessions: bool,
}

/// Sends a confirmation link to the new address. The outcome is the same whether or not
/// the address already has an account (and then nothing is sent), in content and in time.
pub async fn request(
    ctx: &Ctx<'_>,
    user_id: &str,
    session_id: &str,
    change: EmailChange,
) -> Result<()> {
    let app = ctx.app;
    let new_email = Email::parse(&change.new_email)?;
    let (email, _) = own_address_and_name(ctx, user_id).await?;
    let login = current_password(ctx, user_id, session_id, &email, &change.password).await?;
    let user = &login.user;
    if new_email.key() == email.key() {
        return Err(Error::InvalidRequest(
            "that is already the account's address".into(),
        ));
    }
    // Each request mails an address nobody has proven yet: a cap per account a day, and
    // the per-recipient limits recovery mail has. Both are counted whether or not the
    // address is taken, so a 429 does not tell that either.
    app.limiter
        .check(Limit::EmailChangeAccount, &user.id)
        .await?;
    if let Some(refusal) = recipient_refusal(ctx, &new_email.key()).await? {
        return Err(refusal);
    }
    let taken = app.store.credentials.find_login(&new_email.key()).await?;
    if taken.is_some() {
        // One transaction either way, so the time does not tell the address is in use.
        let kind = EventKind::EmailChangeToTakenAddress;
        let event = ctx.event(kind, &user.id, Some(session_id))?;
        app.store.outbox.enqueue(&[], Some(&event)).await?;
        tracing::info!(user_id = %user.id, "email change to an address in use; nothing sent");
        return Ok(());
    }
    let (kind, purpose) = (Kind::ConfirmEmailChange, Purpose::ChangeEmail);
    let mut outgoing = with_link(ctx, kind, purpose, user, new_email.as_str())?;
    if let Some(token) = outgoing.token.as_mut() {
        token.keep_session = change.revoke_other_sessions.then(|| session_id.to_owned());
    }
    let event = ctx.event(EventKind::EmailChangeRequested, &user.id, Some(session_id))?;
    app.store.outbox.enqueue(&[outgoing], Some(&event)).await?;
    Ok(())
}

/// Follows the link: the account switches to the new (now verified) address and the old
/// one is told. 409 `email_taken` if another account took the address meanwhile (nothing
/// changes, the link stays usable).
pub async fn confirm(ctx: &Ctx<'_>, token: &str) -> Result<User> {
    let app = ctx.app;
    let (record, consume) = usable(ctx, token, Purpose::ChangeEmail).await?;
    let new_email = stored_email(&record.email)?;
    let old = &record.user;
    let data = MailData {
        new_email: Some(new_email.to_string()),
        ..MailData::for_user(old)
    };
    let mail = notice(Kind::EmailChanged, &old.email, &data, ctx.now_ms)?;
    let event = ctx.event(EventKind::EmailChanged, &old.id, None)?;
    let _forget = app.profiles.forget_after(&old.id);
    let _forget_sessions = app.liveness.forget_user_after(&old.id);
    let changed = app
        .store
        .one_time
        .change_email(
            &consume,
            new_email.as_str(),
            &new_email.key(),
            &mail,
            &event,
        )
        .await;
    let user = match changed {
        Err(StoreError::Conflict) => return Err(Error::EmailTaken),
        other => other?.ok_or(Error::InvalidOrExpiredToken)?,
    };
    tracing::info!(user_id = %user.id, "email address changed");
    Ok(user)
}
