// The complete bridge (issue 22, part 2) against a live server: createLatchkey's one set of
// settings for the route, the proxy, getSession and fetchApi; DELETE for sessions; a session
// read that refreshes an expired access cookie; getSession({ fresh: true }) seeing a
// revocation at once; and applySetCookies for server actions.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { NextRequest } from "next/server.js";
import { applySetCookies, createAuthHandler, createLatchkey, parseSetCookie } from "latchkey/next";

import { SECRET, startServer } from "./server.mjs";

const APP = "http://localhost:3000";
const PASSWORD = "correct horse battery staple";
let server, latchkey;

before(async () => {
  server = await startServer({ LATCHKEY_SESSION_CACHE_TTL: "0s" });
  latchkey = createLatchkey({
    apiUrl: server.url,
    appUrl: APP,
    secret: SECRET,
    clientAddress: () => "198.51.100.10",
    proxy: { protect: ["/dashboard"], signInPath: "/signin" },
  });
});
after(() => server.stop());

const request = (method, op, { body, cookie = "", origin = APP } = {}) =>
  new Request(`${APP}/api/auth/${op}`, {
    method,
    headers: { "content-type": "application/json", cookie, ...(method === "GET" ? {} : { origin }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const jar = (res) => res.headers.getSetCookie().map((l) => l.split(";")[0]).filter((p) => !p.endsWith("=")).join("; ");

let n = 0;
async function signedUp() {
  const email = `l${++n}-${Date.now()}@example.com`;
  const res = await latchkey.handlers.POST(request("POST", "register", { body: { email, password: PASSWORD } }));
  assert.equal(res.status, 201);
  return { email, cookie: jar(res) };
}
const signIn = async (email) => jar(await latchkey.handlers.POST(request("POST", "signin", { body: { email, password: PASSWORD } })));

test("createLatchkey gives the route every method, the proxy, getSession and fetchApi from one config", async () => {
  assert.deepEqual(Object.keys(latchkey.handlers).sort(), ["DELETE", "GET", "PATCH", "POST"]);
  assert.deepEqual(Object.keys(createAuthHandler({ apiUrl: server.url, appUrl: APP, secret: SECRET })).sort(), ["DELETE", "GET", "PATCH", "POST"]);
  const { email, cookie } = await signedUp();
  assert.equal((await latchkey.getSession(cookie)).user.email, email);
  assert.equal((await latchkey.getSession("")), null);
  const me = await latchkey.fetchApi("/api/v1/auth/me", {}, cookie);
  assert.equal((await me.json()).email, email);
  const away = await latchkey.proxy(new NextRequest(`${APP}/dashboard/x`));
  assert.equal(away.status, 307);
  assert.equal(new URL(away.headers.get("location")).pathname, "/signin");
  const through = await latchkey.proxy(new NextRequest(`${APP}/dashboard/x`, { headers: { cookie } }));
  assert.equal(through.headers.get("location"), null);
});

test("GET /sessions lists, DELETE /sessions/<id> revokes one, DELETE /sessions the others", async () => {
  const { email, cookie } = await signedUp();
  const other = await signIn(email);
  const third = await signIn(email);
  const list = await latchkey.handlers.GET(request("GET", "sessions", { cookie }));
  assert.equal(list.status, 200);
  const sessions = await list.json();
  assert.equal(sessions.length, 3);
  const one = sessions.find((s) => !s.current);
  const revoked = await latchkey.handlers.DELETE(request("DELETE", `sessions/${one.id}`, { cookie }));
  assert.equal(revoked.status, 204);
  assert.equal((await latchkey.handlers.DELETE(request("DELETE", `sessions/${one.id}`, { cookie }))).status, 404);
  const rest = await latchkey.handlers.DELETE(request("DELETE", "sessions", { cookie }));
  assert.deepEqual(await rest.json(), { revoked: 1 });
  for (const gone of [other, third]) assert.equal(await latchkey.getSession({ fresh: true, source: gone }), null);
  assert.equal((await latchkey.getSession({ fresh: true, source: cookie })).user.email, email);
});

test("DELETE checks the origin and the path like every other change", async () => {
  const { cookie } = await signedUp();
  const forged = await latchkey.handlers.DELETE(request("DELETE", "sessions", { cookie, origin: "https://evil.example" }));
  assert.equal(forged.status, 403);
  assert.deepEqual(await forged.json(), { error: "csrf_rejected" });
  for (const path of ["me", "sessions/../me", "sessions/a/b", "sessions/not%20an%20id"]) {
    assert.equal((await latchkey.handlers.DELETE(request("DELETE", path, { cookie }))).status, 404, path);
  }
  assert.equal((await latchkey.handlers.DELETE(request("DELETE", "sessions"))).status, 401);
});

test("getSession({ fresh: true }) sees a revocation at once; the default stays local", async () => {
  const { email, cookie } = await signedUp();
  const phone = await signIn(email);
  const res = await latchkey.handlers.DELETE(request("DELETE", "sessions", { cookie: phone }));
  assert.equal((await res.json()).revoked, 1);
  assert.equal((await latchkey.getSession(cookie)).user.email, email, "the token still verifies locally");
  assert.equal(await latchkey.getSession({ fresh: true, source: cookie }), null);
  const viaRoute = await latchkey.handlers.GET(request("GET", "session?fresh=1", { cookie }));
  assert.equal(viaRoute.status, 401);
  assert.equal((await latchkey.handlers.GET(request("GET", "session", { cookie }))).status, 200);
});

test("an expired access cookie is refreshed on the way: session reads and calls as the user keep working", async () => {
  const { email, cookie } = await signedUp();
  // The browser dropped the access cookie when it expired; only the refresh cookie is left.
  const refreshOnly = cookie.split("; ").filter((c) => c.startsWith("latchkey.rt=")).join("; ");
  assert.ok(refreshOnly && !refreshOnly.includes("latchkey.at="), cookie);
  const session = await latchkey.handlers.GET(request("GET", "session", { cookie: refreshOnly }));
  assert.equal(session.status, 200);
  assert.equal((await session.json()).user.email, email);
  assert.equal(session.headers.getSetCookie().length, 2, "new access and refresh cookies");
  const renewed = jar(session);
  const list = await latchkey.handlers.GET(request("GET", "sessions", { cookie: renewed.split("; ").filter((c) => !c.startsWith("latchkey.at=")).join("; ") }));
  assert.equal(list.status, 200);
  assert.equal(list.headers.getSetCookie().length, 2);
});

test("applySetCookies sets a bridge answer's cookies through a cookies() store, deletions included", async () => {
  const set = [];
  const store = { set: (c) => set.push(c) };
  const { email } = await signedUp();
  const res = await latchkey.handlers.POST(request("POST", "signin", { body: { email, password: PASSWORD } }));
  assert.equal(await applySetCookies(res, store), 2);
  for (const c of set) {
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, "lax");
    assert.ok(c.value.length > 20 && c.maxAge > 0 && c.path, JSON.stringify({ ...c, value: "…" }));
  }
  const out = await latchkey.handlers.POST(request("POST", "signout", { cookie: set.map((c) => `${c.name}=${c.value}`).join("; ") }));
  set.length = 0;
  assert.equal(await applySetCookies(out.headers, store), 2);
  assert.ok(set.every((c) => c.value === "" && c.maxAge === 0));
  assert.equal(parseSetCookie("=nameless"), null);
  assert.equal(parseSetCookie("a=b; Max-Age=soon; SameSite=odd").maxAge, undefined);
});

test("serverAction runs a bridge operation as the browser's request and sets the cookies it answers with", async () => {
  const { email, cookie } = await signedUp();
  const set = [];
  const cookies = { set: (c) => set.push(c) };
  // What a server action's request carries: the browser's cookies and its own origin.
  const as = (cookieHeader, origin = "http://localhost:3000") =>
    ({ headers: new Headers({ cookie: cookieHeader, host: "localhost:3000", ...(origin ? { origin } : {}) }), cookies });

  // Called where a cross-site page could trigger it (no origin, or another one): refused.
  // So is a page render, even one the site's own link opened: a GET carries no Origin.
  const render = { ...as(cookie, null), headers: new Headers({ cookie, host: "localhost:3000", "sec-fetch-site": "same-origin" }) };
  for (const [what, context] of [["none", as(cookie, null)], ["another", as(cookie, "https://evil.example")], ["render", render]]) {
    const forged = await latchkey.serverAction("signout", {}, context);
    assert.equal(forged.status, 403, what);
    assert.equal((await forged.json()).error, "csrf_rejected");
  }
  // An op is a name, never a path.
  for (const op of ["sessions/x/%2e%2e", "../v1/sessions", "sessions?all", "Signout"]) {
    assert.equal((await latchkey.serverAction(op, { method: "DELETE" }, as(cookie))).status, 404, op);
  }
  assert.equal(set.length, 0);

  const changed = await latchkey.serverAction(
    "change-password",
    { body: { currentPassword: PASSWORD, newPassword: "a brand new passphrase" } },
    as(cookie),
  );
  assert.equal(changed.status, 200);
  assert.equal((await changed.json()).user.email, email);
  assert.deepEqual(set.map((c) => c.name).sort(), ["latchkey.at", "latchkey.rt"]);
  assert.ok(set.every((c) => c.value.length > 20 && c.httpOnly));
  const renewed = set.map((c) => `${c.name}=${c.value}`).join("; ");
  assert.equal((await latchkey.getSession({ fresh: true, source: renewed })).user.email, email);

  const listed = await latchkey.serverAction("sessions", { method: "GET" }, as(renewed));
  assert.equal((await listed.json()).length, 1);

  set.length = 0;
  const out = await latchkey.serverAction("signout", {}, as(renewed));
  assert.equal(out.status, 204);
  assert.ok(set.length === 2 && set.every((c) => c.value === "" && c.maxAge === 0));
  assert.equal(await latchkey.getSession({ fresh: true, source: renewed }), null);
});

test("a refresh that cannot be made now is answered as such, never as signed out; nothing is cached", async () => {
  const { email, cookie } = await signedUp();
  // Only the refresh cookie: the access token has expired, so every call as the user must renew.
  const refreshOnly = cookie.split("; ").filter((pair) => pair.startsWith("latchkey.rt=")).join("; ");
  let refused = 0;
  const outage = createAuthHandler({
    apiUrl: server.url,
    appUrl: APP,
    secret: SECRET,
    fetch: (url, init) => {
      if (String(url).endsWith("/api/v1/auth/refresh")) {
        refused++;
        return Promise.resolve(Response.json({ error: "rate_limited", message: "later" }, { status: 429, headers: { "retry-after": "7" } }));
      }
      return fetch(url, init);
    },
  });
  for (const [label, call] of [
    ["GET session", () => outage.GET(request("GET", "session", { cookie: refreshOnly }))],
    ["GET me", () => outage.GET(request("GET", "me", { cookie: refreshOnly }))],
    ["GET sessions", () => outage.GET(request("GET", "sessions", { cookie: refreshOnly }))],
    ["DELETE sessions", () => outage.DELETE(request("DELETE", "sessions", { cookie: refreshOnly }))],
    ["POST resend-verification", () => outage.POST(request("POST", "resend-verification", { cookie: refreshOnly }))],
  ]) {
    const res = await call();
    assert.equal(res.status, 429, label);
    assert.equal(res.headers.get("retry-after"), "7", label);
    assert.equal(res.headers.get("cache-control"), "no-store", label);
    assert.deepEqual(res.headers.getSetCookie(), [], `${label}: the cookies stay`);
  }
  assert.equal(refused, 5);
  // Once the server renews again, the same cookie is a live session.
  const res = await latchkey.handlers.GET(request("GET", "me", { cookie: refreshOnly }));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).email, email);
  assert.equal(res.headers.get("cache-control"), "no-store");
});

test("createLatchkey's parts share one host: with EdDSA the JWKS is fetched once for the route, the proxy and getSession", async () => {
  const eddsa = await startServer({ LATCHKEY_JWT_ALG: "EdDSA" });
  try {
    let jwksFetches = 0;
    const counting = (url, init) => {
      if (new URL(url).pathname === "/.well-known/jwks.json") jwksFetches++;
      return fetch(url, init);
    };
    // With EdDSA the secret only signs client addresses; tokens are verified with the
    // server's published keys.
    const shared = createLatchkey({
      apiUrl: eddsa.url,
      appUrl: APP,
      alg: "EdDSA",
      secret: SECRET,
      fetch: counting,
      clientAddress: () => "198.51.100.11",
      proxy: { protect: ["/dashboard"] },
    });
    const email = `jwks-${Date.now()}@example.com`;
    const res = await shared.handlers.POST(request("POST", "register", { body: { email, password: PASSWORD } }));
    assert.equal(res.status, 201);
    const cookie = jar(res);
    assert.equal((await (await shared.handlers.GET(request("GET", "session", { cookie }))).json()).user.email, email);
    const through = await shared.proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
    assert.equal(through.headers.get("location"), null, "the proxy let the signed-in user through");
    assert.equal((await shared.getSession(cookie)).user.email, email);
    assert.equal(jwksFetches, 1);
  } finally {
    eddsa.stop();
  }
});
