"use client";

import { useSession } from "latchkey/react";
import Link from "next/link";
import { usePathname } from "next/navigation";

import { SignOutButton } from "@/components/SignOutButton";

const SIGNED_IN = [
  { href: "/dashboard", label: "Tasks" },
  { href: "/sessions", label: "Sessions" },
  { href: "/profile", label: "Profile" },
];
const SIGNED_OUT = [
  { href: "/signin", label: "Sign in" },
  { href: "/signup", label: "Create account" },
];

/**
 * The header's links and account, from `useSession()`: rendered signed in or out as the
 * server saw the cookies, then kept current, so signing out in another tab (or a session
 * found ended) switches this header at once.
 */
export function NavLinks() {
  const path = usePathname();
  const { user } = useSession();
  return (
    <>
      <nav className="main" aria-label="Main">
        {(user ? SIGNED_IN : SIGNED_OUT).map(({ href, label }) => (
          <Link key={href} href={href} aria-current={path === href || path.startsWith(`${href}/`) ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {user ? (
        <div className="who">
          <span data-testid="signed-in-as">{user.email}</span>
          <SignOutButton />
        </div>
      ) : null}
    </>
  );
}
