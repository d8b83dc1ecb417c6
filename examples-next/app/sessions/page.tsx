import type { Metadata } from "next";

import { api, dataOr401 } from "@/lib/api/server";
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
    </main>
  );
}
