import type { Metadata } from "next";

import { UnblockForm } from "./UnblockForm";

export const metadata: Metadata = { title: "Unblock sign-in" };

export default function UnblockPage() {
  return (
    <main className="narrow">
      <h1>Unblock sign-in</h1>
      <p className="lead">
        After many wrong passwords in a row, sign-in to your account was blocked. Your password has not changed.
      </p>
      <div className="card">
        <UnblockForm />
      </div>
    </main>
  );
}
