"use client";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function ForgotForm() {
  const submit = useSubmit();
  return (
    <ApiForm
      submit={submit}
      onFields={(field) => {
        const email = field("email");
        void submit.run(
          () => emailProblem(email),
          () => auth.POST("/api/v1/auth/forgot-password", { body: { email } }),
          // The server answers the same whether or not the address has an account.
          () => "If that address has an account, a reset link is on its way. It works for one hour.",
        );
      }}
    >
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <SubmitButton submit={submit} busyLabel="Sending…">
        Send reset link
      </SubmitButton>
    </ApiForm>
  );
}
