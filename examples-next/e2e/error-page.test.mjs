// app/error.tsx: what a page shows when the API refuses it for a reason other than a lapsed
// session. Here the Latchkey server is stopped under a signed-in user, so the dashboard's API
// call finds nobody: the page says so in plain words instead of sending the user to sign in.
// Its own file: the stack is left broken, and no later test should meet it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { shot, suite, unique } from "./browser.mjs";

const run = suite("error-page");

test("with the Latchkey server away, a signed-in page shows the error page, not sign-in", async () => {
  const u = await run.person();
  await u.page.goto("/signup");
  await u.page.getByLabel("Name").fill("Pia");
  await u.page.getByLabel("Email").fill(`pia-${unique()}@example.com`);
  await u.page.getByLabel("Password").fill("thistle and slate under rain");
  await u.page.getByRole("button", { name: "Create account" }).click();
  await u.page.waitForURL("**/dashboard");

  await run.stack.stopServer();
  await u.page.goto("/dashboard");
  await u.page.getByRole("heading", { name: "This page could not load" }).waitFor();
  assert.equal(new URL(u.page.url()).pathname, "/dashboard", "not sent to sign in");
  const names = (await u.context.cookies()).map((c) => c.name).sort();
  assert.deepEqual(names, ["latchkey.at", "latchkey.rt"], "an outage signs no one out");
  await shot(u.page, "40-error-page");

  // The breakage is deliberate, and it shows as exactly this: the page's 500, and React
  // logging the server's error (#441: its message is withheld in production). Anything else
  // stays for the suite's check at the end.
  const expected = [
    new RegExp(`^500 from ${run.stack.appUrl}/dashboard$`),
    /^console: Error: Minified React error #441;/,
  ];
  const unexpected = u.problems.filter((p) => !expected.some((re) => re.test(p)));
  assert.ok(u.problems.length > 0, "the page did meet the outage");
  u.problems.splice(0, u.problems.length, ...unexpected);
});
