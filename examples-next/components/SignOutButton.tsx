"use client";

import { signOut } from "latchkey/react";
import { useState } from "react";

import { useHydrated } from "@/components/form";

export function SignOutButton() {
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="secondary"
      disabled={!hydrated || busy}
      onClick={async () => {
        setBusy(true);
        // The bridge revokes the session on the server and clears both cookies; other tabs hear.
        await signOut();
        // A full navigation, so every server component re-reads the (now absent) session.
        window.location.assign("/signin");
      }}
    >
      Sign out
    </button>
  );
}
