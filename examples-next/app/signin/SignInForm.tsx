"use client";

import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function SignInForm({ next }: { next: string }) {
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
          async () => (password ? emailProblem(email) : "Enter your password."),
          () => auth.POST("/api/v1/auth/signin", { body: { email, password } }),
          () => {
            // A full navigation, so the layout and the proxy see the new cookies.
            window.location.assign(next);
          },
        );
      }}
    >
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button type="submit" disabled={submit.busy}>
        {submit.busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
