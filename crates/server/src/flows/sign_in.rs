//! Signing in with an email and a password.

use latchkey_core::{Email, Error};
use latchkey_store::{EventKind, User};

use super::mailing::{enqueue_once_a_minute, verification};
use super::open::{Replacement, evict_beyond_cap, new_session};
use super::password::{Attempt, check_password};
use super::{Ctx, Held, Opened, Result};

/// Opens a session for the account whose password this is. An unknown email and a wrong
/// password are the same 401, in the same time (see [`check_password`]). A session the
/// client still held (`held`) ends in the new one's transaction; past the cap, the least
/// recently used end too.
pub async fn sign_in(
    ctx: &Ctx<'_>,
    email: &str,
    password: String,
    held: impl Future<Output = Held>,
) -> Result<Opened> {
    let result = attempt(ctx, email, password, held).await;
    ctx.app.metrics.sign_in(&result);
    result
}

async fn attempt(
    ctx: &Ctx<'_>,
    email: &str,
    password: String,
    held: impl Future<Output = Held>,
) -> Result<Opened> {
    let app = ctx.app;
    let email = Email::parse(email)?;
    let attempt = Attempt {
        email: &email,
        session_id: None,
        failed_event: EventKind::SignInFailed,
    };
    let login = check_password(ctx, &attempt, &password).await?;
    if app.hasher.needs_rehash(&login.password_hash) {
        upgrade_hash(ctx, &login.user.id, &login.password_hash, password).await;
    }
    if app.require_email_verification && !login.user.email_verified {
        return Err(refuse_unverified(ctx, &login.user).await?);
    }
    let (session, refresh_token) = new_session(ctx, &login.user.id)?;
    let event = ctx.event(EventKind::SignedIn, &login.user.id, Some(&session.id))?;
    let replaced = Replacement::of(ctx, held.await, &session.id)?;
    let _forget = replaced.as_ref().map(|r| r.forget_after(ctx));
    let replaces = replaced.as_ref().map(Replacement::as_replaced);
    app.store
        .sessions
        .create_session(&session, &event, replaces.as_ref())
        .await?;
    evict_beyond_cap(ctx, &login.user.id, &session.id).await?;
    tracing::info!(user_id = %login.user.id, session_id = %session.id, "signed in");
    Ok(Opened {
        user: login.user,
        session_id: session.id,
        refresh_token,
        expires_at_ms: session.expires_at_ms,
    })
}

/// Sign-in with the right password to an unverified account, when verification is
/// required: a fresh verification email (at most one a minute) and 403 `email_not_verified`.
async fn refuse_unverified(ctx: &Ctx<'_>, user: &User) -> Result<Error> {
    let event = ctx.event(EventKind::SignInUnverified, &user.id, None)?;
    let verify = verification(ctx, user)?;
    if enqueue_once_a_minute(ctx, verify, &event).await?.is_some() {
        // No new link (one went out within the minute), but the attempt is on record.
        ctx.app.store.events.record_event(&event).await?;
    }
    tracing::info!(user_id = %user.id, "sign-in refused: address not verified");
    Ok(Error::EmailNotVerified)
}

/// Re-hashes at the current cost: argon2id in place of a weaker one, or of a hash in
/// another format (bcrypt, scrypt) that the account brought when it moved in. Only if the
/// stored hash is still `old`, so a password changed meanwhile stays changed. Best effort:
/// the password was right, so a failed upgrade is logged and sign-in goes on (the next one
/// tries again).
async fn upgrade_hash(ctx: &Ctx<'_>, user_id: &str, old: &str, password: String) {
    let app = ctx.app;
    let result = match app.hasher.hash(password).await {
        Ok(hash) => app
            .store
            .credentials
            .upgrade_password_hash(user_id, old, &hash, ctx.now_ms)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let from = latchkey_core::hash::label(old);
    match result {
        Ok(true) => tracing::info!(%user_id, from, "password hash upgraded to argon2id"),
        Ok(false) => {
            tracing::info!(%user_id, from, "password hash not upgraded: it changed meanwhile")
        }
        Err(error) => tracing::warn!(%user_id, from, %error, "password rehash failed"),
    }
}
