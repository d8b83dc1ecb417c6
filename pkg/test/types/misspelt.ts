// Must not compile: each line names a code that does not exist.
import type { ErrorCode } from "latchkey";
import { messageFor } from "latchkey/messages";
import { signIn } from "latchkey/react";

export const code: ErrorCode = "invalid_credential";
messageFor("rate_limit");

export async function form(): Promise<boolean> {
  const result = await signIn({ email: "a@example.com", password: "x" });
  return result.error?.code === "invalid_pasword";
}
