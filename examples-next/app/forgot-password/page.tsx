import type { Metadata } from "next";
import Link from "next/link";

import { ForgotForm } from "./ForgotForm";

export const metadata: Metadata = { title: "Forgot password" };

export default function ForgotPasswordPage() {
  return (
    <main className="narrow">
      <h1>Forgot your password?</h1>
      <p className="lead">Enter your email address and we&apos;ll send you a link to choose a new one.</p>
      <div className="card">
        <ForgotForm />
      </div>
      <p className="muted small">
        Remembered it? <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
