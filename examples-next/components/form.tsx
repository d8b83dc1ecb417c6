"use client";

import Link from "next/link";
import { type FormEvent, type InputHTMLAttributes, type ReactNode, useEffect, useId, useRef, useState } from "react";

import type { Result } from "latchkey/react";

import { PASSWORD_MIN_CHARS, describe } from "@/lib/errors";

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

/** A field for choosing a password, with the policy in its hint. */
export function NewPasswordField({ label, name }: { label: string; name: string }) {
  return (
    <Field
      label={label}
      name={name}
      type="password"
      autoComplete="new-password"
      required
      minLength={PASSWORD_MIN_CHARS}
      hint={`At least ${PASSWORD_MIN_CHARS} characters; not a common password. A few unrelated words work well.`}
    />
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

/** A form's last word once it has nothing more to ask: the confirmation and the way on to sign in. */
export function DoneThenSignIn({ message, label, secondary }: { message: string; label: string; secondary?: boolean }) {
  return (
    <div className="stack">
      <Alert kind="success">{message}</Alert>
      <Link className={secondary ? "button secondary" : "button"} href="/signin">
        {label}
      </Link>
    </div>
  );
}

/**
 * False in the server's HTML and until React has hydrated it: buttons whose work is done in
 * the browser stay disabled until then, because a click before that would do nothing.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}


export interface Submit {
  /** False until the page is hydrated: a form sent before that would bypass its handler. */
  ready: boolean;
  busy: boolean;
  error: string | null;
  done: string | null;
  /**
   * Runs `check` (a sentence if the form is wrong, else null), then `send` (an action of
   * `latchkey/react`); its error becomes the sentence from `latchkey/messages`, and success
   * runs `then` with the data, whose result (if a string) is shown. Ignored while a previous
   * run is still going.
   */
  run<T>(
    check: () => Promise<string | null> | string | null,
    send: () => Promise<Result<T>>,
    then?: (data: T) => Promise<string | void> | string | void,
  ): Promise<void>;
  /** Loads `url` in full (new cookies, fresh layout); the form stays busy until it goes. */
  leave(url: string): void;
}

/** State for one form: busy while sending, and the sentence to show afterwards. */
export function useSubmit(overrides?: Record<string, string>): Submit {
  const ready = useHydrated();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // Refs, not state: a second click in the same tick must already see the first.
  const running = useRef(false);
  const leaving = useRef(false);
  useEffect(() => {
    // Back from the page it left for (the back/forward cache): usable again.
    const back = (event: PageTransitionEvent) => {
      if (!event.persisted) return;
      running.current = false;
      leaving.current = false;
      setBusy(false);
    };
    window.addEventListener("pageshow", back);
    return () => window.removeEventListener("pageshow", back);
  }, []);
  const leave = (url: string) => {
    leaving.current = true;
    window.location.assign(url);
  };
  return {
    ready,
    busy,
    error,
    done,
    leave,
    async run(check, send, then) {
      if (running.current || leaving.current) return;
      running.current = true;
      setError(null);
      setDone(null);
      setBusy(true);
      try {
        const problem = await check();
        if (problem) return setError(problem);
        // The bridge renews an expired access cookie on the way, so a 401 here is final.
        const answer = await send();
        if (answer.error) {
          if (answer.error.status === 401 && answer.error.code !== "invalid_credentials") {
            // The session ended on the server (revoked from another device, say).
            return leave(`/signin?${new URLSearchParams({ next: window.location.pathname, ended: "1" })}`);
          }
          return setError(describe(answer.error, overrides));
        }
        const message = await then?.(answer.data);
        if (typeof message === "string") setDone(message);
      } catch {
        // The actions never throw; loading the form checks (`latchkey/forms`) can.
        setError("The app could not reach the server. Check your connection and try again.");
      } finally {
        if (!leaving.current) {
          running.current = false;
          setBusy(false);
        }
      }
    },
  };
}

/**
 * The submit button of a `useSubmit` form. Disabled until the page is hydrated (so nothing is
 * sent natively, and no password can end up in a URL) and while `waiting`; while sending it
 * is only marked busy, so it keeps the keyboard focus.
 */
export function SubmitButton({
  submit,
  busyLabel,
  waiting = false,
  children,
}: {
  submit: Submit;
  busyLabel?: string;
  waiting?: boolean;
  children: ReactNode;
}) {
  return (
    <button type="submit" disabled={!submit.ready || waiting} aria-disabled={submit.busy || undefined}>
      {submit.busy && busyLabel ? busyLabel : children}
    </button>
  );
}

/**
 * A form's error and confirmation, in live regions that are always on the page (empty ones
 * take no space), so screen readers announce each new message.
 */
export function Messages({ error, done }: { error: string | null; done: string | null }) {
  return (
    <>
      <div role="alert" className={error ? "alert error" : "live"} data-testid="alert-error">
        {error}
      </div>
      <div role="status" className={done ? "alert success" : "live"} data-testid="alert-success">
        {done}
      </div>
    </>
  );
}

/**
 * The submitted form's fields as trimmed-or-raw strings. The inputs are uncontrolled, so what
 * someone typed before the page hydrated is still there when they send it.
 */
export function fieldsOf(event: FormEvent<HTMLFormElement>): (name: string) => string {
  event.preventDefault();
  const data = new FormData(event.currentTarget);
  return (name) => {
    const value = data.get(name);
    return typeof value === "string" ? value : "";
  };
}

/**
 * A form sent by `submit` (`useSubmit`): its alerts on top, `onFields` called with the
 * submitted values. `method="post"` so that even a native submission (JavaScript off or not
 * yet loaded) never puts a password in a URL.
 */
export function ApiForm({
  submit,
  onFields,
  children,
}: {
  submit: Submit;
  onFields: (field: (name: string) => string, form: HTMLFormElement) => void;
  children: ReactNode;
}) {
  return (
    <form className="stack" method="post" noValidate onSubmit={(event) => onFields(fieldsOf(event), event.currentTarget)}>
      <Messages error={submit.error} done={submit.done} />
      {children}
    </form>
  );
}
