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

import { type AuthHandlerConfig, type AuthHandlers, createAuthHandler } from "./handler.js";
import type { Session } from "./host.js";
import { type AuthProxyConfig, authProxy } from "./proxy.js";
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
}

export function createLatchkey(config: CreateLatchkeyConfig = {}): Latchkey {
  const { proxy: proxyConfig, ...shared } = config;
  const handlers = createAuthHandler(shared);
  // Made on first use: an app without proxy.ts should not pay for (or need) its settings.
  let guard: ((request: NextRequest) => Promise<NextResponse>) | undefined;
  return {
    handlers,
    proxy: (request) => {
      guard ??= authProxy({ ...shared, protect: proxyConfig?.protect ?? [], signInPath: proxyConfig?.signInPath });
      return guard(request);
    },
    getSession: (sourceOrOptions) => getSession(sourceOrOptions, shared),
    fetchApi: (path, init, source) => fetchApi(path, init, source, shared),
  };
}
