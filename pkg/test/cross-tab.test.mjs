// The cross-tab sign-out in real Chromium: two pages of one browser on a small app (the
// bridge and a page rendering useSession() with latchkey/react); signing out in one turns
// the other's UI signed-out without a reload, over BroadcastChannel and, where a browser has
// none, over the storage event. Focus re-reads are off in the page, so only the message can
// have done it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";
import { chromium } from "playwright-core";

import { startApp } from "./app.mjs";
import { startServer } from "./server.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Skipped without Chromium, except where every suite must run (CI): there it fails.
const skip = existsSync(CHROMIUM) || process.env.LATCHKEY_REQUIRE_ALL === "1"
  ? false
  : `no Chromium at ${CHROMIUM} (install Debian's chromium, or set CHROMIUM_PATH)`;
const PASSWORD = "correct horse battery staple";

const PAGE = `
import { createElement as h } from "react";
import { createRoot } from "react-dom/client";
import * as lk from "latchkey/react";

function Status() {
  const s = lk.useSession();
  return h("p", { id: "status" }, s.status === "signed-in" ? "signed-in:" + s.user.email : s.status);
}
createRoot(document.getElementById("root")).render(
  h(lk.LatchkeyProvider, { refetchOnFocus: false }, h(Status)),
);
window.lk = lk;
`;

let server, app, browser;

before(async () => {
  if (skip) return;
  const bundle = await build({
    stdin: { contents: PAGE, resolveDir: fileURLToPath(new URL(".", import.meta.url)), loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    logLevel: "error",
    define: { "process.env.NODE_ENV": '"production"' },
    alias: { "latchkey/react": fileURLToPath(new URL("../dist/react.js", import.meta.url)) },
  });
  server = await startServer();
  app = await startApp(server, {
    "/": { type: "text/html", body: '<!doctype html><meta charset="utf-8"><title>t</title><div id="root"></div><script type="module" src="/app.js"></script>' },
    "/app.js": { type: "text/javascript", body: bundle.outputFiles[0].text },
    "/favicon.ico": { type: "image/x-icon", body: "" },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});
after(async () => {
  await browser?.close();
  await app?.close();
  server?.stop();
});

let n = 0;
const fresh = () => `t${++n}-${Date.now()}@example.com`;
const status = (page) => page.locator("#status").textContent();

async function twoTabs(context) {
  const errors = [];
  const open = async () => {
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(app.url);
    return page;
  };
  const one = await open();
  await one.waitForFunction(() => document.querySelector("#status")?.textContent === "signed-out");
  const email = fresh();
  const up = await one.evaluate(([email, password]) => window.lk.signUp({ email, password }), [email, PASSWORD]);
  assert.equal(up.data?.signedIn, true, JSON.stringify(up));
  await one.waitForFunction((e) => document.querySelector("#status")?.textContent === `signed-in:${e}`, email);
  const two = await open();
  await two.waitForFunction((e) => document.querySelector("#status")?.textContent === `signed-in:${e}`, email);

  const out = await one.evaluate(() => window.lk.signOut());
  assert.deepEqual(out, { data: { serverConfirmed: true } });
  // No reload of the second tab: its UI follows the first one's sign-out.
  await two.waitForFunction(() => document.querySelector("#status")?.textContent === "signed-out", null, { timeout: 5000 });
  assert.equal(await status(one), "signed-out");
  assert.deepEqual(errors, []);
  return { one, two };
}

test("signing out in one tab signs out the other's UI (BroadcastChannel)", { skip }, async () => {
  const context = await browser.newContext();
  try {
    const { two } = await twoTabs(context);
    assert.equal(await two.evaluate(() => typeof BroadcastChannel), "function");
  } finally {
    await context.close();
  }
});

test("signing out in one tab signs out the other's UI (storage event, no BroadcastChannel)", { skip }, async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    delete window.BroadcastChannel;
  });
  try {
    const { one } = await twoTabs(context);
    assert.equal(await one.evaluate(() => typeof BroadcastChannel), "undefined");
    // What the other tabs heard says only that a sign-out happened.
    assert.match(await one.evaluate(() => localStorage.getItem("latchkey:session")), /^signed-out:\d+:\w+$/);
  } finally {
    await context.close();
  }
});
