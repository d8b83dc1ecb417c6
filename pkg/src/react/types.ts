/** What the bridge's answers look like once the tokens have become cookies. */
import type { ErrorCode } from "../codes.js";

/** The signed-in user, as the session cookie tells it. */
export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
}

/** The account as the server keeps it (`GET /api/auth/me`, profile and email changes). */
export interface Account extends User {
  name?: string | null;
  image?: string | null;
  locale: string;
  createdAt: string;
}

/** A session opened or renewed: the account, and how long its tokens (now cookies) live. */
export interface Opened {
  user: Account;
  expiresIn: number;
  refreshExpiresIn: number;
}

/** One of the user's signed-in devices (`listSessions`). */
export interface DeviceSession {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ipAddress?: string | null;
  userAgent?: string | null;
  /** The session this browser holds. */
  current: boolean;
}

/** The server accepted a request whose result arrives by email. */
export interface Accepted {
  message: string;
}

/** Why an action failed. `code` is stable; `message` is the server's, for developers and logs. */
export interface ActionError {
  code: ErrorCode;
  message: string;
  /** Seconds to wait before trying again (429, and 503 when the server says). */
  retryAfter?: number;
  /** The HTTP status (0: the bridge could not be reached). */
  status: number;
  /** The id the server logged the request under, for a user to quote to support. */
  requestId?: string;
}

/** Every action's result: a value or a typed error, never a throw. */
export type Result<T> = { data: T; error?: undefined } | { data?: undefined; error: ActionError };

/** `signUp`: signed in at once, or (when the server requires it) asked to confirm the email first. */
export type SignedUp = ({ signedIn: true } & Opened) | ({ signedIn: false } & Accepted);

/**
 * `signOut`: the cookies are gone in every case. `serverConfirmed: false` when the server did
 * not confirm the session ended (it refused, failed, or was out of reach, `serverStatus: null`):
 * a copy of it may live on until it expires. `revoked`: how many other sessions ended.
 */
export interface SignedOut {
  serverConfirmed: boolean;
  serverStatus?: number | null;
  serverError?: string | null;
  revoked?: number;
}

export type SignOutScope = "this" | "others" | "all";
