//! Opening a session, and what opening one ends: the session the client already held
//! (re-authentication never leaves the old one live on the server, ASVS 7.2.4; sign-in ends
//! it in the new session's own transaction), and the user's least recently used sessions
//! beyond the cap (every sign-in adds a session, a
//! refresh token and an event; without a cap, a script signing in forever grows them without
//! end).

use latchkey_core::cookie::CookieKind;
use latchkey_core::{Error, random, refresh};
use latchkey_store::EventKind;
use latchkey_store::{NewEvent, NewSession, Replaced};
use poem::Request;

use super::auth::event;
use super::ids::new_id;
use crate::auth::{ClientInfo, authenticate_request, check_csrf, cookie_header};
use crate::error::Failure;
use crate::liveness::ForgetAfter;
use crate::state::AppState;

/// A new session with its seed, and the session's first refresh token.
pub fn new_session(
    state: &AppState,
    user_id: &str,
    now_ms: i64,
    client: &ClientInfo,
) -> Result<(NewSession, String), Error> {
    let id = new_id()?;
    let seed = refresh::seed_from(random::bytes::<32>()?);
    let token = state.refresh_key.token(&id, &seed, 0);
    let absolute_expires_at_ms = now_ms.saturating_add(state.refresh_policy.absolute_ms);
    let session = NewSession {
        refresh_hash: refresh::hash(&token),
        id,
        user_id: user_id.to_owned(),
        now_ms,
        expires_at_ms: state.refresh_policy.expiry(now_ms, absolute_expires_at_ms),
        absolute_expires_at_ms,
        refresh_seed: seed,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    };
    Ok((session, token))
}

/// The (user, session) a request still holds: its access token (bearer or cookie), or else
/// its live refresh cookie. Anything that does not verify names nothing.
pub async fn held_session(state: &AppState, req: &Request) -> Option<(String, String)> {
    match authenticate_request(state, req).await {
        Ok(principal) => Some((principal.user_id, principal.session_id)),
        Err(_) => session_of_refresh_cookie::<()>(state, req)
            .await
            .ok()
            .flatten(),
    }
}

/// The (user, session) of a live, unspent refresh cookie, if the request carries one. The
/// cookie is a credential sent by the browser on its own, so the origin rule applies.
pub async fn session_of_refresh_cookie<S>(
    state: &AppState,
    req: &Request,
) -> Result<Option<(String, String)>, Failure<S>> {
    let header = cookie_header(req);
    let Ok(Some(token)) = state.cookies.read(&header, CookieKind::Refresh) else {
        return Ok(None);
    };
    check_csrf(state, req)?;
    if refresh::check_shape(token).is_err() {
        return Ok(None);
    }
    let record = state
        .store
        .sessions
        .find_refresh(&refresh::hash(token))
        .await?;
    Ok(record
        .filter(|r| !r.revoked && r.spent_at.is_none())
        .map(|r| (r.user.id, r.session_id)))
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
    pub fn of(
        held: Option<(String, String)>,
        opened: &str,
        client: &ClientInfo,
        now_ms: i64,
    ) -> Result<Option<Replacement>, Error> {
        let Some((user_id, session_id)) = held.filter(|(_, id)| id != opened) else {
            return Ok(None);
        };
        let event = event(
            EventKind::SessionReplaced,
            &user_id,
            Some(&session_id),
            client,
            now_ms,
        )?;
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
    pub fn forget_after<'a>(&self, state: &'a AppState) -> ForgetAfter<'a> {
        state.liveness.forget_after(&self.session_id)
    }

    /// Ends the replaced session on its own (when the new one was written without it).
    pub async fn end<S>(self, state: &AppState) -> Result<(), Failure<S>> {
        let _forget = self.forget_after(state);
        let now_ms = self.event.now_ms;
        if state
            .store
            .sessions
            .revoke_session(&self.session_id, &self.user_id, now_ms, &self.event)
            .await?
        {
            tracing::info!(user_id = %self.user_id, session_id = %self.session_id, "session replaced");
        }
        Ok(())
    }
}

/// Past the cap of live sessions per user, ends the least recently used (never `opened`,
/// the one just made), each as a security event.
pub async fn evict_beyond_cap<S>(
    state: &AppState,
    user_id: &str,
    opened: &str,
    client: &ClientInfo,
) -> Result<(), Failure<S>> {
    let now_ms = state.clock.now_ms();
    let live = state.store.sessions.list_sessions(user_id, now_ms).await?;
    if live.len() <= state.max_sessions {
        return Ok(());
    }
    // Newest use first; the session just opened stays whatever the order of equal times.
    let evicted = live
        .iter()
        .filter(|s| s.id != opened)
        .skip(state.max_sessions.saturating_sub(1));
    for session in evicted {
        end(
            state,
            EventKind::SessionEvicted,
            user_id,
            &session.id,
            client,
            now_ms,
        )
        .await?;
    }
    Ok(())
}

async fn end<S>(
    state: &AppState,
    kind: EventKind,
    user_id: &str,
    session_id: &str,
    client: &ClientInfo,
    now_ms: i64,
) -> Result<(), Failure<S>> {
    let event = event(kind, user_id, Some(session_id), client, now_ms)?;
    let _forget = state.liveness.forget_after(session_id);
    if state
        .store
        .sessions
        .revoke_session(session_id, user_id, now_ms, &event)
        .await?
    {
        tracing::info!(%user_id, %session_id, %kind, "session ended");
    }
    Ok(())
}
