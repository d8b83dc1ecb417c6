"use client";

// What a page shows when the API refused it for a reason other than a lapsed session (which
// goes to sign-in): too many requests, or the server being away. Plain words and a way back.
export default function PageError({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="narrow">
      <h1>This page could not load</h1>
      <p className="lead" role="alert">
        The service is busy or briefly unavailable. Wait a moment, then try again.
      </p>
      <button type="button" onClick={() => reset()}>
        Try again
      </button>
    </main>
  );
}
