// latchkey/react's actions against a live server, through the real bridge over HTTP: each
// one's typed success, and a typed error ({ code, message, retryAfter? }) for each, never a throw.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createAuthClient } from "latchkey/react";

import { browserFetch, startApp } from "./app.mjs";
import { emailedToken } from "./mail.mjs";
import { startServer } from "./server.mjs";

const PASSWORD = "correct horse battery staple";
let server, app, gated, gatedApp;
let n = 0;
const fresh = () => `r${++n}-${Date.now()}@example.com`;

before(async () => {
  [server, gated] = await Promise.all([
    startServer({ LATCHKEY_RATE_LIMITS: "signin_ip=5/15m", LATCHKEY_SESSION_CACHE_TTL: "0s" }),
    startServer({ LATCHKEY_REQUIRE_EMAIL_VERIFICATION: "true" }),
  ]);
  [app, gatedApp] = await Promise.all([startApp(server), startApp(gated)]);
});
after(async () => {
  await Promise.all([app.close(), gatedApp.close()]);
  server.stop();
  gated.stop();
});

/** A browser of its own (its own cookie jar) with the package's client. */
const browser = (on = app) => {
  const { fetch } = browserFetch(on.url);
  return createAuthClient({ baseUrl: on.url, fetch });
};

/** Checks the shape every error has. */
function assertError(result, code, status) {
  assert.equal(result.data, undefined);
  assert.equal(result.error?.code, code, JSON.stringify(result));
  assert.equal(result.error.status, status);
  assert.equal(typeof result.error.message, "string");
  assert.ok(result.error.message.length > 0);
}

async function signedUp(client = browser()) {
  const email = fresh();
  const got = await client.signUp({ email, password: PASSWORD, name: "Ann Lee" });
  assert.equal(got.error, undefined, JSON.stringify(got.error));
  return { client, email };
}

test("signUp signs in, or asks to confirm the address first; a taken or malformed email is a typed error", async () => {
  const client = browser();
  const email = fresh();
  const got = await client.signUp({ email, password: PASSWORD });
  assert.equal(got.data.signedIn, true);
  assert.equal(got.data.user.email, email);
  assert.equal(got.data.accessToken, undefined, "tokens stay in cookies");
  assert.equal((await client.getSession()).data.user.email, email);
  assertError(await browser().signUp({ email, password: PASSWORD }), "email_taken", 409);
  assertError(await browser().signUp({ email: "not an email", password: PASSWORD }), "invalid_email", 400);
  assertError(await browser().signUp({ email: fresh(), password: "short" }), "password_too_short", 400);

  const gatedUp = await browser(gatedApp).signUp({ email: fresh(), password: PASSWORD });
  assert.equal(gatedUp.data.signedIn, false);
  assert.equal(typeof gatedUp.data.message, "string");
});

test("signIn opens a session; wrong credentials, and too many of them, are typed errors with retryAfter", async () => {
  const { email } = await signedUp();
  const client = browser();
  assert.equal((await client.getSession()).data, null);
  const got = await client.signIn({ email, password: PASSWORD });
  assert.equal(got.data.user.email, email);
  assert.ok(got.data.expiresIn > 0);
  assert.equal((await client.getSession()).data.user.email, email);
  assertError(await client.signIn({ email, password: "wrong password!" }), "invalid_credentials", 401);
  let limited;
  for (let i = 0; i < 10 && !limited; i++) {
    const r = await client.signIn({ email: fresh(), password: "wrong password!" });
    if (r.error?.code === "rate_limited") limited = r;
  }
  assertError(limited, "rate_limited", 429);
  assert.ok(limited.error.retryAfter >= 1);
});

test("getAccount and updateProfile read and change the account; signed out, they are missing_token", async () => {
  const { client, email } = await signedUp();
  const me = await client.getAccount();
  assert.equal(me.data.email, email);
  const updated = await client.updateProfile({ name: "Ann B. Lee" });
  assert.equal(updated.data.name, "Ann B. Lee");
  assertError(await client.updateProfile({ locale: "xx-nope-not-a-locale" }), "unsupported_locale", 400);
  assertError(await browser().getAccount(), "missing_token", 401);
  assertError(await browser().updateProfile({ name: "Mallory" }), "missing_token", 401);
});

test("listSessions and revokeSession manage the user's devices", async () => {
  const { client, email } = await signedUp();
  const other = browser();
  await other.signIn({ email, password: PASSWORD });
  const list = await client.listSessions();
  assert.equal(list.data.length, 2);
  assert.equal(list.data.filter((s) => s.current).length, 1);
  const theirs = list.data.find((s) => !s.current);
  assert.equal((await client.revokeSession(theirs.id)).data, null);
  assert.equal((await other.getSession({ fresh: true })).data, null, "the revoked device is signed out");
  assertError(await client.revokeSession(theirs.id), "not_found", 404);
  assertError(await client.revokeSession("../../auth/signout"), "not_found", 404);
  assertError(await browser().listSessions(), "missing_token", 401);
});

