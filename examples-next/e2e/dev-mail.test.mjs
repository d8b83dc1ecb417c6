// The development mailbox (/dev/mail): under `next dev` only, it lists the emails the server's
// file mailer wrote, with their links. A sign-up's confirmation email shows there. (Under
// `next start` the page is a 404 on purpose: the emails hold live links.)
import assert from "node:assert/strict";
import { after, test } from "node:test";

import { shot, suite, unique } from "./browser.mjs";
import { emailedLink, startDevApp } from "./stack.mjs";

const run = suite("dev-mail");
let dev = null;
after(() => dev?.stop());

test("under next dev, the development mailbox lists a new user's confirmation email", async () => {
  dev = await startDevApp(run.stack);
  const email = `dev-${unique()}@example.com`;
  // Straight to the server: this test is about the mailbox, not the sign-up form.
  const res = await fetch(`${run.stack.apiUrl}/api/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "copper kettles in the morning" }),
  });
  assert.ok(res.ok, `${res.status} ${await res.text()}`);
  const link = await emailedLink(run.stack.mailDir, email, "Confirm your email address");

  const { page } = await run.person();
  await page.goto(`${dev.url}/dev/mail`);
  await page.getByRole("heading", { name: "Development mailbox" }).waitFor();
  const row = page.getByRole("listitem").filter({ hasText: email });
  assert.match(await row.innerText(), /Confirm your email address for Tasks/);
  assert.equal(await row.getByRole("link", { name: "Open the link" }).getAttribute("href"), link);
  await shot(page, "50-dev-mailbox");
  // That `next start` answers it 404 is account.test.mjs's.
});
