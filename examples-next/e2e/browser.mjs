// Debian's Chromium, driven by playwright-core: nothing is downloaded.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { startStack } from "./stack.mjs";

export const SHOTS = fileURLToPath(new URL("../test-results/", import.meta.url));

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * A fresh browser profile (its own cookies). `problems` collects console errors, uncaught
 * exceptions and any 5xx answer; a refused request (4xx) is an expected outcome here, and
 * Chromium logs each as "Failed to load resource", so those lines are left to the tests.
 * `options`: more of Playwright's context options (`javaScriptEnabled: false`, say).
 */
export async function newUser(browser, appUrl, userAgent, options = {}) {
  const context = await browser.newContext({ baseURL: appUrl, viewport: { width: 1100, height: 800 }, userAgent, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => r.status() >= 500 && problems.push(`${r.status()} from ${r.url()}`));
  page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
  return { context, page, problems };
}

/** A full-page screenshot in test-results/. */
export function shot(page, name) {
  return page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/**
 * The last state of every page (kept for a failed run's post-mortem), then the check that
 * none of them logged an error, threw, or got a 5xx.
 */
export async function finish(users, prefix) {
  for (const [i, u] of users.entries()) {
    if (!u.page.isClosed()) await u.page.screenshot({ path: `${SHOTS}last-${prefix}-${i}.png`, fullPage: true });
  }
  return users.flatMap((u) => u.problems);
}

/**
 * One test file's stack and browser: started before its tests, stopped after them, and
 * every page checked for errors at the end. `person(agent?, options?)` opens a new browser
 * profile; `serverEnv` configures the Latchkey server.
 */
export function suite(prefix, serverEnv = {}) {
  const state = { stack: null, browser: null, users: [] };
  before(async () => {
    state.stack = await startStack(serverEnv);
    state.browser = await launch();
  });
  after(async () => {
    const problems = await finish(state.users, prefix);
    await state.browser?.close();
    state.stack?.stop();
    assert.deepEqual(problems, [], "no console errors, exceptions or 5xx");
  });
  state.person = async (agent, options) => {
    const u = await newUser(state.browser, state.stack.appUrl, agent, options);
    state.users.push(u);
    return u;
  };
  return state;
}

/** A fresh suffix for addresses, so runs and tests never collide. */
export const unique = () => randomBytes(4).toString("hex");

/** Fills the sign-in form on the current page and sends it. */
export async function signIn(page, email, password) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
