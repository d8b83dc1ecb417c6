/** One resolved configuration: where the server is, how to verify, which cookies. */
import {
  type AccessClaims,
  type Assessment,
  type AuthCookies,
  type BetterAuthCookies,
  type CookieKind,
  type TrustedOrigins,
  type Verifier,
  authCookies,
  betterAuthCookies,
  hs256Verifier,
  isLatchkeyError,
  jwksVerifier,
  originOfUrl,
  trustedOrigins,
} from "latchkey";

export interface LatchkeyConfig {
  /** The Latchkey server (default: `LATCHKEY_API_URL`, else `http://127.0.0.1:8080`). */
  apiUrl?: string;
  /**
   * The app's public URL (default: `LATCHKEY_APP_URL`). It decides the cookie names
   * (`__Host-` on https) and is the origin trusted for changes. Required when
   * `NODE_ENV=production`; in development the request's own origin stands in for it.
   */
  appUrl?: string;
  /**
   * The server's `LATCHKEY_SECRET` (default: that environment variable): verifies HS256
   * tokens, and signs the client addresses the bridge passes on (in EdDSA mode too).
   */
  secret?: string;
  /**
   * The server's `LATCHKEY_JWT_ALG` (default: that environment variable, else HS256 when a
   * secret is known). With `EdDSA` the secret only signs client addresses.
   */
  alg?: "HS256" | "EdDSA";
  /** EdDSA: a JWKS document; without it (and without a secret) the server's is fetched. */
  jwks?: string | { keys: unknown[] };
  /** The server's `LATCHKEY_ISSUER` and `LATCHKEY_AUDIENCE` (default: the env, else `latchkey`). */
  issuer?: string;
  audience?: string;
  leewaySecs?: number;
  /** Refresh when the access token expires within this many seconds (default 60). */
  refreshMarginSecs?: number;
  /** More origins allowed to post to the auth routes, besides the app's own. */
  trustedOrigins?: string[];
  /**
   * Users moving from Better Auth: a request with Better Auth's session cookie and no
   * Latchkey session is signed in by exchanging that cookie through the server (see
   * `authProxy`). Give Better Auth's `advanced.cookiePrefix` and its `crossSubDomainCookies`
   * domain if it had them, and its `advanced.useSecureCookies` as `secureCookies` if it set
   * it (by default Better Auth followed its URL's scheme, as this does: on https only the
   * `__Secure-` cookie is read, on http only the plain one, since the other can only have
   * been planted); `false` turns the exchange off. Requests without the cookie never call
   * the server for it.
   */
  betterAuth?: false | { cookiePrefix?: string; domain?: string; secureCookies?: boolean };
  /** Injected for tests: the fetch used to reach the server, and the clock (Unix seconds). */
  fetch?: typeof fetch;
  now?: () => number;
}

/** A signed-in user, as the access token tells it (verified locally). */
export interface Session {
  user: { id: string; email: string; emailVerified: boolean };
  claims: AccessClaims;
}

/** The server's answer to sign-in, register and refresh, with the tokens. */
interface TokenBody {
  accessToken?: string;
  refreshToken?: string;
  expiresIn?: number;
  refreshExpiresIn?: number;
  [key: string]: unknown;
}

export interface Refreshed {
  body: TokenBody;
  setCookies: string[];
  access: string;
  refresh: string;
}

/** A Better Auth session cookie exchanged: the new tokens, and what becomes of the old cookie. */
export interface Exchanged {
  /** The Latchkey session's tokens and cookies; `null` when the server refused or did not answer. */
  tokens: Refreshed | null;
  /**
   * `Set-Cookie` lines deleting Better Auth's cookies: after an exchange, and after a refusal
   * (the cookie will never work). None when the server could not answer (not configured,
   * rate limited, down): the cookie is kept for a later try.
   */
  clear: string[];
  /** The Better Auth cookie names the request carried, to drop from the request the app sees. */
  names: string[];
}

