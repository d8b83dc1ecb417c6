"use client";
/**
 * latchkey/react: Latchkey in client components (React 19).
 *
 * - `<LatchkeyProvider>` and `useSession()` → `{ status, user, refresh() }`, kept fresh across
 *   tabs and on focus.
 * - The actions, one per bridge operation (`signIn`, `signUp`, `signOut({ scope })`,
 *   `forgotPassword`, `resetPassword`, `verifyEmail`, `changePassword`, `changeEmail`,
 *   `updateProfile`, `listSessions`, `revokeSession`, …): each returns `{ data }` or
 *   `{ error: { code, message, retryAfter? } }`, `code` an `ErrorCode`. They call the bridge
 *   at `/api/auth`; `createAuthClient({ basePath })` makes a set for another mount point.
 * - `useLinkToken()` for the pages emailed links open, `safeNext()` for `?next=` redirects.
 *
 * The whole module is client code (`"use client"`): server components import it only to
 * render the provider. Server code uses `latchkey/next`; sentences for the codes are in
 * `latchkey/messages`.
 */
import { createAuthClient } from "./client.js";

export { type AuthClient, type ClientOptions, type SessionAnswer, createAuthClient } from "./client.js";
export { type LatchkeyProviderProps, type SessionState, type SessionStatus, LatchkeyProvider, useSession } from "./provider.js";
export { useLinkToken } from "./link-token.js";
export { safeNext } from "../paths.js";
export type { ErrorCode } from "../codes.js";
export type * from "./types.js";

const defaults = createAuthClient();

export const {
  signIn,
  signUp,
  signOut,
  forgotPassword,
  resetPassword,
  verifyEmail,
  resendVerification,
  confirmEmailChange,
  refreshSession,
  unblockSignIn,
  changePassword,
  changeEmail,
  getAccount,
  updateProfile,
  listSessions,
  revokeSession,
} = defaults;
