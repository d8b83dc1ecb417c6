import type { Metadata } from "next";
import Link from "next/link";

import { SignUpForm } from "./SignUpForm";

export const metadata: Metadata = { title: "Create account" };

export default function SignUpPage() {
  return (
    <main className="narrow">
      <h1>Create your account</h1>
      <p className="lead">Keep your tasks in one place, on every device.</p>
      <div className="card">
        <SignUpForm />
      </div>
      <p className="muted small">
        Already have an account? <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
