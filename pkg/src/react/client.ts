/**
 * The typed client for the cookie bridge (`app/api/auth/[...all]/route.ts`). Every action
 * returns `{ data }` or `{ error: { code, message, retryAfter? } }` and never throws: a network
 * failure is `unavailable`, an answer that is not the bridge's is `internal_error`.
 *
 * CSRF: the bridge accepts a change only from the app's own origin, read from the `Origin`
 * (or `Sec-Fetch-Site`) header the browser adds to every same-origin `fetch` that is not a
 * GET; the cookies go with `credentials: "same-origin"`. So there is no token to carry, and
 * a page on another site cannot make these calls.
 *
 * Actions that change who is signed in tell the other tabs (see `channel.ts`).
 */
import { type ErrorCode, isErrorCode } from "../codes.js";
import { en } from "../messages/en.js";
import { announce } from "./channel.js";
import type {
  Accepted,
  Account,
  ActionError,
  DeviceSession,
  Opened,
  Result,
  SignOutScope,
  SignedOut,
  SignedUp,
  User,
} from "./types.js";

export interface ClientOptions {
  /** Where the bridge is mounted (default `/api/auth`, as `createAuthHandler`'s `basePath`). */
  basePath?: string;
  /** The app's origin, for calls from outside a page (tests, workers); default: the page's. */
  baseUrl?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** The session the bridge reports: the user, or `null` when signed out. */
export interface SessionAnswer {
  user: User;
}

export interface AuthClient {
  /** `GET /api/auth/session` (`fresh`: asks the server, so a revoked session shows at once). */
  getSession(options?: { fresh?: boolean }): Promise<Result<SessionAnswer | null>>;
  signIn(input: { email: string; password: string }): Promise<Result<Opened>>;
  signUp(input: { email: string; password: string; name?: string }): Promise<Result<SignedUp>>;
  /** `this` (default): this browser; `others`: every other device; `all`: both. */
  signOut(options?: { scope?: SignOutScope }): Promise<Result<SignedOut>>;
  forgotPassword(input: { email: string }): Promise<Result<Accepted>>;
  resetPassword(input: { token: string; newPassword: string }): Promise<Result<null>>;
  /**
   * Confirms the address. Signed in on this browser, the session's cookies are renewed at
   * once, so `emailVerified` is true in this tab and the others without waiting for the
   * next refresh.
   */
  verifyEmail(input: { token: string }): Promise<Result<Account>>;
  resendVerification(): Promise<Result<Accepted>>;
  /** Moves the account to the new address; renews this browser's cookies as `verifyEmail` does. */
  confirmEmailChange(input: { token: string }): Promise<Result<Account>>;
  /** Renews this browser's session cookies now (the bridge's `POST refresh`). */
  refreshSession(): Promise<Result<Opened>>;
  unblockSignIn(input: { token: string }): Promise<Result<null>>;
  changePassword(input: {
    currentPassword: string;
    newPassword: string;
    revokeOtherSessions?: boolean;
  }): Promise<Result<Opened>>;
  changeEmail(input: { newEmail: string; password: string; revokeOtherSessions?: boolean }): Promise<Result<Accepted>>;
  getAccount(): Promise<Result<Account>>;
  updateProfile(input: { name?: string | null; image?: string | null; locale?: string }): Promise<Result<Account>>;
  listSessions(): Promise<Result<DeviceSession[]>>;
  revokeSession(id: string): Promise<Result<null>>;
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** A client for the bridge at `basePath`; the package's own actions use one with the defaults. */
export function createAuthClient(options: ClientOptions = {}): AuthClient {
  const base = `${(options.baseUrl ?? "").replace(/\/+$/, "")}${(options.basePath ?? "/api/auth").replace(/\/+$/, "")}`;

  async function call<T>(method: Method, path: string, body?: unknown): Promise<Result<T>> {
    const doFetch = options.fetch ?? globalThis.fetch;
    let res: Response;
    try {
      const headers: Record<string, string> = { accept: "application/json" };
      if (body !== undefined) headers["content-type"] = "application/json";
      res = await doFetch(`${base}/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      return failure("unavailable", 0, "The auth route could not be reached.");
    }
    const text = await res.text().catch(() => "");
    const parsed = parse(text);
    if (!res.ok) {
      const retryAfter = seconds(res.headers.get("retry-after"));
      const raw = isObject(parsed) ? parsed.error : undefined;
      const code = isErrorCode(raw) ? raw : "internal_error";
      const message = isObject(parsed) && typeof parsed.message === "string" ? parsed.message : sentence(code);
      const requestId = (isObject(parsed) && typeof parsed.requestId === "string" ? parsed.requestId : null)
        ?? res.headers.get("x-request-id") ?? undefined;
      return { error: { code, message, status: res.status, ...(retryAfter ? { retryAfter } : {}), ...(requestId ? { requestId } : {}) } };
    }
    if (res.status === 204 || text === "") return { data: null as T };
    if (parsed === undefined) return failure("internal_error", res.status, "The auth route answered something that is not JSON.");
    return { data: parsed as T };
  }

  /** Runs `action`; when it succeeds, this tab and the others re-read the session. */
  const changing = async <T>(action: Promise<Result<T>>, kind: "changed" | "signed-out" = "changed") => {
    const result = await action;
    if (!result.error) announce(kind);
    return result;
  };

  /**
   * Runs `action`; when it succeeds, renews this browser's cookies (their claims changed;
   * signed out here, the refresh is refused, which is fine) and tells the tabs.
   */
  const renewing = async <T>(action: Promise<Result<T>>) => {
    const result = await action;
    if (!result.error) {
      await call("POST", "refresh");
      announce("changed");
    }
    return result;
  };

  const signOutHere = async (): Promise<Result<SignedOut>> => {
    const got = await call<{ code?: string; serverStatus?: number | null; serverError?: string | null } | null>("POST", "signout");
    if (got.error) return got;
    // 204: the server ended the session. 200 `signed_out_locally`: only the cookies went.
    if (got.data?.code === "signed_out_locally") {
      return { data: { serverConfirmed: false, serverStatus: got.data.serverStatus ?? null, serverError: got.data.serverError ?? null } };
    }
    return { data: { serverConfirmed: true } };
  };

  return {
    async getSession({ fresh = false } = {}) {
      const got = await call<SessionAnswer>("GET", fresh ? "session?fresh=1" : "session");
      if (got.error?.status === 401) return { data: null };
      if (got.error) return got;
      const user = got.data?.user;
      return user && typeof user.id === "string" ? { data: { user: { id: user.id, email: user.email, emailVerified: user.emailVerified } } } : { data: null };
    },
    signIn: (input) => changing(call<Opened>("POST", "signin", input)),
    async signUp(input) {
      const got = await call<Opened | Accepted>("POST", "register", input);
      if (got.error) return got;
      const data = got.data;
      if (data && "user" in data) {
        announce("changed");
        return { data: { signedIn: true, ...data } };
      }
      return { data: { signedIn: false, message: (data as Accepted | null)?.message ?? "" } };
    },
    async signOut({ scope = "this" } = {}) {
      if (scope === "others") {
        const got = await call<{ revoked: number }>("DELETE", "sessions");
        return got.error ? got : { data: { serverConfirmed: true, revoked: got.data?.revoked ?? 0 } };
      }
      let revoked: Result<{ revoked: number }> | null = null;
      if (scope === "all") revoked = await call<{ revoked: number }>("DELETE", "sessions");
      // This browser signs out whatever the other step said: the user asked to leave.
      const here = await signOutHere();
      // The bridge clears the cookies on every answer but a refusal of the request itself.
      if (!here.error) announce("signed-out");
      if (here.error || !revoked) return here;
      if (revoked.error) {
        // Signed out here, but the other devices may not be: say so, as sign-out does.
        return { data: { serverConfirmed: false, serverStatus: revoked.error.status || null, serverError: revoked.error.code } };
      }
      return { data: { ...here.data, revoked: revoked.data?.revoked ?? 0 } };
    },
    forgotPassword: (input) => call("POST", "forgot-password", input),
    resetPassword: (input) => call("POST", "reset-password", input),
    verifyEmail: (input) => renewing(call("POST", "verify-email", input)),
    resendVerification: () => call("POST", "resend-verification"),
    confirmEmailChange: (input) => renewing(call("POST", "confirm-email-change", input)),
    refreshSession: () => changing(call<Opened>("POST", "refresh")),
    unblockSignIn: (input) => call("POST", "unblock", input),
    changePassword: (input) => changing(call("POST", "change-password", input)),
    changeEmail: (input) => call("POST", "change-email", input),
    getAccount: () => call("GET", "me"),
    updateProfile: (input) => changing(call("PATCH", "me", input)),
    listSessions: () => call("GET", "sessions"),
    revokeSession(id) {
      // An id is a UUID; anything else would change the path, so it never leaves the page.
      if (typeof id !== "string" || !/^[0-9a-fA-F-]{1,64}$/.test(id)) {
        return Promise.resolve(failure<null>("not_found", 404, "No such session."));
      }
      return changing(call("DELETE", `sessions/${id}`));
    },
  };
}

function failure<T>(code: ErrorCode, status: number, message: string): Result<T> {
  return { error: { code, message, status } satisfies ActionError };
}

/** The English sentence, for answers that carry no message of their own (the bridge's). */
function sentence(code: ErrorCode): string {
  const m = en[code];
  return typeof m === "function" ? m({}) : m;
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `Retry-After` in seconds (its date form too), or undefined. */
function seconds(header: string | null): number | undefined {
  if (!header) return undefined;
  const n = Number(header);
  if (Number.isFinite(n) && n > 0) return Math.ceil(n);
  const at = Date.parse(header);
  return Number.isFinite(at) && at > Date.now() ? Math.ceil((at - Date.now()) / 1000) : undefined;
}
