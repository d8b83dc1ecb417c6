"use client";

import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { PASSWORD_MIN_CHARS } from "@/lib/errors";
import { passwordProblem } from "@/lib/validate";

export function ChangePasswordForm({ email }: { email: string }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [signOutOthers, setSignOutOthers] = useState(true);
  const submit = useSubmit();
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit.run(
          async () => (current ? passwordProblem(next, email) : "Enter your current password."),
          () =>
            auth.POST("/api/v1/auth/change-password", {
              body: { currentPassword: current, newPassword: next, revokeOtherSessions: signOutOthers },
            }),
          () => {
            setCurrent("");
            setNext("");
            return signOutOthers
              ? "Password changed. Your other devices have been signed out."
              : "Password changed.";
          },
        );
      }}
    >
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      {submit.done ? <Alert kind="success">{submit.done}</Alert> : null}
      <Field
        label="Current password"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
      />
      <Field
        label="New password"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN_CHARS}
        hint={`At least ${PASSWORD_MIN_CHARS} characters; not a common password.`}
        value={next}
        onChange={(e) => setNext(e.target.value)}
      />
      <label className="row small">
        <input type="checkbox" checked={signOutOthers} onChange={(e) => setSignOutOthers(e.target.checked)} />
        Sign out my other devices
      </label>
      <div>
        <button type="submit" disabled={submit.busy}>
          Change password
        </button>
      </div>
    </form>
  );
}
