// latchkey/next against a real Latchkey server: the cookie bridge, getSession, the proxy's
// refresh and its refusals, sign-out.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { NextRequest } from "next/server.js";
import { authProxy, createAuthHandler, fetchApi, getSession } from "latchkey/next";

import { SECRET, startServer } from "./server.mjs";

const APP = "http://localhost:3000";
let server;
let config;

before(async () => {
  server = await startServer();
  config = { apiUrl: server.url, appUrl: APP, secret: SECRET };
});
after(() => server.stop());

/** A browser-ish POST to the app's auth route. */
const post = (op, body, cookie = "", origin = APP) =>
  new Request(`${APP}/api/auth/${op}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin, cookie, "user-agent": "pkg-test" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** name=value pairs of the Set-Cookie lines, as the browser would send them back. */
const cookieJar = (res) =>
  res.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .filter((pair) => !pair.endsWith("="))
    .join("; ");

let n = 0;
async function signedIn(handler) {
  const email = `ann${++n}-${Date.now()}@example.com`;
  const res = await handler.POST(post("register", { email, password: "correct horse battery staple" }));
  assert.equal(res.status, 201, await res.clone().text());
  return { res, email, cookie: cookieJar(res) };
}

test("sign-in through the handler sets HttpOnly cookies and keeps tokens out of the body", async () => {
  const handler = createAuthHandler(config);
  const { email } = await signedIn(handler);
  const res = await handler.POST(post("signin", { email, password: "correct horse battery staple" }));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.user.email, email);
  assert.equal(body.accessToken, undefined);
  assert.equal(body.refreshToken, undefined);
  const lines = res.headers.getSetCookie();
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^latchkey\.at=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax$/);
  assert.match(lines[1], /^latchkey\.rt=[\w-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
});

test("getSession reads the cookie and verifies it locally; GET /session answers the same", async () => {
  const handler = createAuthHandler(config);
  const { cookie, email } = await signedIn(handler);
  const session = await getSession(cookie, config);
  assert.equal(session.user.email, email);
  assert.equal(session.claims.email, email);
  const res = await handler.GET(new Request(`${APP}/api/auth/session`, { headers: { cookie } }));
  assert.equal((await res.json()).user.id, session.user.id);
  assert.equal(await getSession("", config), null);
});

test("fetchApi calls the server as the signed-in user", async () => {
  const { cookie, email } = await signedIn(createAuthHandler(config));
  const me = await fetchApi("/api/v1/auth/me", {}, cookie, config);
  assert.equal((await me.json()).email, email);
  assert.equal((await fetchApi("/api/v1/auth/me", {}, "", config)).status, 401);
});

test("a tampered access cookie is refused everywhere, even beside a valid refresh cookie", async () => {
  const { cookie } = await signedIn(createAuthHandler(config));
  const tampered = cookie.replace(/(latchkey\.at=[^;]*)(.)(;|$)/, (_, head, last, tail) => `${head}${last === "A" ? "B" : "A"}${tail}`);
  assert.notEqual(tampered, cookie);
  assert.equal(await getSession(tampered, config), null);
  const proxy = authProxy({ ...config, protect: ["/dashboard"] });
  const res = await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie: tampered } }));
  assert.equal(res.status, 307);
  const to = new URL(res.headers.get("location"));
  assert.equal(to.pathname, "/signin");
  assert.equal(to.searchParams.get("next"), "/dashboard");
});

test("the proxy lets a valid session through and redirects the signed-out with next", async () => {
  const { cookie } = await signedIn(createAuthHandler(config));
  const proxy = authProxy({ ...config, protect: ["/dashboard"], signInPath: "/login" });
  const ok = await proxy(new NextRequest(`${APP}/dashboard/tasks?x=1`, { headers: { cookie } }));
  assert.equal(ok.headers.get("x-middleware-next"), "1");
  const out = await proxy(new NextRequest(`${APP}/dashboard/tasks?x=1`));
  assert.equal(new URL(out.headers.get("location")).searchParams.get("next"), "/dashboard/tasks?x=1");
  assert.equal(new URL(out.headers.get("location")).pathname, "/login");
  const open = await proxy(new NextRequest(`${APP}/about`));
  assert.equal(open.headers.get("x-middleware-next"), "1");
});

test("x-middleware-subrequest does not get anyone past the proxy or getSession", async () => {
  const proxy = authProxy({ ...config, protect: ["/dashboard"] });
  const sneaky = { "x-middleware-subrequest": "middleware:middleware:middleware:middleware:middleware", cookie: "latchkey.at=x.y.z" };
  const res = await proxy(new NextRequest(`${APP}/dashboard`, { headers: sneaky }));
  assert.equal(res.status, 307);
  assert.equal(await getSession(new Request(`${APP}/api/tasks`, { headers: sneaky }), config), null);
});

test("an expired access token with a valid refresh cookie is refreshed once by the proxy", async () => {
  const { cookie } = await signedIn(createAuthHandler(config));
  // The proxy's clock is an hour ahead: the 15-minute access token has expired.
  let refreshCalls = 0;
  const counting = (url, init) => {
    if (String(url).endsWith("/api/v1/auth/refresh")) refreshCalls++;
    return fetch(url, init);
  };
  const later = { ...config, now: () => Date.now() / 1000 + 3600, fetch: counting };
  const proxy = authProxy({ ...later, protect: ["/dashboard"] });
  assert.equal(await getSession(cookie, later), null);

  // Three requests at once (three tabs): one refresh on the server, the same new tokens.
  const answers = await Promise.all(
    [1, 2, 3].map(() => proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }))),
  );
  const jars = answers.map(cookieJar);
  for (const res of answers) assert.equal(res.headers.get("x-middleware-next"), "1");
  assert.equal(refreshCalls, 1);
  assert.equal(new Set(jars).size, 1);
  const fresh = jars[0];
  assert.notEqual(fresh.match(/latchkey\.rt=([^;]*)/)[1], cookie.match(/latchkey\.rt=([^;]*)/)[1]);
  // The app behind the proxy sees the new cookies in the same request.
  assert.match(answers[0].headers.get("x-middleware-request-cookie"), /latchkey\.at=/);
  assert.equal(answers[0].headers.get("x-middleware-request-cookie"), fresh);
  // And the new access token verifies (at real time).
  assert.ok(await getSession(fresh, config));
});

test("a revoked session's refresh sends the user to sign in and clears the cookies", async () => {
  const handler = createAuthHandler(config);
  const { cookie } = await signedIn(handler);
  assert.equal((await handler.POST(post("signout", undefined, cookie))).status, 204);
  const later = { ...config, now: () => Date.now() / 1000 + 3600 };
  const res = await authProxy({ ...later, protect: ["/dashboard"] })(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
  assert.equal(res.status, 307);
  assert.deepEqual(res.headers.getSetCookie().map((l) => l.split(";")[0]), ["latchkey.at=", "latchkey.rt="]);
});

test("sign-out clears both cookies and revokes the session on the server", async () => {
  const handler = createAuthHandler(config);
  const { cookie } = await signedIn(handler);
  const res = await handler.POST(post("signout", undefined, cookie));
  assert.equal(res.status, 204);
  assert.deepEqual(res.headers.getSetCookie(), [
    "latchkey.at=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
    "latchkey.rt=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
  ]);
  // The old access token is refused by the server (the session is gone)…
  assert.equal((await fetchApi("/api/v1/auth/me", {}, cookie, config)).status, 401);
  // …and the refresh token too.
  const refreshed = await handler.POST(post("refresh", undefined, cookie));
  assert.equal(refreshed.status, 401);
});

test("the bridge refuses posts from another origin and odd paths", async () => {
  const handler = createAuthHandler(config);
  const res = await handler.POST(post("signin", { email: "a@b.co", password: "x" }, "", "https://evil.example"));
  assert.equal(res.status, 403);
  assert.deepEqual(await res.json(), { error: "csrf_rejected" });
  const odd = await handler.POST(new Request(`${APP}/api/auth/..%2Fadmin`, { method: "POST", headers: { origin: APP } }));
  assert.equal(odd.status, 404);
  const wrong = await handler.POST(post("signin", { email: "nobody@example.com", password: "wrong password" }));
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error, "invalid_credentials");
  assert.deepEqual(wrong.headers.getSetCookie(), []);
});

/** The token in the newest email to `to` whose subject has `subject`, from the server's outbox folder. */
async function emailedToken(to, subject) {
  for (let i = 0; i < 200; i++) {
    for (const name of readdirSync(server.mailDir, { withFileTypes: false }).sort().reverse()) {
      const raw = readFileSync(join(server.mailDir, name), "utf8");
      // Quoted-printable soft line breaks and =3D, so the link reads whole.
      const text = raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      if (text.includes(`To: ${to}`) && text.includes(subject)) {
        return text.match(/#token=([\w-]{43})/)[1];
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no "${subject}" email for ${to}`);
}

