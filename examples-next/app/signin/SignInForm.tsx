"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";
import { auth, refreshSession } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

/**
 * `ended`: a page sent the user here because the server refused their session. The form
 * waits until that is confirmed (the server still refuses, and a refresh does not help) and
 * the stale cookies are cleared, so a link to `?ended=1` cannot sign anyone out, and a quick
 * sign-in cannot be undone by a late clearing. A session found alive goes back to `next`.
 */
export function SignInForm({ next, ended }: { next: string; ended: boolean }) {
  const router = useRouter();
  const submit = useSubmit();
  const [settled, setSettled] = useState(!ended);
  const [confirmedEnded, setConfirmedEnded] = useState(false);

  useEffect(() => {
    if (!ended) return;
    const quick = () => AbortSignal.timeout(10_000);
    void (async () => {
      try {
        const me = await fetch("/api/auth/me", { credentials: "same-origin", cache: "no-store", signal: quick() });
        // Alive (perhaps renewed meanwhile, by the proxy on another request): back to `next`.
        if (me.ok) return submit.leave(next);
        // No way to tell (busy, unreachable): leave the cookies alone.
        if (me.status !== 401) return;
        // Only the access token may have lapsed: a refresh that works means still signed in.
        const refreshed = await refreshSession();
        if (refreshed === 200) return submit.leave(next);
        if (refreshed !== 401) return;
        const out = await fetch("/api/auth/signout", { method: "POST", credentials: "same-origin", signal: quick() });
        if (!out.ok) return;
        setConfirmedEnded(true);
        router.refresh();
      } catch {
        // Timed out or offline: the form is usable all the same.
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
            () => auth.POST("/api/v1/auth/signin", { body: { email, password } }),
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
