/**
 * latchkey/next: Latchkey in a Next.js App Router app.
 *
 * - `createAuthHandler()` for `app/api/auth/[...all]/route.ts`: the cookie bridge.
 * - `authProxy()` for `proxy.ts`: protects pages, refreshes silently, redirects to sign-in.
 * - `getSession()` for server components and route handlers: verifies locally.
 * - `fetchApi()`: calls the Latchkey server as the signed-in user.
 * - `createLatchkey(config)`: all of the above from one set of settings.
 * - `applySetCookies()`: a server action's cookies, through `next/headers`' `cookies()`.
 * - `safeNext()`: the `?next=` redirect, kept on this site.
 *
 * Configuration comes from the options or the environment: `LATCHKEY_API_URL`,
 * `LATCHKEY_APP_URL` (required when `NODE_ENV=production`), `LATCHKEY_SECRET` (verifies HS256
 * and signs client addresses; without it the server's JWKS is fetched for EdDSA),
 * `LATCHKEY_JWT_ALG`, `LATCHKEY_ISSUER`, `LATCHKEY_AUDIENCE`, and where client addresses come
 * from: `LATCHKEY_CLIENT_IP_HEADER`, `LATCHKEY_CLIENT_IP_TRUSTED_HOPS`.
 */
export { type ClientAddressSource } from "./address.js";
export { type AuthHandlerConfig, type AuthHandlers, type RouteHandler, createAuthHandler } from "./handler.js";
export { type LatchkeyConfig, type Session } from "./host.js";
export { type AuthProxyConfig, authProxy } from "./proxy.js";
export { type CookieSource, type SessionOptions, fetchApi, getSession } from "./session.js";
export { type CreateLatchkeyConfig, type Latchkey, createLatchkey } from "./latchkey.js";
export { type CookieStore, type ParsedCookie, applySetCookies, parseSetCookie } from "./cookies.js";
export { safeNext } from "../paths.js";
