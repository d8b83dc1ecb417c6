import { describeError } from "@/lib/errors";

import { toSignIn } from "./server";

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
  if (result.error !== undefined || !result.response.ok) return { error: describeError(result.error, result.response) };
  return {};
}
