import Link from "next/link";
import { redirect } from "next/navigation";
import { getSession } from "latchkey/next";

export default async function Home() {
  if (await getSession()) redirect("/dashboard");
  return (
    <main>
      <div className="hero">
        <h1>Your tasks, on every device</h1>
        <p className="lead">
          A small task list whose accounts, sessions and emails are run by Latchkey: tokens in HttpOnly
          cookies, sessions you can see and sign out, password reset and email confirmation by link.
        </p>
        <div className="row">
          <Link className="button" href="/signup">
            Create an account
          </Link>
          <Link className="button secondary" href="/signin">
            Sign in
          </Link>
        </div>
      </div>
    </main>
  );
}
