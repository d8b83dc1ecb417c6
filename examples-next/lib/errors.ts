/**
 * What to tell a person when the API says no. Latchkey's error codes are stable (they are
 * listed in tests/vectors/error-codes.json and a test checks every one has a sentence here),
 * so the app maps codes, never the server's English.
 */

/** The server's `LATCHKEY_PASSWORD_MIN_LENGTH` (8 unless the server is configured otherwise). */
export const PASSWORD_MIN_CHARS = minChars(process.env.NEXT_PUBLIC_PASSWORD_MIN_LENGTH);

function minChars(setting: string | undefined): number {
  const n = Number.parseInt(setting ?? "", 10);
  return Number.isInteger(n) && n >= 1 && n <= 128 ? n : 8;
}

const SENTENCES: Record<string, string> = {
  invalid_email: "Enter a valid email address.",
  password_too_short: `Your password is too short: use at least ${PASSWORD_MIN_CHARS} characters.`,
  password_too_long: "Your password is too long: use at most 128 characters.",
  password_too_common: "That password is one of the most common ones. Choose something less guessable.",
  password_contains_email: "Your password must not contain the name part of your email address.",
  password_contains_context: "Your password must not contain your name, the app's name or another word tied to this site.",
  invalid_password_policy: "The server's password rules are misconfigured. Please tell the site's owner.",
  unsupported_password_hash: "This account's password cannot be checked. Reset your password to continue.",
  password_hash_too_costly: "This account's password cannot be checked. Reset your password to continue.",
  invalid_credentials: "That email and password don't match an account.",
  email_taken: "That email address is already in use.",
  missing_token: "You're signed out. Sign in to continue.",
  session_revoked: "This session was signed out. Sign in again.",
  session_expired: "Your session has expired. Sign in again.",
  invalid_refresh_token: "Your session has ended. Sign in again.",
  refresh_token_reused: "Your session was ended for safety because it was used from two places. Sign in again.",
  malformed_token: "Your session is not valid. Sign in again.",
  unsupported_algorithm: "Your session is not valid. Sign in again.",
  forbidden_token_header: "Your session is not valid. Sign in again.",
  wrong_token_type: "Your session is not valid. Sign in again.",
  invalid_signature: "Your session is not valid. Sign in again.",
  invalid_claims: "Your session is not valid. Sign in again.",
  token_expired: "Your session has expired. Sign in again.",
  token_not_yet_valid: "Your device's clock looks wrong. Check it and sign in again.",
  unknown_key: "Your session is not valid. Sign in again.",
  invalid_key: "Your session is not valid. Sign in again.",
  weak_secret: "The server's signing secret is misconfigured. Please tell the site's owner.",
  csrf_rejected: "That request did not come from this site, so it was refused. Reload the page and try again.",
  invalid_or_expired_token: "This link is invalid, expired or already used. Ask for a new one.",
  invalid_imported_session: "You're signed out since the move to our new sign-in. Sign in to continue.",
  exchange_not_configured: "You're signed out since the move to our new sign-in. Sign in to continue.",
  email_not_verified: "Confirm your email address first: we've sent you a new link.",
  email_already_verified: "Your email address is already confirmed.",
  unsupported_locale: "Emails are not available in that language. Choose another one.",
  rate_limited: "Too many attempts.",
  rate_limit_unavailable: "Sign-in is briefly unavailable. Try again in a moment.",
  not_found: "That no longer exists. It may have been deleted.",
  invalid_request: "Some of what you entered is not valid. Check it and try again.",
  payload_too_large: "That is too long to save.",
  unsupported_media_type: "The app sent something the server does not understand. Reload and try again.",
  method_not_allowed: "The app asked for something the server does not do. Reload and try again.",
  unavailable: "The service is briefly unavailable. Try again in a moment.",
  internal_error: "Something went wrong on our side. Try again in a moment.",
};

/** The stable code in an API error body (`{ error: "rate_limited", … }`), or "". */
export function errorCode(body: unknown): string {
  return typeof body === "object" && body !== null && "error" in body ? String(body.error) : "";
}

/** "2 minutes", "45 seconds", "1 hour": how long `seconds` is, for people. */
export function waitFor(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds < 60) return unit(Math.max(1, Math.ceil(seconds)), "second");
  if (seconds < 3600) return unit(Math.ceil(seconds / 60), "minute");
  return unit(Math.ceil(seconds / 3600), "hour");
}

/**
 * The sentence for an API error body (`{ error, message }`) and its response; `overrides`
 * words a code for one form (a wrong current password is not a failed sign-in).
 */
export function describeError(body: unknown, response?: Response, overrides?: Record<string, string>): string {
  const code = errorCode(body);
  if (code === "rate_limited") {
    const retry = Number(response?.headers.get("retry-after"));
    return Number.isFinite(retry) && retry > 0
      ? `Too many attempts. Try again in ${waitFor(retry)}.`
      : "Too many attempts. Wait a little and try again.";
  }
  return overrides?.[code] ?? SENTENCES[code] ?? SENTENCES.internal_error!;
}

/** For forms that ask for the current password: a wrong one is not a failed sign-in. */
export const WRONG_PASSWORD = { invalid_credentials: "Your current password is not right." };
