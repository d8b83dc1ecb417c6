/**
 * The cookie bridge for `app/api/auth/[...all]/route.ts`: forwards auth calls to the Latchkey
 * server and keeps the tokens in HttpOnly cookies on the app's own domain, so the browser only
 * ever talks to the app (no CORS, no credentials across origins, no token in JavaScript).
 */
import { type ClientAddressSource, ClientAddress } from "./address.js";
import { type LatchkeyConfig, Host, ServerUnavailable, errorResponse, unreachable } from "./host.js";
import { readBody } from "./body.js";

export interface AuthHandlerConfig extends LatchkeyConfig {
  /** Where the route is mounted (default `/api/auth`). */
  basePath?: string;
  /**
   * Where the client's address comes from (default: `LATCHKEY_CLIENT_IP_HEADER`, with
   * `LATCHKEY_CLIENT_IP_TRUSTED_HOPS`): e.g. `{ header: "x-vercel-forwarded-for" }` on
   * Vercel, `{ header: "x-forwarded-for", trustedHops: 1 }` behind one nginx, or a function.
   * It reaches the server signed; the browser's own forwarding headers never do.
   */
  clientAddress?: ClientAddressSource;
}

type RouteHandler = (request: Request) => Promise<Response>;

/** The largest body passed on; the server's own limit is higher, this route needs far less. */
const MAX_BODY_BYTES = 64 * 1024;
const OPERATION = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * `export const { GET, POST, PATCH } = createAuthHandler({ apiUrl })` in
 * `app/api/auth/[...all]/route.ts`. `POST /api/auth/<op>` goes to the server's
 * `/api/v1/auth/<op>` (sign-in, register, refresh, sign-out, forgot/reset password, verify
 * email, change password or email, and the rest); tokens in the answer become cookies and
 * leave the body. `PATCH /api/auth/me` updates the profile. `GET /api/auth/session` answers
 * from the access cookie, verified locally (with no Latchkey cookie but Better Auth's session
 * cookie, it exchanges that first, as `authProxy` does); other GETs are forwarded with the
 * access token as a bearer.
 *
 * `POST /api/auth/signout` always clears both cookies. It answers 204 when the session ended
 * on the server too (or had already ended), and otherwise 200 with
 * `{ code: "signed_out_locally", serverStatus, serverError }`: the server refused (e.g. 429),
 * failed (5xx) or could not be reached (`serverStatus: null`), so the session may live on
 * elsewhere until it expires or another device revokes it. Bodies over 64 KiB are refused
 * with 413 `payload_too_large`; a server that cannot be reached is 503 `unavailable`.
 * Nothing the browser sends about its own address is passed on: see `clientAddress`.
 */
