//! The signed-in user's profile: reading it (through a short-lived cache) and changing the
//! name and picture.

use latchkey_core::Error;
use latchkey_store::{EventKind, ProfilePatch, User};

use super::{Ctx, Result};

/// The user, from the profile cache when it has them.
pub async fn me(ctx: &Ctx<'_>, user_id: &str) -> Result<User> {
    let profiles = &ctx.app.profiles;
    if let Some(user) = profiles.get(user_id, ctx.now_ms) {
        return Ok(user);
    }
    let ticket = profiles.ticket();
    let user = signed_in_user(ctx, user_id).await?;
    profiles.put(ticket, &user, ctx.now_ms);
    Ok(user)
}

/// The signed-in user, read from the store. A live session whose user is gone cannot
/// happen (ON DELETE CASCADE); it is treated as a revoked session rather than a server
/// error all the same.
pub async fn signed_in_user(ctx: &Ctx<'_>, user_id: &str) -> Result<User> {
    let found = ctx.app.store.accounts.find_user(user_id).await?;
    found.ok_or(Error::SessionRevoked)
}

/// Applies a (validated) profile patch.
pub async fn update(
    ctx: &Ctx<'_>,
    user_id: &str,
    session_id: &str,
    patch: &ProfilePatch,
) -> Result<User> {
    let event = ctx.event(EventKind::ProfileUpdated, user_id, Some(session_id))?;
    let _forget = ctx.app.profiles.forget_after(user_id);
    ctx.app
        .store
        .accounts
        .update_profile(user_id, patch, ctx.now_ms, &event)
        .await?
        .ok_or(Error::SessionRevoked)
}
