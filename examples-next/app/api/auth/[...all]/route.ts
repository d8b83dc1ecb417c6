// The cookie bridge: the browser posts here (sign in, sign up, refresh, sign out, the email
// flows, profile changes); the handler forwards to the Latchkey server and keeps the tokens
// in HttpOnly cookies. Configured from LATCHKEY_API_URL, LATCHKEY_SECRET and LATCHKEY_APP_URL,
// and in deployment LATCHKEY_CLIENT_IP_HEADER (e.g. x-vercel-forwarded-for), so the server
// counts each browser's own address (see the README: Deploying the bridge).
import { latchkey } from "@/lib/latchkey";

export const { GET, POST, PATCH, DELETE } = latchkey.handlers;
