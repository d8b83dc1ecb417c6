// Users moving from Better Auth, against a real Latchkey server: authProxy and the bridge's
// session route exchange Better Auth's session cookie for Latchkey cookies, delete it, and
// let the page render signed in; a refused cookie is deleted and the request goes on signed
// out. The users and imported sessions are written into the server's SQLite file the way an
// import writes them (through Python's sqlite3, beside the running server: WAL lets it), with
// Better Auth's non-UUID ids; the cookies are signed as Better Auth signs them, which the
// first test checks against cookies the real Better Auth made.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import { NextRequest } from "next/server.js";
import { betterAuthCookies } from "latchkey";
import { authProxy, createAuthHandler, getSession } from "latchkey/next";

import { SECRET, startServer } from "./server.mjs";

const APP = "http://localhost:3000";
const NAME = "better-auth.session_token";
const vectors = JSON.parse(readFileSync(new URL("../../tests/vectors/better-auth-cookies.json", import.meta.url), "utf8"));
const DAY_MS = 24 * 3600 * 1000;
let server;
let config;

before(async () => {
  server = await startServer({ LATCHKEY_BETTER_AUTH_SECRET: vectors.secret });
  config = { apiUrl: server.url, appUrl: APP, secret: SECRET };
});
after(() => server.stop());

/** better-call's signCookieValue: `encodeURIComponent(token + "." + base64(HMAC-SHA256))`. */
const sign = (token, secret = vectors.secret) =>
  encodeURIComponent(`${token}.${createHmac("sha256", secret).update(token).digest("base64")}`);

/** Better Auth's ids and tokens: 32 letters and digits. */
const betterAuthId = () => randomBytes(24).toString("base64").replace(/[^A-Za-z0-9]/g, "").padEnd(32, "x").slice(0, 32);

/** Runs SQL statements with parameters against the server's database file, in one transaction. */
function sql(statements, on = server) {
  const program = [
    "import json, sqlite3, sys",
    "db = sqlite3.connect(sys.argv[1], timeout=10)",
    "with db:",
    "    for statement, params in json.loads(sys.argv[2]):",
    "        db.execute(statement, params)",
  ].join("\n");
  execFileSync("python3", ["-c", program, on.databasePath, JSON.stringify(statements)]);
}

let n = 0;
/** A Better Auth user and one live session of theirs, imported; returns the id and cookie. */
function movedOver({ expiresInMs = 5 * DAY_MS, verified = true, on = server } = {}) {
  const id = betterAuthId();
  const token = betterAuthId();
  const now = Date.now();
  sql([
    [
      "INSERT INTO users (id, email, email_key, name, email_verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [id, `moved${++n}@example.com`, `moved${n}@example.com`, "Moved", verified ? 1 : 0, now - 30 * DAY_MS, now],
    ],
    [
      "INSERT INTO imported_sessions (token_hash, source, user_id, created_at, expires_at) VALUES (?, 'better-auth', ?, ?, ?)",
      [createHash("sha256").update(token).digest("hex"), id, now - DAY_MS, now + expiresInMs],
    ],
  ], on);
  return { id, cookie: sign(token) };
}

const setCookies = (res) => res.headers.getSetCookie();
const jarOf = (res) =>
  setCookies(res)
    .map((line) => line.split(";")[0])
    .filter((pair) => !pair.endsWith("="))
    .join("; ");
const CLEARED = `${NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`;

/** A fetch that counts the exchanges it passes on. */
function counting() {
  const counter = { calls: 0 };
  counter.fetch = (url, init) => {
    if (String(url).endsWith("/api/v1/auth/exchange/better-auth")) counter.calls++;
    return fetch(url, init);
  };
  return counter;
}

test("the test signs cookies exactly as the real Better Auth did", () => {
  const made = vectors.signed.filter((c) => c.token && c.betterAuthReads === c.token && !c.token.includes("."));
  assert.ok(made.length >= 3);
  for (const c of made) assert.equal(sign(c.token), c.cookie.includes("%") ? c.cookie : encodeURIComponent(c.cookie), c.name);
});

