// <LatchkeyProvider> and useSession() rendered with react-dom in jsdom, against a live server
// through the real bridge: loading, then the cookie's answer; actions update it; a sign-out
// announced by another tab (BroadcastChannel, or the storage event where there is none)
// signs this one out; focus re-reads the session from the server (a revocation shows).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { JSDOM } from "jsdom";

import { browserFetch, startApp } from "./app.mjs";
import { startServer } from "./server.mjs";

const PASSWORD = "correct horse battery staple";
let server, app, React, act, createRoot, lk;

before(async () => {
  server = await startServer({ LATCHKEY_SESSION_CACHE_TTL: "0s" });
  app = await startApp(server);
  const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: app.url, pretendToBeVisual: true });
  // React DOM reads these from the global scope; Node's own fetch and BroadcastChannel stay.
  for (const name of ["window", "document", "navigator", "HTMLElement", "Node", "Event", "StorageEvent", "localStorage"]) {
    Object.defineProperty(globalThis, name, { value: dom.window[name], configurable: true, writable: true });
  }
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  React = await import("react");
  ({ act } = React);
  ({ createRoot } = await import("react-dom/client"));
  lk = await import("latchkey/react");
});
after(async () => {
  await app.close();
  server.stop();
});

/** Renders a provider whose session is copied into `seen` on every render. */
async function mount(props) {
  const seen = { history: [] };
  function Probe() {
    const s = lk.useSession();
    seen.current = s;
    seen.history.push(s.status);
    return React.createElement("p", null, s.status === "signed-in" ? s.user.email : s.status);
  }
  const host = document.createElement("div");
  document.body.append(host);
  const root = createRoot(host);
  await act(async () => root.render(React.createElement(lk.LatchkeyProvider, props, React.createElement(Probe))));
  return { seen, host, unmount: () => act(async () => root.unmount()) };
}

/** Waits (inside act) until `check()` holds. */
async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await act(() => new Promise((r) => setTimeout(r, 10)));
  }
  assert.fail(`timed out waiting for ${what}`);
}

let n = 0;
const fresh = () => `h${++n}-${Date.now()}@example.com`;

test("useSession starts loading, reads the bridge, and follows the actions", async () => {
  const { fetch } = browserFetch(app.url);
  const client = lk.createAuthClient({ baseUrl: app.url, fetch });
  const { seen, host, unmount } = await mount({ client });
  await until(() => seen.current.status === "signed-out", "signed-out");
  assert.equal(seen.history[0], "loading");
  assert.equal(seen.current.user, null);

  const email = fresh();
  await act(async () => {
    const got = await client.signUp({ email, password: PASSWORD });
    assert.equal(got.data.signedIn, true);
  });
  await until(() => seen.current.status === "signed-in", "signed-in after sign-up");
  assert.equal(seen.current.user.email, email);
  assert.equal(host.textContent, email);

  await act(async () => assert.deepEqual((await client.signOut()).data, { serverConfirmed: true }));
  await until(() => seen.current.status === "signed-out", "signed-out after sign-out");
  assert.equal(host.textContent, "signed-out");

  const wrong = await client.signIn({ email, password: "wrong password!" });
  assert.equal(wrong.error.code, "invalid_credentials");
  assert.equal(seen.current.status, "signed-out");
  await unmount();
});

test("initialSession renders without a loading state; refresh() re-reads", async () => {
  const { fetch } = browserFetch(app.url);
  const client = lk.createAuthClient({ baseUrl: app.url, fetch });
  const email = fresh();
  const got = await client.signUp({ email, password: PASSWORD });
  const { seen, unmount } = await mount({ client, initialSession: { user: got.data.user } });
  assert.equal(seen.history[0], "signed-in");
  assert.equal(seen.current.user.email, email);
  // The user object keeps only the identity, whatever else it was given.
  assert.deepEqual(Object.keys(seen.current.user).sort(), ["email", "emailVerified", "id"]);
  await act(() => seen.current.refresh());
  assert.equal(seen.current.status, "signed-in");
  await unmount();
});

