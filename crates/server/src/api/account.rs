//! The signed-in user's own account: profile, password, and email address.
//!
//! Changing the password or the address needs the current password, so a session left open
//! on a borrowed computer cannot take the account over. A new address is switched to only
//! once a link sent to it is followed, and the old address is told.

use latchkey_store::EventKind;
use std::sync::Arc;

use latchkey_core::onetime::Purpose;
use latchkey_core::{Email, Error};
use latchkey_store::{Login, ProfilePatch, SessionSwap, StoreError};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::event;
use super::auth::respond;
use super::dto::{
    Accepted, AuthSession, ChangeEmailRequest, ChangePasswordRequest, Text, TokenRequest,
    UpdateProfileRequest, UserView,
};
use super::guard::{self, Attempt};
use super::mailing::{notice, recipient_refusal, with_link};
use super::open::new_session;
use super::recovery::{stored_email, usable};
use super::text::{image_url, plain_text};
use super::transport::WithCookies;
use crate::auth::{Caller, ClientInfo, Principal};
use crate::error::Failure;
use crate::limiter::Limit;
use crate::mail::templates::{Data as MailData, Kind};
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

pub struct AccountApi;

// `/me` lives here whole (GET and PATCH): poem-openapi writes one path object per API
// struct, so splitting a path's methods across two structs would emit the path twice.
#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Account")]
impl AccountApi {
    /// The current user
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, state: Data<&Arc<AppState>>, auth: Caller) -> Result<Me, Failure<MeErrors>> {
        let now_ms = state.clock.now_ms();
        if let Some(user) = state.profiles.get(&auth.0.user_id, now_ms) {
            return Ok(Me::Ok(Json(user.into())));
        }
        let ticket = state.profiles.ticket();
        // A live session whose user is gone cannot happen (ON DELETE CASCADE); treat it as
        // a revoked session rather than a server error all the same.
        let user = state
            .store
            .accounts
            .find_user(&auth.0.user_id)
            .await?
            .ok_or(Error::SessionRevoked)?;
        state.profiles.put(ticket, &user, now_ms);
        Ok(Me::Ok(Json(user.into())))
    }

    /// Update the profile (name, image)
    #[oai(path = "/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: Caller,
        body: Json<UpdateProfileRequest>,
    ) -> Result<ProfileUpdated, Failure<ProfileErrors>> {
        let UpdateProfileRequest { name, image } = body.0;
        let patch = ProfilePatch {
            name: patch_field(name, |n| {
                plain_text("name", &n).map(|n| Some(n).filter(|n| !n.is_empty()))
            })?,
            image: patch_field(image, |url| image_url(&url).map(Some))?,
        };
        let now_ms = state.clock.now_ms();
        let event = event(
            EventKind::ProfileUpdated,
            &auth.0.user_id,
            Some(&auth.0.session_id),
            &ClientInfo::of(req),
            now_ms,
        )?;
        let _forget = state.profiles.forget_after(&auth.0.user_id);
        let user = state
            .store
            .accounts
            .update_profile(&auth.0.user_id, &patch, now_ms, &event)
            .await?
            .ok_or(Error::SessionRevoked)?;
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
        let client = ClientInfo::of(req);
        // The new password is judged first: a policy refusal must not tell whether the
        // current password was right.
        let (email, name) = own_address_and_name(&state, &auth.0).await?;
        state
            .policy
            .check_for(&new_password, &email, name.as_deref())?;
        let login = check_password(&state, &auth.0, &email, &current_password, &client).await?;
        let user = &login.user;
        let password_hash = state.hasher.hash(new_password.into()).await?;
        let now_ms = state.clock.now_ms();
        // Re-authentication opens a new session in place of this one (ASVS 7.2.4): a copy
        // of this session's refresh token taken before the change is dead after it.
        let (session, refresh_token) = new_session(&state, &user.id, now_ms, &client)?;
        let swap = SessionSwap {
            ends: &auth.0.session_id,
            opens: &session,
        };
        let mail = notice(
            Kind::PasswordChanged,
            &user.email,
            &MailData::for_user(user),
            now_ms,
        )?;
        let event = event(
            EventKind::PasswordChanged,
            &user.id,
            Some(&session.id),
            &client,
            now_ms,
        )?;
        let _forget_sessions = state.liveness.forget_user_after(&user.id);
        let revoked = state
            .store
            .credentials
            .change_password(
                &user.id,
                &password_hash,
                &swap,
                revoke_other_sessions.unwrap_or(true),
                &mail,
                &event,
            )
            .await?
            .ok_or(Error::SessionRevoked)?;
        tracing::info!(user_id = %user.id, sessions_revoked = revoked.len(), "password changed");
        let (body, set) = respond(
            &state,
            login.user,
            &session.id,
            refresh_token,
            session.expires_at_ms,
            auth.0.by_cookie,
        )?;
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
        let new_email = Email::parse(&new_email)?;
        let client = ClientInfo::of(req);
        let (email, _) = own_address_and_name(&state, &auth.0).await?;
        let login = check_password(&state, &auth.0, &email, &password, &client).await?;
        let user = &login.user;
        if new_email.key() == email.key() {
            return Err(
                Error::InvalidRequest("that is already the account's address".into()).into(),
            );
        }
        // Each request mails an address nobody has proven yet: a cap per account a day, and
        // the per-recipient limits recovery mail has. Both are counted whether or not the
        // address is taken, so a 429 does not tell that either.
        state
            .limiter
            .check(Limit::EmailChangeAccount, &user.id)
            .await?;
        if let Some(refusal) = recipient_refusal(&state, &new_email.key()).await? {
            return Err(refusal.into());
        }
        let accepted = EmailChangeRequested::Accepted(Json(Accepted::new(CHANGE_REQUESTED)));
        let now_ms = state.clock.now_ms();
        if state
            .store
            .credentials
            .find_login(&new_email.key())
            .await?
            .is_some()
        {
            // One transaction either way, so the time does not tell the address is in use.
            let event = event(
                EventKind::EmailChangeToTakenAddress,
                &user.id,
                Some(&auth.0.session_id),
                &client,
                now_ms,
            )?;
            state.store.outbox.enqueue(&[], Some(&event)).await?;
            tracing::info!(user_id = %user.id, "email change to an address in use; nothing sent");
            return Ok(accepted);
        }
        let mut outgoing = with_link(
            &state,
            Kind::ConfirmEmailChange,
            Purpose::ChangeEmail,
            user,
            new_email.as_str(),
            now_ms,
        )?;
        if let Some(token) = outgoing.token.as_mut() {
            token.keep_session = revoke_other_sessions
                .unwrap_or(true)
                .then(|| auth.0.session_id.clone());
        }
        let event = event(
            EventKind::EmailChangeRequested,
            &user.id,
            Some(&auth.0.session_id),
            &client,
            now_ms,
        )?;
        state
            .store
            .outbox
            .enqueue(&[outgoing], Some(&event))
            .await?;
        Ok(accepted)
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
        let (record, consume) = usable(&state, &body.0.token, Purpose::ChangeEmail).await?;
        let new_email = stored_email(&record.email)?;
        let old = &record.user;
        let data = MailData {
            new_email: Some(new_email.to_string()),
            ..MailData::for_user(old)
        };
        let mail = notice(Kind::EmailChanged, &old.email, &data, consume.now_ms)?;
        let event = event(
            EventKind::EmailChanged,
            &old.id,
            None,
            &ClientInfo::of(req),
            consume.now_ms,
        )?;
        let _forget = state.profiles.forget_after(&old.id);
        let _forget_sessions = state.liveness.forget_user_after(&old.id);
        let changed = state
            .store
            .one_time
            .change_email(
                &consume,
                new_email.as_str(),
                &new_email.key(),
                &mail,
                &event,
            )
            .await;
        let user = match changed {
            Err(StoreError::Conflict) => return Err(Error::EmailTaken.into()),
            other => other?.ok_or(Error::InvalidOrExpiredToken)?,
        };
        tracing::info!(user_id = %user.id, "email address changed");
        Ok(EmailChanged::Ok(Json(user.into())))
    }
}

