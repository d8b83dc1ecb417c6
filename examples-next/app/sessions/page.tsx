import type { Metadata } from "next";

import { api, dataOr401 } from "@/lib/api/server";
import { signOutEverywhere } from "./actions";
import { SessionList } from "./SessionList";

export const metadata: Metadata = { title: "Sessions" };

export default async function SessionsPage() {
  const sessions = dataOr401(await api.GET("/api/v1/sessions"), "/sessions");
  return (
    <main>
      <h1 id="sessions-heading" tabIndex={-1}>
        Where you&apos;re signed in
      </h1>
      <p className="lead">
        Every device and browser signed in to your account. Sign out any you don&apos;t recognise.
      </p>
      <section className="card" aria-label="Signed-in devices">
        <SessionList sessions={sessions} />
      </section>
      {/* A plain form with a server action: it works before the page's JavaScript has loaded,
          and in a browser that runs none. */}
      <section className="card" aria-labelledby="everywhere-heading">
        <h2 id="everywhere-heading">Sign out everywhere</h2>
        <p className="muted small">Ends every session of your account, this one included.</p>
        <form action={signOutEverywhere}>
          <button type="submit" className="danger">
            Sign out everywhere
          </button>
        </form>
      </section>
    </main>
  );
}
