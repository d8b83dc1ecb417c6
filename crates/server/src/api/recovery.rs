//! Recovery by email: forgot / reset password, verify the address, resend verification.
//!
//! Every link is a one-time token (see `latchkey_core::onetime`): 256 bits, kept only as a
//! hash, bound to its purpose, and spent by one compare-and-set in the same transaction as
//! the change it authorises, so two uses of one link give exactly one success. A wrong, used
//! or expired token always gets the same 400 `invalid_or_expired_token`.

use latchkey_store::EventKind;
use std::sync::Arc;

use latchkey_core::onetime::{self, Purpose};
use latchkey_core::{Email, Error};
use latchkey_store::{Consume, OneTimeRecord};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::event;
use super::dto::{Accepted, ForgotPasswordRequest, ResetPasswordRequest, TokenRequest, UserView};
use super::mailing::{self, enqueue_once_a_minute, notice, recipient_refusal, with_link};
use crate::auth::{Caller, ClientInfo};
use crate::error::Failure;
use crate::limiter::Limit;
use crate::mail::templates::{self, Kind};
use crate::state::AppState;
use crate::statuses;

statuses! {
    ForgotErrors = [400, 413, 415, 429, 500, 503];
    ResetErrors = [400, 413, 415, 429, 500, 503];
    VerifyErrors = [400, 413, 415, 429, 500, 503];
    ResendErrors = [401, 403, 409, 413, 415, 429, 500, 503];
}

/// What forgot-password always answers.
pub const RESET_REQUESTED: &str =
    "If an account uses this address, a link to reset its password is on its way.";

#[derive(ApiResponse)]
pub enum ResetRequested {
    /// Taken. The answer is the same for known and unknown addresses.
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

#[derive(ApiResponse)]
pub enum PasswordWasReset {
    /// The password is changed, every session is signed out, and a notice is on its way.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum EmailVerified {
    /// The address is verified; refresh to get an access token that says so.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum VerificationSent {
    /// A new verification email is on its way.
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

pub struct RecoveryApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl RecoveryApi {
    /// Ask for a password-reset link
    ///
    /// Always 202 with the same body, for known, unknown and unverified addresses alike, and
    /// in the same time: the lookup and the email happen after the answer. A known address
    /// gets a link (valid one hour, single use) to `/reset-password#token=…` on the app.
    #[oai(
        path = "/forgot-password",
        method = "post",
        operation_id = "forgotPassword"
    )]
    async fn forgot_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<ForgotPasswordRequest>,
    ) -> Result<ResetRequested, Failure<ForgotErrors>> {
        let email = Email::parse(&body.0.email)?;
        let client = ClientInfo::of(req);
        state
            .limiter
            .check(Limit::RecoveryIp, &client.bucket())
            .await?;
        let state = state.0.clone();
        // A bounded number at once, whatever the address: the wait (if any) is the same
        // for known and unknown ones, and a flood cannot pile up tasks without end.
        let permit = state
            .background
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal)?;
        tokio::spawn(async move {
            let _held_until_done = permit;
            if let Err(failure) = send_reset_link(&state, &email, &client).await {
                tracing::error!(error = %failure.error, "forgot-password: the reset email could not be queued");
            }
        });
        Ok(ResetRequested::Accepted(Json(Accepted::new(
            RESET_REQUESTED,
        ))))
    }

    /// Set a new password with a reset link's token
    ///
    /// The password policy applies (a refusal leaves the link usable). On success every
    /// session of the account is revoked, the address counts as verified (the link reached
    /// it), and a "password changed" notice is sent.
    #[oai(
        path = "/reset-password",
        method = "post",
        operation_id = "resetPassword"
    )]
    async fn reset_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<ResetPasswordRequest>,
    ) -> Result<PasswordWasReset, Failure<ResetErrors>> {
        let ResetPasswordRequest {
            token,
            new_password,
        } = body.0;
        let (record, consume) = usable(&state, &token, Purpose::ResetPassword).await?;
        state.policy.check_for(
            &new_password,
            &stored_email(&record.user.email)?,
            record.user.name.as_deref(),
        )?;
        let password_hash = state.hasher.hash(new_password.into()).await?;
        let now_ms = state.clock.now_ms();
        let consume = Consume { now_ms, ..consume };
        let user = &record.user;
        let mail = notice(
            Kind::PasswordChanged,
            &user.email,
            &templates::Data::for_user(user),
            now_ms,
        )?;
        let event = event(
            EventKind::PasswordReset,
            &user.id,
            None,
            &ClientInfo::of(req),
            now_ms,
        )?;
        let _forget = state.profiles.forget_after(&user.id);
        let _forget_sessions = state.liveness.forget_user_after(&user.id);
        let revoked = state
            .store
            .one_time
            .reset_password(&consume, &password_hash, &mail, &event)
            .await?
            .ok_or(Error::InvalidOrExpiredToken)?;
        tracing::info!(user_id = %user.id, sessions_revoked = revoked.len(), "password reset");
        Ok(PasswordWasReset::NoContent)
    }

    /// Verify the email address with a verification link's token
    #[oai(path = "/verify-email", method = "post", operation_id = "verifyEmail")]
    async fn verify_email(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<TokenRequest>,
    ) -> Result<EmailVerified, Failure<VerifyErrors>> {
        let (record, consume) = usable(&state, &body.0.token, Purpose::VerifyEmail).await?;
        let event = event(
            EventKind::EmailVerified,
            &record.user.id,
            None,
            &ClientInfo::of(req),
            consume.now_ms,
        )?;
        let _forget = state.profiles.forget_after(&record.user.id);
        let user = state
            .store
            .one_time
            .verify_email(&consume, &event)
            .await?
            .ok_or(Error::InvalidOrExpiredToken)?;
        tracing::info!(user_id = %user.id, "email verified");
        Ok(EmailVerified::Ok(Json(user.into())))
    }

    /// Send the verification email again
    ///
    /// At most once a minute per account (429 `rate_limited` with `Retry-After`); 409
    /// `email_already_verified` when there is nothing to verify.
    #[oai(
        path = "/resend-verification",
        method = "post",
        operation_id = "resendVerification"
    )]
    async fn resend_verification(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
    ) -> Result<VerificationSent, Failure<ResendErrors>> {
        let user = state
            .store
            .accounts
            .find_user(&auth.0.user_id)
            .await?
            .ok_or(Error::SessionRevoked)?;
        if user.email_verified {
            return Err(Error::EmailAlreadyVerified.into());
        }
        let client = ClientInfo::of(req);
        state
            .limiter
            .check(Limit::RecoveryIp, &client.bucket())
            .await?;
        let key = stored_email(&user.email)?.key();
        for limit in [Limit::RecoveryAddress, Limit::RecoveryAddressHourly] {
            state.limiter.check(limit, &key).await?;
        }
        let now_ms = state.clock.now_ms();
        let outgoing = mailing::verification(&state, &user, now_ms)?;
        let event = event(
            EventKind::VerificationEmailSent,
            &user.id,
            Some(&auth.0.session_id),
            &client,
            now_ms,
        )?;
        if let Some(retry_after_secs) = enqueue_once_a_minute(&state, outgoing, &event).await? {
            return Err(Error::RateLimited {
                retry_after_secs,
                limit: 1,
            }
            .into());
        }
        Ok(VerificationSent::Accepted(Json(Accepted::new(
            "A new verification email is on its way.",
        ))))
    }
}

