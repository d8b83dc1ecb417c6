//! # latchkey-core
//!
//! The pure logic of Latchkey, shared by the server (native) and the npm package
//! (WebAssembly). Nothing here performs I/O, reads a clock or draws randomness inside its
//! logic: the current time and any random bytes come in as arguments, so the same inputs give
//! the same answers on both targets and tests never sleep.
//!
//! # Layout
//!
//! - [`error`]: the one error enum, with the stable snake_case codes that the HTTP API and the
//!   npm package both return.
//! - [`secret`]: the signing secret; refuses anything shorter than 32 bytes and never prints.
//! - [`token`]: access tokens (`typ: at+jwt`, HS256 or EdDSA): issuing, and verification
//!   strict enough to refuse every classic JWT forgery before a signature is even computed.
//! - [`keys`]: Ed25519 signing keys, their thumbprint ids, and JWKS documents.
//! - [`refresh`]: refresh tokens (derived, stored as hashes) and the rotation decision.
//! - [`onetime`]: the one-time tokens in reset, verification and email-change links
//!   (derived, stored as hashes, bound to a purpose).
//! - [`client_ip`]: which address a request comes from behind trusted proxies, and the
//!   rate-limit bucket it falls in (IPv6 by /64).
//! - [`bridge`]: the client address the Next.js bridge vouches for, signed under a key
//!   drawn from the shared secret, and how the bridge reads it from its platform's header.
//! - [`ratelimit`]: sliding-window rate-limit arithmetic and failure backoff, shared by
//!   every counter store.
//! - [`bearer`]: the `Authorization: Bearer` header, read strictly.
//! - [`better_auth`]: Better Auth's session cookie, exchanged once for a Latchkey session by
//!   teams moving from it.
//! - [`cookie`]: the auth cookies' names and exact `Set-Cookie` lines, and reading them back.
//! - [`csrf`]: which cookie-authenticated requests may change state.
//! - [`email`]: the normalised, validated email address.
//! - [`password`]: the password policy (length, common-password blocklist, not the email).
//! - `hash` (feature `hashing`, native only): argon2id hashing, and bounded verification of
//!   argon2id and of the bcrypt and scrypt hashes users bring from other systems.
//! - [`random`]: the one place randomness is drawn (OS on native, `crypto.getRandomValues` on
//!   wasm32), for callers that need fresh bytes to pass into the logic above.

pub mod bearer;
pub mod better_auth;
pub mod bridge;
pub mod client_ip;
pub mod cookie;
pub mod csrf;
pub mod email;
pub mod error;
#[cfg(feature = "hashing")]
pub mod hash;
pub mod keys;
pub mod onetime;
pub mod password;
pub mod random;
pub mod ratelimit;
pub mod refresh;
pub mod secret;
pub mod token;

pub use email::Email;
pub use error::Error;
pub use password::PasswordPolicy;
pub use secret::Secret;
pub use token::{AccessClaims, AccessTokens, TokenSubject};
