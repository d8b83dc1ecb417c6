//! Proving it is still the owner: the current password, asked for before a signed-in
//! session may change the password or the address (so a session left open on a borrowed
//! computer cannot take the account over).

use latchkey_core::{Email, Error};
use latchkey_store::{EventKind, Login};

use super::password::{Attempt, check_password};
use super::profile::signed_in_user;
use super::recovery::stored_email;
use super::{Ctx, Result};

/// The signed-in user's current address and display name.
pub async fn own_address_and_name(ctx: &Ctx<'_>, user_id: &str) -> Result<(Email, Option<String>)> {
    let user = signed_in_user(ctx, user_id).await?;
    Ok((stored_email(&user.email)?, user.name))
}

/// The caller's login if `password` is theirs. The check counts toward the sign-in limits,
/// the account's failure streak and a per-session limit (see [`check_password`]): a wrong
/// password is 401 `invalid_credentials` and a recorded failed attempt, and guessing is
/// refused with 429 like guessing at sign-in.
pub async fn current_password(
    ctx: &Ctx<'_>,
    user_id: &str,
    session_id: &str,
    email: &Email,
    password: &str,
) -> Result<Login> {
    let attempt = Attempt {
        email,
        session_id: Some(session_id),
        failed_event: EventKind::PasswordCheckFailed,
    };
    let login = check_password(ctx, &attempt, password).await?;
    // The session's user is the account the address names, unless the address moved to
    // another account between the two reads; never check one user's password for another.
    if login.user.id != user_id {
        return Err(Error::SessionRevoked);
    }
    Ok(login)
}
