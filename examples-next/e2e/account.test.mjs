// The account's edges in the browser: limits shown as plain sentences with their wait, an
// email change confirmed from the new address, and a proxy that no header talks past.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { shot, suite } from "./browser.mjs";
import { emailedLink } from "./stack.mjs";

const run = suite("account");

const unique = () => randomBytes(4).toString("hex");

async function signUp(email, password) {
  const u = await run.person();
  await u.page.goto("/signup");
  await u.page.getByLabel("Email").fill(email);
  await u.page.getByLabel("Password").fill(password);
  await u.page.getByRole("button", { name: "Create account" }).click();
  await u.page.waitForURL("**/dashboard");
  return u;
}

test("every error code the server can send has a sentence in the app", () => {
  const { codes } = JSON.parse(readFileSync(new URL("../../tests/vectors/error-codes.json", import.meta.url), "utf8"));
  const source = readFileSync(new URL("../lib/errors.ts", import.meta.url), "utf8");
  const missing = codes.filter((code) => !new RegExp(`^\\s+${code}: `, "m").test(source));
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
  assert.equal(await page.getByTestId("profile-email").innerText(), old, "nothing changes before the link");

  const link = await emailedLink(run.stack.mailDir, moved, "Confirm your new email address");
  assert.ok(link.startsWith(`${run.stack.appUrl}/confirm-email#token=`), link);
  await page.goto(link);
  await page.getByText("your account now uses this email address").waitFor();
  await page.goto("/profile");
  assert.equal(await page.getByTestId("profile-email").innerText(), moved);
  // The session was refreshed after the change, so the locally verified one agrees.
  assert.equal(await page.getByTestId("signed-in-as").innerText(), moved);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/signin");
  await page.getByLabel("Email").fill(moved);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/dashboard");
  assert.equal((await context.cookies()).length, 2);
});

test("the protected pages need a verified token: no header or forged cookie gets past the proxy", async () => {
  const forged = "latchkey.at=eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.";
  for (const path of ["/dashboard", "/sessions", "/profile", "/dashboard/tasks/anything"]) {
    for (const headers of [
      {},
      { "x-middleware-subrequest": "proxy:proxy:proxy:proxy:proxy" },
      { "x-middleware-subrequest": "src/middleware:middleware:middleware:middleware:middleware" },
      { cookie: forged },
      { cookie: forged, "x-middleware-subrequest": "proxy:proxy:proxy:proxy:proxy" },
    ]) {
      const res = await fetch(`${run.stack.appUrl}${path}`, { headers, redirect: "manual" });
      assert.equal(res.status, 307, `${path} ${JSON.stringify(headers)}`);
      assert.equal(new URL(res.headers.get("location"), run.stack.appUrl).pathname, "/signin");
    }
  }
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

  const unlabelled = [];
  // Signed in, then signed out.
  for (const path of ["/dashboard", "/sessions", "/profile", "/", "/signin", "/signup", "/forgot-password", "/reset-password#token=x"]) {
    if (path === "/") await page.context().clearCookies();
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    const missing = await page.evaluate(() =>
      [...document.querySelectorAll("input, textarea, select")]
        .filter((el) => el.type !== "hidden" && el.labels.length === 0 && !el.getAttribute("aria-label"))
        .map((el) => el.outerHTML),
    );
    unlabelled.push(...missing.map((html) => `${path}: ${html}`));
  }
  assert.deepEqual(unlabelled, []);
});
