// The bridge's security properties against real servers (issue 18): client addresses reach
// the server signed and never from the browser's own headers; bodies are capped while they
// stream; sign-out always clears the cookies and says whether the server ended the session;
// an unreachable server is an outage, not a crash; production needs the app's URL.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { NextRequest } from "next/server.js";
import { clientAttestor } from "latchkey";
import { authProxy, createAuthHandler, fetchApi, getSession } from "latchkey/next";

import { SECRET, startServer } from "./server.mjs";

const APP = "http://localhost:3000";
const PASSWORD = "correct horse battery staple";
const SPOOFS = {
  "x-forwarded-for": "203.0.113.1",
  "x-real-ip": "203.0.113.2",
  forwarded: "for=203.0.113.3",
  "true-client-ip": "203.0.113.4",
  "cf-connecting-ip": "203.0.113.5",
  "latchkey-client-address": `203.0.113.6;${Math.floor(Date.now() / 1000)};${"A".repeat(43)}`,
};

let trusting; // trusts 127.0.0.1 as a proxy: before the fix, a spoofed X-Forwarded-For chose the address
let plain; // trusts nobody: before the fix, every user shared the app's address
let closedPort;

before(async () => {
  const limits = { LATCHKEY_RATE_LIMITS: "signin_ip=3/15m" };
  [trusting, plain] = await Promise.all([
    startServer({ ...limits, LATCHKEY_TRUSTED_PROXIES: "127.0.0.1" }),
    startServer(limits),
  ]);
  // A port that was free a moment ago and that nobody listens on: the server is down.
  const probe = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => probe.once("listening", r));
  closedPort = probe.address().port;
  await new Promise((r) => probe.close(r));
});
after(() => {
  trusting.stop();
  plain.stop();
});

const bridge = (server, more = {}) =>
  createAuthHandler({ apiUrl: server.url, appUrl: APP, secret: SECRET, clientAddress: { header: "x-vercel-forwarded-for" }, ...more });