/// The signed-in user's current address and display name.
async fn own_address_and_name<S>(
    state: &AppState,
    caller: &Principal,
) -> Result<(Email, Option<String>), Failure<S>> {
    let user = state
        .store
        .accounts
        .find_user(&caller.user_id)
        .await?
        .ok_or(Error::SessionRevoked)?;
    Ok((stored_email(&user.email)?, user.name))
}

/// The caller's login if `password` is theirs. The check counts toward the sign-in limits,
/// the account's failure streak and a per-session limit (see [`guard`]): a wrong password
/// is 401 `invalid_credentials` and a recorded failed attempt, and guessing is refused with
/// 429 like guessing at sign-in.
async fn check_password<S>(
    state: &AppState,
    caller: &Principal,
    email: &Email,
    password: &str,
    client: &ClientInfo,
) -> Result<Login, Failure<S>> {
    let attempt = Attempt {
        email,
        client,
        session_id: Some(&caller.session_id),
        failed_event: EventKind::PasswordCheckFailed,
    };
    let login = guard::check_password(state, &attempt, password).await?;
    // The session's user is the account the address names, unless the address moved to
    // another account between the two reads; never check one user's password for another.
    if login.user.id != caller.user_id {
        return Err(Error::SessionRevoked.into());
    }
    Ok(login)
}

/// A patch field: absent leaves it, `null` clears it, a value goes through `parse`.
fn patch_field(
    field: MaybeUndefined<Text>,
    parse: impl FnOnce(String) -> Result<Option<String>, Error>,
) -> Result<Option<Option<String>>, Error> {
    match field {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(value) => parse(value.into()).map(Some),
    }
}
