// The account's edges in the browser: limits shown as plain sentences with their wait, an
// email change confirmed from the new address, and a proxy that no header talks past.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { shot, signIn, suite, unique } from "./browser.mjs";
import { emailedLink } from "./stack.mjs";

const run = suite("account");

async function signUp(email, password) {
  const u = await run.person();
  await u.page.goto("/signup");
  await u.page.getByLabel("Email").fill(email);
  await u.page.getByLabel("Password").fill(password);
  await u.page.getByRole("button", { name: "Create account" }).click();
  await u.page.waitForURL("**/dashboard");
  return u;
}

test("every error code the server can send has a sentence in the app", async () => {
  const { codes } = JSON.parse(readFileSync(new URL("../../tests/vectors/error-codes.json", import.meta.url), "utf8"));
  // lib/errors.ts words every code with latchkey/messages' English catalogue.
  const { messages } = await import("latchkey/messages");
  const catalogue = messages("en");
  const missing = codes.filter((code) => !catalogue[code]);
  assert.deepEqual(missing, []);
});

test("the sixth wrong password in a row is refused with the wait in plain words", async () => {
  const email = `carol-${unique()}@example.com`;
  await signUp(email, "seven silver spoons singing");
  const u = await run.person();
  await u.page.goto("/signin");
  const wrong = u.page.getByText("That email and password don't match an account.");
  for (let i = 0; i < 5; i++) {
    await u.page.getByLabel("Email").fill(email);
    await u.page.getByLabel("Password").fill(`wrong guess ${i}`);
    const [answer] = await Promise.all([
      u.page.waitForResponse((r) => r.url().endsWith("/api/auth/signin")),
      u.page.getByRole("button", { name: "Sign in" }).click(),
    ]);
    assert.equal(answer.status(), 401);
    await wrong.waitFor();
  }
  await u.page.getByLabel("Password").fill("seven silver spoons singing");
  const [refused] = await Promise.all([
    u.page.waitForResponse((r) => r.url().endsWith("/api/auth/signin")),
    u.page.getByRole("button", { name: "Sign in" }).click(),
  ]);
  assert.equal(refused.status(), 429, "even the right password waits");
  const retryAfter = Number(refused.headers()["retry-after"]);
  const limited = u.page.getByRole("alert").filter({ hasText: "Too many attempts" });
  await limited.waitFor();
  // Which limit answers first depends on timing (the failure streak's short backoff, or the
  // account's 5-in-15-minutes window); either way the sentence says Retry-After's wait.
  const wait = retryAfter < 60 ? `${retryAfter} second` : `${Math.ceil(retryAfter / 60)} minute`;
  assert.match(await limited.innerText(), new RegExp(`^Too many attempts\\. Try again in ${wait}s?\\.$`));
  assert.equal(new URL(u.page.url()).pathname, "/signin");
  await shot(u.page, "10-signin-rate-limited");
});

test("an email change applies once the link sent to the new address is followed", async () => {
  const old = `dan-${unique()}@example.com`;
  const moved = `dan-${unique()}@example.org`;
  const password = "tangerine lighthouse on a hill";
  const { page, context } = await signUp(old, password);
  await page.goto("/profile");
  await page.getByLabel("New email address").fill(moved);
  await page.getByLabel("Your password").fill(password);
  await page.getByRole("button", { name: "Change email" }).click();
  await page.getByText(`Check ${moved}`).waitFor();
  await page.reload();
  assert.equal(await page.getByTestId("profile-email").innerText(), old, "nothing changes before the link");
  const early = await run.person();
  await early.page.goto("/signin");
  await signIn(early.page, moved, password);
  await early.page.getByText("That email and password don't match an account.").waitFor();

  const link = await emailedLink(run.stack.mailDir, moved, "Confirm your new email address");
  assert.ok(link.startsWith(`${run.stack.appUrl}/confirm-email#token=`), link);
  await page.goto(link);
  await page.getByText("your account now uses this email address").waitFor();
  await shot(page, "12-confirm-email");
  await page.goto("/profile");
  assert.equal(await page.getByTestId("profile-email").innerText(), moved);
  // The session was refreshed after the change, so the locally verified one agrees.
  assert.equal(await page.getByTestId("signed-in-as").innerText(), moved);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/signin");
  await signIn(page, moved, password);
  await page.waitForURL("**/dashboard");
  assert.equal((await context.cookies()).length, 2);
});