/** `count` more browsers, each signed in to `email`'s account. */
async function signedInBrowsers(email, count) {
  const browsers = Array.from({ length: count }, () => browser());
  for (const b of browsers) await b.signIn({ email, password: PASSWORD });
  return browsers;
}

test("signOut: this browser, the others, or all; the cookies go whatever the server says", async () => {
  const { client, email } = await signedUp();
  const [second] = await signedInBrowsers(email, 2);

  const others = await client.signOut({ scope: "others" });
  assert.deepEqual(others.data, { serverConfirmed: true, revoked: 2 });
  assert.equal((await second.getSession({ fresh: true })).data, null);
  assert.equal((await client.getSession()).data.user.email, email);

  const here = await client.signOut();
  assert.deepEqual(here.data, { serverConfirmed: true });
  assert.equal((await client.getSession()).data, null);
  assertError(await client.signOut({ scope: "others" }), "missing_token", 401);

  const [a, b] = await signedInBrowsers(email, 2);
  const all = await a.signOut({ scope: "all" });
  assert.deepEqual(all.data, { serverConfirmed: true, revoked: 1 });
  assert.equal((await a.getSession()).data, null);
  assert.equal((await b.getSession({ fresh: true })).data, null);

  // A page on another site cannot sign anyone out: its request carries no trusted Origin.
  const forged = await createAuthClient({ baseUrl: app.url }).signOut();
  assertError(forged, "csrf_rejected", 403);
});

test("forgotPassword and resetPassword: the emailed link sets a new password", async () => {
  const { email } = await signedUp();
  const client = browser();
  assert.equal(typeof (await client.forgotPassword({ email })).data.message, "string");
  assertError(await client.forgotPassword({ email: "nope" }), "invalid_email", 400);
  const token = await emailedToken(server, email, "Reset your");
  assertError(await client.resetPassword({ token, newPassword: "short" }), "password_too_short", 400);
  assert.equal((await client.resetPassword({ token, newPassword: "a brand new passphrase" })).data, null);
  assertError(await client.resetPassword({ token, newPassword: "another new passphrase" }), "invalid_or_expired_token", 400);
  assert.equal((await client.signIn({ email, password: "a brand new passphrase" })).data.user.email, email);
});

test("verifyEmail confirms the address; resendVerification is limited, then has nothing to send", async () => {
  const { client, email } = await signedUp();
  // Sign-up has just sent the link, and a resend waits a minute.
  const early = await client.resendVerification();
  assertError(early, "rate_limited", 429);
  assert.ok(early.error.retryAfter >= 1);
  const token = await emailedToken(server, email, "Confirm your email address");
  assert.equal((await client.getSession()).data.user.emailVerified, false);
  const verified = await client.verifyEmail({ token });
  assert.equal(verified.data.emailVerified, true);
  // This browser's cookies were renewed: the local read says so without asking the server.
  assert.equal((await client.getSession()).data.user.emailVerified, true);
  assertError(await client.verifyEmail({ token }), "invalid_or_expired_token", 400);
  assertError(await client.resendVerification(), "email_already_verified", 409);
});

test("changePassword renews the session; a wrong current password is invalid_credentials", async () => {
  const { client, email } = await signedUp();
  assertError(await client.changePassword({ currentPassword: "wrong password!", newPassword: "a brand new passphrase" }), "invalid_credentials", 401);
  const changed = await client.changePassword({ currentPassword: PASSWORD, newPassword: "a brand new passphrase" });
  assert.equal(changed.data.user.email, email);
  assert.equal(changed.data.accessToken, undefined);
  assert.equal((await client.getSession({ fresh: true })).data.user.email, email, "still signed in, on new cookies");
});

test("changeEmail and confirmEmailChange move the account to a new address", async () => {
  const { client } = await signedUp();
  const to = fresh();
  assertError(await client.changeEmail({ newEmail: to, password: "wrong password!" }), "invalid_credentials", 401);
  assert.equal(typeof (await client.changeEmail({ newEmail: to, password: PASSWORD })).data.message, "string");
  const token = await emailedToken(server, to, "Confirm your new email address");
  const moved = await client.confirmEmailChange({ token });
  assert.equal(moved.data.email, to);
  assert.equal((await client.getSession()).data.user.email, to, "the cookies carry the new address");
  assertError(await client.confirmEmailChange({ token }), "invalid_or_expired_token", 400);
});

test("unblockSignIn refuses a bad link; a bridge out of reach is unavailable, not a throw", async () => {
  assertError(await browser().unblockSignIn({ token: "A".repeat(43) }), "invalid_or_expired_token", 400);
  const down = createAuthClient({ baseUrl: "http://127.0.0.1:9" });
  const got = await down.signIn({ email: "a@example.com", password: PASSWORD });
  assertError(got, "unavailable", 0);
});