const JWKS_TTL_MS = 5 * 60 * 1000;
/**
 * How long an exchange's tokens are handed to other requests with the same cookie: a page
 * load sends several at once, all carrying the old cookie until the first answer lands, and
 * the server exchanges it only once. Kept short: within it, a copy of the spent cookie gets
 * the same session from this process without the server being asked.
 */
const EXCHANGE_REUSE_SECS = 2;
/** How long a server that said it does not exchange (404) is not asked again. */
const EXCHANGE_OFF_SECS = 60;
/**
 * How long a cookie the server would not exchange yet (403: the address is not verified) is
 * not sent again: every page load would otherwise ask, and spend the client's exchange limit.
 */
const EXCHANGE_DECLINED_SECS = 60;
/** The most declined cookies remembered; past it the oldest are forgotten (asked again). */
const EXCHANGE_DECLINED_MAX = 10_000;
const JWKS_RETRY_MS = 30 * 1000;
const env = (name: string): string | undefined =>
  typeof process === "undefined" ? undefined : process.env?.[name] || undefined;

let defaultHost: Host | undefined;
/** One Host per config object: its verifier, fetched JWKS and refreshes in flight are shared. */
const hosts = new WeakMap<LatchkeyConfig, Host>();
export function hostFor(config?: LatchkeyConfig): Host {
  if (!config) return (defaultHost ??= new Host());
  let host = hosts.get(config);
  if (!host) hosts.set(config, (host = new Host(config)));
  return host;
}

export class Host {
  readonly apiUrl: string;
  private readonly config: LatchkeyConfig;
  private readonly fetch: typeof fetch;
  private verifier?: Verifier;
  private jwksFetchedAt = 0;
  /** Refreshes in flight, by refresh token: concurrent requests share one server call. */
  private readonly inFlight = new Map<string, Promise<Refreshed | Shared>>();
  /** Better Auth cookie exchanges by cookie, with when they began (see EXCHANGE_REUSE_SECS). */
  private readonly exchanges = new Map<string, { at: number; result: Promise<Refreshed | Shared> }>();
  /** Better Auth's cookies as read on http (`false`) and on https (`true`) apps. */
  private readonly betterAuthCookies = new Map<boolean, BetterAuthCookies>();
  /** Until when (Unix seconds) the server is taken at its word that it does not exchange. */
  private exchangeOffUntil = 0;
  /** Cookies the server declined (403), with until when they are not sent again. */
  private readonly declined = new Map<string, number>();