test("an unblock link is spent only when its owner clicks, and a bad one is named plainly", async () => {
  const { page } = await run.person();
  let posts = 0;
  page.on("request", (r) => r.url().endsWith("/api/auth/unblock") && posts++);
  await page.goto("/unblock#token=not-a-real-token");
  const button = page.getByRole("button", { name: "Unblock sign-in" }).and(page.locator(":enabled"));
  await button.waitFor();
  assert.equal(new URL(page.url()).hash, "", "the token leaves the address bar once read");
  assert.equal(posts, 0, "opening the link does nothing by itself");
  await shot(page, "13-unblock");
  await button.click();
  await page.getByText("This link is invalid, expired or already used.").waitFor();
  assert.equal(posts, 1);
  await shot(page, "13b-unblock-bad-link");
});

test("the protected pages need a verified token: no header or forged cookie gets past the proxy", async () => {
  // The cases live in the attack corpus (tests/attacks/proxy.json), beside the server's.
  const corpus = JSON.parse(readFileSync(new URL("../../tests/attacks/proxy.json", import.meta.url), "utf8"));
  const cookie = (value) => value.replace(/^\{(\w+)\}$/, (_, name) => corpus.forged_cookies[name]);
  let checked = 0;
  for (const path of corpus.paths) {
    for (const sent of corpus.headers) {
      const headers = Object.fromEntries(Object.entries(sent).map(([k, v]) => [k, k === "cookie" ? cookie(v) : v]));
      const res = await fetch(`${run.stack.appUrl}${path}`, { headers, redirect: "manual" });
      assert.equal(res.status, corpus.expect.status, `${path} ${JSON.stringify(headers)}`);
      assert.equal(new URL(res.headers.get("location"), run.stack.appUrl).pathname, corpus.expect.location_path);
      checked += 1;
    }
  }
  // A corpus emptied by mistake would pass every loop above; it holds 4 paths and 20 header sets.
  assert.ok(corpus.paths.length >= 4 && corpus.headers.length >= 20, `only ${checked} requests checked`);
});

/** What has the keyboard focus: its role-ish tag and accessible label. */
const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    const label = el?.labels?.[0]?.innerText ?? el?.getAttribute("aria-label") ?? el?.innerText ?? "";
    return `${el?.tagName.toLowerCase()}:${label.trim()}`;
  });

test("every page works from the keyboard, and every field has a label", async () => {
  const { page } = await run.person();
  const email = `erin-${unique()}@example.com`;
  const password = "quiet river under stars";
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/dashboard");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/signin");

  // Sign in with the keyboard alone: Tab from the top of the page, type, Enter.
  await page.goto("/signin");
  await page.getByRole("button", { name: "Sign in" }).and(page.locator(":enabled")).waitFor();
  const order = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    order.push(await focused(page));
  }
  assert.deepEqual(order, [
    "a:Skip to content",
    "a:Tasks",
    "a:Sign in",
    "a:Create account",
    "input:Email",
    "input:Password",
  ]);
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.waitForURL("**/dashboard");

  // Add a task from the keyboard: the title field, then Enter.
  await page.getByLabel("Title").focus();
  await page.keyboard.type("Typed, not clicked");
  await page.keyboard.press("Enter");
  await page.getByRole("link", { name: "Typed, not clicked" }).waitFor();

  // Complete, edit (Enter saves, Escape cancels) and delete from the keyboard; the focus
  // lands somewhere sensible after each.
  await page.getByRole("checkbox", { name: "Complete Typed, not clicked" }).focus();
  await page.keyboard.press("Space");
  await page.getByRole("checkbox", { name: "Reopen Typed, not clicked" }).waitFor();
  await page.getByRole("button", { name: "Edit Typed, not clicked" }).focus();
  await page.keyboard.press("Enter");
  assert.equal(await focused(page), "input:Title", "the edit form takes the focus");
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("Typed and renamed");
  await page.keyboard.press("Enter");
  await page.getByRole("link", { name: "Typed and renamed" }).waitFor();
  await page.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Edit Typed and renamed");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Edit Typed and renamed");
  await page.keyboard.press("Tab");
  assert.equal(await focused(page), "button:Delete Typed and renamed");
  await page.keyboard.press("Enter");
  await page.getByText("No tasks yet").waitFor();
  assert.equal(await focused(page), "h2:All tasks", "the focus moves to the list once the task is gone");

  const unlabelled = [];
  await page.getByLabel("Title").fill("One to edit");
  await page.getByRole("button", { name: "Add task" }).click();
  await page.getByRole("link", { name: "One to edit" }).waitFor();

  // Signed in, then signed out.
  for (const path of ["/dashboard", "/sessions", "/profile", "/", "/signin", "/signup", "/forgot-password", "/reset-password#token=x"]) {
    if (path === "/") await page.context().clearCookies();
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    if (path === "/dashboard") await page.getByRole("button", { name: /^Edit / }).first().click();
    if (path.startsWith("/reset-password")) await page.getByLabel("Repeat the new password").waitFor();
    const missing = await page.evaluate(() =>
      [...document.querySelectorAll("input, textarea, select")]
        .filter((el) => el.type !== "hidden" && el.labels.length === 0 && !el.getAttribute("aria-label"))
        .map((el) => el.outerHTML),
    );
    unlabelled.push(...missing.map((html) => `${path}: ${html}`));
  }
  assert.deepEqual(unlabelled, []);
});

