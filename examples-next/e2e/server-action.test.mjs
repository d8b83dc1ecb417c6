// "Sign out everywhere" on the sessions page is a plain form whose server action runs the
// bridge in-process (`latchkey.serverAction`): it works in a browser that runs no JavaScript
// at all, ends every session on the server, and clears the cookies through `cookies()`. A
// post from another site cannot use it: Next.js refuses an Origin that is not the Host, and
// behind that the bridge refuses an Origin that is not the app's.
import assert from "node:assert/strict";
import { test } from "node:test";

import { shot, suite, unique } from "./browser.mjs";

const run = suite("server-action");
const password = "lamplight over the quiet harbour";

/** Playwright's cookies from a bridge answer's Set-Cookie lines. */
function cookiesOf(res, url) {
  return res.headers.getSetCookie().map((line) => {
    const pair = line.split(";")[0];
    const eq = pair.indexOf("=");
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), url, httpOnly: true, sameSite: "Lax" };
  });
}

const header = (cookies) => cookies.map((c) => `${c.name}=${c.value}`).join("; ");

const PHONE = "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36";
const LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

/** Signs up or in through the bridge as this app's own page would (its Origin); the cookies. */
async function viaBridge(op, body, agent = LAPTOP) {
  const { appUrl } = run.stack;
  const res = await fetch(`${appUrl}/api/auth/${op}`, {
    method: "POST",
    headers: { origin: appUrl, "content-type": "application/json", "user-agent": agent },
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, `${op}: ${res.status} ${await res.clone().text()}`);
  return cookiesOf(res, appUrl);
}

/** The account's sessions as the holder of `cookies` sees them (no refresh: the access cookie is fresh). */
async function sessionsSeenBy(cookies) {
  const res = await fetch(`${run.stack.appUrl}/api/auth/sessions`, { headers: { cookie: header(cookies) } });
  assert.equal(res.status, 200);
  return res.json();
}

/** Whether the server still renews the session a refresh cookie belongs to (replayed from outside). */
async function refreshStatus(refresh) {
  const { appUrl } = run.stack;
  const res = await fetch(`${appUrl}/api/auth/refresh`, {
    method: "POST",
    headers: { origin: appUrl, cookie: `${refresh.name}=${refresh.value}` },
  });
  return res.status;
}

test("Sign out everywhere works with JavaScript off: every session ends and the cookies go", async () => {
  const email = `nora-${unique()}@example.com`;
  // The phone: an ordinary signed-in browser, the other device.
  const phone = await run.person(PHONE);
  await phone.context.addCookies(await viaBridge("register", { email, password, name: "Nora" }, PHONE));
  await phone.page.goto("/dashboard");
  await phone.page.getByRole("heading", { name: "Nora's tasks" }).waitFor();

  // The laptop runs no JavaScript; its session comes from a sign-in through the bridge.
  const laptop = await run.person(LAPTOP, { javaScriptEnabled: false });
  await laptop.context.addCookies(await viaBridge("signin", { email, password }));
  await laptop.page.goto("/sessions");
  await laptop.page.getByTestId("session-current").waitFor();
  assert.equal(await laptop.page.getByTestId("session-other").count(), 1);
  await shot(laptop.page, "30-sessions-without-javascript");
  const before = await laptop.context.cookies();
  const phoneBefore = await phone.context.cookies();

  await laptop.page.getByRole("button", { name: "Sign out everywhere" }).click();
  await laptop.page.waitForURL("**/signin");
  assert.equal(new URL(laptop.page.url()).search, "", "both steps confirmed by the server");
  assert.deepEqual(await laptop.context.cookies(), [], "the action's cookies() cleared both");
  await shot(laptop.page, "31-signed-out-everywhere-without-javascript");

  // Ended on the server, not only in this browser: neither device's refresh cookie renews.
  for (const jar of [before, phoneBefore]) {
    const refresh = jar.find((c) => c.name === "latchkey.rt");
    assert.ok(refresh);
    assert.equal(await refreshStatus(refresh), 401);
  }
  // The phone's access cookie still verifies locally until it expires, but its next page asks
  // the server, which refuses: it lands on sign-in.
  await phone.page.goto("/sessions");
  await phone.page.waitForURL(/\/signin\?/);
  await phone.page.getByTestId("session-ended").waitFor();
});

test("a post from another site cannot run the sign-out action", async () => {
  const { appUrl } = run.stack;
  const cookies = await viaBridge("register", { email: `otto-${unique()}@example.com`, password });
  // The form as the page renders it: its hidden field names the action.
  const html = await (await fetch(`${appUrl}/sessions`, { headers: { cookie: header(cookies) } })).text();
  const field = html.match(/name="(\$ACTION_ID_[0-9a-f]+)"/)?.[1];
  assert.ok(field, "the sessions page renders the sign-out form with its action");
  const post = (headers) => {
    const form = new FormData();
    form.append(field, "");
    return fetch(`${appUrl}/sessions`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: header(cookies), "sec-fetch-site": "cross-site", ...headers },
      body: form,
    });
  };
  const signedOutBy = (res) => res.headers.getSetCookie().some((line) => line.startsWith("latchkey."));

  // Another site's page posting the form, the browser's cookies attached (what SameSite=Lax
  // already keeps a browser from doing): Next.js refuses its Origin before the action runs.
  const forged = await post({ origin: "https://evil.example" });
  assert.ok(!signedOutBy(forged), `no cookie cleared (${forged.status})`);
  assert.match(run.stack.logs(), /does not match `origin` header .* Aborting the action/);
  // Past that check (a proxy that passes the attacker's host on, say), the action runs, and
  // the bridge refuses both operations for the same Origin: the action signs no one out.
  const past = await post({ origin: "https://evil.example", "x-forwarded-host": "evil.example" });
  assert.ok(!signedOutBy(past), `no cookie cleared (${past.status})`);
  assert.notEqual(past.headers.get("location"), "/signin");
  // The action's own words for a bridge refusal (403 csrf_rejected), in the app's log.
  assert.match(run.stack.logs(), /The sign-out was refused \(403\)/);

  const sessions = await sessionsSeenBy(cookies);
  assert.equal(sessions.length, 1, "the session lives on");
  assert.ok(sessions[0].current);

  // The same post from the app's own page does sign out: the refusals above were the Origin's.
  const own = await post({ origin: appUrl, "sec-fetch-site": "same-origin" });
  assert.equal(own.headers.get("location"), "/signin");
  assert.ok(signedOutBy(own));
  assert.equal(await refreshStatus(cookies.find((c) => c.name === "latchkey.rt")), 401);
});
