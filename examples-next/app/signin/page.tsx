import type { Metadata } from "next";
import Link from "next/link";

import { safeNext } from "latchkey/next";
import { SignInForm } from "./SignInForm";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  return (
    <main className="narrow">
      <h1>Sign in</h1>
      <p className="lead">Welcome back. Sign in to see your tasks.</p>
      {/* From "Sign out everywhere" when the server did not confirm every step. */}
      {params.partial !== undefined ? (
        <p className="alert error" role="status" data-testid="signed-out-partly">
          You are signed out here, but other devices may still be signed in. Sign in and try again from Sessions.
        </p>
      ) : null}
      <div className="card">
        <SignInForm next={safeNext(params.next)} ended={params.ended !== undefined} />
      </div>
      <p className="muted small">
        New here? <Link href="/signup">Create an account</Link> · <Link href="/forgot-password">Forgot your password?</Link>
      </p>
    </main>
  );
}
