//! The grace-window resend: handing a session's live refresh token out again.
//!
//! The live token is never stored, only its hash, so it is re-derived. Tokens made by this
//! release come from the server secret; a session's live token may still date from before
//! the upgrade, when tokens came from the app's secret. Which key made it is read from the
//! database: the derivation whose hash is stored under this session and generation. The
//! legacy key therefore only ever re-derives a token that already exists; it never makes a
//! new one, and once every pre-upgrade session has rotated or expired it matches nothing.

use latchkey_core::refresh;
use latchkey_store::RefreshRecord;

use super::Result;
use crate::state::AppState;

/// The live refresh token of `generation` in `record`'s session, or `None` if neither key
/// derived it (the app's secret changed since it was made).
pub async fn live_token(
    state: &AppState,
    record: &RefreshRecord,
    generation: i64,
) -> Result<Option<String>> {
    for key in [&state.refresh_key, &state.legacy_refresh_key] {
        let token = key.token(&record.session_id, &record.refresh_seed, generation);
        let stored = state
            .store
            .sessions
            .find_refresh(&refresh::hash(&token))
            .await?;
        if stored
            .is_some_and(|s| s.session_id == record.session_id && s.token_generation == generation)
        {
            return Ok(Some(token));
        }
    }
    Ok(None)
}
