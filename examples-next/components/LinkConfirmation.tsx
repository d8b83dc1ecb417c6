"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";

import { Alert } from "@/components/form";
import { auth, refreshSession } from "@/lib/api/browser";
import { describeError } from "@/lib/errors";
import { useLinkToken } from "latchkey/react";

type Op = "/api/v1/auth/verify-email" | "/api/v1/auth/confirm-email-change";

/**
 * Spends the token of a verification or email-change link as soon as the page has it (once,
 * even under React's strict double effects), then refreshes the session so the new address
 * or its verified state is in the access token the app reads.
 */
export function LinkConfirmation({ op, success }: { op: Op; success: string }) {
  const token = useLinkToken();
  const sent = useRef(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    void (async () => {
      try {
        const { error, response } = await auth.POST(op, { body: { token } });
        if (error !== undefined || !response.ok) return setOutcome({ ok: false, text: describeError(error, response) });
        // Signed in on this device? Then pick up the change now rather than at the next refresh.
        await refreshSession().catch(() => 0);
        setOutcome({ ok: true, text: success });
      } catch {
        setOutcome({ ok: false, text: "The app could not reach the server. Reload the page to try again." });
      }
    })();
  }, [token, op, success]);

  if (token === null) return <Alert kind="error">This page needs the link from your email.</Alert>;
  if (!outcome) return <p className="muted" role="status">Checking your link…</p>;
  return (
    <div className="stack">
      <Alert kind={outcome.ok ? "success" : "error"}>{outcome.text}</Alert>
      <p>
        <Link className="button" href="/dashboard">
          Go to your tasks
        </Link>
      </p>
    </div>
  );
}