export function createAuthHandler(config: AuthHandlerConfig = {}): {
  GET: RouteHandler;
  POST: RouteHandler;
  PATCH: RouteHandler;
} {
  const host = new Host(config);
  const client = new ClientAddress(config.clientAddress, host.sharedSecret(), () => host.now());
  const base = (config.basePath ?? "/api/auth").replace(/\/+$/, "");

  const operation = (request: Request): string | null => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(`${base}/`)) return null;
    const op = path.slice(base.length + 1);
    return OPERATION.test(op) ? op : null;
  };

  const passOn = (request: Request, bearer: string | null): Headers => {
    const headers = client.headers(request);
    if (bearer) headers.set("authorization", `Bearer ${bearer}`);
    return headers;
  };

  /** The access token from the cookie, if it still verifies. */
  const liveAccess = async (request: Request): Promise<string | null> => {
    const cookies = host.cookies(request.url);
    const { value } = host.read(cookies, request.headers.get("cookie"), "access");
    const verdict = await host.assess(value);
    return verdict.action === "refuse" || !verdict.claims ? null : value;
  };

  const GET: RouteHandler = async (request) => {
    const op = operation(request);
    if (!op) return errorResponse(404, "not_found");
    if (op === "session") {
      const cookies = host.cookies(request.url);
      const header = request.headers.get("cookie");
      const access = host.read(cookies, header, "access");
      const refresh = host.read(cookies, header, "refresh");
      if (!access.value && !access.bad && !refresh.value && !refresh.bad) {
        // No Latchkey session, but maybe Better Auth's: exchanged, as authProxy does.
        const moved = await host.exchange(header, cookies, client.headers(request));
        if (moved) {
          const session = moved.tokens && (await host.session(moved.tokens.access));
          const res = session
            ? Response.json(session, { headers: { "cache-control": "no-store" } })
            : errorResponse(401, "missing_token");
          for (const line of [...(moved.tokens?.setCookies ?? []), ...moved.clear]) res.headers.append("set-cookie", line);
          return res;
        }
      }
      const session = await host.session(access.value);
      if (!session) return errorResponse(401, "missing_token");
      return Response.json(session, { headers: { "cache-control": "no-store" } });
    }
    const res = await host.call("GET", `/api/v1/auth/${op}`, null, passOn(request, await liveAccess(request)));
    return relay(res, await res.text());
  };

  const POST: RouteHandler = async (request) => {
    const op = operation(request);
    if (!op) return errorResponse(404, "not_found");
    // These routes set and use cookies, so every post must come from the app itself.
    const csrf = host
      .origins(request.url)
      .check("POST", request.headers.get("origin"), request.headers.get("sec-fetch-site"));
    if (!csrf.ok) return errorResponse(403, csrf.error.code);
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === null) return errorResponse(413, "payload_too_large");

    const cookies = host.cookies(request.url);
    const cookieHeader = request.headers.get("cookie");
    const cleared = new Headers();
    cleared.append("set-cookie", cookies.clearCookie("access"));
    cleared.append("set-cookie", cookies.clearCookie("refresh"));

    if (op === "refresh") {
      const { value: rt } = host.read(cookies, cookieHeader, "refresh");
      if (!rt) return errorResponse(401, "invalid_refresh_token", cleared);
      const got = await host.refresh(rt, cookies, passOn(request, null));
      if (got instanceof Response) return relay(got, await got.clone().text(), got.status === 401 ? cleared : undefined);
      return withCookies(Response.json(got.body), got.setCookies);
    }

    if (op === "signout") {
      // The cookies go whatever the server says: the browser asked to be signed out. The
      // answer says whether the session also ended on the server (see `signedOutLocally`).
      let bearer: string | null;
      try {
        bearer = await liveAccess(request);
      } catch (err) {
        if (!(err instanceof ServerUnavailable)) throw err;
        // The keys are out of reach, so the token cannot be checked here: the server will.
        bearer = host.read(cookies, cookieHeader, "access").value;
      }
      const { value: rt } = host.read(cookies, cookieHeader, "refresh");
      if (!bearer && rt) {
        // The access token has expired: a refresh names the session, or tells us it is over.
        const got = await host.refresh(rt, cookies, passOn(request, null));
        if (got instanceof Response) {
          if (got.status !== 401) return signedOutLocally(got, cleared);
        } else {
          bearer = got.access;
        }
      }
      if (bearer) {
        const res = await host.call("POST", "/api/v1/auth/signout", null, passOn(request, bearer));
        // 401: the session had already ended (revoked, expired) — the same outcome.
        if (!res.ok && res.status !== 401) return signedOutLocally(res, cleared);
      }
      return new Response(null, { status: 204, headers: cleared });
    }

    let bearer = await liveAccess(request);
    let refreshed: string[] = [];
    const { value: rt } = host.read(cookies, cookieHeader, "refresh");
    if (!bearer && rt && (op === "signin" || op === "register")) {
      // Signing in again replaces the session this browser holds, and the server ends the
      // one the request names. Once the access cookie has expired only a refresh names it;
      // that spends the old refresh cookie, so a refused sign-in keeps the refreshed ones.
      const got = await host.refresh(rt, cookies, passOn(request, null));
      if (!(got instanceof Response)) [bearer, refreshed] = [got.access, got.setCookies];
    }
    const res = await host.call("POST", `/api/v1/auth/${op}`, body || null, passOn(request, bearer));
    const text = await res.text();
    if (res.ok && text) {
      const parsed = parseObject(text);
      const tokens = parsed && host.takeTokens(parsed, cookies);
      if (tokens) return withCookies(Response.json(tokens.body, { status: res.status }), tokens.setCookies);
    }
    const keep = new Headers();
    for (const line of refreshed) keep.append("set-cookie", line);
    return relay(res, text, keep);
  };

  const PATCH: RouteHandler = async (request) => {
    const op = operation(request);
    if (op !== "me") return errorResponse(404, "not_found");
    const csrf = host
      .origins(request.url)
      .check("PATCH", request.headers.get("origin"), request.headers.get("sec-fetch-site"));
    if (!csrf.ok) return errorResponse(403, csrf.error.code);
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === null) return errorResponse(413, "payload_too_large");
    const res = await host.call("PATCH", "/api/v1/auth/me", body || null, passOn(request, await liveAccess(request)));
    return relay(res, await res.text());
  };

  return { GET: guarded(GET), POST: guarded(POST), PATCH: guarded(PATCH) };
}

/** The server's keys out of reach is an outage: 503 `unavailable`, as the server says it. */
function guarded(handler: RouteHandler): RouteHandler {
  return async (request) => {
    try {
      return await handler(request);
    } catch (err) {
      if (err instanceof ServerUnavailable) return errorResponse(503, "unavailable");
      throw err;
    }
  };
}

/**
 * Sign-out's answer when the cookies are gone but the server did not confirm the session
 * ended (it refused, failed or could not be reached): 200 with `code: "signed_out_locally"`,
 * the server's status (`null` if unreachable) and error code, so the page can say that other
 * copies of the session may live on until they expire.
 */
async function signedOutLocally(res: Response, cleared: Headers): Promise<Response> {
  const down = unreachable(res);
  const parsed = down ? null : parseObject(await res.text().catch(() => ""));
  const serverError = typeof parsed?.error === "string" ? parsed.error : null;
  const headers = new Headers(cleared);
  headers.set("cache-control", "no-store");
  headers.set("content-type", "application/json");
  const body = { code: "signed_out_locally", serverStatus: down ? null : res.status, serverError };
  return new Response(JSON.stringify(body), { status: 200, headers });
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The server's answer as it was (status, body, retry hints), plus any cookie changes. */
function relay(res: Response, text: string, extra?: Headers): Response {
  const headers = new Headers(extra);
  // x-request-id: the id the server logged this request under, for a user to quote.
  for (const name of ["content-type", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-request-id"]) {
    const value = res.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const noBody = res.status === 204 || res.status === 304;
  return new Response(noBody ? null : text, { status: res.status, headers });
}

function withCookies(res: Response, setCookies: string[]): Response {
  for (const line of setCookies) res.headers.append("set-cookie", line);
  res.headers.set("cache-control", "no-store");
  return res;
}
