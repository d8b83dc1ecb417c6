//! Registration, sign-in, sign-out and the current user.

use latchkey_store::EventKind;
use std::sync::Arc;

use latchkey_core::cookie::CookieKind;
use latchkey_core::refresh::{self, Decision, PresentedToken, SessionState};
use latchkey_core::{Email, Error, TokenSubject};
use latchkey_store::{NewEvent, NewUser, Outgoing, RefreshRecord, Rotation, StoreError, User};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::dto::{Accepted, AuthSession, RefreshRequest, RegisterRequest, SignInRequest};
use super::guard::{self, Attempt};
use super::ids::new_id;
use super::mailing::{self, enqueue_once_a_minute, notice};
use super::open::{self, Replacement};
use super::text::plain_text;
use super::transport::{Transport, WithCookies};
use crate::auth::{ClientInfo, MaybeCaller, check_csrf, cookie_header};
use crate::error::Failure;
use crate::limiter::Limit;
use crate::mail::templates::{Data as MailData, Kind};
use crate::state::AppState;
use crate::statuses;

statuses! {
    RegisterErrors = [400, 403, 409, 413, 415, 429, 500, 503];
    SignInErrors = [400, 401, 403, 413, 415, 429, 500, 503];
    RefreshErrors = [400, 401, 403, 413, 415, 429, 500, 503];
    SignOutErrors = [401, 403, 413, 415, 429, 500, 503];
    AuthenticatedErrors = [401, 500, 503];
}

/// What registration answers when addresses must be verified first.
pub const REGISTERED_QUIETLY: &str =
    "Check your inbox: follow the link we sent to finish, then sign in.";

#[derive(ApiResponse)]
pub enum Registered {
    /// The account exists and is signed in; a verification email is on its way.
    #[oai(status = 201)]
    Created(Json<AuthSession>),
    /// With LATCHKEY_REQUIRE_EMAIL_VERIFICATION: follow the emailed link, then sign in. The
    /// answer is the same, in content and in time, when the address already has an account
    /// (its owner gets a notice instead).
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

#[derive(ApiResponse)]
pub enum SignedIn {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<AuthSession>),
}

#[derive(ApiResponse)]
pub enum Refreshed {
    /// A new access token and the session's next refresh token; the presented one is spent.
    #[oai(status = 200)]
    Ok(Json<AuthSession>),
}

#[derive(ApiResponse)]
pub enum SignedOut {
    /// The session is revoked; its access tokens are refused from now on.
    #[oai(status = 204)]
    NoContent,
}

