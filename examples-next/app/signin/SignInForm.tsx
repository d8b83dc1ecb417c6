"use client";

import { getAccount, signIn, signOut } from "latchkey/react";
import { useEffect, useState } from "react";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";
import { emailProblem } from "@/lib/validate";

/**
 * `ended`: a page sent the user here because the server refused their session. The form
 * waits until that is confirmed (the server still refuses, even after the bridge tried the
 * refresh cookie) and the stale cookies are cleared, so a link to `?ended=1` cannot sign
 * anyone out, and a quick sign-in cannot be undone by a late clearing. A session found alive
 * goes back to `next`.
 */
export function SignInForm({ next, ended }: { next: string; ended: boolean }) {
  const submit = useSubmit();
  const [settled, setSettled] = useState(!ended);
  const [confirmedEnded, setConfirmedEnded] = useState(false);

  useEffect(() => {
    if (!ended) return;
    void (async () => {
      try {
        // Asked of the server; an expired access cookie is renewed on the way if it can be.
        const me = await getAccount();
        // Alive (perhaps renewed meanwhile, by the proxy on another request): back to `next`.
        if (me.data) return submit.leave(next);
        // No way to tell (busy, unreachable): leave the cookies alone.
        if (me.error.status !== 401) return;
        // Clears the cookies, and tells the header (and other tabs) this browser is signed out.
        const out = await signOut();
        if (out.error) return;
        setConfirmedEnded(true);
      } finally {
        setSettled(true);
      }
    })();
    // Once per page load: `next` and `submit` do not change what this check finds.
  }, [ended]);

  return (
    <>
      {confirmedEnded ? (
        <p className="alert error" role="alert" data-testid="session-ended">
          Your session was signed out, maybe from another device. Sign in again to continue.
        </p>
      ) : null}
      <ApiForm
        submit={submit}
        onFields={(field) => {
          const [email, password] = [field("email"), field("password")];
          void submit.run(
            async () => (password ? emailProblem(email) : "Enter your password."),
            () => signIn({ email, password }),
            // A full navigation, so the layout and the proxy see the new cookies.
            () => submit.leave(next),
          );
        }}
      >
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required />
        <SubmitButton submit={submit} busyLabel="Signing in…" waiting={!settled}>
          Sign in
        </SubmitButton>
      </ApiForm>
    </>
  );
}
