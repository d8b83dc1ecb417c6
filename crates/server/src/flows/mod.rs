//! The use cases: what registering, signing in, refreshing, signing out, recovering an
//! account, changing it and using it mean, apart from HTTP.
//!
//! A flow is a plain async function over a [`Ctx`] (the services in [`AppState`], the
//! client, and the request's one reading of the clock), taking typed input and returning a
//! typed outcome or a core [`Error`]. No poem type appears here: the handlers in
//! [`crate::api`] turn requests into flow calls (transport, cookies, CSRF, DTOs) and outcomes
//! into responses, and [`crate::error`] turns an `Error` into HTTP, in one place.
//!
//! Side effects that must never be forgotten happen inside one call: [`Ctx::end_session`]
//! revokes a session, records its event and forgets it in the liveness cache; a write that
//! queues mail wakes the delivery worker by itself when it commits (the store's
//! `mail_written`).
//!
//! One module per use case (`exchange`: a session imported from the old auth system,
//! traded once for one of ours); the pieces several share are [`open`] (a new session, the one it
//! replaces, the cap), [`password`] (every check of a typed password and its limits),
//! [`mailing`] (link and notice emails) and [`resend`] (the grace-window resend).

pub mod email_change;
pub mod exchange;
pub mod ids;
pub mod mailing;
pub mod open;
pub mod password;
pub mod password_change;
pub mod profile;
pub mod reauth;
pub mod recovery;
pub mod refresh;
pub mod register;
pub mod resend;
pub mod sessions;
pub mod sign_in;
pub mod tasks;
pub mod text;
pub mod unblock;
pub mod verification;

use latchkey_core::Error;
use latchkey_store::{EventKind, NewEvent, User};

use crate::auth::ClientInfo;
use crate::state::AppState;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a flow runs with: the server's services, who is asking, and when.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub app: &'a AppState,
    pub client: &'a ClientInfo,
    /// The request's one reading of the clock: every decision it makes and every row it
    /// writes use this instant.
    pub now_ms: i64,
}

impl<'a> Ctx<'a> {
    pub fn new(app: &'a AppState, client: &'a ClientInfo) -> Ctx<'a> {
        Ctx {
            app,
            client,
            now_ms: app.clock.now_ms(),
        }
    }

    /// The same request after slow work (a password hash, which can first queue for
    /// seconds), with the clock read again: a write that judges an expiry or starts a
    /// back-off must use the time it is made at, not the time the request began.
    pub fn resumed(&self) -> Ctx<'a> {
        Ctx::new(self.app, self.client)
    }

    /// A security event for the audit trail, from this client, now.
    pub fn event(
        &self,
        kind: EventKind,
        user_id: &str,
        session_id: Option<&str>,
    ) -> Result<NewEvent> {
        Ok(NewEvent {
            id: ids::new_id()?,
            kind,
            user_id: Some(user_id.to_owned()),
            session_id: session_id.map(str::to_owned),
            ip: self.client.ip.clone(),
            user_agent: self.client.user_agent.clone(),
            now_ms: self.now_ms,
        })
    }

    /// Ends one of the user's sessions: revokes it, records `kind`, and forgets it in the
    /// liveness cache once the revocation has committed (even if the request is dropped
    /// meanwhile). False if it was not a live session of theirs.
    pub async fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        kind: EventKind,
    ) -> Result<bool> {
        let event = self.event(kind, user_id, Some(session_id))?;
        let _forget = self.app.liveness.forget_after(session_id);
        let ended = self
            .app
            .store
            .sessions
            .revoke_session(session_id, user_id, self.now_ms, &event)
            .await?;
        if ended {
            tracing::info!(%user_id, %session_id, %kind, "session ended");
        }
        Ok(ended)
    }
}

/// A session just opened (or rotated): what the client is handed.
pub struct Opened {
    pub user: User,
    pub session_id: String,
    pub refresh_token: String,
    /// When the session ends unless refreshed.
    pub expires_at_ms: i64,
}

/// The session a request still holds when it signs in (or up) again: (user, session).
/// Flows take it as a future, looked up only once the request has passed its limits and
/// its password check, so refused attempts cost no token check or database read.
pub type Held = Option<(String, String)>;

#[cfg(test)]
mod tests {
    /// The layering this module promises: HTTP stays in `api/`, so a flow can be called
    /// from anywhere (a CLI import, a job, another transport) and read without poem.
    #[test]
    fn no_flow_names_poem() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flows");
        // Spelled in two halves, so that this file does not find itself.
        let needles = [concat!("poem", "::"), concat!("poem", "_openapi")];
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let offending = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .any(|line| needles.iter().any(|needle| line.contains(needle)));
            assert!(!offending, "{} uses poem", path.display());
            read += 1;
        }
        assert!(read > 10, "read the flows ({read} files)");
    }
}
