"use client";

import { forgotPassword } from "latchkey/react";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";
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
          () => forgotPassword({ email }),
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
