//! Signing in with a session imported from the auth system a team moved from: a browser
//! still holding Better Auth's signed session cookie trades it, once, for a Latchkey
//! session, so nobody mid-visit is sent to a sign-in page by the switch.
//!
//! The cookie is checked as Better Auth checks it (`latchkey_core::better_auth`), its token
//! looked up by hash among the imported sessions, and the row spent in the transaction that
//! opens the new session. Forged, tampered, expired, unknown and already exchanged are one
//! answer, 401 `invalid_imported_session`: which of them it was would only help a guesser.

use latchkey_core::{Error, better_auth};
use latchkey_store::{EventKind, Exchange};

use super::open::{Replacement, evict_beyond_cap, new_session};
use super::{Ctx, Held, Opened, Result};
use crate::limiter::Limit;

/// Opens a Latchkey session for the Better Auth session whose signed cookie value this is
/// (as the browser sent it). The new session ends when the old one would have, unless
/// refreshed; each refresh then slides it as for any session, within Latchkey's absolute
/// lifetime counted from now. A session the client held (`held`) ends in the new one's
/// transaction; past the cap, the least recently used end too.
pub async fn better_auth(
    ctx: &Ctx<'_>,
    cookie_value: &str,
    held: impl Future<Output = Held>,
) -> Result<Opened> {
    let app = ctx.app;
    let secret = app
        .better_auth_secret
        .as_ref()
        .ok_or(Error::ExchangeNotConfigured)?;
    // Every attempt counts, before any work: each checks a secret.
    app.limiter
        .check(Limit::ExchangeIp, &ctx.client.bucket())
        .await?;
    let refused = |why: &str| {
        tracing::info!(reason = why, "imported session refused");
        Error::InvalidImportedSession
    };
    let token = better_auth::signed_session_token(cookie_value, secret.expose().as_bytes())
        .map_err(|_| refused("signature"))?;
    let token_hash = better_auth::session_token_hash(&token);
    let source = better_auth::SOURCE;
    let found = app
        .store
        .imported_sessions
        .find_imported_session(&token_hash, source, ctx.now_ms)
        .await?
        .ok_or_else(|| refused("unknown, expired or exchanged"))?;
    let user = found.user;
    // As sign-in: an operator who requires verified addresses gets no session for an
    // unverified one, whichever way it was opened. The row stays for after verification.
    if app.require_email_verification && !user.email_verified {
        tracing::info!(user_id = %user.id, "imported session refused: address not verified");
        return Err(Error::EmailNotVerified);
    }
    let (mut session, refresh_token) = new_session(ctx, &user.id)?;
    session.expires_at_ms = found.expires_at_ms.min(session.absolute_expires_at_ms);
    let event = ctx.event(EventKind::SessionExchanged, &user.id, Some(&session.id))?;
    let replaced = Replacement::of(ctx, held.await, &session.id)?;
    let _forget = replaced.as_ref().map(|r| r.forget_after(ctx));
    let replaces = replaced.as_ref().map(Replacement::as_replaced);
    let exchange = Exchange {
        token_hash: &token_hash,
        source,
    };
    let exchanged = app
        .store
        .imported_sessions
        .exchange_imported_session(&exchange, &session, &event, replaces.as_ref())
        .await?;
    if !exchanged {
        // Spent, expired or deleted between the look-up and the write.
        return Err(refused("spent meanwhile"));
    }
    evict_beyond_cap(ctx, &user.id, &session.id).await?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "imported session exchanged");
    Ok(Opened {
        user,
        session_id: session.id,
        refresh_token,
        expires_at_ms: session.expires_at_ms,
    })
}
