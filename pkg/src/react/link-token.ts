import { useEffect, useState } from "react";

/**
 * The token of an emailed link (`…/reset-password#token=…`). Latchkey puts it in the fragment,
 * which browsers never send to any server, log or Referer; once read, it is removed from the
 * address bar and history too. `undefined` until the page has read it, `null` if absent.
 */
export function useLinkToken(): string | null | undefined {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    const value = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (value) window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}`);
    setToken((seen) => seen ?? value ?? null);
  }, []);
  return token;
}
