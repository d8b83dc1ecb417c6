/**
 * `createLatchkey(config)`: the settings given once, for the route, the proxy, server
 * components and server actions alike.
 *
 *     // lib/latchkey.ts
 *     export const latchkey = createLatchkey({ proxy: { protect: ["/dashboard"] } });
 *     // app/api/auth/[...all]/route.ts
 *     export const { GET, POST, PATCH, DELETE } = latchkey.handlers;
 *     // proxy.ts
 *     export const proxy = latchkey.proxy;
 *
 * The separate entry points (`createAuthHandler`, `authProxy`, `getSession`, `fetchApi`) keep
 * working; this only saves repeating the settings.
 */
import type { NextRequest, NextResponse } from "next/server.js";

import { type CookieStore, applySetCookies } from "./cookies.js";
import { type AuthHandlerConfig, type AuthHandlers, authHandlerOn } from "./handler.js";
import { type Session, errorResponse, hostFor } from "./host.js";
import { type AuthProxyConfig, authProxyOn } from "./proxy.js";
import { type CookieSource, type SessionOptions, fetchApi, getSession } from "./session.js";

export interface CreateLatchkeyConfig extends AuthHandlerConfig {
  /** The proxy's own settings (which paths need a session, where to sign in). */
  proxy?: Pick<AuthProxyConfig, "protect" | "signInPath">;
}

export interface Latchkey {
  /** The bridge's route: `export const { GET, POST, PATCH, DELETE } = latchkey.handlers`. */
  handlers: AuthHandlers;
  /** The guard for `proxy.ts`; protects nothing unless `proxy.protect` says what. */
  proxy: (request: NextRequest) => Promise<NextResponse>;
  /** `getSession()`, `getSession(request)`, `getSession({ fresh: true })`. */
  getSession(sourceOrOptions?: CookieSource | SessionOptions): Promise<Session | null>;
  /** Calls the server as the signed-in user (see `fetchApi`). */
  fetchApi(path: string, init?: RequestInit, source?: CookieSource): Promise<Response>;
  /**
   * In a server action: runs one bridge operation (`"signout"`, `"change-password"`,
   * `"sessions/<id>"` with `method: "DELETE"`, …) in-process as the browser's own request,
   * and sets the cookies it answers with through `cookies()` (so a sign-in, a renewal or a
   * sign-out in an action reaches the browser). Returns the bridge's answer. The browser's
   * `Origin` and `Sec-Fetch-Site` go with it, so the bridge's CSRF rule still applies: called
   * outside a real server action (a GET route, a page render, which carry no `Origin`), it
   * is refused (403 `csrf_rejected`), as it is for an action posted from another site. An
   * `op` that is not an operation's name (with a session id after `sessions/`) is 404
   * `not_found`, never a path.
   * `context` replaces the current request's headers and cookie store (for tests).
   */
  serverAction(
    op: string,
    init?: { method?: "GET" | "POST" | "PATCH" | "DELETE"; body?: unknown },
    context?: { headers: Headers; cookies: CookieStore },
  ): Promise<Response>;
}

export function createLatchkey(config: CreateLatchkeyConfig = {}): Latchkey {
  const { proxy: proxyConfig, ...shared } = config;
  // One Host for the parts that share a module instance (the route, getSession, fetchApi,
  // serverAction; Next.js may bundle proxy.ts apart): the JWKS is fetched once, and
  // concurrent refreshes of one token share one server call.
  const host = hostFor(shared);
  const handlers = authHandlerOn(host, shared);
  // Made on first use: an app without proxy.ts should not pay for (or need) its settings.
  let guard: ((request: NextRequest) => Promise<NextResponse>) | undefined;
  return {
    handlers,
    proxy: (request) => {
      guard ??= authProxyOn(host, { ...shared, protect: proxyConfig?.protect ?? [], signInPath: proxyConfig?.signInPath });
      return guard(request);
    },
    getSession: (sourceOrOptions) => getSession(sourceOrOptions, shared),
    fetchApi: (path, init, source) => fetchApi(path, init, source, shared),
    async serverAction(op, init = {}, context) {
      if (!OPERATION.test(op)) return errorResponse(404, "not_found");
      const incoming = context?.headers ?? (await (await import("next/headers.js")).headers());
      // A server action is a POST, which browsers always send with an Origin. Without one this
      // runs in a page render (a GET navigation, which says `Sec-Fetch-Site: same-origin` even
      // for a link posted on the app itself): a change must not happen there.
      if (!incoming.get("origin")) return errorResponse(403, "csrf_rejected");
      const origin = appOrigin(shared.appUrl, incoming);
      const method = init.method ?? "POST";
      // The browser's own headers: its cookies, the platform's address header, and its
      // Origin and Sec-Fetch-Site, which the bridge checks as for any request.
      const headers = new Headers(incoming);
      for (const name of ["content-length", "transfer-encoding", "content-type"]) headers.delete(name);
      if (init.body !== undefined) headers.set("content-type", "application/json");
      const base = (shared.basePath ?? "/api/auth").replace(/\/+$/, "");
      const request = new Request(`${origin}${base}/${op}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const res = await handlers[method](request);
      await applySetCookies(res, context?.cookies);
      return res;
    },
  };
}

/** A bridge operation's name, or `sessions/<id>`: nothing a URL parser could turn into another path. */
const OPERATION = /^[a-z][a-z0-9-]*(\/[0-9a-fA-F-]{1,64})?$/;

/** The app's origin: the configured URL, else (in development) the request's own host. */
function appOrigin(appUrl: string | undefined, headers: Headers): string {
  const configured = appUrl ?? (typeof process === "undefined" ? undefined : process.env?.LATCHKEY_APP_URL);
  if (configured) return new URL(configured).origin;
  const host = headers.get("x-forwarded-host") ?? headers.get("host") ?? "localhost";
  const proto = headers.get("x-forwarded-proto") ?? (/^(localhost|127\.0\.0\.1|\[::1\])(:|$)/.test(host) ? "http" : "https");
  return `${proto}://${host}`;
}
