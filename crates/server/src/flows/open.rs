//! Opening a session, and what opening one ends: the session the client already held
//! (re-authentication never leaves the old one live on the server, ASVS 7.2.4; sign-in ends
//! it in the new session's own transaction), and the user's least recently used sessions
//! beyond the cap (every sign-in adds a session, a refresh token and an event; without a
//! cap, a script signing in forever grows them without end).

use latchkey_core::{random, refresh};
use latchkey_store::{EventKind, NewEvent, NewSession, Replaced};

use super::{Ctx, Held, Result, ids::new_id};
use crate::liveness::ForgetAfter;

/// A new session for `user_id` with its seed, and the session's first refresh token.
pub fn new_session(ctx: &Ctx<'_>, user_id: &str) -> Result<(NewSession, String)> {
    let app = ctx.app;
    let id = new_id()?;
    let seed = refresh::seed_from(random::bytes::<32>()?);
    let token = app.refresh_key.token(&id, &seed, 0);
    let absolute_expires_at_ms = ctx.now_ms.saturating_add(app.refresh_policy.absolute_ms);
    let session = NewSession {
        refresh_hash: refresh::hash(&token),
        id,
        user_id: user_id.to_owned(),
        now_ms: ctx.now_ms,
        expires_at_ms: app
            .refresh_policy
            .expiry(ctx.now_ms, absolute_expires_at_ms),
        absolute_expires_at_ms,
        refresh_seed: seed,
        user_agent: ctx.client.user_agent.clone(),
        ip: ctx.client.ip.clone(),
    };
    Ok((session, token))
}

/// The end of the session a client held when it signed in again: the session (possibly
/// another user's) and the security event its end records.
pub struct Replacement {
    user_id: String,
    session_id: String,
    event: NewEvent,
}

impl Replacement {
    /// The replacement of `held` by the session `opened`, if the client held another one.
    pub fn of(ctx: &Ctx<'_>, held: Held, opened: &str) -> Result<Option<Replacement>> {
        let Some((user_id, session_id)) = held.filter(|(_, id)| id != opened) else {
            return Ok(None);
        };
        let event = ctx.event(EventKind::SessionReplaced, &user_id, Some(&session_id))?;
        Ok(Some(Replacement {
            user_id,
            session_id,
            event,
        }))
    }

    /// As the store takes it, to end the session in the new one's transaction.
    pub fn as_replaced(&self) -> Replaced<'_> {
        Replaced {
            user_id: &self.user_id,
            session_id: &self.session_id,
            event: &self.event,
        }
    }

    /// Forgets the replaced session in the live-session cache when the guard drops (see
    /// [`crate::liveness::LivenessCache::forget_after`]).
    pub fn forget_after<'a>(&self, ctx: &Ctx<'a>) -> ForgetAfter<'a> {
        ctx.app.liveness.forget_after(&self.session_id)
    }

    /// Ends the replaced session on its own (when the new one was written without it).
    pub async fn end(self, ctx: &Ctx<'_>) -> Result<()> {
        ctx.end_session(&self.user_id, &self.session_id, EventKind::SessionReplaced)
            .await?;
        Ok(())
    }
}

/// Past the cap of live sessions per user, ends the least recently used (never `opened`,
/// the one just made), each as a security event.
pub async fn evict_beyond_cap(ctx: &Ctx<'_>, user_id: &str, opened: &str) -> Result<()> {
    let app = ctx.app;
    let live = app
        .store
        .sessions
        .list_sessions(user_id, ctx.now_ms)
        .await?;
    if live.len() <= app.max_sessions {
        return Ok(());
    }
    // Newest use first; the session just opened stays whatever the order of equal times.
    let evicted = live
        .iter()
        .filter(|s| s.id != opened)
        .skip(app.max_sessions.saturating_sub(1));
    for session in evicted {
        ctx.end_session(user_id, &session.id, EventKind::SessionEvicted)
            .await?;
    }
    Ok(())
}
