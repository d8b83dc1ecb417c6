/**
 * The stable error codes as a type and a check, without the WebAssembly module: the browser
 * entries (`latchkey/react`, `latchkey/messages`) use these and must stay small.
 */
import { ERROR_CODES, type ErrorCode } from "./generated/error-codes.js";

export { ERROR_CODES, type ErrorCode };

const known: ReadonlySet<string> = new Set(ERROR_CODES);

/** True if `code` is one of the stable codes (a newer server's unknown code is not). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && known.has(code);
}