/** A browser's POST through the bridge, from `client` (as the platform says), with every spoofed header. */
const post = (op, body, { client, cookie = "", headers = {} } = {}) =>
  new Request(`${APP}/api/auth/${op}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: APP,
      cookie,
      ...SPOOFS,
      ...(client ? { "x-vercel-forwarded-for": client } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const cookieJar = (res) =>
  res.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .filter((pair) => !pair.endsWith("="))
    .join("; ");

let n = 0;
const fresh = () => `u${++n}-${Date.now()}@example.com`;

async function register(handler, client = "198.51.100.200") {
  const email = fresh();
  const res = await handler.POST(post("register", { email, password: PASSWORD }, { client }));
  assert.equal(res.status, 201, await res.clone().text());
  return { email, cookie: cookieJar(res) };
}

/** Three failed sign-ins use up signin_ip=3/15m; the next one is 429. */
async function exhaust(handler, client, spoofed) {
  for (let i = 0; i < 3; i++) {
    const res = await handler.POST(post("signin", { email: fresh(), password: "wrong password!" }, { client, headers: spoofed(i) }));
    assert.equal(res.status, 401, `attempt ${i}: ${await res.clone().text()}`);
  }
}

test("spoofed forwarding headers do not change the address the server counts (server trusts the app as a proxy)", async () => {
  const handler = bridge(trusting);
  // Every attempt claims a new address in every header a client can write.
  const rotate = (i) => ({ "x-forwarded-for": `192.0.2.${i}`, "x-real-ip": `192.0.2.${i}`, forwarded: `for=192.0.2.${i}` });
  await exhaust(handler, "198.51.100.7", rotate);
  const res = await handler.POST(post("signin", { email: fresh(), password: "wrong password!" }, { client: "198.51.100.7", headers: rotate(9) }));
  assert.equal(res.status, 429, "the real client reached its limit whatever it claimed");
  assert.ok(Number(res.headers.get("retry-after")) >= 1);
  // Another real client behind the same app is counted apart.
  const other = await handler.POST(post("signin", { email: fresh(), password: "wrong password!" }, { client: "198.51.100.8" }));
  assert.equal(other.status, 401);
});

test("two clients behind the bridge are counted apart (server trusts nobody)", async () => {
  const handler = bridge(plain);
  await exhaust(handler, "198.51.100.17", () => ({}));
  const limited = await handler.POST(post("signin", { email: fresh(), password: "wrong password!" }, { client: "198.51.100.17" }));
  assert.equal(limited.status, 429);
  const other = await handler.POST(post("signin", { email: fresh(), password: "wrong password!" }, { client: "198.51.100.18" }));
  assert.equal(other.status, 401, "one client's failures must not lock out another");
  // IPv6 clients are counted per /64, like any other.
  await exhaust(handler, "2001:db8:7:7::1", () => ({}));
  const same64 = await handler.POST(post("signin", { email: fresh(), password: "wrong password!" }, { client: "2001:db8:7:7::2" }));
  assert.equal(same64.status, 429);
});

test("the session list records the attested address, not a spoofed one", async () => {
  const handler = bridge(plain);
  const { cookie } = await register(handler, "198.51.100.42");
  const res = await fetchApi("/api/v1/sessions", {}, cookie, { apiUrl: plain.url, appUrl: APP, secret: SECRET });
  const sessions = await res.json();
  const list = Array.isArray(sessions) ? sessions : sessions.sessions;
  assert.deepEqual(list.map((s) => s.ipAddress), ["198.51.100.42"]);
});

/** A fetch that records what the bridge sends to the server, then sends it. */
function recording() {
  const sent = [];
  const fetcher = (url, init) => {
    sent.push({ url: String(url), headers: new Headers(init.headers) });
    return fetch(url, init);
  };
  return { sent, fetcher };
}

test("neither the bridge nor the proxy passes on any forwarding header; both attest the platform's address", async () => {
  const { sent, fetcher } = recording();
  const handler = bridge(plain, { fetch: fetcher });
  const { cookie } = await register(handler, "198.51.100.43");
  await handler.GET(new NextRequest(`${APP}/api/auth/me`, { headers: { cookie, ...SPOOFS, "x-vercel-forwarded-for": "198.51.100.43" } }));
  // The proxy, an hour later: the access token has expired and it refreshes.
  const proxy = authProxy({
    apiUrl: plain.url, appUrl: APP, secret: SECRET, fetch: fetcher, protect: ["/dashboard"],
    clientAddress: { header: "x-vercel-forwarded-for" }, now: () => Date.now() / 1000 + 3600,
  });
  const res = await proxy(new NextRequest(`${APP}/dashboard`, { headers: { cookie, ...SPOOFS, "x-vercel-forwarded-for": "198.51.100.43" } }));
  assert.equal(res.headers.get("x-middleware-next"), "1");
  assert.ok(sent.some((s) => s.url.endsWith("/api/v1/auth/refresh")), "the proxy refreshed");
  const attestor = clientAttestor(SECRET);
  for (const { url, headers } of sent) {
    for (const name of ["x-forwarded-for", "x-real-ip", "forwarded", "true-client-ip", "cf-connecting-ip"]) {
      assert.equal(headers.get(name), null, `${name} passed on to ${url}`);
    }
    const header = headers.get("latchkey-client-address");
    const now = url.endsWith("/refresh") ? Date.now() / 1000 + 3600 : Date.now() / 1000;
    assert.deepEqual(attestor.verify(header, now), { ok: true, address: "198.51.100.43" }, url);
  }
});

test("without a secret (EdDSA) or without an address source the bridge says so at start-up and passes on no address", async () => {
  const warnings = [];
  const warn = console.warn;
  console.warn = (message) => warnings.push(String(message));
  try {
    const { sent, fetcher } = recording();
    const noSecret = createAuthHandler({ apiUrl: plain.url, appUrl: APP, alg: "EdDSA", clientAddress: { header: "x-vercel-forwarded-for" }, fetch: fetcher });
    assert.ok(warnings.some((w) => /cannot be attested without LATCHKEY_SECRET/.test(w)), warnings.join("\n"));
    const noSource = createAuthHandler({ apiUrl: plain.url, appUrl: APP, secret: SECRET, fetch: fetcher });
    assert.ok(warnings.some((w) => /no client address source/.test(w)), warnings.join("\n"));
    for (const handler of [noSecret, noSource]) {
      await handler.POST(post("forgot-password", { email: fresh() }, { client: "198.51.100.44" }));
    }
    const calls = sent.filter((s) => s.url.endsWith("/forgot-password"));
    assert.equal(calls.length, 2);
    for (const { headers } of calls) {
      for (const name of [...Object.keys(SPOOFS), "x-vercel-forwarded-for"]) assert.equal(headers.get(name), null, name);
    }
  } finally {
    console.warn = warn;
  }
});

// Item 5: bodies.

/** A body of `total` bytes in 64 KiB chunks, made only as it is read; `pulled()` says how much was. */
function generated(total) {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let pulled = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunk.byteLength;
      controller.enqueue(chunk.slice());
    },
  }, { highWaterMark: 0 }); // produced only when read, never ahead
  return { stream, pulled: () => pulled };
}

const streamed = (body, headers = {}) =>
  new Request(`${APP}/api/auth/signin`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: APP, ...headers },
    body,
    duplex: "half",
  });

test("signing in again with only the refresh cookie left ends the session it replaces; a refused one keeps it", async () => {
  const handler = bridge(plain);
  const { email, cookie } = await register(handler, "198.51.100.210");
  const config = { apiUrl: plain.url, appUrl: APP, secret: SECRET };
  // The access cookie has expired in the browser: only the refresh cookie is sent.
  const refreshOnly = cookie.split("; ").filter((pair) => pair.includes(".rt=")).join("; ");
  assert.ok(refreshOnly, cookie);
  const wrong = await handler.POST(post("signin", { email, password: "not the password" }, { client: "198.51.100.210", cookie: refreshOnly }));
  assert.equal(wrong.status, 401);
  const kept = cookieJar(wrong);
  assert.ok(kept.includes(".rt="), "the refused sign-in hands back the refreshed cookies");
  assert.equal((await fetchApi("/api/v1/tasks", {}, kept, config)).status, 200, "the old session lives on");
  const again = await handler.POST(post("signin", { email, password: PASSWORD }, { client: "198.51.100.210", cookie: kept }));
  assert.equal(again.status, 200, await again.clone().text());
  const sessions = await (await fetchApi("/api/v1/sessions", {}, cookieJar(again), config)).json();
  const list = Array.isArray(sessions) ? sessions : sessions.sessions;
  assert.equal(list.length, 1, "only the new session is live");
  assert.equal((await fetchApi("/api/v1/tasks", {}, kept, config)).status, 401, "the replaced session is over");
});

test("a 128 MB body streamed with no length is refused with 413 after reading at most the cap", async () => {
  const handler = bridge(plain);
  const total = 128 * 1024 * 1024;
  const body = generated(total);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const res = await handler.POST(streamed(body.stream));
  const grown = process.memoryUsage().rss - before;
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), { error: "payload_too_large" });
  console.log(`streamed ${total} bytes offered, ${body.pulled()} pulled, rss grew ${(grown / 1048576).toFixed(1)} MiB`);
  assert.ok(body.pulled() <= 256 * 1024, `pulled ${body.pulled()} bytes`);
  assert.ok(grown < 16 * 1024 * 1024, `rss grew ${grown} bytes`);
});

test("a declared Content-Length over the cap is refused before the body is read; a lying one is caught by the count", async () => {
  const handler = bridge(plain);
  const huge = generated(1024 * 1024 * 1024);
  const res = await handler.POST(streamed(huge.stream, { "content-length": "10000000000" }));
  assert.equal(res.status, 413);
  assert.equal(huge.pulled(), 0, "nothing read");
  // Claims 10 bytes, sends 8 MiB.
  const liar = generated(8 * 1024 * 1024);
  const lied = await handler.POST(streamed(liar.stream, { "content-length": "10" }));
  assert.equal(lied.status, 413);
  assert.ok(liar.pulled() <= 256 * 1024);
  // PATCH /me too.
  const patch = await handler.PATCH(
    new Request(`${APP}/api/auth/me`, { method: "PATCH", headers: { origin: APP }, body: generated(4 * 1024 * 1024).stream, duplex: "half" }),
  );
  assert.equal(patch.status, 413);
  // Up to the cap, a streamed body is read and passed on whole.
  const ok = await handler.POST(streamed(JSON.stringify({ email: fresh(), password: "x".repeat(60 * 1024) })));
  assert.ok([400, 401].includes(ok.status), `the server judged it: ${ok.status}`);
});

// Item 6: sign-out.

const cleared = ["latchkey.at=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax", "latchkey.rt=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"];

test("sign-out with the server down clears the cookies and says the session was only ended here", async () => {
  const { cookie } = await register(bridge(plain));
  const down = bridge(plain, { apiUrl: `http://127.0.0.1:${closedPort}` });
  const res = await down.POST(post("signout", undefined, { cookie }));
  assert.equal(res.status, 200);
  assert.deepEqual(res.headers.getSetCookie(), cleared);
  assert.deepEqual(await res.json(), { code: "signed_out_locally", serverStatus: null, serverError: null });
  // The server never heard: the session is still live there.
  assert.equal((await fetchApi("/api/v1/tasks", {}, cookie, { apiUrl: plain.url, appUrl: APP, secret: SECRET })).status, 200);
  // With an expired access token, the refresh that would name the session cannot reach it either.
  const later = bridge(plain, { apiUrl: `http://127.0.0.1:${closedPort}`, now: () => Date.now() / 1000 + 3600 });
  const res2 = await later.POST(post("signout", undefined, { cookie }));
  assert.equal(res2.status, 200);
  assert.deepEqual(res2.headers.getSetCookie(), cleared);
  assert.equal((await res2.json()).code, "signed_out_locally");
});

