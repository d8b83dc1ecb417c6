// A server that confirms addresses before the first sign-in
// (LATCHKEY_REQUIRE_EMAIL_VERIFICATION=true): sign-up answers "check your inbox" without
// signing in, sign-in before confirming is refused in plain words, and the link opens the door.
import assert from "node:assert/strict";
import { test } from "node:test";

import { shot, signIn, suite, unique } from "./browser.mjs";
import { emailedLink } from "./stack.mjs";

const run = suite("verification-required", { LATCHKEY_REQUIRE_EMAIL_VERIFICATION: "true" });

test("sign-up waits for the emailed link before anyone is signed in", async () => {
  const email = `ivy-${unique()}@example.com`;
  const password = "saffron lanterns by the river";
  const { page, context } = await run.person();

  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText("Check your inbox").waitFor();
  assert.equal(new URL(page.url()).pathname, "/signup");
  assert.deepEqual(await context.cookies(), [], "not signed in yet");
  await shot(page, "11-signup-check-your-inbox");

  await page.goto("/signin");
  await signIn(page, email, password);
  await page.getByText("Confirm your email address first").waitFor();
  assert.deepEqual(await context.cookies(), []);

  await page.goto(await emailedLink(run.stack.mailDir, email, "Confirm your email address"));
  await page.getByText("Your email address is confirmed").waitFor();
  await page.goto("/signin");
  await signIn(page, email, password);
  await page.waitForURL("**/dashboard");
  assert.equal(await page.getByTestId("verify-banner").count(), 0);
});
