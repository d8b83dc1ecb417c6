"use client";

import { updateProfile } from "latchkey/react";
import { useRouter } from "next/navigation";

import { ApiForm, Field, SubmitButton, useSubmit } from "@/components/form";

export function NameForm({ name }: { name: string }) {
  const router = useRouter();
  const submit = useSubmit();
  return (
    <ApiForm
      submit={submit}
      onFields={(field) => {
        const value = field("name").trim();
        void submit.run(
          () => null,
          // An empty name clears it (null), as the contract says.
          () => updateProfile({ name: value || null }),
          () => {
            router.refresh();
            return "Saved.";
          },
        );
      }}
    >
      <Field
        label="Name"
        name="name"
        type="text"
        autoComplete="name"
        maxLength={100}
        hint="Shown on your task list. Leave empty to remove it."
        defaultValue={name}
      />
      <div>
        <SubmitButton submit={submit}>Save name</SubmitButton>
      </div>
    </ApiForm>
  );
}
