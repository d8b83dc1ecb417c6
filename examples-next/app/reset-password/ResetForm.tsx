"use client";

import Link from "next/link";
import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { PASSWORD_MIN_CHARS } from "@/lib/errors";
import { useLinkToken } from "@/lib/link-token";
import { passwordProblem } from "@/lib/validate";

export function ResetForm() {
  const token = useLinkToken();
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
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
    return (
      <div className="stack">
        <Alert kind="success">{submit.done}</Alert>
        <Link className="button" href="/signin">
          Sign in
        </Link>
      </div>
    );
  }
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit.run(
          async () => (password !== repeat ? "The two passwords are not the same." : passwordProblem(password, null)),
          () => auth.POST("/api/v1/auth/reset-password", { body: { token, newPassword: password } }),
          () => "Your password has been changed, and every device has been signed out.",
        );
      }}
    >
      {submit.error ? (
        <Alert kind="error">
          {submit.error} {submit.error.includes("link") ? <Link href="/forgot-password">Ask for a new link</Link> : null}
        </Alert>
      ) : null}
      <Field
        label="New password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN_CHARS}
        hint={`At least ${PASSWORD_MIN_CHARS} characters; not a common password.`}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <Field
        label="Repeat the new password"
        name="repeat"
        type="password"
        autoComplete="new-password"
        required
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
      />
      <button type="submit" disabled={submit.busy}>
        {submit.busy ? "Saving…" : "Set new password"}
      </button>
    </form>
  );
}