test("sign-out the server refuses (429) clears the cookies and reports the refusal; a revoked one is 204", async () => {
  const server = await startServer({ LATCHKEY_RATE_LIMITS: "auth_ip=2/10s" });
  try {
    const handler = bridge(server);
    const { cookie } = await register(handler, "198.51.100.50");
    // Use up this client's auth calls (register was the first).
    await handler.POST(post("forgot-password", { email: fresh() }, { client: "198.51.100.50" }));
    const res = await handler.POST(post("signout", undefined, { cookie, client: "198.51.100.50" }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), cleared);
    assert.deepEqual(await res.json(), { code: "signed_out_locally", serverStatus: 429, serverError: "rate_limited" });
    const config = { apiUrl: server.url, appUrl: APP, secret: SECRET };
    assert.equal((await fetchApi("/api/v1/tasks", {}, cookie, config)).status, 200, "still live on the server");
    // From another client the server ends it: 204; and again (already ended): 204.
    const out = await handler.POST(post("signout", undefined, { cookie, client: "198.51.100.51" }));
    assert.equal(out.status, 204);
    assert.deepEqual(out.headers.getSetCookie(), cleared);
    assert.equal((await fetchApi("/api/v1/tasks", {}, cookie, config)).status, 401);
    const again = await handler.POST(post("signout", undefined, { cookie, client: "198.51.100.52" }));
    assert.equal(again.status, 204);
  } finally {
    server.stop();
  }
});

