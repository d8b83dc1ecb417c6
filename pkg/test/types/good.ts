// Compiles: the codes are ErrorCode, and the actions' errors and Failure carry them.
import type { ErrorCode, Failure } from "latchkey";
import { messageFor } from "latchkey/messages";
import { type ActionError, signIn } from "latchkey/react";

const code: ErrorCode = "invalid_credentials";
messageFor(code, { locale: "fr" });
messageFor("rate_limited", { retryAfter: 3 });

export async function form(): Promise<string> {
  const result = await signIn({ email: "a@example.com", password: "correct horse battery staple" });
  if (result.error) {
    const e: ActionError = result.error;
    if (e.code === "rate_limited") return `wait ${e.retryAfter ?? 0}s`;
    return messageFor(e.code);
  }
  return result.data.user.email;
}

export function fromCore(f: Failure): ErrorCode {
  return f.code;
}