test("the package finds and clears Better Auth's cookies as the vectors say", () => {
  for (const c of vectors.read) {
    const found = betterAuthCookies(c.prefix, undefined, c.secure).find(c.header);
    assert.deepEqual(found, { value: c.value, names: c.names }, c.name);
  }
  for (const c of vectors.clear) {
    assert.equal(betterAuthCookies(undefined, c.domain ?? undefined).clearCookie(c.cookieName), c.setCookie, c.name);
  }
  for (const prefix of vectors.badPrefixes) {
    assert.throws(() => betterAuthCookies(prefix), (err) => err.code === "invalid_request", JSON.stringify(prefix));
  }
});

test("authProxy exchanges a Better Auth cookie: the page renders signed in, no sign-in page", async () => {
  const { id, cookie } = movedOver();
  const proxy = authProxy({ ...config, protect: ["/dashboard"] });
  const header = `theme=dark; ${NAME}=${cookie}`;
  const res = await proxy(new NextRequest(`${APP}/dashboard/tasks`, { headers: { cookie: header } }));
  assert.equal(res.headers.get("x-middleware-next"), "1", "the page asked for renders");
  assert.equal(res.headers.get("location"), null);
  const lines = setCookies(res);
  assert.match(lines[0], /^latchkey\.at=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax$/);
  // The Latchkey session ends when the Better Auth one would have: five days from now.
  const maxAge = Number(lines[1].match(/^latchkey\.rt=[\w-]{43}; Path=\/; Max-Age=(\d+);/)[1]);
  assert.ok(Math.abs(maxAge - 5 * 24 * 3600) <= 5, `${maxAge}`);
  assert.equal(lines[2], CLEARED);
  // The app behind the proxy sees the Latchkey cookies and no longer the old one.
  const seen = res.headers.get("x-middleware-request-cookie");
  assert.match(seen, /^theme=dark; latchkey\.at=[^;]+; latchkey\.rt=[\w-]{43}$/);
  const session = await getSession(seen, config);
  assert.equal(session.user.id, id, "sub is the Better Auth id");
  assert.equal(session.claims.sub, id);
  assert.equal(await getSession(jarOf(res), config).then((s) => s.user.id), id);
});

test("a cookie is exchanged once: requests at once share it, a later one is refused and cleared", async () => {
  const { id, cookie } = movedOver();
  const counter = counting();
  const proxy = authProxy({ ...config, fetch: counter.fetch, protect: ["/dashboard"] });
  const request = () => new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${cookie}` } });
  // A page load: three requests before the first answer lands, one exchange on the server.
  const answers = await Promise.all([request(), request(), request()].map(proxy));
  assert.equal(counter.calls, 1);
  assert.equal(new Set(answers.map(jarOf)).size, 1);
  for (const res of answers) assert.equal(res.headers.get("x-middleware-next"), "1");
  assert.equal((await getSession(jarOf(answers[0]), config)).user.id, id);

  // The same cookie again, later (another instance of the app): the server refuses it.
  const later = authProxy({ ...config, protect: ["/dashboard"] });
  const res = await later(request());
  assert.equal(res.status, 307);
  const to = new URL(res.headers.get("location"));
  assert.equal(to.pathname, "/signin");
  assert.equal(to.searchParams.get("next"), "/dashboard");
  assert.deepEqual(setCookies(res), [CLEARED]);
});

test("a forged or expired cookie is cleared and the request goes on signed out", async () => {
  const proxy = authProxy({ ...config, protect: ["/dashboard"] });
  const forged = sign(betterAuthId(), "not-the-secret-better-auth-had-0123456789");
  const open = await proxy(new NextRequest(`${APP}/about`, { headers: { cookie: `${NAME}=${forged}` } }));
  assert.equal(open.headers.get("x-middleware-next"), "1");
  assert.deepEqual(setCookies(open), [CLEARED]);
  assert.equal(open.headers.get("x-middleware-request-cookie"), null);

  const { cookie } = movedOver({ expiresInMs: -1000 });
  const guarded = await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${cookie}` } }));
  assert.equal(guarded.status, 307);
  assert.deepEqual(setCookies(guarded), [CLEARED]);
});

