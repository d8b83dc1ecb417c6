//! Creating an account. Either it is signed in at once (and a verification email goes
//! out), or, when addresses must be verified first, the answer says nothing about whether
//! the address already had an account.

use latchkey_core::{Email, Error};
use latchkey_store::{EventKind, NewUser, Outgoing, StoreError};

use super::mailing::{notice, verification};
use super::open::{Replacement, new_session};
use super::text::plain_text;
use super::{Ctx, Held, Opened, Result, ids::new_id};
use crate::limiter::Limit;
use crate::mail::locale::Locale;
use crate::mail::templates::{Data as MailData, Kind};

/// What the client sent.
pub struct Registration {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    /// The language of the account's emails (from the request's `Accept-Language`).
    pub locale: Locale,
}

pub enum Registered {
    /// The account exists and is signed in.
    SignedIn(Opened),
    /// Verification comes first: follow the emailed link, then sign in.
    Quietly,
}

/// Registers, counting the attempt against the client address's registration limit first.
/// A session the client still held (`held`) ends: the new account's replaces it.
pub async fn register(
    ctx: &Ctx<'_>,
    input: Registration,
    held: impl Future<Output = Held>,
) -> Result<Registered> {
    let app = ctx.app;
    app.limiter
        .check(Limit::RegisterIp, &ctx.client.bucket())
        .await?;
    let email = Email::parse(&input.email)?;
    let name = input
        .name
        .map(|n| plain_text("name", &n))
        .transpose()?
        .filter(|n| !n.is_empty());
    let password = input.password;
    let locale = Some(input.locale.as_str().to_owned());
    app.policy.check_for(&password, &email, name.as_deref())?;
    if app.require_email_verification {
        quietly(ctx, &email, password, name, locale).await?;
        return Ok(Registered::Quietly);
    }
    let user = NewUser {
        id: new_id()?,
        email: email.to_string(),
        email_key: email.key(),
        name,
        password_hash: app.hasher.hash(password).await?,
        locale,
        now_ms: ctx.now_ms,
    };
    let (session, refresh_token) = new_session(ctx, &user.id)?;
    let event = ctx.event(EventKind::Registered, &user.id, Some(&session.id))?;
    let verify = verification(ctx, &user.user())?;
    let user = match app
        .store
        .accounts
        .register(&user, Some(&session), &event, &[verify])
        .await
    {
        Err(StoreError::Conflict) => return Err(Error::EmailTaken),
        other => other?,
    };
    // Rare enough (signing up while signed in) to end on its own, after the commit.
    if let Some(replaced) = Replacement::of(ctx, held.await, &session.id)? {
        replaced.end(ctx).await?;
    }
    tracing::info!(user_id = %user.id, session_id = %session.id, "registered");
    Ok(Registered::SignedIn(Opened {
        user,
        session_id: session.id,
        refresh_token,
        expires_at_ms: session.expires_at_ms,
    }))
}

/// Registration when addresses must be verified first: one password hash and one
/// transaction whether or not the address is taken, and the same answer, so neither the
/// body nor the time tells an account exists. A new account gets a verification email; an
/// existing one's owner gets a notice.
async fn quietly(
    ctx: &Ctx<'_>,
    email: &Email,
    password: String,
    name: Option<String>,
    locale: Option<String>,
) -> Result<()> {
    let store = &ctx.app.store;
    let existing = store.credentials.find_login(&email.key()).await?;
    let password_hash = ctx.app.hasher.hash(password).await?;
    let owner = match existing {
        Some(login) => Some(login.user),
        None => {
            let user = NewUser {
                id: new_id()?,
                email: email.to_string(),
                email_key: email.key(),
                name,
                password_hash,
                locale,
                now_ms: ctx.now_ms,
            };
            let event = ctx.event(EventKind::Registered, &user.id, None)?;
            let verify = verification(ctx, &user.user())?;
            match store
                .accounts
                .register(&user, None, &event, &[verify])
                .await
            {
                Ok(user) => {
                    tracing::info!(user_id = %user.id, "registered; waiting for verification");
                    None
                }
                // Registered by someone else a moment ago: treat it as existing.
                Err(StoreError::Conflict) => store
                    .credentials
                    .find_login(&email.key())
                    .await?
                    .map(|l| l.user),
                Err(err) => return Err(err.into()),
            }
        }
    };
    if let Some(user) = owner {
        let data = MailData::for_user(&user);
        let mail = notice(Kind::AccountExists, &user.email, &data, ctx.now_ms)?;
        let event = ctx.event(EventKind::RegistrationForExistingAccount, &user.id, None)?;
        store
            .outbox
            .enqueue(&[Outgoing { token: None, mail }], Some(&event))
            .await?;
        tracing::info!(user_id = %user.id, "registration for an existing account; owner notified");
    }
    Ok(())
}
