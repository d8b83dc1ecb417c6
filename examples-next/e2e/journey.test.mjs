// The seeds' app, end to end, in a real Chromium against the real server and the built app:
// sign up → verify by email → tasks → another user sees none of them → a second device
// revokes the first → forgot password → reset → sign in with the new password → profile.
import assert from "node:assert/strict";
import { test } from "node:test";

import { shot, signIn, suite, unique } from "./browser.mjs";
import { emailedLink } from "./stack.mjs";

const run = suite("journey");

async function signUp(page, { name, email, password }) {
  await page.goto("/signup");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/dashboard");
}

test("the whole journey, from sign-up to a password reset", async () => {
  const ann = { name: "Ann", email: `ann-${unique()}@example.com`, password: "correct horse battery staple" };
  const bob = { name: "Bob", email: `bob-${unique()}@example.com`, password: "purple monkey dishwasher" };
  const laptop = await run.person("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36");
  const { page } = laptop;

  await page.goto("/");
  await shot(page, "00-home");

  // Sign-up checks the password with the server's own rules before sending anything.
  await page.goto("/signup");
  let registerCalls = 0;
  page.on("request", (r) => r.url().endsWith("/api/auth/register") && registerCalls++);
  await page.getByLabel("Email").fill(ann.email);
  await page.getByLabel("Password").fill("password1");
  await page.getByRole("button", { name: "Create account" }).click();
  await assert.doesNotReject(page.getByRole("alert").filter({ hasText: "most common" }).waitFor());
  assert.equal(registerCalls, 0, "a common password is refused in the browser");
  await shot(page, "01-signup-refused-common-password");

  await signUp(page, ann);
  const banner = page.getByTestId("verify-banner");
  await banner.waitFor();
  assert.match(await page.getByTestId("signed-in-as").innerText(), new RegExp(ann.email));
  await shot(page, "02-dashboard-unverified");

  // The tokens are HttpOnly: page scripts see no cookie at all, the browser holds both.
  assert.equal(await page.evaluate(() => document.cookie), "");
  const jar = await laptop.context.cookies();
  const names = jar.map((c) => c.name).sort();
  assert.deepEqual(names, ["latchkey.at", "latchkey.rt"]);
  for (const c of jar) {
    assert.equal(c.httpOnly, true, c.name);
    assert.equal(c.sameSite, "Lax", c.name);
  }

  // The verification email links to the app; following it confirms the address.
  const verify = await emailedLink(run.stack.mailDir, ann.email, "Confirm your email address");
  assert.ok(verify.startsWith(`${run.stack.appUrl}/verify-email#token=`), verify);
  await page.goto(verify);
  await page.getByText("Your email address is confirmed").waitFor();
  assert.equal(new URL(page.url()).hash, "", "the token leaves the address bar once read");
  await shot(page, "02b-email-verified");
  await page.getByRole("link", { name: "Go to your tasks" }).click();
  await page.waitForURL("**/dashboard");
  await page.getByRole("heading", { name: "Ann's tasks" }).waitFor();
  assert.equal(await banner.count(), 0, "no banner once verified");

  // Tasks: create, complete, edit, delete.
  const add = async (title, description = "") => {
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Description").fill(description);
    await page.getByRole("button", { name: "Add task" }).click();
    await page.getByRole("link", { name: title, exact: true }).waitFor();
  };
  await add("Buy milk", "Oat, two litres");
  await add("Write report");
  await add("Throw this away");
  await page.getByRole("checkbox", { name: "Complete Buy milk" }).click();
  await page.getByRole("checkbox", { name: "Reopen Buy milk" }).waitFor();
  await page.getByRole("button", { name: "Edit Write report" }).click();
  await page.getByRole("form", { name: "Edit Write report" }).getByLabel("Title").fill("Write the quarterly report");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("link", { name: "Write the quarterly report" }).waitFor();
  await page.getByRole("button", { name: "Delete Throw this away" }).click();
  await page.getByRole("link", { name: "Throw this away" }).waitFor({ state: "detached" });
  // Open tasks first, then done ones.
  assert.deepEqual(await page.getByTestId("task").locator(".task-title").allInnerTexts(), [
    "Write the quarterly report",
    "Buy milk",
  ]);
  assert.equal(await page.getByTestId("task-count").innerText(), "1 open · 1 done");
  const milkUrl = await page.getByRole("link", { name: "Buy milk" }).getAttribute("href");
  await shot(page, "03-dashboard");
  await page.goto(milkUrl);
  await page.getByText("Oat, two litres").waitFor();
  await shot(page, "03b-task");
  await page.goto("/dashboard");

  // Another user, in another browser profile, sees none of Ann's tasks, even by address.
  const other = await run.person();
  await signUp(other.page, bob);
  await other.page.getByText("No tasks yet").waitFor();
  await other.page.goto(milkUrl);
  await other.page.getByTestId("not-found").waitFor();
  assert.ok(!(await other.page.content()).includes("Oat, two litres"));
  await shot(other.page, "04-other-user-cannot-open-anns-task");
  // Resending the link within the minute: the 429 is shown with its wait.
  await other.page.goto("/dashboard");
  await other.page.getByRole("button", { name: "Send the link again" }).click();
  const resend = other.page.getByTestId("resend-error").filter({ hasText: "Too many" });
  await resend.waitFor();
  assert.match((await resend.innerText()).trim(), /^Too many attempts\. Try again in \d+ (second|minute)s?\.$/);

  // Ann signs in on a tablet and a phone; the phone sees all three devices, signs the laptop
  // out by itself, then every other device at once.
  const tablet = await run.person("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0");
  await tablet.page.goto("/signin");
  await signIn(tablet.page, ann.email, ann.password);
  await tablet.page.waitForURL("**/dashboard");
  const phone = await run.person("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1");
  await phone.page.goto("/sessions");
  await phone.page.waitForURL("**/signin?next=%2Fsessions");
  await shot(phone.page, "05-signin");
  await signIn(phone.page, ann.email, ann.password);
  await phone.page.waitForURL("**/sessions");
  const current = phone.page.getByTestId("session-current");
  await current.waitFor();
  assert.match(await current.innerText(), /Safari on iOS[\s\S]*This device/);
  const others = phone.page.getByTestId("session-other");
  assert.deepEqual((await others.allInnerTexts()).map((t) => t.split("\n")[0]).sort(), ["Chrome on Linux", "Firefox on Windows"]);
  await shot(phone.page, "06-sessions");
  const laptopRow = others.filter({ hasText: "Chrome on Linux" });
  await laptopRow.getByRole("button", { name: /^Sign out/ }).click();
  await laptopRow.waitFor({ state: "detached" });
  assert.equal(await others.count(), 1);
  await phone.page.getByRole("button", { name: "Sign out all other devices (1)" }).click();
  await phone.page.getByText("This is the only device signed in.").waitFor();

  // The laptop's access cookie still verifies locally, but the server has ended the session:
  // its next navigation lands on sign-in. So does the tablet's.
  await page.goto("/dashboard");
  await page.waitForURL(/\/signin\?/);
  await page.getByTestId("session-ended").waitFor();
  await shot(page, "07-revoked-device-lands-on-signin");
  await tablet.page.goto("/profile");
  await tablet.page.waitForURL(/\/signin\?/);
  await tablet.page.getByTestId("session-ended").waitFor();
  // The sign-in page clears an ended session's cookies: the header stops naming Ann.
  await page.getByTestId("signed-in-as").waitFor({ state: "detached" });

  // Forgot password → the emailed link → a new password; the old one stops working.
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.waitForURL("**/forgot-password");
  await page.getByLabel("Email").fill(ann.email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await page.getByText("a reset link is on its way").waitFor();
  await shot(page, "07b-forgot-password");
  const reset = await emailedLink(run.stack.mailDir, ann.email, "Reset your");
  assert.ok(reset.startsWith(`${run.stack.appUrl}/reset-password#token=`), reset);
  await page.goto(reset);
  const newPassword = "a brand new passphrase for ann";
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Repeat the new password").fill("something else entirely");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByText("The two passwords are not the same.").waitFor();
  await page.getByLabel("Repeat the new password").fill(newPassword);
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByText("every device has been signed out").waitFor();
  await shot(page, "08-password-reset");
  // The link is spent: the same link again (opened afresh, as from the email) is refused.
  await page.goto("about:blank");
  await page.goto(reset);
  await page.getByLabel("New password", { exact: true }).fill("one more passphrase to try");
  await page.getByLabel("Repeat the new password").fill("one more passphrase to try");
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.getByText("This link is invalid, expired or already used.").waitFor();
  await page.goto("/signin");

  // The reset signed the phone out too.
  await phone.page.goto("/dashboard");
  await phone.page.waitForURL(/\/signin\?/);

  await signIn(page, ann.email, ann.password);
  await page.getByText("That email and password don't match an account.").waitFor();
  await signIn(page, ann.email, newPassword);
  await page.waitForURL("**/dashboard");
  await page.getByRole("link", { name: "Buy milk" }).waitFor();

  // Profile: rename, and a wrong current password is named plainly.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Profile" }).click();
  await page.waitForURL("**/profile");
  assert.equal(await page.getByTestId("profile-email").innerText(), ann.email);
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Ann Example");
  await page.getByRole("button", { name: "Save name" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByLabel("Current password").fill("not my password");
  await page.getByLabel("New password").fill("yet another fine passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Your current password is not right.").waitFor();
  await shot(page, "09-profile");

  // A password change signs the other devices out (the phone signs in again first) and keeps
  // this one; afterwards only the new password works.
  await phone.page.goto("/signin");
  await signIn(phone.page, ann.email, newPassword);
  await phone.page.waitForURL("**/dashboard");
  const changed = "yet another fine passphrase";
  await page.getByLabel("Current password").fill(newPassword);
  await page.getByLabel("New password").fill(changed);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Password changed. Your other devices have been signed out.").waitFor();
  await phone.page.goto("/dashboard");
  await phone.page.waitForURL(/\/signin\?/);
  await phone.page.getByTestId("session-ended").waitFor();
  await signIn(phone.page, ann.email, newPassword);
  await phone.page.getByText("That email and password don't match an account.").waitFor();
  await signIn(phone.page, ann.email, changed);
  await phone.page.waitForURL("**/dashboard");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tasks" }).click();
  await page.getByRole("heading", { name: "Ann Example's tasks" }).waitFor();

  // Sign out: cookies gone, the signed-in area closed.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/signin");
  assert.deepEqual(await laptop.context.cookies(), []);
  await page.goto("/dashboard");
  await page.waitForURL("**/signin?next=%2Fdashboard");
});
