"use client";

import { confirmEmailChange, useLinkToken, useSession, verifyEmail } from "latchkey/react";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";

import { Alert } from "@/components/form";
import { describe } from "@/lib/errors";

const ACTIONS = { "verify-email": verifyEmail, "confirm-email-change": confirmEmailChange };

/**
 * Spends the token of a verification or email-change link as soon as the page has it (once,
 * even under React's strict double effects), then renews the session's cookies so the new
 * address or its verified state is in the access token the app's server components read.
 */
export function LinkConfirmation({ op, success }: { op: keyof typeof ACTIONS; success: string }) {
  const token = useLinkToken();
  const { refresh } = useSession();
  const sent = useRef(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    void (async () => {
      const { error } = await ACTIONS[op]({ token });
      if (error) return setOutcome({ ok: false, text: describe(error) });
      // The action renewed this device's cookies; the header reads them again now.
      await refresh();
      setOutcome({ ok: true, text: success });
    })();
  }, [token, op, success, refresh]);

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
