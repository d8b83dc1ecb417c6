/** English: the sentences the example app was written with. */
import { type Catalogue, minChars, waitOf, waitUnits } from "./catalogue.js";

const invalidSession = "Your session is not valid. Sign in again.";
const cannotCheck = "This account's password cannot be checked. Reset your password to continue.";
const moved = "You're signed out since the move to our new sign-in. Sign in to continue.";

function waitFor(seconds: number): string {
  const { n, unit } = waitUnits(seconds);
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

export const en: Catalogue = {
  malformed_token: invalidSession,
  unsupported_algorithm: invalidSession,
  forbidden_token_header: invalidSession,
  wrong_token_type: invalidSession,
  invalid_signature: invalidSession,
  invalid_claims: invalidSession,
  token_expired: "Your session has expired. Sign in again.",
  token_not_yet_valid: "Your device's clock looks wrong. Check it and sign in again.",
  unknown_key: invalidSession,
  invalid_key: invalidSession,
  weak_secret: "The server's signing secret is misconfigured. Please tell the site's owner.",
  invalid_email: "Enter a valid email address.",
  password_too_short: (p) => `Your password is too short: use at least ${minChars(p)} characters.`,
  password_too_long: "Your password is too long: use at most 128 characters.",
  password_too_common: "That password is one of the most common ones. Choose something less guessable.",
  password_contains_email: "Your password must not contain the name part of your email address.",
  password_contains_context:
    "Your password must not contain your name, the app's name or another word tied to this site.",
  invalid_password_policy: "The server's password rules are misconfigured. Please tell the site's owner.",
  unsupported_password_hash: cannotCheck,
  password_hash_too_costly: cannotCheck,
  invalid_credentials: "That email and password don't match an account.",
  email_taken: "That email address is already in use.",
  missing_token: "You're signed out. Sign in to continue.",
  session_revoked: "This session was signed out. Sign in again.",
  session_expired: "Your session has expired. Sign in again.",
  invalid_refresh_token: "Your session has ended. Sign in again.",
  refresh_token_reused: "Your session was ended for safety because it was used from two places. Sign in again.",
  csrf_rejected: "That request did not come from this site, so it was refused. Reload the page and try again.",
  invalid_or_expired_token: "This link is invalid, expired or already used. Ask for a new one.",
  invalid_imported_session: moved,
  exchange_not_configured: moved,
  email_not_verified: "Confirm your email address first: we've sent you a new link.",
  email_already_verified: "Your email address is already confirmed.",
  unsupported_locale: "Emails are not available in that language. Choose another one.",
  rate_limited: (p) => {
    const wait = waitOf(p);
    return wait === null
      ? "Too many attempts. Wait a little and try again."
      : `Too many attempts. Try again in ${waitFor(wait)}.`;
  },
  rate_limit_unavailable: "Sign-in is briefly unavailable. Try again in a moment.",
  not_found: "That no longer exists. It may have been deleted.",
  invalid_request: "Some of what you entered is not valid. Check it and try again.",
  payload_too_large: "That is too long to save.",
  unsupported_media_type: "The app sent something the server does not understand. Reload and try again.",
  method_not_allowed: "The app asked for something the server does not do. Reload and try again.",
  unavailable: "The service is briefly unavailable. Try again in a moment.",
  internal_error: "Something went wrong on our side. Try again in a moment.",
};
