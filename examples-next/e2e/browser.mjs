// Debian's Chromium, driven by playwright-core: nothing is downloaded.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

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
 */
export async function newUser(browser, appUrl, userAgent) {
  const context = await browser.newContext({ baseURL: appUrl, viewport: { width: 1100, height: 800 }, userAgent });
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
