"use client";

import { useState, useTransition } from "react";

import { Messages, useHydrated } from "@/components/form";
import type { SessionInfo } from "@/lib/api/types";
import { revokeOtherSessions, revokeSession } from "./actions";

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, "Edge"],
  [/Firefox\//, "Firefox"],
  [/Chrom(e|ium)\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows/, "Windows"],
  [/Android/, "Android"],
  [/iPhone|iPad/, "iOS"],
  [/Mac OS X/, "macOS"],
  [/Linux/, "Linux"],
];

/** "Chrome on Linux" from a user agent (first match wins), or the agent itself if unfamiliar. */
function device(agent: string | null | undefined): string {
  if (!agent) return "Unknown device";
  const browser = BROWSERS.find(([re]) => re.test(agent))?.[1];
  const os = SYSTEMS.find(([re]) => re.test(agent))?.[1];
  return browser ? `${browser}${os ? ` on ${os}` : ""}` : agent.slice(0, 80);
}

const when = (iso: string) =>
  new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";

export function SessionList({ sessions }: { sessions: SessionInfo[] }) {
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const hydrated = useHydrated();
  // Enabled while a revocation is on its way (a disabled button drops the keyboard focus); a
  // second press is ignored instead, and the focus moves to the heading once the row is gone.
  const act = (work: () => Promise<{ error?: string }>) => {
    if (pending) return;
    start(async () => {
      setError(null);
      const outcome = await work();
      if (outcome.error) setError(outcome.error);
      else document.getElementById("sessions-heading")?.focus();
    });
  };
  const others = sessions.filter((s) => !s.current).length;

  return (
    <>
      <Messages error={error} done={null} />
      <ul className="sessions" data-testid="sessions">
        {sessions.map((s) => (
          <li key={s.id} data-testid={s.current ? "session-current" : "session-other"}>
            <div className="task-body">
              <div className="task-title">
                {device(s.userAgent)}
                {s.current ? <span className="badge">This device</span> : null}
              </div>
              <div className="muted small">
                {s.ipAddress ? `${s.ipAddress} · ` : ""}signed in {when(s.createdAt)} · last active {when(s.lastUsedAt)}
              </div>
            </div>
            {s.current ? null : (
              <button
                type="button"
                className="danger"
                disabled={!hydrated}
                aria-disabled={pending || undefined}
                aria-label={`Sign out ${device(s.userAgent)}, signed in ${when(s.createdAt)}`}
                onClick={() => act(() => revokeSession(s.id))}
              >
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
      {others > 0 ? (
        <div className="row" style={{ marginTop: 16 }}>
          <button
            type="button"
            className="danger"
            disabled={!hydrated}
            aria-disabled={pending || undefined}
            onClick={() => act(revokeOtherSessions)}
          >
            Sign out all other devices ({others})
          </button>
        </div>
      ) : (
        <p className="muted small">This is the only device signed in.</p>
      )}
    </>
  );
}
