//! Composing the emails flows write to the outbox: a one-time token with the email that
//! carries its link, or a plain notice.

use latchkey_core::onetime::{self, Purpose};
use latchkey_core::{Error, random, refresh};
use latchkey_store::{NewMail, NewOneTimeToken, Outgoing, User};

use super::ids::new_id;
use crate::mail::templates::{Data, Kind};
use crate::state::AppState;

/// Seconds between two verification emails to one account.
pub const RESEND_INTERVAL_MS: i64 = 60_000;

/// A fresh one-time token for `user`, for `purpose`, and the email `kind` that carries its
/// link to `to`. The token itself is not kept anywhere: the outbox re-derives it.
pub fn with_link(
    state: &AppState,
    kind: Kind,
    purpose: Purpose,
    user: &User,
    to: &str,
    now_ms: i64,
) -> Result<Outgoing, Error> {
    let id = new_id()?;
    let seed = refresh::seed_from(random::bytes::<32>()?);
    let token = state.onetime_key.token(&id, &seed, purpose);
    let mut mail = notice(kind, to, &Data::for_user(user), now_ms)?;
    mail.token_id = Some(id.clone());
    Ok(Outgoing {
        token: Some(NewOneTimeToken {
            id,
            token_hash: onetime::hash(&token),
            seed,
            user_id: user.id.clone(),
            purpose: purpose.as_str(),
            email: to.to_owned(),
            now_ms,
            expires_at_ms: now_ms.saturating_add(purpose.lifetime_ms()),
        }),
        mail,
    })
}

/// An email without a token (a notice).
pub fn notice(kind: Kind, to: &str, data: &Data, now_ms: i64) -> Result<NewMail, Error> {
    Ok(NewMail {
        id: new_id()?,
        kind: kind.as_str(),
        recipient: to.to_owned(),
        data: serde_json::to_string(data).map_err(|_| Error::Internal)?,
        token_id: None,
        now_ms,
    })
}

/// The verification email for `user`'s current address.
pub fn verification(state: &AppState, user: &User, now_ms: i64) -> Result<Outgoing, Error> {
    with_link(
        state,
        Kind::VerifyEmail,
        Purpose::VerifyEmail,
        user,
        &user.email,
        now_ms,
    )
}

/// How many seconds until `user` may be sent another verification email, if they must wait.
pub async fn verification_wait(
    state: &AppState,
    user_id: &str,
    now_ms: i64,
) -> Result<Option<u64>, latchkey_store::StoreError> {
    let last = state
        .store
        .last_token_at(user_id, Purpose::VerifyEmail.as_str())
        .await?;
    Ok(last
        .map(|at| at.saturating_add(RESEND_INTERVAL_MS) - now_ms)
        .filter(|wait| *wait > 0)
        .map(|wait| u64::try_from((wait + 999) / 1000).unwrap_or(1)))
}

impl Data {
    pub fn for_user(user: &User) -> Data {
        Data {
            name: user.name.clone(),
            new_email: None,
        }
    }
}
