"use client";

import { Alert, Field, SubmitButton, fieldsOf, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function ForgotForm() {
  const submit = useSubmit();
  return (
    <form
      className="stack"
      method="post"
      noValidate
      onSubmit={(event) => {
        const email = fieldsOf(event)("email");
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
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <SubmitButton submit={submit} busyLabel="Sending…">
        Send reset link
      </SubmitButton>
    </form>
  );
}
