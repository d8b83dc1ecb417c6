/**
 * Where to go after signing in: the `next` parameter if it is a path on this site, else the
 * dashboard. Anything else (`//evil.example`, `https://…`, `/\evil`) would make the sign-in
 * page an open redirect.
 */
export function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return "/dashboard";
  return value;
}
