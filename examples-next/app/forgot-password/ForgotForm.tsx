"use client";

import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function ForgotForm() {
  const [email, setEmail] = useState("");
  const submit = useSubmit();
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit.run(
          () => emailProblem(email),
          () => auth.POST("/api/v1/auth/forgot-password", { body: { email } }),
          // The server answers the same whether or not the address has an account.
          () => "If that address has an account, a reset link is on its way. It works for one hour.",
        );
      }}
    >
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      {submit.done ? <Alert kind="success">{submit.done}</Alert> : null}
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <button type="submit" disabled={submit.busy}>
        {submit.busy ? "Sending…" : "Send reset link"}
      </button>
    </form>
  );
}