test("profile, forgot and reset password pass through the bridge", async () => {
  const handler = createAuthHandler(config);
  const { cookie, email } = await signedIn(handler);
  const patch = new Request(`${APP}/api/auth/me`, {
    method: "PATCH",
    headers: { "content-type": "application/json", origin: APP, cookie },
    body: JSON.stringify({ name: "Ann Lee" }),
  });
  const updated = await handler.PATCH(patch);
  assert.equal(updated.status, 200);
  assert.equal((await updated.json()).name, "Ann Lee");
  const forged = new Request(`${APP}/api/auth/me`, {
    method: "PATCH",
    headers: { "content-type": "application/json", origin: "https://evil.example", cookie },
    body: JSON.stringify({ name: "Mallory" }),
  });
  assert.equal((await handler.PATCH(forged)).status, 403);

  const asked = await handler.POST(post("forgot-password", { email }));
  assert.equal(asked.status, 202);
  const token = await emailedToken(email, "Reset your");
  const reset = await handler.POST(post("reset-password", { token, newPassword: "a brand new passphrase" }));
  assert.equal(reset.status, 204);
  // Every session ended, this browser's included.
  assert.equal((await fetchApi("/api/v1/auth/me", {}, cookie, config)).status, 401);
  const again = await handler.POST(post("signin", { email, password: "a brand new passphrase" }));
  assert.equal(again.status, 200);
});
