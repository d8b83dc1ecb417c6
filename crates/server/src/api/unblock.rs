//! The sign-in block and its way out.
//!
//! After [`HARD_BLOCK`] failed sign-ins in a row an address is blocked: no password is even
//! checked until the block ends. Anyone can cause that for any address in about five hours
//! (the backoff spaces the guesses), so the block must not cost the owner their account: the
//! failure that crosses the threshold writes, in its own transaction, an email to the owner
//! with a single-use link (a one-time token of its own purpose, kept only as a hash) to
//! `/unblock#token=…`, whose page posts it to `POST /api/v1/auth/unblock`. That ends the
//! streak and nothing else: the password is still needed, so the link is worth nothing to
//! whoever is guessing. A password reset lifts the block too. Unknown addresses are blocked
//! the same way and get no email (nobody to send it to).

use latchkey_store::EventKind;
use std::sync::Arc;

use latchkey_core::Error;
use latchkey_core::onetime::Purpose;
use latchkey_store::{BlockNotice, Throttle, User};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::event;
use super::dto::TokenRequest;
use super::guard::{Attempt, HARD_BLOCK};
use super::mailing::{RESEND_INTERVAL_MS, with_link};
use super::recovery::usable;
use crate::auth::ClientInfo;
use crate::error::Failure;
use crate::limiter::{self, Limit};
use crate::mail::templates::Kind;
use crate::state::AppState;
use crate::statuses;

statuses! {
    UnblockErrors = [400, 413, 415, 429, 500, 503];
}

#[derive(ApiResponse)]
pub enum Unblocked {
    /// The failure streak is over: sign-in with the right password works again.
    #[oai(status = 204)]
    NoContent,
}

pub struct UnblockApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl UnblockApi {
    /// Lift a sign-in block with the emailed link's token
    ///
    /// After 100 failed sign-ins in a row the address is blocked and its owner is emailed a
    /// link to `/unblock#token=…`; posting that token here ends the streak (single use,
    /// valid 24 hours). A wrong, used or expired token is 400 `invalid_or_expired_token`,
    /// and counts toward the client address's `recovery_ip` limit.
    #[oai(path = "/unblock", method = "post", operation_id = "unblockSignIn")]
    async fn unblock(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<TokenRequest>,
    ) -> Result<Unblocked, Failure<UnblockErrors>> {
        let client = ClientInfo::of(req);
        // Counted first, taken back on success: what the limit counts is wrong tokens.
        let (verdict, hit) = state
            .limiter
            .count(Limit::RecoveryIp, &client.bucket())
            .await?;
        if !verdict.allowed {
            state.limiter.refund(hit).await;
            return Err(limiter::refused(&verdict).into());
        }
        let (record, consume) = usable(&state, &body.0.token, Purpose::UnblockSignIn).await?;
        let event = event(
            EventKind::SignInUnblocked,
            &record.user.id,
            None,
            &client,
            consume.now_ms,
        )?;
        let user = state
            .store
            .one_time
            .unblock(&consume, &event)
            .await?
            .ok_or(Error::InvalidOrExpiredToken)?;
        state.limiter.refund(hit).await;
        tracing::info!(user_id = %user.id, "sign-in unblocked by the emailed link");
        Ok(Unblocked::NoContent)
    }
}

/// Counts a failed sign-in for `key`. For an existing account (`owner`) the failure that
/// makes the streak [`HARD_BLOCK`] long also writes the owner's unblock email, in the same
/// transaction (at most one link of this purpose a minute). Returns the failures so far.
pub async fn sign_in_failed<S>(
    state: &AppState,
    key: &str,
    owner: Option<&User>,
    attempt: &Attempt<'_>,
) -> Result<i64, Failure<S>> {
    let now_ms = state.clock.now_ms();
    let Some(user) = owner else {
        return Ok(state
            .store
            .streaks
            .sign_in_failed(key, now_ms, None)
            .await?);
    };
    let session_id = attempt.session_id.unwrap_or("");
    let failed = event(
        attempt.failed_event,
        &user.id,
        Some(session_id),
        attempt.client,
        now_ms,
    )?;
    // Only the store knows, atomically, which failure crosses the threshold, so the notice
    // (a random seed and an HMAC: cheap) goes with every failure of an account. It is not
    // held to the address's recovery limits: it goes out once per block (and at most one a
    // minute, in the store), and a limit spent by anyone's forgot-password request just
    // before would otherwise leave the owner blocked with no way to know.
    let outgoing = with_link(
        state,
        Kind::SignInBlocked,
        Purpose::UnblockSignIn,
        user,
        &user.email,
        now_ms,
    )?;
    let notice = BlockNotice {
        block_at: HARD_BLOCK,
        throttle: Throttle {
            user_id: user.id.clone(),
            purpose: Purpose::UnblockSignIn,
            interval_ms: RESEND_INTERVAL_MS,
            now_ms,
        },
        outgoing,
    };
    let (failures, emailed) = state
        .store
        .streaks
        .sign_in_failed_notifying(key, now_ms, &failed, &notice)
        .await?;
    if emailed {
        tracing::warn!(user_id = %user.id, failures, "sign-in blocked; the owner is emailed an unblock link");
    } else if failures == HARD_BLOCK {
        tracing::warn!(user_id = %user.id, failures, "sign-in blocked; no email: one went out less than a minute ago");
    }
    Ok(failures)
}
