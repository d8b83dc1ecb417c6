/**
 * Where to go after signing in: the `next` parameter if it names a page on this site, else
 * `fallback` (the dashboard by default). It is resolved the way the browser will resolve it
 * (dropping tabs and newlines, reading `\` as `/`, collapsing `.` and `..`), and the result
 * must resolve to this site a second time too: `/.//evil.example` resolves once to
 * `//evil.example`, which the browser would then read as another host.
 *
 * Plain code with no React or Next.js in it, so server components (`latchkey/next`) and
 * client components (`latchkey/react`) share it.
 */
export function safeNext(next: string | string[] | null | undefined, fallback = "/dashboard"): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (typeof value !== "string" || !value.startsWith("/")) return fallback;
  const base = "http://app.invalid";
  try {
    const url = new URL(value, base);
    const path = `${url.pathname}${url.search}${url.hash}`;
    const ours = url.origin === base && !path.startsWith("//") && new URL(path, base).origin === base;
    return ours ? path : fallback;
  } catch {
    return fallback;
  }
}
