"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

import { Alert, Field, useSubmit } from "@/components/form";
import { auth } from "@/lib/api/browser";

export function NameForm({ name: saved }: { name: string }) {
  const router = useRouter();
  const [name, setName] = useState(saved);
  const submit = useSubmit();
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit.run(
          () => null,
          // An empty name clears it (null), as the contract says.
          () => auth.PATCH("/api/v1/auth/me", { body: { name: name.trim() || null } }),
          () => {
            router.refresh();
            return "Saved.";
          },
        );
      }}
    >
      {submit.error ? <Alert kind="error">{submit.error}</Alert> : null}
      {submit.done ? <Alert kind="success">{submit.done}</Alert> : null}
      <Field
        label="Name"
        name="name"
        autoComplete="name"
        maxLength={100}
        hint="Shown on your task list. Leave empty to remove it."
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <div>
        <button type="submit" disabled={submit.busy}>
          Save name
        </button>
      </div>
    </form>
  );
}