test("sign-out the server fails (5xx) clears the cookies and reports the status", async () => {
  const { cookie } = await register(bridge(plain));
  const failing = createServer((req, res) => {
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "unavailable", message: "down for maintenance" }));
  });
  await new Promise((r) => failing.listen(0, "127.0.0.1", r));
  try {
    const handler = bridge(plain, { apiUrl: `http://127.0.0.1:${failing.address().port}` });
    const res = await handler.POST(post("signout", undefined, { cookie }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), cleared);
    assert.deepEqual(await res.json(), { code: "signed_out_locally", serverStatus: 503, serverError: "unavailable" });
  } finally {
    failing.close();
  }
});

test("the proxy treats an unreachable server like a 5xx: a still-valid token finishes its minute, an expired one signs in again", async () => {
  const { cookie } = await register(bridge(plain));
  const base = { apiUrl: `http://127.0.0.1:${closedPort}`, appUrl: APP, secret: SECRET, protect: ["/dashboard"] };
  // 14 min 30 s later: inside the refresh margin, still valid.
  const soon = authProxy({ ...base, now: () => Date.now() / 1000 + 870 });
  const through = await soon(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
  assert.equal(through.headers.get("x-middleware-next"), "1");
  // An hour later: expired, and no refresh possible: sign in, cookies kept for when it is back.
  const late = authProxy({ ...base, now: () => Date.now() / 1000 + 3600 });
  const res = await late(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
  assert.equal(res.status, 307);
  assert.equal(new URL(res.headers.get("location")).pathname, "/signin");
  assert.deepEqual(res.headers.getSetCookie(), []);
  // EdDSA with the JWKS unreachable: 503, not a 500 and not a sign-out.
  const jwks = authProxy({ apiUrl: `http://127.0.0.1:${closedPort}`, appUrl: APP, protect: ["/dashboard"] });
  const unavailable = await jwks(new NextRequest(`${APP}/dashboard`, { headers: { cookie } }));
  assert.equal(unavailable.status, 503);
  // Sign-out then still clears the cookies.
  const eddsaDown = createAuthHandler({ apiUrl: `http://127.0.0.1:${closedPort}`, appUrl: APP, alg: "EdDSA" });
  const out = await eddsaDown.POST(post("signout", undefined, { cookie }));
  assert.equal(out.status, 200);
  assert.deepEqual(out.headers.getSetCookie(), cleared);
  assert.deepEqual(await out.json(), { code: "signed_out_locally", serverStatus: null, serverError: null });
  // Other bridge calls: 503 unavailable, as the server would say when down.
  const down = bridge(plain, { apiUrl: `http://127.0.0.1:${closedPort}` });
  const signin = await down.POST(post("signin", { email: fresh(), password: PASSWORD }));
  assert.equal(signin.status, 503);
  assert.equal((await signin.json()).error, "unavailable");
});

// Item 9: the app's URL in production.

async function inProduction(fn) {
  const saved = { NODE_ENV: process.env.NODE_ENV, LATCHKEY_APP_URL: process.env.LATCHKEY_APP_URL };
  process.env.NODE_ENV = "production";
  delete process.env.LATCHKEY_APP_URL;
  try {
    await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const missingAppUrl = (err) => err.name === "LatchkeyError" && err.code === "missing_app_url" && /LATCHKEY_APP_URL/.test(err.message);

test("in production the app's URL is required: the routes refuse to start without it", async () => {
  await inProduction(async () => {
    const config = { apiUrl: plain.url, secret: SECRET, clientAddress: { header: "x-vercel-forwarded-for" } };
    assert.throws(() => createAuthHandler(config), missingAppUrl);
    assert.throws(() => authProxy({ ...config, protect: ["/dashboard"] }), missingAppUrl);
    await assert.rejects(getSession("latchkey.at=x", config), missingAppUrl);
    await assert.rejects(getSession("latchkey.at=x"), missingAppUrl);
    // Configured, it starts, and the request's forwarded host has no say in the cookie names.
    process.env.LATCHKEY_APP_URL = "https://app.example.com";
    const handler = createAuthHandler(config);
    const res = await handler.GET(
      new Request("https://app.example.com/api/auth/session", { headers: { "x-forwarded-host": "localhost", "x-forwarded-proto": "http", cookie: "latchkey.at=x" } }),
    );
    assert.equal(res.status, 401);
  });
});

test("in development the request's own origin still stands in for the app's URL", async () => {
  const { cookie } = await register(bridge(plain));
  const config = { apiUrl: plain.url, secret: SECRET };
  const session = await getSession(new Request(`${APP}/dashboard`, { headers: { cookie } }), config);
  assert.ok(session?.user.email);
  const handler = createAuthHandler({ ...config, clientAddress: () => "198.51.100.60" });
  const res = await handler.GET(new Request(`${APP}/api/auth/session`, { headers: { cookie } }));
  assert.equal(res.status, 200);
});
