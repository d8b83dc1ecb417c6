//! Changing the password while signed in.

use latchkey_core::Error;
use latchkey_store::{EventKind, SessionSwap};

use super::mailing::notice;
use super::open::new_session;
use super::reauth::{current_password, own_address_and_name};
use super::{Ctx, Opened, Result};
use crate::mail::templates::{Data as MailData, Kind};

pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub revoke_other_sessions: bool,
}

/// Checks the new password against the policy (first: a refusal must not tell whether the
/// current password was right), then the current one; sets the new hash and replaces this
/// session with a new one (ASVS 7.2.4: a copy of this session's refresh token taken before
/// the change is dead after it), ending the others unless asked not to.
pub async fn change_password(
    ctx: &Ctx<'_>,
    user_id: &str,
    session_id: &str,
    change: PasswordChange,
) -> Result<Opened> {
    let app = ctx.app;
    let (email, name) = own_address_and_name(ctx, user_id).await?;
    app.policy
        .check_for(&change.new_password, &email, name.as_deref())?;
    let login =
        current_password(ctx, user_id, session_id, &email, &change.current_password).await?;
    let user = login.user;
    let password_hash = app.hasher.hash(change.new_password).await?;
    let (session, refresh_token) = new_session(ctx, &user.id)?;
    let swap = SessionSwap {
        ends: session_id,
        opens: &session,
    };
    let data = MailData::for_user(&user);
    let mail = notice(Kind::PasswordChanged, &user.email, &data, ctx.now_ms)?;
    let event = ctx.event(EventKind::PasswordChanged, &user.id, Some(&session.id))?;
    let _forget_sessions = app.liveness.forget_user_after(&user.id);
    let revoked = app
        .store
        .credentials
        .change_password(
            &user.id,
            &password_hash,
            &swap,
            change.revoke_other_sessions,
            &mail,
            &event,
        )
        .await?
        .ok_or(Error::SessionRevoked)?;
    tracing::info!(user_id = %user.id, sessions_revoked = revoked.len(), "password changed");
    Ok(Opened {
        user,
        session_id: session.id,
        refresh_token,
        expires_at_ms: session.expires_at_ms,
    })
}
