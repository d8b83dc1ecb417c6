"use client";

import { Alert, Field, SubmitButton, fieldsOf, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";
import { emailProblem } from "@/lib/validate";

export function SignInForm({ next }: { next: string }) {
  const submit = useSubmit();
  return (
    <form
      className="stack"
      method="post"
      noValidate
      onSubmit={(event) => {
        const field = fieldsOf(event);
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
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required />
      <SubmitButton submit={submit} busyLabel="Signing in…">
        Sign in
      </SubmitButton>
    </form>
  );
}
