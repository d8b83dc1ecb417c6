// The bridge and the proxy when the server's answers go wrong (the second review of issue 22).
// A real server answers everything except the one call each test rewrites on the way, to
// stand for a broken gateway or an outage: a refusal many waiting requests share, a success
// that is not JSON, tokens that cannot become cookies. Also: no answer of the bridge is ever
// stored by a cache, and a proxy answer carrying cookies is never stored by a shared one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { NextRequest } from "next/server.js";
import { authProxy, createAuthHandler } from "latchkey/next";

import { SECRET, startServer } from "./server.mjs";

const APP = "http://localhost:3000";
const PASSWORD = "correct horse battery staple";
let server;

before(async () => {
  server = await startServer();
});
after(() => server.stop());

/**
 * A fetch to the real server, except for calls to `path`: `answer()` makes their response
 * instead. `calls` counts them.
 */
function rewriting(path, answer) {
  const state = { calls: 0 };
  state.fetch = (url, init) => {
    if (new URL(url).pathname !== path) return fetch(url, init);
    state.calls++;
    return answer();
  };
  return state;
}

const config = (fetcher) => ({ apiUrl: server.url, appUrl: APP, secret: SECRET, clientAddress: () => "198.51.100.30", fetch: fetcher });

const request = (method, op, { body, cookie = "" } = {}) =>
  new Request(`${APP}/api/auth/${op}`, {
    method,
    headers: { "content-type": "application/json", cookie, ...(method === "GET" ? {} : { origin: APP }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const jar = (res) => res.headers.getSetCookie().map((l) => l.split(";")[0]).filter((p) => !p.endsWith("=")).join("; ");
const onlyRefresh = (cookie) => cookie.split("; ").filter((c) => c.startsWith("latchkey.rt=")).join("; ");

let n = 0;
async function signedUp() {
  const email = `up${++n}-${Date.now()}@example.com`;
  const res = await createAuthHandler(config(fetch)).POST(request("POST", "register", { body: { email, password: PASSWORD } }));
  assert.equal(res.status, 201);
  return { email, cookie: jar(res) };
}

test("requests waiting on one refresh the server refuses each get the whole refusal", async () => {
  const { cookie } = await signedUp();
  let release;
  const held = new Promise((r) => (release = r));
  const upstream = rewriting("/api/v1/auth/refresh", async () => {
    await held;
    return Response.json({ error: "unavailable" }, { status: 503, headers: { "retry-after": "5" } });
  });
  const bridge = createAuthHandler(config(upstream.fetch));
  const browser = onlyRefresh(cookie);
  // A page's calls at once, all with an expired access cookie; sign-out among them reads the
  // refusal's body (before the fix the others then found it used up, and answered 500).
  const answers = Promise.all([
    bridge.POST(request("POST", "signout", { cookie: browser })),
    bridge.GET(request("GET", "sessions", { cookie: browser })),
    bridge.GET(request("GET", "session", { cookie: browser })),
    bridge.PATCH(request("PATCH", "me", { cookie: browser, body: { name: "Ada" } })),
  ]);
  setTimeout(release, 100);
  const [signout, sessions, session, patch] = await answers;
  assert.equal(upstream.calls, 1, "one refresh, shared");
  assert.deepEqual(await signout.json(), { code: "signed_out_locally", serverStatus: 503, serverError: "unavailable" });
  for (const res of [sessions, session, patch]) {
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: "unavailable" });
    assert.equal(res.headers.get("retry-after"), "5");
    assert.equal(res.headers.getSetCookie().length, 0, "the cookies are kept for a later try");
  }
});

test("a refresh answered 200 with something that is not JSON is a bad gateway, in the route and the proxy", async () => {
  const { cookie } = await signedUp();
  const upstream = rewriting("/api/v1/auth/refresh", async () => new Response("<html>captive portal</html>", { status: 200 }));
  const bridge = createAuthHandler(config(upstream.fetch));
  const res = await bridge.GET(request("GET", "session", { cookie: onlyRefresh(cookie) }));
  assert.equal(res.status, 502);
  assert.deepEqual(await res.json(), { error: "internal_error" });
  const proxy = authProxy({ ...config(upstream.fetch), protect: ["/dashboard"] });
  const page = await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie: onlyRefresh(cookie) } }));
  assert.equal(page.status, 307, "sent to sign in, not a crash");
  assert.equal(page.headers.getSetCookie().length, 0, "nor signed out for the gateway's fault");
});

