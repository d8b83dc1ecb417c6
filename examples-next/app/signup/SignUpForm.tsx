"use client";

import { signUp } from "latchkey/react";

import { ApiForm, DoneThenSignIn, Field, NewPasswordField, SubmitButton, useSubmit } from "@/components/form";
import { emailProblem, passwordProblem } from "@/lib/validate";

export function SignUpForm() {
  const submit = useSubmit();
  if (submit.done) {
    // 202: nothing more to do here until the link in the email has been followed.
    return <DoneThenSignIn message={submit.done} label="Sign in once you have confirmed" secondary />;
  }
  return (
    <ApiForm
      submit={submit}
      onFields={(field) => {
        const [name, email, password] = [field("name").trim(), field("email"), field("password")];
        void submit.run(
          async () => (await emailProblem(email)) ?? (await passwordProblem(password, email)),
          () => signUp({ email, password, name: name || undefined }),
          (result) => {
            // Signed in (cookies set), or this server confirms addresses before the first
            // sign-in, and says the same whether or not the address already had an account.
            if (!result.signedIn) return "Check your inbox: we've sent you a link to confirm your address.";
            submit.leave("/dashboard");
          },
        );
      }}
    >
      <Field label="Name" name="name" type="text" autoComplete="name" maxLength={100} hint="Optional" />
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <NewPasswordField label="Password" name="password" />
      <SubmitButton submit={submit} busyLabel="Creating your account…">
        Create account
      </SubmitButton>
    </ApiForm>
  );
}
