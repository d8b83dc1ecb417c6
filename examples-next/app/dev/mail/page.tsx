import type { Metadata } from "next";
import { notFound } from "next/navigation";

import { devMailboxDir, readDevMailbox } from "@/lib/dev-mailbox";

export const metadata: Metadata = { title: "Development mailbox" };

export default async function DevMailPage() {
  const dir = devMailboxDir();
  if (!dir) notFound();
  const emails = await readDevMailbox(dir);
  return (
    <main>
      <h1>Development mailbox</h1>
      <p className="lead">
        Emails the Latchkey server wrote to <code>{dir}</code> instead of sending them. This page exists only under{" "}
        <code>next dev</code>.
      </p>
      <section className="card" aria-label="Emails">
        {emails.length === 0 ? (
          <p className="empty">No emails yet. Sign up or ask for a password reset.</p>
        ) : (
          <ul className="sessions">
            {emails.map((m) => (
              <li key={m.file}>
                <div className="task-body">
                  <div className="task-title">{m.subject}</div>
                  <div className="muted small">
                    to {m.to} · {m.date}
                  </div>
                </div>
                {m.link ? (
                  <a className="button" href={m.link}>
                    Open the link
                  </a>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
