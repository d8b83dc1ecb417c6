"use client";

import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { PASSWORD_MIN_CHARS } from "@/lib/errors";
import { emailProblem, passwordProblem } from "@/lib/validate";

export function SignUpForm() {
  const [name, setName] = useState("");
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
          async () => (await emailProblem(email)) ?? (await passwordProblem(password, email)),
          () => auth.POST("/api/v1/auth/register", { body: { email, password, name: name.trim() || undefined } }),
          ({ response }) => {
            // 201: signed in (cookies set). 202: this server confirms addresses before the
            // first sign-in, and says the same whether or not the address already had an account.
            if (response.status === 202) return "Check your inbox: we've sent you a link to confirm your address.";
            window.location.assign("/dashboard");
          },
        );
      }}
    >
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      {submit.done ? <Alert kind="success">{submit.done}</Alert> : null}
      <Field
        label="Name"
        name="name"
        autoComplete="name"
        maxLength={100}
        hint="Optional"
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
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
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN_CHARS}
        hint={`At least ${PASSWORD_MIN_CHARS} characters; not a common password. A few unrelated words work well.`}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button type="submit" disabled={submit.busy}>
        {submit.busy ? "Creating your account…" : "Create account"}
      </button>
    </form>
  );
}
