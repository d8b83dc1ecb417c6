"use client";

import { resendVerification } from "latchkey/react";

import { useSubmit } from "@/components/form";

/** Shown while the address is unconfirmed, with a way to get the link again. */
export function VerifyBanner({ email }: { email: string }) {
  const submit = useSubmit();
  return (
    <div className="banner" role="region" aria-label="Email confirmation" data-testid="verify-banner">
      <div>
        <strong>Confirm your email address.</strong> We sent a link to {email}.
        <span role="status" data-testid="resend-done">
          {submit.done ? ` ${submit.done}` : ""}
        </span>
        <span role="alert" data-testid="resend-error">
          {submit.error ? ` ${submit.error}` : ""}
        </span>
      </div>
      <button
        type="button"
        className="secondary"
        disabled={!submit.ready}
        aria-disabled={submit.busy || undefined}
        onClick={() =>
          void submit.run(
            () => null,
            () => resendVerification(),
            () => "A new link is on its way.",
          )
        }
      >
        {submit.busy ? "Sending…" : "Send the link again"}
      </button>
    </div>
  );
}
