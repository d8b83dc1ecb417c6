/**
 * The guard for `proxy.ts`: verifies the access cookie locally, refreshes it silently when it
 * is about to expire, and sends everyone else to the sign-in page. It decides from the
 * token's signature and claims, never from a cookie's mere presence, and no request header
 * (such as `x-middleware-subrequest`) can make it skip a check. A browser still holding a
 * Better Auth session (and no Latchkey one) is signed in by exchanging it, on any path.
 */
import { NextResponse, type NextRequest } from "next/server.js";

import { type ClientAddressSource, ClientAddress } from "./address.js";
import { type LatchkeyConfig, Host, ServerUnavailable } from "./host.js";

export interface AuthProxyConfig extends LatchkeyConfig {
  /** Where the client's address comes from, as for `createAuthHandler` (it signs refreshes' origin). */
  clientAddress?: ClientAddressSource;
  /** Paths that need a session: prefixes (`"/dashboard"` covers `/dashboard/x`) or a test. */
  protect: string[] | ((pathname: string) => boolean);
  /** Where to send signed-out users (default `/signin`); the original path goes in `next`. */
  signInPath?: string;
}

/**
 * `export const proxy = authProxy({ protect: ["/dashboard"], signInPath: "/signin" })` in
 * `proxy.ts`. After a refresh the new cookies are set on the response *and* on the request
 * the app sees, so server components in the same request read the fresh session.
 *
 * A request with no Latchkey cookie but Better Auth's session cookie (users moving from
 * Better Auth; see the `betterAuth` option) has it exchanged through the server, on any path
 * the proxy runs for: the Latchkey cookies are set, the Better Auth cookie is deleted, and the
 * page asked for renders signed in. A refused cookie is deleted and the request goes on
 * signed out; when the server cannot answer, the cookie is kept for the next request.
 */
export function authProxy(config: AuthProxyConfig): (request: NextRequest) => Promise<NextResponse> {
  return authProxyOn(new Host(config), config);
}

/** `authProxy` on a given Host, so `createLatchkey`'s parts share one verifier. */
export function authProxyOn(host: Host, config: AuthProxyConfig): (request: NextRequest) => Promise<NextResponse> {
  const client = new ClientAddress(config.clientAddress, host.sharedSecret(), () => host.now());
  const signInPath = config.signInPath ?? "/signin";
  const isProtected =
    typeof config.protect === "function"
      ? config.protect
      : (path: string) =>
          (config.protect as string[]).some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));

  const guard = async (request: NextRequest, guarded: boolean): Promise<NextResponse> => {
    const cookies = host.cookies(request.url);
    const header = request.headers.get("cookie");
    const access = host.read(cookies, header, "access");
    const refresh = host.read(cookies, header, "refresh");

    const none = !access.value && !access.bad && !refresh.value && !refresh.bad;
    const moved = none ? await host.exchange(header, cookies, client.headers(request)) : null;
    if (moved) {
      let res: NextResponse;
      if (moved.tokens) {
        let seen = without(header ?? "", moved.names);
        seen = withCookie(seen, cookies.name("access"), moved.tokens.access);
        seen = withCookie(seen, cookies.name("refresh"), moved.tokens.refresh);
        const requestHeaders = new Headers(request.headers);
        requestHeaders.set("cookie", seen);
        res = NextResponse.next({ request: { headers: requestHeaders } });
        for (const line of moved.tokens.setCookies) res.headers.append("set-cookie", line);
      } else {
        res = guarded ? toSignInFor(request, signInPath) : NextResponse.next();
      }
      for (const line of moved.clear) res.headers.append("set-cookie", line);
      return res;
    }
    if (!guarded) return NextResponse.next();

    const toSignIn = (clear: boolean): NextResponse => {
      const res = toSignInFor(request, signInPath);
      if (clear) {
        res.headers.append("set-cookie", cookies.clearCookie("access"));
        res.headers.append("set-cookie", cookies.clearCookie("refresh"));
      }
      return res;
    };

    if (access.bad) return toSignIn(true);
    let verdict: Awaited<ReturnType<Host["assess"]>>;
    try {
      verdict = await host.assess(access.value);
    } catch (err) {
      if (!(err instanceof ServerUnavailable)) throw err;
      // The server's JWKS could not be fetched: nothing can be verified, so nobody is let
      // through, and nobody is signed out for our outage either.
      return new NextResponse("Service Unavailable", { status: 503, headers: { "retry-after": "5" } });
    }
    if (verdict.action === "valid") return NextResponse.next();
    // Forged, malformed, foreign: signed out. A good refresh cookie must not launder it.
    if (verdict.action === "refuse") return toSignIn(true);
    if (!refresh.value) return verdict.claims ? NextResponse.next() : toSignIn(false);

    const got = await host.refresh(refresh.value, cookies, client.headers(request));
    if (got instanceof Response) {
      // The server said no (revoked, reused, expired): signed out. Any other failure (the
      // server is down or unreachable: 5xx, 429) lets a still-valid token finish its last
      // minute, and sends the user to sign in without dropping the cookies otherwise.
      if (got.status === 401) return toSignIn(true);
      return verdict.claims ? NextResponse.next() : toSignIn(false);
    }
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set(
      "cookie",
      withCookie(withCookie(header ?? "", cookies.name("access"), got.access), cookies.name("refresh"), got.refresh),
    );
    const res = NextResponse.next({ request: { headers: requestHeaders } });
    for (const line of got.setCookies) res.headers.append("set-cookie", line);
    return res;
  };
  return async (request) => {
    const { pathname } = request.nextUrl;
    const guarded = isProtected(pathname) && pathname !== signInPath;
    const res = await guard(request, guarded);
    // Neither a protected page (one user's, or the redirect and outage answers standing in for
    // it) nor a page answered with a user's new cookies may be stored by a shared cache: a CDN
    // keeping it would show it to visitors the proxy never sees, or hand them the tokens.
    // Next.js leaves a prerendered page's `s-maxage` in place unless one is set here.
    if (guarded || res.headers.has("set-cookie")) res.headers.set("cache-control", "private, no-store");
    return res;
  };
}

/** The redirect to the sign-in page, with the page asked for in `next`. */
function toSignInFor(request: NextRequest, signInPath: string): NextResponse {
  const { pathname, search } = request.nextUrl;
  const url = new URL(signInPath, request.url);
  url.search = "";
  url.searchParams.set("next", `${pathname}${search}`);
  return NextResponse.redirect(url);
}

/** `header` without the cookies named `names`. */
function without(header: string, names: string[]): string {
  return header
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && !names.includes(pair.split("=", 1)[0]?.trim() ?? ""))
    .join("; ");
}

/** `header` with cookie `name` set to `value` (replacing any it had). */
function withCookie(header: string, name: string, value: string): string {
  const others = header
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && pair.split("=", 1)[0]?.trim() !== name);
  return [...others, `${name}=${value}`].join("; ");
}
