/**
 * What to tell a person when the API says no. Latchkey's error codes are stable (listed in
 * tests/vectors/error-codes.json), and `latchkey/messages` has a sentence for every one, so
 * the app maps codes, never the server's English, and words only what is its own.
 */
import { isErrorCode, messageFor } from "latchkey/messages";

/** The server's `LATCHKEY_PASSWORD_MIN_LENGTH` (8 unless the server is configured otherwise). */
export const PASSWORD_MIN_CHARS = minChars(process.env.NEXT_PUBLIC_PASSWORD_MIN_LENGTH);

function minChars(setting: string | undefined): number {
  const n = Number.parseInt(setting ?? "", 10);
  return Number.isInteger(n) && n >= 1 && n <= 128 ? n : 8;
}

/** The stable code in an API error body (`{ error: "rate_limited", … }`), or "". */
export function errorCode(body: unknown): string {
  return typeof body === "object" && body !== null && "error" in body ? String(body.error) : "";
}

/**
 * The sentence for an API error body (`{ error, message }`) and its response (a 429's
 * `Retry-After` goes in the sentence); `overrides` words a code for one form (a wrong current
 * password is not a failed sign-in).
 */
export function describeError(body: unknown, response?: Response, overrides?: Record<string, string>): string {
  const code = errorCode(body);
  const retryAfter = Number(response?.headers.get("retry-after"));
  return messageFor(isErrorCode(code) ? code : "internal_error", {
    overrides,
    retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    minPasswordChars: PASSWORD_MIN_CHARS,
  });
}

/** For forms that ask for the current password: a wrong one is not a failed sign-in. */
export const WRONG_PASSWORD = { invalid_credentials: "Your current password is not right." };
