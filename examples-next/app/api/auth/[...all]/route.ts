// The cookie bridge: the browser posts here (sign in, sign up, refresh, sign out, the email
// flows, profile changes); the handler forwards to the Latchkey server and keeps the tokens
// in HttpOnly cookies. Configured from LATCHKEY_API_URL, LATCHKEY_SECRET and LATCHKEY_APP_URL.
import { createAuthHandler } from "latchkey/next";

export const { GET, POST, PATCH } = createAuthHandler();
