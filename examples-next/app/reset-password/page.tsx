import type { Metadata } from "next";

import { ResetForm } from "./ResetForm";

export const metadata: Metadata = { title: "Choose a new password" };

export default function ResetPasswordPage() {
  return (
    <main className="narrow">
      <h1>Choose a new password</h1>
      <p className="lead">You&apos;ll be signed out everywhere, then you can sign in with the new one.</p>
      <div className="card">
        <ResetForm />
      </div>
    </main>
  );
}
