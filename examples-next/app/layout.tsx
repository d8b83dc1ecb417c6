import type { Metadata } from "next";
import Link from "next/link";
import { getSession } from "latchkey/next";
import { LatchkeyProvider } from "latchkey/react";

import { NavLinks } from "@/components/NavLinks";
import { devMailboxDir } from "@/lib/dev-mailbox";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Tasks on Latchkey", template: "%s · Tasks on Latchkey" },
  description: "A task list whose sign-in, sessions and email flows are Latchkey's.",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Verified locally from the access cookie: no round trip to the Latchkey server.
  const session = await getSession();
  return (
    <html lang="en">
      <body>
        {/* The session as this request's cookie says: client components start from it. */}
        <LatchkeyProvider initialSession={session && { user: session.user }}>
          <a className="skip-link" href="#content">
            Skip to content
          </a>
          <header className="site">
            <div className="inner">
              <Link className="brand" href={session ? "/dashboard" : "/"}>
                <svg viewBox="0 0 32 32" aria-hidden="true">
                  <rect width="32" height="32" rx="7" fill="#2f5bd3" />
                  <circle cx="16" cy="13" r="5" fill="none" stroke="#fff" strokeWidth="3" />
                  <rect x="14.5" y="16" width="3" height="10" rx="1.5" fill="#fff" />
                </svg>
                Tasks
              </Link>
              <NavLinks />
            </div>
          </header>
          <div id="content">{children}</div>
          {devMailboxDir() ? (
            <footer className="dev-footer">
              Development: emails are not sent; read them in the <Link href="/dev/mail">development mailbox</Link>.
            </footer>
          ) : null}
        </LatchkeyProvider>
      </body>
    </html>
  );
}
