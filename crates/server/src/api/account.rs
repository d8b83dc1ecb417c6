//! The signed-in user's own account: profile, password, and email address.
//!
//! Changing the password or the address needs the current password, so a session left open
//! on a borrowed computer cannot take the account over. A new address is switched to only
//! once a link sent to it is followed, and the old address is told.

use std::sync::Arc;

use latchkey_core::Error;
use latchkey_store::ProfilePatch;
use poem::Request;
use poem::web::Data;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::respond;
use super::dto::{
    Accepted, AuthSession, ChangeEmailRequest, ChangePasswordRequest, Text, TokenRequest,
    UpdateProfileRequest, UserView,
};
use super::json::Json;
use super::transport::WithCookies;
use crate::auth::{Caller, ClientInfo};
use crate::error::Failure;
use crate::flows::email_change::{self, EmailChange};
use crate::flows::password_change::{self, PasswordChange};
use crate::flows::text::{image_url, plain_text};
use crate::flows::{Ctx, profile};
use crate::mail::locale::Locale;
use crate::state::AppState;
use crate::statuses;

statuses! {
    MeErrors = [401, 429, 500, 503];
    ProfileErrors = [400, 401, 403, 413, 415, 429, 500, 503];
    ChangeErrors = [400, 401, 403, 413, 415, 429, 500, 503];
    ConfirmErrors = [400, 409, 413, 415, 429, 500, 503];
}

/// What change-email always answers.
pub const CHANGE_REQUESTED: &str = "Follow the link sent to the new address to finish the change.";

#[derive(ApiResponse)]
pub enum Me {
    /// The signed-in user.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum ProfileUpdated {
    /// The updated user.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum PasswordChanged {
    /// Changed, and this session replaced by a new one: its tokens are here (or, when the
    /// request was authenticated by cookie, in the cookies), and the old ones are refused
    /// from now on. Other sessions are signed out unless asked not to; a notice is on its
    /// way.
    #[oai(status = 200)]
    Ok(Json<AuthSession>),
}

#[derive(ApiResponse)]
pub enum EmailChangeRequested {
    /// A confirmation link is on its way to the new address. The answer is the same when
    /// the address already belongs to another account (and then nothing changes).
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

#[derive(ApiResponse)]
pub enum EmailChanged {
    /// The account now uses the new (verified) address; the old one has been told.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

#[derive(Default)]
pub struct AccountApi;

// `/me` lives here whole (GET and PATCH): poem-openapi writes one path object per API
// struct, so splitting a path's methods across two structs would emit the path twice.
#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Account")]
impl AccountApi {
    /// The current user
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
    ) -> Result<Me, Failure<MeErrors>> {
        let client = ClientInfo::of(req);
        let user = profile::me(&Ctx::new(&state, &client), &auth.0.user_id).await?;
        Ok(Me::Ok(Json(user.into())))
    }

    /// Update the profile (name, image, the emails' language)
    #[oai(path = "/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
        body: Json<UpdateProfileRequest>,
    ) -> Result<ProfileUpdated, Failure<ProfileErrors>> {
        let UpdateProfileRequest {
            name,
            image,
            locale,
        } = body.0;
        let patch = ProfilePatch {
            name: patch_field(name, |n| {
                plain_text("name", &n).map(|n| Some(n).filter(|n| !n.is_empty()))
            })?,
            image: patch_field(image, |url| image_url(&url).map(Some))?,
            locale: patch_field(locale, |tag| {
                Locale::parse(&tag).map(|locale| Some(locale.as_str().to_owned()))
            })?,
        };
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        let me = auth.0;
        let user = profile::update(&ctx, &me.user_id, &me.session_id, &patch).await?;
        Ok(ProfileUpdated::Ok(Json(user.into())))
    }

    /// Change the password
    ///
    /// Needs the current password (a wrong one is 401 `invalid_credentials`, recorded as a
    /// failed attempt, and counted like a failed sign-in: after five, 429). The new password
    /// is checked against the policy first. This session is replaced by a new one, whose
    /// tokens are returned as sign-in returns them; every other session is signed out unless
    /// `revokeOtherSessions` is false.
    #[oai(
        path = "/change-password",
        method = "post",
        operation_id = "changePassword"
    )]
    async fn change_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
        body: Json<ChangePasswordRequest>,
    ) -> Result<WithCookies<PasswordChanged>, Failure<ChangeErrors>> {
        let ChangePasswordRequest {
            current_password,
            new_password,
            revoke_other_sessions,
        } = body.0;
        let change = PasswordChange {
            current_password: current_password.into(),
            new_password: new_password.into(),
            revoke_other_sessions: revoke_other_sessions.unwrap_or(true),
        };
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        let me = auth.0;
        let opened =
            password_change::change_password(&ctx, &me.user_id, &me.session_id, change).await?;
        let (body, set) = respond(&ctx, opened, me.by_cookie)?;
        Ok(WithCookies::new(PasswordChanged::Ok(Json(body)), set))
    }

    /// Change the email address
    ///
    /// Needs the current password (counted like a sign-in, as for change-password). Sends a
    /// confirmation link (valid 24 hours) to the new address; the account switches only when
    /// it is followed (`confirm-email-change`), and then every other session is signed out
    /// unless `revokeOtherSessions` is false. An address that already has an account gets
    /// the same answer, and nothing changes. At most one email a minute and five an hour go
    /// to one address, and an account may ask five times a day (429 past either).
    #[oai(path = "/change-email", method = "post", operation_id = "changeEmail")]
    async fn change_email(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
        body: Json<ChangeEmailRequest>,
    ) -> Result<EmailChangeRequested, Failure<ChangeErrors>> {
        let ChangeEmailRequest {
            new_email,
            password,
            revoke_other_sessions,
        } = body.0;
        let change = EmailChange {
            new_email: new_email.into_string(),
            password: password.into(),
            revoke_other_sessions: revoke_other_sessions.unwrap_or(true),
        };
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        email_change::request(&ctx, &auth.0.user_id, &auth.0.session_id, change).await?;
        Ok(EmailChangeRequested::Accepted(Json(Accepted::new(
            CHANGE_REQUESTED,
        ))))
    }

    /// Confirm an email change with the link's token
    ///
    /// Needs no session: the link may be opened on another device. 409 `email_taken` if
    /// another account took the address meanwhile (nothing changes, the link stays usable).
    #[oai(
        path = "/confirm-email-change",
        method = "post",
        operation_id = "confirmEmailChange"
    )]
    async fn confirm_email_change(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<TokenRequest>,
    ) -> Result<EmailChanged, Failure<ConfirmErrors>> {
        let client = ClientInfo::of(req);
        let user = email_change::confirm(&Ctx::new(&state, &client), &body.0.token).await?;
        Ok(EmailChanged::Ok(Json(user.into())))
    }
}

/// A patch field: absent leaves it, `null` clears it, a value goes through `parse`.
fn patch_field<F>(
    field: MaybeUndefined<Text<F>>,
    parse: impl FnOnce(String) -> Result<Option<String>, Error>,
) -> Result<Option<Option<String>>, Error> {
    match field {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(value) => parse(value.into()).map(Some),
    }
}
