"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const SIGNED_IN = [
  { href: "/dashboard", label: "Tasks" },
  { href: "/sessions", label: "Sessions" },
  { href: "/profile", label: "Profile" },
];
const SIGNED_OUT = [
  { href: "/signin", label: "Sign in" },
  { href: "/signup", label: "Create account" },
];

export function NavLinks({ signedIn }: { signedIn: boolean }) {
  const path = usePathname();
  return (
    <nav className="main" aria-label="Main">
      {(signedIn ? SIGNED_IN : SIGNED_OUT).map(({ href, label }) => (
        <Link key={href} href={href} aria-current={path === href || path.startsWith(`${href}/`) ? "page" : undefined}>
          {label}
        </Link>
      ))}
    </nav>
  );
}