test("a request with no Better Auth cookie, or with a Latchkey session, never asks the server", async () => {
  const counter = counting();
  const proxy = authProxy({ ...config, fetch: counter.fetch, protect: ["/dashboard"] });
  await proxy(new NextRequest(`${APP}/dashboard`));
  await proxy(new NextRequest(`${APP}/about`, { headers: { cookie: "theme=dark; better-auth.session_data=x" } }));
  const { cookie } = movedOver();
  const first = await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${cookie}` } }));
  assert.equal(counter.calls, 1);
  // Signed in now, with the old cookie still sent (as a browser would until it is cleared).
  const both = `${jarOf(first)}; ${NAME}=${cookie}`;
  const res = await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie: both } }));
  assert.equal(res.headers.get("x-middleware-next"), "1");
  assert.equal(counter.calls, 1);
  const off = authProxy({ ...config, fetch: counter.fetch, protect: ["/dashboard"], betterAuth: false });
  const signedOut = await off(new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${movedOver().cookie}` } }));
  assert.equal(signedOut.status, 307);
  assert.equal(counter.calls, 1);
});

test("GET /api/auth/session exchanges the cookie too", async () => {
  const { id, cookie } = movedOver();
  // Better Auth's useSecureCookies: its __Secure- cookie, read although this app is on http.
  const secureConfig = { ...config, betterAuth: { secureCookies: true } };
  const handler = createAuthHandler(secureConfig);
  const get = () => new Request(`${APP}/api/auth/session`, { headers: { cookie: `__Secure-${NAME}=${cookie}` } });
  const res = await handler.GET(get());
  assert.equal(res.status, 200);
  assert.equal((await res.json()).user.id, id);
  const lines = setCookies(res);
  assert.equal(lines.length, 3);
  assert.equal(lines[2], `__Secure-${NAME}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`);
  assert.equal((await getSession(jarOf(res), config)).user.id, id);
  // Refused once spent (a new bridge: nothing remembered): signed out, the cookie cleared.
  const again = await createAuthHandler(secureConfig).GET(get());
  assert.equal(again.status, 401);
  assert.equal((await again.json()).error, "missing_token");
  assert.deepEqual(setCookies(again), [lines[2]]);
});

test("a server without LATCHKEY_BETTER_AUTH_SECRET keeps the cookie for later and is not asked again at once", async () => {
  const bare = await startServer();
  try {
    const counter = counting();
    const proxy = authProxy({ ...config, apiUrl: bare.url, fetch: counter.fetch, protect: ["/dashboard"] });
    const request = () => new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${sign(betterAuthId())}` } });
    const res = await proxy(request());
    assert.equal(res.status, 307);
    assert.deepEqual(setCookies(res), [], "the cookie stays");
    await proxy(request());
    assert.equal(counter.calls, 1, "a 404 is believed for a while");
  } finally {
    bare.stop();
  }
});

test("a cookie declined for an unverified address is kept, and not sent again at once", async () => {
  const strict = await startServer({
    LATCHKEY_BETTER_AUTH_SECRET: vectors.secret,
    LATCHKEY_REQUIRE_EMAIL_VERIFICATION: "true",
  });
  try {
    const { cookie } = movedOver({ verified: false, on: strict });
    const counter = counting();
    const proxy = authProxy({ ...config, apiUrl: strict.url, fetch: counter.fetch, protect: ["/dashboard"] });
    const request = () => new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${cookie}` } });
    const res = await proxy(request());
    assert.equal(res.status, 307);
    assert.deepEqual(setCookies(res), [], "the cookie stays, for after verification");
    await proxy(request());
    await proxy(request());
    assert.equal(counter.calls, 1, "a 403 is believed for a while, per cookie");
    // Another cookie is still asked about.
    await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie: `${NAME}=${movedOver({ verified: false, on: strict }).cookie}` } }));
    assert.equal(counter.calls, 2);
  } finally {
    strict.stop();
  }
});

test("only the cookie name of the app's scheme is read: the other is cleared, never exchanged", async () => {
  const { id, cookie } = movedOver();
  const https = createAuthHandler({ ...config, betterAuth: { secureCookies: true } });
  const planted = await https.GET(new Request(`${APP}/api/auth/session`, { headers: { cookie: `${NAME}=${cookie}` } }));
  assert.equal(planted.status, 401);
  assert.deepEqual(setCookies(planted), [`${NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`]);
  // Not spent: the http app, whose name it is, still exchanges it.
  const http = await createAuthHandler(config).GET(new Request(`${APP}/api/auth/session`, { headers: { cookie: `${NAME}=${cookie}` } }));
  assert.equal(http.status, 200);
  assert.equal((await http.json()).user.id, id);
});
