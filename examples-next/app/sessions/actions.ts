"use server";

import { redirect } from "next/navigation";

import { latchkey } from "@/lib/latchkey";

// A form's action, so it works before and without JavaScript: the browser posts the form to
// the page, Next.js refuses a post whose Origin is not this app's Host, and the bridge applies
// its own CSRF rule to the operations below (serverAction passes the browser's Origin on).

/**
 * "Sign out everywhere": every other session of the account ends, then this one, and the
 * browser lands on sign-in. The cookies are cleared through `cookies()` by serverAction.
 */
export async function signOutEverywhere(): Promise<void> {
  // The others first: revoking them needs this session, which names the account.
  const others = await latchkey.serverAction("sessions", { method: "DELETE" });
  // Sign-out clears the cookies on 204 (ended on the server) and on 200 `signed_out_locally`
  // (the server could not confirm). Any other answer refused the request itself (a post from
  // another site, say): nothing changed, and redirecting to sign-in would claim otherwise.
  const here = await latchkey.serverAction("signout");
  if (here.status !== 204 && here.status !== 200) throw new Error(`The sign-out was refused (${here.status})`);
  // Without the server's word for both steps, other devices may still be signed in: say so.
  redirect(here.status === 204 && others.ok ? "/signin" : "/signin?partial=1");
}