  constructor(config: LatchkeyConfig = {}) {
    this.config = config;
    this.apiUrl = (config.apiUrl ?? env("LATCHKEY_API_URL") ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.fetch = config.fetch ?? globalThis.fetch.bind(globalThis);
    requireAppUrlInProduction(config.appUrl ?? env("LATCHKEY_APP_URL"));
  }

  /** The shared `LATCHKEY_SECRET`, if the app has it. */
  sharedSecret(): string | undefined {
    return this.config.secret ?? env("LATCHKEY_SECRET");
  }

  /** The secret that verifies tokens: the shared one, unless the tokens are EdDSA. */
  private hs256Secret(): string | undefined {
    const alg = this.config.alg ?? env("LATCHKEY_JWT_ALG");
    if (alg?.toLowerCase() === "eddsa") return undefined;
    return this.config.secret ?? (this.config.jwks ? undefined : env("LATCHKEY_SECRET"));
  }

  now(): number {
    return this.config.now ? this.config.now() : Date.now() / 1000;
  }

  /** The cookies for this app: from `appUrl`, else the origin the request came to. */
  cookies(requestUrl?: string): AuthCookies {
    const appUrl = this.config.appUrl ?? env("LATCHKEY_APP_URL") ?? requestUrl;
    if (!appUrl) throw new Error("latchkey: set appUrl (or LATCHKEY_APP_URL) to read cookies outside a request");
    return authCookies(appUrl);
  }

  origins(requestUrl: string): TrustedOrigins {
    const appUrl = this.config.appUrl ?? env("LATCHKEY_APP_URL") ?? requestUrl;
    return trustedOrigins([originOfUrl(appUrl), ...(this.config.trustedOrigins ?? [])]);
  }

  /** Reads one auth cookie; a malformed or doubled one counts as absent-and-suspect. */
  read(cookies: AuthCookies, header: string | null, kind: CookieKind): { value: string | null; bad: boolean } {
    const got = cookies.read(header, kind);
    return got.ok ? { value: got.value, bad: false } : { value: null, bad: true };
  }

  /** Assesses an access token, fetching the server's JWKS when keys are needed. */
  async assess(token: string | null): Promise<Assessment> {
    const margin = this.config.refreshMarginSecs ?? 60;
    let verdict = (await this.keys()).assess(token, margin, this.now());
    // A key we have not seen: the server may have rotated. Refetch, at most every 30 s.
    if (verdict.action === "refuse" && verdict.error.code === "unknown_key" && this.refetchJwks()) {
      verdict = (await this.keys()).assess(token, margin, this.now());
    }
    return verdict;
  }

  async session(token: string | null): Promise<Session | null> {
    const verdict = await this.assess(token);
    const claims = verdict.action === "refuse" ? null : verdict.claims;
    if (!claims) return null;
    return { user: { id: claims.sub, email: claims.email, emailVerified: claims.email_verified }, claims };
  }

  /**
   * The session as the server sees it now (`GET /api/v1/auth/me` with the token): `null` once
   * it has been revoked or has ended, even while the token would still verify. The token is
   * verified locally first, so garbage never reaches the server. When the server cannot
   * answer (5xx, out of reach) the local answer stands, as it does in the proxy.
   */
  async freshSession(token: string | null, headers: HeadersInit = {}): Promise<Session | null> {
    const local = await this.session(token);
    if (!local || !token) return null;
    const h = new Headers(headers);
    h.set("authorization", `Bearer ${token}`);
    const res = await this.call("GET", "/api/v1/auth/me", null, h);
    if (!res.ok) {
      // Unread, the answer would hold its connection until collected.
      await res.body?.cancel().catch(() => undefined);
      return res.status === 401 || res.status === 403 ? null : local;
    }
    const user = (await res.json().catch(() => null)) as Partial<Session["user"]> | null;
    if (!user || user.id !== local.user.id || typeof user.email !== "string") return local;
    return { user: { id: user.id, email: user.email, emailVerified: user.emailVerified === true }, claims: local.claims };
  }

  /**
   * Exchanges a refresh token for new tokens, once per token however many requests ask at
   * the same moment. Returns the new tokens and their cookies, or the server's error answer.
   */
  refresh(refreshToken: string, cookies: AuthCookies, headers: HeadersInit = {}): Promise<Refreshed | Response> {
    let call = this.inFlight.get(refreshToken);
    if (!call) {
      call = this.call("POST", "/api/v1/auth/refresh", JSON.stringify({ refreshToken }), headers)
        .then(async (res) => this.tokensOf(res, cookies))
        .finally(() => this.inFlight.delete(refreshToken));
      this.inFlight.set(refreshToken, call);
    }
    return call.then(own);
  }

  /**
   * A server answer that should carry tokens: its tokens as cookies, or a shared copy of the
   * refusal. A success without usable tokens (not JSON, a token missing or not fit for a
   * cookie) is a bad gateway, never a crash.
   */
  private async tokensOf(res: Response, cookies: AuthCookies): Promise<Refreshed | Shared> {
    if (!res.ok) return share(res);
    const body = (await res.json().catch(() => null)) as TokenBody | null;
    const tokens = body !== null && typeof body === "object" ? this.takeTokens(body, cookies) : null;
    return tokens ?? share(errorResponse(502, "internal_error"));
  }

  /**
   * Exchanges the Better Auth session cookie in `header` for a Latchkey session (the server's
   * `POST /api/v1/auth/exchange/better-auth`). `null`, with no server call, when the request
   * carries no such cookie or the exchange is off.
   */
  async exchange(header: string | null, cookies: AuthCookies, headers: HeadersInit = {}): Promise<Exchanged | null> {
    const ba = this.betterAuth(cookies.mode === "secure");
    if (!ba || !header) return null;
    const { value, names } = ba.find(header);
    if (names.length === 0) return null;
    const clear = names.map((name) => ba.clearCookie(name));
    // One name sent twice with different values: a planted cookie; neither is tried.
    if (!value) return { tokens: null, clear, names };
    if (this.now() < this.exchangeOffUntil || this.isDeclined(value)) return { tokens: null, clear: [], names };
    const got = await this.exchangeOnce(value, cookies, headers);
    if (got instanceof Response && got.status === 404) {
      // No LATCHKEY_BETTER_AUTH_SECRET on the server: asking again on every request of
      // every such browser would change nothing for a while.
      this.exchangeOffUntil = this.now() + EXCHANGE_OFF_SECS;
    }
    if (got instanceof Response && got.status === 403) this.decline(value);
    if (!(got instanceof Response)) return { tokens: got, clear, names };
    return { tokens: null, clear: got.status === 401 ? clear : [], names };
  }

  private isDeclined(cookie: string): boolean {
    const until = this.declined.get(cookie);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.declined.delete(cookie);
    return false;
  }

  private decline(cookie: string): void {
    this.declined.delete(cookie);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.declined.size >= EXCHANGE_DECLINED_MAX) {
      this.declined.delete(this.declined.keys().next().value as string);
    }
    this.declined.set(cookie, this.now() + EXCHANGE_DECLINED_SECS);
  }

