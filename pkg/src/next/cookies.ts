/**
 * Server actions and Set-Cookie. A route handler returns its cookies on its `Response`; a
 * server action has no response of its own, so cookies must go through `next/headers`'
 * `cookies()` — the way Better Auth's `nextCookies` plugin does it. `applySetCookies` takes
 * the `Set-Cookie` lines of an answer (the bridge's, say, called in-process) and sets each.
 */

/** One `Set-Cookie` line, as `cookies().set()` takes it. */
export interface ParsedCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  maxAge?: number;
  expires?: Date;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: "strict" | "lax" | "none";
  partitioned?: boolean;
}

/** Parses a `Set-Cookie` line; `null` for one without a `name=value` pair. */
export function parseSetCookie(line: string): ParsedCookie | null {
  const [pair, ...attributes] = line.split(";");
  const eq = pair?.indexOf("=") ?? -1;
  if (!pair || eq <= 0) return null;
  const cookie: ParsedCookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
  for (const attribute of attributes) {
    const at = attribute.indexOf("=");
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? "" : attribute.slice(at + 1).trim();
    if (key === "path") cookie.path = value;
    else if (key === "domain") cookie.domain = value;
    else if (key === "max-age" && /^-?\d+$/.test(value)) cookie.maxAge = Number(value);
    else if (key === "expires" && !Number.isNaN(Date.parse(value))) cookie.expires = new Date(value);
    else if (key === "httponly") cookie.httpOnly = true;
    else if (key === "secure") cookie.secure = true;
    else if (key === "partitioned") cookie.partitioned = true;
    else if (key === "samesite" && /^(strict|lax|none)$/i.test(value)) {
      cookie.sameSite = value.toLowerCase() as ParsedCookie["sameSite"];
    }
  }
  return cookie;
}

/** What `cookies()` from `next/headers` returns, as far as this needs it. */
export interface CookieStore {
  set(cookie: ParsedCookie): unknown;
}

/**
 * Applies the `Set-Cookie` lines of `from` (a `Response`, its `Headers`, or the lines) in a
 * server action or route handler: `await applySetCookies(await handlers.POST(request))`.
 * `store` defaults to the current request's `cookies()`. Returns how many were set.
 */
export async function applySetCookies(
  from: Response | Headers | readonly string[],
  store?: CookieStore,
): Promise<number> {
  const headers = from instanceof Response ? from.headers : from;
  const lines = headers instanceof Headers ? headers.getSetCookie() : [...headers];
  const jar = store ?? ((await (await import("next/headers.js")).cookies()) as unknown as CookieStore);
  let set = 0;
  for (const line of lines) {
    const cookie = parseSetCookie(line);
    if (!cookie) continue;
    jar.set(cookie);
    set++;
  }
  return set;
}
