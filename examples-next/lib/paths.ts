/**
 * Where to go after signing in: the `next` parameter if it names a page on this site, else
 * the dashboard. It is resolved the way the browser will resolve it (which drops tabs and
 * newlines, and reads `\` as `/`), and only a same-origin result is kept, so `//evil.example`,
 * `/%09/evil.example` and `/\evil.example` cannot turn sign-in into an open redirect.
 */
export function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/")) return "/dashboard";
  const base = "http://app.invalid";
  try {
    const url = new URL(value, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : "/dashboard";
  } catch {
    return "/dashboard";
  }
}
