// Guards the signed-in area: the access cookie is verified locally (no call to the server),
// refreshed silently shortly before it expires, and anyone without a session is sent to
// /signin?next=<where they were going>.
import { authProxy } from "latchkey/next";

export const proxy = authProxy({ protect: ["/dashboard", "/sessions", "/profile"], signInPath: "/signin" });

// Every page goes through the proxy, and `protect` alone decides which need a session (one
// list, so a new page cannot be protected in one place and forgotten in the other). Static
// files and the auth routes, which check for themselves, are left out.
export const config = {
  matcher: ["/((?!api/|_next/static/|_next/image|icon.svg|favicon.ico).*)"],
};