test("a tab left idle past the access token's life still saves: the refresh cookie renews it", async () => {
  const { page, context } = await signUp(`fay-${unique()}@example.com`, "violet kites over the harbour");
  await page.goto("/profile");
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Fay");
  // Link prefetches go through the proxy, which would renew the cookie itself: let them finish.
  await page.waitForLoadState("networkidle");
  // What an expired access cookie looks like to the bridge: none that verifies.
  await context.clearCookies({ name: "latchkey.at" });
  const renewals = [];
  page.on("request", (r) => r.url().endsWith("/api/auth/refresh") && renewals.push(r.method()));
  await page.getByRole("button", { name: "Save name" }).click();
  await page.getByText("Saved.").waitFor();
  // The bridge renews an expired access cookie on the way, so the save needs no retry.
  assert.deepEqual(renewals, [], "the bridge renewed the session inside the save");
  assert.deepEqual((await context.cookies()).map((c) => c.name).sort(), ["latchkey.at", "latchkey.rt"]);
  await page.goto("/dashboard");
  await page.getByRole("heading", { name: "Fay's tasks" }).waitFor();
});

test("sign-in goes back only to pages of this site, and checks the address before sending", async () => {
  const email = `gus-${unique()}@example.com`;
  const password = "marble staircase in the rain";
  await signUp(email, password);
  const { page, context } = await run.person();

  await page.goto("/signin");
  let posts = 0;
  page.on("request", (r) => r.url().endsWith("/api/auth/signin") && posts++);
  await signIn(page, "gus@", password);
  await page.getByText("Enter a valid email address.").waitFor();
  assert.equal(posts, 0, "an invalid address is refused in the browser");

  const away = ["//evil.example/", "/\t/evil.example/", "/\\evil.example/", "https://evil.example/"];
  // Resolved once, these become `//evil.example`: dot segments collapse after the first check.
  away.push("/.//evil.example/", "/..//evil.example/", "/a/..//evil.example/", "/./\\evil.example/");
  for (const next of away) {
    await context.clearCookies();
    await page.goto(`/signin?${new URLSearchParams({ next })}`);
    await signIn(page, email, password);
    await page.waitForURL("**/dashboard");
    assert.equal(new URL(page.url()).origin, run.stack.appUrl, next);
  }
  await context.clearCookies();
  await page.goto(`/signin?${new URLSearchParams({ next: "/sessions?from=link" })}`);
  await signIn(page, email, password);
  await page.waitForURL("**/sessions?from=link");
});

test("a link to the sign-in page cannot sign anyone out", async () => {
  const { page, context } = await signUp(`hal-${unique()}@example.com`, "copper kettle whistling softly");
  const enabled = page.getByRole("button", { name: "Sign in" }).and(page.locator(":enabled"));

  // A live session: the page asks the server, finds it alive, and goes back to `next`.
  await page.goto(`/signin?${new URLSearchParams({ ended: "1", next: "/profile" })}`);
  await page.waitForURL("**/profile");
  await page.goto("/sessions");
  await page.getByTestId("session-current").waitFor();

  // Only the access cookie lapsed: the refresh cookie renews it, and on to `next`.
  await page.waitForLoadState("networkidle");
  await context.clearCookies({ name: "latchkey.at" });
  await page.goto(`/signin?${new URLSearchParams({ ended: "1", next: "/sessions" })}`);
  await page.waitForURL("**/sessions");
  await page.getByTestId("session-current").waitFor();

  // No session at all: nothing to end, and the form is usable.
  await context.clearCookies();
  await page.goto("/signin?ended=1");
  await enabled.waitFor();
});

test("signing out in one tab signs out the other tab's header without a reload", async () => {
  const { page, context } = await signUp(`ida-${unique()}@example.com`, "lanterns drifting down the canal");
  const other = await context.newPage();
  await other.goto("/profile");
  await other.getByTestId("signed-in-as").waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/signin");
  // latchkey/react's provider hears the sign-out (BroadcastChannel): no navigation in `other`.
  await other.getByTestId("signed-in-as").waitFor({ state: "detached" });
  await other.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }).waitFor();
  assert.equal(new URL(other.url()).pathname, "/profile");
  await shot(other, "14-other-tab-signed-out");
  await other.close();
});

test("the development mailbox does not exist in a production build", async () => {
  const res = await fetch(`${run.stack.appUrl}/dev/mail`);
  assert.equal(res.status, 404);
  assert.ok(!(await res.text()).includes("mail-outbox"));
});
