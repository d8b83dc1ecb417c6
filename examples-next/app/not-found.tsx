import Link from "next/link";

export default function NotFound() {
  return (
    <main className="narrow">
      <h1>Not found</h1>
      <p className="lead" data-testid="not-found">
        There is nothing here, or it belongs to someone else.
      </p>
      <Link href="/dashboard">Back to your tasks</Link>
    </main>
  );
}