pub struct AuthApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    ///
    /// Creates the account, signs it in and returns an access token and a refresh token,
    /// and sends a verification email. The password must follow the policy; the error code
    /// names the rule it broke. With `X-Latchkey-Transport: cookie` the tokens are set as
    /// HttpOnly cookies instead (the request must then come from a trusted origin). When the
    /// server requires verified addresses, the answer is 202 with no session, whether or not
    /// the address was already registered.
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// `cookie` to receive the tokens as HttpOnly cookies rather than in the body.
        #[oai(name = "X-Latchkey-Transport")]
        transport: Header<Option<Transport>>,
        body: Json<RegisterRequest>,
    ) -> Result<WithCookies<Registered>, Failure<RegisterErrors>> {
        let cookies = wants_cookies(&state, req, transport.0)?;
        state
            .limiter
            .check(Limit::RegisterIp, &ClientInfo::of(req).bucket())
            .await?;
        let RegisterRequest {
            email,
            password,
            name,
        } = body.0;
        let password = password.into_string();
        let email = Email::parse(&email)?;
        let name = name
            .map(|n| plain_text("name", &n))
            .transpose()?
            .filter(|n| !n.is_empty());
        state.policy.check_for(&password, &email, name.as_deref())?;
        let client = ClientInfo::of(req);
        if state.require_email_verification {
            let answer = register_quietly(&state, &client, &email, password, name).await?;
            return Ok(WithCookies::new(answer, Vec::new()));
        }
        let password_hash = state.hasher.hash(password).await?;
        let held = open::held_session(&state, req).await;
        let now_ms = state.clock.now_ms();
        let user = NewUser {
            id: new_id()?,
            email: email.to_string(),
            email_key: email.key(),
            name,
            password_hash,
            now_ms,
        };
        let (session, refresh_token) = open::new_session(&state, &user.id, now_ms, &client)?;
        let event = event(
            EventKind::Registered,
            &user.id,
            Some(&session.id),
            &client,
            now_ms,
        )?;
        let verify = mailing::verification(&state, &user_of(&user), now_ms)?;
        let user = match state
            .store
            .accounts
            .register(&user, Some(&session), &event, &[verify])
            .await
        {
            Err(StoreError::Conflict) => return Err(Error::EmailTaken.into()),
            other => other?,
        };
        // Rare enough (signing up while signed in) to end on its own, after the commit.
        if let Some(replaced) = Replacement::of(held, &session.id, &client, now_ms)? {
            replaced.end(&state).await?;
        }
        tracing::info!(user_id = %user.id, session_id = %session.id, "registered");
        let (body, set) = respond(
            &state,
            user,
            &session.id,
            refresh_token,
            session.expires_at_ms,
            cookies,
        )?;
        Ok(WithCookies::new(Registered::Created(Json(body)), set))
    }

    /// Sign in
    ///
    /// An unknown email and a wrong password get the same answer, in the same time. Returns
    /// an access token and a refresh token (or sets them as cookies, as for register). A
    /// session the request still holds (its access token, or its refresh cookie) ends: the
    /// new one replaces it. Past the cap of live sessions per user (default 50), the least
    /// recently used end.
    #[oai(path = "/signin", method = "post", operation_id = "signIn")]
    async fn sign_in(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// `cookie` to receive the tokens as HttpOnly cookies rather than in the body.
        #[oai(name = "X-Latchkey-Transport")]
        transport: Header<Option<Transport>>,
        body: Json<SignInRequest>,
    ) -> Result<WithCookies<SignedIn>, Failure<SignInErrors>> {
        let cookies = wants_cookies(&state, req, transport.0)?;
        let SignInRequest { email, password } = body.0;
        let password = password.into_string();
        let email = Email::parse(&email)?;
        let client = ClientInfo::of(req);
        let attempt = Attempt {
            email: &email,
            client: &client,
            session_id: None,
            failed_event: EventKind::SignInFailed,
        };
        let login = guard::check_password(&state, &attempt, &password).await?;
        if state.hasher.needs_rehash(&login.password_hash) {
            upgrade_hash(&state, &login.user.id, password).await;
        }
        if state.require_email_verification && !login.user.email_verified {
            return Err(refuse_unverified(&state, &login.user, &client)
                .await?
                .into());
        }
        let held = open::held_session(&state, req).await;
        let now_ms = state.clock.now_ms();
        let (session, refresh_token) = open::new_session(&state, &login.user.id, now_ms, &client)?;
        let event = event(
            EventKind::SignedIn,
            &login.user.id,
            Some(&session.id),
            &client,
            now_ms,
        )?;
        let replaced = Replacement::of(held, &session.id, &client, now_ms)?;
        let _forget = replaced.as_ref().map(|r| r.forget_after(&state));
        let replaces = replaced.as_ref().map(Replacement::as_replaced);
        state
            .store
            .sessions
            .create_session(&session, &event, replaces.as_ref())
            .await?;
        open::evict_beyond_cap(&state, &login.user.id, &session.id, &client).await?;
        tracing::info!(user_id = %login.user.id, session_id = %session.id, "signed in");
        let (body, set) = respond(
            &state,
            login.user,
            &session.id,
            refresh_token,
            session.expires_at_ms,
            cookies,
        )?;
        Ok(WithCookies::new(SignedIn::Ok(Json(body)), set))
    }

    /// Refresh
    ///
    /// Trades a refresh token (from the body, or else the refresh cookie) for a new access
    /// token and the next refresh token; the presented one is spent. Presenting the token
    /// spent by the last rotation again within the grace window (default 10 s) returns the
    /// same live token — two tabs refreshing at once both stay signed in; after the window,
    /// or for any older spent token, it is treated as theft: the whole session is revoked
    /// and the answer is 401 `refresh_token_reused`. Each refresh
    /// slides the session's idle expiry (default 7 days), never past its absolute lifetime
    /// (default 30 days); an expired session answers 401 `session_expired`.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// `cookie` to receive the tokens as HttpOnly cookies rather than in the body.
        /// Implied when the refresh token comes from the cookie.
        #[oai(name = "X-Latchkey-Transport")]
        transport: Header<Option<Transport>>,
        body: Json<RefreshRequest>,
    ) -> Result<WithCookies<Refreshed>, Failure<RefreshErrors>> {
        let (token, cookies) = match body.0.refresh_token {
            Some(token) => (
                token.into_string(),
                wants_cookies(&state, req, transport.0)?,
            ),
            None => {
                let header = cookie_header(req);
                let token = state
                    .cookies
                    .read(&header, CookieKind::Refresh)?
                    .ok_or(Error::InvalidRefreshToken)?
                    .to_owned();
                check_csrf(&state, req)?;
                (token, true)
            }
        };
        refresh::check_shape(&token)?;
        let client = ClientInfo::of(req);
        let (record, next_token, expires_at_ms) = rotate(&state, &token, &client).await?;
        let (body, set) = respond(
            &state,
            record.user,
            &record.session_id,
            next_token,
            expires_at_ms,
            cookies,
        )?;
        Ok(WithCookies::new(Refreshed::Ok(Json(body)), set))
    }

    /// Sign out
    ///
    /// Revokes the current session on the server (its access and refresh tokens are refused
    /// from now on) and clears the auth cookies. The session is named by the access token
    /// (bearer or cookie) or, once the access cookie has expired, by the live refresh cookie;
    /// cookie requests must pass the origin rule.
    #[oai(path = "/signout", method = "post", operation_id = "signOut")]
    async fn sign_out(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: MaybeCaller,
    ) -> Result<WithCookies<SignedOut>, Failure<SignOutErrors>> {
        let (user_id, session_id) = match auth.0 {
            Ok(principal) => (principal.user_id, principal.session_id),
            Err(refused) => match open::session_of_refresh_cookie(&state, req).await? {
                Some(ids) => ids,
                None => return Err(refused.into()),
            },
        };
        let now_ms = state.clock.now_ms();
        let event = event(
            EventKind::SignedOut,
            &user_id,
            Some(&session_id),
            &ClientInfo::of(req),
            now_ms,
        )?;
        let _forget = state.liveness.forget_after(&session_id);
        state
            .store
            .sessions
            .revoke_session(&session_id, &user_id, now_ms, &event)
            .await?;
        tracing::info!(%user_id, %session_id, "signed out");
        let clear = vec![
            state.cookies.clear(CookieKind::Access),
            state.cookies.clear(CookieKind::Refresh),
        ];
        Ok(WithCookies::new(SignedOut::NoContent, clear))
    }
}

