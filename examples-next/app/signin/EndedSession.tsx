"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * The server ended this session (revoked from another device, a password reset) while its
 * access cookie still verifies locally: sign out through the bridge so the cookies go too,
 * and the header stops naming the old account.
 */
export function EndedSession() {
  const router = useRouter();
  useEffect(() => {
    void fetch("/api/auth/signout", { method: "POST", credentials: "same-origin" })
      .then(() => router.refresh())
      .catch(() => undefined);
  }, [router]);
  return (
    <p className="alert error" role="alert" data-testid="session-ended">
      Your session was signed out, maybe from another device. Sign in again to continue.
    </p>
  );
}
