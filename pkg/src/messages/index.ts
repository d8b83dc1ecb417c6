/**
 * latchkey/messages: what to tell a person when Latchkey says no, in English, French and
 * German. Apps map the stable `code`, never the server's English `message`; each catalogue
 * has a sentence for every code (the compiler and a test against tests/vectors/error-codes.json
 * both check), and an app overrides any of them or adds a language of its own:
 *
 *     messageFor(error.code, { locale: "fr", retryAfter: error.retryAfter })
 *     messageFor("invalid_credentials", { overrides: { invalid_credentials: "Wrong password." } })
 *     const nl = messages("en", { invalid_email: "Vul een geldig e-mailadres in.", … })
 *
 * No React, no WebAssembly: safe in server and client components alike.
 */
import { type ErrorCode, isErrorCode } from "../codes.js";
import { type Catalogue, type Message, type MessageParams } from "./catalogue.js";
import { de } from "./de.js";
import { en } from "./en.js";
import { fr } from "./fr.js";

export type { Catalogue, ErrorCode, Message, MessageParams };
export { de, en, fr };
export { ERROR_CODES, isErrorCode } from "../codes.js";

/** The languages shipped, by their BCP 47 primary tag. */
export const LOCALES = ["en", "fr", "de"] as const;
export type Locale = (typeof LOCALES)[number];

const CATALOGUES: Record<Locale, Catalogue> = { en, fr, de };

/** An app's own wording: any codes, each a sentence or a function of `MessageParams`. */
export type Overrides = Partial<Record<ErrorCode, Message>>;

/**
 * The shipped language closest to `locale` (`"fr-CA"` → `"fr"`, `["de-AT", "en"]` → `"de"`,
 * as from `navigator.languages`), else English.
 */
export function resolveLocale(locale?: string | readonly string[] | null): Locale {
  const wanted = typeof locale === "string" ? [locale] : (locale ?? []);
  for (const tag of wanted) {
    const primary = String(tag).trim().toLowerCase().split(/[-_]/)[0];
    if ((LOCALES as readonly string[]).includes(primary ?? "")) return primary as Locale;
  }
  return "en";
}

/** The whole catalogue for `locale`, with the app's `overrides` laid over it. */
export function messages(locale?: string | readonly string[] | null, overrides: Overrides = {}): Catalogue {
  return { ...CATALOGUES[resolveLocale(locale)], ...overrides };
}

export interface MessageOptions extends MessageParams {
  /** A BCP 47 tag or a list of them (default English). */
  locale?: string | readonly string[] | null;
  /** The app's wording for some codes, e.g. for one form: a wrong *current* password. */
  overrides?: Overrides;
}

/**
 * The sentence for `code`. A code this version does not know (a newer server's) gets the
 * generic `internal_error` sentence rather than an empty string or a throw.
 */
export function messageFor(code: ErrorCode, options: MessageOptions = {}): string {
  const catalogue = messages(options.locale, options.overrides);
  const message = isErrorCode(code) ? catalogue[code] : catalogue.internal_error;
  return typeof message === "function" ? message(options) : message;
}

/**
 * The sentence for an action's `error` (`{ code, retryAfter? }`, as `latchkey/react` returns
 * it): its wait, if any, is put in the sentence.
 */
export function describeError(
  error: { code: ErrorCode; retryAfter?: number },
  options: Omit<MessageOptions, "retryAfter"> = {},
): string {
  return messageFor(error.code, { ...options, retryAfter: error.retryAfter });
}