/// Registration when addresses must be verified first: one password hash and one
/// transaction whether or not the address is taken, and the same answer, so neither the
/// body nor the time tells an account exists. A new account gets a verification email; an
/// existing one's owner gets a notice.
async fn register_quietly(
    state: &AppState,
    client: &ClientInfo,
    email: &Email,
    password: String,
    name: Option<String>,
) -> Result<Registered, Failure<RegisterErrors>> {
    let existing = state.store.credentials.find_login(&email.key()).await?;
    let password_hash = state.hasher.hash(password).await?;
    let now_ms = state.clock.now_ms();
    let owner = match existing {
        Some(login) => Some(login.user),
        None => {
            let user = NewUser {
                id: new_id()?,
                email: email.to_string(),
                email_key: email.key(),
                name,
                password_hash,
                now_ms,
            };
            let event = event(EventKind::Registered, &user.id, None, client, now_ms)?;
            let verify = mailing::verification(state, &user_of(&user), now_ms)?;
            match state
                .store
                .accounts
                .register(&user, None, &event, &[verify])
                .await
            {
                Ok(user) => {
                    tracing::info!(user_id = %user.id, "registered; waiting for verification");
                    None
                }
                // Registered by someone else a moment ago: treat it as existing.
                Err(StoreError::Conflict) => state
                    .store
                    .credentials
                    .find_login(&email.key())
                    .await?
                    .map(|l| l.user),
                Err(err) => return Err(err.into()),
            }
        }
    };
    if let Some(user) = owner {
        let mail = notice(
            Kind::AccountExists,
            &user.email,
            &MailData::for_user(&user),
            now_ms,
        )?;
        let event = event(
            EventKind::RegistrationForExistingAccount,
            &user.id,
            None,
            client,
            now_ms,
        )?;
        state
            .store
            .outbox
            .enqueue(&[Outgoing { token: None, mail }], Some(&event))
            .await?;
        tracing::info!(user_id = %user.id, "registration for an existing account; owner notified");
    }
    Ok(Registered::Accepted(Json(Accepted::new(
        REGISTERED_QUIETLY,
    ))))
}