  private betterAuth(https: boolean): BetterAuthCookies | null {
    const option = this.config.betterAuth;
    if (option === false) return null;
    const secure = option?.secureCookies ?? https;
    let cookies = this.betterAuthCookies.get(secure);
    if (!cookies) {
      cookies = betterAuthCookies(option?.cookiePrefix, option?.domain, secure);
      this.betterAuthCookies.set(secure, cookies);
    }
    return cookies;
  }

  private exchangeOnce(cookie: string, cookies: AuthCookies, headers: HeadersInit): Promise<Refreshed | Response> {
    const now = this.now();
    for (const [key, entry] of this.exchanges) {
      if (now - entry.at > EXCHANGE_REUSE_SECS) this.exchanges.delete(key);
    }
    const known = this.exchanges.get(cookie);
    if (known) return known.result.then(own);
    const result = this.call("POST", "/api/v1/auth/exchange/better-auth", JSON.stringify({ cookie }), headers).then(
      async (res) => {
        const got = await this.tokensOf(res, cookies);
        // Only a success is handed to the requests that follow.
        if (typeof got === "function") this.exchanges.delete(cookie);
        return got;
      },
    );
    this.exchanges.set(cookie, { at: now, result });
    return result.then(own);
  }

  /** Moves the tokens out of a server answer into `Set-Cookie` lines for the app's domain. */
  takeTokens(body: TokenBody, cookies: AuthCookies): Refreshed | null {
    const { accessToken, refreshToken } = body;
    if (typeof accessToken !== "string" || typeof refreshToken !== "string") return null;
    const access = cookies.setCookie("access", accessToken, body.expiresIn ?? 900);
    const refresh = cookies.setCookie("refresh", refreshToken, body.refreshExpiresIn ?? 7 * 24 * 3600);
    if (!access.ok || !refresh.ok) return null;
    delete body.accessToken;
    delete body.refreshToken;
    return { body, setCookies: [access.setCookie, refresh.setCookie], access: accessToken, refresh: refreshToken };
  }

