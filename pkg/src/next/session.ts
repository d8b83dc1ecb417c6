/**
 * `getSession()` and `fetchApi()` for server components, server actions and route handlers.
 * Both read the access cookie and verify it locally on every call: a route handler is safe
 * even if a request slipped past the proxy.
 */
import { type LatchkeyConfig, type Session, hostFor } from "./host.js";

/** Where the cookies come from: a `Request`, its `Headers`, a raw `Cookie` header, or (by default) the current Next.js request. */
export type CookieSource = Request | Headers | string | undefined;

async function cookieHeaderOf(source: CookieSource): Promise<{ header: string | null; url?: string }> {
  if (typeof source === "string") return { header: source };
  if (source instanceof Headers) return { header: source.get("cookie") };
  if (source) return { header: source.headers.get("cookie"), url: source.url };
  // Inside a Next.js request: its headers, the way the proxy may have rewritten them.
  const { headers } = await import("next/headers.js");
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host");
  const proto = h.get("x-forwarded-proto") ?? (/^(localhost|127\.0\.0\.1|\[::1\])(:|$)/.test(host ?? "") ? "http" : "https");
  return { header: h.get("cookie"), url: host ? `${proto}://${host}` : undefined };
}

export interface SessionOptions {
  /**
   * Ask the server too (one call), so a session revoked from another device reads as signed
   * out at once rather than when its access token expires. When the server cannot answer,
   * the local answer stands. Default `false`: local verification only, no call.
   */
  fresh?: boolean;
  /** Where the cookies come from (default: the current Next.js request). */
  source?: CookieSource;
}

const isOptions = (value: unknown): value is SessionOptions =>
  typeof value === "object" && value !== null && !(value instanceof Headers) && !(value instanceof Request);

/**
 * The signed-in user, verified locally from the access cookie, or `null`:
 * `getSession()`, `getSession(request)`, or `getSession({ fresh: true })` to ask the server.
 */
export async function getSession(
  sourceOrOptions?: CookieSource | SessionOptions,
  config?: LatchkeyConfig,
): Promise<Session | null> {
  const options = isOptions(sourceOrOptions) ? sourceOrOptions : { source: sourceOrOptions };
  const host = hostFor(config);
  const { header, url } = await cookieHeaderOf(options.source);
  const { value } = host.read(host.cookies(url), header, "access");
  return options.fresh ? host.freshSession(value) : host.session(value);
}

/**
 * Calls the Latchkey server (`path` such as `/api/v1/tasks`) as the signed-in user: the
 * access token from the cookie goes in the `Authorization` header. Without a live session
 * the call goes out without one, and the server answers 401.
 */
export async function fetchApi(
  path: string,
  init: RequestInit = {},
  source?: CookieSource,
  config?: LatchkeyConfig,
): Promise<Response> {
  const host = hostFor(config);
  const { header, url } = await cookieHeaderOf(source);
  const { value } = host.read(host.cookies(url), header, "access");
  const headers = new Headers(init.headers);
  const session = value ? await host.session(value) : null;
  if (session && value) headers.set("authorization", `Bearer ${value}`);
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const fetcher = config?.fetch ?? fetch;
  return fetcher(`${host.apiUrl}${path.startsWith("/") ? path : `/${path}`}`, { ...init, headers });
}