/// Sign-in with the right password to an unverified account, when verification is
/// required: a fresh verification email (at most one a minute) and 403 `email_not_verified`.
async fn refuse_unverified(
    state: &AppState,
    user: &User,
    client: &ClientInfo,
) -> Result<Error, Failure<SignInErrors>> {
    let now_ms = state.clock.now_ms();
    let event = event(EventKind::SignInUnverified, &user.id, None, client, now_ms)?;
    let verify = mailing::verification(state, user, now_ms)?;
    if enqueue_once_a_minute(state, verify, &event)
        .await?
        .is_some()
    {
        // No new link (one went out within the minute), but the attempt is on record.
        state.store.events.record_event(&event).await?;
    }
    tracing::info!(user_id = %user.id, "sign-in refused: address not verified");
    Ok(Error::EmailNotVerified)
}

/// The user a [`NewUser`] becomes.
fn user_of(user: &NewUser) -> User {
    User {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        image: None,
        email_verified: false,
        created_at: user.now_ms,
    }
}

/// Whether tokens go into cookies. Asking for cookies is itself a cookie flow, so the
/// request must pass the CSRF rule: otherwise any site could sign a visitor in to an
/// account of the attacker's choosing (login CSRF).
fn wants_cookies(
    state: &AppState,
    req: &Request,
    transport: Option<Transport>,
) -> Result<bool, Error> {
    if transport == Some(Transport::Cookie) {
        check_csrf(state, req)?;
        return Ok(true);
    }
    Ok(false)
}

