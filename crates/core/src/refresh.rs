//! Refresh tokens: what they are, how they are stored, and what presenting one does.
//!
//! A refresh token is 256 bits, base64url (43 characters). It is not drawn afresh at each
//! rotation but *derived*: HMAC-SHA256 under a server key of (session id, a random per-session
//! seed, generation). That is what lets a spent token presented again inside the grace window
//! get the very same successor (two tabs refreshing at once both stay signed in) while the
//! database holds only SHA-256 hashes: the successor is re-derived, never read back. Neither
//! the database (seed, hashes) nor the server key alone is enough to produce a token.
//!
//! [`decide`] is the whole rotation policy as a pure function of the stored state, the
//! presented token's record and the time; the store then applies the decision with one
//! compare-and-set on the session's generation, so concurrent refreshes cannot fork a family.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{Error, Secret};

/// Length of a refresh token in base64url characters (32 bytes, unpadded).
pub const TOKEN_LEN: usize = 43;

/// The server key refresh tokens are derived under. Itself derived, with a distinct label,
/// from the server's own secret (which the app never holds; earlier releases used the
/// app's secret, which the server still accepts as a legacy key for re-derivation only).
#[derive(Clone)]
pub struct RefreshKey([u8; 32]);

impl std::fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshKey([redacted])")
    }
}

impl RefreshKey {
    pub fn new(secret: &Secret) -> Self {
        RefreshKey(keyed_mac(
            secret.expose(),
            &[b"latchkey refresh-token key v1"],
        ))
    }

    /// The refresh token of `generation` in the session with this id and seed.
    pub fn token(&self, session_id: &str, seed: &str, generation: i64) -> String {
        let generation = generation.to_be_bytes();
        // Length-prefixed parts: no two different inputs can concatenate to the same bytes.
        let id_len = (session_id.len() as u64).to_be_bytes();
        let seed_len = (seed.len() as u64).to_be_bytes();
        let mac = keyed_mac(
            &self.0,
            &[
                &id_len,
                session_id.as_bytes(),
                &seed_len,
                seed.as_bytes(),
                &generation,
            ],
        );
        URL_SAFE_NO_PAD.encode(mac)
    }
}

/// A fresh per-session seed (base64url of 32 random bytes) from caller-supplied bytes.
pub fn seed_from(bytes: [u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks the shape of a presented token before any database work: exactly 43 base64url
/// characters that decode to 32 bytes.
pub fn check_shape(token: &str) -> Result<(), Error> {
    if is_256_bit_token(token) {
        Ok(())
    } else {
        Err(Error::InvalidRefreshToken)
    }
}

/// Exactly 43 base64url characters that decode to 32 bytes: the shape of every opaque
/// token Latchkey hands out (refresh and one-time alike).
pub(crate) fn is_256_bit_token(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// What the database keeps instead of the token: lower-case hex SHA-256.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn keyed_mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Session lifetimes and the reuse grace window, all in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshPolicy {
    /// A session not refreshed for this long ends (sliding).
    pub idle_ms: i64,
    /// No session lives longer than this from sign-in, however active.
    pub absolute_ms: i64,
    /// How long after a token is spent it may be presented again and get the same successor.
    pub grace_ms: i64,
}

impl RefreshPolicy {
    pub const DEFAULT: RefreshPolicy = RefreshPolicy {
        idle_ms: 7 * 24 * 3600 * 1000,
        absolute_ms: 30 * 24 * 3600 * 1000,
        grace_ms: 10 * 1000,
    };

    /// When a session used at `now_ms` expires: idle time from now, capped by the absolute end.
    pub fn expiry(&self, now_ms: i64, absolute_expires_at_ms: i64) -> i64 {
        now_ms
            .saturating_add(self.idle_ms)
            .min(absolute_expires_at_ms)
    }
}

/// The stored state of the session a presented token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The generation of the session's one live refresh token.
    pub generation: i64,
    pub revoked: bool,
    /// The sliding expiry (already capped by the absolute one).
    pub expires_at_ms: i64,
    pub absolute_expires_at_ms: i64,
}

/// The stored record of the presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresentedToken {
    pub generation: i64,
    /// When it was rotated away; `None` while it is the live token.
    pub spent_at_ms: Option<i64>,
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The live token: advance the session to `generation` (compare-and-set on the current
    /// one) and extend it to `expires_at_ms`.
    Rotate { generation: i64, expires_at_ms: i64 },
    /// The immediate predecessor of the live token, spent moments ago (another tab won the
    /// race): hand back the live token of `generation` unchanged. No new branch is created.
    Resend { generation: i64 },
    /// A spent token presented after the grace window, or an older one than the live
    /// token's predecessor at any time: assume theft, revoke the session.
    Revoke,
}

/// Decides what presenting `token` at `now_ms` does to `session`.
///
/// Errors: a revoked session is `session_revoked`, an expired one `session_expired`, and a
/// record that cannot belong to this session (a generation ahead of it) `invalid_refresh_token`.
pub fn decide(
    session: &SessionState,
    token: &PresentedToken,
    now_ms: i64,
    policy: &RefreshPolicy,
) -> Result<Decision, Error> {
    if session.revoked {
        return Err(Error::SessionRevoked);
    }
    if now_ms >= session.expires_at_ms || now_ms >= session.absolute_expires_at_ms {
        return Err(Error::SessionExpired);
    }
    match (token.generation, token.spent_at_ms) {
        (g, None) if g == session.generation => Ok(Decision::Rotate {
            generation: g.checked_add(1).ok_or(Error::InvalidRefreshToken)?,
            expires_at_ms: policy.expiry(now_ms, session.absolute_expires_at_ms),
        }),
        (g, Some(spent_at)) if g < session.generation => {
            // Only the token spent by the last rotation can be another tab's race. An older
            // one was copied before that rotation, so it is reuse however recently spent:
            // otherwise a thief holding R0 could still collect R2 after R1 was rotated.
            let predecessor = g.checked_add(1) == Some(session.generation);
            if predecessor && now_ms < spent_at.saturating_add(policy.grace_ms) {
                Ok(Decision::Resend {
                    generation: session.generation,
                })
            } else {
                Ok(Decision::Revoke)
            }
        }
        _ => Err(Error::InvalidRefreshToken),
    }
}

#[cfg(test)]
mod tests;
