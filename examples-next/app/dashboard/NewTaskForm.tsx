"use client";

import { useState, useTransition } from "react";

import { Field, Messages, fieldsOf, useHydrated } from "@/components/form";
import { createTask } from "./actions";

export function NewTaskForm() {
  const hydrated = useHydrated();
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  return (
    <form
      className="stack"
      method="post"
      onSubmit={(event) => {
        const form = event.currentTarget;
        const field = fieldsOf(event);
        if (pending) return;
        start(async () => {
          const outcome = await createTask(field("title"), field("description"));
          setError(outcome.error ?? null);
          // Cleared after a save; kept after a refusal, so nothing typed is lost.
          if (!outcome.error) form.reset();
        });
      }}
    >
      <Messages error={error} done={null} />
      <Field label="Title" name="title" type="text" required maxLength={200} autoComplete="off" placeholder="Buy milk" />
      <div className="field">
        <label htmlFor="new-description">Description</label>
        <textarea id="new-description" name="description" maxLength={5000} placeholder="Optional" />
      </div>
      <div>
        <button type="submit" disabled={!hydrated} aria-disabled={pending || undefined}>
          {pending ? "Adding…" : "Add task"}
        </button>
      </div>
    </form>
  );
}
