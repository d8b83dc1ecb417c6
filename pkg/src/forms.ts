/**
 * latchkey/forms: the server's sign-up rules — the password policy (length, the common-password
 * list, not the email's name) and email normalisation — for checking a form before it is
 * sent. A separate WebAssembly module from `latchkey`, because the password list and the
 * Unicode tables would double the size of what a proxy loads just to verify sessions.
 */
import * as glue from "./generated/latchkey-forms.js";
import wasmBase64 from "./generated/latchkey-forms-bytes.js";
import { loader } from "./load.js";

export type { CheckResult, EmailResult, Failure } from "./generated/latchkey-forms.js";

const wasm = loader(glue, wasmBase64);

/** Instantiates the module ahead of first use (see `initLatchkey` in `latchkey`). */
export function initLatchkeyForms(module?: WebAssembly.Module | BufferSource): Promise<void> {
  return wasm.init(module);
}

/**
 * Checks a new password for the account `email` under the server's policy (`minChars`
 * defaults to 8, the server's `LATCHKEY_PASSWORD_MIN_LENGTH`). `context` adds the user's
 * display name and the site's words (the server's `LATCHKEY_APP_NAME` and
 * `LATCHKEY_PASSWORD_CONTEXT_WORDS`), which the password must not contain either.
 */
export function checkPassword(
  password: string,
  email: string,
  minChars?: number,
  context?: { name?: string | null; contextWords?: string[] },
): glue.CheckResult {
  wasm.ready();
  return glue.checkPassword(password, email, minChars, context?.name ?? undefined, context?.contextWords);
}

/** The email address as the server stores it, or `invalid_email`. */
export function normalizeEmail(email: string): glue.EmailResult {
  wasm.ready();
  return glue.normalizeEmail(email);
}