test("another tab's sign-out on the BroadcastChannel signs this one out at once", async () => {
  const { fetch } = browserFetch(app.url);
  const client = lk.createAuthClient({ baseUrl: app.url, fetch });
  await client.signUp({ email: fresh(), password: PASSWORD });
  const { seen, unmount } = await mount({ client });
  await until(() => seen.current.status === "signed-in", "signed-in");
  // Another tab: a channel of its own on the same name.
  const other = new BroadcastChannel("latchkey:session");
  other.postMessage("signed-out");
  other.close();
  await until(() => seen.current.status === "signed-out", "signed-out from the other tab");
  await unmount();
});

test("without BroadcastChannel, the storage event carries the sign-out", async () => {
  const saved = globalThis.BroadcastChannel;
  delete globalThis.BroadcastChannel;
  try {
    const { fetch } = browserFetch(app.url);
    const client = lk.createAuthClient({ baseUrl: app.url, fetch });
    const email = fresh();
    await client.signUp({ email, password: PASSWORD });
    const { seen, unmount } = await mount({ client });
    await until(() => seen.current.status === "signed-in", "signed-in");
    // What another tab's `localStorage.setItem` fires here.
    await act(async () => {
      window.dispatchEvent(new StorageEvent("storage", { key: "latchkey:session", newValue: `signed-out:${Date.now()}:x` }));
    });
    await until(() => seen.current.status === "signed-out", "signed-out by the storage event");
    // And this tab's own sign-out writes the key for the others (nothing secret in it).
    await client.signIn({ email, password: PASSWORD });
    await client.signOut();
    assert.match(localStorage.getItem("latchkey:session"), /^signed-out:\d+:\w+$/);
    await unmount();
  } finally {
    globalThis.BroadcastChannel = saved;
  }
});

test("focus re-reads the session from the server: a session revoked elsewhere shows signed out", async () => {
  const email = fresh();
  const { fetch } = browserFetch(app.url);
  const client = lk.createAuthClient({ baseUrl: app.url, fetch });
  await client.signUp({ email, password: PASSWORD });
  const { seen, unmount } = await mount({ client });
  await until(() => seen.current.status === "signed-in", "signed-in");
  // Another device signs in and ends every other session; this tab's cookie still verifies.
  const phone = lk.createAuthClient({ baseUrl: app.url, fetch: browserFetch(app.url).fetch });
  await phone.signIn({ email, password: PASSWORD });
  assert.equal((await phone.signOut({ scope: "others" })).data.revoked, 1);
  assert.equal((await client.getSession()).data.user.email, email, "locally still valid");
  await act(async () => window.dispatchEvent(new window.Event("focus")));
  await until(() => seen.current.status === "signed-out", "signed-out after focus");
  await unmount();
});

test("useSession outside a provider says what is missing", async () => {
  function Lonely() {
    lk.useSession();
    return null;
  }
  const errors = [];
  const root = createRoot(document.createElement("div"), { onUncaughtError: (e) => errors.push(e) });
  try {
    await act(async () => root.render(React.createElement(Lonely)));
  } catch (err) {
    errors.push(err);
  }
  assert.match(String(errors[0] ?? ""), /needs a <LatchkeyProvider>/);
});

/** What `useLinkToken()` returned on each render of a page opened at `url`. */
async function linkTokensAt(url) {
  window.history.pushState(null, "", url);
  const seen = [];
  function Page() {
    seen.push(lk.useLinkToken());
    return null;
  }
  const root = createRoot(document.createElement("div"));
  await act(async () => root.render(React.createElement(Page)));
  await act(async () => root.unmount());
  return seen;
}

test("useLinkToken reads an emailed link's #token once and takes it out of the address bar", async () => {
  const seen = await linkTokensAt("/reset-password?from=mail#token=abc_DEF-123");
  assert.equal(seen[0], undefined, "not read during the first render (the server has no fragment)");
  assert.equal(seen.at(-1), "abc_DEF-123");
  assert.equal(window.location.hash, "");
  assert.equal(`${window.location.pathname}${window.location.search}`, "/reset-password?from=mail");

  assert.equal((await linkTokensAt("/reset-password")).at(-1), null);
});
