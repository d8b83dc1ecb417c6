"use client";

import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function ChangeEmailForm({ current }: { current: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = useSubmit();
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit.run(
          async () =>
            (await emailProblem(email)) ??
            (email.trim().toLowerCase() === current.toLowerCase() ? "That is already your address." : null) ??
            (password ? null : "Enter your password to confirm it's you."),
          () => auth.POST("/api/v1/auth/change-email", { body: { newEmail: email, password } }),
          () => {
            setPassword("");
            // The same answer whether or not the address is free: nothing here reveals accounts.
            return `Check ${email.trim()}: the change applies once you follow the link we sent there.`;
          },
        );
      }}
    >
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      {submit.done ? <Alert kind="success">{submit.done}</Alert> : null}
      <Field
        label="New email address"
        name="newEmail"
        type="email"
        autoComplete="email"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <Field
        label="Your password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <div>
        <button type="submit" disabled={submit.busy}>
          Change email
        </button>
      </div>
    </form>
  );
}
