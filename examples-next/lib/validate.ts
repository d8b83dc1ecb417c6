/**
 * Checks a form the way the server will, before it is sent: the same Rust rules (email
 * normalisation, the password policy with its common-password list), from `latchkey/forms`.
 * The module is loaded on first use, so pages without a password field never download it.
 */
import { PASSWORD_MIN_CHARS, describe } from "./errors";

type Forms = typeof import("latchkey/forms");
let forms: Promise<Forms> | undefined;

const load = (): Promise<Forms> =>
  (forms ??= import("latchkey/forms").then(async (m) => {
    await m.initLatchkeyForms();
    return m;
  }));

/** Stands in for an address the page does not know: too short a name for the policy to ban. */
const UNKNOWN_ADDRESS = "x@example.com";

/** A sentence saying what is wrong with `email`, or null. */
export async function emailProblem(email: string): Promise<string | null> {
  const checked = (await load()).normalizeEmail(email);
  return checked.ok ? null : describe(checked.error);
}

/**
 * A sentence saying why `password` would be refused for the account `email`, or null. Where
 * the address is not known (a reset link carries only a token), pass null: the server still
 * checks that the password does not contain it.
 */
export async function passwordProblem(password: string, email: string | null): Promise<string | null> {
  const checked = (await load()).checkPassword(password, email ?? UNKNOWN_ADDRESS, PASSWORD_MIN_CHARS);
  return checked.ok ? null : describe(checked.error);
}
