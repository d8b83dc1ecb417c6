/**
 * latchkey/next: Latchkey in a Next.js App Router app.
 *
 * - `createAuthHandler()` for `app/api/auth/[...all]/route.ts`: the cookie bridge.
 * - `authProxy()` for `proxy.ts`: protects pages, refreshes silently, redirects to sign-in.
 * - `getSession()` for server components and route handlers: verifies locally.
 * - `fetchApi()`: calls the Latchkey server as the signed-in user.
 *
 * Configuration comes from the options or the environment: `LATCHKEY_API_URL`,
 * `LATCHKEY_APP_URL`, `LATCHKEY_SECRET` (HS256; without it the server's JWKS is fetched for
 * EdDSA), `LATCHKEY_ISSUER`, `LATCHKEY_AUDIENCE`.
 */
export { type AuthHandlerConfig, createAuthHandler } from "./handler.js";
export { type LatchkeyConfig, type Session } from "./host.js";
export { type AuthProxyConfig, authProxy } from "./proxy.js";
export { type CookieSource, fetchApi, getSession } from "./session.js";
