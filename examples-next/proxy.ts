// Guards the signed-in area: the access cookie is verified locally (no call to the server),
// refreshed silently shortly before it expires, and anyone without a session is sent to
// /signin?next=<where they were going>.
import { authProxy } from "latchkey/next";

export const PROTECTED = ["/dashboard", "/sessions", "/profile"];

export const proxy = authProxy({ protect: PROTECTED, signInPath: "/signin" });

export const config = {
  matcher: ["/dashboard/:path*", "/sessions/:path*", "/profile/:path*"],
};
