import type { Metadata } from "next";

import { LinkConfirmation } from "@/components/LinkConfirmation";

export const metadata: Metadata = { title: "Confirm your new email" };

export default function ConfirmEmailPage() {
  return (
    <main className="narrow">
      <h1>Confirm your new email</h1>
      <div className="card">
        <LinkConfirmation
          op="confirm-email-change"
          success="Done: your account now uses this email address. Sign in with it from now on."
        />
      </div>
    </main>
  );
}
