/**
 * Where to go after signing in: the `next` parameter if it names a page on this site, else
 * the dashboard. It is resolved the way the browser will resolve it (dropping tabs and
 * newlines, reading `\` as `/`, collapsing `.` and `..`), and the result must resolve to this
 * site a second time too: `/.//evil.example` resolves once to `//evil.example`, which the
 * browser would then read as another host.
 */
export function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/")) return "/dashboard";
  const base = "http://app.invalid";
  try {
    const url = new URL(value, base);
    const path = `${url.pathname}${url.search}${url.hash}`;
    const ours = url.origin === base && !path.startsWith("//") && new URL(path, base).origin === base;
    return ours ? path : "/dashboard";
  } catch {
    return "/dashboard";
  }
}
