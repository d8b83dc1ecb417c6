//! Recovery by email: forgot / reset password, verify the address, resend verification.
//!
//! Every link is a one-time token (see `latchkey_core::onetime`): 256 bits, kept only as a
//! hash, bound to its purpose, and spent by one compare-and-set in the same transaction as
//! the change it authorises, so two uses of one link give exactly one success. A wrong, used
//! or expired token always gets the same 400 `invalid_or_expired_token`.

use std::sync::Arc;

use latchkey_core::{Email, Error};
use poem::Request;
use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::dto::{Accepted, ForgotPasswordRequest, ResetPasswordRequest, TokenRequest, UserView};
use super::json::Json;
use crate::auth::{Caller, ClientInfo};
use crate::error::Failure;
use crate::flows::{Ctx, recovery, verification};
use crate::limiter::Limit;
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

#[derive(Default)]
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
        let now_ms = state.clock.now_ms();
        tokio::spawn(async move {
            let _held_until_done = permit;
            let ctx = Ctx {
                app: &state,
                client: &client,
                now_ms,
            };
            if let Err(error) = recovery::send_reset_link(&ctx, &email).await {
                tracing::error!(%error, "forgot-password: the reset email could not be queued");
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
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        recovery::reset_password(&ctx, &token, new_password.into()).await?;
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
        let client = ClientInfo::of(req);
        let user = verification::verify_email(&Ctx::new(&state, &client), &body.0.token).await?;
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
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        verification::resend(&ctx, &auth.0.user_id, &auth.0.session_id).await?;
        Ok(VerificationSent::Accepted(Json(Accepted::new(
            "A new verification email is on its way.",
        ))))
    }
}