  /**
   * A call to the Latchkey server. A server that cannot be reached answers like one that is
   * down, 503 `unavailable` (see [`unreachable`]), never a thrown error: callers already
   * handle 5xx, and a route must not turn an outage into a 500 of its own.
   */
  async call(method: string, path: string, body: string | null, headers: HeadersInit = {}): Promise<Response> {
    const h = new Headers(headers);
    if (body !== null) h.set("content-type", "application/json");
    h.set("accept", "application/json");
    try {
      return await this.fetch(`${this.apiUrl}${path}`, { method, body, headers: h, redirect: "manual" });
    } catch {
      const res = errorResponse(503, "unavailable");
      unreachableAnswers.add(res);
      return res;
    }
  }

  private async keys(): Promise<Verifier> {
    const secret = this.hs256Secret();
    const options = {
      issuer: this.config.issuer ?? env("LATCHKEY_ISSUER"),
      audience: this.config.audience ?? env("LATCHKEY_AUDIENCE"),
      leewaySecs: this.config.leewaySecs,
    };
    if (secret !== undefined) {
      this.verifier ??= hs256Verifier(secret, options);
      return this.verifier;
    }
    if (this.config.jwks !== undefined) {
      this.verifier ??= jwksVerifier(this.config.jwks, options);
      return this.verifier;
    }
    if (!this.verifier || Date.now() - this.jwksFetchedAt > JWKS_TTL_MS) {
      const res = await this.call("GET", "/.well-known/jwks.json", null);
      if (!res.ok) throw new ServerUnavailable(`latchkey: the server's JWKS answered ${res.status}`);
      this.verifier = jwksVerifier(await res.text(), options);
      this.jwksFetchedAt = Date.now();
    }
    return this.verifier;
  }

  private refetchJwks(): boolean {
    if (this.hs256Secret() ?? this.config.jwks) return false;
    if (Date.now() - this.jwksFetchedAt < JWKS_RETRY_MS) return false;
    this.jwksFetchedAt = 0;
    return true;
  }
}

export { isLatchkeyError };

/** The server's keys could not be fetched: an outage, answered as one (503), never a crash. */
export class ServerUnavailable extends Error {
  override name = "ServerUnavailable";
}

/** The answers [`Host.call`] made up because the server could not be reached. */
const unreachableAnswers = new WeakSet<Response>();

/** True if `res` stands for a server that could not be reached at all. */
export function unreachable(res: Response): boolean {
  return unreachableAnswers.has(res);
}

/**
 * A refusal several waiting requests are given: each gets its own copy, since a body can be
 * read only once (one waiter reading it must not break the others).
 */
type Shared = () => Response;

async function share(res: Response): Promise<Shared> {
  const text = await res.text().catch(() => "");
  const down = unreachable(res);
  return () => {
    const copy = new Response(bodiless(res.status) ? null : text, {
      status: res.status,
      headers: res.headers,
    });
    if (down) unreachableAnswers.add(copy);
    return copy;
  };
}

/** Statuses a `Response` must be made without a body for. */
export const bodiless = (status: number): boolean => status === 204 || status === 205 || status === 304;

const own = (got: Refreshed | Shared): Refreshed | Response => (typeof got === "function" ? got() : got);

/**
 * In production the app's URL must be configured: deriving it from the request would let
 * `X-Forwarded-Host`/`-Proto` (which a request can carry) choose the cookie names and the
 * trusted origin. Thrown when a route sets up Latchkey, so a deployment fails loudly at once.
 * (`next build` evaluates routes too; it is exempt, the running server is not.)
 */
function requireAppUrlInProduction(appUrl: string | undefined): void {
  if (appUrl || env("NODE_ENV") !== "production" || env("NEXT_PHASE") === "phase-production-build") return;
  const err = new Error(
    "latchkey: set LATCHKEY_APP_URL (or the appUrl option) to the app's public URL, e.g. " +
      "https://app.example.com: in production it is required, not guessed from request headers",
  );
  err.name = "LatchkeyError";
  (err as Error & { code: string }).code = "missing_app_url";
  throw err;
}

/** A JSON error answer in the server's shape. */
export function errorResponse(status: number, code: string, headers: Headers = new Headers()): Response {
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify({ error: code }), { status, headers });
}
