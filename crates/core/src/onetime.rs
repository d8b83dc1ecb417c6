//! One-time tokens: the links in password-reset, verification, email-change and unblock emails.
//!
//! Like refresh tokens, they are derived rather than stored: HMAC-SHA256 under a server key
//! (drawn from the server's own secret with its own label) of the token's id, a random
//! per-token seed and its purpose. The database keeps the seed and the token's SHA-256; the
//! mail outbox keeps only the token's id. The worker re-derives the token when it renders
//! the email, so no table ever holds a usable link, and neither a database leak nor the
//! secret alone produces one.
//!
//! The purpose is part of the derivation *and* of the stored row that consuming a token
//! matches on, so a reset token can never verify an address, nor the other way round.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::refresh::keyed_mac;
use crate::{Error, Secret};

/// Length of a one-time token in base64url characters (32 bytes, unpadded).
pub const TOKEN_LEN: usize = 43;

/// What a one-time token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Set a new password (link in the password-reset email).
    ResetPassword,
    /// Prove the account's address (link in the verification email).
    VerifyEmail,
    /// Prove a new address before the account switches to it.
    ChangeEmail,
    /// End a sign-in block (link in the "sign-in blocked" email).
    UnblockSignIn,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [
        Purpose::ResetPassword,
        Purpose::VerifyEmail,
        Purpose::ChangeEmail,
        Purpose::UnblockSignIn,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ResetPassword => "reset_password",
            Purpose::VerifyEmail => "verify_email",
            Purpose::ChangeEmail => "change_email",
            Purpose::UnblockSignIn => "unblock_sign_in",
        }
    }

    pub fn parse(name: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// How long a token lives. A reset link grants the account, so it lives one hour
    /// (OWASP's Forgot Password cheat sheet); the others prove an address or lift a block
    /// (the password is still needed after it), and a day lets people find the email.
    pub fn lifetime_ms(self) -> i64 {
        match self {
            Purpose::ResetPassword => 3600 * 1000,
            Purpose::VerifyEmail | Purpose::ChangeEmail | Purpose::UnblockSignIn => {
                24 * 3600 * 1000
            }
        }
    }
}

/// The server key one-time tokens are derived under.
#[derive(Clone)]
pub struct OneTimeKey([u8; 32]);

impl std::fmt::Debug for OneTimeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeKey([redacted])")
    }
}

impl OneTimeKey {
    pub fn new(secret: &Secret) -> Self {
        OneTimeKey(keyed_mac(
            secret.expose(),
            &[b"latchkey one-time token key v1"],
        ))
    }

    /// The token with this id, seed and purpose.
    pub fn token(&self, id: &str, seed: &str, purpose: Purpose) -> String {
        let purpose = purpose.as_str();
        // Length-prefixed parts: no two different inputs can concatenate to the same bytes.
        let len = |s: &str| (s.len() as u64).to_be_bytes();
        let mac = keyed_mac(
            &self.0,
            &[
                &len(id),
                id.as_bytes(),
                &len(seed),
                seed.as_bytes(),
                &len(purpose),
                purpose.as_bytes(),
            ],
        );
        URL_SAFE_NO_PAD.encode(mac)
    }
}

/// Checks a presented token's shape before any database work. Every malformed token gets
/// the same answer as a wrong, used or expired one.
pub fn check_shape(token: &str) -> Result<(), Error> {
    if crate::refresh::is_256_bit_token(token) {
        Ok(())
    } else {
        Err(Error::InvalidOrExpiredToken)
    }
}

/// What the database keeps instead of the token: lower-case hex SHA-256.
pub fn hash(token: &str) -> String {
    crate::refresh::hash(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> OneTimeKey {
        OneTimeKey::new(&Secret::parse("one-time-token-test-secret-0123456789").unwrap())
    }

    #[test]
    fn a_token_is_43_base64url_characters_and_passes_its_shape_check() {
        let token = key().token("id", "seed", Purpose::ResetPassword);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(check_shape(&token), Ok(()));
    }

    #[test]
    fn the_purpose_id_seed_and_secret_each_change_the_token() {
        let k = key();
        let base = k.token("id", "seed", Purpose::ResetPassword);
        assert_eq!(base, k.token("id", "seed", Purpose::ResetPassword));
        assert_ne!(base, k.token("id", "seed", Purpose::VerifyEmail));
        assert_ne!(base, k.token("id", "seed", Purpose::ChangeEmail));
        assert_ne!(base, k.token("id", "seed", Purpose::UnblockSignIn));
        assert_ne!(base, k.token("id2", "seed", Purpose::ResetPassword));
        assert_ne!(base, k.token("id", "seed2", Purpose::ResetPassword));
        // Length prefixes: moving a character between id and seed is a different token.
        assert_ne!(
            k.token("ab", "c", Purpose::VerifyEmail),
            k.token("a", "bc", Purpose::VerifyEmail)
        );
        let other =
            OneTimeKey::new(&Secret::parse("another-one-time-secret-0123456789ab").unwrap());
        assert_ne!(base, other.token("id", "seed", Purpose::ResetPassword));
        // Not the refresh token of the same inputs: the keys carry different labels.
        let refresh = crate::refresh::RefreshKey::new(
            &Secret::parse("one-time-token-test-secret-0123456789").unwrap(),
        );
        assert_ne!(base, refresh.token("id", "seed", 0));
    }

    #[test]
    fn malformed_tokens_get_the_one_answer() {
        let good = key().token("id", "seed", Purpose::ResetPassword);
        let cases = [
            String::new(),
            good[..42].to_owned(),
            format!("{good}A"),
            good.replace(|_: char| true, "+"),
            format!("{}=", &good[..42]),
            "\u{0}".repeat(43),
        ];
        for case in cases {
            assert_eq!(
                check_shape(&case),
                Err(Error::InvalidOrExpiredToken),
                "{case:?}"
            );
        }
    }

    #[test]
    fn purposes_round_trip_through_their_stored_names() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("reset"), None);
    }
}
