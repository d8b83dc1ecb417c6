//! Registration, sign-in, sign-out and the current user.

use std::sync::Arc;

use latchkey_core::cookie::CookieKind;
use latchkey_core::{Error, TokenSubject};
use poem::Request;
use poem::http::header::ACCEPT_LANGUAGE;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::dto::{Accepted, AuthSession, RefreshRequest, RegisterRequest, SignInRequest, Text};
use super::held::{held_session, session_of_refresh_cookie};
use super::json::Json;
use super::transport::{Transport, WithCookies};
use crate::auth::{ClientInfo, MaybeCaller, check_csrf, cookie_header};
use crate::error::Failure;
use crate::flows::register::{Registered as Outcome, Registration};
use crate::flows::{self, Ctx, Opened, ids::new_id};
use crate::mail::locale::Locale;
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

// One value per request, moved once into the response: the size difference costs nothing,
// and boxing the session would add an allocation to every registration.
#[allow(clippy::large_enum_variant)]
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

#[derive(Default)]
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
    /// the address was already registered. The account's emails are in the language its
    /// `Accept-Language` header prefers among the server's (`en`, `de`); English when it
    /// names none of them or cannot be read. `PATCH /me` changes it.
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
        let RegisterRequest {
            email,
            password,
            name,
        } = body.0;
        let accept_language = req
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok());
        let input = Registration {
            email: email.into_string(),
            password: password.into_string(),
            name: name.map(Text::into_string),
            locale: Locale::negotiate(accept_language),
        };
        let held = held_session(&state, req);
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        match flows::register::register(&ctx, input, held).await? {
            Outcome::Quietly => Ok(WithCookies::new(
                Registered::Accepted(Json(Accepted::new(REGISTERED_QUIETLY))),
                Vec::new(),
            )),
            Outcome::SignedIn(opened) => {
                let (body, set) = respond(&ctx, opened, cookies)?;
                Ok(WithCookies::new(Registered::Created(Json(body)), set))
            }
        }
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
        let held = held_session(&state, req);
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        let opened = flows::sign_in::sign_in(&ctx, &email, password.into_string(), held).await?;
        let (body, set) = respond(&ctx, opened, cookies)?;
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
            None => (refresh_cookie(&state, req)?, true),
        };
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        let opened = flows::refresh::refresh(&ctx, &token).await?;
        let (body, set) = respond(&ctx, opened, cookies)?;
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
            Err(refused) => match session_of_refresh_cookie(&state, req).await? {
                Some(ids) => ids,
                None => return Err(refused.into()),
            },
        };
        let client = ClientInfo::of(req);
        let ctx = Ctx::new(&state, &client);
        flows::sessions::sign_out(&ctx, &user_id, &session_id).await?;
        let clear = vec![
            state.cookies.clear(CookieKind::Access),
            state.cookies.clear(CookieKind::Refresh),
        ];
        Ok(WithCookies::new(SignedOut::NoContent, clear))
    }
}

/// The refresh token in the request's cookie. The cookie is sent by the browser on its
/// own, so the origin rule applies.
fn refresh_cookie(state: &AppState, req: &Request) -> Result<String, Error> {
    let header = cookie_header(req);
    let token = state
        .cookies
        .read(&header, CookieKind::Refresh)?
        .ok_or(Error::InvalidRefreshToken)?
        .to_owned();
    check_csrf(state, req)?;
    Ok(token)
}

/// Whether tokens go into cookies. Asking for cookies is itself a cookie flow, so the
/// request must pass the CSRF rule: otherwise any site could sign a visitor in to an
/// account of the attacker's choosing (login CSRF).
pub fn wants_cookies(
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

/// Issues an access token for a session just opened and packages both tokens for the
/// transport: in the body, or as cookies (and then absent from the body).
pub fn respond(
    ctx: &Ctx<'_>,
    opened: Opened,
    cookies: bool,
) -> Result<(AuthSession, Vec<String>), Error> {
    let state = ctx.app;
    let user = opened.user;
    let subject = TokenSubject {
        user_id: &user.id,
        session_id: &opened.session_id,
        email: &user.email,
        email_verified: user.email_verified,
    };
    let now_secs = ctx.now_ms.div_euclid(1000);
    let (access_token, _) = state.tokens.issue(&subject, now_secs, &new_id()?)?;
    let expires_in = state.tokens.lifetime_secs();
    let refresh_expires_in = (opened.expires_at_ms - ctx.now_ms).max(0) / 1000;
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
        body.refresh_token = Some(opened.refresh_token);
        return Ok((body, Vec::new()));
    }
    let set = vec![
        state
            .cookies
            .set(CookieKind::Access, &access_token, expires_in)?,
        state.cookies.set(
            CookieKind::Refresh,
            &opened.refresh_token,
            refresh_expires_in,
        )?,
    ];
    Ok((body, set))
}
