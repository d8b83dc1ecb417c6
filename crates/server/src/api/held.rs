//! The session a request already holds, read from its credentials: what signing in (or up)
//! again replaces, and what signing out ends once the access token has expired.

use latchkey_core::cookie::CookieKind;
use latchkey_core::{Error, refresh};
use poem::Request;

use crate::auth::{authenticate_request, check_csrf, cookie_header};
use crate::flows::Held;
use crate::state::AppState;

/// The (user, session) a request still holds: its access token (bearer or cookie), or else
/// its live refresh cookie. Anything that does not verify names nothing.
pub async fn held_session(state: &AppState, req: &Request) -> Held {
    match authenticate_request(state, req).await {
        Ok(principal) => Some((principal.user_id, principal.session_id)),
        Err(_) => session_of_refresh_cookie(state, req).await.ok().flatten(),
    }
}

/// The (user, session) of a live, unspent refresh cookie, if the request carries one. The
/// cookie is a credential sent by the browser on its own, so the origin rule applies.
pub async fn session_of_refresh_cookie(state: &AppState, req: &Request) -> Result<Held, Error> {
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
