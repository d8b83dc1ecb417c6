/** The shape every language's catalogue has, and what its sentences may be told. */
import type { ErrorCode } from "../codes.js";

/** What a sentence may use: the wait a 429 asked for, the server's minimum password length. */
export interface MessageParams {
  /** Seconds until a retry may succeed (the answer's `Retry-After`). */
  retryAfter?: number;
  /** The server's `LATCHKEY_PASSWORD_MIN_LENGTH` (8 unless configured otherwise). */
  minPasswordChars?: number;
}

/** A sentence, or a function of the request's details for the few that need them. */
export type Message = string | ((params: MessageParams) => string);

/** One sentence for every code: a missing or unknown code fails to compile. */
export type Catalogue = Record<ErrorCode, Message>;

export const DEFAULT_MIN_PASSWORD_CHARS = 8;

/** The minimum length to name: the one given if it is a sane length, else the default. */
export function minChars(params: MessageParams): number {
  const n = params.minPasswordChars;
  return Number.isInteger(n) && n! >= 1 && n! <= 128 ? n! : DEFAULT_MIN_PASSWORD_CHARS;
}

/** A wait rounded up to whole seconds, minutes or hours, for a sentence to name. */
export function waitUnits(seconds: number): { n: number; unit: "second" | "minute" | "hour" } {
  if (seconds < 60) return { n: Math.max(1, Math.ceil(seconds)), unit: "second" };
  if (seconds < 3600) return { n: Math.ceil(seconds / 60), unit: "minute" };
  return { n: Math.ceil(seconds / 3600), unit: "hour" };
}

/** The wait to name, if the answer gave a usable one. */
export function waitOf(params: MessageParams): number | null {
  const s = params.retryAfter;
  return typeof s === "number" && Number.isFinite(s) && s > 0 ? s : null;
}
