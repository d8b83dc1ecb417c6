//! The WebAssembly facade over `latchkey-core`: what the npm package `latchkey` calls.
//!
//! No auth logic lives here. Each export converts JavaScript values to the core's types, calls
//! the core, and converts the answer back; the core is the same code the server runs, so the
//! package and the server cannot disagree (`tests/vectors/` holds them to it).
//!
//! Failures are values, never traps (in WebAssembly a panic kills the instance):
//! - anything that depends on a request — a token, a `Cookie` header, an `Origin` — returns a
//!   result object, `{ ok: false, error: { code, message } }` (or `{ action: "refuse", … }`);
//! - configuration mistakes made once at start-up — a short secret, a bad JWKS document, an
//!   unknown cookie kind — throw a `LatchkeyError` whose `code` is the core's error code.
//!
//! Every `///` comment on an export becomes its documentation in the package's `.d.ts`.

#[cfg(feature = "forms")]
mod account;
#[cfg(feature = "session")]
mod better_auth;
#[cfg(feature = "session")]
mod bridge;
#[cfg(feature = "session")]
mod cookies;
#[cfg(feature = "session")]
mod csrf;
// Each module uses only part of the helpers.
#[allow(dead_code)]
mod out;
#[cfg(feature = "session")]
mod refresh;
#[cfg(feature = "session")]
mod verify;

#[cfg(feature = "forms")]
pub use account::{check_password, normalize_email};
#[cfg(feature = "session")]
pub use better_auth::BetterAuthCookies;
#[cfg(feature = "session")]
pub use bridge::{ClientAttestor, client_from_header};
#[cfg(feature = "session")]
pub use cookies::AuthCookies;
#[cfg(feature = "session")]
pub use csrf::{TrustedOrigins, origin_of_url};
#[cfg(feature = "session")]
pub use refresh::{decide_refresh, derive_refresh_token, hash_refresh_token, refresh_token_shape};
#[cfg(feature = "session")]
pub use verify::{Verifier, decode_unverified, error_codes};

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/**
 * Why something was refused: `code` is stable (see the README's error codes; `ErrorCode` is
 * generated next to this file by scripts/build-pkg); `message` is for people.
 */
export interface Failure { code: import("./error-codes.js").ErrorCode; message: string }
/** The claims of a verified Latchkey access token. Times are Unix seconds. */
export interface AccessClaims {
  iss: string; aud: string; sub: string; sid: string; email: string; email_verified: boolean;
  iat: number; nbf: number; exp: number; jti: string;
}
export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; error: Failure };
/** Another issuer's verified JWT (see `Verifier.verifyJwt`): its claims as they are; `sub` is always a string. */
export type JwtResult = { ok: true; claims: { sub: string; [claim: string]: unknown } } | { ok: false; error: Failure };
/** What to do with a request's access token (see `Verifier.assess`). */
export type Assessment =
  | { action: "valid"; claims: AccessClaims }
  | { action: "refresh"; claims: AccessClaims | null }
  | { action: "refuse"; error: Failure };
export type DecodeResult = { ok: true; claims: Record<string, unknown> } | { ok: false; error: Failure };
export type CookieKind = "access" | "refresh";
export type CookieMode = "secure" | "localhost";
export type SetCookieResult = { ok: true; setCookie: string } | { ok: false; error: Failure };
export type ReadCookieResult = { ok: true; value: string | null } | { ok: false; error: Failure };
export type CheckResult = { ok: true } | { ok: false; error: Failure };
/** Better Auth's session cookies in a request: the one to exchange, and every one to clear. */
export interface BetterAuthFound { value: string | null; names: string[] }
export type EmailResult = { ok: true; email: string } | { ok: false; error: Failure };
export type AttestResult = { ok: true; header: string } | { ok: false; error: Failure };
export type AddressResult = { ok: true; address: string } | { ok: false; error: Failure };
export type TokenResult = { ok: true; token: string } | { ok: false; error: Failure };
export interface RefreshPolicy { idleMs: number; absoluteMs: number; graceMs: number }
export interface SessionState { generation: number; revoked: boolean; expiresAtMs: number; absoluteExpiresAtMs: number }
export interface PresentedToken { generation: number; spentAtMs: number | null }
export type RefreshDecision =
  | { ok: true; action: "rotate"; generation: number; expiresAtMs: number }
  | { ok: true; action: "resend"; generation: number }
  | { ok: true; action: "revoke" }
  | { ok: false; error: Failure };
"#;
