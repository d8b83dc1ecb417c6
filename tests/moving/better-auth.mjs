// A real Better Auth server for the tests of moving from it: email and password as its docs
// set it up, its own migrations, on SQLite (better-sqlite3) or PostgreSQL (pg), optionally
// with its JWT plugin. It runs in this process on a free loopback port.
import { once } from "node:events";
import { createServer } from "node:http";
import { createRequire } from "node:module";

import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";
import pg from "pg";

const require = createRequire(import.meta.url);

/** The better-auth version installed (the tests print it: no lockfile pins it). */
export function betterAuthVersion() {
  const main = require.resolve("better-auth");
  const root = main.slice(0, main.lastIndexOf("/node_modules/better-auth/") + "/node_modules/better-auth/".length);
  return JSON.parse(require("node:fs").readFileSync(`${root}package.json`, "utf8")).version;
}

/**
 * Starts Better Auth. `database`: `{ sqlite: path }` or `{ postgres: url }`.
 * Returns `{ url, auth, signUp(email, password, name), signIn(email, password), close() }`;
 * signUp and signIn answer `{ user, cookie }`, the cookie as the browser got it.
 */
export async function startBetterAuth({ database, secret, plugins = [], jwtPlugin = false }) {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${server.address().port}`;
  let db;
  let pool;
  if (database.sqlite) {
    db = new Database(database.sqlite);
    db.pragma("journal_mode = WAL");
  } else {
    pool = new pg.Pool({ connectionString: database.postgres });
    db = pool;
  }
  const options = {
    database: db,
    secret,
    baseURL: url,
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    plugins: [...plugins, ...(jwtPlugin ? [jwt()] : [])],
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  server.on("request", toNodeHandler(auth));

  const post = async (path, body) => {
    const res = await fetch(`${url}/api/auth${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: url },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`Better Auth ${path}: ${res.status} ${JSON.stringify(json)}`);
    const setCookie = res.headers.getSetCookie().find((c) => c.includes("session_token="));
    return { ...json, setCookie, cookie: setCookie?.split(";")[0] };
  };
  return {
    url,
    auth,
    signUp: (email, password, name) => post("/sign-up/email", { email, password, name }),
    signIn: (email, password) => post("/sign-in/email", { email, password }),
    async get(path, cookie) {
      const res = await fetch(`${url}/api/auth${path}`, { headers: cookie ? { cookie } : {} });
      return { status: res.status, json: await res.json() };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      if (pool) await pool.end();
      else db.close();
    },
  };
}
