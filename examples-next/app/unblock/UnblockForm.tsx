"use client";

import { unblockSignIn, useLinkToken } from "latchkey/react";
import Link from "next/link";

import { Alert, ApiForm, DoneThenSignIn, SubmitButton, useSubmit } from "@/components/form";

/**
 * Spends the unblock link's token only when its owner clicks: mail scanners that open links
 * (and run their scripts) must not lift a block on their own.
 */
export function UnblockForm() {
  const token = useLinkToken();
  const submit = useSubmit();

  if (token === undefined) return <p className="muted">Reading your link…</p>;
  if (token === null) {
    return (
      <Alert kind="error">
        This page needs the link from your email. <Link href="/forgot-password">Reset your password</Link> instead: that
        lifts the block too.
      </Alert>
    );
  }
  if (submit.done) {
    return <DoneThenSignIn message={submit.done} label="Sign in" />;
  }
  return (
    <>
      <ApiForm
        submit={submit}
        onFields={() => {
          void submit.run(
            async () => null,
            () => unblockSignIn({ token }),
            () => "Sign-in is unblocked: sign in with your password.",
          );
        }}
      >
        <SubmitButton submit={submit} busyLabel="Unblocking…">
          Unblock sign-in
        </SubmitButton>
      </ApiForm>
      <p className="muted small">
        Not you trying to sign in? <Link href="/forgot-password">Reset your password</Link> instead.
      </p>
    </>
  );
}
