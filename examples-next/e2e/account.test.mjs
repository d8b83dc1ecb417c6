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
  await u.page.getByRole("button", { name: "Sign in" }).click();
  const limited = u.page.getByRole("alert").filter({ hasText: "Too many attempts" });
  await limited.waitFor();
  assert.match(await limited.innerText(), /^Too many attempts\. Try again in (1[0-5]|[1-9]) minutes?\.$/);
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
