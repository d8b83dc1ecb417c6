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

/**
 * The sentence for an error code: an action's `error` from `latchkey/react` (a 429's
 * `retryAfter` goes in the sentence), or a code from `latchkey/forms` or an API body.
 * `overrides` words a code for one form (a wrong current password is not a failed sign-in).
 */
export function describe(error: { code: string; retryAfter?: number }, overrides?: Record<string, string>): string {
  return messageFor(isErrorCode(error.code) ? error.code : "internal_error", {
    overrides,
    retryAfter: error.retryAfter,
    minPasswordChars: PASSWORD_MIN_CHARS,
  });
}

/** The same for an API answer a server action got (`{ error: "<code>", … }` and its response). */
export function describeAnswer(body: unknown, response: Response): string {
  const code = typeof body === "object" && body !== null && "error" in body ? String(body.error) : "";
  const retryAfter = Number(response.headers.get("retry-after"));
  return describe({ code, retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined });
}

/** For forms that ask for the current password: a wrong one is not a failed sign-in. */
export const WRONG_PASSWORD = { invalid_credentials: "Your current password is not right." };
