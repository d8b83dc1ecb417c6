import type { Metadata } from "next";

import { LinkConfirmation } from "@/components/LinkConfirmation";

export const metadata: Metadata = { title: "Confirm your email" };

export default function VerifyEmailPage() {
  return (
    <main className="narrow">
      <h1>Confirm your email</h1>
      <div className="card">
        <LinkConfirmation op="verify-email" success="Thanks! Your email address is confirmed." />
      </div>
    </main>
  );
}
