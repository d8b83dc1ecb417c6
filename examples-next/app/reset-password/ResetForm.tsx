"use client";

import { resetPassword, useLinkToken } from "latchkey/react";
import Link from "next/link";

import { Alert, ApiForm, DoneThenSignIn, Field, NewPasswordField, SubmitButton, useSubmit } from "@/components/form";
import { passwordProblem } from "@/lib/validate";

export function ResetForm() {
  const token = useLinkToken();
  const submit = useSubmit();

  if (token === undefined) return <p className="muted">Reading your link…</p>;
  if (token === null) {
    return (
      <Alert kind="error">
        This page needs the link from your email. <Link href="/forgot-password">Ask for a new link</Link>.
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
        onFields={(field) => {
          const [password, repeat] = [field("password"), field("repeat")];
          void submit.run(
            async () => (password !== repeat ? "The two passwords are not the same." : passwordProblem(password, null)),
            () => resetPassword({ token, newPassword: password }),
            () => "Your password has been changed, and every device has been signed out.",
          );
        }}
      >
        <NewPasswordField label="New password" name="password" />
        <Field label="Repeat the new password" name="repeat" type="password" autoComplete="new-password" required />
        <SubmitButton submit={submit} busyLabel="Saving…">
          Set new password
        </SubmitButton>
      </ApiForm>
      <p className="muted small">
        Link expired or already used? <Link href="/forgot-password">Ask for a new one</Link>.
      </p>
    </>
  );
}
