"use client";

import { useActionState, useEffect, useRef } from "react";

import { Alert, Field } from "@/components/form";
import { createTask } from "./actions";

export function NewTaskForm() {
  const [state, action, pending] = useActionState(createTask, {});
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    // Cleared after a save, kept after a refusal so nothing typed is lost.
    if (!pending && !state.error) form.current?.reset();
  }, [state, pending]);
  return (
    <form ref={form} action={action} className="stack">
      {state.error ? <Alert kind="error">{state.error}</Alert> : null}
      <Field label="Title" name="title" required maxLength={200} autoComplete="off" placeholder="Buy milk" />
      <div className="field">
        <label htmlFor="new-description">Description</label>
        <textarea id="new-description" name="description" maxLength={5000} placeholder="Optional" />
      </div>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? "Adding…" : "Add task"}
        </button>
      </div>
    </form>
  );
}
