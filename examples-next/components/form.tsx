"use client";

import { type InputHTMLAttributes, type ReactNode, useId, useState } from "react";

import { describeError } from "@/lib/errors";

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  name: string;
  hint?: ReactNode;
}

/** A labelled input with an optional hint, both tied to it for screen readers. */
export function Field({ label, hint, id, ...input }: FieldProps) {
  const auto = useId();
  const inputId = id ?? `${input.name}-${auto}`;
  const hintId = hint ? `${inputId}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} aria-describedby={hintId} {...input} />
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}

/** An error (announced at once) or a confirmation (announced politely). */
export function Alert({ kind, children }: { kind: "error" | "success"; children: ReactNode }) {
  return (
    <div className={`alert ${kind}`} role={kind === "error" ? "alert" : "status"} data-testid={`alert-${kind}`}>
      {children}
    </div>
  );
}

/** What an API call through the generated client gives back. */
export interface Answer {
  error?: unknown;
  response: Response;
}

export interface Submit {
  busy: boolean;
  error: string | null;
  done: string | null;
  /**
   * Runs `check` (a sentence if the form is wrong, else null), then `send`; an API error
   * becomes its sentence, and success runs `then`, whose result (if a string) is shown.
   */
  run(
    check: () => Promise<string | null> | string | null,
    send: () => Promise<Answer>,
    then?: (answer: Answer) => Promise<string | void> | string | void,
  ): Promise<void>;
}

/** State for one form: busy while sending, and the sentence to show afterwards. */
export function useSubmit(): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return {
    busy,
    error,
    done,
    async run(check, send, then) {
      setError(null);
      setDone(null);
      setBusy(true);
      try {
        const problem = await check();
        if (problem) return setError(problem);
        const answer = await send();
        if (answer.error !== undefined || !answer.response.ok) {
          return setError(describeError(answer.error, answer.response));
        }
        const message = await then?.(answer);
        if (typeof message === "string") setDone(message);
      } catch {
        setError("The app could not reach the server. Check your connection and try again.");
      } finally {
        setBusy(false);
      }
    },
  };
}