/// The work behind forgot-password, done after the answer has gone.
async fn send_reset_link(
    state: &AppState,
    email: &Email,
    client: &ClientInfo,
) -> Result<(), Failure<ForgotErrors>> {
    // Per address, known or not, and silent: the answer has gone already.
    if recipient_refusal(state, &email.key()).await?.is_some() {
        tracing::info!("password reset not sent: the address's limit is reached");
        return Ok(());
    }
    let Some(login) = state.store.credentials.find_login(&email.key()).await? else {
        tracing::info!("password reset asked for an address with no account");
        return Ok(());
    };
    let now_ms = state.clock.now_ms();
    let user = &login.user;
    let outgoing = with_link(
        state,
        Kind::ResetPassword,
        Purpose::ResetPassword,
        user,
        &user.email,
        now_ms,
    )?;
    let event = event(
        EventKind::PasswordResetRequested,
        &user.id,
        None,
        client,
        now_ms,
    )?;
    // One link a minute per account, silently: the answer has gone already, and an inbox
    // must not be floodable through this form.
    match enqueue_once_a_minute(state, outgoing, &event).await? {
        None => tracing::info!(user_id = %user.id, "password reset link queued"),
        Some(_) => {
            tracing::info!(user_id = %user.id, "password reset link not sent: one went out less than a minute ago")
        }
    }
    Ok(())
}

/// The record of a presented token if it is well-formed, unused, unexpired and for
/// `purpose`, and the compare-and-set that will spend it. Anything else is the one answer,
/// `invalid_or_expired_token`.
pub async fn usable<S>(
    state: &AppState,
    token: &str,
    purpose: Purpose,
) -> Result<(OneTimeRecord, Consume), Failure<S>> {
    onetime::check_shape(token)?;
    let token_hash = onetime::hash(token);
    let now_ms = state.clock.now_ms();
    let record = state
        .store
        .one_time
        .find_one_time(&token_hash, purpose, now_ms)
        .await?
        .ok_or(Error::InvalidOrExpiredToken)?;
    let consume = Consume {
        token_hash,
        purpose,
        user_id: record.user.id.clone(),
        now_ms,
    };
    Ok((record, consume))
}

/// An address read back from the store; it was validated on the way in.
pub fn stored_email(address: &str) -> Result<Email, Error> {
    Email::parse(address).map_err(|_| {
        tracing::error!("a stored email address no longer parses");
        Error::Internal
    })
}
