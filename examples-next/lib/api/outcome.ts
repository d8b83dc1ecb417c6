import { describeAnswer } from "@/lib/errors";

import { toSignIn } from "./server";

/**
 * Whether a server action's argument is an id as the server hands them out (a UUID). Anything
 * else, `..` say, would make a different path of the API out of the request's URL.
 */
export function isId(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** A server action's answer to arguments no page of this app sends. */
export const RELOAD: Outcome = { error: "Reload the page and try again." };

/** What a server action tells its form: nothing (it worked) or a sentence. */
export interface Outcome {
  error?: string;
}

/**
 * A server action's answer from an API call: a 401 sends the user to sign in (the session
 * ended on the server), any other refusal becomes the sentence for its error code.
 */
export function outcomeOf(result: { error?: unknown; response: Response }, from: string): Outcome {
  if (result.response.status === 401) toSignIn(from);
  if (result.error !== undefined || !result.response.ok) return { error: describeAnswer(result.error, result.response) };
  return {};
}
