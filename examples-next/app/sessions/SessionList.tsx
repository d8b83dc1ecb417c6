"use client";

import { type DeviceSession, type Result, revokeSession, signOut } from "latchkey/react";
import { useRouter } from "next/navigation";

import { Messages, useSubmit } from "@/components/form";

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

export function SessionList({ sessions }: { sessions: DeviceSession[] }) {
  const router = useRouter();
  const submit = useSubmit();
  // Enabled while a revocation is on its way (a disabled button drops the keyboard focus); a
  // second press is ignored instead, and the focus moves to the heading once the row is gone.
  const act = <T,>(send: () => Promise<Result<T>>) =>
    void submit.run(
      () => null,
      send,
      () => {
        router.refresh();
        document.getElementById("sessions-heading")?.focus();
      },
    );
  const others = sessions.filter((s) => !s.current).length;

  return (
    <>
      <Messages error={submit.error} done={null} />
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
                disabled={!submit.ready}
                aria-disabled={submit.busy || undefined}
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
            disabled={!submit.ready}
            aria-disabled={submit.busy || undefined}
            onClick={() => act(() => signOut({ scope: "others" }))}
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
