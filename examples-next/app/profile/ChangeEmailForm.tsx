"use client";

import { changeEmail } from "latchkey/react";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";
import { WRONG_PASSWORD } from "@/lib/errors";
import { emailProblem } from "@/lib/validate";

export function ChangeEmailForm({ current }: { current: string }) {
  const submit = useSubmit(WRONG_PASSWORD);
  return (
    <ApiForm
      submit={submit}
      onFields={(field, form) => {
        const [email, password] = [field("newEmail").trim(), field("password")];
        void submit.run(
          async () =>
            (await emailProblem(email)) ??
            (email.toLowerCase() === current.toLowerCase() ? "That is already your address." : null) ??
            (password ? null : "Enter your password to confirm it's you."),
          () => changeEmail({ newEmail: email, password }),
          () => {
            form.reset();
            // The same answer whether or not the address is free: nothing here reveals accounts.
            return `Check ${email}: the change applies once you follow the link we sent there.`;
          },
        );
      }}
    >
      <Field label="New email address" name="newEmail" type="email" autoComplete="email" required />
      <Field label="Your password" name="password" type="password" autoComplete="current-password" required />
      <div>
        <SubmitButton submit={submit}>Change email</SubmitButton>
      </div>
    </ApiForm>
  );
}