/// Applies the rotation policy to a presented refresh token. Returns the session's record,
/// the refresh token to hand out and the session's (new) expiry.
async fn rotate(
    state: &AppState,
    token: &str,
    client: &ClientInfo,
) -> Result<(RefreshRecord, String, i64), Failure<RefreshErrors>> {
    let hash = refresh::hash(token);
    // A lost compare-and-set means another request rotated first; reading again turns this
    // request into a grace-window resend of that request's token. One re-read settles it;
    // the third try only guards against a session rotated again in between. Past that the
    // request gives up with 503 rather than loop.
    for attempt in 0..3 {
        let now_ms = state.clock.now_ms();
        let record = state
            .store
            .sessions
            .find_refresh(&hash)
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        if attempt == 0 {
            state
                .limiter
                .check(Limit::RefreshSession, &record.session_id)
                .await?;
        }
        let session = SessionState {
            generation: record.session_generation,
            revoked: record.revoked,
            expires_at_ms: record.expires_at,
            absolute_expires_at_ms: record.absolute_expires_at,
        };
        let presented = PresentedToken {
            generation: record.token_generation,
            spent_at_ms: record.spent_at,
        };
        match refresh::decide(&session, &presented, now_ms, &state.refresh_policy)? {
            Decision::Rotate {
                generation,
                expires_at_ms,
            } => {
                let next =
                    state
                        .refresh_key
                        .token(&record.session_id, &record.refresh_seed, generation);
                let rotation = Rotation {
                    session_id: record.session_id.clone(),
                    from_generation: record.session_generation,
                    presented_hash: hash.clone(),
                    next_hash: refresh::hash(&next),
                    now_ms,
                    expires_at_ms,
                };
                if state.store.sessions.rotate_refresh(&rotation).await? {
                    tracing::debug!(session_id = %record.session_id, generation, "refresh token rotated");
                    return Ok((record, next, expires_at_ms));
                }
            }
            Decision::Resend { generation } => {
                let live = super::resend::live_token(state, &record, generation)
                    .await?
                    .ok_or(Error::InvalidRefreshToken)?;
                // Handing out a live token again is worth a line in the audit trail: a
                // stream of resends is what a token thief racing its victim looks like.
                let event = event(
                    EventKind::RefreshTokenResent,
                    &record.user.id,
                    Some(&record.session_id),
                    client,
                    now_ms,
                )?;
                state.store.events.record_event(&event).await?;
                tracing::info!(session_id = %record.session_id, generation, "live refresh token sent again (grace window)");
                let expires_at = record.expires_at;
                return Ok((record, live, expires_at));
            }
            Decision::Revoke => {
                let event = event(
                    EventKind::RefreshTokenReused,
                    &record.user.id,
                    Some(&record.session_id),
                    client,
                    now_ms,
                )?;
                let _forget = state.liveness.forget_after(&record.session_id);
                state
                    .store
                    .sessions
                    .revoke_session(&record.session_id, &record.user.id, now_ms, &event)
                    .await?;
                tracing::warn!(
                    user_id = %record.user.id,
                    session_id = %record.session_id,
                    "spent refresh token presented after the grace window; session revoked"
                );
                return Err(Error::RefreshTokenReused.into());
            }
        }
    }
    Err(Error::Unavailable.into())
}

/// Re-hashes at the current cost. Best effort: the password was right, so a failed upgrade
/// is logged and sign-in goes on.
async fn upgrade_hash(state: &AppState, user_id: &str, password: String) {
    let result = match state.hasher.hash(password).await {
        Ok(hash) => state
            .store
            .credentials
            .set_password_hash(user_id, &hash, state.clock.now_ms())
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = result {
        tracing::warn!(%user_id, %error, "password rehash failed");
    }
}

/// A security event for the audit trail.
pub fn event(
    kind: EventKind,
    user_id: &str,
    session_id: Option<&str>,
    client: &ClientInfo,
    now_ms: i64,
) -> Result<NewEvent, Error> {
    Ok(NewEvent {
        id: new_id()?,
        kind,
        user_id: Some(user_id.to_owned()),
        session_id: session_id.map(str::to_owned),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        now_ms,
    })
}

/// Issues an access token and packages both tokens for the transport: in the body, or as
/// cookies (and then absent from the body).
pub fn respond(
    state: &AppState,
    user: User,
    session_id: &str,
    refresh_token: String,
    session_expires_at_ms: i64,
    cookies: bool,
) -> Result<(AuthSession, Vec<String>), Error> {
    let subject = TokenSubject {
        user_id: &user.id,
        session_id,
        email: &user.email,
        email_verified: user.email_verified,
    };
    let (access_token, _) = state
        .tokens
        .issue(&subject, state.clock.now_secs(), &new_id()?)?;
    let expires_in = state.tokens.lifetime_secs();
    let refresh_expires_in = (session_expires_at_ms - state.clock.now_ms()).max(0) / 1000;
    let mut body = AuthSession {
        user: user.into(),
        access_token: None,
        refresh_token: None,
        token_type: "Bearer".into(),
        expires_in,
        refresh_expires_in,
    };
    if !cookies {
        body.access_token = Some(access_token);
        body.refresh_token = Some(refresh_token);
        return Ok((body, Vec::new()));
    }
    let set = vec![
        state
            .cookies
            .set(CookieKind::Access, &access_token, expires_in)?,
        state
            .cookies
            .set(CookieKind::Refresh, &refresh_token, refresh_expires_in)?,
    ];
    Ok((body, set))
}