test("a sign-in answer whose tokens cannot become cookies never hands them to the page", async () => {
  const { email } = await signedUp();
  for (const body of [{ accessToken: "a-token-only" }, { accessToken: "a-token", refreshToken: "not;a cookie" }]) {
    const upstream = rewriting("/api/v1/auth/signin", async () => Response.json({ ...body, expiresIn: 900 }));
    const res = await createAuthHandler(config(upstream.fetch)).POST(
      request("POST", "signin", { body: { email, password: PASSWORD } }),
    );
    assert.equal(res.status, 502);
    const text = await res.text();
    assert.ok(!text.includes("a-token"), text);
    assert.equal(res.headers.getSetCookie().length, 0);
  }
});

test("a Better Auth cookie exchanged for tokens that do not verify here yet is an outage: the tokens are kept", async () => {
  // As just after the server's keys rotated: the exchange spent the Better Auth cookie, so
  // dropping its replacement would sign the user out for good.
  const upstream = rewriting("/api/v1/auth/exchange/better-auth", async () =>
    Response.json({ accessToken: "not.a.jwt", refreshToken: "r".repeat(43), expiresIn: 900 }),
  );
  const bridge = createAuthHandler(config(upstream.fetch));
  const res = await bridge.GET(request("GET", "session", { cookie: "better-auth.session_token=abc.def" }));
  assert.equal(upstream.calls, 1);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { error: "unavailable" });
  const names = res.headers.getSetCookie().map((l) => l.split(";")[0]);
  assert.deepEqual(names, ["latchkey.at=not.a.jwt", `latchkey.rt=${"r".repeat(43)}`, "better-auth.session_token="]);
});

test("an answer the server sends without a body (205) is relayed, not a crash", async () => {
  const { cookie } = await signedUp();
  const upstream = rewriting("/api/v1/auth/me", async () => new Response(null, { status: 205 }));
  const res = await createAuthHandler(config(upstream.fetch)).GET(request("GET", "me", { cookie }));
  assert.equal(upstream.calls, 1);
  assert.equal(res.status, 205);
});

test("no answer of the bridge is stored by a cache: refusals, outages and successes", async () => {
  const { cookie } = await signedUp();
  const bridge = createAuthHandler(config(fetch));
  const down = createAuthHandler({ ...config(fetch), apiUrl: "http://127.0.0.1:9" });
  const forged = new Request(`${APP}/api/auth/signout`, { method: "POST", headers: { origin: "https://evil.example" } });
  const answers = [
    await bridge.GET(request("GET", "nothing/here/at-all")),
    await bridge.GET(request("GET", "session", { cookie })),
    await bridge.GET(request("GET", "session")),
    await bridge.POST(forged),
    await bridge.DELETE(request("DELETE", "me")),
    await down.GET(request("GET", "sessions", { cookie })),
  ];
  assert.deepEqual(answers.map((r) => r.status), [404, 200, 401, 403, 404, 503]);
  for (const res of answers) assert.equal(res.headers.get("cache-control"), "no-store", `${res.status}`);
});

test("a protected page, and any page answered with cookies, is private and never stored; a public one is left alone", async () => {
  const { cookie } = await signedUp();
  // An hour on: the access token has expired, and the proxy refreshes.
  const later = authProxy({ ...config(fetch), protect: ["/dashboard"], now: () => Date.now() / 1000 + 3600 });
  const renewed = await later(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
  assert.equal(renewed.headers.getSetCookie().length, 2);
  assert.equal(renewed.headers.get("cache-control"), "private, no-store");
  const now = authProxy({ ...config(fetch), protect: ["/dashboard"] });
  // One user's page, and the redirect a signed-out visitor gets instead of it.
  const mine = await now(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
  assert.equal(mine.headers.get("x-middleware-next"), "1");
  const away = await now(new NextRequest(`${APP}/dashboard`));
  assert.equal(away.status, 307);
  for (const res of [mine, away]) assert.equal(res.headers.get("cache-control"), "private, no-store");
  const through = await now(new NextRequest(`${APP}/`, { headers: { cookie } }));
  assert.equal(through.headers.get("cache-control"), null, "a public page without cookies keeps its own caching");
});
