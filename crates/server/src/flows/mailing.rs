//! Composing the emails flows write to the outbox: a one-time token with the email that
//! carries its link, or a plain notice.

use latchkey_core::onetime::{self, Purpose};
use latchkey_core::{Error, random, refresh};
use latchkey_store::{NewEvent, NewMail, NewOneTimeToken, Outgoing, Throttle, User};

use super::ids::new_id;
use super::{Ctx, Result};
use crate::limiter::{self, Limit};
use crate::mail::locale::Locale;
use crate::mail::templates::{Data, Kind};

/// The least time between two link emails of one purpose to one account.
pub const RESEND_INTERVAL_MS: i64 = 60_000;

/// A fresh one-time token for `user`, for `purpose`, and the email `kind` that carries its
/// link to `to`. The token itself is not kept anywhere: the outbox re-derives it.
pub fn with_link(
    ctx: &Ctx<'_>,
    kind: Kind,
    purpose: Purpose,
    user: &User,
    to: &str,
) -> Result<Outgoing> {
    let now_ms = ctx.now_ms;
    let id = new_id()?;
    let seed = refresh::seed_from(random::bytes::<32>()?);
    let token = ctx.app.onetime_key.token(&id, &seed, purpose);
    // An address other than the account's own is one nobody has proven yet (a requested
    // change): its mail carries nothing the requester chose, not even the display name —
    // only the account's language, which is one of the server's own.
    let data = if to == user.email {
        Data::for_user(user)
    } else {
        Data::anonymous(user)
    };
    let mut mail = notice(kind, to, &data, now_ms)?;
    mail.token_id = Some(id.clone());
    Ok(Outgoing {
        token: Some(NewOneTimeToken {
            id,
            token_hash: onetime::hash(&token),
            seed,
            user_id: user.id.clone(),
            purpose,
            email: to.to_owned(),
            now_ms,
            expires_at_ms: now_ms.saturating_add(purpose.lifetime_ms()),
            keep_session: None,
        }),
        mail,
    })
}

/// Counts one email to the recipient `key` (an address's key) against the per-recipient
/// limits every flow mailing an address shares (once a minute, five an hour by default):
/// `None` if it may go, else the 429 to answer. What the limits count is emails sent, so a
/// refused request is taken back and asking again within the minute does not eat into the
/// hour.
pub async fn recipient_refusal(ctx: &Ctx<'_>, key: &str) -> Result<Option<Error>> {
    let limiter = &ctx.app.limiter;
    let mut taken = Vec::new();
    for limit in [Limit::RecoveryAddress, Limit::RecoveryAddressHourly] {
        let (verdict, hit) = limiter.count(limit, key).await?;
        taken.push(hit);
        if !verdict.allowed {
            for hit in taken {
                limiter.refund(hit).await;
            }
            return Ok(Some(limiter::refused(&verdict)));
        }
    }
    Ok(None)
}

/// An email without a token (a notice).
pub fn notice(kind: Kind, to: &str, data: &Data, now_ms: i64) -> Result<NewMail> {
    Ok(NewMail {
        id: new_id()?,
        kind: kind.as_str(),
        recipient: to.to_owned(),
        data: serde_json::to_string(data).map_err(|_| Error::Internal)?,
        token_id: None,
        now_ms,
    })
}

/// The verification email for `user`'s current address.
pub fn verification(ctx: &Ctx<'_>, user: &User) -> Result<Outgoing> {
    with_link(
        ctx,
        Kind::VerifyEmail,
        Purpose::VerifyEmail,
        user,
        &user.email,
    )
}

/// Writes `outgoing` (a link email) and `event`, unless the user was sent a link of the
/// same purpose less than a minute ago: then nothing is written, and the answer is how many
/// seconds to wait. Atomic: parallel requests cannot both get through.
pub async fn enqueue_once_a_minute(
    ctx: &Ctx<'_>,
    outgoing: Outgoing,
    event: &NewEvent,
) -> Result<Option<u64>> {
    let outbox = &ctx.app.store.outbox;
    let now_ms = ctx.now_ms;
    let Some(token) = &outgoing.token else {
        outbox.enqueue(&[outgoing], Some(event)).await?;
        return Ok(None);
    };
    let throttle = Throttle {
        user_id: token.user_id.clone(),
        purpose: token.purpose,
        interval_ms: RESEND_INTERVAL_MS,
        now_ms,
    };
    let next = outbox
        .enqueue_throttled(&throttle, &[outgoing], event)
        .await?;
    Ok(next.map(|at| {
        u64::try_from((at - now_ms + 999) / 1000)
            .unwrap_or(1)
            .max(1)
    }))
}

impl Data {
    /// The greeting's name, only once the account's address is verified: before that,
    /// whoever registered the address chose the name, and it must not carry their text
    /// into a stranger's inbox.
    /// The email is in the user's language (decided now, kept with the message).
    pub fn for_user(user: &User) -> Data {
        Data {
            name: user.name.clone().filter(|_| user.email_verified),
            ..Data::anonymous(user)
        }
    }

    /// Nothing about the account but its language: for an address not yet proven.
    pub fn anonymous(user: &User) -> Data {
        Data {
            name: None,
            new_email: None,
            locale: Some(
                Locale::or_default(user.locale.as_deref())
                    .as_str()
                    .to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_used_in_emails_only_once_the_address_is_verified() {
        let mut user = User {
            id: "u".into(),
            email: "ann@example.com".into(),
            name: Some("Win a prize at spam.example".into()),
            image: None,
            email_verified: false,
            created_at: 0,
            locale: None,
        };
        assert_eq!(Data::for_user(&user).name, None);
        user.email_verified = true;
        assert_eq!(
            Data::for_user(&user).name.as_deref(),
            Some("Win a prize at spam.example")
        );
    }

    #[test]
    fn every_email_is_in_the_users_language_even_to_an_unproven_address() {
        let mut user = User {
            id: "u".into(),
            email: "ann@example.com".into(),
            name: Some("Ann".into()),
            image: None,
            email_verified: true,
            created_at: 0,
            locale: Some("de".into()),
        };
        assert_eq!(Data::for_user(&user).locale.as_deref(), Some("de"));
        let unproven = Data::anonymous(&user);
        assert_eq!(
            (unproven.name, unproven.locale.as_deref()),
            (None, Some("de"))
        );
        // Before locales were stored, and a locale no longer shipped: the default.
        for stored in [None, Some("xx".to_owned())] {
            user.locale = stored;
            assert_eq!(Data::for_user(&user).locale.as_deref(), Some("en"));
        }
    }
}
