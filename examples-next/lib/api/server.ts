/**
 * The Latchkey API from server components and server actions, through the client that
 * openapi-typescript generates from the server's contract (`npm run generate`). Every call
 * carries the signed-in user's access token, read from the HttpOnly cookie and verified
 * locally first (`fetchApi`), so a renamed field or path in the contract fails `tsc` here.
 */
import createClient from "openapi-fetch";
import { fetchApi } from "latchkey/next";
import { redirect } from "next/navigation";

import type { paths } from "./schema";

const apiUrl = (process.env.LATCHKEY_API_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");

export const api = createClient<paths>({
  baseUrl: apiUrl,
  fetch: async (request: Request) => {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    return fetchApi(`${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: body || undefined,
      cache: "no-store",
    });
  },
});

/** Sends the user to sign in again, back to `from` afterwards. */
export function toSignIn(from: string): never {
  redirect(`/signin?${new URLSearchParams({ next: from, ended: "1" })}`);
}

/**
 * The data of an API answer, or the way out: a 401 means the session ended on the server
 * (signed out elsewhere, revoked from another device) even though the access cookie still
 * verifies locally, so the user goes to sign in again.
 */
export function dataOr401<T>(
  result: { data?: T; error?: unknown; response: Response },
  from: string,
): T {
  if (result.response.status === 401) toSignIn(from);
  if (result.data === undefined) {
    throw new Error(`The Latchkey server answered ${result.response.status} for ${result.response.url}`);
  }
  return result.data;
}
