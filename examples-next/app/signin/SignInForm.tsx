"use client";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function SignInForm({ next }: { next: string }) {
  const submit = useSubmit();
  return (
    <ApiForm
      submit={submit}
      onFields={(field) => {
        const [email, password] = [field("email"), field("password")];
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
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required />
      <SubmitButton submit={submit} busyLabel="Signing in…">
        Sign in
      </SubmitButton>
    </ApiForm>
  );
}
