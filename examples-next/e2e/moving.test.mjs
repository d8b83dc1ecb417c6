// Moving from Better Auth in the browser: a user signed in to the app under Better Auth still
// carries its session cookie after the switch. Their first visit exchanges it, once, for a
// Latchkey session (the proxy does it): the page they asked for renders with no sign-in page,
// the Better Auth cookie is gone, and their token's `sub` is their Better Auth id, so the
// tasks the app keeps under that id stay theirs. Better Auth here is the real library
// (tests/moving installs it; scripts/test runs that step first).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { startBetterAuth } from "../../tests/moving/better-auth.mjs";
import { shot, suite } from "./browser.mjs";

const BETTER_AUTH_SECRET = randomBytes(32).toString("hex");
const run = suite("moving", { LATCHKEY_BETTER_AUTH_SECRET: BETTER_AUTH_SECRET });

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

test("a Better Auth session cookie signs its user in to the app, with no sign-in page", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "latchkey-e2e-ba-")), "better-auth.db");
  const ba = await startBetterAuth({ database: { sqlite: file }, secret: BETTER_AUTH_SECRET });
  const email = `erin-${randomBytes(4).toString("hex")}@example.com`;
  const { user, cookie } = await ba.signUp(email, "erin moved here from better auth", "Erin");
  await ba.close();

  const imported = spawnSync(run.stack.bin, ["import", "better-auth", "--from", `sqlite://${file}`, "--sessions"], {
    env: { ...process.env, DATABASE_URL: run.stack.databaseUrl, RUST_LOG: "warn" },
    encoding: "utf8",
  });
  assert.equal(imported.status, 0, `${imported.stdout}${imported.stderr}`);

  const u = await run.person();
  const [name, ...value] = cookie.split("=");
  await u.context.addCookies([{ name, value: value.join("="), url: run.stack.appUrl, httpOnly: true, sameSite: "Lax" }]);
  await u.page.goto("/dashboard");
  assert.equal(new URL(u.page.url()).pathname, "/dashboard", "no sign-in page on the way");
  await u.page.getByRole("heading", { name: "Erin's tasks" }).waitFor();
  assert.equal(await u.page.getByTestId("signed-in-as").innerText(), email);

  const cookies = await u.context.cookies();
  assert.deepEqual(cookies.filter((c) => c.name.includes("better-auth")), [], "Better Auth's cookie is cleared");
  const access = cookies.find((c) => c.name === "latchkey.at");
  assert.ok(access, "signed in to Latchkey");
  assert.equal(claimsOf(access.value).sub, user.id);
  await shot(u.page, "20-moved-from-better-auth");
  // That the cookie is then spent (a copy of it is refused) is checked against the server in
  // tests/moving/switch.test.mjs and through a second app instance in pkg/test/exchange.test.mjs.
});
