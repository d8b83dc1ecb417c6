"use client";

import { changePassword } from "latchkey/react";

import { ApiForm, Field, NewPasswordField, SubmitButton, useSubmit } from "@/components/form";
import { WRONG_PASSWORD } from "@/lib/errors";
import { passwordProblem } from "@/lib/validate";

export function ChangePasswordForm({ email }: { email: string }) {
  const submit = useSubmit(WRONG_PASSWORD);
  return (
    <ApiForm
      submit={submit}
      onFields={(field, form) => {
        const [current, next] = [field("currentPassword"), field("newPassword")];
        const signOutOthers = field("signOutOthers") === "on";
        void submit.run(
          async () => (current ? passwordProblem(next, email) : "Enter your current password."),
          () => changePassword({ currentPassword: current, newPassword: next, revokeOtherSessions: signOutOthers }),
          () => {
            form.reset();
            return signOutOthers ? "Password changed. Your other devices have been signed out." : "Password changed.";
          },
        );
      }}
    >
      <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required />
      <NewPasswordField label="New password" name="newPassword" />
      <label className="row small">
        <input type="checkbox" name="signOutOthers" defaultChecked />
        Sign out my other devices
      </label>
      <div>
        <SubmitButton submit={submit}>Change password</SubmitButton>
      </div>
    </ApiForm>
  );
}
