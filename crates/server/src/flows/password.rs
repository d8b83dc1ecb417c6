//! Every check of a password a client typed, wherever it happens (sign-in, change-password,
//! change-email), goes through [`check_password`], so each counts toward the same limits:
//! failures per client address and per account (the sign-in rules), the account's failure
//! streak with its back-off and block, and — for checks made inside a session — failures per
//! session. A signed-in page is otherwise an unlimited password oracle for whoever holds the
//! session.

use latchkey_core::onetime::Purpose;
use latchkey_core::ratelimit;
use latchkey_core::{Email, Error};
use latchkey_store::{BlockNotice, EventKind, FailureStreak, Login, Throttle, User};

use super::mailing::{RESEND_INTERVAL_MS, with_link};
use super::{Ctx, Result};
use crate::limiter::{self, Limit};
use crate::mail::templates::Kind;

/// Failures an account may have in a row before each next attempt must wait.
const FREE_FAILURES: u32 = 5;
/// The longest wait between attempts.
const BACKOFF_CAP_MS: i64 = 15 * 60 * 1000;
/// Failures in a row after which only a password reset or the unblock link emailed to the
/// owner (see `unblock`) lets anyone sign in.
pub const HARD_BLOCK: i64 = 100;

/// Who is checking a password, and where.
pub struct Attempt<'a> {
    /// The account's address (a sign-in names it; inside a session it is the user's own).
    pub email: &'a Email,
    /// The session the check is made in, if any: it is limited on its own as well.
    pub session_id: Option<&'a str>,
    /// The security event a failure records (for a known account).
    pub failed_event: EventKind,
}

/// The account's login if `password` is its password. Every attempt is counted before the
/// password is checked (so parallel guesses cannot share one slot) and taken back if it is
/// right: what the rules limit is failures. Unknown addresses are counted, backed off and
/// blocked exactly like known ones (and cost the same hash), so none of it tells which
/// addresses have accounts.
///
/// Errors: 429 `rate_limited` over any limit or while the account backs off,
/// 401 `invalid_credentials` for a wrong password or an unknown address.
pub async fn check_password(ctx: &Ctx<'_>, attempt: &Attempt<'_>, password: &str) -> Result<Login> {
    let state = ctx.app;
    let limiter = &state.limiter;
    let key = attempt.email.key();
    let ip_hit = limiter.check(Limit::SignInIp, &ctx.client.bucket()).await?;
    let session_hit = match attempt.session_id {
        Some(session_id) => limiter.check(Limit::PasswordSession, session_id).await?,
        None => None,
    };
    let (verdict, account_hit) = limiter.count(Limit::SignInAccount, &key).await?;
    if !verdict.allowed {
        // A refusal does not extend the account's window: someone else's guessing
        // should lock its owner out for as short a time as the rule allows.
        limiter.refund(account_hit).await;
        return Err(limiter::refused(&verdict));
    }
    let streak = state.store.streaks.failure_streak(&key).await?;
    if let Some(refusal) = backoff(ctx, &streak) {
        tracing::info!(
            failures = streak.failures,
            "password check refused: the address is backing off"
        );
        return Err(refusal);
    }
    let login = state.store.credentials.find_login(&key).await?;
    let verified = match &login {
        Some(login) => {
            state
                .hasher
                .verify(password.to_owned(), login.password_hash.clone())
                .await?
        }
        None => state.hasher.verify_dummy(password.to_owned()).await?,
    };
    let owner = login.as_ref().map(|l| l.user.clone());
    let Some(login) = login.filter(|_| verified) else {
        // The failure that blocks the address also emails its owner an unblock link. Its
        // time starts the back-off, so it is read after the hash (which may have queued).
        let failures = failed(&ctx.resumed(), &key, owner.as_ref(), attempt).await?;
        let user_id = owner.map(|u| u.id);
        tracing::info!(user_id = ?user_id, failures, kind = %attempt.failed_event, "password refused");
        return Err(Error::InvalidCredentials);
    };
    for hit in [ip_hit, session_hit, account_hit] {
        limiter.refund(hit).await;
    }
    if streak.failures > 0 {
        state.store.streaks.sign_in_succeeded(&key).await?;
    }
    Ok(login)
}

/// The refusal for an address that failed too often in a row: a wait that doubles from 1 s
/// after the fifth failure (at most 15 min), and after 100 a block that only a password
/// reset or the unblock link emailed to the owner lifts. The password is not even checked,
/// so a right one gets the same answer as a wrong one; the links still work, so the owner is
/// never locked out for good.
fn backoff(ctx: &Ctx<'_>, streak: &FailureStreak) -> Option<Error> {
    let limit = ctx.app.limiter.rule(Limit::SignInAccount).limit;
    if streak.failures >= HARD_BLOCK {
        return Some(Error::RateLimited {
            retry_after_secs: u64::try_from(BACKOFF_CAP_MS / 1000).unwrap_or(900),
            limit,
        });
    }
    let failures = u32::try_from(streak.failures).unwrap_or(u32::MAX);
    let wait = ratelimit::backoff_ms(failures, FREE_FAILURES, BACKOFF_CAP_MS);
    let left = streak.last_failed_at?.saturating_add(wait) - ctx.now_ms;
    (wait > 0 && left > 0).then(|| Error::RateLimited {
        retry_after_secs: u64::try_from((left + 999) / 1000).unwrap_or(1),
        limit,
    })
}

/// Counts a failed check for `key`. For an existing account (`owner`) the failure that
/// makes the streak [`HARD_BLOCK`] long also writes the owner's unblock email, in the same
/// transaction (at most one link of this purpose a minute). Returns the failures so far.
async fn failed(
    ctx: &Ctx<'_>,
    key: &str,
    owner: Option<&User>,
    attempt: &Attempt<'_>,
) -> Result<i64> {
    let streaks = &ctx.app.store.streaks;
    let Some(user) = owner else {
        return Ok(streaks.sign_in_failed(key, ctx.now_ms, None).await?);
    };
    let failed = ctx.event(attempt.failed_event, &user.id, attempt.session_id)?;
    // Only the store knows, atomically, which failure crosses the threshold, so the notice
    // (a random seed and an HMAC: cheap) goes with every failure of an account. It is not
    // held to the address's recovery limits: it goes out once per block (and at most one a
    // minute, in the store), and a limit spent by anyone's forgot-password request just
    // before would otherwise leave the owner blocked with no way to know.
    let outgoing = with_link(
        ctx,
        Kind::SignInBlocked,
        Purpose::UnblockSignIn,
        user,
        &user.email,
    )?;
    let notice = BlockNotice {
        block_at: HARD_BLOCK,
        throttle: Throttle {
            user_id: user.id.clone(),
            purpose: Purpose::UnblockSignIn,
            interval_ms: RESEND_INTERVAL_MS,
            now_ms: ctx.now_ms,
        },
        outgoing,
    };
    let (failures, emailed) = streaks
        .sign_in_failed_notifying(key, ctx.now_ms, &failed, &notice)
        .await?;
    if emailed {
        tracing::warn!(user_id = %user.id, failures, "sign-in blocked; the owner is emailed an unblock link");
    } else if failures == HARD_BLOCK {
        tracing::warn!(user_id = %user.id, failures, "sign-in blocked; no email: one went out less than a minute ago");
    }
    Ok(failures)
}
