/**
 * The cookie bridge for `app/api/auth/[...all]/route.ts`: forwards auth calls to the Latchkey
 * server and keeps the tokens in HttpOnly cookies on the app's own domain, so the browser only
 * ever talks to the app (no CORS, no credentials across origins, no token in JavaScript).
 */
import { type ClientAddressSource, ClientAddress } from "./address.js";
import { type LatchkeyConfig, Host, ServerUnavailable, bodiless, errorResponse, unreachable } from "./host.js";
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

export type RouteHandler = (request: Request) => Promise<Response>;

/** The route's methods: `export const { GET, POST, PATCH, DELETE } = createAuthHandler()`. */
export interface AuthHandlers {
  GET: RouteHandler;
  POST: RouteHandler;
  PATCH: RouteHandler;
  DELETE: RouteHandler;
}

/** The largest body passed on; the server's own limit is higher, this route needs far less. */
const MAX_BODY_BYTES = 64 * 1024;
const OPERATION = /^[a-z][a-z0-9-]{0,63}$/;
/** `sessions/<id>`: one of the user's sessions, by its UUID. */
const ONE_SESSION = /^sessions\/([0-9a-fA-F-]{1,64})$/;

/**
 * `export const { GET, POST, PATCH, DELETE } = createAuthHandler({ apiUrl })` in
 * `app/api/auth/[...all]/route.ts`. `POST /api/auth/<op>` goes to the server's
 * `/api/v1/auth/<op>` (sign-in, register, refresh, sign-out, forgot/reset password, verify
 * email, change password or email, and the rest); tokens in the answer become cookies and
 * leave the body. `PATCH /api/auth/me` updates the profile. `GET /api/auth/sessions` lists the
 * user's sessions, `DELETE /api/auth/sessions/<id>` revokes one and `DELETE /api/auth/sessions`
 * all the others. `GET /api/auth/session` answers from the access cookie, verified locally
 * (`?fresh=1`: asked of the server, so a revoked session is seen at once); an expired access
 * cookie is refreshed first, and with no Latchkey cookie but Better Auth's session cookie it
 * exchanges that first, as `authProxy` does. Other GETs are forwarded with the access token
 * as a bearer. A call that needs the user and finds the access cookie expired refreshes it
 * on the way, so a page left open past the token's lifetime keeps working.
 *
 * `POST /api/auth/signout` always clears both cookies. It answers 204 when the session ended
 * on the server too (or had already ended), and otherwise 200 with
 * `{ code: "signed_out_locally", serverStatus, serverError }`: the server refused (e.g. 429),
 * failed (5xx) or could not be reached (`serverStatus: null`), so the session may live on
 * elsewhere until it expires or another device revokes it. Bodies over 64 KiB are refused
 * with 413 `payload_too_large`; a server that cannot be reached is 503 `unavailable`.
 * Nothing the browser sends about its own address is passed on: see `clientAddress`.
 */
export function createAuthHandler(config: AuthHandlerConfig = {}): AuthHandlers {
  return authHandlerOn(new Host(config), config);
}

