/**
 * The auth API from the browser. The browser never talks to the Latchkey server and never sees
 * a token: `app/api/auth/[...all]/route.ts` (latchkey's cookie bridge) mirrors
 * `/api/v1/auth/<op>` at `/api/auth/<op>` on the app's own origin and keeps the tokens in
 * HttpOnly cookies. The client is still the generated one, so request bodies are checked
 * against the contract.
 */
import createClient from "openapi-fetch";

import type { paths } from "./schema";

const SERVER_PREFIX = "/api/v1/auth/";
const BRIDGE_PREFIX = "/api/auth/";

export const auth = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "http://localhost" : window.location.origin,
  fetch: async (request: Request) => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith(SERVER_PREFIX)) {
      throw new Error(`${url.pathname} is not an auth route; call it from the server`);
    }
    const body = request.method === "GET" ? undefined : await request.text();
    return fetch(`${BRIDGE_PREFIX}${url.pathname.slice(SERVER_PREFIX.length)}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: body || undefined,
      credentials: "same-origin",
    });
  },
});

/**
 * Trades the refresh cookie for fresh tokens (after a change the access token should show at
 * once): the answer's status, 200 when renewed and 401 when the session is over. The bridge
 * reads the refresh token from its HttpOnly cookie, so unlike the server's
 * `/api/v1/auth/refresh` this call has no body.
 */
export async function refreshSession(): Promise<number> {
  const res = await fetch(`${BRIDGE_PREFIX}refresh`, {
    method: "POST",
    credentials: "same-origin",
    signal: AbortSignal.timeout(10_000),
  });
  return res.status;
}
