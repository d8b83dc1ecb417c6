//! Registration, sign-in, sign-out and the current user.

use std::sync::Arc;

use latchkey_core::{Email, Error, TokenSubject};
use latchkey_store::{NewSession, NewUser, User};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::dto::{AuthSession, RegisterRequest, SignInRequest, UserView};
use super::ids::new_id;
use super::text::plain_text;
use crate::auth::BearerAuth;
use crate::error::Failure;
use crate::state::AppState;
use crate::statuses;

statuses! {
    RegisterErrors = [400, 409, 413, 415, 500, 503];
    SignInErrors = [400, 401, 413, 415, 500, 503];
    SignOutErrors = [401, 413, 500];
    AuthenticatedErrors = [401, 500];
}

#[derive(ApiResponse)]
pub enum Registered {
    /// The account exists and is signed in.
    #[oai(status = 201)]
    Created(Json<AuthSession>),
}

#[derive(ApiResponse)]
pub enum SignedIn {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<AuthSession>),
}

#[derive(ApiResponse)]
pub enum SignedOut {
    /// The session is revoked; its access tokens are refused from now on.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum Me {
    /// The signed-in user.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

pub struct AuthApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    ///
    /// Creates the account, signs it in and returns an access token. The password must follow
    /// the policy; the error code names the rule it broke.
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<RegisterRequest>,
    ) -> Result<Registered, Failure<RegisterErrors>> {
        let RegisterRequest {
            email,
            password,
            name,
        } = body.0;
        let email = Email::parse(&email)?;
        state.policy.check(&password, &email)?;
        let name = name
            .map(|n| plain_text("name", &n))
            .transpose()?
            .filter(|n| !n.is_empty());
        let password_hash = state.hasher.hash(password).await?;
        let now_ms = state.clock.now_ms();
        let user = NewUser {
            id: new_id()?,
            email: email.to_string(),
            email_key: email.key(),
            name,
            password_hash,
            now_ms,
        };
        let session = new_session(&state, &user.id, now_ms)?;
        let user = match state.store.register(&user, &session).await {
            Err(latchkey_store::StoreError::Conflict) => return Err(Error::EmailTaken.into()),
            other => other?,
        };
        tracing::info!(user_id = %user.id, "registered");
        Ok(Registered::Created(Json(issue(&state, user, &session.id)?)))
    }

    /// Sign in
    ///
    /// An unknown email and a wrong password get the same answer, in the same time.
    #[oai(path = "/signin", method = "post", operation_id = "signIn")]
    async fn sign_in(
        &self,
        state: Data<&Arc<AppState>>,
        body: Json<SignInRequest>,
    ) -> Result<SignedIn, Failure<SignInErrors>> {
        let SignInRequest { email, password } = body.0;
        let email = Email::parse(&email)?;
        let Some(login) = state.store.find_login(&email.key()).await? else {
            state.hasher.verify_dummy(password).await?;
            tracing::info!("sign-in failed");
            return Err(Error::InvalidCredentials.into());
        };
        if !state
            .hasher
            .verify(password.clone(), login.password_hash.clone())
            .await?
        {
            tracing::info!(user_id = %login.user.id, "sign-in failed");
            return Err(Error::InvalidCredentials.into());
        }
        if state.hasher.needs_rehash(&login.password_hash) {
            upgrade_hash(&state, &login.user.id, password).await;
        }
        let session = new_session(&state, &login.user.id, state.clock.now_ms())?;
        state.store.create_session(&session).await?;
        tracing::info!(user_id = %login.user.id, "signed in");
        Ok(SignedIn::Ok(Json(issue(&state, login.user, &session.id)?)))
    }

    /// Sign out
    ///
    /// Revokes the current session on the server.
    #[oai(path = "/signout", method = "post", operation_id = "signOut")]
    async fn sign_out(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> Result<SignedOut, Failure<SignOutErrors>> {
        let principal = auth.0;
        state
            .store
            .revoke_session(
                &principal.session_id,
                &principal.user_id,
                state.clock.now_ms(),
            )
            .await?;
        tracing::info!(user_id = %principal.user_id, "signed out");
        Ok(SignedOut::NoContent)
    }

    /// The current user
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> Result<Me, Failure<AuthenticatedErrors>> {
        // A live session whose user is gone cannot happen (ON DELETE CASCADE); treat it as
        // a revoked session rather than a server error all the same.
        let user = state
            .store
            .find_user(&auth.0.user_id)
            .await?
            .ok_or(Error::SessionRevoked)?;
        Ok(Me::Ok(Json(user.into())))
    }
}

/// Re-hashes at the current cost. Best effort: the password was right, so a failed upgrade
/// is logged and sign-in goes on.
async fn upgrade_hash(state: &AppState, user_id: &str, password: String) {
    let result = match state.hasher.hash(password).await {
        Ok(hash) => state
            .store
            .set_password_hash(user_id, &hash, state.clock.now_ms())
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = result {
        tracing::warn!(%user_id, %error, "password rehash failed");
    }
}

fn new_session(state: &AppState, user_id: &str, now_ms: i64) -> Result<NewSession, Error> {
    Ok(NewSession {
        id: new_id()?,
        user_id: user_id.to_owned(),
        now_ms,
        expires_at_ms: now_ms.saturating_add(state.session_ttl_ms),
        user_agent: None,
        ip: None,
    })
}

fn issue(state: &AppState, user: User, session_id: &str) -> Result<AuthSession, Error> {
    let subject = TokenSubject {
        user_id: &user.id,
        session_id,
        email: &user.email,
        email_verified: user.email_verified,
    };
    let (access_token, _) = state
        .tokens
        .issue(&subject, state.clock.now_secs(), &new_id()?)?;
    Ok(AuthSession {
        user: user.into(),
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.lifetime_secs(),
    })
}