/** `createAuthHandler` on a given Host, so `createLatchkey`'s parts share one verifier. */
export function authHandlerOn(host: Host, config: AuthHandlerConfig): AuthHandlers {
  const client = new ClientAddress(config.clientAddress, host.sharedSecret(), () => host.now());
  const base = (config.basePath ?? "/api/auth").replace(/\/+$/, "");

  const operation = (request: Request): string | null => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(`${base}/`)) return null;
    const op = path.slice(base.length + 1);
    return OPERATION.test(op) ? op : null;
  };

  /** The path after `base` when it names one session (`sessions/<id>`), else null. */
  const oneSession = (request: Request): string | null => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(`${base}/`)) return null;
    return ONE_SESSION.exec(path.slice(base.length + 1))?.[1] ?? null;
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

  /**
   * The bearer for a call made as the user: the live access cookie, or, once it has expired,
   * a new one from the refresh cookie (its `Set-Cookie` lines go on the answer). A refresh
   * the server refuses (401) leaves the call without a bearer: the server's 401 says why.
   * A refresh that could not be made now (429, an outage) is `failed`: the session may well
   * be alive, so the caller answers with that, never with "signed out".
   */
  const userBearer = async (
    request: Request,
  ): Promise<{ bearer: string | null; setCookies: string[]; failed?: Response }> => {
    const bearer = await liveAccess(request);
    if (bearer) return { bearer, setCookies: [] };
    const cookies = host.cookies(request.url);
    const { value: rt } = host.read(cookies, request.headers.get("cookie"), "refresh");
    if (!rt) return { bearer: null, setCookies: [] };
    const got = await host.refresh(rt, cookies, passOn(request, null));
    if (!(got instanceof Response)) return { bearer: got.access, setCookies: got.setCookies };
    // 401: the session is over (revoked, expired, reused): its cookies go, so the browser
    // stops presenting them. Anything else keeps them for a later try.
    if (got.status === 401) {
      return { bearer: null, setCookies: [cookies.clearCookie("access"), cookies.clearCookie("refresh")] };
    }
    return { bearer: null, setCookies: [], failed: got };
  };

  /** The user's call to the server, with any refreshed cookies on its answer. */
  const asUser = async (request: Request, method: string, path: string, body: string | null): Promise<Response> => {
    const { bearer, setCookies, failed } = await userBearer(request);
    if (failed) return relay(failed, await failed.text());
    const res = await host.call(method, path, body, passOn(request, bearer));
    const keep = new Headers();
    for (const line of setCookies) keep.append("set-cookie", line);
    return relay(res, await res.text(), keep);
  };

  /** `GET /session`: who the cookies say is signed in (`fresh`: as the server says it now). */
  const readSession = async (request: Request): Promise<Response> => {
    const fresh = new URL(request.url).searchParams.get("fresh") === "1";
    const { bearer, setCookies, failed } = await userBearer(request);
    if (failed) return relay(failed, await failed.text());
    const found = fresh ? await host.freshSession(bearer, passOn(request, null)) : await host.session(bearer);
    const res = found
      ? Response.json({ user: found.user, claims: found.claims })
      : errorResponse(401, "missing_token");
    for (const line of setCookies) res.headers.append("set-cookie", line);
    return res;
  };

  /**
   * The session a Better Auth cookie was just exchanged for. Tokens that do not verify here
   * yet (the server's keys just rotated, or are out of reach) are an outage, never "signed
   * out": the browser keeps them, and the next read verifies them.
   */
  const exchanged = async (access: string): Promise<Response> => {
    const session = await host.session(access).catch((err: unknown) => {
      if (err instanceof ServerUnavailable) return null;
      throw err;
    });
    return session ? Response.json(session) : errorResponse(503, "unavailable");
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
          const res = moved.tokens ? await exchanged(moved.tokens.access) : errorResponse(401, "missing_token");
          // The server has spent the Better Auth cookie: its replacement is always installed.
          for (const line of [...(moved.tokens?.setCookies ?? []), ...moved.clear]) res.headers.append("set-cookie", line);
          return res;
        }
      }
      return readSession(request);
    }
    if (op === "sessions") return asUser(request, "GET", "/api/v1/sessions", null);
    return asUser(request, "GET", `/api/v1/auth/${op}`, null);
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
      if (got instanceof Response) return relay(got, await got.text(), got.status === 401 ? cleared : undefined);
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

    // Once the access cookie has expired only a refresh names the session: for the calls
    // made as the user, and for signing in again, which replaces the session this browser
    // holds (the server ends the one the request names). A refresh spends the old refresh
    // cookie, so a refused call keeps the refreshed ones.
    const { bearer, setCookies: refreshed, failed } = await userBearer(request);
    // Signing in or up again needs no old session; every other call is answered with why
    // the session could not be renewed, not with a 401 that would sign the browser out.
    if (failed && op !== "signin" && op !== "register") return relay(failed, await failed.text());
    const res = await host.call("POST", `/api/v1/auth/${op}`, body || null, passOn(request, bearer));
    const text = await res.text();
    if (res.ok && text) {
      const parsed = parseObject(text);
      const tokens = parsed && host.takeTokens(parsed, cookies);
      if (tokens) return withCookies(Response.json(tokens.body, { status: res.status }), tokens.setCookies);
      // Tokens that cannot become cookies are never handed to the page's JavaScript instead.
      if (parsed && ("accessToken" in parsed || "refreshToken" in parsed)) return errorResponse(502, "internal_error");
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
    return asUser(request, "PATCH", "/api/v1/auth/me", body || null);
  };

  /** `DELETE /sessions/<id>` revokes one session; `DELETE /sessions`, every other one. */
  const DELETE: RouteHandler = async (request) => {
    const id = oneSession(request);
    const op = operation(request);
    if (id === null && op !== "sessions") return errorResponse(404, "not_found");
    const csrf = host
      .origins(request.url)
      .check("DELETE", request.headers.get("origin"), request.headers.get("sec-fetch-site"));
    if (!csrf.ok) return errorResponse(403, csrf.error.code);
    const path = id === null ? "/api/v1/sessions" : `/api/v1/sessions/${encodeURIComponent(id)}`;
    return asUser(request, "DELETE", path, null);
  };

  return { GET: guarded(GET), POST: guarded(POST), PATCH: guarded(PATCH), DELETE: guarded(DELETE) };
}

/**
 * Every answer is `no-store` (it may carry cookies and the user's own data), and the server's
 * keys out of reach is an outage: 503 `unavailable`, as the server says it.
 */
function guarded(handler: RouteHandler): RouteHandler {
  const answer = async (request: Request): Promise<Response> => {
    try {
      return await handler(request);
    } catch (err) {
      if (err instanceof ServerUnavailable) return errorResponse(503, "unavailable");
      throw err;
    }
  };
  return async (request) => {
    const res = await answer(request);
    res.headers.set("cache-control", "no-store");
    return res;
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

/**
 * The server's answer as it was (status, body, retry hints), plus any cookie changes.
 */
function relay(res: Response, text: string, extra?: Headers): Response {
  const headers = new Headers(extra);
  // x-request-id: the id the server logged this request under, for a user to quote.
  for (const name of ["content-type", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-request-id"]) {
    const value = res.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(bodiless(res.status) ? null : text, { status: res.status, headers });
}

function withCookies(res: Response, setCookies: string[]): Response {
  for (const line of setCookies) res.headers.append("set-cookie", line);
  return res;
}
